"""One e-mail ingested (grc.channels.mail.ingest): kept raw, routed (new dossier, reply,
bounce, auto-reply, our own), idempotent, throttled, quarantined when too large, unreadable or
when the database fails, and never lost."""

import hashlib
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from grc.base.models import Event
from grc.channels import inbound
from grc.channels.mail.ingest import ingest
from grc.channels.models import BouncedAddress, InboundEmail, Mailbox, MailThreadId
from grc.demarches.models import Dossier, Message
from tests.channels.mails import make_bounce, make_mail
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

Outcome = InboundEmail.Outcome


@pytest.fixture
def mailbox(tenant_a, media):
    return Mailbox.objects.create(
        collectivite=tenant_a.collectivite,
        name="Mairie",
        email="mairie@commune-a.test",
        host="127.0.0.1",
        username="mairie",
    )


@pytest.fixture
def dossier(tenant_a):
    with transaction.atomic():
        dossier, _ = inbound.open_dossier(
            collectivite=tenant_a.collectivite,
            demarche=None,
            channel="email",
            sender=inbound.Sender(email="paul.roux@exemple.fr", last_name="Roux"),
            subject="Éclairage public",
            body="Le lampadaire est éteint.",
        )
    return dossier


def our_id(dossier, n=1):
    """A Message-ID we gave an e-mail about the dossier."""
    email_id = f"<sent{n}.{dossier.pk}@grc.localhost>"
    MailThreadId.objects.create(
        collectivite_id=dossier.collectivite_id, email_id=email_id, dossier=dossier
    )
    return email_id


def test_a_new_request_opens_a_dossier_and_keeps_the_raw_message(mailbox):
    raw = make_mail(
        subject="Trou dans la chaussée",
        sender="Jeanne Martin <Jeanne.Martin@exemple.fr>",
        message_id="<demande-1@exemple.fr>",
        attachments=(("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png"),),
    )
    row = ingest(mailbox, raw, uid="7")
    assert row.outcome == Outcome.OPENED and row.reason == ""
    assert row.email_id == "<demande-1@exemple.fr>" and row.imap_uid == "7"
    assert row.size == len(raw) and row.sha256 == hashlib.sha256(raw).hexdigest()
    with row.raw.open("rb") as handle:
        assert handle.read() == raw
    assert row.from_address == "jeanne.martin@exemple.fr" and row.processed_at
    dossier = row.dossier
    assert dossier.channel == "email" and dossier.demarche.slug == "courriel"
    assert dossier.usager.first_name == "Jeanne" and dossier.usager.last_name == "Martin"
    assert row.message.dossier == dossier and "trou rue des Lilas" in row.message.body
    assert row.usager == dossier.usager
    thread_id = MailThreadId.objects.get(email_id="<demande-1@exemple.fr>")
    assert thread_id.dossier == dossier and thread_id.outgoing is False
    assert Event.objects.filter(action="inbound_email.opened", object_id=str(row.pk)).exists()


def test_the_same_message_twice_is_stored_once(mailbox):
    raw = make_mail(message_id="<une-fois@exemple.fr>")
    first = ingest(mailbox, raw, uid="1")
    second = ingest(mailbox, raw, uid="2")
    assert second.pk == first.pk and second.already_stored and not first.already_stored
    assert InboundEmail.objects.count() == 1 and Dossier.objects.count() == 1


def test_the_same_message_id_in_another_collectivite_is_another_message(mailbox, tenant_b):
    other = Mailbox.objects.create(
        collectivite=tenant_b.collectivite, name="B", email="b@b.test", host="h", username="b"
    )
    raw = make_mail(message_id="<deux-communes@exemple.fr>")
    assert ingest(mailbox, raw).dossier.collectivite == mailbox.collectivite
    assert ingest(other, raw).dossier.collectivite == tenant_b.collectivite


def test_a_reply_joins_its_dossier_by_reference_in_reply_to_or_references(mailbox, dossier):
    by_reference = ingest(mailbox, make_mail(subject=f"Re: [{dossier.reference}] Votre demande"))
    assert by_reference.outcome == Outcome.THREADED and by_reference.dossier == dossier
    sent = our_id(dossier)
    by_reply = ingest(mailbox, make_mail(subject="Re: bonjour", headers={"In-Reply-To": sent}))
    assert by_reply.outcome == Outcome.THREADED and by_reply.dossier == dossier
    # The newest known id among References wins, whatever the order of the header.
    with transaction.atomic():
        other, _ = inbound.open_dossier(
            collectivite=dossier.collectivite,
            demarche=None,
            channel="email",
            sender=inbound.Sender(email="paul.roux@exemple.fr"),
            subject="Autre",
            body="Autre demande",
        )
    newer = our_id(other, 2)
    by_refs = ingest(
        mailbox,
        make_mail(
            subject="Re: suite",
            headers={"References": f"<inconnu@ailleurs.fr> {newer} {sent}"},
        ),
    )
    assert by_refs.dossier == other and by_refs.outcome == Outcome.THREADED
    # Each reply's own id joins the thread: a reply to the citizen's reply finds it too.
    again = ingest(mailbox, make_mail(headers={"In-Reply-To": by_reply.email_id}))
    assert again.dossier == dossier
    assert dossier.messages.filter(direction=Message.Direction.IN).count() == 4


