"""Reaching a draft from this browser, and what happens when the session has expired.

A draft of an account reached without being logged in any more (the session expired, or the
person logged out in another tab) is not "not found": the person is asked to log in again,
and what the page was sending is kept in this browser's session, keyed by the draft, until the
owner is back. It is applied to the draft only then, through the page's usual save path."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, QueryDict
from django.utils.translation import gettext as _

from grc.demarches import access
from grc.demarches.models import Dossier
from grc.portal.filing.pages import PageFlow

STASH_PREFIX = "stash:"  # + the draft's uuid → {"page": key, "data": {name: [values]}}
NOT_KEPT = {"csrfmiddlewaretoken", "_action"}


class LoginAgain(Exception):
    """The draft belongs to an account and nobody is logged in: ask to log in again."""


def expired_message() -> str:
    return _("Votre session a expiré : reconnectez-vous, vos réponses sont conservées.")


def own_draft(request, draft_uuid, collectivite, *, page_key: str | None = None) -> Dossier:
    """access_own_draft, or LoginAgain for an account's draft reached while logged out, after
    keeping the answers a page posted (never applied to the draft before the owner logs in)."""
    try:
        draft = access.access_own_draft(request, draft_uuid, collectivite)
    except access.NotFound:
        if request.user.is_authenticated or not access.is_account_draft(draft_uuid, collectivite):
            raise
        if request.method == "POST" and page_key:
            request.session[f"{STASH_PREFIX}{draft_uuid}"] = {
                "page": page_key,
                "data": {k: v for k, v in request.POST.lists() if k not in NOT_KEPT},
            }
        raise LoginAgain from None
    return restore_stash(request, draft)


def login_again(request, next_url: str):
    messages.warning(request, expired_message())
    return redirect_to_login(next_url)


def restore_stash(request, draft: Dossier) -> Dossier:
    """Apply the answers kept when the session expired, now that the draft's owner is logged
    in again; the draft as it is now."""
    stash = request.session.pop(f"{STASH_PREFIX}{draft.uuid}", None)
    user = request.user
    if not isinstance(stash, dict) or not (user.is_authenticated and draft.account_id == user.pk):
        return draft
    data = QueryDict(mutable=True)
    for name, values in (stash.get("data") or {}).items():
        if isinstance(name, str) and isinstance(values, list):
            data.setlist(name, [str(v) for v in values])
    try:
        flow = PageFlow(request, draft, str(stash.get("page", "")))
    except Http404:  # that page is no longer on the way: nothing to give back
        return draft
    flow.keep(data)
    messages.success(request, _("Vos réponses ont été reprises là où vous les aviez laissées."))
    return flow.dossier
