"""Dossier exports: asked from the dashboard, written by the worker (queue "exports") in CSV
and XLSX, with their progress; the file is its requester's only, within their scope."""

import csv
import datetime
import io
import os

import pytest
from openpyxl import load_workbook

from grc.backoffice.exports import selectors
from grc.backoffice.exports.services import request_export
from grc.backoffice.models import ExportJob
from grc.base.access import NotFound
from grc.base.calendar import PARIS
from grc.base.models import Event, Membership, Role
from grc.demarches.models import Dossier
from tests.backoffice.conftest import HOST
from tests.demarches.dossier_helpers import demarche_for, file_dossier, quiet_workflow
from tests.factories import MembershipFactory, ServiceFactory

LIST = "/backoffice/exports/"
HEADER = [
    "Référence",
    "Démarche",
    "Statut",
    "Canal",
    "Usager",
    "Adresse e-mail",
    "Service",
    "Agent",
    "Reçu le",
    "Décision implicite le",
    "Clos le",
]
RECEIVED = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=PARIS)


def header():
    return [*HEADER, "Étiquettes"]


class Data:
    def __init__(self, tenant_a, tenant_b):
        self.demarche = demarche_for(tenant_a, slug="acte", workflow=quiet_workflow())
        self.mine = []
        for n in range(3):
            d = file_dossier(self.demarche, contact_email=f"usager{n}@exemple.test")
            Dossier.objects.filter(pk=d.pk).update(
                received_at=RECEIVED + datetime.timedelta(days=n),
                expected_decision_date=datetime.date(2026, 5, 2),
                assignee=tenant_a.agent if n == 0 else None,
                **({"tags": ["urgent", "élus"]} if n == 0 else {}),
            )
            self.mine.append(d)
        other = ServiceFactory(collectivite=tenant_a.collectivite, name="Voirie")
        self.other_service_dossier = file_dossier(self.demarche, contact_email="v@exemple.test")
        Dossier.objects.filter(pk=self.other_service_dossier.pk).update(service=other)
        self.other_service = other
        demarche_b = demarche_for(tenant_b, slug="b", workflow=quiet_workflow())
        self.theirs = file_dossier(demarche_b, contact_email="b@exemple.test")


@pytest.fixture
def data(tenant_a, tenant_b):
    return Data(tenant_a, tenant_b)


def ask(client, user, tenant, fmt, **post):
    client.force_login(user)
    post.setdefault("perimetre", f"s{tenant.service.pk}")
    response = client.post(LIST, {"format": fmt, **post}, HTTP_HOST=HOST)
    assert response.status_code == 302
    return ExportJob.objects.filter(requested_by=user).latest("pk")


@pytest.mark.django_db(transaction=True)
def test_a_csv_export_through_the_worker(data, client, tenant_a, media, run_jobs):
    job = ask(client, tenant_a.agent, tenant_a, "csv")
    assert job.status == ExportJob.Status.PENDING
    assert job.params == {"collectivite": tenant_a.collectivite.pk, "service": tenant_a.service.pk}
    assert Event.objects.filter(action="export.requested", object_id=str(job.pk)).exists()
    page = client.get(LIST, HTTP_HOST=HOST)
    assert "<progress" in page.text and "data-poll" in page.text
    assert f"Dossiers – service {tenant_a.service.name}" in page.text

    run_jobs(["exports"])
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE, job.error
    assert (job.total, job.done) == (3, 3)
    assert job.finished_at is not None

    progress = client.get(LIST, {"format": "json"}, HTTP_HOST=HOST).json()
    assert progress["exports"][0] == {"id": job.pk, "status": "done", "total": 3, "done": 3}
    page = client.get(LIST, HTTP_HOST=HOST)
    assert "data-poll" not in page.text
    url = f"/backoffice/exports/{job.pk}/telecharger/"
    assert url in page.text

    response = client.get(url, HTTP_HOST=HOST)
    assert response.status_code == 200
    assert Event.objects.filter(action="export.downloaded", actor=tenant_a.agent).count() == 1
    assert response["Content-Disposition"].startswith("attachment; filename=")
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:]), delimiter=";"))
    assert rows[0] == header()
    assert [r[0] for r in rows[1:]] == [d.reference for d in data.mine]
    first = rows[1]
    assert first[1:4] == ["Démarche de test", "Déposé", "Site web"]
    assert first[5] == "usager0@exemple.test"
    assert first[6] == tenant_a.service.name
    assert first[7] == str(tenant_a.agent)
    assert first[8:11] == ["02/03/2026 09:30", "02/05/2026", ""]
    assert first[11] == "urgent, élus"


