"""The person's exports: ask for one (from the dashboard, or any list posting its filters),
follow its progress, download the file (its requester only, still in scope)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from grc.backoffice.dashboard import selectors as dashboard
from grc.backoffice.exports import selectors
from grc.backoffice.exports.services import KEEP_DAYS, record_download, request_export
from grc.backoffice.files import file_response
from grc.backoffice.models import ExportJob
from grc.base.access import NotFound, staff_collectivites
from grc.base.models import Collectivite

LISTED = 30


def _requested_scope(request) -> tuple[Collectivite, dict]:
    """The collectivité and filters of a POSTed export request, within the person's scope."""
    params, problems = selectors.clean_params(
        {key: request.POST.get(key) for key in selectors.PARAM_KEYS}
    )
    for problem in problems:
        messages.warning(request, problem)
    scopes = dashboard.scopes_for(request.user)
    if request.POST.get("perimetre"):
        try:
            scope = dashboard.choose_scope(scopes, request.POST["perimetre"])
        except dashboard.BadScope:
            raise NotFound from None
        if scope.service_id is not None:
            params["service"] = scope.service_id
        collectivite_id = scope.collectivite_id
    else:
        collectivite_id = params.get("collectivite")
        if collectivite_id is None and scopes:
            collectivite_id = scopes[0].collectivite_id
    if collectivite_id is None or not selectors.may_export(request.user, collectivite_id):
        raise NotFound
    return Collectivite.objects.get(pk=collectivite_id), params


@login_required
def export_list(request):
    if request.method == "POST":
        collectivite, params = _requested_scope(request)
        try:
            request_export(
                actor=request.user,
                collectivite=collectivite,
                params=params,
                format=request.POST.get("format", ""),
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, _("L'export est demandé : il sera prêt au téléchargement ci-dessous.")
            )
        return redirect("backoffice:export_list")
    if not dashboard.scopes_for(request.user):
        raise NotFound
    jobs = list(selectors.exports_of(request.user)[:LISTED])
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "exports": [
                    {"id": j.pk, "status": j.status, "total": j.total, "done": j.done} for j in jobs
                ]
            }
        )
    selectors.describe(jobs)
    allowed = set(staff_collectivites(request.user).values_list("id", flat=True))
    for job in jobs:
        job.downloadable = (
            job.status == ExportJob.Status.DONE
            and bool(job.file)
            and job.collectivite_id in allowed
        )
    running = any(j.status in (ExportJob.Status.PENDING, ExportJob.Status.RUNNING) for j in jobs)
    return render(
        request,
        "backoffice/exports/list.html",
        {"section": "exports", "jobs": jobs, "running": running, "keep_days": KEEP_DAYS},
    )


@login_required
def export_download(request, export_id):
    job = selectors.access_export(request.user, export_id)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise NotFound
    try:
        handle = job.file.open("rb")
    except FileNotFoundError:
        raise NotFound from None
    record_download(actor=request.user, job=job)
    content_type = (
        "text/csv; charset=utf-8"
        if job.format == ExportJob.Format.CSV
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return file_response(
        handle,
        name=f"dossiers-{job.created_at:%Y%m%d-%H%M}.{job.format}",
        content_type=content_type,
    )
