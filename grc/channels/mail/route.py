"""Where a parsed e-mail goes (REFERENCE §5, as Odoo's mail gateway does it): a bounce marks
the failed address, our own message and auto-replies are kept but not threaded, a reply joins
its dossier (In-Reply-To exactly, then the newest of the References, then the reference in
the subject), anything else opens a dossier unless its sender opened too many lately.

`route` runs inside the ingestion's transaction (grc.channels.mail.ingest) and sets the
outcome on the InboundEmail row; it never commits nor catches a database error."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from grc.base.mail import mail_domain
from grc.base.models import Channel, Collectivite
from grc.channels import inbound
from grc.channels.mail.parse import html_to_text
from grc.channels.mail.parsed import ParsedEmail
from grc.channels.models import BouncedAddress, InboundEmail, Mailbox, MailThreadId
from grc.demarches.models import Dossier, Message

# What the agents read on the e-mail's page: how it found its dossier.
THREADED_BY = {
    "in_reply_to": gettext_noop("Rattaché au dossier par l'en-tête In-Reply-To."),
    "references": gettext_noop("Rattaché au dossier par l'en-tête References."),
    "reference": gettext_noop("Rattaché au dossier par la référence citée dans l'objet."),
}

Outcome = InboundEmail.Outcome
Reason = InboundEmail.Reason


@dataclass(frozen=True)
class Thread:
    dossier: Dossier | None
    via: str = ""  # "reference", "in_reply_to", "references"
    gone: bool = False  # it answers one of our messages whose dossier no longer exists


def _ours(email_id: str) -> bool:
    return email_id.lower().rstrip(">").endswith("@" + mail_domain().lower())


def thread_of(collectivite: Collectivite, parsed: ParsedEmail) -> Thread:
    """The dossier a message answers, if any: the headers first, which name the very message
    answered (REFERENCE §5: In-Reply-To exactly, then the newest of the References), then a
    reference in the subject (a reply from a client that drops the headers, a new e-mail that
    quotes its reference; a subject may also be edited, hence last)."""
    ids = MailThreadId.objects.filter(collectivite=collectivite).select_related("dossier")
    if parsed.in_reply_to:
        found = ids.filter(email_id=parsed.in_reply_to).first()
        if found is not None:
            return Thread(found.dossier, "in_reply_to")
    if parsed.references:
        found = ids.filter(email_id__in=parsed.references).order_by("-created_at", "-pk").first()
        if found is not None:
            return Thread(found.dossier, "references")
    dossier = inbound.find_dossier_by_reference(collectivite, parsed.subject)
    if dossier is not None:
        return Thread(dossier, "reference")
    answered = [parsed.in_reply_to, *parsed.references]
    return Thread(None, gone=any(e and _ours(e) for e in answered))


def is_throttled(collectivite_id: int, sender: str, *, now: datetime.datetime) -> bool:
    """The sender opened `GRC_MAIL_THROTTLE` dossiers in the last `GRC_MAIL_THROTTLE_MINUTES`
    (Odoo: 20 in 120): a loop or a flood, not a person."""
    window = datetime.timedelta(minutes=settings.GRC_MAIL_THROTTLE_MINUTES)
    opened = InboundEmail.objects.filter(
        collectivite_id=collectivite_id,
        from_address=sender,
        outcome=Outcome.OPENED,
        received_at__gte=now - window,
    ).count()
    return opened >= settings.GRC_MAIL_THROTTLE


def sender_of(parsed: ParsedEmail) -> inbound.Sender:
    """The display name split as people write it: "Marie Dubois" or "DUBOIS Marie"."""
    words = (parsed.from_name or "").replace('"', "").split()
    first, last = "", ""
    if len(words) >= 2:
        if words[0].isupper() and not words[-1].isupper():
            last, first = words[0], " ".join(words[1:])
        else:
            first, last = " ".join(words[:-1]), words[-1]
    elif words:
        last = words[0]
    return inbound.Sender(email=parsed.from_address, first_name=first[:150], last_name=last[:150])


def files_of(parsed: ParsedEmail) -> list[inbound.IncomingFile]:
    return [
        inbound.IncomingFile(filename=a.filename or "piece-jointe", content=a.content)
        for a in parsed.attachments
    ]


def body_of(parsed: ParsedEmail) -> str:
    return parsed.text if parsed.text.strip() else html_to_text(parsed.html)


def record_bounce(*, inbound_email: InboundEmail, parsed: ParsedEmail) -> None:
    """A permanent failure marks each failed address (once per collectivité, counted); a delay
    (4.x.x) is only kept as the received message."""
    bounce = parsed.bounce
    if bounce is None:
        return
    if bounce.original_email_id:
        found = (
            MailThreadId.objects.filter(
                collectivite_id=inbound_email.collectivite_id, email_id=bounce.original_email_id
            )
            .select_related("dossier")
            .first()
        )
        if found is not None:
            inbound_email.dossier = found.dossier
    if not bounce.permanent:
        return
    now = timezone.now()
    for address in {r.strip().lower() for r in bounce.recipients if r.strip()}:
        row = (
            BouncedAddress.objects.select_for_update()
            .filter(collectivite_id=inbound_email.collectivite_id, email=address)
            .first()
        )
        if row is None:
            BouncedAddress.objects.create(
                collectivite_id=inbound_email.collectivite_id,
                email=address[:320],
                status=bounce.status[:20],
                diagnostic=bounce.diagnostic,
                permanent=True,
                last_at=now,
                last_bounce=inbound_email,
            )
            continue
        row.count += 1
        row.status = bounce.status[:20]
        row.diagnostic = bounce.diagnostic
        row.last_at = now
        row.last_bounce = inbound_email
        row.cleared_at = None
        row.save()


def clear_bounce(*, collectivite_id: int, address: str) -> None:
    """A message from an address shows it works again."""
    if address:
        BouncedAddress.objects.filter(
            collectivite_id=collectivite_id, email=address, cleared_at__isnull=True
        ).update(cleared_at=timezone.now())


def note(dossier: Dossier, body: str) -> Message:
    """An internal note the agents see on the dossier (the gateway's own remark)."""
    return Message.objects.create(
        dossier=dossier, direction=Message.Direction.NOTE, channel=Channel.SYSTEM, body=body
    )


def remember_thread_id(inbound_email: InboundEmail, dossier: Dossier) -> None:
    """The citizen's Message-ID joins the dossier's thread: a reply to it will find it."""
    MailThreadId.objects.get_or_create(
        collectivite_id=inbound_email.collectivite_id,
        email_id=inbound_email.email_id,
        defaults={"dossier": dossier, "outgoing": False},
    )


def quarantine(inbound_email: InboundEmail, reason: str, detail: str = "") -> None:
    inbound_email.outcome = Outcome.QUARANTINED
    inbound_email.reason = reason
    inbound_email.detail = detail


def _landed(inbound_email: InboundEmail, dossier: Dossier, message: Message, outcome: str) -> None:
    """The e-mail's row points at what it became, and its Message-ID joins the thread."""
    inbound_email.outcome = outcome
    inbound_email.dossier = dossier
    inbound_email.message = message
    inbound_email.usager_id = dossier.usager_id
    remember_thread_id(inbound_email, dossier)


def thread_into(
    inbound_email: InboundEmail,
    parsed: ParsedEmail,
    dossier: Dossier,
    *,
    received_at: datetime.datetime,
    outcome: str = Outcome.THREADED,
) -> None:
    message = inbound.append_message(
        dossier=dossier,
        channel=Channel.EMAIL,
        body=body_of(parsed),
        files=files_of(parsed),
        received_at=received_at,
    )
    _landed(inbound_email, dossier, message, outcome)
    known = {dossier.contact_email.lower(), (dossier.usager.email if dossier.usager_id else "")}
    if parsed.from_address and parsed.from_address not in {k.lower() for k in known if k}:
        # References follow each other: anyone may quote one. The message joins the dossier,
        # but the agents are told it does not come from the citizen's known address.
        note(
            dossier,
            _(
                "Le message reçu le %(d)s vient de %(sender)s, qui n'est pas l'adresse connue "
                "de l'usager : vérifiez qui écrit avant d'y donner suite."
            )
            % {
                "d": timezone.localtime(received_at).strftime("%d/%m/%Y %H:%M"),
                "sender": parsed.from_address,
            },
        )


def open_new(
    inbound_email: InboundEmail,
    parsed: ParsedEmail,
    mailbox: Mailbox | None,
    *,
    received_at: datetime.datetime,
    outcome: str = Outcome.OPENED,
    gone: bool = False,
) -> bool:
    """A new dossier for the message; False (and the row quarantined) when none can be
    opened (no démarche, démarche closed)."""
    try:
        with transaction.atomic():  # a savepoint: a refusal leaves nothing half-made
            dossier, message = inbound.open_dossier(
                collectivite=inbound_email.collectivite,
                demarche=mailbox.demarche if mailbox is not None else None,
                channel=Channel.EMAIL,
                sender=sender_of(parsed),
                subject=parsed.subject,
                body=body_of(parsed),
                files=files_of(parsed),
                received_at=received_at,
                # A service's mailbox without a démarche of its own: the service keeps what
                # was written to it.
                service=mailbox.service
                if mailbox is not None and not mailbox.demarche_id
                else None,
            )
    except ValidationError as refusal:
        quarantine(inbound_email, Reason.NO_DEMARCHE, " ".join(refusal.messages))
        return False
    _landed(inbound_email, dossier, message, outcome)
    if gone:
        note(
            dossier,
            _(
                "Ce courriel répond à un message envoyé pour un dossier qui n'existe plus : "
                "un nouveau dossier a été ouvert."
            ),
        )
    return True


def route(
    inbound_email: InboundEmail,
    parsed: ParsedEmail,
    mailbox: Mailbox | None,
    *,
    received_at: datetime.datetime,
) -> None:
    """Decide and do, in the caller's transaction; the row is saved by the caller."""
    collectivite = inbound_email.collectivite
    if parsed.bounce is not None:
        record_bounce(inbound_email=inbound_email, parsed=parsed)
        inbound_email.outcome = Outcome.BOUNCE
        return
    if parsed.own:
        inbound_email.outcome = Outcome.OWN
        return
    if parsed.auto_reply:
        # Never threaded (a loop otherwise), but the agents may like to know which dossier.
        inbound_email.dossier = thread_of(collectivite, parsed).dossier
        inbound_email.outcome = Outcome.AUTO_REPLY
        return
    if not parsed.from_address:
        quarantine(inbound_email, Reason.NO_SENDER)
        return
    clear_bounce(collectivite_id=collectivite.pk, address=parsed.from_address)
    thread = thread_of(collectivite, parsed)
    if thread.dossier is not None:
        thread_into(inbound_email, parsed, thread.dossier, received_at=received_at)
        inbound_email.detail = "\n".join(
            filter(None, [_(THREADED_BY[thread.via]), inbound_email.detail])
        )
        return
    if is_throttled(collectivite.pk, parsed.from_address, now=timezone.now()):
        quarantine(
            inbound_email,
            Reason.THROTTLED,
            _("Cet expéditeur a déjà ouvert %(n)s dossiers en moins de %(m)s minutes.")
            % {"n": settings.GRC_MAIL_THROTTLE, "m": settings.GRC_MAIL_THROTTLE_MINUTES},
        )
        return
    open_new(inbound_email, parsed, mailbox, received_at=received_at, gone=thread.gone)
