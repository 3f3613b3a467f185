"""The dashboard's figures on a small known data set, its CSV downloads, its scope (another
collectivité's or service's dossiers never counted) and its query budget."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grc.backoffice.dashboard import selectors
from grc.base.calendar import PARIS, paris_today
from grc.base.models import Role
from grc.demarches.models import Dossier
from tests.backoffice.conftest import HOST
from tests.demarches.dossier_helpers import demarche_for, file_dossier, quiet_workflow
from tests.factories import MembershipFactory, ServiceFactory

pytestmark = pytest.mark.django_db

URL = "/backoffice/tableau-de-bord/"


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=PARIS)


def put(dossier, **changes) -> Dossier:
    Dossier.objects.filter(pk=dossier.pk).update(**changes)
    dossier.refresh_from_db()
    return dossier


class Data:
    """Six dossiers of tenant A's service, one of another service of A, one of tenant B."""

    def __init__(self, tenant_a, tenant_b):
        today = paris_today()
        self.today = today
        monday = today - datetime.timedelta(days=today.weekday())
        last_week = monday - datetime.timedelta(weeks=1)
        self.monday, self.last_week = monday, last_week
        one = demarche_for(tenant_a, slug="etat-civil", workflow=quiet_workflow())
        two = demarche_for(
            tenant_a, slug="voirie", title="Signalement voirie", workflow=quiet_workflow()
        )
        self.demarches = (one, two)

        def dossier(demarche, received, channel="web", closed_after=None, expected=None, **kw):
            d = file_dossier(demarche, contact_email="a@exemple.test")
            changes = {"received_at": received, "channel": channel, **kw}
            changes["expected_decision_date"] = expected
            if closed_after is not None:
                changes["closed_at"] = received + closed_after
                changes["status"] = "accepte"
            return put(d, **changes)

        days = datetime.timedelta(days=1)
        self.d1 = dossier(one, at(monday), closed_after=2 * days, expected=monday + 10 * days)
        self.d2 = dossier(
            one, at(monday), "email", closed_after=4 * days, expected=monday + 3 * days
        )
        self.d3 = dossier(two, at(last_week), "phone", closed_after=6 * days)
        self.d4 = dossier(two, at(last_week), expected=today - days, status="instruction")
        self.d5 = dossier(one, at(monday - datetime.timedelta(weeks=2)), expected=today + 5 * days)
        self.d6 = dossier(
            one, at(monday - datetime.timedelta(weeks=20)), expected=today + 20 * days
        )
        # Another service of A: in the collectivité's figures, not in the service's.
        self.other_service = ServiceFactory(collectivite=tenant_a.collectivite, name="Voirie")
        self.d7 = dossier(two, at(monday), service=self.other_service, expected=today)
        # Tenant B: never in A's figures.
        b = demarche_for(tenant_b, slug="b", workflow=quiet_workflow())
        dossier(b, at(monday), closed_after=days, expected=monday - 5 * days)
        dossier(b, at(monday), expected=today + days)


@pytest.fixture
def data(tenant_a, tenant_b):
    return Data(tenant_a, tenant_b)


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def scope_of(tenant, *, service=False):
    if service:
        return selectors.Scope(
            f"s{tenant.service.pk}", "", tenant.collectivite.pk, tenant.service.pk
        )
    return selectors.Scope(f"c{tenant.collectivite.pk}", "", tenant.collectivite.pk)


def test_received_per_week_by_channel_and_demarche(data, tenant_a):
    dossiers = selectors.dossiers_in(tenant_a.admin, scope_of(tenant_a))
    by_channel = selectors.received_by_week(dossiers, data.today, by="channel")
    this_week = data.monday.strftime("%d/%m/%Y")
    last_week = data.last_week.strftime("%d/%m/%Y")
    assert len(by_channel.rows) == 12 and by_channel.rows[-1] == this_week
    assert by_channel.value(this_week, "Site web") == 2  # d1 and d7
    assert by_channel.value(this_week, "Courriel") == 1
    assert by_channel.value(last_week, "Téléphone") == 1
    assert by_channel.value(last_week, "Site web") == 1
    assert sum(by_channel.row_total(r) for r in by_channel.rows) == 6  # d6 is older
    by_demarche = selectors.received_by_week(dossiers, data.today, by="demarche")
    assert by_demarche.value(this_week, "Démarche de test") == 2
    assert by_demarche.value(this_week, "Signalement voirie") == 1


def test_backlog_durations_and_deadlines(data, tenant_a):
    dossiers = selectors.dossiers_in(tenant_a.admin, scope_of(tenant_a))
    backlog = selectors.backlog_by_status(dossiers)
    assert backlog.values == {
        ("Déposé", "Dossiers ouverts"): 3,  # d5, d6, d7
        ("En instruction", "Dossiers ouverts"): 1,  # d4
    }
    durations = selectors.time_to_decision(dossiers, data.today)
    assert durations.count == 3
    assert durations.median_days == 4.0
    assert durations.p90_days == 5.6  # percentile_cont over 2, 4, 6 days
    deadlines = selectors.deadlines(dossiers, data.today)
    assert (deadlines.closed_late, deadlines.open_overdue) == (1, 1)  # d2, d4
    assert deadlines.missed == 2
    assert deadlines.coming == 2  # d5 (in 5 days), d7 (today); not d6 (in 20 days)


def test_a_service_scope_counts_its_own_dossiers_only(data, tenant_a):
    dossiers = selectors.dossiers_in(tenant_a.agent, scope_of(tenant_a, service=True))
    assert set(dossiers) == {data.d1, data.d2, data.d3, data.d4, data.d5, data.d6}
    assert selectors.deadlines(dossiers, data.today).coming == 1


