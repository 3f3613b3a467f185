"""How an SMS leaves: a provider behind a small interface. The generic HTTP provider speaks
a JSON protocol any gateway (or a small adapter in front of a commercial one) can implement:

    POST <url>   Authorization: Bearer <token>   Content-Type: application/json
    {"to": "+33612345678", "text": "...", "sender": "MAIRIE", "reference": "<our id>"}
    → 2xx {"id": "<the provider's id of the message>"}

Delivery reports come back to POST /api/canaux/sms/statut (grc.channels.api.sms)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Protocol

from django.utils.translation import gettext as _

from grc.channels.models import SmsProvider as SmsProviderConfig
from grc.demarches.workflow.actions import Failed, Retry, _refuse_internal_address

TIMEOUT = 10


class ProviderRetry(Exception):
    """The provider could not take the message now (5xx, timeout, network): try again later."""


class ProviderRefused(Exception):
    """The provider refused the message (4xx, an answer without id): no retry will change it."""


class SmsProvider(Protocol):
    def send(self, *, to: str, text: str, sender: str, reference: str) -> str:
        """Hand the message over; return the provider's id of it, or raise ProviderRetry or
        ProviderRefused."""
        ...


class _Refuse3xx(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect answers as an error: it could lead anywhere


_NO_REDIRECTS = urllib.request.build_opener(_Refuse3xx)


class GenericHttpProvider:
    def __init__(self, *, url: str, token: str = "", timeout: float = TIMEOUT):
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, *, to: str, text: str, sender: str, reference: str) -> str:
        try:
            _refuse_internal_address(self.url)
        except Retry as error:
            raise ProviderRetry(str(error)) from error
        except Failed as error:
            raise ProviderRefused(
                _("l'adresse du fournisseur de SMS mène à un réseau interne : refusée")
            ) from error
        body = json.dumps(
            {"to": to, "text": text, "sender": sender, "reference": reference},
            ensure_ascii=False,
        ).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "GRC-sms/1"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        # The URL is a URLField (http or https), entered by a collectivité's admin.
        request = urllib.request.Request(self.url, data=body, method="POST", headers=headers)  # noqa: S310
        try:
            with _NO_REDIRECTS.open(request, timeout=self.timeout) as response:
                answer = response.read(65536)
        except urllib.error.HTTPError as error:
            detail = _reason(error)
            if 400 <= error.code < 500 and error.code not in (408, 429):
                raise ProviderRefused(
                    _("le fournisseur a refusé le SMS (HTTP %(c)s)%(d)s")
                    % {"c": error.code, "d": f" : {detail}" if detail else ""}
                ) from error
            if 300 <= error.code < 400:
                raise ProviderRefused(
                    _("le fournisseur répond par une redirection (HTTP %(c)s), refusée")
                    % {"c": error.code}
                ) from error
            raise ProviderRetry(f"HTTP {error.code}{f': {detail}' if detail else ''}") from error
        except (urllib.error.URLError, OSError) as error:  # refused, timed out, DNS
            raise ProviderRetry(f"{type(error).__name__}: {error}") from error
        try:
            found = json.loads(answer)
            provider_id = found.get("id") if isinstance(found, dict) else None
        except ValueError:
            provider_id = None
        if isinstance(provider_id, int) and not isinstance(provider_id, bool):
            provider_id = str(provider_id)
        if not isinstance(provider_id, str) or not provider_id.strip():
            # It may have been sent: trying again could send it twice.
            raise ProviderRefused(_("le fournisseur n'a pas donné d'identifiant du SMS"))
        return provider_id.strip()[:200]


def _reason(error: urllib.error.HTTPError) -> str:
    """The provider's words, when it gave some ({"error": ...}, or text)."""
    try:
        raw = error.read(2000)
    except OSError:
        return ""
    try:
        found = json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace").strip()[:300]
    if isinstance(found, dict):
        for key in ("error", "message", "detail", "reason"):
            if isinstance(found.get(key), str):
                return found[key][:300]
    return ""


def provider_for(config: SmsProviderConfig) -> SmsProvider:
    if config.kind == SmsProviderConfig.Kind.GENERIC_HTTP:
        return GenericHttpProvider(url=config.url, token=config.token or "")
    raise ProviderRefused(_("type de fournisseur de SMS inconnu : %(k)s") % {"k": config.kind})
