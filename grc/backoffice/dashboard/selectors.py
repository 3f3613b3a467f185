"""The dashboard's figures, read for one scope (a collectivité, or one of its services) within
what the person may see (grc.demarches.access.dossiers_visible_to_staff). Every figure is one
aggregate query, whatever the number of dossiers.

Definitions (said on the page too):
- weeks run Monday to Sunday in Europe/Paris; the last WEEKS weeks, this one included;
- the time to decision is closed_at − received_at of the dossiers closed in those weeks
  (median and 90th percentile by PostgreSQL's percentile_cont);
- a legal deadline is missed by a dossier closed in those weeks after its expected decision
  date, or by an open dossier whose date has passed; coming: open dossiers whose date falls
  in the next COMING_DAYS days (today included).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Aggregate, Count, F, FloatField, Func, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils.translation import gettext as _

from grc.base.access import NotFound
from grc.base.calendar import PARIS
from grc.base.models import Channel, Membership, Role, Service
from grc.demarches.access import dossiers_visible_to_staff
from grc.demarches.models import DemarcheVersion, Dossier
from grc.demarches.workflow import definition as workflow_definition

WEEKS = 12
COMING_DAYS = 15
SECONDS_PER_DAY = 86400
MAX_SERIES = 8  # bars of more colours than this are not told apart


@dataclass(frozen=True)
class Scope:
    key: str  # "c<collectivité id>" or "s<service id>"
    label: str
    collectivite_id: int
    service_id: int | None = None


def scopes_for(user) -> list[Scope]:
    """What the person may look at: each collectivité they administer (whole, and service by
    service), and the services they work in elsewhere."""
    if not (user and user.is_authenticated and user.is_active):
        return []
    memberships = list(
        Membership.objects.filter(user=user, collectivite__is_active=True)
        .select_related("collectivite", "service")
        .order_by("collectivite__name", "service__name")
    )
    administered = {m.collectivite_id: m.collectivite for m in memberships if m.role == Role.ADMIN}
    scopes: list[Scope] = []
    seen: set[str] = set()

    def add(scope: Scope) -> None:
        if scope.key not in seen:
            seen.add(scope.key)
            scopes.append(scope)

    services_of_admin = (
        Service.objects.filter(collectivite_id__in=list(administered)).order_by("name")
        if administered
        else []
    )
    for collectivite in sorted(administered.values(), key=lambda c: c.name):
        add(Scope(f"c{collectivite.pk}", collectivite.name, collectivite.pk))
        for service in services_of_admin:
            if service.collectivite_id == collectivite.pk:
                add(
                    Scope(
                        f"s{service.pk}",
                        f"{collectivite.name} – {service.name}",
                        collectivite.pk,
                        service.pk,
                    )
                )
    for m in memberships:
        if m.role in (Role.AGENT, Role.MANAGER) and m.service_id is not None:
            label = f"{m.collectivite.name} – {m.service.name}"
            add(Scope(f"s{m.service_id}", label, m.collectivite_id, m.service_id))
    return scopes


class BadScope(ValueError):
    """A scope parameter that is not even well formed (the page then shows the first one)."""


def choose_scope(scopes: list[Scope], key: str | None) -> Scope:
    """The scope asked for: the first when none is; BadScope when the key is malformed;
    NotFound when it is well formed but not the person's (or does not exist)."""
    if not scopes:
        raise NotFound
    if not key:
        return scopes[0]
    key = key.strip()
    if len(key) < 2 or key[0] not in "cs" or not key[1:].isdigit():
        raise BadScope(key)
    for scope in scopes:
        if scope.key == key:
            return scope
    raise NotFound


def dossiers_in(user, scope: Scope) -> QuerySet[Dossier]:
    dossiers = dossiers_visible_to_staff(user).filter(collectivite_id=scope.collectivite_id)
    if scope.service_id is not None:
        dossiers = dossiers.filter(service_id=scope.service_id)
    return dossiers


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile (an ordered-set aggregate)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def _seconds_to_decision():
    return Func(
        F("closed_at") - F("received_at"),
        template="EXTRACT(EPOCH FROM %(expressions)s)",
        output_field=FloatField(),
    )


@dataclass
class Series:
    """A chart's data: a value per (row, column); rows are the bars, columns the series."""

    rows: list[str]
    columns: list[str]
    values: dict[tuple[str, str], float] = field(default_factory=dict)

    def value(self, row: str, column: str) -> float:
        return self.values.get((row, column), 0)

    def row_total(self, row: str) -> float:
        return sum(self.value(row, c) for c in self.columns)

    def table(self) -> list[list[float]]:
        return [[self.value(r, c) for c in self.columns] for r in self.rows]


def week_starts(today: datetime.date) -> list[datetime.date]:
    monday = today - datetime.timedelta(days=today.weekday())
    return [monday - datetime.timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]


def _week_label(day: datetime.date) -> str:
    return day.strftime("%d/%m/%Y")


def window_start(today: datetime.date) -> datetime.datetime:
    first = week_starts(today)[0]
    return datetime.datetime.combine(first, datetime.time.min, tzinfo=PARIS)


