"""The OpenID Connect client for FranceConnect: discovery, the authorization address, the code
exchange (client_secret_post), and the verification of the signed ID token and of the signed
userinfo against the provider's published keys.

Every failure (provider unreachable, bad answer, bad signature, wrong issuer, audience or nonce)
raises `FranceConnectError`, whose `reason` is for the logs and whose message is for the
person. Only the standard library speaks HTTP here; PyJWT checks the signatures.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen

import jwt
from django.conf import settings
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

SCOPES = (
    "openid given_name family_name birthdate birthplace birthcountry gender email "
    "preferred_username"
)
# FranceConnect v2 signs with one of these; anything else (none, HS256…) is refused.
ALGORITHMS = ["RS256", "ES256"]
# The eIDAS levels FranceConnect answers with, weakest first: we ask for the first, and accept
# it or better.
ACR_LEVELS = ("eidas1", "eidas2", "eidas3")
TIMEOUT = 10  # seconds, for each call to the provider
LEEWAY = 60  # seconds of clock difference tolerated on exp / iat
DISCOVERY_TTL = 3600  # seconds


class FranceConnectError(Exception):
    """The login cannot go on. `reason` (English, no personal data) goes to the logs; the
    message is what the person reads."""

    def __init__(self, reason: str, message: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.message = message or _(
            "La connexion avec FranceConnect n'a pas abouti : par sécurité, vous n'êtes pas "
            "connecté. Recommencez, ou connectez-vous avec votre adresse e-mail et votre mot "
            "de passe."
        )


def unavailable(reason: str) -> FranceConnectError:
    return FranceConnectError(
        reason,
        _(
            "FranceConnect ne répond pas pour le moment. Réessayez dans quelques minutes, ou "
            "connectez-vous avec votre adresse e-mail et votre mot de passe."
        ),
    )


def enabled() -> bool:
    return bool(
        getattr(settings, "FRANCECONNECT_ENABLED", False)
        and settings.FRANCECONNECT_ISSUER
        and settings.FRANCECONNECT_CLIENT_ID
        and settings.FRANCECONNECT_CLIENT_SECRET
    )


@dataclass(frozen=True)
class Provider:
    """What the discovery document tells about the provider."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    end_session_endpoint: str


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str
    claims: dict[str, Any]  # the verified ID token's


_lock = threading.Lock()
_providers: dict[str, tuple[float, Provider]] = {}
_key_sets: dict[str, jwt.PyJWKClient] = {}


def _http(url: str, *, data: dict[str, str] | None = None, headers: dict | None = None):
    """(content type, body) of a GET, or of a form POST when `data` is given."""
    if urlsplit(url).scheme not in {"http", "https"}:
        raise FranceConnectError(f"refused non-HTTP address {url!r}")
    body = urlencode(data).encode() if data is not None else None
    request = Request(  # noqa: S310 (the scheme is checked above)
        url, data=body, headers={"Accept": "application/json", **(headers or {})}
    )
    if body is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 (checked above)
            content_type = response.headers.get_content_type()
            return content_type, response.read(1_000_000)
    except HTTPError as error:
        detail = error.read(2000).decode("utf-8", "replace")
        raise FranceConnectError(f"{url} answered HTTP {error.code}: {detail}") from error
    except (URLError, TimeoutError, OSError) as error:
        raise unavailable(f"{url} unreachable: {error}") from error


