"""The dossier page of the agents' workspace and what an agent does from it; the bulk actions of
the queues. Every URL reaches the dossier through access_staff_dossier (a dossier outside the
agent's scope answers 404, like one that does not exist); every write goes through a service,
which checks again, locks and audits."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from grc.backoffice.dossiers import selectors, services
from grc.backoffice.dossiers.forms import (
    AnnotationForm,
    AssignForm,
    NoteForm,
    ReplyForm,
    TransferForm,
    TransitionForm,
)
from grc.backoffice.files import file_response
from grc.backoffice.forms import add_service_errors
from grc.demarches import access, texts
from grc.demarches.services import assignment
from grc.demarches.services import messages as message_services
from grc.demarches.workflow import services as workflow_services


def _dossier(request, pk):
    return access.access_staff_dossier(request.user, pk)


def _page_url(dossier, anchor: str = "") -> str:
    return reverse("backoffice:dossier", args=[dossier.pk]) + (f"#{anchor}" if anchor else "")


def _page(request, dossier, *, bound: dict[str, Any] | None = None, status: int = 200):
    """The dossier page; `bound` holds the forms sent with errors (by name), shown as typed."""
    bound = bound or {}
    if request.method == "GET":
        # Opening the page is reading it: the citizen's messages are read.
        message_services.mark_read_by_service(dossier=dossier, actor=request.user)
    # Every display of the citizen's personal data is traced (a form sent back with its
    # errors shows them again).
    services.record_dossier_viewed(dossier=dossier, actor=request.user)
    data = selectors.dossier_page(dossier)
    reply_initial = {}
    canned_id = request.GET.get("reponse_type", "")
    if canned_id and "reply" not in bound:
        chosen = next((c for c in data.canned_responses if str(c.pk) == canned_id), None)
        if chosen is None:
            messages.error(request, _("Cette réponse type n'existe pas pour ce service."))
        else:
            try:
                reply_initial["body"] = services.render_canned_response(chosen, dossier)
            except texts.TemplateRenderError as error:
                messages.error(
                    request,
                    _("La réponse type « %(t)s » n'a pas pu être produite : %(e)s")
                    % {"t": chosen.title, "e": error},
                )
    transition_forms = [
        bound.get(f"transition:{step['key']}") or TransitionForm(step=step)
        for step in data.transitions
    ]
    page_forms = {
        "assign": bound.get("assign")
        or AssignForm(
            agents=assignment.agents_of_service(dossier.service),
            services=selectors.collectivite_services(dossier),
            initial={"assignee": dossier.assignee_id, "service": dossier.service_id},
        ),
        "transfer": bound.get("transfer")
        or TransferForm(
            services=selectors.collectivite_services(dossier).exclude(pk=dossier.service_id)
        ),
        "transfer_out": bound.get("transfer_out")
        or TransferForm(
            services=selectors.other_collectivites_services(dossier),
            with_collectivite=True,
            prefix="ailleurs",
        ),
        "reply": bound.get("reply") or ReplyForm(initial=reply_initial),
        "note": bound.get("note") or NoteForm(),
        "annotation": bound.get("annotation")
        or AnnotationForm(initial={"annotation": data.annotation}),
    }
    errors = [f for f in [*transition_forms, *page_forms.values()] if f.is_bound and f.errors]
    return render(
        request,
        "backoffice/dossiers/page.html",
        {
            "page": data,
            "dossier": dossier,
            "transition_forms": transition_forms,
            "forms": page_forms,
            "has_errors": bool(errors),
            "open_form": next(iter(bound), ""),
            "section": "dossiers",
        },
        status=status,
    )


@login_required
def dossier_page(request, pk):
    return _page(request, _dossier(request, pk))


def _moved(request, dossier):
    """The dossier changed status since the agent's page was drawn: say so, show it afresh."""
    messages.error(
        request,
        _(
            "Ce dossier a changé entre-temps : il est maintenant « %(s)s ». "
            "Vérifiez-le avant d'agir."
        )
        % {"s": selectors.status_of(dossier)["label"]},
    )
    return redirect(_page_url(dossier))


@login_required
@require_POST
def dossier_transition(request, pk):
    dossier = _dossier(request, pk)
    key = request.POST.get("transition", "")
    seen = request.POST.get("from_status", "") or dossier.status
    if seen != dossier.status:
        return _moved(request, dossier)
    step = selectors.service_transition(dossier, key)
    if step is None:
        messages.error(request, _("Cette action n'est pas possible sur ce dossier."))
        return redirect(_page_url(dossier))
    form = TransitionForm(request.POST, step=step)
    if form.is_valid():
        try:
            workflow_services.apply_transition(
                dossier, key, actor=request.user, comment=form.comment(), data=form.raw_data()
            )
        except ValidationError as error:
            fresh = _dossier(request, pk)
            if fresh.status != seen:
                return _moved(request, fresh)
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("C'est fait : « %(t)s ». Le dossier est maintenant « %(s)s ».")
                % {"t": step["label"], "s": selectors.status_of(dossier)["label"]},
            )
            return redirect(_page_url(dossier))
    return _page(request, dossier, bound={f"transition:{key}": form}, status=400)


