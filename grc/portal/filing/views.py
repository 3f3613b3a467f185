"""Filing a démarche on the portal: presentation, pages, summary, sending, confirmation.

Works without JavaScript (each page evaluates its conditions on the server); with it,
grc/static/grc/form.js shows and hides fields as the person answers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grc.base import ratelimit
from grc.base.models import Channel
from grc.base.selectors import collectivite_or_404
from grc.demarches import access, answers
from grc.demarches.selectors import (
    demarche_for_portal,
    located_errors,
    summary_rows,
)
from grc.demarches.services import dossiers as dossier_services
from grc.portal.filing.pages import PageFlow
from grc.portal.filing.session import LoginAgain, login_again, own_draft

# A démarche whose form asks for the attestation itself (the catalogue's models do) needs no
# second one on the summary.
HONOUR_FIELD = "attestation_exactitude"


def demarche(request, slug, demarche):
    collectivite = collectivite_or_404(request, slug)
    found = demarche_for_portal(collectivite, demarche)
    drafts = [d for d in access.own_drafts(request, collectivite) if d.demarche_id == found.pk]
    return render(
        request,
        "portal/filing/demarche.html",
        {"collectivite": collectivite, "demarche": found, "drafts": drafts},
    )


@require_POST
def start(request, slug, demarche):
    collectivite = collectivite_or_404(request, slug)
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
        request.session[f"{access.DRAFT_SESSION_PREFIX}{draft.uuid}"] = draft.draft_token
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
    collectivite = collectivite_or_404(request, slug)
    try:
        dossier = own_draft(request, draft, collectivite, page_key=page)
    except LoginAgain:
        return login_again(request, reverse("portal:page", args=[slug, draft, page]))
    return PageFlow(request, dossier, page).respond()


def needs_attestation(definition: dict) -> bool:
    return not any(
        spec.get("key") == HONOUR_FIELD
        for page in definition.get("pages", [])
        for spec in page.get("fields", [])
    )


def summary(request, slug, draft):
    collectivite = collectivite_or_404(request, slug)
    try:
        dossier = own_draft(request, draft, collectivite)
    except LoginAgain:
        return login_again(request, reverse("portal:summary", args=[slug, draft]))
    except access.NotFound:
        # Sent already (a second click on "Envoyer", the back button): its page, when this
        # browser may see it; otherwise the same "not found".
        filed = access.access_submitted_by_session(request, draft, collectivite)
        return redirect("portal:dossier", slug, filed.uuid)
    definition = dossier.version.definition
    errors: dict[str, list[str]] = {}
    shown = dossier.answers
    contact_email = request.POST.get("contact_email", "").strip()
    needs_email = not request.user.is_authenticated
    attestation = needs_attestation(definition)
    attested = request.POST.get("attestation") == "on"
    status = 200
    if request.method == "POST" and attestation and not attested:
        errors = dict(_outcome(dossier).errors)  # everything to fix, said at once
        errors["attestation"] = [
            _("Cochez la case pour attester de l'exactitude des informations avant d'envoyer.")
        ]
        if needs_email and not contact_email:
            errors["contact_email"] = [_("Indiquez votre adresse e-mail.")]
        status = 400
    elif request.method == "POST" and not ratelimit.consume(request, "submit"):
        errors = {
            "__all__": [
                _(
                    "Trop de demandes ont été envoyées depuis votre connexion internet en peu de "
                    "temps : réessayez un peu plus tard. Votre demande est conservée en "
                    "brouillon, rien n'est perdu."
                )
            ]
        }
        status = 429
    elif request.method == "POST":
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
            if needs_email and not contact_email:  # said at once, not after the answers
                errors.setdefault("contact_email", [_("Indiquez votre adresse e-mail.")])
            status = 400
        except PermissionDenied as refusal:
            errors = {"__all__": [str(refusal)]}
            status = 400
        else:
            request.session.pop(f"{access.DRAFT_SESSION_PREFIX}{dossier.uuid}", None)
            request.session["submitted_dossiers"] = [
                *request.session.get("submitted_dossiers", [])[-20:],
                str(filed.uuid),
            ]
            return redirect("portal:dossier", slug, filed.uuid)
    else:
        # Shown before sending: what would stop it, so the person can go and fix it.
        outcome = _outcome(dossier)
        errors = outcome.errors
        if outcome.ok:
            shown = outcome.answers  # without what later answers have hidden
    located = located_errors(definition, errors)
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
            "errors": located,
            "error_count": sum(len(e["messages"]) for e in located),
            "contact_error": errors.get("contact_email"),
            "needs_email": needs_email,
            "contact_email": contact_email,
            "attestation": attestation,
            "attested": attested,
            "attestation_error": errors.get("attestation"),
        },
        status=status,
    )


def _outcome(dossier):
    return answers.validate_answers(
        dossier.version.definition,
        dossier.answers,
        known_attachments=dossier_services.known_attachments(dossier),
    )
