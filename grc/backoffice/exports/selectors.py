"""The rows of a dossier export: the dossiers a person may see (dossiers_visible_to_staff),
narrowed by simple filters. The queue's filter form can hand its cleaned values to
`clean_params` / `export_rows` unchanged (keys below)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from grc.backoffice.models import ExportJob
from grc.backoffice.queues import selectors as queues
from grc.base import access as base_access
from grc.base.access import NotFound
from grc.base.calendar import PARIS
from grc.base.models import Channel
from grc.demarches.access import dossiers_visible_to_staff
from grc.demarches.models import DemarcheVersion, Dossier
from grc.demarches.search import clean_query
from grc.demarches.services.assignment import TAG_MAX_LENGTH
from grc.demarches.workflow import definition as workflow_definition

# The list's filters, as the queue page has them (grc.backoffice.queues): the queue ("file",
# its slug), démarche, status, channel, service, agent ("aucun" or an id), received dates (ISO,
# Paris days), deadline, tag and the search; and the collectivité of the export.
PARAM_KEYS = (
    "file",
    "collectivite",
    "demarche",
    "status",
    "channel",
    "service",
    "assignee",
    "received_from",
    "received_to",
    "deadline",
    "tag",
    "q",
)
CHUNK = 500


def clean_params(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The filters that make sense, and a message for each one that does not (ignored)."""
    params: dict[str, Any] = {}
    problems: list[str] = []
    for key in ("collectivite", "demarche", "service"):
        value = raw.get(key)
        if value in (None, ""):
            continue
        try:
            params[key] = int(value)
        except (TypeError, ValueError):
            problems.append(_("Filtre « %(key)s » ignoré : ce n'est pas un nombre.") % {"key": key})
    for key, limit in (("file", 30), ("status", 50), ("channel", 10), ("deadline", 10)):
        value = raw.get(key)
        if isinstance(value, str) and value.strip():
            params[key] = value.strip()[:limit]
    tag = raw.get("tag")
    if isinstance(tag, str) and tag.strip():
        params["tag"] = " ".join(tag.split())[:TAG_MAX_LENGTH]
    q = clean_query(raw.get("q") or "") if isinstance(raw.get("q"), str) else ""
    if q:
        params["q"] = q
    assignee = raw.get("assignee")
    if isinstance(assignee, str) and (assignee == "aucun" or assignee.isdigit()):
        params["assignee"] = assignee
    for key in ("received_from", "received_to"):
        value = raw.get(key)
        if value in (None, ""):
            continue
        try:
            params[key] = datetime.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            problems.append(
                _("Date « %(value)s » ignorée : elle n'est pas valide.") % {"value": value}
            )
    return params, problems


def export_queryset(user, params: dict[str, Any]) -> QuerySet[Dossier]:
    """The list the person saw: the queue's dossiers through the queue's own filters (the
    same code as the page), in the export's collectivité; every dossier they see when the
    export comes from elsewhere (the dashboard)."""
    params, _problems = clean_params(params)
    if params.get("file"):
        scope = queues.staff_scope(user)
        dossiers = queues.queue_dossiers(scope, queues.queue_by_slug(scope, params["file"]))
    else:
        dossiers = dossiers_visible_to_staff(user)
    day = datetime.date.fromisoformat
    dossiers = queues.apply_filters(
        dossiers,
        queues.Filters(
            demarche=params.get("demarche"),
            status=params.get("status", ""),
            channel=params.get("channel", ""),
            service=params.get("service"),
            assignee=params.get("assignee", ""),
            received_from=day(params["received_from"]) if "received_from" in params else None,
            received_to=day(params["received_to"]) if "received_to" in params else None,
            deadline=params.get("deadline", ""),
            tag=params.get("tag", ""),
            q=params.get("q", ""),
        ),
    )
    if "collectivite" in params:
        dossiers = dossiers.filter(collectivite_id=params["collectivite"])
    return dossiers.order_by("received_at", "pk")


def columns() -> list[str]:
    names = [
        _("Référence"),
        _("Démarche"),
        _("Statut"),
        _("Canal"),
        _("Usager"),
        _("Adresse e-mail"),
        _("Service"),
        _("Agent"),
        _("Reçu le"),
        _("Décision implicite le"),
        _("Clos le"),
        _("Étiquettes"),
    ]
    return names


