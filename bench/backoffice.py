"""Benchmark: the agents' queues on 1,000,000 dossiers and 200,000 citizens.

    .venv/bin/python bench/backoffice.py [--dossiers N] [--citizens N] [--runs N] [--warmup W]
                                         [--deep-page P] [--output PATH]

Runs against a throwaway database (`grc_bench_backoffice_<pid>`) created on the configured
PostgreSQL server (the embedded one when DATABASE_URL is unset), migrated, filled in SQL
(INSERT … SELECT generate_series, indexes rebuilt after the load, as a restore would; the data
are the same at every run) and dropped at the end: the development database is never read or
written. Times, through the Django test client (middleware, session, view, template: the
server's whole work for a request), the queue page

  (a) first page and (b) page P (500) reached by its keyset cursor, for a collectivité admin
      on "Tous" (every dossier) and for an agent on "Mes services" (their service's);
  (c) full-text searches: a citizen's name without its accents, a reference typed in part,
      a phone number as people type it, a word of the answers;

and writes the median and 95th percentile, with the EXPLAIN ANALYZE of each list's query, to
bench/results/backoffice.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

from harness import create_database, drop_database, machine, start_django, summary, timings

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results" / "backoffice.json"
# Per process: the smoke test (tests/test_benches.py) may run while a full run loads its data.
BENCH_DATABASE = f"grc_bench_backoffice_{os.getpid()}"

SERVICES = 10
DEMARCHES = 20  # two per service
AGENTS_PER_SERVICE = 4
PAGE_SIZE = 50

FIRST_NAMES = [
    "Hélène", "Marie", "Thomas", "Léa", "Nicolas", "Camille", "Antoine", "Inès", "Hugo", "Chloé",
    "François", "Émilie", "Jérôme", "Zoé", "Benoît", "Anaïs", "Gaël", "Noémie", "Loïc", "Agnès",
]  # fmt: skip
LAST_NAMES = [
    "Dupré", "Martin", "Bernard", "Lefèvre", "Moreau", "Girard", "Bonnet", "Dubois", "Petit",
    "Durand", "Leroy", "Fournier", "Mercier", "Lambert", "Rousseau", "Vincent", "Müller",
    "Faure", "André", "Chevalier", "Garçon", "Bénard", "Roche", "Perrin", "Clément", "Gauthier",
    "Morel", "Henry", "Roussel", "Mathieu", "Masson", "Marchand", "Duval", "Denis", "Lemaire",
    "Noël", "Meyer", "Dufour", "Blanc", "Guérin", "Boyer", "Garnier", "Chevallier", "François",
    "Legrand", "Gautier", "Robin", "Giraud", "Brun", "Rolland",
]  # fmt: skip
OBJECTS = [
    "Lampadaire en panne rue des Lilas", "Nid-de-poule devant l'école", "Inscription à la cantine",
    "Réservation de la salle des fêtes", "Acte de naissance pour un passeport",
    "Dépôt sauvage près du stade", "Stationnement gênant quai de Loire",
    "Demande de composteur individuel", "Bruit nocturne place du marché",
    "Élagage d'un arbre dangereux",
]  # fmt: skip
WORDS = [
    "urgent", "voirie", "trottoir", "éclairage", "enfants", "école", "association", "bruit",
    "déchets", "stationnement", "arbre", "fuite", "eau", "chaussée", "vélo", "bus",
]  # fmt: skip
DEFINITION = {
    "schema": 1,
    "pages": [
        {
            "key": "demande",
            "title": "Votre demande",
            "condition": None,
            "fields": [
                {"key": "objet", "type": "text", "label": "Objet", "required": True},
                {"key": "precisions", "type": "textarea", "label": "Précisions"},
                {"key": "nombre", "type": "integer", "label": "Nombre"},
            ],
        }
    ],
}
# The default workflow's statuses (grc.demarches.workflow.defaults): open ones first.
OPEN_STATUSES = ["depose", "instruction", "attente_pieces"]
CLOSED_STATUSES = ["accepte", "refuse", "classe"]


# --- Database and data ---------------------------------------------------------------------------


def fixtures() -> dict[str, Any]:
    """A commune with its services, agents, an admin, and published démarches (default
    workflow), through the ordinary services."""
    from stdnum import luhn

    from grc.base.models import Collectivite, Membership, Role, Service, User
    from grc.demarches.models import Demarche
    from grc.demarches.services.demarches import create_demarche, publish_demarche

    siren = "21490007"
    collectivite = Collectivite.objects.create(
        name="Commune du Banc d'Essai",
        slug="banc-essai",
        reference_prefix="BANC",
        kind=Collectivite.Kind.COMMUNE,
        siren=siren + luhn.calc_check_digit(siren),
        city="Angers",
        postal_code="49000",
    )
    admin = User.objects.create_user(email="admin@banc-essai.test", password=None)
    Membership.objects.create(user=admin, collectivite=collectivite, role=Role.ADMIN)
    services, agents, demarches = [], {}, []
    for s in range(SERVICES):
        service = Service.objects.create(
            collectivite=collectivite,
            name=f"Service {s + 1:02d}",
            email=f"s{s}@banc-essai.test",
            phone="+33241000000",
        )
        services.append(service)
        agents[service.pk] = []
        for a in range(AGENTS_PER_SERVICE):
            user = User.objects.create_user(
                email=f"agent{s}-{a}@banc-essai.test",
                password=None,
                first_name=FIRST_NAMES[a],
                last_name=f"Agent{s}",
            )
            Membership.objects.create(
                user=user, collectivite=collectivite, role=Role.AGENT, service=service
            )
            agents[service.pk].append(user.pk)
    for d in range(DEMARCHES):
        service = services[d % SERVICES]
        demarche = create_demarche(
            actor=None,
            collectivite=collectivite,
            service=service,
            definition=DEFINITION,
            data={
                "title": f"Démarche {d + 1:02d}",
                "slug": f"demarche-{d + 1:02d}",
                "who_may_file": Demarche.WhoMayFile.ANONYMOUS,
            },
        )
        publish_demarche(actor=None, demarche=demarche)
        demarche.refresh_from_db()
        demarches.append(demarche)
    versions = {d.pk: d.versions.get(status="published").pk for d in demarches}
    return {
        "collectivite": collectivite,
        "admin": admin,
        "agent": User.objects.get(pk=agents[services[0].pk][0]),
        "agent_service": services[0],
        "demarches": [(d.pk, versions[d.pk], d.service_id) for d in demarches],
        "agents": agents,
    }


def _sql_array(values: list) -> str:
    def literal(value):
        if isinstance(value, int):
            return str(value)
        return "'" + str(value).replace("'", "''") + "'"

    return "ARRAY[" + ",".join(literal(v) for v in values) + "]"


def load(data: dict[str, Any], *, dossiers: int, citizens: int) -> dict[str, float]:
    """Citizens, dossiers, messages and piece requests in SQL, then the search vectors; the
    dossier table's secondary indexes are dropped for the load and rebuilt after it."""
    from django.db import connection

    from grc.demarches.search import REFRESH_ALL_SQL

    seconds: dict[str, float] = {}
    collectivite_id = data["collectivite"].pk
    demarche_ids = [d for d, _v, _s in data["demarches"]]
    version_ids = [v for _d, v, _s in data["demarches"]]
    service_ids = [s for _d, _v, s in data["demarches"]]
    # agents[k * AGENTS_PER_SERVICE + a]: agent a of the service of démarche k
    agent_ids = [data["agents"][s][a] for s in service_ids for a in range(AGENTS_PER_SERVICE)]
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("SET work_mem = '64MB'")
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'demarches_dossier' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')

        start = time.perf_counter()
        cursor.execute(
            f"""
            INSERT INTO base_usager (
                address_line1, address_line2, postal_code, city, country, collectivite_id,
                civility, first_name, last_name, birth_name, email, phones, preferred_channel,
                notes, created_channel, created_at, updated_at, name_key)
            SELECT '', '', '49000', 'Angers', 'FR', %s, '', f.first, l.last, '',
                lower(unaccent(f.first)) || '.' || lower(unaccent(l.last)) || i || '@exemple.fr',
                ARRAY['+336' || lpad((10000000 + i)::text, 8, '0')], '', '', 'web',
                now(), now(), lower(unaccent(f.first || ' ' || l.last))
            FROM generate_series(1, %s) AS i,
                LATERAL (SELECT ({_sql_array(FIRST_NAMES)})[1 + i %% {len(FIRST_NAMES)}]
                    AS first) AS f,
                LATERAL (SELECT ({_sql_array(LAST_NAMES)})[1 + (i / 7) %% {len(LAST_NAMES)}]
                    AS last) AS l
            """,  # noqa: S608 (constants of this file only)
            [collectivite_id, citizens],
        )
        cursor.execute(
            "SELECT min(id) FROM base_usager WHERE collectivite_id = %s", [collectivite_id]
        )
        (first_usager,) = cursor.fetchone()
        seconds["citizens"] = time.perf_counter() - start

        start = time.perf_counter()
        n_dem = len(demarche_ids)
        cursor.execute(
            f"""
            INSERT INTO demarches_dossier (
                uuid, collectivite_id, demarche_id, version_id, reference, tracking_code,
                usager_id, contact_email, channel, answers, status, status_entered_at,
                timer_due_on, closed_at, annotations, service_id, assignee_id, received_at,
                submitted_at, implicit_decision, decision_period, decision_period_unit,
                clock_restarts_on_pieces, expected_decision_date, draft_token, tags,
                created_at, updated_at)
            SELECT gen_random_uuid(), %(collectivite)s, ({_sql_array(demarche_ids)})[k + 1],
                ({_sql_array(version_ids)})[k + 1],
                'BANC-' || (2026 - i / 400000) || '-' || lpad(i::text, 7, '0'),
                'T' || lpad(i::text, 7, '0'),
                %(first_usager)s + (i::bigint * 7919) %% %(citizens)s, '',
                (ARRAY['web','web','web','email','phone','counter','courrier'])[1 + i %% 7],
                jsonb_build_object(
                    'objet', ({_sql_array(OBJECTS)})[1 + i %% {len(OBJECTS)}],
                    'precisions', ({_sql_array(WORDS)})[1 + i %% {len(WORDS)}] || ' '
                        || ({_sql_array(WORDS)})[1 + (i / 3) %% {len(WORDS)}] || ' '
                        || ({_sql_array(WORDS)})[1 + (i / 11) %% {len(WORDS)}],
                    'nombre', i %% 5),
                CASE WHEN closed THEN ({_sql_array(CLOSED_STATUSES)})[1 + i %% 3]
                    ELSE ({_sql_array(OPEN_STATUSES)})[1 + i %% 3] END,
                received,
                CASE WHEN NOT closed AND i %% 3 = 2 THEN (received + interval '30 days')::date
                    END,
                CASE WHEN closed THEN received + interval '20 days' END,
                '{{}}'::jsonb,
                ({_sql_array(service_ids)})[k + 1],
                CASE WHEN i %% 10 < 6 THEN ({_sql_array(agent_ids)})[
                    k * {AGENTS_PER_SERVICE} + 1 + i %% {AGENTS_PER_SERVICE}] END,
                received, received, 'sva', 2, 'months', false,
                CASE WHEN NOT closed THEN (received + interval '2 months')::date END,
                '', CASE WHEN i %% 25 = 0 THEN ARRAY['urgent'] ELSE ARRAY[]::varchar[] END,
                received, received
            FROM generate_series(1, %(dossiers)s) AS i,
                LATERAL (SELECT i %% {n_dem} AS k,
                    timestamptz '2026-11-28 18:00+01' - i * interval '97 seconds' AS received,
                    (i %% 10 >= 3 AND i > %(dossiers)s / 50) AS closed) AS x
            """,  # noqa: S608 (constants of this file only)
            {
                "collectivite": collectivite_id,
                "first_usager": first_usager,
                "citizens": citizens,
                "dossiers": dossiers,
            },
        )
        seconds["dossiers"] = time.perf_counter() - start

        start = time.perf_counter()
        cursor.execute(
            f"""
            INSERT INTO demarches_message (dossier_id, direction, channel, author_id, body,
                created_at)
            SELECT d.id, (ARRAY['out','in','note'])[1 + d.id %% 3], 'web', NULL,
                'Bonjour, ' || ({_sql_array(WORDS)})[1 + d.id %% {len(WORDS)}]
                    || ' : merci de votre message concernant le dossier ' || d.reference,
                d.received_at + interval '1 day'
            FROM demarches_dossier AS d WHERE d.id %% 5 = 0
            """,  # noqa: S608 (constants of this file only)
            [],
        )
        cursor.execute(
            """
            INSERT INTO demarches_piecerequest (dossier_id, items, message, deadline, status,
                requested_at, answer)
            SELECT d.id, '["Justificatif de domicile"]'::jsonb, '', (d.received_at
                + interval '45 days')::date, 'open', d.received_at + interval '2 days', ''
            FROM demarches_dossier AS d WHERE d.status = 'attente_pieces'
            """
        )
        seconds["messages_and_piece_requests"] = time.perf_counter() - start

        start = time.perf_counter()
        cursor.execute(REFRESH_ALL_SQL, [])
        seconds["search_vectors"] = time.perf_counter() - start

        start = time.perf_counter()
        for _name, definition in indexes:
            cursor.execute(definition)
        seconds["indexes"] = time.perf_counter() - start
        start = time.perf_counter()
        cursor.execute("VACUUM ANALYZE")
        seconds["vacuum_analyze"] = time.perf_counter() - start
    return {k: round(v, 1) for k, v in seconds.items()}


