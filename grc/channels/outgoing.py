"""E-mail to a citizen about a dossier, as REFERENCE §5 "Outgoing" has it: our own
Message-ID, recorded in the dossier's thread (MailThreadId) so that the citizen's reply finds
its dossier; In-Reply-To and References that keep the citizen's mail client on one thread;
Reply-To the mailbox the gateway polls; the reference in the subject; the envelope sender where
bounces go. Every path that e-mails a citizen about a dossier (notifications, acknowledgements,
the workflow's e-mails) sends through `send_to_citizen` and records with `record_sent`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import F, Q

from grc.base.mail import send_email
from grc.channels.models import InboundEmail, Mailbox, MailThreadId
from grc.demarches.models import Dossier

# RFC 5322 §3.6.4 lets a long References be trimmed, keeping the first id (the thread's root).
MAX_REFERENCES = 20
# Received messages that are not the citizen writing on the thread.
_NOT_FROM_CITIZEN = (
    InboundEmail.Outcome.AUTO_REPLY,
    InboundEmail.Outcome.OWN,
    InboundEmail.Outcome.BOUNCE,
)


@dataclass(frozen=True)
class Thread:
    in_reply_to: str  # "" on a dossier without any e-mail yet
    references: tuple[str, ...]  # oldest first, at most MAX_REFERENCES - 1 (ours is added)


def thread_of(dossier: Dossier) -> Thread:
    """The dossier's e-mail thread (two queries): In-Reply-To is the citizen's newest message,
    else our newest; References every id of the thread, both ways, oldest first."""
    seen: dict[str, tuple] = {}
    rows = MailThreadId.objects.filter(
        collectivite_id=dossier.collectivite_id, dossier_id=dossier.pk
    ).values_list("email_id", "outgoing", "created_at", "id")
    for email_id, outgoing, at, pk in rows:
        seen[email_id] = (at, pk, outgoing)
    # The gateway records the citizen's ids as MailThreadId too; the received messages
    # themselves are read as well, so that nothing the citizen sent is left out of the thread.
    received = (
        InboundEmail.objects.filter(collectivite_id=dossier.collectivite_id, dossier_id=dossier.pk)
        .exclude(outcome__in=_NOT_FROM_CITIZEN)
        .values_list("email_id", "received_at", "id")
    )
    for email_id, at, pk in received:
        if email_id not in seen:
            seen[email_id] = (at, pk, False)
    ordered = sorted(seen, key=lambda email_id: seen[email_id][:2])
    from_citizen = [email_id for email_id in ordered if not seen[email_id][2]]
    in_reply_to = (from_citizen or ordered or [""])[-1]
    keep = MAX_REFERENCES - 1
    references = ordered if len(ordered) <= keep else [ordered[0], *ordered[-(keep - 1) :]]
    return Thread(in_reply_to=in_reply_to, references=tuple(references))


def mailbox_for(dossier: Dossier) -> Mailbox | None:
    """The active mailbox of the dossier's service, else the collectivité-wide one."""
    scope = Q(service__isnull=True)
    if dossier.service_id:
        scope |= Q(service_id=dossier.service_id)
    return (
        Mailbox.objects.filter(scope, collectivite_id=dossier.collectivite_id, is_active=True)
        .defer("password")  # only its address is needed here, not its credential
        .order_by(F("service_id").asc(nulls_last=True), "id")
        .first()
    )


def reply_address(dossier: Dossier, mailbox: Mailbox | None) -> str:
    """Where the citizen's reply goes: the mailbox the gateway reads, else the service."""
    if mailbox is not None:
        return mailbox.email
    if dossier.service_id and dossier.service.email:
        return dossier.service.email
    return ""


def envelope_sender(mailbox: Mailbox | None) -> str:
    """The SMTP MAIL FROM (bounces come back there): the platform's bounce address when set,
    else the mailbox; "" leaves DEFAULT_FROM_EMAIL."""
    bounce = settings.GRC_BOUNCE_ADDRESS
    if bounce:
        return bounce
    return mailbox.email if mailbox is not None else ""


def with_reference(dossier: Dossier, subject: str) -> str:
    """The subject on one line, with the dossier's reference (added in front when the text,
    which staff may write, lacks it)."""
    subject = " ".join(subject.split())
    if dossier.reference and dossier.reference not in subject:
        subject = f"[{dossier.reference}] {subject}"
    return subject[:300]


def send_to_citizen(
    *,
    dossier: Dossier,
    to: list[str],
    subject: str,
    body: str,
    attachments: Iterable[tuple[str, bytes, str]] = (),
) -> str:
    """Send now (in the worker) and return our Message-ID; the caller records it with
    `record_sent` in the transaction that records the sending. Raises on SMTP failure."""
    mailbox = mailbox_for(dossier)
    thread = thread_of(dossier)
    reply_to = reply_address(dossier, mailbox)
    return send_email(
        to=to,
        subject=with_reference(dossier, subject),
        body=body,
        reply_to=[reply_to] if reply_to else None,
        attachments=attachments,
        envelope_sender=envelope_sender(mailbox),
        in_reply_to=thread.in_reply_to,
        references=thread.references,
    )


def record_sent(*, dossier: Dossier, email_id: str) -> None:
    """Our Message-ID joins the dossier's thread: a reply quoting it finds the dossier. In the
    transaction of the row that records the sending (both are kept, or neither)."""
    if not connection.in_atomic_block:
        raise RuntimeError("record_sent must run inside the transaction of the sending's row")
    MailThreadId.objects.bulk_create(
        [
            MailThreadId(
                collectivite_id=dossier.collectivite_id,
                dossier_id=dossier.pk,
                email_id=email_id,
                outgoing=True,
            )
        ],
        ignore_conflicts=True,  # a retried job recording the same id again
    )
