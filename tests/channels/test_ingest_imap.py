"""Polling a real IMAP server (Dovecot, tests/channels/dovecot.py): plain, STARTTLS and IMAPS
with the server's own CA, messages flagged \\Seen or moved only once ingested, a broken
connection written on the mailbox, `grc fetchmail`, and the crash between commit and flag."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from grc.channels import inbound
from grc.channels.mail.imap import fetch_mailbox
from grc.channels.mail.route import THREADED_BY
from grc.channels.models import InboundEmail, Mailbox, MailThreadId
from grc.demarches.models import Dossier
from tests.channels.mails import make_mail

Outcome = InboundEmail.Outcome


@pytest.mark.django_db
@pytest.mark.parametrize(
    "security", [Mailbox.Security.PLAIN, Mailbox.Security.STARTTLS, Mailbox.Security.TLS]
)
def test_each_security_fetches_and_flags_seen(
    security, tenant_a, media, dovecot, make_mailbox, settings
):
    settings.GRC_IMAP_CA_FILE = str(dovecot.cert)
    port = dovecot.ssl_port if security == Mailbox.Security.TLS else dovecot.port
    mailbox = make_mailbox(tenant_a.collectivite, security=security, port=port)
    dovecot.append(mailbox.username, make_mail(subject="Un"))
    dovecot.append(mailbox.username, make_mail(subject="Deux"))
    report = fetch_mailbox(mailbox)
    assert report.error == "" and report.counts == {Outcome.OPENED: 2}
    assert dovecot.unseen(mailbox.username) == []
    assert set(InboundEmail.objects.values_list("subject", flat=True)) == {"Un", "Deux"}
    mailbox.refresh_from_db()
    assert mailbox.last_error == "" and mailbox.last_polled_at is not None


@pytest.mark.django_db
def test_a_certificate_not_trusted_is_refused_and_recorded(
    tenant_a, media, dovecot, make_mailbox, settings
):
    settings.GRC_IMAP_CA_FILE = ""
    mailbox = make_mailbox(
        tenant_a.collectivite, security=Mailbox.Security.TLS, port=dovecot.ssl_port
    )
    dovecot.append(mailbox.username, make_mail())
    report = fetch_mailbox(mailbox)
    assert "Certificat du serveur refusé" in report.error
    mailbox.refresh_from_db()
    assert "Certificat" in mailbox.last_error
    assert dovecot.unseen(mailbox.username) == [1] and not InboundEmail.objects.exists()


@pytest.mark.django_db
def test_connection_errors_are_recorded_on_the_mailbox(tenant_a, media, dovecot, make_mailbox):
    from tests.channels.dovecot import free_port

    closed = make_mailbox(tenant_a.collectivite, port=free_port())
    assert "refusée" in fetch_mailbox(closed).error
    closed.refresh_from_db()
    assert closed.last_error == "Connexion refusée par le serveur." and closed.last_polled_at
    wrong = make_mailbox(tenant_a.collectivite, password="pas-le-bon")
    assert "Refus du serveur IMAP" in fetch_mailbox(wrong).error
    missing = make_mailbox(tenant_a.collectivite, folder="Nulle part")
    assert "Nulle part" in fetch_mailbox(missing).error
    # It works again: the error is cleared.
    wrong.password = dovecot.password
    wrong.save()
    assert fetch_mailbox(wrong).error == ""
    wrong.refresh_from_db()
    assert wrong.last_error == ""


@pytest.mark.django_db
def test_processed_messages_move_to_the_done_folder(tenant_a, media, dovecot, make_mailbox):
    mailbox = make_mailbox(tenant_a.collectivite, done_folder="Traités/GRC")
    dovecot.append(mailbox.username, make_mail(subject="À ranger"))
    dovecot.append(mailbox.username, make_mail(subject="Déjà lu"), flags="\\Seen")
    report = fetch_mailbox(mailbox)
    assert report.counts == {Outcome.OPENED: 1}
    # The seen message was not ours to take; the other went to the folder, seen.
    assert list(dovecot.flags(mailbox.username).values()) == [{"\\Seen"}]
    assert list(dovecot.flags(mailbox.username, "Traités/GRC").values()) == [{"\\Seen"}]


@pytest.mark.django_db
def test_the_fetchmail_command_prints_the_counts(tenant_a, media, dovecot, make_mailbox, capsys):
    mailbox = make_mailbox(tenant_a.collectivite)
    make_mailbox(tenant_a.collectivite, is_active=False, port=1)  # not polled
    dovecot.append(mailbox.username, make_mail())
    dovecot.append(mailbox.username, make_mail(headers={"Auto-Submitted": "auto-replied"}))
    call_command("fetchmail")
    out = capsys.readouterr().out
    assert f"{mailbox.email} : 2 message(s)" in out and "opened 1" in out
    assert "auto_reply 1" in out
    call_command("fetchmail", "--mailbox", str(mailbox.pk))
    assert "aucun message" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_periodic_task_fetches_every_active_mailbox(
    tenant_a, tenant_b, media, dovecot, make_mailbox
):
    from grc.channels.tasks import fetch_mail

    boxes = [make_mailbox(tenant_a.collectivite), make_mailbox(tenant_b.collectivite)]
    for box in boxes:
        dovecot.append(box.username, make_mail())
    fetch_mail(timestamp=0)
    for box in boxes:
        assert InboundEmail.objects.get(mailbox=box).collectivite == box.collectivite
        assert dovecot.unseen(box.username) == []


# --- The corpus, end to end --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_corpus_end_to_end(tenant_a, media, dovecot, make_mailbox, settings):
    """Every corpus message (tests/channels/corpus) and a 20 MB one through a real IMAP
    mailbox: each ends as expected.json says, each is flagged seen, a second run adds
    nothing."""
    from tests.channels import corpus

    settings.GRC_MAIL_MAX_BYTES = 10 * 1024 * 1024
    with transaction.atomic():
        dossier, _ = inbound.open_dossier(
            collectivite=tenant_a.collectivite,
            demarche=None,
            channel="email",
            sender=inbound.Sender(email="paul.roux@exemple.fr", last_name="Roux"),
            subject="Éclairage public",
            body="Le lampadaire est éteint.",
        )
    our_id = f"grc.notification.{dossier.pk}@grc.localhost"
    MailThreadId.objects.create(
        collectivite=tenant_a.collectivite, email_id=f"<{our_id}>", dossier=dossier
    )
    mailbox = make_mailbox(tenant_a.collectivite)
    names = corpus.names()
    assert len(names) >= 40
    raws = [corpus.load(name, ref=dossier.reference, our_id=our_id) for name in names]
    dovecot.append_many(mailbox.username, [*raws, corpus.big_message()])
    report = fetch_mailbox(mailbox)
    assert report.error == "" and report.failed == 0
    rows = {row.imap_uid: row for row in InboundEmail.objects.filter(mailbox=mailbox)}
    assert len(rows) == len(names) + 1
    for uid, name in enumerate(names, start=1):
        row, expected = rows[str(uid)], corpus.expected(name)
        assert row.outcome == expected["outcome"], (name, row.reason, row.detail)
        assert row.reason == expected.get("reason", ""), name
        if row.outcome == Outcome.THREADED:
            assert row.dossier == dossier, name
            assert THREADED_BY[expected["by"]] in row.detail, name
        if row.outcome == Outcome.OPENED:
            assert row.dossier is not None and row.dossier != dossier, name
    big = rows[str(len(names) + 1)]
    assert big.outcome == Outcome.QUARANTINED and big.reason == InboundEmail.Reason.TOO_LARGE
    assert big.raw.size == big.size > settings.GRC_MAIL_MAX_BYTES
    assert dovecot.unseen(mailbox.username) == []
    assert all("\\Seen" in flags for flags in dovecot.flags(mailbox.username).values())
    # A second run finds nothing new.
    before = (InboundEmail.objects.count(), Dossier.objects.count())
    again = fetch_mailbox(mailbox)
    assert again.total == 0 and again.error == ""
    assert (InboundEmail.objects.count(), Dossier.objects.count()) == before


# --- The crash between the commit and the flag --------------------------------------------------

CRASHING_FETCH = """
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "grc.settings"
import django
django.setup()
from grc.channels.mail import imap
from grc.channels.models import Mailbox