def test_a_reply_to_a_dossier_that_no_longer_exists_opens_a_new_one_with_a_note(mailbox, dossier):
    sent = our_id(dossier)
    MailThreadId.objects.filter(dossier=dossier).delete()  # as a purge of the dossier does
    row = ingest(mailbox, make_mail(subject="Re: votre demande", headers={"In-Reply-To": sent}))
    assert row.outcome == Outcome.OPENED
    note = row.dossier.messages.get(direction=Message.Direction.NOTE, channel="system")
    assert "n'existe plus" in note.body


def test_auto_replies_are_kept_not_threaded(mailbox, dossier):
    sent = our_id(dossier)
    row = ingest(
        mailbox,
        make_mail(
            subject="Absence du bureau",
            headers={"Auto-Submitted": "auto-replied", "In-Reply-To": sent},
        ),
    )
    assert row.outcome == Outcome.AUTO_REPLY and row.dossier == dossier and row.message is None
    assert not dossier.messages.filter(direction=Message.Direction.IN).exclude(
        pk=dossier.messages.order_by("pk").first().pk
    )
    assert Dossier.objects.count() == 1


def test_our_own_message_coming_back_is_ignored(mailbox):
    row = ingest(mailbox, make_mail(headers={"X-GRC-Message": "1"}))
    assert row.outcome == Outcome.OWN and row.dossier is None
    assert Dossier.objects.count() == 0


def test_a_permanent_bounce_marks_the_address_and_a_later_message_clears_it(mailbox, dossier):
    sent = our_id(dossier)
    row = ingest(mailbox, make_bounce(failed="Paul.Roux@exemple.fr", original_id=sent))
    assert row.outcome == Outcome.BOUNCE
    bounced = BouncedAddress.objects.get(collectivite=mailbox.collectivite)
    assert bounced.email == "paul.roux@exemple.fr" and bounced.status == "5.1.1"
    assert bounced.permanent and bounced.count == 1 and bounced.last_bounce == row
    ingest(mailbox, make_bounce(failed="paul.roux@exemple.fr"))
    bounced.refresh_from_db()
    assert bounced.count == 2 and bounced.cleared_at is None
    # A delay is kept as a message only.
    delayed = ingest(mailbox, make_bounce(failed="autre@exemple.fr", status="4.4.1"))
    assert delayed.outcome == Outcome.BOUNCE
    assert not BouncedAddress.objects.filter(email="autre@exemple.fr").exists()
    # The citizen writes again: the address works.
    ingest(mailbox, make_mail(sender="Paul Roux <paul.roux@exemple.fr>"))
    bounced.refresh_from_db()
    assert bounced.cleared_at is not None


def test_a_sender_who_opens_too_many_dossiers_is_throttled(mailbox, dossier, settings):
    settings.GRC_MAIL_THROTTLE = 3
    rows = [
        ingest(mailbox, make_mail(subject=f"Demande {n}", sender="flood@exemple.fr"))
        for n in range(5)
    ]
    assert [r.outcome for r in rows] == [Outcome.OPENED] * 3 + [Outcome.QUARANTINED] * 2
    assert rows[3].reason == InboundEmail.Reason.THROTTLED and rows[3].dossier is None
    # Replies still reach their dossier, and other senders are not concerned.
    reply = ingest(mailbox, make_mail(sender="flood@exemple.fr", subject=dossier.reference))
    assert reply.outcome == Outcome.THREADED
    assert ingest(mailbox, make_mail(sender="calme@exemple.fr")).outcome == Outcome.OPENED


def test_a_message_too_large_is_quarantined_with_its_raw_bytes(mailbox, settings):
    settings.GRC_MAIL_MAX_BYTES = 2000
    raw = make_mail(subject="Gros fichier", message_id="<gros@exemple.fr>", body="x" * 5000)
    row = ingest(mailbox, raw)
    assert row.outcome == Outcome.QUARANTINED and row.reason == InboundEmail.Reason.TOO_LARGE
    assert row.subject == "Gros fichier" and row.email_id == "<gros@exemple.fr>"
    assert row.size == len(raw) and row.raw.size == len(raw)
    assert ingest(mailbox, raw).pk == row.pk  # idempotent too
    assert Dossier.objects.count() == 0