@pytest.mark.django_db(transaction=True)
def test_an_xlsx_export_of_the_whole_collectivite(data, client, tenant_a, media, run_jobs):
    job = ask(client, tenant_a.admin, tenant_a, "xlsx", perimetre=f"c{tenant_a.collectivite.pk}")
    run_jobs(["exports"])
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE, job.error
    response = client.get(f"/backoffice/exports/{job.pk}/telecharger/", HTTP_HOST=HOST)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert list(rows[0]) == header()
    references = [r[0] for r in rows[1:]]
    # The whole collectivité: the other service's dossier too, never tenant B's.
    assert sorted(references) == sorted(
        [d.reference for d in data.mine] + [data.other_service_dossier.reference]
    )
    assert rows[1][8] == datetime.datetime(2026, 3, 2, 9, 30)
    assert rows[1][9] == datetime.datetime(2026, 5, 2)


def test_export_rows_filters_and_scope(data, tenant_a, tenant_b):
    total, rows = selectors.export_rows(tenant_a.agent, {})
    assert total == 3  # the agent's service only
    total, rows = selectors.export_rows(
        tenant_a.admin, {"received_from": "2026-03-03", "received_to": "2026-03-31"}
    )
    assert [r[0] for r in rows] == [data.mine[1].reference, data.mine[2].reference]
    total, _rows = selectors.export_rows(
        tenant_a.admin, {"received_to": "2026-03-02", "demarche": data.demarche.pk}
    )
    assert total == 1
    total, _rows = selectors.export_rows(tenant_a.admin, {"service": data.other_service.pk})
    assert total == 1
    total, _rows = selectors.export_rows(tenant_a.admin, {"status": "accepte"})
    assert total == 0
    total, _rows = selectors.export_rows(tenant_b.admin, {"collectivite": tenant_a.collectivite.pk})
    assert total == 0
    params, problems = selectors.clean_params({"received_from": "31/02/2026", "demarche": "x"})
    assert params == {} and len(problems) == 2


@pytest.mark.django_db(transaction=True)
def test_only_the_requester_downloads_while_in_scope(
    data, client, tenant_a, tenant_b, platform_admin, media, run_jobs
):
    job = ask(client, tenant_a.agent, tenant_a, "csv")
    run_jobs(["exports"])
    url = f"/backoffice/exports/{job.pk}/telecharger/"
    colleague = MembershipFactory(
        collectivite=tenant_a.collectivite, role=Role.AGENT, service=tenant_a.service
    ).user
    for user in (tenant_a.admin, tenant_a.manager, colleague, tenant_b.agent, platform_admin):
        client.force_login(user)
        assert client.get(url, HTTP_HOST=HOST).status_code == 404, user
        listing = client.get(LIST, {"format": "json"}, HTTP_HOST=HOST)
        if user is platform_admin:
            assert listing.status_code == 404
        else:
            assert [e["id"] for e in listing.json()["exports"]] == []
    # The requester who leaves the collectivité loses the file.
    client.force_login(tenant_a.agent)
    assert client.get(url, HTTP_HOST=HOST).status_code == 200
    Membership.objects.filter(user=tenant_a.agent).delete()
    assert client.get(url, HTTP_HOST=HOST).status_code == 404
    assert client.get("/backoffice/exports/999999/telecharger/", HTTP_HOST=HOST).status_code == 404


@pytest.mark.django_db
def test_asking_out_of_scope_is_not_found(data, client, tenant_a, tenant_b, platform_admin):
    other_agent = MembershipFactory(
        collectivite=tenant_a.collectivite, role=Role.AGENT, service=data.other_service
    ).user
    cases = [
        (tenant_b.agent, {"perimetre": f"s{tenant_a.service.pk}"}),
        (tenant_b.admin, {"perimetre": f"c{tenant_a.collectivite.pk}"}),
        (tenant_b.admin, {"collectivite": tenant_a.collectivite.pk}),
        (other_agent, {"perimetre": f"s{tenant_a.service.pk}"}),
        (tenant_a.agent, {"perimetre": f"c{tenant_a.collectivite.pk}"}),
        (platform_admin, {"collectivite": tenant_a.collectivite.pk}),
        (tenant_a.admin, {"perimetre": "bad"}),
    ]
    for user, post in cases:
        client.force_login(user)
        response = client.post(LIST, {"format": "csv", **post}, HTTP_HOST=HOST)
        assert response.status_code == 404, (user, post)
    client.force_login(platform_admin)
    assert client.get(LIST, HTTP_HOST=HOST).status_code == 404
    assert not ExportJob.objects.exists()
    with pytest.raises(NotFound):
        request_export(
            actor=tenant_b.agent, collectivite=tenant_a.collectivite, params={}, format="csv"
        )