# --- Measuring -------------------------------------------------------------------------------


def deep_cursor(user, queue_slug: str, page: int) -> str:
    """The cursor of the link "Page suivante" at the bottom of page `page - 1`: the sort key
    and id of the row just before page `page`, computed once in SQL (OFFSET) rather than by
    walking page after page."""
    from grc.backoffice.queues import selectors

    scope = selectors.staff_scope(user)
    queue = selectors.queue_by_slug(scope, queue_slug)
    sort = selectors.sort_by_slug(selectors.DEFAULT_SORT)
    rows = (
        selectors.queue_dossiers(scope, queue)
        .order_by("-received_at", "-id")
        .values_list("received_at", "id")[(page - 1) * PAGE_SIZE - 1 :][:1]
    )
    if not rows:
        raise SystemExit(f"{queue_slug}: fewer than {page} pages; add --dossiers")
    row = rows[0]
    return selectors.Cursor(sort=sort.slug, key=row[0], id=row[1]).encode()


def without_accents(usager) -> str:
    """ "Hélène Dupré" as an agent types it on the phone: "helene dupre"."""
    name = unicodedata.normalize("NFKD", f"{usager.first_name} {usager.last_name}")
    return "".join(c for c in name if not unicodedata.combining(c)).lower()


def explain(client, url: str, params: dict[str, str]) -> dict[str, list[str]]:
    """EXPLAIN ANALYZE of the page's queries on the dossier table: the list ("list", sorted,
    LIMIT 51) and, for a search, the read of the ids it matches ("search_ids")."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(url, params)
    plans = {}
    for query in queries.captured_queries:
        sql = query["sql"]
        if not (sql.startswith("SELECT") and 'FROM "demarches_dossier"' in sql and "LIMIT" in sql):
            continue
        name = "list" if "ORDER BY" in sql else "search_ids"
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plans[name] = [line for (line,) in cursor.fetchall()]
    assert "list" in plans, "the page read its rows"
    return plans


def run(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client

    from grc.demarches.models import Dossier

    start = time.perf_counter()
    data = fixtures()
    load_seconds = load(data, dossiers=args.dossiers, citizens=args.citizens)
    load_seconds["total"] = round(time.perf_counter() - start, 1)
    assert Dossier.objects.count() == args.dossiers
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM demarches_dossier WHERE search IS NULL")
        assert cursor.fetchone()[0] == 0, "every dossier has its search vector"

    admin, agent = Client(), Client()
    admin.force_login(data["admin"])
    agent.force_login(data["agent"])
    sample = Dossier.objects.select_related("usager").order_by("id")[args.dossiers // 3]
    phone = sample.usager.phones[0]
    national = "0" + phone[3:]
    measures = {
        "admin_all_first_page": (admin, "tous", {}),
        "admin_all_deep_page": (
            admin,
            "tous",
            {"apres": deep_cursor(data["admin"], "tous", args.deep_page)},
        ),
        "agent_service_first_page": (agent, "mes-services", {}),
        "agent_service_deep_page": (
            agent,
            "mes-services",
            {"apres": deep_cursor(data["agent"], "mes-services", args.deep_page)},
        ),
        "search_name_without_accents": (admin, "tous", {"q": without_accents(sample.usager)}),
        "search_reference_in_part": (admin, "tous", {"q": sample.reference[:-1]}),
        "search_phone_as_typed": (
            admin,
            "tous",
            {"q": " ".join(national[i : i + 2] for i in range(0, 10, 2))},
        ),
        "search_answer_word": (admin, "tous", {"q": "lampadaire"}),
        "agent_search_message_word": (agent, "mes-services", {"q": "eclairage"}),
    }
    results, plans, rows = {}, {}, {}
    for name, (client, queue, params) in measures.items():
        url = f"/backoffice/dossiers/{queue}/"
        response = client.get(url, params)
        assert response.status_code == 200, (name, response.status_code)
        html = response.content.decode()
        assert "message--warning" not in html, (name, "the page says something went wrong")
        rows[name] = html.count('class="status-dot"')  # one per dossier shown
        assert rows[name] > 0, name

        def request(_run, client=client, url=url, params=params):
            client.get(url, params)

        results[name] = summary(timings(request, runs=args.runs, warmup=args.warmup))
        plans[name] = explain(client, url, params)
    return {
        "benchmark": "backoffice",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "parameters": {
            "dossiers": args.dossiers,
            "citizens": args.citizens,
            "services": SERVICES,
            "demarches": DEMARCHES,
            "runs": args.runs,
            "warmup": args.warmup,
            "page_size": PAGE_SIZE,
            "deep_page": args.deep_page,
            "queries": {name: params for name, (_c, _q, params) in measures.items()},
            "rows_shown": rows,
        },
        "load_seconds": load_seconds,
        "results": results,
        "explain": plans,
    }


LABELS = {
    "admin_all_first_page": "admin, Tous, first page",
    "admin_all_deep_page": "admin, Tous, page P (keyset)",
    "agent_service_first_page": "agent, Mes services, first page",
    "agent_service_deep_page": "agent, Mes services, page P",
    "search_name_without_accents": "search: name without accents",
    "search_reference_in_part": "search: reference in part",
    "search_phone_as_typed": "search: phone as typed",
    "search_answer_word": "search: a word of the answers",
    "agent_search_message_word": "agent search: a message word",
}


def report(result: dict[str, Any], output: Path) -> None:
    m, p = result["machine"], result["parameters"]
    print(
        f"backoffice: {p['dossiers']:,} dossiers, {p['citizens']:,} citizens, "
        f"{p['services']} services, page P = {p['deep_page']}"
    )
    print(
        f"machine: {m['platform']}, {m['cpu']}, {m['cpu_count']} CPUs, {m['python']}, "
        f"PostgreSQL {m['postgresql']}"
    )
    print(f"date: {result['date']}   load: {result['load_seconds']} s")
    print()
    print(f"{'':38}{'runs':>6}{'median':>10}{'p95':>10}{'min':>10}{'max':>10}  (ms)")
    for name, s in result["results"].items():
        print(
            f"{LABELS.get(name, name):38}{s['runs']:>6}{s['median_ms']:>10.1f}{s['p95_ms']:>10.1f}"
            f"{s['min_ms']:>10.1f}{s['max_ms']:>10.1f}"
        )
    print()
    try:
        print(f"written to {output.resolve().relative_to(ROOT)}")
    except ValueError:
        print(f"written to {output}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--citizens", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=50, help="measured runs (default 50)")
    parser.add_argument("--warmup", type=int, default=3, help="runs not measured (default 3)")
    parser.add_argument("--deep-page", type=int, default=500, help="the deep page (default 500)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0 or args.deep_page < 2:
        parser.error("--runs must be at least 1, --warmup at least 0, --deep-page at least 2")
    if args.citizens < 100 or args.dossiers < args.citizens:
        parser.error("at least 100 citizens, and at least as many dossiers as citizens")

    settings = start_django(ROOT)
    settings.ALLOWED_HOSTS = ["*"]

    old_name = create_database(BENCH_DATABASE)
    try:
        result = run(args)
    finally:
        drop_database(old_name)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    report(result, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