def _local(moment: datetime.datetime | None) -> datetime.datetime | None:
    return moment.astimezone(PARIS).replace(tzinfo=None) if moment else None


def _status_labels(dossiers: QuerySet[Dossier]) -> dict[tuple[int, str], str]:
    version_ids = dossiers.order_by().values("version_id").distinct()
    labels = {}
    for pk, workflow in DemarcheVersion.objects.filter(pk__in=version_ids).values_list(
        "pk", "workflow"
    ):
        for status in workflow_definition.statuses(workflow or {}):
            labels[(pk, status.get("key"))] = status.get("label") or status.get("key")
    return labels


def export_rows(user, params: dict[str, Any]) -> tuple[int, Iterator[list[Any]]]:
    """How many rows, and the rows (dates as naive Paris times), read in chunks: a large
    export never holds every dossier in memory. A fixed number of queries per chunk."""
    dossiers = export_queryset(user, params)
    total = dossiers.count()
    labels = _status_labels(dossiers)
    channels = dict(Channel.choices)
    rows = dossiers.select_related("demarche", "usager", "service", "assignee").only(
        "tags",
        "reference",
        "status",
        "channel",
        "contact_email",
        "received_at",
        "expected_decision_date",
        "closed_at",
        "version_id",
        "demarche__title",
        "usager__first_name",
        "usager__last_name",
        "usager__email",
        "service__name",
        "assignee__first_name",
        "assignee__last_name",
        "assignee__email",
    )

    def generate() -> Iterator[list[Any]]:
        for d in rows.iterator(chunk_size=CHUNK):
            usager = d.usager
            row = [
                d.reference,
                d.demarche.title,
                labels.get((d.version_id, d.status), d.status),
                str(channels.get(d.channel, d.channel)),
                f"{usager.first_name} {usager.last_name}".strip() if usager else "",
                (usager.email if usager else "") or d.contact_email,
                d.service.name if d.service else "",
                str(d.assignee) if d.assignee else "",
                _local(d.received_at),
                d.expected_decision_date,
                _local(d.closed_at),
                ", ".join(d.tags or []),
            ]
            yield row

    return total, generate()


def may_export(user, collectivite_id: int) -> bool:
    """Staff of the collectivité (platform admins see no dossier, hence export none)."""
    return base_access.works_in(user, collectivite_id) and not base_access.is_platform_admin(user)


def access_export(user, export_id) -> ExportJob:
    """An export for its requester only, while they still work in its collectivité."""
    try:
        job = ExportJob.objects.get(pk=export_id, requested_by_id=getattr(user, "pk", None))
    except (ExportJob.DoesNotExist, ValueError, TypeError):
        raise NotFound from None
    if not may_export(user, job.collectivite_id):
        raise NotFound
    return job


def exports_of(user):
    if not (user and user.is_authenticated):
        return ExportJob.objects.none()
    return ExportJob.objects.filter(requested_by=user).select_related("collectivite")


def describe(jobs: list[ExportJob]) -> None:
    """Set `job.description` (what the export holds, in words) on each job: two queries for
    the whole list."""
    from grc.base.models import Service
    from grc.demarches.models import Demarche

    def ids(key: str) -> set[int]:
        return {j.params.get(key) for j in jobs if isinstance(j.params.get(key), int)}

    services = dict(Service.objects.filter(pk__in=ids("service")).values_list("pk", "name"))
    demarches = dict(Demarche.objects.filter(pk__in=ids("demarche")).values_list("pk", "title"))
    for job in jobs:
        params = job.params or {}
        parts = [_("Dossiers")]
        if params.get("service") in services:
            parts.append(_("service %(name)s") % {"name": services[params["service"]]})
        if params.get("demarche") in demarches:
            parts.append(demarches[params["demarche"]])
        if params.get("status"):
            parts.append(_("statut %(key)s") % {"key": params["status"]})
        if day := _french_date(params.get("received_from")):
            parts.append(_("reçus depuis le %(day)s") % {"day": day})
        if day := _french_date(params.get("received_to")):
            parts.append(_("reçus jusqu'au %(day)s") % {"day": day})
        job.description = " – ".join(str(p) for p in parts)


def _french_date(value: Any) -> str:
    try:
        return datetime.date.fromisoformat(str(value)).strftime("%d/%m/%Y") if value else ""
    except ValueError:
        return ""
