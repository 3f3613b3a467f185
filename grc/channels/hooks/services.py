"""Messages in and replies out through the channels' webhooks (the connector contract:
docs/channels.md).

In: a signed JSON message lands on a dossier in one transaction with the HookMessage row that
keeps it as received; the same message id twice is answered without doing anything again.
Out: an agent's reply to a citizen who wrote through a channel is POSTed to the channel's
connector by the worker, signed the same way, retried with backoff."""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from grc.base import access
from grc.base.audit import apply_changes, record_event, snapshot
from grc.base.models import Channel, Collectivite, User
from grc.base.services.errors import deny
from grc.base.services.saving import save_validated
from grc.base.validators import normalize_phone
from grc.channels import inbound
from grc.channels.hooks import signing, tasks
from grc.channels.models import HookChannel, HookDelivery, HookMessage
from grc.demarches import notifications
from grc.demarches.models import Message
from grc.demarches.search import refresh_search
from grc.demarches.workflow.actions import _NO_REDIRECTS, Failed, Retry, _refuse_internal_address

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_ATTEMPTS = tasks.MAX_ATTEMPTS  # exponential_wait=3: the last try about an hour after the first
TIMEOUT_SECONDS = 10
MAX_TEXT = 100_000
MAX_ATTACHMENTS = 20

HTTP_STATUS = {
    HookMessage.Outcome.THREADED: 200,
    HookMessage.Outcome.OPENED: 201,
    HookMessage.Outcome.QUARANTINED: 202,
}


# --- The channels (admin) ---------------------------------------------------------------------


def _check_channel(channel: HookChannel) -> None:
    if channel.demarche_id is not None and channel.demarche.collectivite_id != (
        channel.collectivite_id
    ):
        raise ValidationError({"demarche": _("Cette démarche n'est pas celle de la collectivité.")})
    if len(channel.secret or "") < signing.MIN_SECRET_LENGTH:
        raise ValidationError(
            {
                "secret": _("Le secret doit compter au moins %(n)s caractères.")
                % {"n": signing.MIN_SECRET_LENGTH}
            }
        )


@transaction.atomic
def create_hook_channel(
    *,
    actor: User,
    collectivite: Collectivite,
    data: dict[str, Any],
    secret: str = "",
    channel: str = Channel.ADMIN,
) -> HookChannel:
    """A new channel; without `secret`, one is generated (read it once from the result)."""
    if not access.can_administer(actor, collectivite.pk):
        raise deny()
    hook = HookChannel(collectivite=collectivite, secret=secret or signing.new_secret(), **data)
    _check_channel(hook)
    save_validated(hook)
    record_event(
        action="hook_channel.created",
        obj=hook,
        actor=actor,
        channel=channel,
        collectivite_id=collectivite.pk,
        payload={"data": snapshot(data)},  # never the secret
    )
    return hook


@transaction.atomic
def update_hook_channel(
    *,
    actor: User,
    hook: HookChannel,
    changes: dict[str, Any],
    new_secret: str = "",
    channel: str = Channel.ADMIN,
) -> HookChannel:
    """Changes the channel's settings; `new_secret` replaces its secret (the audit trail says it
    changed, never what it is)."""
    locked = HookChannel.objects.select_for_update().get(pk=hook.pk)
    if not access.can_administer(actor, locked.collectivite_id):
        raise access.NotFound
    changes = {k: v for k, v in changes.items() if k != "secret"}
    if "collectivite" in changes and changes["collectivite"].pk != locked.collectivite_id:
        raise ValidationError({"collectivite": _("Un canal ne change pas de collectivité.")})
    diff = apply_changes(locked, changes)
    if new_secret:
        locked.secret = new_secret
    if not diff and not new_secret:
        return locked
    _check_channel(locked)
    save_validated(locked)
    record_event(
        action="hook_channel.updated",
        obj=locked,
        actor=actor,
        channel=channel,
        collectivite_id=locked.collectivite_id,
        payload={"changes": diff, "secret_changed": bool(new_secret)},
    )
    return locked


def active_channel(collectivite_slug: str, channel_slug: str) -> HookChannel | None:
    """The active channel at this address, of an active collectivité; None otherwise."""
    return (
        HookChannel.objects.select_related("collectivite", "demarche")
        .filter(
            collectivite__slug=collectivite_slug,
            collectivite__is_active=True,
            slug=channel_slug,
            is_active=True,
        )
        .first()
    )


