"""Polling a mailbox (REFERENCE §5): every unseen message is fetched without marking it seen
(BODY.PEEK), ingested and committed, and only then flagged \\Seen or moved to the done folder.
A crash between the commit and the flag fetches the message again next time; the ingestion
recognises it by its Message-ID and stores nothing twice. A message that fails is logged and
left unseen (retried next time) without stopping the others; a connection that fails is
written on the mailbox (`last_error`) for the administrators."""

from __future__ import annotations

import base64
import contextlib
import datetime
import imaplib
import logging
import re
import socket
import ssl
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from grc.channels.mail.ingest import ingest
from grc.channels.models import Mailbox

logger = logging.getLogger(__name__)

TIMEOUT = 60  # seconds, per network operation


class MailboxError(Exception):
    """The mailbox could not be reached, logged in to, or opened."""


@dataclass
class FetchReport:
    mailbox_id: int
    counts: Counter = field(default_factory=Counter)  # outcome -> messages
    failed: int = 0  # messages left unseen after an error (retried next time)
    error: str = ""  # the connection's failure, when there was one

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __str__(self) -> str:
        parts = [f"{outcome} {n}" for outcome, n in sorted(self.counts.items())]
        if self.failed:
            parts.append(f"échecs {self.failed}")
        if self.error:
            parts.append(f"erreur : {self.error}")
        return ", ".join(parts) or "aucun message"


def ssl_context() -> ssl.SSLContext:
    """The system's CAs, or the file GRC_IMAP_CA_FILE names (a server with its own CA)."""
    cafile = settings.GRC_IMAP_CA_FILE or None
    return ssl.create_default_context(cafile=cafile)


def utf7(name: str) -> str:
    """A folder name as IMAP spells it (modified UTF-7, RFC 3501 §5.1.3): "Traités" is
    "Trait&AOk-s"."""
    out, run = [], []

    def flush() -> None:
        if run:
            data = "".join(run).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            run.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            run.append(char)
    flush()
    return "".join(out)


def quote(name: str) -> str:
    name = utf7(name)
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def connect(mailbox: Mailbox) -> imaplib.IMAP4:
    """Connected and logged in, as the mailbox's security says."""
    try:
        if mailbox.security == Mailbox.Security.TLS:
            imap = imaplib.IMAP4_SSL(
                mailbox.host, mailbox.port, ssl_context=ssl_context(), timeout=TIMEOUT
            )
        else:
            imap = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT)
            if mailbox.security == Mailbox.Security.STARTTLS:
                imap.starttls(ssl_context=ssl_context())
        imap.login(mailbox.username, mailbox.password)
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as error:
        raise MailboxError(_describe(error)) from error
    return imap


def _describe(error: Exception) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"Certificat du serveur refusé : {error.verify_message or error}"
    if isinstance(error, socket.timeout):
        return "Le serveur ne répond pas (délai dépassé)."
    if isinstance(error, ConnectionRefusedError):
        return "Connexion refusée par le serveur."
    if isinstance(error, socket.gaierror):
        return "Nom de serveur inconnu."
    if isinstance(error, imaplib.IMAP4.error):
        text = error.args[0] if error.args else error
        if isinstance(text, bytes):
            text = text.decode(errors="replace")
        return f"Refus du serveur IMAP : {text}"
    return f"{type(error).__name__} : {error}"


def _ok(result: tuple, what: str) -> list:
    typ, data = result
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace")
        raise MailboxError(f"{what} : {detail}")
    return data


INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')


def fetch_message(imap: imaplib.IMAP4, uid: bytes) -> tuple[bytes, datetime.datetime | None]:
    """The raw bytes (without setting \\Seen) and the date the server received the message."""
    data = _ok(imap.uid("FETCH", uid, "(INTERNALDATE BODY.PEEK[])"), "FETCH")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            received = None
            if match := INTERNALDATE.search(item[0]):
                try:
                    received = datetime.datetime.strptime(
                        match.group(1).decode(), "%d-%b-%Y %H:%M:%S %z"
                    )
                except ValueError:
                    received = None
            return item[1], received
    raise MailboxError(f"FETCH {uid.decode()} : message absent")


