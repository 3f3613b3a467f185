"""The dashboard: a collectivité's or a service's figures, as server-drawn SVG charts with
their numbers in tables, each downloadable as CSV (`?format=csv&graphique=<name>`; the CSV
conventions are in grc.backoffice.exports.writers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grc.backoffice.dashboard import charts, selectors
from grc.backoffice.dashboard.selectors import Series
from grc.backoffice.exports.writers import csv_response
from grc.base.calendar import paris_today


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    row_header: str
    draw: Callable[..., str]
    totals: bool = False


CHARTS = {
    "canaux": Chart(
        "canaux",
        gettext_lazy("Dossiers reçus par semaine et par canal"),
        gettext_lazy("Semaine du"),
        charts.stacked_columns,
        totals=True,
    ),
    "demarches": Chart(
        "demarches",
        gettext_lazy("Dossiers reçus par semaine et par démarche"),
        gettext_lazy("Semaine du"),
        charts.stacked_columns,
        totals=True,
    ),
    "statuts": Chart(
        "statuts",
        gettext_lazy("Dossiers ouverts par statut"),
        gettext_lazy("Statut"),
        charts.horizontal_bars,
    ),
    "delais": Chart(
        "delais",
        gettext_lazy("Délai de décision par démarche (dossiers clos sur la période)"),
        gettext_lazy("Démarche"),
        charts.horizontal_bars,
    ),
    "echeances": Chart(
        "echeances",
        gettext_lazy("Décisions implicites à venir, par jour"),
        gettext_lazy("Date"),
        charts.stacked_columns,
    ),
}


def _series(name: str, dossiers, today) -> Series:
    if name == "canaux":
        return selectors.received_by_week(dossiers, today, by="channel")
    if name == "demarches":
        return selectors.received_by_week(dossiers, today, by="demarche")
    if name == "statuts":
        return selectors.backlog_by_status(dossiers)
    if name == "delais":
        return selectors.time_to_decision(dossiers, today).by_demarche
    return selectors.deadlines(dossiers, today).coming_by_day


def _table(chart: Chart, series: Series) -> dict:
    header = [str(chart.row_header), *series.columns]
    rows = []
    for row, values in zip(series.rows, series.table(), strict=True):
        rows.append([row, *values, *([series.row_total(row)] if chart.totals else [])])
    if chart.totals and len(series.columns) > 0:
        header.append(_("Total"))
    return {"header": header, "rows": rows}


@login_required
def dashboard(request):
    scopes = selectors.scopes_for(request.user)
    try:
        scope = selectors.choose_scope(scopes, request.GET.get("perimetre"))
    except selectors.BadScope:
        messages.warning(request, _("Ce périmètre n'existe pas : voici le premier des vôtres."))
        scope = scopes[0]
    dossiers = selectors.dossiers_in(request.user, scope)
    today = paris_today()

    if request.GET.get("format") == "csv":
        chart = CHARTS.get(request.GET.get("graphique", ""))
        if chart is not None:
            table = _table(chart, _series(chart.name, dossiers, today))
            return csv_response(
                [table["header"], *table["rows"]], filename=f"{chart.name}-{scope.label}"
            )
        messages.warning(request, _("Ce graphique n'existe pas : voici le tableau de bord."))

    durations = selectors.time_to_decision(dossiers, today)
    deadlines = selectors.deadlines(dossiers, today)
    computed = {
        "canaux": selectors.received_by_week(dossiers, today, by="channel"),
        "demarches": selectors.received_by_week(dossiers, today, by="demarche"),
        "statuts": selectors.backlog_by_status(dossiers),
        "delais": durations.by_demarche,
        "echeances": deadlines.coming_by_day,
    }
    panels = []
    for name, series in computed.items():
        chart = CHARTS[name]
        panels.append(
            {
                "name": name,
                "title": chart.title,
                "svg": chart.draw(series, title=str(chart.title), chart_id=f"chart-{name}")
                if series.rows
                else "",
                "table": _table(chart, series),
                "empty": not series.values,
            }
        )
    return render(
        request,
        "backoffice/dashboard/dashboard.html",
        {
            "section": "dashboard",
            "scopes": scopes,
            "scope": scope,
            "panels": {p["name"]: p for p in panels},
            "durations": durations,
            "deadlines": deadlines,
            "weeks": selectors.WEEKS,
            "coming_days": selectors.COMING_DAYS,
            "since": selectors.week_starts(today)[0],
            "today": today,
        },
    )
