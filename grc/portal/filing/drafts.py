"""“Mes brouillons”: the drafts a person may resume here, resuming one, deleting one."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from grc.base.selectors import collectivite_or_404
from grc.demarches import access
from grc.demarches.services import dossiers as dossier_services
from grc.portal.filing.pages import resume_page
from grc.portal.filing.session import LoginAgain, login_again, own_draft


def drafts(request, slug):
    collectivite = collectivite_or_404(request, slug)
    rows = [
        {
            "draft": draft,
            "expires_on": draft.updated_at
            + datetime.timedelta(days=draft.demarche.draft_lifespan_days),
        }
        for draft in access.own_drafts(request, collectivite)
    ]
    return render(
        request,
        "portal/filing/drafts.html",
        {"collectivite": collectivite, "rows": rows},
    )


def resume(request, slug, draft):
    """Back to a draft: the first page with something missing, or the summary."""
    collectivite = collectivite_or_404(request, slug)
    try:
        dossier = own_draft(request, draft, collectivite)
    except LoginAgain:
        return login_again(request, reverse("portal:resume_draft", args=[slug, draft]))
    page_key = resume_page(dossier)
    if page_key is None:
        return redirect("portal:summary", slug, dossier.uuid)
    return redirect("portal:page", slug, dossier.uuid, page_key)


def delete(request, slug, draft):
    """A confirmation page (GET), then the deletion (POST)."""
    collectivite = collectivite_or_404(request, slug)
    try:
        dossier = own_draft(request, draft, collectivite)
    except LoginAgain:
        return login_again(request, reverse("portal:delete_draft", args=[slug, draft]))
    if request.method == "POST":
        try:
            dossier_services.delete_draft(
                dossier=dossier,
                actor=request.user if request.user.is_authenticated else None,
            )
        except (ValidationError, PermissionDenied) as refusal:
            messages.error(request, " ".join(getattr(refusal, "messages", [str(refusal)])))
        else:
            request.session.pop(f"{access.DRAFT_SESSION_PREFIX}{dossier.uuid}", None)
            messages.success(
                request,
                _("Le brouillon « %(title)s » est supprimé.") % {"title": dossier.demarche.title},
            )
        return redirect("portal:drafts", slug)
    return render(
        request,
        "portal/filing/draft_delete.html",
        {
            "collectivite": collectivite,
            "dossier": dossier,
            "demarche": dossier.demarche,
        },
    )
