"""FranceConnect's pages: the start of a login, the return from FranceConnect, linking an
existing account, and the logout through FranceConnect.

Nothing that comes back from FranceConnect is trusted before it is checked (state, signed ID
token with its nonce, signed userinfo); any failure leaves the person logged out, on the login
page, with a French message saying what to do, never a 500.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from grc.portal.accounts.branding import portal_collectivite
from grc.portal.franceconnect import client, services
from grc.portal.franceconnect.client import FranceConnectError

logger = logging.getLogger(__name__)

FLOW = "franceconnect_flow"  # state, nonce, redirect URI and where to go next
ID_TOKEN = "franceconnect_id_token"  # noqa: S105 (a session key: opened through FranceConnect)
PENDING = "franceconnect_pending"  # an identity waiting for its account owner's password
LOGOUT_STATE = "franceconnect_logout_state"
PENDING_TTL = 15 * 60  # seconds


def _enabled(view):
    def wrapped(request, *args, **kwargs):
        if not client.enabled():
            raise Http404
        return view(request, *args, **kwargs)

    wrapped.__name__, wrapped.__doc__ = view.__name__, view.__doc__
    return wrapped


def _safe_next(request, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def _refuse(request, message: str):
    messages.error(request, message)
    return redirect("account_login")


@require_POST
@_enabled
def start(request):
    """The FranceConnect button: off to FranceConnect with a fresh state and nonce."""
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    redirect_uri = request.build_absolute_uri(reverse("franceconnect_callback"))
    try:
        url = client.authorization_url(redirect_uri=redirect_uri, state=state, nonce=nonce)
    except FranceConnectError as error:
        logger.warning("FranceConnect start refused: %s", error.reason)
        return _refuse(request, error.message)
    request.session[FLOW] = {
        "state": state,
        "nonce": nonce,
        "redirect_uri": redirect_uri,
        "next": _safe_next(request, request.POST.get("next", "")),
    }
    return HttpResponseRedirect(url)


@require_GET
@_enabled
def callback(request):
    """FranceConnect sends the person back here with a code (or an error) and our state."""
    flow = request.session.pop(FLOW, None)
    error = request.GET.get("error", "")
    if error:
        logger.info("FranceConnect answered error=%s", error[:100])
        if error == "access_denied":
            return _refuse(
                request,
                _(
                    "Vous avez annulé la connexion avec FranceConnect. Vous pouvez recommencer, "
                    "ou vous connecter avec votre adresse e-mail et votre mot de passe."
                ),
            )
        return _refuse(request, FranceConnectError(f"error={error}").message)
    state = request.GET.get("state", "")
    if not flow or not state or not hmac.compare_digest(state, flow["state"]):
        logger.warning("FranceConnect return with an unknown state")
        return _refuse(
            request,
            _(
                "Votre connexion avec FranceConnect a expiré ou n'a pas pu être vérifiée. "
                "Recommencez, s'il vous plaît."
            ),
        )
    try:
        # RFC 9207: the answer names its issuer; a mix-up with another provider is refused.
        issuer = request.GET.get("iss")
        if issuer is not None and issuer != client.provider().issuer:
            raise FranceConnectError(f"authorization response from issuer {issuer!r}")
        code = request.GET.get("code", "")
        if not code:
            raise FranceConnectError("authorization response without a code")
        tokens = client.exchange_code(
            code=code, redirect_uri=flow["redirect_uri"], nonce=flow["nonce"]
        )
        claims = client.fetch_userinfo(tokens=tokens)
    except FranceConnectError as failure:
        logger.warning("FranceConnect login refused: %s", failure.reason)
        return _refuse(request, failure.message)

    sub = tokens.claims["sub"]
    pending = {
        "sub": sub,
        "claims": services.pivot_from(claims),
        "id_token": tokens.id_token,
        "next": flow["next"],
        "at": time.time(),
    }
    if request.user.is_authenticated:
        # Logged in already: the person may link this identity to their account.
        request.session[PENDING] = pending
        return redirect("franceconnect_link")
    try:
        outcome = services.login_with_franceconnect(sub=sub, claims=claims)
    except ValidationError as refusal:
        return _refuse(request, " ".join(refusal.messages))
    if outcome.existing_email:
        # Never linked silently: whoever controls this FranceConnect identity is not yet known
        # to own the account. Its owner logs in with their password once, then confirms.
        request.session[PENDING] = pending
        messages.info(
            request,
            _(
                "Un compte existe déjà avec l'adresse %(email)s. Connectez-vous une fois avec "
                "son mot de passe pour le relier à FranceConnect ; ensuite, FranceConnect "
                "suffira. Mot de passe oublié ? Utilisez « Mot de passe oublié »."
            )
            % {"email": outcome.existing_email},
        )
        return redirect(f"{reverse('account_login')}?next={reverse('franceconnect_link')}")
    user = outcome.user
    if not user.is_active:
        return _refuse(request, _("Ce compte est désactivé : contactez votre mairie."))
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[ID_TOKEN] = tokens.id_token
    messages.success(
        request,
        _("Vous êtes connecté avec FranceConnect, %(name)s.") % {"name": user.get_full_name()},
    )
    return redirect(flow["next"] or settings.LOGIN_REDIRECT_URL)


def _pending(request) -> dict | None:
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_TTL:
        request.session.pop(PENDING, None)
        return None
    return pending


@require_http_methods(["GET", "POST"])
@_enabled
@login_required
def link(request):
    """After a password login: link the FranceConnect identity to this account, or not."""
    pending = _pending(request)
    if pending is None:
        messages.info(
            request, _("Aucune identité FranceConnect n'attend d'être reliée à votre compte.")
        )
        return redirect(settings.LOGIN_REDIRECT_URL)
    if request.method == "POST":
        request.session.pop(PENDING, None)
        if request.POST.get("choice") != "link":
            messages.info(request, _("Votre compte n'a pas été relié à FranceConnect."))
            return redirect(settings.LOGIN_REDIRECT_URL)
        try:
            services.link_identity(actor=request.user, sub=pending["sub"], claims=pending["claims"])
        except ValidationError as refusal:
            messages.error(request, " ".join(refusal.messages))
            return redirect(settings.LOGIN_REDIRECT_URL)
        request.session[ID_TOKEN] = pending["id_token"]
        messages.success(
            request,
            _(
                "Votre compte est relié à FranceConnect : la prochaine fois, le bouton "
                "FranceConnect suffira."
            ),
        )
        return redirect(pending["next"] or settings.LOGIN_REDIRECT_URL)
    claims = pending["claims"]
    return render(
        request,
        "portal/franceconnect/link.html",
        {
            "person": f"{claims['given_name']} {claims['family_name']}".strip(),
            "collectivite": portal_collectivite(request),
        },
    )


@require_POST
def logout(request):
    """Log out here, then at FranceConnect when the session was opened through it."""
    id_token = request.session.get(ID_TOKEN)
    adapter = get_adapter(request)
    adapter.logout(request)
    done = adapter.get_logout_redirect_url(request)
    if not (id_token and client.enabled()):
        return redirect(done)
    state = secrets.token_urlsafe(32)
    try:
        url = client.logout_url(
            id_token=id_token,
            post_logout_redirect_uri=request.build_absolute_uri(
                reverse("franceconnect_logout_done")
            ),
            state=state,
        )
    except FranceConnectError as error:
        logger.warning("FranceConnect logout not reached: %s", error.reason)
        messages.warning(
            request,
            _(
                "Vous êtes déconnecté de ce site, mais FranceConnect n'a pas pu être prévenu : "
                "fermez votre navigateur pour terminer aussi votre session FranceConnect."
            ),
        )
        return redirect(done)
    request.session[LOGOUT_STATE] = state
    return HttpResponseRedirect(url)


@require_GET
def logout_done(request):
    """FranceConnect's logout comes back here."""
    expected = request.session.pop(LOGOUT_STATE, "")
    state = request.GET.get("state", "")
    if expected and state and hmac.compare_digest(state, expected):
        messages.success(request, _("Vous êtes déconnecté de ce site et de FranceConnect."))
    return redirect(get_adapter(request).get_logout_redirect_url(request))