# --- In -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncomingHookMessage:
    """A message as a connector sent it, checked (parse_payload)."""

    external_id: str
    text: str
    thread: str = ""
    reference: str = ""
    sender: inbound.Sender = field(default_factory=inbound.Sender)
    name: str = ""
    handle: str = ""
    files: tuple[inbound.IncomingFile, ...] = ()
    sent_at: datetime.datetime | None = None


@dataclass(frozen=True)
class Answer:
    status: str
    dossier: str | None
    duplicate: bool

    @property
    def http_status(self) -> int:
        return 200 if self.duplicate else HTTP_STATUS[self.status]

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "dossier": self.dossier, "duplicate": self.duplicate}


def _text(
    data: dict, key: str, errors: dict, *, max_length: int = 300, number: bool = False
) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if number and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # a numeric id is fine
    if not isinstance(value, str):
        errors[key] = [_("Texte attendu.")]
        return ""
    value = value.strip()
    if len(value) > max_length:
        errors[key] = [_("%(n)s caractères au plus.") % {"n": max_length}]
        return ""
    return value


def parse_payload(data: Any) -> IncomingHookMessage:
    """The JSON a connector POSTs, checked; ValidationError with a French message per field.
    Contact details that do not parse (an e-mail, a phone) are left out rather than refusing the
    message: the payload, kept as received, still has them."""
    if not isinstance(data, dict):
        raise ValidationError({"__all__": [_("Un objet JSON est attendu.")]})
    errors: dict[str, list[str]] = {}
    external_id = _text(data, "id", errors, number=True)
    if not external_id and "id" not in errors:
        errors["id"] = [_("L'identifiant du message chez l'expéditeur est obligatoire.")]
    thread = _text(data, "thread", errors, number=True)
    reference = _text(data, "reference", errors, max_length=100)
    text = _text(data, "text", errors, max_length=MAX_TEXT)
    who = data.get("from") or {}
    if not isinstance(who, dict):
        errors["from"] = [_("Un objet est attendu : name, email, phone, handle.")]
        who = {}
    who_errors: dict[str, list[str]] = {}
    name = _text(who, "name", who_errors, max_length=300)
    handle = _text(who, "handle", who_errors, max_length=300)
    email = _text(who, "email", who_errors, max_length=254).lower()
    phone = _text(who, "phone", who_errors, max_length=50)
    errors.update({f"from.{k}": v for k, v in who_errors.items()})
    try:
        validate_email(email) if email else None
    except ValidationError:
        email = ""
    try:
        phone = normalize_phone(phone) if phone else ""
    except ValidationError:
        phone = ""
    files = _files(data.get("attachments"), errors)
    if not text and not files and "text" not in errors:
        errors["text"] = [_("Le texte est obligatoire quand le message n'a pas de pièce jointe.")]
    sent_at = None
    if data.get("sent_at") not in (None, ""):
        raw = data["sent_at"]
        try:
            sent_at = parse_datetime(raw) if isinstance(raw, str) else None
        except ValueError:  # well formed but impossible: 30 February
            sent_at = None
        if sent_at is None:
            errors["sent_at"] = [_("Date ISO 8601 attendue, par exemple 2026-03-01T14:30:00Z.")]
        elif timezone.is_naive(sent_at):
            errors["sent_at"] = [_("Précisez le fuseau horaire (Z ou +01:00).")]
    if errors:
        raise ValidationError(errors)
    first, _space, last = name.partition(" ")
    sender = inbound.Sender(
        email=email,
        phone=phone,
        first_name=first if last else "",
        last_name=last.strip() if last else first,
    )
    return IncomingHookMessage(
        external_id=external_id,
        text=text,
        thread=thread,
        reference=reference,
        sender=sender,
        name=name,
        handle=handle,
        files=files,
        sent_at=sent_at,
    )


def _files(raw: Any, errors: dict) -> tuple[inbound.IncomingFile, ...]:
    if raw in (None, []):
        return ()
    if not isinstance(raw, list):
        errors["attachments"] = [_("Une liste est attendue.")]
        return ()
    if len(raw) > MAX_ATTACHMENTS:
        errors["attachments"] = [_("%(n)s pièces jointes au plus.") % {"n": MAX_ATTACHMENTS}]
        return ()
    files = []
    for position, item in enumerate(raw):
        key = f"attachments[{position}]"
        if not isinstance(item, dict):
            errors[key] = [_("Un objet est attendu : filename, content_base64.")]
            continue
        filename = item.get("filename")
        content = item.get("content_base64")
        if not isinstance(filename, str) or not filename.strip():
            errors[f"{key}.filename"] = [_("Le nom du fichier est obligatoire.")]
            continue
        try:
            data = base64.b64decode(content, validate=True) if isinstance(content, str) else None
        except (binascii.Error, ValueError):
            data = None
        if data is None:
            errors[f"{key}.content_base64"] = [_("Contenu en base64 attendu.")]
            continue
        files.append(inbound.IncomingFile(filename=filename.strip()[:255], content=data))
    return tuple(files)


