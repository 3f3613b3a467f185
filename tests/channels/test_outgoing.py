"""E-mail to citizens (REFERENCE §5 "Outgoing"), through a real SMTP server (aiosmtpd) that
keeps the envelope: our Message-ID recorded on the dossier's thread, In-Reply-To and References,
Reply-To the mailbox, the envelope sender for bounces, retries, and the final failure said on
the dossier and to the agent."""

from __future__ import annotations

import email
from email import policy

import pytest
from django.db import connection
from django.template.loader import render_to_string

from grc.base.mail import OWN_HEADER
from grc.base.models import Channel
from grc.channels import outgoing
from grc.channels.failures import failed_deliveries
from grc.channels.models import InboundEmail, Mailbox, MailThreadId
from grc.demarches import notifications
from grc.demarches.acknowledgements.delivery import MAX_ATTEMPTS as ACK_ATTEMPTS
from grc.demarches.acknowledgements.delivery import deliver as deliver_acknowledgement
from grc.demarches.models import Acknowledgement, ActionRun, Message, Notification
from grc.demarches.services import messages as message_services
from grc.demarches.workflow import services as workflow
from grc.demarches.workflow.actions import run_status_change_actions
from grc.demarches.workflow.defaults import default_workflow
from tests.conftest import running_smtp
from tests.demarches.dossier_helpers import demarche_for, file_dossier, quiet_workflow
from tests.factories import UserFactory

FROM = "GRC <ne-pas-repondre@grc.test>"
CITIZEN = "marie@exemple.test"


