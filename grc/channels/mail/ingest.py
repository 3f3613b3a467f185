"""One e-mail received: kept, parsed, routed, in one transaction (REFERENCE §5).

The raw bytes are always stored with the InboundEmail row; whatever happens the message is not
lost: too large or unreadable, it waits in quarantine; a database error rolls the routing back
and the row is written again, quarantined "error", in a transaction of its own. The same
message fetched twice (same Message-ID in the collectivité) is the row already stored: the
IMAP client may flag it seen only after this function returned (grc.channels.mail.imap)."""

from __future__ import annotations

import datetime
import email.header
import email.parser
import email.policy
import email.utils
import hashlib
import logging
import traceback

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from grc.base.audit import record_event
from grc.base.models import Channel
from grc.channels.mail import route as router
from grc.channels.mail.parse import MADE_ID_DOMAIN, normalize_message_id, parse
from grc.channels.mail.parsed import ParseError
from grc.channels.models import InboundEmail, Mailbox

logger = logging.getLogger(__name__)

HEAD_BYTES = 256 * 1024  # enough for any sane header block

Outcome = InboundEmail.Outcome
Reason = InboundEmail.Reason


class Head:
    """What the header block says, read without parsing the body (a message too large or
    unreadable for the parser still shows its sender and subject, and keeps its id)."""

    def __init__(self, raw: bytes):
        self.email_id = self.from_address = self.from_name = self.subject = ""
        try:
            end = raw.find(b"\r\n\r\n", 0, HEAD_BYTES)
            end = end if end >= 0 else raw.find(b"\n\n", 0, HEAD_BYTES)
            head = raw[: end if end >= 0 else HEAD_BYTES]
            headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)
            self.email_id = normalize_message_id(str(headers.get("Message-ID", "")))
            name, address = email.utils.parseaddr(str(headers.get("From", "")))
            self.from_name = str(email.header.make_header(email.header.decode_header(name)))
            self.from_address = address.lower() if "@" in address else ""
            self.subject = str(
                email.header.make_header(email.header.decode_header(headers.get("Subject", "")))
            )
        except Exception:  # noqa: S110 - a header we cannot read is just left empty
            pass


def made_id(sha256: str) -> str:
    """The id the parser gives a message without one (the same message, the same id)."""
    return f"<{sha256}@{MADE_ID_DOMAIN}>"


def _new_row(mailbox: Mailbox, raw: bytes, *, uid: str, email_id: str, sha: str) -> InboundEmail:
    row = InboundEmail(
        collectivite_id=mailbox.collectivite_id,
        mailbox=mailbox,
        email_id=email_id,
        size=len(raw),
        sha256=sha,
        imap_uid=str(uid)[:40],
        received_at=timezone.now(),  # the file's path needs it before the first save
    )
    # Named by its hash: the same bytes stored by a rolled-back first attempt are the file the
    # quarantined row then keeps, instead of a second copy beside an orphan.
    name = row.raw.field.generate_filename(row, f"{sha[:32]}.eml")
    if row.raw.storage.exists(name):
        row.raw.name = name
    else:
        row.raw.save(f"{sha[:32]}.eml", ContentFile(raw), save=False)
    row.already_stored = False
    return row


def _text(value: str, limit: int | None = None) -> str:
    """PostgreSQL refuses NUL in text; a message may carry one."""
    value = (value or "").replace("\x00", "")
    return value[:limit] if limit else value


def _fill(row: InboundEmail, parsed) -> None:
    row.from_address = _text(parsed.from_address, 320)
    row.from_name = _text(parsed.from_name, 300)
    row.to_addresses = _text(", ".join(parsed.to))
    row.subject = _text(parsed.subject, 998)
    sent_at = parsed.sent_at
    if sent_at is not None and timezone.is_naive(sent_at):
        sent_at = timezone.make_aware(sent_at, datetime.UTC)
    row.sent_at = sent_at
    row.in_reply_to = _text(parsed.in_reply_to, 998)
    row.references = _text(" ".join(parsed.references))
    row.body_text = _text(parsed.text)
    row.body_html = _text(parsed.html)
    row.quoted_text = _text(parsed.quoted)


def _fill_head(row: InboundEmail, head: Head) -> None:
    row.from_address = _text(head.from_address, 320)
    row.from_name = _text(head.from_name, 300)
    row.subject = _text(head.subject, 998)