real_mark_done, done = imap.mark_done, []

def mark_done_then_die(connection, uid, mailbox):
    done.append(uid)
    if len(done) == 3:
        os._exit(9)  # the 3rd message is committed, not flagged: the process dies here
    real_mark_done(connection, uid, mailbox)

imap.mark_done = mark_done_then_die
imap.fetch_mailbox(Mailbox.objects.get(pk=int(sys.argv[1])))
sys.exit(0)
"""


def database_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    host = quote(s["HOST"] or "", safe="")
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{s['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_crash_after_the_commit_loses_and_duplicates_nothing(
    tenant_a, media, dovecot, make_mailbox
):
    mailbox = make_mailbox(tenant_a.collectivite)
    dovecot.append_many(
        mailbox.username, [make_mail(subject=f"Demande {n}", body=f"n° {n}") for n in range(6)]
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(media),
        "GRC_ENV": "development",
    }
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_FETCH, str(mailbox.pk)],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert crashed.returncode == 9, crashed.stderr[-3000:]
    # Three committed, two of them flagged; the third is in the database but still unseen.
    assert InboundEmail.objects.count() == 3
    assert dovecot.unseen(mailbox.username) == [3, 4, 5, 6]
    report = fetch_mailbox(mailbox)
    assert report.counts == {"duplicate": 1, Outcome.OPENED: 3}
    subjects = list(InboundEmail.objects.order_by("subject").values_list("subject", flat=True))
    assert subjects == [f"Demande {n}" for n in range(6)]
    assert Dossier.objects.filter(collectivite=tenant_a.collectivite).count() == 6
    assert dovecot.unseen(mailbox.username) == []


@pytest.mark.django_db
def test_a_password_that_cannot_be_decrypted_stops_only_its_mailbox(
    tenant_a, media, dovecot, make_mailbox
):
    from django.db import connection

    from grc.channels.mail.imap import fetch_all

    broken = make_mailbox(tenant_a.collectivite)
    working = make_mailbox(tenant_a.collectivite)
    with connection.cursor() as cursor:  # stored under another key (SECRET_KEY changed)
        cursor.execute(
            "UPDATE channels_mailbox SET password = 'gAAAAAbogus' WHERE id = %s", [broken.pk]
        )
    dovecot.append(working.username, make_mail(subject="Passe quand même"))
    reports = {r.mailbox_id: r for r in fetch_all()}
    assert "GRC_CREDENTIALS_KEY" in reports[broken.pk].error
    assert reports[working.pk].counts == {Outcome.OPENED: 1}
    assert "GRC_CREDENTIALS_KEY" in Mailbox.objects.values_list("last_error", flat=True).get(
        pk=broken.pk
    )