def _json(content: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(content)
    except ValueError as error:
        raise FranceConnectError(f"{what}: not JSON") from error
    if not isinstance(value, dict):
        raise FranceConnectError(f"{what}: not a JSON object")
    return value


def provider() -> Provider:
    """The provider's endpoints, from its discovery document (kept for an hour)."""
    issuer = settings.FRANCECONNECT_ISSUER.rstrip("/")
    now = time.monotonic()
    with _lock:
        cached = _providers.get(issuer)
    if cached and now - cached[0] < DISCOVERY_TTL:
        return cached[1]
    _type, content = _http(f"{issuer}/.well-known/openid-configuration")
    document = _json(content, "discovery")
    if document.get("issuer", "").rstrip("/") != issuer:
        raise FranceConnectError(f"discovery names issuer {document.get('issuer')!r}")
    try:
        found = Provider(
            issuer=document["issuer"],
            authorization_endpoint=document["authorization_endpoint"],
            token_endpoint=document["token_endpoint"],
            userinfo_endpoint=document["userinfo_endpoint"],
            jwks_uri=document["jwks_uri"],
            end_session_endpoint=document.get("end_session_endpoint", ""),
        )
    except KeyError as error:
        raise FranceConnectError(f"discovery lacks {error}") from error
    for name, address in vars(found).items():
        if address and urlsplit(address).scheme not in {"http", "https"}:
            raise FranceConnectError(f"discovery: {name} is not an HTTP address")
    with _lock:
        _providers[issuer] = (now, found)
    return found


def authorization_url(*, redirect_uri: str, state: str, nonce: str) -> str:
    endpoint = provider().authorization_endpoint
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.FRANCECONNECT_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
            "state": state,
            "nonce": nonce,
            "acr_values": ACR_LEVELS[0],
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def logout_url(*, id_token: str, post_logout_redirect_uri: str, state: str) -> str:
    """FranceConnect's end of session, coming back to `post_logout_redirect_uri`."""
    endpoint = provider().end_session_endpoint
    if not endpoint:
        raise FranceConnectError("the provider has no end_session_endpoint")
    query = urlencode(
        {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": post_logout_redirect_uri,
            "state": state,
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def _key_set(uri: str) -> jwt.PyJWKClient:
    with _lock:
        if uri not in _key_sets:
            # Keys are kept five minutes; an unknown `kid` fetches them again (key rotation).
            _key_sets[uri] = jwt.PyJWKClient(uri, cache_keys=True, lifespan=300, timeout=TIMEOUT)
        return _key_sets[uri]


def verify_jwt(token: str, *, what: str, require: list[str]) -> dict[str, Any]:
    """The claims of `token` once its signature (by the provider's published keys), issuer,
    audience and dates are checked."""
    found = provider()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as error:
        raise FranceConnectError(f"{what}: malformed ({error})") from error
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise FranceConnectError(f"{what}: algorithm {algorithm!r} refused")
    try:
        key = _key_set(found.jwks_uri).get_signing_key_from_jwt(token)
    except jwt.PyJWKClientConnectionError as error:
        raise unavailable(f"{what}: keys unreachable ({error})") from error
    except (jwt.PyJWKClientError, jwt.InvalidTokenError) as error:
        raise FranceConnectError(f"{what}: no matching key ({error})") from error
    if key.algorithm_name != algorithm:
        raise FranceConnectError(f"{what}: key for {key.algorithm_name}, token says {algorithm}")
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[algorithm],
            audience=settings.FRANCECONNECT_CLIENT_ID,
            issuer=found.issuer,
            leeway=LEEWAY,
            options={"require": require},
        )
    except jwt.InvalidTokenError as error:
        raise FranceConnectError(f"{what}: {error}") from error
    audience = claims.get("aud")
    if (
        isinstance(audience, list)
        and len(audience) > 1
        and claims.get("azp") != settings.FRANCECONNECT_CLIENT_ID
    ):
        raise FranceConnectError(f"{what}: several audiences and azp is not ours")
    return claims


def exchange_code(*, code: str, redirect_uri: str, nonce: str) -> Tokens:
    """Trade the authorization code for the tokens; the ID token is verified, its nonce too."""
    _type, content = _http(
        provider().token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": settings.FRANCECONNECT_CLIENT_ID,
            "client_secret": settings.FRANCECONNECT_CLIENT_SECRET,
        },
    )
    answer = _json(content, "token endpoint")
    id_token, access_token = answer.get("id_token"), answer.get("access_token")
    if not (isinstance(id_token, str) and isinstance(access_token, str)):
        raise FranceConnectError("token endpoint: no id_token or access_token")
    if str(answer.get("token_type", "")).lower() != "bearer":
        raise FranceConnectError(f"token endpoint: token_type {answer.get('token_type')!r}")
    claims = verify_jwt(
        id_token, what="ID token", require=["iss", "aud", "exp", "iat", "sub", "nonce"]
    )
    if not hmac.compare_digest(str(claims["nonce"]), nonce):
        raise FranceConnectError("ID token: nonce mismatch")
    if claims.get("acr") not in ACR_LEVELS:
        raise FranceConnectError(f"ID token: acr {claims.get('acr')!r} below {ACR_LEVELS[0]}")
    return Tokens(id_token=id_token, access_token=access_token, claims=claims)


def fetch_userinfo(*, tokens: Tokens) -> dict[str, Any]:
    """The person's claims, from the signed userinfo (application/jwt) of the same `sub`."""
    content_type, content = _http(
        provider().userinfo_endpoint,
        headers={
            "Authorization": f"Bearer {tokens.access_token}",
            "Accept": "application/jwt",
        },
    )
    if content_type != "application/jwt":
        # FranceConnect v2 always signs it: a plain answer is not the provider's word.
        raise FranceConnectError(f"userinfo: {content_type} instead of a signed application/jwt")
    claims = verify_jwt(
        content.decode("ascii", "replace").strip(), what="userinfo", require=["iss", "aud", "sub"]
    )
    if claims["sub"] != tokens.claims["sub"]:
        raise FranceConnectError("userinfo: sub differs from the ID token's")
    return claims


def forget_cached_provider() -> None:
    """Drop what discovery and the key sets taught (tests, a change of settings)."""
    with _lock:
        _providers.clear()
        _key_sets.clear()