@login_required
@require_POST
def dossier_assign(request, pk):
    dossier = _dossier(request, pk)
    form = AssignForm(
        request.POST,
        agents=assignment.agents_of_service(dossier.service),
        services=selectors.collectivite_services(dossier),
    )
    if form.is_valid():
        action = form.cleaned_data["action"]
        try:
            if action == AssignForm.ME:
                assignment.assign_dossier(
                    dossier=dossier, actor=request.user, assignee=request.user
                )
                done = _("Le dossier vous est attribué.")
            elif action == AssignForm.AGENT:
                who = form.cleaned_data.get("assignee")
                assignment.assign_dossier(dossier=dossier, actor=request.user, assignee=who)
                done = (
                    _("Le dossier est attribué à %(who)s.") % {"who": who}
                    if who
                    else _("Le dossier n'est plus attribué.")
                )
            else:
                service = form.cleaned_data["service"]
                assignment.assign_dossier(dossier=dossier, actor=request.user, service=service)
                done = _("Le dossier est confié au service « %(s)s ».") % {"s": service.name}
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done)
            if access.dossiers_visible_to_staff(request.user).filter(pk=dossier.pk).exists():
                return redirect(_page_url(dossier))
            return redirect(_after_leaving())
    return _page(request, dossier, bound={"assign": form}, status=400)


def _after_leaving() -> str:
    """Where an agent goes when the dossier left their scope (given to another service)."""
    try:
        return reverse("backoffice:queues")
    except NoReverseMatch:  # the queues are another part of the workspace
        return reverse("backoffice:home")


@login_required
@require_POST
def dossier_transfer(request, pk):
    """To the competent service of the collectivité, or (with the workflow's "transmettre") to
    another collectivité of the platform; the citizen is told either way."""
    dossier = _dossier(request, pk)
    elsewhere = request.POST.get("where") == "ailleurs"
    if elsewhere:
        form = TransferForm(
            request.POST,
            services=selectors.other_collectivites_services(dossier),
            with_collectivite=True,
            prefix="ailleurs",
        )
    else:
        form = TransferForm(
            request.POST,
            services=selectors.collectivite_services(dossier).exclude(pk=dossier.service_id),
        )
    if form.is_valid():
        service, reason = form.cleaned_data["service"], form.cleaned_data["reason"]
        move = (
            workflow_services.transfer_to_collectivite
            if elsewhere
            else workflow_services.transfer_to_service
        )
        try:
            move(dossier=dossier, actor=request.user, service=service, reason=reason)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Le dossier est transmis à « %(s)s ».") % {"s": service.name}
            )
            if access.dossiers_visible_to_staff(request.user).filter(pk=dossier.pk).exists():
                return redirect(_page_url(dossier))
            return redirect(_after_leaving())
    return _page(
        request, dossier, bound={"transfer_out" if elsewhere else "transfer": form}, status=400
    )


def _simple_form(request, dossier, *, form, key: str, act, done: str, anchor: str):
    """The dossier page's forms that call one service: valid and accepted, say so and go back
    to the page at `anchor`; otherwise the page again with the form's errors (the service's
    refusals put on its fields)."""
    if form.is_valid():
        try:
            act(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done)
            return redirect(_page_url(dossier, anchor))
    return _page(request, dossier, bound={key: form}, status=400)


@login_required
@require_POST
def dossier_reply(request, pk):
    dossier = _dossier(request, pk)
    return _simple_form(
        request,
        dossier,
        form=ReplyForm(request.POST),
        key="reply",
        act=lambda data: message_services.post_service_message(
            dossier=dossier,
            actor=request.user,
            body=data["body"],
            uploads=request.FILES.getlist("files"),
        ),
        done=_("Votre réponse est envoyée à l'usager."),
        anchor="historique",
    )


@login_required
@require_POST
def dossier_note(request, pk):
    dossier = _dossier(request, pk)
    return _simple_form(
        request,
        dossier,
        form=NoteForm(request.POST),
        key="note",
        act=lambda data: message_services.post_internal_note(
            dossier=dossier, actor=request.user, body=data["body"]
        ),
        done=_("La note interne est ajoutée."),
        anchor="historique",
    )


@login_required
@require_POST
def dossier_annotations(request, pk):
    dossier = _dossier(request, pk)
    return _simple_form(
        request,
        dossier,
        form=AnnotationForm(request.POST),
        key="annotation",
        act=lambda data: assignment.set_annotations(
            dossier=dossier, actor=request.user, text=data["annotation"]
        ),
        done=_("Les annotations sont enregistrées."),
        anchor="annotations",
    )


