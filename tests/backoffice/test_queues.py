"""The agents' queues: what each holds, filters and search, keyset pagination, bad input, scope,
and a query count that does not grow with the rows."""

from __future__ import annotations

import datetime
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grc.backoffice.queues import selectors
from grc.base.models import Channel, Role, Usager
from grc.demarches.models import Dossier, PieceRequest
from grc.demarches.search import refresh_search
from grc.demarches.services import messages as message_services
from tests.backoffice.conftest import HOST
from tests.demarches.dossier_helpers import demarche_for, file_dossier
from tests.factories import MembershipFactory, ServiceFactory

pytestmark = pytest.mark.django_db

URL = "/backoffice/dossiers/"


def queue_url(slug: str) -> str:
    return f"{URL}{slug}/"


@pytest.fixture
def demarche(tenant_a):
    return demarche_for(tenant_a)


def login(client, user):
    client.force_login(user)
    client.defaults["HTTP_HOST"] = HOST
    return client


def clone(dossier: Dossier, count: int, *, start: int = 0, **changes) -> list[Dossier]:
    """`count` more dossiers like `dossier` (fast: one INSERT), received one hour apart."""
    rows = []
    for i in range(start, start + count):
        fields = {
            "collectivite_id": dossier.collectivite_id,
            "demarche_id": dossier.demarche_id,
            "version_id": dossier.version_id,
            "usager_id": dossier.usager_id,
            "contact_email": dossier.contact_email,
            "channel": dossier.channel,
            "answers": dossier.answers,
            "status": dossier.status,
            "service_id": dossier.service_id,
            "reference": f"{dossier.reference}-C{i:03d}",
            "received_at": dossier.received_at - datetime.timedelta(hours=i + 1),
            "submitted_at": dossier.submitted_at,
            "expected_decision_date": dossier.expected_decision_date,
        }
        fields.update(changes)
        rows.append(Dossier(**fields))
    return Dossier.objects.bulk_create(rows)


def references(response) -> list[str]:
    return [row["dossier"].reference for row in response.context["page"].rows]


