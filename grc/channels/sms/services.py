"""Sending SMS to citizens and following their delivery.

Consent: a citizen agrees to be reached by SMS by choosing it as their preferred channel
(Usager.preferred_channel == "sms", set from their account's profile or by an agent at their
request). Without that choice, without a mobile number on their record, or without an active
provider for the collectivité, nothing is sent: send_sms refuses with the reason."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grc.base import access
from grc.base.audit import apply_changes, record_event
from grc.base.models import Channel, Usager, User
from grc.base.templatetags.grc_format import phone as phone_shown
from grc.channels.models import SmsMessage, SmsProvider
from grc.channels.sms.providers import ProviderRefused, ProviderRetry, provider_for
from grc.demarches import access as demarche_access
from grc.demarches.models import ActionRun, Dossier, Message
from grc.demarches.search import refresh_search

logger = logging.getLogger(__name__)

MAX_LENGTH = 1000  # about 7 concatenated SMS
MAX_ATTEMPTS = 6  # with procrastinate's exponential wait of 3: about 20 minutes in all


def mobile_number(usager: Usager) -> str:
    """The record's first mobile number (E.164), or ""."""
    mobile = {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
    for number in usager.phones or []:
        try:
            parsed = phonenumbers.parse(number, None)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.number_type(parsed) in mobile:
            return number
    return ""


def active_provider(collectivite_id: int) -> SmsProvider | None:
    return SmsProvider.objects.filter(collectivite_id=collectivite_id, is_active=True).first()


def _check_actor(actor, *, dossier: Dossier | None, usager: Usager) -> None:
    """An agent sends about a dossier of their service, or to a record of their collectivité;
    no actor is the platform itself (a workflow's action)."""
    if actor is None:
        return
    if dossier is not None:
        if not demarche_access.works_on_service(actor, dossier):
            raise access.NotFound
        return
    if not access.works_in(actor, usager.collectivite_id):
        raise access.NotFound


@transaction.atomic
def send_sms(
    *,
    dossier: Dossier | None = None,
    usager: Usager | None = None,
    body: str,
    actor: User | None = None,
    action_run: ActionRun | None = None,
) -> SmsMessage:
    """Queue an SMS to the citizen (the dossier's record by default): recorded as a message of
    the dossier sent by SMS, handed to the provider by the worker after commit. Refused with a
    ValidationError (code "no_consent", "no_mobile", "no_provider", "no_usager" or "body")."""
    if action_run is not None:
        existing = SmsMessage.objects.filter(action_run=action_run).first()
        if existing is not None:
            return existing  # the action is run again: the SMS was queued already
    if dossier is not None:
        dossier = Dossier.objects.select_for_update(of=("self",)).get(pk=dossier.pk)
        if usager is None and dossier.usager_id is not None:
            usager = Usager.objects.get(pk=dossier.usager_id)
    if usager is None:
        raise ValidationError(
            _("Aucune fiche usager : pas de numéro où envoyer un SMS."), code="no_usager"
        )
    if dossier is not None and dossier.usager_id != usager.pk:
        raise ValidationError(_("Ce dossier n'est pas celui de cet usager."), code="mismatch")
    _check_actor(actor, dossier=dossier, usager=usager)
    if usager.preferred_channel != Usager.PreferredChannel.SMS:
        raise ValidationError(
            _("L'usager n'a pas choisi d'être prévenu par SMS."), code="no_consent"
        )
    to = mobile_number(usager)
    if not to:
        raise ValidationError(
            _("La fiche de l'usager n'a pas de numéro de téléphone mobile."), code="no_mobile"
        )
    if active_provider(usager.collectivite_id) is None:
        raise ValidationError(
            _("Aucun fournisseur de SMS n'est configuré pour la collectivité."), code="no_provider"
        )
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("Écrivez le texte du SMS."), code="body")
    if len(body) > MAX_LENGTH:
        raise ValidationError(
            _("Le SMS fait %(n)d caractères : %(max)d au plus.")
            % {"n": len(body), "max": MAX_LENGTH},
            code="body",
        )
    author = actor if actor is not None and actor.is_authenticated else None
    message = None
    if dossier is not None:
        message = Message.objects.create(
            dossier=dossier,
            direction=Message.Direction.OUT,
            channel=Channel.SMS,
            author=author,
            body=body,
        )
    sms = SmsMessage.objects.create(
        collectivite_id=usager.collectivite_id,
        dossier=dossier,
        usager=usager,
        message=message,
        action_run=action_run,
        to=to,
        body=body,
    )
    record_event(
        action="sms.queued",
        obj=sms,
        actor=author,
        channel=Channel.SMS,
        collectivite_id=usager.collectivite_id,
        payload={"dossier": sms.dossier_id, "usager": usager.pk, "action_run": sms.action_run_id},
    )
    if dossier is not None:
        refresh_search([dossier.pk])
    from grc.channels.sms.tasks import deliver_sms

    transaction.on_commit(lambda: deliver_sms.defer(sms_id=sms.pk))
    return sms