def _answer(row: HookMessage, *, duplicate: bool) -> Answer:
    return Answer(
        status=row.outcome,
        dossier=row.dossier.reference if row.dossier_id else None,
        duplicate=duplicate,
    )


def _subject(hook: HookChannel, incoming: IncomingHookMessage) -> str:
    who = incoming.name or incoming.handle
    if who:
        return _("Message reçu par « %(c)s » de %(w)s") % {"c": hook.name, "w": who}
    return _("Message reçu par « %(c)s »") % {"c": hook.name}


@transaction.atomic
def receive_message(
    *, hook: HookChannel, incoming: IncomingHookMessage, payload: dict[str, Any]
) -> Answer:
    """Records a message from the channel's connector: it joins the dossier its reference names
    (in this collectivité only), else the dossier of its thread on this channel, else opens a new
    one. A message the démarche refuses is kept in quarantine. The same message id again gives
    the first answer, marked duplicate, and changes nothing."""
    # One message at a time per channel: two deliveries of one id (a connector's retry racing
    # its first try) or two messages of one new thread cannot make two rows or two dossiers.
    hook = (
        HookChannel.objects.select_for_update(of=("self",))
        .select_related("collectivite", "demarche")
        .get(pk=hook.pk)
    )
    existing = (
        HookMessage.objects.filter(channel=hook, external_id=incoming.external_id)
        .select_related("dossier")
        .first()
    )
    if existing is not None:
        return _answer(existing, duplicate=True)
    dossier = None
    if incoming.reference:
        dossier = inbound.find_dossier_by_reference(hook.collectivite, incoming.reference)
    if dossier is None and incoming.thread:
        previous = (
            HookMessage.objects.filter(
                channel=hook, thread_id=incoming.thread, dossier__isnull=False
            )
            .select_related("dossier")
            .order_by("-received_at", "-id")
            .first()
        )
        dossier = previous.dossier if previous is not None else None
    row = HookMessage(
        channel=hook,
        external_id=incoming.external_id,
        thread_id=incoming.thread,
        payload=payload,
    )
    received_at = min(incoming.sent_at, timezone.now()) if incoming.sent_at else None
    try:
        with transaction.atomic():  # a refusal leaves nothing half-written, the row stays
            if dossier is not None:
                message = inbound.append_message(
                    dossier=dossier,
                    channel=Channel.SOCIAL,
                    body=incoming.text,
                    files=incoming.files,
                    received_at=received_at,
                )
                row.outcome = HookMessage.Outcome.THREADED
            else:
                dossier, message = inbound.open_dossier(
                    collectivite=hook.collectivite,
                    demarche=hook.demarche,
                    channel=Channel.SOCIAL,
                    sender=incoming.sender,
                    subject=_subject(hook, incoming),
                    body=incoming.text,
                    files=incoming.files,
                    received_at=received_at,
                )
                row.outcome = HookMessage.Outcome.OPENED
    except ValidationError as refusal:
        row.outcome = HookMessage.Outcome.QUARANTINED
        row.detail = " ".join(refusal.messages)
        dossier = message = None
    row.dossier = dossier
    row.usager_id = dossier.usager_id if dossier is not None else None
    row.message = message
    row.save()
    record_event(
        action="hook_message.received",
        obj=row,
        actor=None,
        channel=Channel.SOCIAL,
        collectivite_id=hook.collectivite_id,
        payload={
            "channel": hook.pk,
            "external_id": row.external_id,
            "outcome": row.outcome,
            "dossier": row.dossier_id,
            "detail": row.detail,
        },
    )
    return _answer(row, duplicate=False)


# --- Out ------------------------------------------------------------------------------------


def _last_hook_message(dossier_id: int) -> HookMessage | None:
    return (
        HookMessage.objects.filter(dossier_id=dossier_id)
        .select_related("channel")
        .order_by("-received_at", "-id")
        .first()
    )


@transaction.atomic
def queue_reply(message: Message) -> HookDelivery | None:
    """Called in the transaction that records an agent's reply: when the citizen last wrote
    through a channel whose connector takes replies, the reply is sent there too (after
    commit, by the worker). None when there is nothing to send it through."""
    if message.direction != Message.Direction.OUT:
        return None
    last = _last_hook_message(message.dossier_id)
    if last is None or not last.channel.is_active or not last.channel.outbound_url:
        return None
    delivery, created = HookDelivery.objects.get_or_create(
        message=message, defaults={"channel": last.channel}
    )
    if created:
        transaction.on_commit(lambda: tasks.deliver_reply.defer(delivery_id=delivery.pk))
    return delivery