def received_by_week(dossiers: QuerySet[Dossier], today: datetime.date, by: str) -> Series:
    """Dossiers received per week, split by channel (`by="channel"`) or by démarche."""
    weeks = week_starts(today)
    column_field = "channel" if by == "channel" else "demarche__title"
    counts = (
        dossiers.filter(received_at__gte=window_start(today))
        .annotate(week=TruncWeek("received_at", tzinfo=PARIS))
        .values("week", column_field)
        .annotate(n=Count("id"))
        .order_by()
    )
    channel_labels = dict(Channel.choices)
    series = Series(rows=[_week_label(w) for w in weeks], columns=[])
    found: dict[str, int] = {}
    for item in counts:
        column = item[column_field]
        if by == "channel":
            column = str(channel_labels.get(column, column))
        week = item["week"].astimezone(PARIS).date() if item["week"] else None
        if week is None:
            continue
        key = (_week_label(week), column)
        series.values[key] = series.values.get(key, 0) + item["n"]
        found[column] = found.get(column, 0) + item["n"]
    # Biggest first, then by name: the legend reads like a ranking. Past MAX_SERIES, the
    # smallest are added up as "Autres" (the colours would repeat).
    columns = sorted(found, key=lambda c: (-found[c], c))
    if len(columns) > MAX_SERIES:
        others = _("Autres")
        kept, merged = columns[: MAX_SERIES - 1], set(columns[MAX_SERIES - 1 :])
        values: dict[tuple[str, str], float] = {}
        for (row, column), value in series.values.items():
            key = (row, others if column in merged else column)
            values[key] = values.get(key, 0) + value
        series.values, columns = values, [*kept, others]
    series.columns = columns
    return series


def backlog_by_status(dossiers: QuerySet[Dossier]) -> Series:
    """Open dossiers per status (labels from the workflow of each dossier's version)."""
    counts = list(
        dossiers.filter(closed_at__isnull=True)
        .values("version_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    workflows = dict(
        DemarcheVersion.objects.filter(pk__in={c["version_id"] for c in counts}).values_list(
            "pk", "workflow"
        )
    )
    totals: dict[str, int] = {}
    for item in counts:
        status = workflow_definition.status(workflows.get(item["version_id"]) or {}, item["status"])
        label = (status or {}).get("label") or item["status"]
        totals[label] = totals.get(label, 0) + item["n"]
    column = _("Dossiers ouverts")
    rows = sorted(totals, key=lambda label: (-totals[label], label))
    return Series(rows=rows, columns=[column], values={(r, column): totals[r] for r in rows})


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / SECONDS_PER_DAY, 1)


@dataclass
class Durations:
    count: int
    median_days: float | None
    p90_days: float | None
    by_demarche: Series


def time_to_decision(dossiers: QuerySet[Dossier], today: datetime.date) -> Durations:
    closed = dossiers.filter(closed_at__gte=window_start(today), received_at__isnull=False)
    figures = {
        "n": Count("id"),
        "median": PercentileCont(_seconds_to_decision(), 0.5),
        "p90": PercentileCont(_seconds_to_decision(), 0.9),
    }
    overall = closed.aggregate(**figures)
    per_demarche = closed.values("demarche__title").annotate(**figures).order_by("demarche__title")
    median, p90 = _("Médiane (jours)"), _("90e centile (jours)")
    series = Series(rows=[], columns=[median, p90])
    for item in per_demarche:
        row = item["demarche__title"]
        series.rows.append(row)
        series.values[(row, median)] = _days(item["median"]) or 0
        series.values[(row, p90)] = _days(item["p90"]) or 0
    return Durations(
        count=overall["n"],
        median_days=_days(overall["median"]),
        p90_days=_days(overall["p90"]),
        by_demarche=series,
    )


@dataclass
class Deadlines:
    closed_late: int
    open_overdue: int
    coming: int
    coming_by_day: Series

    @property
    def missed(self) -> int:
        return self.closed_late + self.open_overdue


def deadlines(dossiers: QuerySet[Dossier], today: datetime.date) -> Deadlines:
    start = window_start(today)
    horizon = today + datetime.timedelta(days=COMING_DAYS - 1)
    has_date = dossiers.filter(expected_decision_date__isnull=False)
    open_ = Q(closed_at__isnull=True)
    figures = has_date.aggregate(
        closed_late=Count(
            "id",
            filter=Q(
                closed_at__gte=start,
                closed_at__date__gt=F("expected_decision_date"),
            ),
        ),
        open_overdue=Count("id", filter=open_ & Q(expected_decision_date__lt=today)),
        coming=Count(
            "id",
            filter=open_
            & Q(expected_decision_date__gte=today, expected_decision_date__lte=horizon),
        ),
    )
    per_day = dict(
        has_date.filter(
            open_, expected_decision_date__gte=today, expected_decision_date__lte=horizon
        )
        .values_list("expected_decision_date")
        .annotate(n=Count("id"))
        .order_by()
    )
    column = _("Dossiers à décider")
    days = [today + datetime.timedelta(days=n) for n in range(COMING_DAYS)]
    series = Series(rows=[d.strftime("%d/%m/%Y") for d in days], columns=[column])
    for day in days:
        if per_day.get(day):
            series.values[(day.strftime("%d/%m/%Y"), column)] = per_day[day]
    return Deadlines(
        closed_late=figures["closed_late"],
        open_overdue=figures["open_overdue"],
        coming=figures["coming"],
        coming_by_day=series,
    )
