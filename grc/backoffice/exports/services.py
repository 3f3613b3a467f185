"""Dossier exports (CSV, XLSX) written by the worker. The rows are read again with the
requester's scope when the job runs, and the file is handed to the requester only, while they
still work in the collectivité (grc.backoffice.exports.views)."""

from __future__ import annotations

import datetime
import io
import logging
import tempfile
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grc.backoffice.exports import selectors, writers
from grc.backoffice.models import ExportJob
from grc.base.access import NotFound
from grc.base.audit import record_event
from grc.base.models import Channel, Collectivite, User

logger = logging.getLogger(__name__)
PROGRESS_EVERY = 200  # rows between two progress updates
# Exports hold citizens' personal data: files are deleted after this many days.
KEEP_DAYS = 7


@transaction.atomic
def request_export(
    *, actor: User, collectivite: Collectivite, params: dict[str, Any], format: str
) -> ExportJob:
    """Queue an export of the dossiers of `collectivite` the actor sees, filtered by `params`."""
    if not selectors.may_export(actor, collectivite.pk):
        raise NotFound
    if format not in ExportJob.Format.values:
        raise ValidationError(_("Format d'export inconnu."))
    params, _problems = selectors.clean_params(params)
    params["collectivite"] = collectivite.pk
    job = ExportJob.objects.create(
        requested_by=actor,
        collectivite=collectivite,
        kind="dossiers",
        params=params,
        format=format,
    )
    record_event(
        action="export.requested",
        obj=job,
        actor=actor,
        channel=Channel.WEB,
        collectivite_id=collectivite.pk,
        payload={"format": format, "params": params},
    )
    from grc.backoffice.tasks import run_export

    transaction.on_commit(lambda: run_export.defer(export_id=job.pk))
    return job


def _cell_for_csv(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    return writers.cell(value)


def _progress(job: ExportJob, done: int) -> None:
    ExportJob.objects.filter(pk=job.pk).update(done=done)


def _write_csv(job: ExportJob, header: list[str], rows, target) -> int:
    stream = io.TextIOWrapper(target, encoding="utf-8", newline="")
    stream.write(writers.BOM)
    out = writers.writer(stream)
    out.writerow(header)
    done = 0
    for row in rows:
        out.writerow([_cell_for_csv(v) for v in row])
        done += 1
        if done % PROGRESS_EVERY == 0:
            _progress(job, done)
    stream.flush()
    stream.detach()
    return done


def _write_xlsx(job: ExportJob, header: list[str], rows, target) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Dossiers"))
    bold = Font(bold=True)
    titles = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        titles.append(cell)
    sheet.append(titles)
    done = 0
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl would store "=…" as a formula
            elif isinstance(value, datetime.datetime):
                cell.number_format = "DD/MM/YYYY HH:MM"
            elif isinstance(value, datetime.date):
                cell.number_format = "DD/MM/YYYY"
            cells.append(cell)
        sheet.append(cells)
        done += 1
        if done % PROGRESS_EVERY == 0:
            _progress(job, done)
    book.save(target)
    return done


def run_export(export_id: int) -> None:
    """The worker's part: write the file in chunks, keep `done` up to date, store the file."""
    with transaction.atomic():
        job = (
            ExportJob.objects.select_for_update()
            .select_related("requested_by")
            .filter(pk=export_id, status=ExportJob.Status.PENDING)
            .first()
        )
        if job is None:  # already run (a job delivered twice) or deleted meanwhile
            return
        job.status = ExportJob.Status.RUNNING
        job.save(update_fields=["status"])
    try:
        total, rows = selectors.export_rows(job.requested_by, job.params)
        ExportJob.objects.filter(pk=job.pk).update(total=total)
        header = selectors.columns()
        with tempfile.TemporaryFile() as target:
            if job.format == ExportJob.Format.XLSX:
                done = _write_xlsx(job, header, rows, target)
            else:
                done = _write_csv(job, header, rows, target)
            target.seek(0)
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
            job.file.save(f"dossiers-{stamp}.{job.format}", File(target), save=False)
        ExportJob.objects.filter(pk=job.pk).update(
            file=job.file.name,
            done=done,
            total=max(total, done),
            status=ExportJob.Status.DONE,
            finished_at=timezone.now(),
        )
    except Exception as error:
        logger.exception("export %s failed", export_id)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED,
            error=f"{type(error).__name__}: {error}"[:1000],
            finished_at=timezone.now(),
        )


@transaction.atomic
def record_download(*, actor: User, job: ExportJob) -> None:
    """An export holds citizens' personal data: who took the file, and when, is kept."""
    record_event(
        action="export.downloaded",
        obj=job,
        actor=actor,
        channel=Channel.WEB,
        collectivite_id=job.collectivite_id,
        payload={"format": job.format, "rows": job.done},
    )


def purge_exports(*, now: datetime.datetime | None = None) -> int:
    """Delete the exports (rows and files) older than KEEP_DAYS; how many were deleted."""
    limit = (now or timezone.now()) - datetime.timedelta(days=KEEP_DAYS)
    old = list(ExportJob.objects.filter(created_at__lt=limit))
    for job in old:
        if job.file:
            job.file.delete(save=False)
    ExportJob.objects.filter(pk__in=[j.pk for j in old]).delete()
    return len(old)