def reply_body(delivery: HookDelivery) -> bytes:
    """What the connector receives; the same "id" on every try, so that it can ignore a
    retried delivery it already has."""
    message = delivery.message
    dossier = message.dossier
    last = _last_hook_message(dossier.pk)
    names = [
        link.attachment.original_name
        for link in message.attachment_links.select_related("attachment").order_by("id")
    ]
    return json.dumps(
        {
            "id": f"grc-{message.pk}",
            "thread": last.thread_id if last is not None else "",
            "reference": dossier.reference,
            "text": message.body,
            "attachments": [{"filename": name} for name in names],
            "in_reply_to": last.external_id if last is not None else None,
            "sent_at": message.created_at.isoformat(),
        },
        ensure_ascii=False,
    ).encode()


def deliver_reply(delivery_id: int) -> None:
    """The job: one POST to the connector. 2xx: sent. A refusal (4xx but 408/429, a redirect,
    an internal address): failed at once. Otherwise (5xx, timeout, network): raised for a retry
    with backoff, until MAX_ATTEMPTS; the last failure is written on the dossier for the
    agents."""
    delivery = (
        HookDelivery.objects.select_related("channel", "message__dossier")
        .filter(pk=delivery_id, status=HookDelivery.Status.PENDING)
        .first()
    )
    if delivery is None:
        return  # sent or failed already
    hook = delivery.channel
    body = reply_body(delivery)
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked by URLField (http/s)
        hook.outbound_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "GRC-webhook/1",
            **signing.signed_headers(hook.secret, body),
        },
    )
    try:
        _refuse_internal_address(hook.outbound_url)
        with _NO_REDIRECTS.open(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except Failed as error:
        _fail(delivery, str(error))
        return
    except Retry as error:
        _try_again(delivery, str(error))
    except urllib.error.HTTPError as error:
        if 300 <= error.code < 400 or (400 <= error.code < 500 and error.code not in (408, 429)):
            _fail(delivery, _("le connecteur a refusé l'envoi (HTTP %(c)s)") % {"c": error.code})
            return
        _try_again(delivery, f"HTTP {error.code}")
    except (urllib.error.URLError, OSError) as error:  # refused, timed out, DNS
        _try_again(delivery, f"{type(error).__name__}: {error}")
    else:
        HookDelivery.objects.filter(pk=delivery.pk).update(
            status=HookDelivery.Status.SENT,
            attempts=delivery.attempts + 1,
            last_error="",
            sent_at=timezone.now(),
        )
        logger.info("hook delivery %s: HTTP %s", delivery.pk, status)


class DeliveryRetry(Exception):
    """Raised by the job so that procrastinate tries again later."""


def _try_again(delivery: HookDelivery, error: str) -> None:
    if delivery.attempts + 1 >= MAX_ATTEMPTS:
        _fail(delivery, error)
        return
    HookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=delivery.attempts + 1, last_error=error[:2000]
    )
    raise DeliveryRetry(error)


@transaction.atomic
def _fail(delivery: HookDelivery, error: str) -> None:
    locked = HookDelivery.objects.select_for_update().get(pk=delivery.pk)
    if locked.status != HookDelivery.Status.PENDING:
        return
    locked.status = HookDelivery.Status.FAILED
    locked.attempts += 1
    locked.last_error = error[:2000]
    locked.save(update_fields=["status", "attempts", "last_error"])
    dossier = delivery.message.dossier
    Message.objects.create(
        dossier=dossier,
        direction=Message.Direction.NOTE,
        channel=Channel.SYSTEM,
        body=_(
            "La réponse du %(d)s n'a pas pu être transmise à l'usager par le canal « %(c)s » "
            "(%(e)s). Elle reste visible dans son espace et lui est envoyée par e-mail quand son "
            "adresse est connue."
        )
        % {
            "d": timezone.localtime(delivery.message.created_at).strftime("%d/%m/%Y %H:%M"),
            "c": delivery.channel.name,
            "e": error,
        },
    )
    record_event(
        action="hook_delivery.failed",
        obj=locked,
        actor=None,
        channel=Channel.SYSTEM,
        collectivite_id=dossier.collectivite_id,
        payload={"message": delivery.message_id, "error": error[:500]},
    )
    refresh_search([dossier.pk])
    # The citizen is still told: by e-mail, as any reply that no connector takes.
    notifications.message_posted(delivery.message)
