"""E-mails to the citizen on the events of their dossier: one per event, through a real SMTP
server, with the reference and a link back, following the account's preferences."""

import datetime

import pytest
from django.utils import timezone

from grc.base.mail import OWN_HEADER
from grc.base.models import CitizenProfile
from grc.demarches import notifications
from grc.demarches.models import ActionRun, Dossier, Notification
from grc.demarches.services import messages as message_services
from grc.demarches.workflow import services as workflow
from grc.demarches.workflow.actions import run_status_change_actions
from tests.demarches.dossier_helpers import demarche_for, file_dossier, quiet_workflow
from tests.demarches.helpers import pdf_file
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
BASE = "https://grc.exemple.test"


@pytest.fixture(autouse=True)
def base_url(settings):
    settings.GRC_BASE_URL = BASE


@pytest.fixture
def citizen(db):
    return UserFactory(email="marie@exemple.test", first_name="Marie", last_name="Dubois")


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def sent_for(dossier, kind) -> Notification:
    return Notification.objects.get(dossier=dossier, kind=kind)


def test_a_message_from_the_service_is_emailed_with_a_link_to_the_dossier(
    tenant_a, citizen, smtp_server, media, django_capture_on_commit_callbacks
):
    dossier = file_dossier(demarche_for(tenant_a), account=citizen)
    with django_capture_on_commit_callbacks() as callbacks:
        message = message_services.post_service_message(
            dossier=dossier,
            actor=tenant_a.agent,
            body="Pouvez-vous préciser l'adresse ?",
            uploads=[pdf_file("plan.pdf")],
        )
    notification = message.notification
    assert notification.status == "pending" and notification.recipient == "marie@exemple.test"
    assert callbacks  # the job is deferred once the message is committed

    notifications.deliver(notification.pk)
    (mail,) = smtp_server.messages
    notification.refresh_from_db()
    assert notification.status == "sent" and notification.email_id == mail["Message-ID"]
    assert mail["To"] == "marie@exemple.test"
    assert mail["Reply-To"] == tenant_a.service.email
    assert mail[OWN_HEADER] == "1"
    assert mail["Subject"] == f"[{dossier.reference}] Nouveau message du service"
    body = text_of(mail)
    assert "Bonjour" in body and "Pouvez-vous préciser l'adresse ?" in body and "plan.pdf" in body
    link = f"{BASE}/c/{dossier.collectivite.slug}/dossiers/{dossier.uuid}/"
    assert link in body
    assert notification.body.strip() == body.strip()  # what was sent is kept

    # Sent once: a second run of the job (a retry) does nothing.
    notifications.deliver(notification.pk)
    assert len(smtp_server.messages) == 1
    assert notifications.message_posted(message) == notification  # one row per event


def test_an_anonymous_filer_is_sent_to_the_tracking_page_with_the_reference(
    tenant_a, smtp_server, media
):
    dossier = file_dossier(demarche_for(tenant_a), contact_email="anonyme@exemple.test")
    message = message_services.post_service_message(
        dossier=dossier, actor=tenant_a.agent, body="Bonjour, une question."
    )
    notifications.deliver(message.notification.pk)
    (mail,) = smtp_server.messages
    assert mail["To"] == "anonyme@exemple.test"
    slug = dossier.collectivite.slug
    assert f"{BASE}/c/{slug}/suivi/?reference={dossier.reference}" in text_of(mail)
    assert "code de suivi" in text_of(mail)


def test_preferences_are_followed_for_an_account(tenant_a, citizen, smtp_server, media):
    CitizenProfile.objects.create(user=citizen, notify_messages=False, notify_status=False)
    dossier = file_dossier(demarche_for(tenant_a), account=citizen)
    message = message_services.post_service_message(
        dossier=dossier, actor=tenant_a.agent, body="Une question."
    )
    notification = message.notification
    assert notification.status == "skipped"
    assert notification.reason == "l'usager ne souhaite pas recevoir ces e-mails"
    # The workflow's own e-mail of a step follows the same preference.
    change = workflow.apply_transition(dossier, "instruire", actor=tenant_a.agent)
    run_status_change_actions(change.pk)
    (run,) = ActionRun.objects.filter(status_change=change)
    assert run.status == "skipped" and "ne souhaite pas" in run.result["reason"]
    assert smtp_server.messages == []


def test_a_step_told_by_the_workflows_own_email_is_not_told_twice(
    tenant_a, citizen, smtp_server, media
):
    dossier = file_dossier(demarche_for(tenant_a), account=citizen)
    change = workflow.apply_transition(dossier, "instruire", actor=tenant_a.agent)
    assert not Notification.objects.filter(dossier=dossier).exists()
    run_status_change_actions(change.pk)
    (mail,) = smtp_server.messages  # the default workflow's "en cours de traitement"
    assert dossier.reference in mail["Subject"]
    # Asking for pieces: the status's e-mail lists them; no second e-mail, no message e-mail.
    change = workflow.apply_transition(
        dossier,
        "demander_pieces",
        actor=tenant_a.agent,
        data={"pieces_demandees": "Photo du banc", "delai_pieces": 10},
    )
    run_status_change_actions(change.pk)
    assert len(smtp_server.messages) == 2 and "Photo du banc" in text_of(smtp_server.messages[1])
    assert not Notification.objects.filter(dossier=dossier).exists()


