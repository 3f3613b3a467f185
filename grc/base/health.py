"""What /healthz reports: can we reach the database, and is a worker alive?"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone


def database_status() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        # Drop the broken connection so that the next probe reconnects.
        connection.close_if_unusable_or_obsolete()
        return {"ok": False, "error": str(error).strip().splitlines()[0][:200]}
    return {"ok": True}


def worker_status() -> dict:
    """Workers whose heartbeat (every 10 s, procrastinate) is recent enough."""
    from procrastinate.contrib.django.models import ProcrastinateWorker

    limit = timezone.now() - datetime.timedelta(seconds=settings.GRC_WORKER_HEARTBEAT_MAX_AGE)
    try:
        alive = ProcrastinateWorker.objects.filter(last_heartbeat__gte=limit)
        count = alive.count()
        last = (
            ProcrastinateWorker.objects.order_by("-last_heartbeat")
            .values_list("last_heartbeat", flat=True)
            .first()
        )
    except DatabaseError:
        return {"ok": False, "workers": 0, "last_heartbeat": None}
    return {
        "ok": count > 0,
        "workers": count,
        "last_heartbeat": last.isoformat() if last else None,
    }