@login_required
@xframe_options_sameorigin  # the PDF preview is an <iframe> of the dossier page
def dossier_attachment(request, pk, attachment_id):
    """A file of the dossier: shown in the page (images and PDFs) or downloaded
    (?telecharger=1, and every other type)."""
    dossier = _dossier(request, pk)
    stored = selectors.dossier_attachment(dossier, attachment_id)
    if stored is None:
        raise Http404
    inline = stored.content_type in selectors.PREVIEWABLE and "telecharger" not in request.GET
    services.record_dossier_viewed(
        dossier=dossier, actor=request.user, what={"attachment": stored.pk}
    )
    return file_response(
        stored.file.open("rb"),
        name=stored.original_name,
        content_type=stored.content_type,
        inline=inline,
    )


@login_required
def dossier_document(request, pk, document_id):
    dossier = _dossier(request, pk)
    issued = dossier.documents.filter(pk=document_id).first()
    if issued is None:
        raise Http404
    services.record_dossier_viewed(
        dossier=dossier, actor=request.user, what={"document": issued.pk}
    )
    return file_response(
        issued.file.open("rb"),
        name=f"{issued.title} {dossier.reference}.pdf",
        content_type="application/pdf",
        inline=False,
    )


@login_required
def dossier_acknowledgement(request, pk, kind):
    dossier = _dossier(request, pk)
    ack = dossier.acknowledgements.filter(kind=kind).exclude(pdf="").first()
    if ack is None:
        raise Http404
    services.record_dossier_viewed(
        dossier=dossier, actor=request.user, what={"acknowledgement": ack.kind}
    )
    return file_response(
        ack.pdf.open("rb"),
        name=f"{ack.get_kind_display()} {dossier.reference}.pdf",
        content_type="application/pdf",
        inline=False,
    )


# --- Bulk actions -----------------------------------------------------------------------------


def _safe_next(request) -> str:
    """Back to the list the agent came from, if it is a page of the workspace."""
    target = request.POST.get("next", "")
    home = reverse("backoffice:home")
    if (
        target
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and target.startswith(home)
        and "\\" not in target
    ):
        return target
    return _after_leaving()


@login_required
@require_POST
def bulk_action(request):
    """POST `dossiers` (ids), `action`: "assign_me", "assign" (with `assignee`, a user id;
    empty: nobody), "transition" (with `transition`, a key, and an optional `comment`) or
    "tag" (with `tag`); `next`: the list to go back to. Ids outside the agent's scope are
    never acted on, and reported as not found."""
    back = redirect(_safe_next(request))
    ids = services.parse_ids(request.POST.getlist("dossiers"))
    action = request.POST.get("action", "")
    if not ids:
        messages.error(request, _("Sélectionnez au moins un dossier."))
        return back
    if action not in ("assign_me", "assign", "transition", "tag"):
        messages.error(request, _("Choisissez l'action à faire sur les dossiers sélectionnés."))
        return back
    assignee = None
    if action == "assign" and request.POST.get("assignee"):
        assignee = _bulk_assignee(request)
        if assignee is None:
            messages.error(request, _("Cet agent n'existe pas."))
            return back
    try:
        outcomes, missing = services.run_bulk_action(
            actor=request.user,
            dossier_ids=ids,
            action=action,
            assignee=assignee,
            transition=request.POST.get("transition", ""),
            comment=request.POST.get("comment", ""),
            tag=request.POST.get("tag", ""),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return back
    done = [o for o in outcomes if o.ok]
    if done:
        messages.success(
            request,
            ngettext(
                "%(n)d dossier traité : %(refs)s.",
                "%(n)d dossiers traités : %(refs)s.",
                len(done),
            )
            % {"n": len(done), "refs": ", ".join(o.reference for o in done)},
        )
    for outcome in outcomes:
        if not outcome.ok:
            messages.error(request, f"{outcome.reference} : {outcome.detail}")
    if missing:
        messages.warning(
            request,
            ngettext(
                "%(n)d dossier introuvable (n° %(ids)s) : rien n'y a été fait.",
                "%(n)d dossiers introuvables (n° %(ids)s) : rien n'y a été fait.",
                len(missing),
            )
            % {"n": len(missing), "ids": ", ".join(map(str, missing))},
        )
    return back


def _bulk_assignee(request):
    """The agent chosen in the bulk form, among the staff of the collectivités where the actor
    works; the service refuses, dossier by dossier, one who does not work on its service."""
    try:
        return selectors.colleagues(request.user).filter(pk=int(request.POST["assignee"])).first()
    except (TypeError, ValueError, OverflowError):
        return None
