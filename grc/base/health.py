"""What /healthz reports: can we reach the database, and is a worker alive?"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Count, Max, Q
from django.utils import timezone

logger = logging.getLogger(__name__)


def database_status() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        # Drop the broken connection so that the next probe reconnects.
        connection.close_if_unusable_or_obsolete()
        # /healthz is public: the error text (host, user, socket path) goes to the log only.
        logger.warning("Health check: database unreachable: %s", error)
        return {"ok": False}
    return {"ok": True}


def worker_status() -> dict:
    """Workers whose heartbeat (every 10 s, procrastinate) is recent enough."""
    from procrastinate.contrib.django.models import ProcrastinateWorker

    limit = timezone.now() - datetime.timedelta(seconds=settings.GRC_WORKER_HEARTBEAT_MAX_AGE)
    try:
        found = ProcrastinateWorker.objects.aggregate(
            alive=Count("id", filter=Q(last_heartbeat__gte=limit)),
            last=Max("last_heartbeat"),
        )
    except DatabaseError:
        return {"ok": False, "workers": 0, "last_heartbeat": None}
    count, last = found["alive"], found["last"]
    return {
        "ok": count > 0,
        "workers": count,
        "last_heartbeat": last.isoformat() if last else None,
    }
