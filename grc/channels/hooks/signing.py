"""The signature of the webhooks, both ways: HMAC-SHA256 of "<timestamp>.<raw body>" keyed by
the channel's secret, sent as `X-GRC-Timestamp` (unix seconds) and `X-GRC-Signature:
sha256=<hex>`. Signing the timestamp with the body lets the receiver refuse a captured request
played again later (a replay), beyond the tolerance."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from django.utils.translation import gettext as _

TIMESTAMP_HEADER = "X-GRC-Timestamp"
SIGNATURE_HEADER = "X-GRC-Signature"
TOLERANCE_SECONDS = 5 * 60
MIN_SECRET_LENGTH = 16


class BadSignature(Exception):
    """The request is not proven to come from the channel's connector (the message says why)."""


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def signed_headers(secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature(secret, timestamp, body)}


def verify(
    secret: str,
    *,
    timestamp: str | None,
    given: str | None,
    body: bytes,
    now: float | None = None,
) -> None:
    """Raises BadSignature unless `given` is the signature of `body` at `timestamp` and the
    timestamp is within TOLERANCE_SECONDS of now."""
    if not timestamp or not given:
        raise BadSignature(
            _("Signature absente : les en-têtes %(t)s et %(s)s sont obligatoires.")
            % {"t": TIMESTAMP_HEADER, "s": SIGNATURE_HEADER}
        )
    timestamp = timestamp.strip()
    try:
        moment = int(timestamp)
    except ValueError:
        raise BadSignature(
            _("L'en-tête %(t)s doit être une date en secondes depuis 1970 (heure Unix).")
            % {"t": TIMESTAMP_HEADER}
        ) from None
    # Compared in constant time whatever the result, so that timing tells nothing of the key.
    if not hmac.compare_digest(signature(secret, timestamp, body).encode(), given.strip().encode()):
        raise BadSignature(_("Signature invalide."))
    if abs((time.time() if now is None else now) - moment) > TOLERANCE_SECONDS:
        raise BadSignature(
            _(
                "Horodatage trop éloigné de l'heure actuelle (plus de %(m)s minutes) : requête "
                "refusée comme rejeu possible."
            )
            % {"m": TOLERANCE_SECONDS // 60}
        )
