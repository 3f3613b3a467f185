"""Filing a démarche on the portal: presentation, pages, summary, sending, confirmation.

Works without JavaScript (each page evaluates its conditions on the server); with it,
grc/static/grc/form.js shows and hides fields as the person answers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grc.base.models import Channel
from grc.base.selectors import collectivite_for_request
from grc.demarches import access, answers
from grc.demarches.selectors import (
    demarche_for_portal,
    located_errors,
    summary_rows,
)
from grc.demarches.services import dossiers as dossier_services
from grc.portal.filing.pages import PageFlow


def _collectivite(request, slug):
    collectivite = collectivite_for_request(request, slug=slug)
    if collectivite is None:
        raise Http404
    return collectivite


def demarche(request, slug, demarche):
    collectivite = _collectivite(request, slug)
    found = demarche_for_portal(collectivite, demarche)
    return render(
        request, "portal/filing/demarche.html", {"collectivite": collectivite, "demarche": found}
    )


@require_POST
def start(request, slug, demarche):
    collectivite = _collectivite(request, slug)
    found = demarche_for_portal(collectivite, demarche)
    account = request.user if request.user.is_authenticated else None
    try:
        draft = dossier_services.start_draft(demarche=found, channel=Channel.WEB, account=account)
    except PermissionDenied as refusal:
        if account is None and found.who_may_file == found.WhoMayFile.ACCOUNT:
            return redirect_to_login(reverse("portal:demarche", args=[slug, demarche]))
        messages.error(request, str(refusal))
        return redirect("portal:demarche", slug, demarche)
    except ValidationError as refusal:
        messages.error(request, " ".join(refusal.messages))
        return redirect("portal:demarche", slug, demarche)
    if draft.draft_token:
        request.session[f"draft:{draft.uuid}"] = draft.draft_token
    pages = answers.visible_pages(draft.version.definition, {})
    if not pages:  # every page hidden before any answer: a form that cannot be filled
        messages.error(
            request,
            _(
                "Ce formulaire ne peut pas être rempli pour le moment : "
                "merci de contacter le service."
            ),
        )
        return redirect("portal:demarche", slug, demarche)
    return redirect("portal:page", slug, draft.uuid, pages[0]["key"])


def page(request, slug, draft, page):
    collectivite = _collectivite(request, slug)
    dossier = access.access_own_draft(request, draft, collectivite)
    flow = PageFlow(request, dossier, page)
    return flow.respond()


def summary(request, slug, draft):
    collectivite = _collectivite(request, slug)
    dossier = access.access_own_draft(request, draft, collectivite)
    definition = dossier.version.definition
    errors: dict[str, list[str]] = {}
    shown = dossier.answers
    contact_email = request.POST.get("contact_email", "").strip()
    needs_email = not request.user.is_authenticated
    if request.method == "POST":
        # submit_dossier validates everything itself: no second pass here.
        try:
            filed = dossier_services.submit_dossier(
                demarche=dossier.demarche,
                answers_given=dossier.answers,
                channel=Channel.WEB,
                actor=request.user if request.user.is_authenticated else None,
                # The account filing (a démarche for account holders checks it is there).
                account=request.user if request.user.is_authenticated else None,
                dossier=dossier,
                contact_email=contact_email,
            )
        except ValidationError as refusal:
            errors = (
                refusal.message_dict
                if hasattr(refusal, "error_dict")
                else {"__all__": refusal.messages}
            )
        except PermissionDenied as refusal:
            errors = {"__all__": [str(refusal)]}
        else:
            request.session.pop(f"draft:{dossier.uuid}", None)
            request.session["submitted_dossiers"] = [
                *request.session.get("submitted_dossiers", [])[-20:],
                str(filed.uuid),
            ]
            return redirect("portal:dossier", slug, filed.uuid)
    else:
        # Shown before sending: what would stop it, so the person can go and fix it.
        outcome = answers.validate_answers(
            definition,
            dossier.answers,
            known_attachments=dossier_services.known_attachments(dossier),
        )
        errors = outcome.errors
        if outcome.ok:
            shown = outcome.answers  # without what later answers have hidden
    return render(
        request,
        "portal/filing/summary.html",
        {
            "collectivite": collectivite,
            "dossier": dossier,
            "demarche": dossier.demarche,
            "sections": summary_rows(
                definition,
                shown,
                attachments={a.pk: a for a in dossier.attachments.all()},
            ),
            "errors": located_errors(definition, errors),
            "contact_error": errors.get("contact_email"),
            "needs_email": needs_email,
            "contact_email": contact_email,
        },
        status=400 if errors and request.method == "POST" else 200,
    )
