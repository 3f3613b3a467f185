"""Which collectivité's colours the account pages (platform-wide, under /comptes/) wear: the
one the person came from. Given by `?c=<slug>`, by the `next` address (/c/<slug>/…) or by the
host name; remembered in the session for the pages that follow (confirmation, reset…)."""

from __future__ import annotations

import re

from grc.base.models import Collectivite
from grc.base.selectors import collectivite_for_host, collectivite_for_slug

SESSION_KEY = "portal_slug"
_SLUG_IN_PATH = re.compile(r"^/c/([a-z0-9-]+)/")


def portal_collectivite(request) -> Collectivite | None:
    if hasattr(request, "_portal_collectivite"):
        return request._portal_collectivite
    found = collectivite_for_host(request.get_host())
    if found is None:
        slug = request.GET.get("c") or ""
        match = _SLUG_IN_PATH.match(request.GET.get("next") or request.POST.get("next") or "")
        if not slug and match:
            slug = match.group(1)
        found = collectivite_for_slug(slug) if slug else None
        if found is None and request.session.get(SESSION_KEY):
            found = collectivite_for_slug(request.session[SESSION_KEY])
    if found is not None and request.session.get(SESSION_KEY) != found.slug:
        request.session[SESSION_KEY] = found.slug
    request._portal_collectivite = found
    return found


def branded(view):
    """Wrap an allauth view so that its page gets `collectivite` (and the FranceConnect
    switch) in its context."""

    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        context = getattr(response, "context_data", None)
        if context is not None:
            context.setdefault("collectivite", portal_collectivite(request))
        return response

    wrapped.__name__ = getattr(view, "__name__", "branded")
    wrapped.__doc__ = view.__doc__
    return wrapped