def warnings(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- Queues ----------------------------------------------------------------------------------


def test_each_queue_holds_its_dossiers(agent_client, tenant_a, demarche):
    mine = file_dossier(demarche, contact_email="a@exemple.fr")
    Dossier.objects.filter(pk=mine.pk).update(assignee=tenant_a.agent)
    unassigned = file_dossier(demarche, contact_email="b@exemple.fr")
    other_agent = file_dossier(demarche, contact_email="c@exemple.fr")
    Dossier.objects.filter(pk=other_agent.pk).update(assignee=tenant_a.manager)
    waiting = file_dossier(demarche, contact_email="d@exemple.fr")
    PieceRequest.objects.create(
        dossier=waiting,
        items=["Justificatif"],
        deadline=datetime.date(2030, 1, 1),
        requested_at=timezone.now(),
    )
    today = timezone.localdate()
    due = file_dossier(demarche, contact_email="e@exemple.fr")
    Dossier.objects.filter(pk=due.pk).update(
        expected_decision_date=today + datetime.timedelta(days=3)
    )
    late = file_dossier(demarche, contact_email="f@exemple.fr")
    Dossier.objects.filter(pk=late.pk).update(
        expected_decision_date=None, timer_due_on=today - datetime.timedelta(days=2)
    )
    Dossier.objects.exclude(pk__in=[due.pk, late.pk]).update(
        expected_decision_date=today + datetime.timedelta(days=60)
    )
    closed = file_dossier(demarche, contact_email="g@exemple.fr")
    Dossier.objects.filter(pk=closed.pk).update(closed_at=timezone.now(), assignee=tenant_a.agent)

    def queue(slug, client=agent_client):
        response = client.get(queue_url(slug))
        assert response.status_code == 200
        return set(references(response))

    assert queue("a-traiter") == {mine.reference}
    assert agent_client.get(URL).context["queue"].slug == "a-traiter"
    open_ones = {d.reference for d in (mine, unassigned, other_agent, waiting, due, late)}
    assert queue("mes-services") == open_ones
    assert queue("non-attribues") == {d.reference for d in (unassigned, waiting, due, late)}
    assert queue("attente-usager") == {waiting.reference}
    assert "pièces demandées" in agent_client.get(queue_url("attente-usager")).text
    assert queue("echeance") == {due.reference, late.reference}
    # "Tous" is for managers and admins, closed dossiers included.
    assert agent_client.get(queue_url("tous")).status_code == 404
    manager = login(agent_client, tenant_a.manager)
    assert queue("tous", manager) == open_ones | {closed.reference}
    admin = login(agent_client, tenant_a.admin)
    assert queue("tous", admin) == open_ones | {closed.reference}
    page = admin.get(queue_url("echeance"))
    assert "dépassée" in page.text  # the late one says so in words, not only in red
    # A box per row for the bulk actions, in their form.
    assert 'id="bulk-form"' in page.text
    assert f'name="dossiers" value="{late.pk}"' in page.text
    assert 'name="action"' in page.text  # the bulk actions' choices
    assert f'href="/backoffice/dossiers/{late.pk}/"' in page.text
    assert 'href="/backoffice/dossiers/"' in page.text  # the menu's "Dossiers"
    home = admin.get("/backoffice/")
    counts = {row["queue"].slug: row["count"] for row in home.context["queue_counts"]}
    assert counts == {
        "a-traiter": 0,
        "mes-services": 0,  # an admin without a service
        "non-attribues": 4,
        "attente-usager": 1,
        "echeance": 2,
        "tous": 7,
    }
    assert 'href="/backoffice/dossiers/echeance/"' in home.text


def test_scope_agent_of_another_service_or_collectivite_sees_nothing(
    client, tenant_a, tenant_b, demarche, platform_admin
):
    dossier = file_dossier(demarche, contact_email="a@exemple.fr")
    other_service = ServiceFactory(collectivite=tenant_a.collectivite)
    outsider = MembershipFactory(
        collectivite=tenant_a.collectivite, role=Role.AGENT, service=other_service
    ).user
    for user in (outsider, tenant_b.agent, tenant_b.admin, tenant_b.manager):
        login(client, user)
        for slug in ("mes-services", "non-attribues", "echeance", "attente-usager"):
            response = client.get(queue_url(slug), {"q": dossier.reference})
            assert response.status_code == 200
            assert references(response) == []
            assert references(client.get(queue_url(slug))) == []
        if user in (tenant_b.admin, tenant_b.manager):
            assert references(client.get(queue_url("tous"))) == []
    # Without a role anywhere, there is no queue at all (platform admins included).
    for user in (platform_admin,):
        login(client, user)
        for url in (URL, *(queue_url(q.slug) for q in selectors.QUEUES)):
            assert client.get(url).status_code == 404, url
    client.logout()
    assert client.get(URL).status_code == 302  # to the login page


# --- Filters and bad input -------------------------------------------------------------------


def test_filters(agent_client, tenant_a, demarche):
    web = file_dossier(demarche, contact_email="a@exemple.fr")
    phone = file_dossier(demarche, contact_email="b@exemple.fr")
    Dossier.objects.filter(pk=phone.pk).update(
        channel=Channel.PHONE,
        tags=["urgent", "élu"],
        received_at=timezone.make_aware(datetime.datetime(2026, 3, 10, 9)),
        assignee=tenant_a.agent,
    )
    url = queue_url("mes-services")

    def listed(**params):
        response = agent_client.get(url, params)
        assert response.status_code == 200
        assert not warnings(response), warnings(response)
        return set(references(response))

    assert listed(channel="phone") == {phone.reference}
    assert listed(tag="urgent") == {phone.reference}
    assert listed(tag="élu") == {phone.reference}
    assert listed(received_from="2026-03-10", received_to="2026-03-10") == {phone.reference}
    assert listed(received_to="2026-03-09") == set()
    assert listed(assignee="aucun") == {web.reference}
    assert listed(assignee=str(tenant_a.agent.pk)) == {phone.reference}
    assert listed(status=web.status) == {web.reference, phone.reference}
    assert listed(demarche=str(demarche.pk), service=str(tenant_a.service.pk)) == {
        web.reference,
        phone.reference,
    }
    assert listed(deadline="aucune") == set()
    sort = agent_client.get(url, {"sort": "recus-anciens"})
    assert references(sort) == [phone.reference, web.reference]


@pytest.mark.parametrize(
    ("params", "ignored"),
    [
        ({"received_from": "2026-13-45"}, "Reçu à partir du"),
        ({"received_to": "31/02/2026"}, "Reçu jusqu'au"),
        ({"received_to": "9999-12-31"}, "Reçu jusqu'au"),
        ({"demarche": "999999"}, "Démarche"),
        ({"assignee": "'; DROP TABLE"}, "Agent"),
        ({"status": "<script>"}, "Statut"),
        ({"sort": "%_'\"<>\\"}, "Trier par"),
        ({"q": "nul\x00"}, "Rechercher"),
        ({"tag": "x" * 41}, "Étiquette"),
    ],
)
def test_a_bad_filter_gives_the_normal_page_and_a_message(agent_client, demarche, params, ignored):
    dossier = file_dossier(demarche, contact_email="a@exemple.fr")
    response = agent_client.get(queue_url("mes-services"), params)
    assert response.status_code == 200
    assert references(response) == [dossier.reference]  # the other filters still apply
    assert any(ignored in message for message in warnings(response)), warnings(response)
    assert "<script>" not in response.text


@pytest.mark.parametrize(
    "query", ["%_'\"<>\\", "'", '"', "\\", "(", "zzz & | !qqq", "-", ":*", "x" * 500]
)
def test_odd_characters_in_the_search(agent_client, demarche, query):
    file_dossier(demarche, contact_email="a@exemple.fr")
    response = agent_client.get(queue_url("mes-services"), {"q": query})
    assert response.status_code == 200
    assert references(response) == []


def test_a_bad_cursor_or_page_gives_the_first_page_and_a_message(agent_client, demarche):
    first = file_dossier(demarche, contact_email="a@exemple.fr")
    url = queue_url("mes-services")
    for params in (
        {"apres": "pas-un-curseur"},
        {"avant": "%_'\"<>\\"},
        {"apres": "WyJyZWN1cy1yZWNlbnRzIiwgMSwgMl0"},  # a JSON list, a number for a date
        {"page": "500"},
        {"page": "abc"},
    ):
        response = agent_client.get(url, params)
        assert response.status_code == 200, params
        assert references(response) == [first.reference]
        assert warnings(response), params
    # A cursor for another sort than the list's.
    cursor = selectors.Cursor(sort="echeance", key=datetime.date(2026, 1, 1), id=1).encode()
    response = agent_client.get(url, {"apres": cursor})
    assert references(response) == [first.reference] and warnings(response)
    # Past the end: a well-formed cursor after the last dossier.
    cursor = selectors.Cursor(
        sort="recus-recents", key=first.received_at - datetime.timedelta(days=1), id=1
    ).encode()
    response = agent_client.get(url, {"apres": cursor})
    assert response.status_code == 200
    assert references(response) == [first.reference]
    assert any("la liste a changé" in m for m in warnings(response))


# --- Keyset pagination and query count -------------------------------------------------------


def test_keyset_pagination_walks_the_list_both_ways(agent_client, demarche, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 5)
    first = file_dossier(demarche, contact_email="a@exemple.fr")
    # Twelve dossiers, two of them received at the same instant (the id breaks the tie).
    clone(first, 10)
    clone(first, 1, start=50, received_at=first.received_at - datetime.timedelta(hours=3))
    expected = list(
        Dossier.objects.filter(demarche=demarche)
        .order_by("-received_at", "-id")
        .values_list("reference", flat=True)
    )
    assert len(expected) == 12
    url = queue_url("mes-services")
    seen, query, pages = [], {"channel": "web"}, []
    while True:
        response = agent_client.get(url, query)
        assert not warnings(response)
        pages.append((query, references(response)))
        seen += references(response)
        link = response.context["next_query"]
        if not response.context["page"].next_cursor:
            break
        query = {k: v[0] for k, v in parse_qs(link).items()}
        assert query["channel"] == "web"  # the filters follow the pages
    assert seen == expected
    assert [len(refs) for _q, refs in pages] == [5, 5, 2]
    # Back from the last page.
    last = agent_client.get(url, pages[-1][0])
    back = {k: v[0] for k, v in parse_qs(last.context["previous_query"]).items()}
    assert references(agent_client.get(url, back)) == expected[5:10]
    assert 'rel="next"' in last.text or last.context["page"].next_cursor == ""
    assert urlsplit("?" + last.context["previous_query"]).query


def test_the_queue_page_runs_the_same_queries_for_3_and_30_rows(agent_client, tenant_a, demarche):
    first = file_dossier(demarche, contact_email="a@exemple.fr")
    clone(first, 2, assignee=tenant_a.agent, tags=["a"])
    PieceRequest.objects.create(
        dossier=first, items=["x"], deadline=datetime.date(2030, 1, 1), requested_at=timezone.now()
    )
    url = queue_url("mes-services")
    agent_client.get(url)  # session, caches

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = agent_client.get(url, {"q": "", "sort": "echeance"})
        assert response.status_code == 200
        return len(references(response)), len(queries)

    rows, few = count()
    assert rows == 3
    clone(first, 27, start=100, assignee=tenant_a.manager, tags=["b", "c"])
    rows, many = count()
    assert rows == 30
    assert few == many, (few, many)
    assert many <= 13, many


# --- Search ----------------------------------------------------------------------------------


@pytest.fixture
def searchable(tenant_a, demarche, django_capture_on_commit_callbacks, media):
    with django_capture_on_commit_callbacks(execute=True):
        dossier = file_dossier(
            demarche, contact_email="helene.dupre@exemple.fr", objet="Lampadaire clignotant"
        )
    assert Dossier.objects.get(pk=dossier.pk).search is not None  # indexed when filed
    Usager.objects.filter(pk=dossier.usager_id).update(
        first_name="Hélène", last_name="Dupré", phones=["+33612345678"]
    )
    refresh_search([dossier.pk])
    other = file_dossier(demarche, contact_email="jean.martin@exemple.fr", objet="Banc cassé")
    refresh_search([other.pk])
    return Dossier.objects.get(pk=dossier.pk)


@pytest.mark.parametrize(
    "query_of",
    [
        lambda d: d.reference,
        lambda d: d.reference[:-1] + "1",
        lambda d: d.reference.split("-", 1)[1],  # without its prefix
        lambda d: d.reference.lower(),
        lambda d: d.tracking_code,
        lambda d: f"{d.tracking_code[:4]}-{d.tracking_code[4:]}".lower(),
        lambda d: "helene",
        lambda d: "HÉLÈNE dupre",
        lambda d: "dupr",  # the last word as a prefix, as it is typed
        lambda d: "helene.dupre@exemple.fr",
        lambda d: "helene.dupre",
        lambda d: "06 12 34 56 78",
        lambda d: "+33 6 12 34 56 78",
        lambda d: "0612345678",
        lambda d: "lampadaires",  # French stemming
        lambda d: "clignotant lampadaire",
    ],
)
def test_search_finds(agent_client, searchable, query_of):
    query = query_of(searchable)
    response = agent_client.get(queue_url("mes-services"), {"q": query})
    assert response.status_code == 200
    assert references(response) == [searchable.reference], query


def test_a_reference_typed_in_part_finds_every_match(agent_client, searchable):
    refs = references(agent_client.get(queue_url("mes-services"), {"q": searchable.reference[:-2]}))
    assert len(refs) == 2 and searchable.reference in refs


def test_search_finds_message_text_once_written(
    agent_client, tenant_a, searchable, django_capture_on_commit_callbacks
):
    url = queue_url("mes-services")
    assert references(agent_client.get(url, {"q": "stationnement"})) == []
    with django_capture_on_commit_callbacks(execute=True):
        message_services.post_service_message(
            dossier=searchable, actor=tenant_a.agent, body="Le stationnement est réglementé."
        )
    assert references(agent_client.get(url, {"q": "stationnement"})) == [searchable.reference]
    assert references(agent_client.get(url, {"q": "reglemente"})) == [searchable.reference]


def test_search_misses(agent_client, searchable):
    url = queue_url("mes-services")
    for query in ("lampadaire -clignotant", "0699999999", "inconnu", "MAIRIE-1999"):
        assert references(agent_client.get(url, {"q": query})) == [], query


def test_search_combines_with_the_queue_and_filters(agent_client, tenant_a, searchable):
    url = queue_url("a-traiter")
    assert references(agent_client.get(url, {"q": "helene"})) == []
    Dossier.objects.filter(pk=searchable.pk).update(assignee=tenant_a.agent)
    assert references(agent_client.get(url, {"q": "helene"})) == [searchable.reference]
    assert references(agent_client.get(url, {"q": "helene", "channel": "phone"})) == []


def test_a_search_with_many_matches_keeps_the_plain_plan(agent_client, demarche, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_PREFETCH", 1)
    first = file_dossier(demarche, contact_email="a@exemple.fr", objet="Banc cassé")
    second = file_dossier(demarche, contact_email="b@exemple.fr", objet="Banc tagué")
    refresh_search([first.pk, second.pk])
    response = agent_client.get(queue_url("mes-services"), {"q": "banc"})
    assert references(response) == [second.reference, first.reference]


def test_the_home_page_without_a_role(client, platform_admin):
    response = login(client, platform_admin).get("/backoffice/")
    assert response.status_code == 200
    assert response.context["queue_counts"] == []


def test_pages_sorted_by_deadline(agent_client, demarche, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    first = file_dossier(demarche, contact_email="a@exemple.fr")
    day = datetime.date(2027, 1, 1)
    clone(first, 2, expected_decision_date=day)
    clone(first, 1, start=10, expected_decision_date=None)  # no deadline: last
    Dossier.objects.filter(pk=first.pk).update(
        expected_decision_date=day, timer_due_on=day - datetime.timedelta(days=5)
    )
    url = queue_url("mes-services")
    page = agent_client.get(url, {"sort": "echeance"})
    seen = references(page)
    while page.context["page"].next_cursor:
        query = {k: v[0] for k, v in parse_qs(page.context["next_query"]).items()}
        page = agent_client.get(url, query)
        assert not warnings(page)
        seen += references(page)
    assert seen[0] == first.reference and seen[-1].endswith("-C010") and len(seen) == 4


def test_a_citizen_record_renamed_is_found_by_its_new_name(agent_client, tenant_a, searchable):
    from grc.base.services.usagers import update_usager

    url = queue_url("mes-services")
    assert references(agent_client.get(url, {"q": "Berthelot-Nouveau"})) == []
    update_usager(
        actor=tenant_a.agent,
        usager=searchable.usager,
        changes={"last_name": "Berthelot-Nouveau"},
        channel=Channel.COUNTER,
    )
    assert references(agent_client.get(url, {"q": "berthelot nouveau"})) == [searchable.reference]


@pytest.mark.django_db(transaction=True)
def test_the_filtered_list_exports_through_the_worker(
    agent_client, tenant_a, demarche, run_jobs, media
):
    import csv
    import io

    from grc.backoffice.models import ExportJob

    wanted = file_dossier(demarche, contact_email="export@exemple.test", objet="Lampadaire")
    file_dossier(demarche, contact_email="autre@exemple.test", objet="Trottoir")
    page = agent_client.get(
        queue_url("mes-services"), {"channel": "web", "q": "lampadaire"}
    ).content.decode()
    assert 'name="format" value="csv"' in page
    # The export form carries the list as shown: its queue and every filter.
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))
    assert hidden["file"] == "mes-services" and hidden["q"] == "lampadaire"
    asked = agent_client.post("/backoffice/exports/", {"format": "csv", **hidden})
    assert asked.status_code == 302
    job = ExportJob.objects.get(requested_by=tenant_a.agent)
    assert job.params["file"] == "mes-services" and job.params["channel"] == "web"
    run_jobs(["exports"])
    job.refresh_from_db()
    assert job.status == "done"
    rows = list(csv.reader(io.StringIO(job.file.read().decode("utf-8-sig")), delimiter=";"))
    assert [row[0] for row in rows[1:]] == [wanted.reference]  # the list, not every dossier