@pytest.mark.django_db
def test_a_bad_format_is_refused_with_a_message(data, client, tenant_a):
    client.force_login(tenant_a.agent)
    response = client.post(
        LIST, {"format": "pdf", "perimetre": f"s{tenant_a.service.pk}"}, HTTP_HOST=HOST, follow=True
    )
    assert response.status_code == 200
    assert "Format d'export inconnu." in [str(m) for m in response.context["messages"]]
    assert not ExportJob.objects.exists()


@pytest.mark.django_db
def test_the_list_runs_a_fixed_number_of_queries(data, client, tenant_a, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(tenant_a.agent)
    client.get(LIST, HTTP_HOST=HOST)
    ExportJob.objects.create(
        requested_by=tenant_a.agent,
        collectivite=tenant_a.collectivite,
        kind="dossiers",
        format="csv",
    )
    with CaptureQueriesContext(connection) as one:
        client.get(LIST, HTTP_HOST=HOST)
    for _ in range(4):
        ExportJob.objects.create(
            requested_by=tenant_a.agent,
            collectivite=tenant_a.collectivite,
            kind="dossiers",
            format="xlsx",
            status=ExportJob.Status.DONE,
            file="exports/x.xlsx",
        )
    with CaptureQueriesContext(connection) as five:
        client.get(LIST, HTTP_HOST=HOST)
    assert len(five) == len(one)


@pytest.mark.django_db
def test_progress_is_written_in_chunks_and_failures_are_kept(data, tenant_a, media, monkeypatch):
    from grc.backoffice.exports import services

    job = ExportJob.objects.create(
        requested_by=tenant_a.agent,
        collectivite=tenant_a.collectivite,
        kind="dossiers",
        format="csv",
        params={"collectivite": tenant_a.collectivite.pk},
    )
    seen = []
    monkeypatch.setattr(services, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(services, "_progress", lambda job, done: seen.append(done))
    services.run_export(job.pk)
    job.refresh_from_db()
    assert seen == [2] and (job.status, job.total, job.done) == ("done", 3, 3)
    services.run_export(job.pk)  # delivered twice: nothing happens the second time
    assert seen == [2]

    def broken(user, params):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(services.selectors, "export_rows", broken)
    failing = ExportJob.objects.create(
        requested_by=tenant_a.agent,
        collectivite=tenant_a.collectivite,
        kind="dossiers",
        format="xlsx",
    )
    services.run_export(failing.pk)
    failing.refresh_from_db()
    assert failing.status == ExportJob.Status.FAILED
    assert failing.error == "RuntimeError: disque plein"
    assert not failing.file


@pytest.mark.django_db
def test_reading_the_rows_does_not_grow_with_them(data, tenant_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for_rows() -> int:
        _total, rows = selectors.export_rows(tenant_a.admin, {})
        with CaptureQueriesContext(connection) as queries:
            list(rows)
        return len(queries)

    few = queries_for_rows()
    for _ in range(6):
        file_dossier(data.demarche, contact_email="x@exemple.test")
    assert queries_for_rows() == few <= 2


@pytest.mark.django_db
def test_old_exports_are_purged_with_their_files(tenant_a, media):
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from grc.backoffice.exports.services import KEEP_DAYS, purge_exports

    jobs = []
    for _ in range(2):
        job = ExportJob.objects.create(
            requested_by=tenant_a.agent,
            collectivite=tenant_a.collectivite,
            kind="dossiers",
            format="csv",
        )
        job.file.save("dossiers.csv", ContentFile(b"x"))
        jobs.append(job)
    old, recent = jobs
    ExportJob.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=KEEP_DAYS, hours=1)
    )
    path = old.file.path
    assert purge_exports() == 1
    assert list(ExportJob.objects.all()) == [recent]
    assert not os.path.exists(path) and os.path.exists(recent.file.path)


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ('=HYPERLINK("https://x.test","clic")', '\'=HYPERLINK("https://x.test","clic")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|x", "'-2+3+cmd|x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+33612345678", "+33612345678"),
        ("-3,5", "-3,5"),
        ("Dupont-Martin", "Dupont-Martin"),
    ],
)
def test_a_text_a_citizen_typed_never_runs_as_a_formula(typed, written):
    from grc.backoffice.exports import writers

    assert writers.cell(typed) == written


def test_an_xlsx_cell_starting_with_equals_stays_text(tenant_a):
    from grc.backoffice.exports.services import _write_xlsx

    target = io.BytesIO()
    _write_xlsx(None, ["Nom"], [['=HYPERLINK("https://x.test")']], target)
    cell = next(load_workbook(io.BytesIO(target.getvalue())).active.iter_rows(min_row=2))[0]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("https://x.test")'
