"""Two-factor authentication of staff (django-otp): one authenticator app (TOTP) per person,
confirmed with a code before it counts, and backup codes (a static device) that each work
once. Every change, and every wrong code, is in the audit trail of the collectivités where
the person works."""

from __future__ import annotations

import base64
import math
import re
from urllib.parse import quote, urlencode

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from grc.base.audit import record_event
from grc.base.models import Channel, Membership, User

ISSUER = "GRC"
APP_NAME = "Application d'authentification"
BACKUP_NAME = "Codes de secours"
BACKUP_CODES = 10
_SPACES = re.compile(r"[\s\-]")


def _audit(*, action: str, actor: User, obj, payload: dict | None = None) -> None:
    collectivite_ids = sorted(
        set(Membership.objects.filter(user=actor).values_list("collectivite_id", flat=True))
    ) or [None]
    for collectivite_id in collectivite_ids:
        record_event(
            action=action,
            obj=obj,
            actor=actor,
            channel=Channel.WEB,
            collectivite_id=collectivite_id,
            payload=payload,
        )


def confirmed_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def backup_device(user: User) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).first()


def two_factor_state(user: User) -> tuple[bool, bool]:
    """(has a confirmed device, must have one): one query, for every backoffice request."""
    state = (
        User.objects.filter(pk=user.pk)
        .annotate(
            has_totp=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
            has_static=Exists(StaticDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
            required=Exists(
                Membership.objects.filter(
                    user=OuterRef("pk"),
                    collectivite__is_active=True,
                    collectivite__staff_2fa_required=True,
                )
            ),
        )
        .values("has_totp", "has_static", "required")
        .first()
    )
    if state is None:
        return False, False
    return state["has_totp"] or state["has_static"], state["required"]


def provisioning_uri(device: TOTPDevice) -> str:
    """What the authenticator app reads from the QR code (Key URI format)."""
    secret = secret_text(device)
    label = quote(f"{ISSUER}:{device.user.email}")
    query = urlencode(
        {"secret": secret, "issuer": ISSUER, "digits": device.digits, "period": device.step}
    )
    return f"otpauth://totp/{label}?{query}"


def secret_text(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


@transaction.atomic
def start_totp_enrolment(*, actor: User) -> TOTPDevice:
    """A new secret, not counted until confirmed with a code (confirm_totp_device)."""
    TOTPDevice.objects.filter(user=actor, confirmed=False).delete()
    return TOTPDevice.objects.create(user=actor, name=APP_NAME, confirmed=False)


def _clean(token: str) -> str:
    return _SPACES.sub("", token or "").lower()


@transaction.atomic
def confirm_totp_device(*, actor: User, token: str) -> TOTPDevice:
    """Activate the pending app with a code it shows; the previous app (if any) stops counting."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=actor, confirmed=False)
        .order_by("-pk")
        .first()
    )
    if device is None:
        raise ValidationError(_("Commencez par ajouter une application."))
    token = _clean(token)
    if not (token.isdigit() and device.verify_token(token)):
        _audit(action="otp.verification_failed", actor=actor, obj=device, payload={"at": "enrol"})
        raise ValidationError(_("Ce code n'est pas le bon. Vérifiez l'heure de votre téléphone."))
    TOTPDevice.objects.filter(user=actor, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    _audit(action="otp.device_added", actor=actor, obj=device, payload={"kind": "totp"})
    return device


@transaction.atomic
def generate_backup_codes(*, actor: User) -> list[str]:
    """New backup codes (the previous ones stop working), shown once."""
    if confirmed_totp(actor) is None:
        raise ValidationError(_("Ajoutez d'abord une application d'authentification."))
    device, _created = StaticDevice.objects.select_for_update().get_or_create(
        user=actor, defaults={"name": BACKUP_NAME, "confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    _audit(action="otp.device_added", actor=actor, obj=device, payload={"kind": "backup_codes"})
    return codes


@transaction.atomic
def remove_two_factor(*, actor: User) -> None:
    """Remove the app and the backup codes."""
    devices = [*TOTPDevice.objects.filter(user=actor), *StaticDevice.objects.filter(user=actor)]
    for device in devices:
        if device.confirmed:
            kind = "totp" if isinstance(device, TOTPDevice) else "backup_codes"
            _audit(action="otp.device_removed", actor=actor, obj=device, payload={"kind": kind})
        device.delete()


class TooSoon(Exception):
    """django-otp refuses to check a code so soon after a wrong one (the wait doubles with each
    failure): the agent must be told to wait, not that a right code is wrong."""

    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds


@transaction.atomic
def verify_code(*, actor: User, token: str) -> TOTPDevice | StaticDevice | None:
    """The device that accepts this code (a backup code is used up), or None (audited).
    Raises TooSoon while the device is throttled after failures."""
    token = _clean(token)
    devices: list = []
    if token.isdigit():
        devices = list(TOTPDevice.objects.select_for_update().filter(user=actor, confirmed=True))
    elif token:
        devices = list(StaticDevice.objects.select_for_update().filter(user=actor, confirmed=True))
    for device in devices:
        allowed, why = device.verify_is_allowed()
        if not allowed and why and why.get("locked_until"):
            wait = (why["locked_until"] - timezone.now()).total_seconds()
            raise TooSoon(max(1, math.ceil(wait)))
        if device.verify_token(token):  # throttled by django-otp after failures
            return device
    target = devices[0] if devices else actor
    _audit(action="otp.verification_failed", actor=actor, obj=target, payload={"at": "login"})
    return None
