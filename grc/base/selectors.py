"""Reads of grc.base used by several interfaces."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.http.request import split_domain_port

from grc.base.models import Collectivite, CollectiviteHost


def active_collectivites() -> QuerySet[Collectivite]:
    return Collectivite.objects.filter(is_active=True).order_by("name")


def collectivite_for_host(host: str) -> Collectivite | None:
    """The active collectivité whose portal answers on `host` (port ignored)."""
    domain, _port = split_domain_port(host)
    if not domain:
        return None
    row = (
        CollectiviteHost.objects.filter(host=domain, collectivite__is_active=True)
        .select_related("collectivite")
        .first()
    )
    return row.collectivite if row else None


def collectivite_for_slug(slug: str) -> Collectivite | None:
    return active_collectivites().filter(slug=slug).first()


def collectivite_for_request(request, slug: str | None = None) -> Collectivite | None:
    """The tenant a request is for: the /c/<slug>/ path when there is one (works without DNS),
    else the host name."""
    if slug is not None:
        return collectivite_for_slug(slug)
    return collectivite_for_host(request.get_host())


def collectivite_or_404(request, slug: str) -> Collectivite:
    """The collectivité of a portal page by its /c/<slug>/ path; 404 when there is none."""
    collectivite = collectivite_for_request(request, slug=slug)
    if collectivite is None:
        raise Http404
    return collectivite