def test_unreadable_bytes_are_quarantined(mailbox):
    raw = b"\x00\xff\xfe garbage without any header \x00" * 10
    row = ingest(mailbox, raw)
    assert row.outcome == Outcome.QUARANTINED and row.reason == InboundEmail.Reason.UNPARSABLE
    assert row.raw.size == len(raw)
    assert ingest(mailbox, raw).pk == row.pk


@pytest.fixture
def failing_messages():
    """The database refuses any message whose text says BOOM (a real error from PostgreSQL,
    in the middle of the routing's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION grc_test_boom() RETURNS trigger AS $$ BEGIN "
            "IF NEW.body LIKE '%BOOM%' THEN RAISE EXCEPTION 'disque plein'; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql; "
            "CREATE TRIGGER grc_test_boom BEFORE INSERT ON demarches_message "
            "FOR EACH ROW EXECUTE FUNCTION grc_test_boom();"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER grc_test_boom ON demarches_message; DROP FUNCTION grc_test_boom();"
        )


def test_a_database_error_rolls_back_and_keeps_the_message_quarantined(mailbox, failing_messages):
    raw = make_mail(subject="Panne", body="BOOM", message_id="<panne@exemple.fr>")
    row = ingest(mailbox, raw)
    assert row.outcome == Outcome.QUARANTINED and row.reason == InboundEmail.Reason.ERROR
    assert "disque plein" in row.detail and row.subject == "Panne"
    assert row.raw.size == len(raw)
    # Nothing of the routing was kept: no dossier, no citizen record, no thread id.
    assert Dossier.objects.count() == 0 and MailThreadId.objects.count() == 0
    assert InboundEmail.objects.count() == 1
    assert ingest(mailbox, raw).pk == row.pk
    # The raw file the rolled-back attempt wrote is the one kept: no orphan beside it.
    stored = list(Path(settings.MEDIA_ROOT).rglob("*.eml"))
    assert [p.name for p in stored] == [Path(row.raw.name).name]


def test_a_service_mailbox_keeps_what_is_written_to_it(tenant_a, media):
    # Without a démarche of its own, the "Courriel" démarche opens the dossier, but in the
    # service the citizen wrote to (not the démarche's): its agents see and answer it.
    urbanisme = ServiceFactory(collectivite=tenant_a.collectivite, name="Urbanisme")
    box = Mailbox.objects.create(
        collectivite=tenant_a.collectivite,
        service=urbanisme,
        name="Urbanisme",
        email="urbanisme@commune-a.test",
        host="127.0.0.1",
        username="urbanisme",
    )
    row = ingest(box, make_mail(subject="Permis de construire"))
    assert row.outcome == Outcome.OPENED
    assert row.dossier.service == urbanisme != row.dossier.demarche.service


def test_the_throttle_window_is_a_setting(mailbox, settings):
    settings.GRC_MAIL_THROTTLE, settings.GRC_MAIL_THROTTLE_MINUTES = 1, 0
    first = ingest(mailbox, make_mail(subject="Un", sender="flood@exemple.fr"))
    second = ingest(mailbox, make_mail(subject="Deux", sender="flood@exemple.fr"))
    assert first.outcome == second.outcome == Outcome.OPENED  # an empty window holds nothing


def test_an_html_only_message_becomes_readable_text(mailbox):
    # The parser's own HTML-to-text (entities decoded, paragraphs kept), not a tag-stripping
    # regex: what the citizen wrote reads on the dossier as they wrote it.
    from grc.channels.mail.parsed import ParsedEmail
    from grc.channels.mail.route import body_of

    parsed = ParsedEmail(
        email_id="<x@exemple.fr>",
        email_id_made=False,
        from_address="a@exemple.fr",
        from_name="",
        to=(),
        subject="",
        sent_at=None,
        in_reply_to="",
        references=(),
        text="",
        quoted="",
        html="<p>Café &amp; thé &lt;urgent&gt;</p><p>Ligne 2</p>",
    )
    assert body_of(parsed).split("\n") == ["Café & thé <urgent>", "", "Ligne 2"]


def test_a_reply_from_another_address_is_flagged_to_the_agents(mailbox, dossier):
    subject = f"Re: [{dossier.reference}] Éclairage public"
    ingest(mailbox, make_mail(subject=subject, sender="Paul Roux <Paul.Roux@exemple.fr>"))
    assert not dossier.messages.filter(direction=Message.Direction.NOTE, body__contains="connue")
    stranger = ingest(mailbox, make_mail(subject=subject, sender="inconnu@ailleurs.fr"))
    assert stranger.dossier == dossier  # kept on the dossier, never dropped
    note = dossier.messages.filter(direction=Message.Direction.NOTE).last()
    assert "inconnu@ailleurs.fr" in note.body and "pas l'adresse connue" in note.body
