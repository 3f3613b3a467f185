"""Acknowledgements (CRPA L112-11, R112-11-1): produced, kept as evidence and sent through a
real SMTP server."""

import datetime
import hashlib
import io
import re
import unicodedata
import zoneinfo

import pypdf
import pytest

from grc.base.mail import OWN_HEADER
from grc.base.models import Channel
from grc.demarches.acknowledgements.delivery import deliver
from grc.demarches.models import Acknowledgement
from grc.demarches.services.dossiers import submit_dossier
from tests.demarches.factories import definition, field, published

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
FORM = definition([field("objet", required=True)])


@pytest.fixture
def service(tenant_a):
    service = tenant_a.service
    service.name, service.email, service.phone = "État civil", "etat-civil@a.test", "+33241001021"
    service.address_line1, service.postal_code, service.city = (
        "1 place de la Mairie",
        "49170",
        "Saint-Aubin",
    )
    service.save()
    return service


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text))


def file_letter(tenant, kind, **settings):
    """An agent records a letter received on 15 May 2023 (the worked example of REFERENCE §1)."""
    demarche = published(
        tenant.collectivite,
        tenant.service,
        FORM,
        implicit_decision=kind,
        channels=["web", "courrier"],
        **settings,
    )
    return submit_dossier(
        demarche=demarche,
        answers_given={"objet": "Demande de test"},
        channel=Channel.COURRIER,
        actor=tenant.agent,
        contact_email="marie.dubois@exemple.test",
        received_at=datetime.datetime(2023, 5, 15, 10, 0, tzinfo=PARIS),
    )


def test_the_reception_acknowledgement_holds_every_r112_11_1_mention(
    tenant_a, service, smtp_server, media
):
    dossier = file_letter(tenant_a, "sva")
    assert dossier.expected_decision_date == datetime.date(2023, 7, 16)
    are = dossier.acknowledgements.get(kind="are")
    deliver(are.pk)
    are.refresh_from_db()
    assert are.status == Acknowledgement.Status.SENT and are.sent_at is not None
    assert are.recipient == "marie.dubois@exemple.test" and are.message_id
    # The evidence: the stored PDF is the one that was sent.
    stored = are.pdf.read()
    assert hashlib.sha256(stored).hexdigest() == are.pdf_sha256
    (message,) = smtp_server.messages
    assert message["To"] == "marie.dubois@exemple.test"
    assert message["Message-ID"] == are.message_id
    assert message["Reply-To"] == "etat-civil@a.test"
    assert message["Auto-Submitted"] == "auto-generated" and message[OWN_HEADER] == "1"
    assert dossier.reference in message["Subject"]
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == stored
    text = pdf_text(stored)
    for mention in (
        "15 mai 2023",  # date of receipt
        "État civil",  # service in charge
        "1 place de la Mairie",  # its postal address
        "02 41 00 10 21",  # its phone
        "16 juillet 2023",  # date of the implicit decision
        "acceptation",  # which kind
        "sous réserve que votre dossier soit complet",
        "L232-3",  # the attestation of implicit acceptance
        dossier.reference,
    ):
        assert mention in text, mention


def test_an_svr_acknowledgement_states_the_appeal_routes(tenant_a, service, smtp_server, media):
    dossier = file_letter(tenant_a, "svr")
    are = dossier.acknowledgements.get(kind="are")
    deliver(are.pk)
    are.refresh_from_db()
    text = pdf_text(are.pdf.read())
    for mention in (
        "rejet",
        "16 juillet 2023",
        "recours",
        "tribunal administratif",
        "deux mois",
        "sous réserve que votre dossier soit complet",
    ):
        assert mention in text, mention


def test_the_registration_acknowledgement_is_sent_at_once(tenant_a, service, smtp_server, media):
    dossier = file_letter(tenant_a, "sva")
    aee = dossier.acknowledgements.get(kind="aee")
    deliver(aee.pk)
    aee.refresh_from_db()
    (message,) = smtp_server.messages
    assert aee.status == "sent" and not aee.pdf
    sent = message.get_content().replace("\r\n", "\n")
    assert dossier.reference in sent
    assert aee.body.strip() == sent.strip()  # the evidence is what left


