"""The citizen's dossier page: the message thread (writing, files, what was read), the
confirmation right after sending, the withdrawal with its confirmation step, and a page that
costs the same number of queries however long the dossier's life."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grc.base.models import Event
from grc.demarches.access import NotFound
from grc.demarches.models import Attachment, Dossier, Message, MessageAttachment
from grc.demarches.services import messages as message_services
from grc.demarches.workflow import services as workflow
from tests.demarches.dossier_helpers import demarche_for, file_dossier, quiet_workflow
from tests.demarches.helpers import pdf_file, png_file
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def citizen(db):
    return UserFactory(email="marie@exemple.test")


@pytest.fixture
def dossier(tenant_a, citizen, media):
    return file_dossier(demarche_for(tenant_a, workflow=quiet_workflow()), account=citizen)


@pytest.fixture
def browser(citizen):
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(citizen)
    return client


def url(dossier, name="dossier", *args):
    return reverse(f"portal:{name}", args=[dossier.collectivite.slug, dossier.uuid, *args])


def test_the_citizen_writes_with_a_file_and_sees_when_the_service_read_it(
    browser, dossier, tenant_a
):
    response = browser.post(
        url(dossier, "dossier_message"),
        {"body": "Voici la photo du banc.", "files": [png_file("banc.png")]},
    )
    assert response.status_code == 302 and response["Location"].endswith("#messages")
    message = Message.objects.get(dossier=dossier, direction="in")
    assert message.body == "Voici la photo du banc." and message.read_at is None
    (link,) = MessageAttachment.objects.filter(message=message)
    assert link.attachment.original_name == "banc.png"
    assert link.attachment.content_type == "image/png"
    assert Event.objects.filter(action="dossier.message_received", object_id=str(dossier.pk))

    page = browser.get(url(dossier)).content.decode()
    assert "Voici la photo du banc." in page and "Pas encore lu par le service" in page
    download = browser.get(url(dossier, "dossier_attachment", link.attachment.pk))
    assert download.status_code == 200 and download["Content-Type"] == "image/png"
    assert 'attachment; filename="banc.png"' in download["Content-Disposition"]

    # An agent opens the dossier (the backoffice, later): the citizen sees it was read.
    with pytest.raises(NotFound):
        message_services.mark_read_by_service(dossier=dossier, actor=UserFactory())
    assert message_services.mark_read_by_service(dossier=dossier, actor=tenant_a.agent) == 1
    assert "Lu par le service le" in browser.get(url(dossier)).content.decode()


def test_only_the_service_and_the_citizen_write_on_the_dossier(dossier, tenant_b):
    with pytest.raises(NotFound):
        message_services.post_service_message(dossier=dossier, actor=tenant_b.agent, body="x")
    with pytest.raises(NotFound):
        message_services.post_citizen_message(dossier=dossier, actor=UserFactory(), body="x")
    assert not Message.objects.filter(dossier=dossier).exists()


def test_the_services_messages_are_new_once_then_read(browser, dossier, tenant_a):
    message_services.post_service_message(
        dossier=dossier, actor=tenant_a.agent, body="Pouvez-vous préciser ?"
    )
    first = browser.get(url(dossier)).content.decode()
    assert "Pouvez-vous préciser ?" in first and 'class="thread__new"' in first
    message = Message.objects.get(dossier=dossier, direction="out")
    assert message.read_at is not None
    read = Event.objects.get(action="dossier.messages_read", object_id=str(dossier.pk))
    assert read.payload == {"by": "citizen", "messages": [message.pk]}
    assert 'class="thread__new"' not in browser.get(url(dossier)).content.decode()
    # Reading again changes nothing and writes nothing.
    assert Event.objects.filter(action="dossier.messages_read").count() == 1


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"body": "  "}, "message_body", "Écrivez votre message"),
        ({"body": "x" * 5001}, "message_body", "5000 au plus"),
        (
            {"body": "Voici", "files": [png_file(), SimpleUploadedFile("faux.png", b"texte")]},
            "message_files",
            "n&#x27;est pas accepté",
        ),
        (
            {"body": "Voici", "files": [pdf_file(f"p{n}.pdf") for n in range(6)]},
            "message_files",
            "5 fichiers au plus",
        ),
    ],
)
def test_a_refused_message_says_why_next_to_the_field_and_stores_nothing(
    browser, dossier, media, data, field, text
):
    before = {p for p in media.rglob("*") if p.is_file()}
    response = browser.post(url(dossier, "dossier_message"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert text in page
    assert f'<a href="#{field}">' in page  # the error summary leads to the field
    assert f'aria-describedby="{field}_help {field}_errors" aria-invalid="true"' in page
    assert "<title>Erreur – " in page
    assert not Message.objects.filter(dossier=dossier, direction="in").exists()
    assert {p for p in media.rglob("*") if p.is_file()} == before
    if data["body"].strip() and len(data["body"]) < 100:
        assert f">{data['body']}</textarea>" in page  # what was typed is kept


def test_a_closed_dossier_takes_no_more_messages(browser, dossier, tenant_a):
    workflow.apply_transition(dossier, "classer", actor=tenant_a.agent, comment="Doublon")
    page = browser.get(url(dossier)).content.decode()
    assert 'name="body"' not in page and "Cette demande est close" in page
    response = browser.post(url(dossier, "dossier_message"), {"body": "Pourquoi ?"})
    assert response.status_code == 400
    assert not Message.objects.filter(dossier=dossier, direction="in").exists()


def test_the_confirmation_right_after_sending(tenant_a, media):
    dossier = file_dossier(demarche_for(tenant_a), contact_email="anonyme@exemple.test")
    browser = Client(HTTP_HOST="127.0.0.1")
    session = browser.session
    session["submitted_dossiers"] = [str(dossier.uuid)]
    session.save()
    page = browser.get(url(dossier)).content.decode()
    assert "Votre demande est envoyée" in page
    assert dossier.reference in page and dossier.tracking_code in page
    assert "Un e-mail de confirmation vous est envoyé à anonyme@exemple.test" in page
    assert "Accusé de réception" in page and "En cours d'envoi à anonyme@exemple.test" in page
    # Once the service has moved it on, the page simply says where it stands.
    workflow.apply_transition(dossier, "instruire", actor=tenant_a.agent)
    page = browser.get(url(dossier)).content.decode()
    assert "Votre demande est envoyée" not in page and "En cours de traitement" in page


def test_withdrawal_goes_through_a_confirmation_page(browser, dossier):
    page = browser.get(url(dossier)).content.decode()
    confirm = url(dossier, "dossier_action_confirm", "retirer")
    assert f'href="{confirm}"' in page
    response = browser.get(confirm)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Confirmer : Retirer ma demande" in text and "Cette action est définitive" in text
    assert Dossier.objects.get(pk=dossier.pk).status == "depose"  # nothing done yet
    response = browser.post(
        url(dossier, "dossier_action"), {"transition": "retirer", "comment": "Plus besoin"}
    )
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == "annule"
    assert dossier.status_changes.latest("id").comment == "Plus besoin"
    page = browser.get(url(dossier)).content.decode()
    assert "Demande retirée" in page and confirm not in page


def test_a_step_requiring_a_comment_asks_for_it_on_the_confirmation_page(tenant_a, citizen, media):
    flow = quiet_workflow()
    next(t for t in flow["transitions"] if t["key"] == "retirer")["comment"] = "required"
    dossier = file_dossier(demarche_for(tenant_a, workflow=flow), account=citizen)
    browser = Client(HTTP_HOST="127.0.0.1")
    browser.force_login(citizen)
    response = browser.post(url(dossier, "dossier_action"), {"transition": "retirer"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Un commentaire est obligatoire" in text and 'href="#comment"' in text
    assert 'aria-invalid="true" aria-describedby="comment_errors"' in text


def test_the_page_costs_the_same_queries_however_long_the_life(browser, dossier, tenant_a):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert browser.get(url(dossier)).status_code == 200
        return len(captured)

    message_services.post_service_message(
        dossier=dossier, actor=tenant_a.agent, body="Un", uploads=[pdf_file()]
    )
    browser.get(url(dossier))  # the first visit marks it read
    short = queries()
    for n in range(15):
        message_services.post_service_message(
            dossier=dossier, actor=tenant_a.agent, body=f"Message {n}", uploads=[pdf_file()]
        )
        message_services.post_citizen_message(
            dossier=dossier, actor=dossier.account, body=f"Réponse {n}", uploads=[png_file()]
        )
    workflow.apply_transition(dossier, "instruire", actor=tenant_a.agent)
    browser.get(url(dossier))
    long = queries()
    assert long == short, f"{short} queries for one message, {long} for thirty"
    assert short <= 15, short
    assert Attachment.objects.filter(dossier=dossier).count() == 31


def test_a_flood_of_messages_on_one_dossier_is_held_back_with_a_clear_page(
    browser, dossier, settings
):
    settings.GRC_RATE_LIMITS = {**settings.GRC_RATE_LIMITS, "message": "2/h/key"}
    for n in range(2):
        assert (
            browser.post(url(dossier, "dossier_message"), {"body": f"Message {n}"}).status_code
            == 302
        )
    refused = browser.post(url(dossier, "dossier_message"), {"body": "Encore un"})
    assert refused.status_code == 429
    assert "copiez-le pour le renvoyer" in refused.content.decode()
    assert Message.objects.filter(dossier=dossier, direction="in").count() == 2