class Recorder:
    """Keeps each message with its envelope; answers DATA with the replies queued in
    `refusals` first (one per message), or always with `refuse_all`; refuses the recipients
    of `refuse_rcpt` at RCPT TO."""

    def __init__(self):
        self.received: list[tuple[str, list[str], email.message.EmailMessage]] = []
        self.refusals: list[str] = []
        self.refuse_all = ""
        self.refuse_rcpt: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse_rcpt:
            return self.refuse_rcpt[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_all:
            return self.refuse_all
        if self.refusals:
            return self.refusals.pop(0)
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [message for _, rcpt, message in self.received if address in rcpt]


@pytest.fixture
def smtp(settings):
    settings.DEFAULT_FROM_EMAIL = FROM
    settings.GRC_BASE_URL = "https://grc.exemple.test"
    settings.GRC_BOUNCE_ADDRESS = ""
    with running_smtp(settings, Recorder()) as handler:
        yield handler


@pytest.fixture
def citizen(db):
    return UserFactory(email=CITIZEN, first_name="Marie", last_name="Dubois")


def mailbox(collectivite, address, *, service=None, active=True) -> Mailbox:
    return Mailbox.objects.create(
        collectivite=collectivite,
        service=service,
        name=address,
        email=address,
        host="imap.mairie.test",
        username=address,
        is_active=active,
    )


def service_message(dossier, tenant, body="Pouvez-vous préciser l'adresse ?") -> Notification:
    message = message_services.post_service_message(dossier=dossier, actor=tenant.agent, body=body)
    return message.notification


def subject(mail) -> str:
    # Django folds a non-ASCII subject from an empty first line: the parser keeps a space.
    return " ".join(str(mail["Subject"]).split())


def ids(header) -> list[str]:
    return str(header or "").split()


def reschedule_retries() -> None:
    """Retries wait (exponential backoff): make them due now."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'")


# --- headers ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_notification_is_threaded_replies_to_the_mailbox_and_is_recorded(
    tenant_a, citizen, smtp, media
):
    mailbox(tenant_a.collectivite, "mairie@mairie.test")  # the collectivité-wide one
    mailbox(tenant_a.collectivite, "ancien@mairie.test", service=tenant_a.service, active=False)
    box = mailbox(tenant_a.collectivite, "etat-civil@mairie.test", service=tenant_a.service)
    dossier = file_dossier(demarche_for(tenant_a, workflow=quiet_workflow()), account=citizen)

    first = service_message(dossier, tenant_a)
    notifications.deliver(first.pk)
    ((mail_from, rcpt, mail),) = smtp.received
    first.refresh_from_db()
    assert first.status == "sent" and first.email_id == mail["Message-ID"]
    assert rcpt == [CITIZEN]
    # Bounces go to the mailbox (MAIL FROM), the From header is the platform's.
    assert mail_from == "etat-civil@mairie.test" and mail["From"] == FROM
    assert mail["Reply-To"] == box.email
    assert mail[OWN_HEADER] == "1" and mail["Auto-Submitted"] == "auto-generated"
    assert dossier.reference in mail["Subject"]
    # Nothing to answer yet; References carries our own id (a provider may rewrite Message-ID).
    assert mail["In-Reply-To"] is None and ids(mail["References"]) == [first.email_id]
    recorded = MailThreadId.objects.get(email_id=first.email_id)
    assert recorded.dossier == dossier and recorded.outgoing
    assert recorded.collectivite == tenant_a.collectivite

    # The citizen answers (the gateway records their Message-ID on the thread).
    MailThreadId.objects.create(
        collectivite=tenant_a.collectivite,
        dossier=dossier,
        email_id="<reponse-1@exemple.test>",
        outgoing=False,
    )
    second = service_message(dossier, tenant_a, body="Merci, c'est noté.")
    notifications.deliver(second.pk)
    mail = smtp.received[-1][2]
    second.refresh_from_db()
    assert mail["In-Reply-To"] == "<reponse-1@exemple.test>"
    assert ids(mail["References"]) == [
        first.email_id,
        "<reponse-1@exemple.test>",
        second.email_id,
    ]
    assert MailThreadId.objects.filter(dossier=dossier, outgoing=True).count() == 2


@pytest.mark.django_db
def test_the_bounce_address_is_the_envelope_sender_and_without_mailbox_the_service_replies(
    tenant_a, citizen, smtp, media, settings
):
    settings.GRC_BOUNCE_ADDRESS = "rebonds@grc.test"
    dossier = file_dossier(demarche_for(tenant_a, workflow=quiet_workflow()), account=citizen)
    notification = service_message(dossier, tenant_a)
    notifications.deliver(notification.pk)
    ((mail_from, _, mail),) = smtp.received
    assert mail_from == "rebonds@grc.test" and mail["From"] == FROM
    assert mail["Reply-To"] == tenant_a.service.email  # no mailbox: today's behaviour
    assert "Return-Path" not in mail  # written by the receiving server from MAIL FROM


@pytest.mark.django_db
def test_the_collectivite_mailbox_replies_when_the_service_has_none(
    tenant_a, tenant_b, citizen, smtp, media
):
    mailbox(tenant_b.collectivite, "autre@commune-b.test")  # another collectivité's: never
    mailbox(tenant_a.collectivite, "mairie@mairie.test")
    dossier = file_dossier(demarche_for(tenant_a, workflow=quiet_workflow()), account=citizen)
    notification = service_message(dossier, tenant_a)
    notifications.deliver(notification.pk)
    ((mail_from, _, mail),) = smtp.received
    assert mail["Reply-To"] == "mairie@mairie.test" and mail_from == "mairie@mairie.test"


@pytest.mark.django_db
def test_the_thread_reads_received_messages_and_keeps_its_root_when_capped(tenant_a, citizen):
    dossier = file_dossier(demarche_for(tenant_a, workflow=quiet_workflow()), account=citizen)
    assert outgoing.thread_of(dossier) == outgoing.Thread(in_reply_to="", references=())
    made = []
    for n in range(30):
        made.append(f"<n{n}@grc.test>")
        MailThreadId.objects.create(
            collectivite=tenant_a.collectivite, dossier=dossier, email_id=made[-1]
        )
    thread = outgoing.thread_of(dossier)
    assert thread.in_reply_to == made[-1]  # ours, while the citizen has not written
    assert len(thread.references) == outgoing.MAX_REFERENCES - 1
    assert thread.references[0] == made[0] and thread.references[1:] == tuple(made[-18:])

    # A message received on the dossier that the gateway did not (yet) add to the thread.
    def received(email_id, outcome):
        return InboundEmail.objects.create(
            collectivite=tenant_a.collectivite,
            dossier=dossier,
            email_id=email_id,
            raw="mail/x.eml",
            size=1,
            outcome=outcome,
        )

    received("<citoyen@exemple.test>", InboundEmail.Outcome.THREADED)
    received("<absent@exemple.test>", InboundEmail.Outcome.AUTO_REPLY)  # not the citizen
    thread = outgoing.thread_of(dossier)
    assert thread.in_reply_to == "<citoyen@exemple.test>"
    assert thread.references[-1] == "<citoyen@exemple.test>"
    assert "<absent@exemple.test>" not in thread.references


@pytest.mark.django_db
def test_a_citizen_reply_finds_its_dossier_even_when_the_provider_rewrote_our_id(
    tenant_a, tenant_b, citizen, smtp, media
):
    dossier = file_dossier(demarche_for(tenant_a, workflow=quiet_workflow()), account=citizen)
    notification = service_message(dossier, tenant_a)
    notifications.deliver(notification.pk)
    sent = smtp.received[0][2]

    def thread_lookup(collectivite, in_reply_to, references):
        """As the gateway routes (REFERENCE §5): In-Reply-To exactly, else the newest of the
        References."""
        thread = MailThreadId.objects.filter(collectivite=collectivite)
        found = thread.filter(email_id=in_reply_to).first()
        if found is None:
            found = thread.filter(email_id__in=references).order_by("-created_at").first()
        return found.dossier if found else None

    # A mail client answering: In-Reply-To our id, References ours plus our id.
    reply_refs = [*ids(sent["References"]), sent["Message-ID"]]
    assert thread_lookup(tenant_a.collectivite, sent["Message-ID"], reply_refs) == dossier
    # The provider replaced our Message-ID on the way: the id we put in References still tells.
    rewritten = "<0100018f@eu-west-1.amazonses.com>"
    reply_refs = [*ids(sent["References"]), rewritten]
    assert thread_lookup(tenant_a.collectivite, rewritten, reply_refs) == dossier
    # The same ids mean nothing in another collectivité.
    assert thread_lookup(tenant_b.collectivite, sent["Message-ID"], reply_refs) is None
    assert dossier.reference in sent["Subject"]


# --- acknowledgements and the workflow's e-mails ----------------------------------------------


@pytest.mark.django_db
def test_acknowledgements_are_recorded_on_the_thread(tenant_a, smtp, media):
    box = mailbox(tenant_a.collectivite, "etat-civil@mairie.test", service=tenant_a.service)
    dossier = file_dossier(demarche_for(tenant_a), contact_email=CITIZEN)
    acks = list(dossier.acknowledgements.filter(status="pending").order_by("kind"))
    assert acks, "a web filing is acknowledged"
    for ack in acks:
        deliver_acknowledgement(ack.pk)
    assert len(smtp.received) == len(acks)
    sent_ids = []
    for ack, (mail_from, _, mail) in zip(acks, smtp.received, strict=True):
        ack.refresh_from_db()
        assert ack.status == "sent" and ack.message_id == mail["Message-ID"]
        assert mail["Reply-To"] == box.email and mail_from == box.email
        assert dossier.reference in subject(mail) and subject(mail) == ack.subject
        assert ids(mail["References"]) == [*sent_ids, ack.message_id]
        sent_ids.append(ack.message_id)
    assert set(
        MailThreadId.objects.filter(dossier=dossier, outgoing=True).values_list(
            "email_id", flat=True
        )
    ) == set(sent_ids)


@pytest.mark.django_db
def test_a_workflow_email_to_the_citizen_is_threaded_recorded_and_has_the_reference(
    tenant_a, citizen, smtp, media
):
    custom = default_workflow("sva")
    (instruction,) = [s for s in custom["statuses"] if s["key"] == "instruction"]
    instruction["actions"][0]["subject"] = "Votre demande avance"  # staff forgot the reference
    box = mailbox(tenant_a.collectivite, "etat-civil@mairie.test", service=tenant_a.service)
    dossier = file_dossier(demarche_for(tenant_a, workflow=custom), account=citizen)
    MailThreadId.objects.create(
        collectivite=tenant_a.collectivite,
        dossier=dossier,
        email_id="<question@exemple.test>",
        outgoing=False,
    )
    change = workflow.apply_transition(dossier, "instruire", actor=tenant_a.agent)
    run_status_change_actions(change.pk, attempt=1)
    run = ActionRun.objects.get(status_change=change, spec__type="email")
    assert run.status == "done", run.error
    ((mail_from, _, mail),) = smtp.received
    assert mail["Subject"] == f"[{dossier.reference}] Votre demande avance"
    assert mail["Message-ID"] == run.result["message_id"]
    assert mail["In-Reply-To"] == "<question@exemple.test>"
    assert ids(mail["References"]) == ["<question@exemple.test>", mail["Message-ID"]]
    assert mail["Reply-To"] == box.email and mail_from == box.email
    assert MailThreadId.objects.get(email_id=mail["Message-ID"]).dossier == dossier
    copy = Message.objects.get(dossier=dossier, direction="out", channel=Channel.EMAIL)
    assert copy.body.startswith(mail["Subject"])


# --- retries and the final failure ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_refused_notification_is_retried_by_the_worker_and_sent_once(
    tenant_a, citizen, smtp, media, run_jobs
):
    dossier = file_dossier(demarche_for(tenant_a, workflow=quiet_workflow()), account=citizen)
    run_jobs(["mail"])  # the acknowledgements
    before = len(smtp.received)
    smtp.refusals = ["451 4.3.0 Try again later"]
    notification = service_message(dossier, tenant_a)
    run_jobs(["mail"])
    notification.refresh_from_db()
    assert notification.status == "pending" and notification.attempts == 1
    assert "451" in notification.last_error and len(smtp.received) == before
    run_jobs(["mail"])  # the retry waits its backoff: nothing yet
    assert len(smtp.received) == before

    reschedule_retries()
    run_jobs(["mail"])
    notification.refresh_from_db()
    assert notification.status == "sent" and notification.attempts == 2
    assert notification.last_error == ""
    (mail,) = smtp.received[before:]
    assert mail[2]["Message-ID"] == notification.email_id
    assert MailThreadId.objects.filter(email_id=notification.email_id, dossier=dossier).exists()
    assert not Message.objects.filter(dossier=dossier, direction="note").exists()


@pytest.mark.django_db(transaction=True)
def test_a_notification_refused_for_good_is_said_on_the_dossier_and_alerts_the_agent(
    tenant_a, citizen, smtp, media, run_jobs
):
    dossier = file_dossier(demarche_for(tenant_a, workflow=quiet_workflow()), account=citizen)
    run_jobs(["mail"])
    dossier.assignee = tenant_a.agent
    dossier.save(update_fields=["assignee"])
    smtp.refuse_rcpt[CITIZEN] = "554 5.1.1 Mailbox unavailable"
    notification = service_message(dossier, tenant_a)
    for _attempt in range(notifications.MAX_ATTEMPTS + 2):
        run_jobs(["mail"])
        reschedule_retries()
    notification.refresh_from_db()
    assert notification.status == "failed"
    assert notification.attempts == notifications.MAX_ATTEMPTS
    assert "554" in notification.last_error
    (note,) = Message.objects.filter(dossier=dossier, direction="note", channel="system")
    assert note.body.startswith(
        f"L'e-mail « {notification.subject} » n'a pas pu être envoyé à {CITIZEN} : "
    )
    assert "554" in note.body
    (alert,) = smtp.to(tenant_a.agent.email)  # the agent who follows the dossier
    assert dossier.reference in alert["Subject"]
    assert note.body in alert.get_content()
    assert f"/backoffice/dossiers/{dossier.pk}/" in alert.get_content()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, attempts FROM procrastinate_jobs "
            "WHERE task_name = %s AND (args->>'notification_id')::int = %s",
            ["demarches.send_notification", notification.pk],
        )
        # Ended with the last attempt (not retried once more for nothing), never lost.
        assert cursor.fetchall() == [("succeeded", notifications.MAX_ATTEMPTS)]
    assert [f.subject for f in failed_deliveries(dossier)] == [notification.subject]


@pytest.mark.django_db
def test_an_acknowledgement_failed_for_good_is_said_once_even_when_the_alert_cannot_leave(
    tenant_a, smtp, media
):
    dossier = file_dossier(demarche_for(tenant_a), contact_email=CITIZEN)
    ack = dossier.acknowledgements.filter(status="pending").first()
    smtp.refuse_all = "451 4.3.0 Try again later"
    for _attempt in range(ACK_ATTEMPTS - 1):
        with pytest.raises(Exception, match="451"):
            deliver_acknowledgement(ack.pk)
    assert not Message.objects.filter(dossier=dossier, direction="note").exists()
    deliver_acknowledgement(ack.pk)  # the last attempt: no exception, the failure is kept
    deliver_acknowledgement(ack.pk)  # a duplicate run of the job
    ack.refresh_from_db()
    assert ack.status == "failed" and ack.attempts == ACK_ATTEMPTS and "451" in ack.last_error
    (note,) = Message.objects.filter(dossier=dossier, direction="note", channel="system")
    assert f"« {ack.subject} »" in note.body and CITIZEN in note.body
    assert smtp.received == []  # the alert could not leave either: the note tells
    assert not MailThreadId.objects.filter(dossier=dossier).exists()


# --- the banner -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_failed_deliveries_are_listed_in_two_queries_and_shown_in_french(
    tenant_a, citizen, media, django_assert_num_queries
):
    dossier = file_dossier(demarche_for(tenant_a, workflow=quiet_workflow()), account=citizen)
    assert failed_deliveries(dossier) == []
    ack = dossier.acknowledgements.first()
    Acknowledgement.objects.filter(pk=ack.pk).update(
        status="failed", subject="Accusé <b>", last_error="554 refusé", attempts=8
    )
    notification = service_message(dossier, tenant_a)
    Notification.objects.filter(pk=notification.pk).update(
        status="failed", subject="Nouveau message", last_error="451 plus tard", attempts=8
    )
    service_message(dossier, tenant_a, body="Un autre")  # still pending: not listed
    with django_assert_num_queries(2):
        failures = failed_deliveries(dossier)
    assert [f.subject for f in failures] == ["Accusé <b>", "Nouveau message"]
    assert failures[1].what == "Notification : Message du service"
    html = render_to_string(
        "backoffice/channels/_failed_deliveries.html", {"failed_deliveries": failures}
    )
    assert 'role="alert"' in html and "2 e-mails n'ont pas pu être envoyés" in html
    assert "Accusé &lt;b&gt;" in html and "après 8 tentatives" in html
    assert "451 plus tard" in html and CITIZEN in html
    assert (
        render_to_string(
            "backoffice/channels/_failed_deliveries.html", {"failed_deliveries": []}
        ).strip()
        == ""
    )