def mark_done(imap: imaplib.IMAP4, uid: bytes, mailbox: Mailbox) -> None:
    """Flag the message seen, or move it to the done folder (COPY then delete when the server
    lacks MOVE). Called only once its ingestion is committed."""
    if not mailbox.done_folder:
        _ok(imap.uid("STORE", uid, "+FLAGS.SILENT", "(\\Seen)"), "STORE")
        return
    # Seen first: a server that fails between the copy and the deletion leaves it seen.
    _ok(imap.uid("STORE", uid, "+FLAGS.SILENT", "(\\Seen)"), "STORE")
    if "MOVE" in imap.capabilities:
        _ok(imap.uid("MOVE", uid, quote(mailbox.done_folder)), "MOVE")
        return
    _ok(imap.uid("COPY", uid, quote(mailbox.done_folder)), "COPY")
    _ok(imap.uid("STORE", uid, "+FLAGS.SILENT", "(\\Deleted)"), "STORE")
    if "UIDPLUS" in imap.capabilities:
        _ok(imap.uid("EXPUNGE", uid), "EXPUNGE")
    else:
        _ok(imap.expunge(), "EXPUNGE")


def _record_poll(mailbox: Mailbox, error: str) -> None:
    now = timezone.now()
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=now, last_error=error)
    mailbox.last_polled_at, mailbox.last_error = now, error


def fetch_mailbox(mailbox: Mailbox, *, limit: int | None = None) -> FetchReport:
    """Ingest the unseen messages of one mailbox (at most `limit`). Must run outside any
    transaction: each message is committed before it is flagged."""
    report = FetchReport(mailbox_id=mailbox.pk)
    try:
        imap = connect(mailbox)
    except MailboxError as error:
        logger.warning("Boîte %s (%s) : %s", mailbox.pk, mailbox.email, error)
        report.error = str(error)
        _record_poll(mailbox, report.error)
        return report
    try:
        _ok(imap.select(quote(mailbox.folder)), f"Dossier « {mailbox.folder} »")
        if mailbox.done_folder:
            imap.create(quote(mailbox.done_folder))  # NO when it exists: fine
        uids = _ok(imap.uid("SEARCH", None, "UNSEEN"), "SEARCH")[0].split()
        for uid in uids[:limit] if limit else uids:
            try:
                raw, received_at = fetch_message(imap, uid)
                row = ingest(mailbox, raw, uid=uid.decode(), received_at=received_at)
                mark_done(imap, uid, mailbox)
            except (imaplib.IMAP4.abort, OSError):
                raise  # the connection is gone: stop here, the rest waits for next time
            except Exception:  # one message must not stop the others
                logger.exception("Boîte %s : message UID %s non traité", mailbox.pk, uid)
                report.failed += 1
                continue
            report.counts[
                "duplicate" if getattr(row, "already_stored", False) else row.outcome
            ] += 1
    except (MailboxError, imaplib.IMAP4.error, OSError) as error:
        report.error = str(error) if isinstance(error, MailboxError) else _describe(error)
        logger.warning("Boîte %s (%s) : %s", mailbox.pk, mailbox.email, report.error)
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            imap.logout()
    _record_poll(mailbox, report.error)
    return report


def fetch_all(*, mailbox_id: int | None = None) -> list[FetchReport]:
    """Every active mailbox, or one (active or not, when named)."""
    mailboxes = Mailbox.objects.select_related("collectivite", "demarche").order_by("pk")
    if mailbox_id is not None:
        mailboxes = mailboxes.filter(pk=mailbox_id)
    else:
        mailboxes = mailboxes.filter(is_active=True, collectivite__is_active=True)
    reports = []
    for pk in mailboxes.values_list("pk", flat=True):
        try:
            mailbox = mailboxes.get(pk=pk)
        except ValueError as error:  # its password cannot be decrypted: the others go on
            logger.warning("Boîte %s : %s", pk, error)
            Mailbox.objects.filter(pk=pk).update(
                last_polled_at=timezone.now(), last_error=str(error)
            )
            reports.append(FetchReport(mailbox_id=pk, error=str(error)))
            continue
        reports.append(fetch_mailbox(mailbox))
    return reports
