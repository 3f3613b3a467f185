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


def test_a_database_error_is_logged_not_shown(monkeypatch, caplog):
    from django.db import DatabaseError

    from grc.base import health

    class BrokenConnection:
        def __init__(self, message):
            self.message = message

        def cursor(self):
            raise DatabaseError(self.message)

        def close_if_unusable_or_obsolete(self):
            pass

    secret = 'connection to server on socket "/run/pg/.s.PGSQL.5432" failed'
    for message in ("", secret):  # an empty message too
        monkeypatch.setattr(health, "connection", BrokenConnection(message))
        with caplog.at_level("WARNING", logger="grc.base.health"):
            assert health.database_status() == {"ok": False}
    assert secret in caplog.text


def test_the_worker_status_is_one_query(django_assert_num_queries):
    from grc.base.health import worker_status

    beat(seconds_ago=600)
    beat(seconds_ago=5)
    with django_assert_num_queries(1):
        status = worker_status()
    assert status["ok"] is True and status["workers"] == 1
    assert status["last_heartbeat"] is not None