def test_without_workflow_emails_the_platform_tells_each_visible_step_and_request(
    tenant_a, citizen, smtp_server, media
):
    dossier = file_dossier(demarche_for(tenant_a, workflow=quiet_workflow()), account=citizen)
    assert not Notification.objects.filter(dossier=dossier).exists()  # filing: the acks tell
    change = workflow.apply_transition(dossier, "instruire", actor=tenant_a.agent)
    status = sent_for(dossier, "status")
    assert status.status_change == change
    notifications.deliver(status.pk)
    mail = smtp_server.messages[-1]
    assert mail["Subject"] == f"[{dossier.reference}] Votre demande : En cours de traitement"
    assert "a changé d'étape : En cours de traitement" in text_of(mail)

    change = workflow.apply_transition(
        dossier,
        "demander_pieces",
        actor=tenant_a.agent,
        comment="Merci",
        data={"pieces_demandees": "Photo du banc\nPlan", "delai_pieces": 10},
    )
    run_status_change_actions(change.pk)
    pieces = sent_for(dossier, "pieces")
    notifications.deliver(pieces.pk)
    body = text_of(smtp_server.messages[-1])
    assert "- Photo du banc\n- Plan" in body and "Merci de les fournir avant le" in body
    # The move into "Pièces à fournir" is a step of its own, told once.
    assert Notification.objects.filter(dossier=dossier, kind="status").count() == 2

    # The citizen's own step (withdrawal) is not e-mailed back to them.
    workflow.apply_transition(dossier, "retirer", actor=citizen)
    assert Notification.objects.filter(dossier=dossier, kind="status").count() == 2


def test_an_issued_document_is_told_even_beside_the_workflows_email(
    tenant_a, citizen, smtp_server, media
):
    demarche = demarche_for(tenant_a, implicit_decision="sva")
    dossier = file_dossier(demarche, account=citizen)
    Dossier.objects.filter(pk=dossier.pk).update(
        received_at=timezone.now() - datetime.timedelta(days=90)
    )
    dossier.refresh_from_db()
    workflow.refresh_decision_date(dossier)
    assert workflow.run_legal_clock() == 1
    run_status_change_actions(dossier.status_changes.latest("id").pk)
    document = dossier.documents.get()
    notification = sent_for(dossier, "documents")
    assert notification.document == document
    notifications.deliver(notification.pk)
    subjects = [m["Subject"] for m in smtp_server.messages]
    assert f"[{dossier.reference}] Un document est disponible : {document.title}" in subjects
    assert len(subjects) == 2  # and the workflow's "acceptée"


def test_no_address_no_email_and_it_is_said(tenant_a, media):
    dossier = file_dossier(demarche_for(tenant_a), contact_email="x@exemple.test")
    Dossier.objects.filter(pk=dossier.pk).update(contact_email="")
    dossier.usager.email = ""
    dossier.usager.save()
    dossier.refresh_from_db()
    message = message_services.post_service_message(
        dossier=dossier, actor=tenant_a.agent, body="Bonjour"
    )
    assert message.notification.status == "skipped"
    assert message.notification.reason == "pas d'adresse e-mail"


def test_a_mail_server_failure_is_retried_and_recorded(tenant_a, citizen, smtp_server, media):
    dossier = file_dossier(demarche_for(tenant_a), account=citizen)
    message = message_services.post_service_message(
        dossier=dossier, actor=tenant_a.agent, body="Bonjour"
    )
    smtp_server.refuse = True
    with pytest.raises(Exception, match="451"):
        notifications.deliver(message.notification.pk)
    notification = Notification.objects.get(pk=message.notification.pk)
    assert notification.status == "pending" and notification.attempts == 1
    assert "451" in notification.last_error
    smtp_server.refuse = False
    notifications.deliver(notification.pk)
    notification.refresh_from_db()
    assert notification.status == "sent" and notification.attempts == 2
    assert len(smtp_server.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_it_after_commit(tenant_a, smtp_server, run_jobs, media, settings):
    settings.GRC_BASE_URL = BASE
    citizen = UserFactory(email="paul@exemple.test")
    dossier = file_dossier(demarche_for(tenant_a), account=citizen)
    message_services.post_service_message(dossier=dossier, actor=tenant_a.agent, body="Bonjour")
    run_jobs(["mail"])
    to_citizen = [m for m in smtp_server.messages if "Nouveau message" in m["Subject"]]
    assert len(to_citizen) == 1 and to_citizen[0]["To"] == "paul@exemple.test"
    assert Notification.objects.get(dossier=dossier).status == "sent"
