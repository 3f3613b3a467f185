"""The legal pages of a portal: mentions légales, personal data, the accessibility declaration
(RGAA). Each answers under /c/<slug>/… and at the root of the collectivité's own host name;
at the root of the platform's host, the platform's own, smaller pages."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from grc.base.selectors import active_collectivites, collectivite_for_request
from grc.demarches.selectors import published_demarches


def _collectivite(request, slug: str | None):
    """The collectivité of the page: the slug's, or the host name's (None on the platform's
    own host)."""
    collectivite = collectivite_for_request(request, slug=slug)
    if collectivite is None and slug is not None:
        raise Http404
    return collectivite


def legal_mentions(request, slug: str | None = None):
    collectivite = _collectivite(request, slug)
    if collectivite is None:
        return render(
            request,
            "portal/legal/platform_mentions.html",
            {
                "collectivites": active_collectivites(),
                "hosting": settings.GRC_HOSTING,
                "legal_page": "mentions",
            },
        )
    return render(
        request,
        "portal/legal/mentions.html",
        {"collectivite": collectivite, "hosting": settings.GRC_HOSTING, "legal_page": "mentions"},
    )


def personal_data(request, slug: str | None = None):
    collectivite = _collectivite(request, slug)
    if collectivite is None:
        # The platform's directory collects nothing: its mentions say so.
        return redirect(reverse("portal:site_legal_mentions") + "#donnees-personnelles")
    return render(
        request,
        "portal/legal/personal_data.html",
        {
            "collectivite": collectivite,
            "demarches": published_demarches(collectivite).select_related("service"),
            "hosting": settings.GRC_HOSTING,
            "legal_page": "personal_data",
        },
    )


def accessibility(request, slug: str | None = None):
    collectivite = _collectivite(request, slug)
    if collectivite is None:
        return render(
            request,
            "portal/legal/platform_accessibility.html",
            {
                "collectivites": active_collectivites(),
                "hosting": settings.GRC_HOSTING,
                "legal_page": "accessibility",
            },
        )
    home = reverse("portal:home", args=[collectivite.slug]) if slug is not None else "/"
    return render(
        request,
        "portal/legal/accessibility.html",
        {
            "collectivite": collectivite,
            "portal_url": request.build_absolute_uri(home),
            "legal_page": "accessibility",
        },
    )