def test_the_page_draws_charts_with_their_numbers(data, client, tenant_a):
    client.force_login(tenant_a.admin)
    page = client.get(URL, HTTP_HOST=HOST)
    assert page.status_code == 200
    html = page.text
    assert html.count('role="img"') == 5
    assert '<title id="chart-canaux-title">Dossiers reçus par semaine et par canal</title>' in html
    assert html.count("<details>") == 5
    assert [s.key for s in page.context["scopes"]] == [
        f"c{tenant_a.collectivite.pk}",
        f"s{tenant_a.service.pk}",
        f"s{data.other_service.pk}",
    ]
    assert page.context["deadlines"].missed == 2
    assert "Commune B" not in html


def test_chart_data_as_csv(data, client, tenant_a):
    client.force_login(tenant_a.admin)
    response = client.get(
        URL,
        {"perimetre": f"c{tenant_a.collectivite.pk}", "format": "csv", "graphique": "canaux"},
        HTTP_HOST=HOST,
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="canaux-')
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:]), delimiter=";"))
    assert rows[0] == ["Semaine du", "Site web", "Courriel", "Téléphone", "Total"]
    assert rows[-1] == [data.monday.strftime("%d/%m/%Y"), "2", "1", "0", "3"]
    assert len(rows) == 13

    durations = client.get(
        URL, {"format": "csv", "graphique": "delais"}, HTTP_HOST=HOST
    ).content.decode()
    rows = list(csv.reader(io.StringIO(durations[1:]), delimiter=";"))
    assert rows[0] == ["Démarche", "Médiane (jours)", "90e centile (jours)"]
    assert rows[1] == ["Démarche de test", "3", "3,8"]  # d1 (2 days) and d2 (4 days)


def test_the_service_scope_on_the_page(data, client, tenant_a):
    client.force_login(tenant_a.agent)
    page = client.get(URL, HTTP_HOST=HOST)
    assert [s.key for s in page.context["scopes"]] == [f"s{tenant_a.service.pk}"]
    assert page.context["deadlines"].coming == 1


def test_bad_parameters_give_the_normal_page(data, client, tenant_a):
    client.force_login(tenant_a.admin)
    page = client.get(URL, {"perimetre": "n'importe quoi"}, HTTP_HOST=HOST)
    assert page.status_code == 200
    assert "Ce périmètre n'existe pas" in messages_of(page)
    page = client.get(URL, {"format": "csv", "graphique": "<script>"}, HTTP_HOST=HOST)
    assert page.status_code == 200
    assert "Ce graphique n'existe pas" in messages_of(page)


def test_out_of_scope_is_not_found(data, client, tenant_a, tenant_b, platform_admin):
    other_agent = MembershipFactory(
        collectivite=tenant_a.collectivite, role=Role.AGENT, service=data.other_service
    ).user
    cases = [
        (tenant_b.agent, f"c{tenant_a.collectivite.pk}"),
        (tenant_b.admin, f"s{tenant_a.service.pk}"),
        (tenant_a.agent, f"c{tenant_a.collectivite.pk}"),  # an agent: their service only
        (other_agent, f"s{tenant_a.service.pk}"),
        (tenant_a.admin, f"c{tenant_b.collectivite.pk}"),
        (tenant_a.admin, "s999999"),
    ]
    for user, key in cases:
        client.force_login(user)
        for extra in ({}, {"format": "csv", "graphique": "canaux"}):
            response = client.get(URL, {"perimetre": key, **extra}, HTTP_HOST=HOST)
            assert response.status_code == 404, (user, key, extra)
    client.force_login(platform_admin)
    assert client.get(URL, HTTP_HOST=HOST).status_code == 404


def test_the_query_count_does_not_grow_with_dossiers(data, client, tenant_a):
    client.force_login(tenant_a.admin)
    client.get(URL, HTTP_HOST=HOST)  # warm the session and caches
    with CaptureQueriesContext(connection) as before:
        client.get(URL, HTTP_HOST=HOST)
    for _ in range(5):
        file_dossier(data.demarches[1], contact_email="b@exemple.test")
    with CaptureQueriesContext(connection) as after:
        client.get(URL, HTTP_HOST=HOST)
    assert len(after) == len(before)
    assert len(before) <= 16


def test_charts_escape_names_and_group_small_series():
    from grc.backoffice.dashboard import charts

    columns = [f"Démarche {n}" for n in range(10)] + ["<script>alert(1)</script>"]
    series = selectors.Series(rows=["01/06/2026"], columns=columns)
    series.values = {("01/06/2026", c): 1 for c in columns}
    svg = charts.stacked_columns(series, title="Reçus & traités", chart_id="t")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert '<title id="t-title">Reçus &amp; traités</title>' in svg
    assert svg.count('class="chart-legend"') == 11
    bars = charts.horizontal_bars(series, title="x", chart_id="h")
    assert "<script>" not in bars and bars.startswith("<svg") and bars.endswith("</svg>")


def test_more_demarches_than_colours_are_grouped(tenant_a, tenant_b):
    today = paris_today()
    monday = today - datetime.timedelta(days=today.weekday())
    for n in range(selectors.MAX_SERIES + 1):
        demarche = demarche_for(tenant_a, slug=f"d{n}", title=f"D{n}", workflow=quiet_workflow())
        for _ in range(n + 1):
            put(file_dossier(demarche, contact_email="a@exemple.test"), received_at=at(monday))
    dossiers = selectors.dossiers_in(tenant_a.admin, scope_of(tenant_a))
    series = selectors.received_by_week(dossiers, today, by="demarche")
    assert series.columns == ["D8", "D7", "D6", "D5", "D4", "D3", "D2", "Autres"]
    assert series.value(monday.strftime("%d/%m/%Y"), "Autres") == 1 + 2  # D0 and D1
