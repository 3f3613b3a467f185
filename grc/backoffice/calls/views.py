"""The call log and the incoming-call screen. Reads through grc.channels.calls' selectors
(its scope rule), writes through its services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from grc.backoffice.forms import add_service_errors
from grc.base.access import NotFound
from grc.base.models import Membership
from grc.channels import calls
from grc.demarches.access import access_staff_dossier, dossiers_visible_to_staff
from grc.demarches.models import Dossier

from .forms import CallEditForm, CallLogForm


def _staff_or_404(user) -> None:
    if not Membership.objects.filter(user=user, collectivite__is_active=True).exists():
        raise NotFound


@login_required
def call_list(request):
    _staff_or_404(request.user)
    return render(
        request,
        "backoffice/calls/list.html",
        {"section": "calls", "calls": calls.recent_calls(request.user)},
    )


@login_required
def call_log(request):
    """ "Noter un appel", about a record (?usager=<id>) or a dossier (?dossier=<id>) or a number
    alone."""
    _staff_or_404(request.user)
    dossier = usager = None
    if request.GET.get("dossier"):
        dossier = access_staff_dossier(request.user, request.GET["dossier"])
        usager = dossier.usager
    elif request.GET.get("usager"):
        usager = calls.access_call_usager(request.user, request.GET["usager"])
        if usager.merged_into_id is not None:
            usager = calls.access_call_usager(request.user, usager.merged_into_id)
    choices = (
        dossiers_visible_to_staff(request.user)
        .filter(usager=usager)
        .select_related("demarche")
        .order_by("-received_at", "-id")
        if usager is not None and dossier is None
        else Dossier.objects.none()
    )
    form = CallLogForm(request.POST or None, dossiers=choices)
    if request.method == "POST" and form.is_valid():
        try:
            call = calls.log_call(
                actor=request.user,
                usager=usager,
                dossier=dossier or form.cleaned_data.get("dossier"),
                direction=form.cleaned_data["direction"],
                number=form.cleaned_data["number"],
                started_at=form.cleaned_data["started_at"],
                duration=form.duration(),
                notes=form.cleaned_data["notes"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("L'appel est noté."))
            if call.dossier_id:
                return redirect("backoffice:dossier", call.dossier_id)
            if call.usager_id:
                return redirect("backoffice:usager_detail", call.usager_id)
            return redirect("backoffice:call_list")
    return render(
        request,
        "backoffice/calls/log.html",
        {"section": "calls", "form": form, "dossier": dossier, "usager": usager},
    )


@login_required
def call_edit(request, call_id):
    call = calls.access_call(request.user, call_id)
    found = Q(phones__contains=[call.number]) if call.number else Q(pk__in=[])
    if call.usager_id:
        found |= Q(pk=call.usager_id)
    usagers = calls.staff_usagers(request.user).filter(
        found, collectivite_id=call.collectivite_id, merged_into__isnull=True
    )
    dossiers = dossiers_visible_to_staff(request.user).filter(collectivite_id=call.collectivite_id)
    initial = {
        "usager": call.usager_id,
        "dossier_reference": call.dossier.reference if call.dossier_id else "",
        "notes": call.notes,
    }
    form = CallEditForm(request.POST or None, initial=initial, usagers=usagers, dossiers=dossiers)
    if request.method == "POST" and form.is_valid():
        linked = form.cleaned_data["dossier_reference"]
        try:
            calls.update_call(
                actor=request.user,
                call=call,
                notes=form.cleaned_data["notes"],
                usager=form.cleaned_data["usager"] or (linked.usager if linked else None),
                dossier=linked,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("L'appel est enregistré."))
            return redirect("backoffice:call_edit", call.pk)
    matches = calls.matching_records(
        call.collectivite_id, call.number, dossiers=dossiers, linked=call.usager
    )
    return render(
        request,
        "backoffice/calls/edit.html",
        {"section": "calls", "call": call, "form": form, "matches": matches},
    )


@login_required
def call_incoming(request):
    """The calls for this agent now, with the records of the caller: refreshed by the page
    itself (?partiel=1 gives the list alone)."""
    _staff_or_404(request.user)
    context = {
        "section": "calls",
        "calls": calls.incoming_calls(request.user),
        "refresh_seconds": 5,
    }
    if request.GET.get("partiel"):
        return render(request, "backoffice/calls/_incoming_list.html", context)
    return render(request, "backoffice/calls/incoming.html", context)
