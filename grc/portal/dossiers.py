"""A filed dossier as its citizen sees it: status, timeline, answers, documents, messages, the
pieces asked for and the steps the workflow lets them take."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grc.demarches import access
from grc.demarches.selectors import citizen_view, summary_rows
from grc.demarches.services import dossiers as dossier_services
from grc.demarches.workflow import services as workflow_services
from grc.portal.filing.views import _collectivite


def dossier_page(request, slug, dossier, *, errors=None, status=200):
    collectivite = _collectivite(request, slug)
    found = access.access_submitted_by_session(request, dossier, collectivite)
    return render(
        request,
        "portal/filing/dossier.html",
        {
            "collectivite": collectivite,
            "dossier": found,
            "demarche": found.demarche,
            "acknowledgements": found.acknowledgements.all(),
            "sections": summary_rows(
                found.version.definition,
                found.answers,
                attachments={a.pk: a for a in found.attachments.all()},
            ),
            "life": citizen_view(found),
            "errors": errors or [],
        },
        status=status,
    )


@require_POST
def dossier_pieces(request, slug, dossier):
    """The citizen sends the missing pieces (files and a word) from the dossier page."""
    collectivite = _collectivite(request, slug)
    found = access.access_submitted_by_session(request, dossier, collectivite)
    actor = access.citizen_actor(request, found)
    uploads = request.FILES.getlist("pieces")
    text = request.POST.get("message", "").strip()
    if not uploads and not text:
        return dossier_page(
            request,
            slug,
            found.uuid,
            status=400,
            errors=[_("Joignez au moins un fichier ou écrivez un message.")],
        )
    errors = []
    for upload in uploads:  # all checked before any is stored
        try:
            dossier_services.check_piece(upload)
        except ValidationError as refusal:
            errors.extend(refusal.messages)
    if errors:
        return dossier_page(request, slug, found.uuid, status=400, errors=errors)
    try:
        with transaction.atomic():
            for upload in uploads:
                dossier_services.attach_piece(dossier=found, upload=upload, actor=actor)
            workflow_services.answer_piece_request(dossier=found, actor=actor, answer=text)
    except ValidationError as refusal:
        return dossier_page(request, slug, found.uuid, status=400, errors=refusal.messages)
    messages.success(request, _("Merci : vos pièces sont transmises au service."))
    return redirect("portal:dossier", slug, found.uuid)


@require_POST
def dossier_action(request, slug, dossier):
    """A step the workflow lets the citizen take (withdrawing the request…)."""
    collectivite = _collectivite(request, slug)
    found = access.access_submitted_by_session(request, dossier, collectivite)
    try:
        workflow_services.apply_transition(
            found,
            request.POST.get("transition", ""),
            actor=access.citizen_actor(request, found),
            comment=request.POST.get("comment", ""),
        )
    except (ValidationError, PermissionDenied) as refusal:
        text = " ".join(getattr(refusal, "messages", [str(refusal)]))
        return dossier_page(request, slug, found.uuid, status=400, errors=[text])
    messages.success(request, _("C'est fait."))
    return redirect("portal:dossier", slug, found.uuid)


def acknowledgement_pdf(request, slug, dossier, kind):
    collectivite = _collectivite(request, slug)
    found = access.access_submitted_by_session(request, dossier, collectivite)
    ack = found.acknowledgements.filter(kind=kind).exclude(pdf="").first()
    if ack is None:
        raise Http404
    name = f"{ack.get_kind_display()} {found.reference}.pdf"
    return FileResponse(
        ack.pdf.open("rb"), as_attachment=True, filename=name, content_type="application/pdf"
    )


def document_pdf(request, slug, dossier, document):
    collectivite = _collectivite(request, slug)
    found = access.access_submitted_by_session(request, dossier, collectivite)
    issued = found.documents.filter(pk=document, visible_to_citizen=True).first()
    if issued is None:
        raise Http404
    return FileResponse(
        issued.file.open("rb"),
        as_attachment=True,
        filename=f"{issued.title} {found.reference}.pdf",
        content_type="application/pdf",
    )