def test_an_smtp_failure_is_recorded_and_the_retry_sends_once(
    tenant_a, service, smtp_server, media
):
    dossier = file_letter(tenant_a, "sva")
    are = dossier.acknowledgements.get(kind="are")
    smtp_server.refuse = True
    with pytest.raises(Exception, match="451"):
        deliver(are.pk)
    are.refresh_from_db()
    assert are.status == "pending" and are.attempts == 1 and "451" in are.last_error
    assert are.pdf, "the document is kept even though the sending failed"
    smtp_server.refuse = False
    deliver(are.pk)
    deliver(are.pk)  # a duplicate run of the job changes nothing
    are.refresh_from_db()
    assert are.status == "sent" and are.attempts == 2 and are.last_error == ""
    assert len(smtp_server.messages) == 1


def test_without_an_email_address_the_acknowledgement_is_made_for_print(
    tenant_a, service, smtp_server, media
):
    demarche = published(tenant_a.collectivite, tenant_a.service, FORM, channels=["web", "counter"])
    dossier = submit_dossier(
        demarche=demarche,
        answers_given={"objet": "x"},
        channel=Channel.COUNTER,
        actor=tenant_a.agent,
    )
    are = dossier.acknowledgements.get(kind="are")
    assert are.status == Acknowledgement.Status.TO_PRINT
    deliver(are.pk)
    are.refresh_from_db()
    assert are.pdf and are.status == Acknowledgement.Status.TO_PRINT
    assert smtp_server.messages == []


def test_r112_4_démarches_need_no_reception_acknowledgement(tenant_a, service, smtp_server, media):
    dossier = file_letter(tenant_a, "none", acknowledgement_required=False)
    assert dossier.expected_decision_date is None
    kinds = dict(dossier.acknowledgements.values_list("kind", "status"))
    assert kinds == {"aee": "pending", "are": "not_required"}


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_after_commit(tenant_a, service, smtp_server, media):
    """The real path: submission commits, the job is deferred, a procrastinate worker runs it."""
    from procrastinate.contrib.django import app

    file_letter(tenant_a, "sva")
    # As `grc procrastinate worker` does: the worker's own psycopg connector.
    with app.replace_connector(app.connector.get_worker_connector()) as worker_app:
        worker_app.run_worker(
            queues=["mail"], wait=False, install_signal_handlers=False, listen_notify=False
        )
    subjects = sorted(m["Subject"] for m in smtp_server.messages)
    assert len(subjects) == 2
    assert Acknowledgement.objects.filter(status="sent").count() == 2


def test_a_text_that_cannot_render_fails_the_acknowledgement_visibly_without_retries(
    tenant_a, service, smtp_server, media
):
    dossier = file_letter(tenant_a, "sva", texts={"aee_body": "Total : {{ 1 // 0 }}"})
    aee = dossier.acknowledgements.get(kind="aee")
    deliver(aee.pk)  # no exception: nothing a retry could cure
    aee.refresh_from_db()
    assert aee.status == Acknowledgement.Status.FAILED
    assert "n'a pas pu être produit" in aee.last_error
    assert dossier.messages.filter(direction="note", body__contains="accusé").exists()
    assert smtp_server.messages == []


def test_a_retry_sends_the_text_kept_the_first_time(tenant_a, service, smtp_server, media):
    dossier = file_letter(tenant_a, "sva")
    are = dossier.acknowledgements.get(kind="are")
    smtp_server.refuse = True
    with pytest.raises(Exception, match="451"):
        deliver(are.pk)
    are.refresh_from_db()
    kept_pdf, kept_body = are.pdf.name, are.body
    dossier.demarche.texts = {"are_body": "Un autre texte, écrit entre-temps."}
    dossier.demarche.save()
    smtp_server.refuse = False
    deliver(are.pk)
    are.refresh_from_db()
    assert (are.pdf.name, are.body) == (kept_pdf, kept_body)
    sent = smtp_server.messages[0].get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert sent.strip() == kept_body.strip()
    assert sent.startswith("Bonjour,")  # no name known: no blank where it would be