def deliver(sms_id: int, *, attempt: int = 1) -> None:
    """The job: hand one queued SMS to the provider. A failure a retry can cure (5xx, timeout)
    raises ProviderRetry for the job to be retried with backoff, until the last attempt; a
    refusal (4xx), or the last attempt, fails the SMS and writes why on the dossier."""
    with transaction.atomic():
        sms = SmsMessage.objects.select_for_update().get(pk=sms_id)
        if sms.status != SmsMessage.Status.QUEUED:
            return  # sent already (a duplicate run of the job), or failed
    config = active_provider(sms.collectivite_id)
    try:
        if config is None:
            raise ProviderRefused(_("aucun fournisseur de SMS actif pour la collectivité"))
        provider_id = provider_for(config).send(
            to=sms.to, text=sms.body, sender=config.sender, reference=str(sms.pk)
        )
    except ProviderRetry as error:
        if attempt >= MAX_ATTEMPTS:
            _fail(sms, str(error), attempts=attempt)
            return
        SmsMessage.objects.filter(pk=sms.pk).update(attempts=attempt, last_error=str(error)[:2000])
        logger.warning("sms %s, attempt %s: %s", sms.pk, attempt, error)
        raise
    except ProviderRefused as error:
        _fail(sms, str(error), attempts=attempt)
        return
    with transaction.atomic():
        SmsMessage.objects.filter(pk=sms.pk).update(
            status=SmsMessage.Status.SENT,
            provider_id=provider_id,
            sent_at=timezone.now(),
            attempts=attempt,
            last_error="",
        )
        record_event(
            action="sms.sent",
            obj=sms,
            actor=None,
            channel=Channel.SMS,
            collectivite_id=sms.collectivite_id,
            payload={"provider_id": provider_id, "attempts": attempt},
        )


def _fail(sms: SmsMessage, reason: str, *, attempts: int | None = None) -> None:
    """The SMS will not arrive: marked failed, and the agents told on the dossier."""
    with transaction.atomic():
        locked = SmsMessage.objects.select_for_update().get(pk=sms.pk)
        if locked.status == SmsMessage.Status.FAILED:
            return
        locked.status = SmsMessage.Status.FAILED
        locked.last_error = reason[:2000]
        fields = ["status", "last_error"]
        if attempts is not None:
            locked.attempts = attempts
            fields.append("attempts")
        locked.save(update_fields=fields)
        if locked.dossier_id is not None:
            Message.objects.create(
                dossier_id=locked.dossier_id,
                direction=Message.Direction.NOTE,
                channel=Channel.SYSTEM,
                body=_("Le SMS à %(to)s n'a pas été remis : %(reason)s")
                % {"to": phone_shown(locked.to), "reason": reason},
            )
        record_event(
            action="sms.failed",
            obj=locked,
            actor=None,
            channel=Channel.SMS,
            collectivite_id=locked.collectivite_id,
            payload={"reason": reason[:500]},
        )


# --- Delivery reports -------------------------------------------------------------------------


