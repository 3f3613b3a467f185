"""A filed dossier as its citizen sees it: status, timeline, answers and files, documents,
the message thread, the pieces asked for and the steps the workflow lets them take.

Every URL here reaches the dossier through access.access_submitted_by_session (the account
that follows it, or this browser's grant), and every file through the dossier: another
citizen's dossier, file or document answers 404, like one that does not exist."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grc.base import ratelimit
from grc.base.selectors import collectivite_or_404
from grc.demarches import access
from grc.demarches.selectors import citizen_attachment, citizen_view, summary_rows
from grc.demarches.services import dossiers as dossier_services
from grc.demarches.services import messages as message_services
from grc.demarches.workflow import definition as wf
from grc.demarches.workflow import services as workflow_services

# The form fields errors point to (ids in the page), by form and by the service's field names.
MESSAGE_FIELDS = {"body": "message_body", "files": "message_files"}
PIECES_FIELDS = {"files": "pieces", "message": "pieces_message"}


def _reach(request, slug, dossier):
    collectivite = collectivite_or_404(request, slug)
    return collectivite, access.access_submitted_by_session(request, dossier, collectivite)


def _errors(refusal: ValidationError | PermissionDenied, fields: dict[str, str]) -> list[dict]:
    """A refusal as the page shows it: each message with the id of the field it is about."""
    if isinstance(refusal, ValidationError) and hasattr(refusal, "error_dict"):
        return [
            {"field": fields.get(name, ""), "text": text}
            for name, texts in refusal.message_dict.items()
            for text in texts
        ]
    texts = getattr(refusal, "messages", None) or [str(refusal)]
    return [{"field": "", "text": text} for text in texts]


def _page(
    request,
    collectivite,
    dossier,
    *,
    errors: list[dict] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
):
    life = citizen_view(dossier)
    if request.method == "GET":
        # Read now: the page shows what was new this time, the service sees it was read.
        message_services.mark_read_by_citizen(
            dossier=dossier, actor=access.citizen_actor(request, dossier)
        )
    errors = errors or []
    field_errors: dict[str, list[str]] = {}
    for error in errors:
        field_errors.setdefault(error["field"], []).append(error["text"])
    workflow = dossier.version.workflow
    just_sent = dossier.status == workflow.get("initial") and str(dossier.uuid) in (
        request.session.get("submitted_dossiers", [])
    )
    return render(
        request,
        "portal/dossiers/page.html",
        {
            "collectivite": collectivite,
            "dossier": dossier,
            "demarche": dossier.demarche,
            "life": life,
            "sections": summary_rows(
                dossier.version.definition, dossier.answers, attachments=life["attachments"]
            ),
            "just_sent": just_sent,
            "errors": errors,
            "field_errors": field_errors,
            "values": values or {},
            "max_files": message_services.MAX_FILES,
            "max_length": message_services.MAX_LENGTH,
        },
        status=status,
    )


def dossier_page(request, slug, dossier):
    collectivite, found = _reach(request, slug, dossier)
    return _page(request, collectivite, found)


@require_POST
def dossier_message(request, slug, dossier):
    """The citizen writes to the service, with files if they wish."""
    collectivite, found = _reach(request, slug, dossier)
    body = request.POST.get("body", "")
    if not ratelimit.consume(request, "message", key=str(found.uuid)):
        return ratelimit.refusal(
            request,
            what=_(
                "Beaucoup de messages ont été envoyés sur ce dossier en peu de temps. "
                "Votre message n'est pas parti : copiez-le pour le renvoyer plus tard."
            ),
        )
    try:
        message_services.post_citizen_message(
            dossier=found,
            actor=access.citizen_actor(request, found),
            body=body,
            uploads=request.FILES.getlist("files"),
        )
    except ValidationError as refusal:
        return _page(
            request,
            collectivite,
            found,
            errors=_errors(refusal, MESSAGE_FIELDS),
            values={"body": body},
            status=400,
        )
    messages.success(request, _("Votre message est envoyé au service."))
    return redirect(reverse("portal:dossier", args=[slug, found.uuid]) + "#messages")


@require_POST
def dossier_pieces(request, slug, dossier):
    """The citizen sends the missing pieces (files and a word) from the dossier page."""
    collectivite, found = _reach(request, slug, dossier)
    actor = access.citizen_actor(request, found)
    uploads = request.FILES.getlist("pieces")
    text = request.POST.get("message", "").strip()

    def refused(errors):
        return _page(
            request, collectivite, found, errors=errors, values={"pieces_message": text}, status=400
        )

    if not uploads and not text:
        return refused(
            [{"field": "pieces", "text": _("Joignez au moins un fichier ou écrivez un message.")}]
        )
    errors = []
    for upload in uploads:  # all checked before any is stored
        try:
            dossier_services.check_piece(upload)
        except ValidationError as refusal:
            errors.extend({"field": "pieces", "text": m} for m in refusal.messages)
    if errors:
        return refused(errors)
    try:
        with transaction.atomic():
            for upload in uploads:
                dossier_services.attach_piece(dossier=found, upload=upload, actor=actor)
            workflow_services.answer_piece_request(dossier=found, actor=actor, answer=text)
    except ValidationError as refusal:
        return refused(_errors(refusal, PIECES_FIELDS))
    messages.success(request, _("Merci : vos pièces sont transmises au service."))
    return redirect("portal:dossier", slug, found.uuid)


def _citizen_step(dossier, key: str) -> dict[str, Any] | None:
    return next((t for t in citizen_view(dossier)["actions"] if t.get("key") == key), None)


def dossier_action_confirm(request, slug, dossier, transition):
    """Before a step the citizen cannot undo (withdrawing the request): what it means, and a
    button to confirm. Works without JavaScript."""
    collectivite, found = _reach(request, slug, dossier)
    step = _citizen_step(found, transition)
    if step is None:
        raise Http404
    return _confirm(request, collectivite, found, step)


def _confirm(request, collectivite, dossier, step, *, errors=None, comment="", status=200):
    errors = errors or []
    target = wf.status(dossier.version.workflow, step.get("to")) or {}
    return render(
        request,
        "portal/dossiers/confirm_action.html",
        {
            "collectivite": collectivite,
            "dossier": dossier,
            "demarche": dossier.demarche,
            "step": step,
            "final": bool(target.get("terminal")),
            "errors": errors,
            "comment_errors": [e["text"] for e in errors if e["field"] == "comment"],
            "comment": comment,
        },
        status=status,
    )


@require_POST
def dossier_action(request, slug, dossier):
    """A step the workflow lets the citizen take (withdrawing the request…), once confirmed."""
    collectivite, found = _reach(request, slug, dossier)
    key = request.POST.get("transition", "")
    comment = request.POST.get("comment", "")
    try:
        workflow_services.apply_transition(
            found, key, actor=access.citizen_actor(request, found), comment=comment
        )
    except (ValidationError, PermissionDenied) as refusal:
        errors = _errors(refusal, {"comment": "comment"})
        step = _citizen_step(found, key)
        if step is not None:  # e.g. a comment it requires: said on the confirmation page
            return _confirm(
                request, collectivite, found, step, errors=errors, comment=comment, status=400
            )
        return _page(request, collectivite, found, errors=errors, status=400)
    messages.success(request, _("C'est fait : votre demande est à jour."))
    return redirect("portal:dossier", slug, found.uuid)


def dossier_attachment(request, slug, dossier, attachment):
    """A file of the dossier: sent with the form, as a missing piece or with a message."""
    found = _reach(request, slug, dossier)[1]
    stored = citizen_attachment(found, attachment)
    if stored is None:
        raise Http404
    return FileResponse(
        stored.file.open("rb"),
        as_attachment=True,
        filename=stored.original_name,
        content_type=stored.content_type,
    )


def acknowledgement_pdf(request, slug, dossier, kind):
    found = _reach(request, slug, dossier)[1]
    ack = found.acknowledgements.filter(kind=kind).exclude(pdf="").first()
    if ack is None:
        raise Http404
    name = f"{ack.get_kind_display()} {found.reference}.pdf"
    return FileResponse(
        ack.pdf.open("rb"), as_attachment=True, filename=name, content_type="application/pdf"
    )


def document_pdf(request, slug, dossier, document):
    found = _reach(request, slug, dossier)[1]
    issued = found.documents.filter(pk=document, visible_to_citizen=True).first()
    if issued is None:
        raise Http404
    return FileResponse(
        issued.file.open("rb"),
        as_attachment=True,
        filename=f"{issued.title} {found.reference}.pdf",
        content_type="application/pdf",
    )
