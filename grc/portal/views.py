from django.shortcuts import render

from grc.base.selectors import active_collectivites, collectivite_for_request, collectivite_or_404
from grc.demarches.selectors import (
    SEARCH_MAX_LENGTH,
    search_published_demarches,
    search_terms,
)


def root(request):
    """The platform's root: a collectivité's portal when the host name is one of theirs, else
    the list of collectivités."""
    collectivite = collectivite_for_request(request)
    if collectivite is not None:
        return _home(request, collectivite)
    return render(request, "portal/root.html", {"collectivites": active_collectivites()})


def home(request, slug: str):
    return _home(request, collectivite_or_404(request, slug))


def _home(request, collectivite):
    """The home page; `?q=` narrows the démarches to a search, still grouped by category."""
    query = " ".join(search_terms(request.GET.get("q", "")))
    services = collectivite.services.filter(is_active=True).order_by("name")
    return render(
        request,
        "portal/home.html",
        {
            "collectivite": collectivite,
            "services": services,
            "demarches": list(search_published_demarches(collectivite, query)),
            "query": query,
            "search_max_length": SEARCH_MAX_LENGTH,
        },
    )