class BadReport(Exception):
    """The report cannot be read (400) or names an unknown status (422)."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.status = status


class BadSignature(Exception):
    """No SMS of a provider whose secret signed this report."""


def _signature(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def record_delivery_report(*, raw: bytes, signature: str) -> SmsMessage:
    """A provider tells us what became of an SMS: {"id", "status": "delivered"|"failed",
    "error"}, signed with HMAC-SHA256 of the body under the collectivité's callback secret
    (header X-GRC-Signature: sha256=<hex>). The id names the SMS, the signature proves the
    report comes from the provider of that SMS's collectivité."""
    try:
        report = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadReport(_("Le corps de la requête n'est pas du JSON valide.")) from None
    if not isinstance(report, dict) or not isinstance(report.get("id"), (str, int)):
        raise BadReport(_("Le rapport doit être un objet JSON avec un « id »."))
    provider_id = str(report["id"]).strip()
    signature = (signature or "").strip()
    found = None
    candidates = SmsMessage.objects.filter(provider_id=provider_id).exclude(provider_id="")
    secrets = {
        p.collectivite_id: p.callback_secret
        for p in SmsProvider.objects.filter(
            collectivite_id__in=candidates.values("collectivite_id")
        )
    }
    for sms in candidates[:10]:
        secret = secrets.get(sms.collectivite_id) or ""
        if secret and hmac.compare_digest(_signature(secret, raw).encode(), signature.encode()):
            found = sms
            break
    if found is None:
        raise BadSignature
    status = report.get("status")
    if status not in ("delivered", "failed"):
        raise BadReport(
            _("Statut inconnu : « %(s)s » (attendu : delivered ou failed).") % {"s": status},
            status=422,
        )
    error = report.get("error")
    error = error.strip()[:2000] if isinstance(error, str) else ""
    if status == "failed":
        if found.status not in (SmsMessage.Status.FAILED, SmsMessage.Status.DELIVERED):
            _fail(found, error or _("échec signalé par le fournisseur"))
        found.refresh_from_db()
        return found
    with transaction.atomic():
        locked = SmsMessage.objects.select_for_update().get(pk=found.pk)
        if locked.status != SmsMessage.Status.DELIVERED:
            locked.status = SmsMessage.Status.DELIVERED
            locked.delivered_at = timezone.now()
            locked.save(update_fields=["status", "delivered_at"])
            record_event(
                action="sms.delivered",
                obj=locked,
                actor=None,
                channel=Channel.SMS,
                collectivite_id=locked.collectivite_id,
                payload={"provider_id": provider_id},
            )
    return locked


# --- The provider's settings (the admin) ------------------------------------------------------

PROVIDER_FIELDS = ("kind", "url", "token", "sender", "callback_secret", "is_active")
SECRET_FIELDS = ("token", "callback_secret")


@transaction.atomic
def save_sms_provider(
    *, actor: User, provider: SmsProvider | None, collectivite=None, data: dict[str, Any]
) -> SmsProvider:
    """Create or change a collectivité's SMS provider (its admins'). Secrets are written, never
    shown again nor written in the audit trail; an empty one keeps the current value."""
    collectivite = collectivite or (provider.collectivite if provider else None)
    if collectivite is None or not access.can_administer(actor, collectivite.pk):
        raise access.NotFound
    creating = provider is None
    if creating:
        if SmsProvider.objects.filter(collectivite=collectivite).exists():
            raise ValidationError(
                {"collectivite": [_("Cette collectivité a déjà un fournisseur de SMS.")]}
            )
        provider = SmsProvider(collectivite=collectivite)
    else:
        provider = SmsProvider.objects.select_for_update().get(pk=provider.pk)
    changes = {k: v for k, v in data.items() if k in PROVIDER_FIELDS}
    for name in SECRET_FIELDS:
        if not changes.get(name):
            changes.pop(name, None)
    diff = apply_changes(provider, changes)
    provider.full_clean()
    provider.save()
    record_event(
        action="sms_provider.created" if creating else "sms_provider.updated",
        obj=provider,
        actor=actor,
        channel=Channel.ADMIN,
        collectivite_id=collectivite.pk,
        payload={k: ("***" if k in SECRET_FIELDS else v) for k, v in diff.items()},
    )
    return provider