def _audit(row: InboundEmail) -> None:
    record_event(
        action=f"inbound_email.{row.outcome}",
        obj=row,
        actor=None,
        channel=Channel.EMAIL,
        collectivite_id=row.collectivite_id,
        payload={
            "email_id": row.email_id,
            "reason": row.reason,
            "dossier": row.dossier_id,
            "mailbox": row.mailbox_id,
        },
    )


def _existing(collectivite_id: int, email_id: str) -> InboundEmail | None:
    """The row of a message already stored (`already_stored` tells the caller so)."""
    row = InboundEmail.objects.filter(collectivite_id=collectivite_id, email_id=email_id).first()
    if row is not None:
        row.already_stored = True
    return row


def ingest(
    mailbox: Mailbox,
    raw: bytes,
    *,
    uid: str = "",
    received_at: datetime.datetime | None = None,
) -> InboundEmail:
    """Store and route one message; returns its row (the existing one for a duplicate).
    `received_at` is when the mail server received it (IMAP INTERNALDATE), the legal receipt
    date of a dossier it opens; now when not given."""
    sha = hashlib.sha256(raw).hexdigest()
    head = Head(raw)
    try:
        return _ingest(mailbox, raw, uid=uid, sha=sha, head=head, received_at=received_at)
    except Exception as error:  # never lose a message: see below
        logger.exception("Courriel %s de la boîte %s : erreur de traitement", uid, mailbox.pk)
        return _record_error(mailbox, raw, uid=uid, sha=sha, head=head, error=error)


@transaction.atomic
def _ingest(
    mailbox: Mailbox,
    raw: bytes,
    *,
    uid: str,
    sha: str,
    head: Head,
    received_at: datetime.datetime | None,
) -> InboundEmail:
    collectivite_id = mailbox.collectivite_id
    if len(raw) > settings.GRC_MAIL_MAX_BYTES:
        email_id = head.email_id or made_id(sha)
        if existing := _existing(collectivite_id, email_id):
            return existing
        row = _new_row(mailbox, raw, uid=uid, email_id=email_id, sha=sha)
        _fill_head(row, head)
        router.quarantine(
            row,
            Reason.TOO_LARGE,
            f"{len(raw)} octets, au-delà de la limite de {settings.GRC_MAIL_MAX_BYTES} octets.",
        )
        return _save(row)
    try:
        parsed = parse(raw)
    except ParseError as error:
        email_id = head.email_id or made_id(sha)
        if existing := _existing(collectivite_id, email_id):
            return existing
        row = _new_row(mailbox, raw, uid=uid, email_id=email_id, sha=sha)
        _fill_head(row, head)
        router.quarantine(row, Reason.UNPARSABLE, str(error)[:2000])
        return _save(row)
    email_id = _text(parsed.email_id, 998)
    if existing := _existing(collectivite_id, email_id):
        return existing
    row = _new_row(mailbox, raw, uid=uid, email_id=email_id, sha=sha)
    _fill(row, parsed)
    if parsed.defects:
        row.detail = "\n".join(parsed.defects)[:4000]
    row.collectivite = mailbox.collectivite
    # Saved before routing: the thread id, the bounce and the audit event point at it.
    row.save()
    router.route(row, parsed, mailbox, received_at=received_at or row.received_at)
    return _save(row)


def _save(row: InboundEmail) -> InboundEmail:
    row.processed_at = timezone.now()
    row.save()
    _audit(row)
    return row


def _record_error(
    mailbox: Mailbox, raw: bytes, *, uid: str, sha: str, head: Head, error: Exception
) -> InboundEmail:
    """The routing was rolled back: the message is stored again, quarantined, with what went
    wrong. A concurrent fetch of the same message that committed first wins (its row is
    returned)."""
    email_id = head.email_id or made_id(sha)
    detail = "".join(traceback.format_exception_only(type(error), error)).strip()
    try:
        with transaction.atomic():
            if existing := _existing(mailbox.collectivite_id, email_id):
                return existing
            row = _new_row(mailbox, raw, uid=uid, email_id=email_id, sha=sha)
            _fill_head(row, head)
            router.quarantine(row, Reason.ERROR, detail[:4000])
            return _save(row)
    except IntegrityError:
        # The same message committed meanwhile by another fetch.
        existing = _existing(mailbox.collectivite_id, email_id)
        if existing is None:
            raise
        return existing
