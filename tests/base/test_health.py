import datetime

import pytest
from django.db import connection
from django.utils import timezone

pytestmark = pytest.mark.django_db


def beat(seconds_ago: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (%s)",
            [timezone.now() - datetime.timedelta(seconds=seconds_ago)],
        )


def test_healthz_reports_the_database_and_no_worker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == {"ok": True}
    assert response.json()["worker"]["ok"] is False


def test_healthz_sees_a_worker_whose_heartbeat_is_recent(client):
    beat(seconds_ago=600)  # a worker that died without unregistering
    assert client.get("/healthz").json()["worker"]["ok"] is False
    beat(seconds_ago=5)
    worker = client.get("/healthz").json()["worker"]
    assert worker["ok"] is True and worker["workers"] == 1
