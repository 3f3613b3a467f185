"""What every benchmark here shares: a throwaway database, timing, the figures, the machine."""

from __future__ import annotations

import gc
import math
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any


def start_django(root: Path):
    """Django set up on the project's settings as production runs it (no query log) and in
    the site's language; returns the settings for the bench's own adjustments."""
    import sys

    sys.path.insert(0, str(root))
    os.environ["DJANGO_SETTINGS_MODULE"] = "grc.settings"
    import django
    from django.conf import settings
    from django.utils import translation

    django.setup()
    settings.DEBUG = False  # no query log: measure what production runs
    translation.activate(settings.LANGUAGE_CODE)
    return settings


def create_database(name: str) -> str:
    """Create, migrate and switch to the throwaway database `name` (the test runner's
    machinery, under a name no pytest run uses); returns the name to switch back to."""
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    assert connection.settings_dict["NAME"] == name
    return old_name


def drop_database(old_name: str) -> None:
    from django.db import connection

    connection.creation.destroy_test_db(old_name, verbosity=0)


def timings(function, *, runs: int, warmup: int) -> list[float]:
    """Seconds per call of function(i), for i in range(warmup + runs), warm-up calls dropped."""
    gc.collect()
    samples = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        function(i)
        elapsed = time.perf_counter() - start
        if i >= warmup:
            samples.append(elapsed)
    return samples


def summary(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    ms = [s * 1000 for s in ordered]
    return {
        "runs": len(ms),
        "median_ms": round(statistics.median(ms), 3),
        # nearest rank: the smallest time that at least 95 % of the runs do not exceed
        "p95_ms": round(ms[max(0, math.ceil(0.95 * len(ms)) - 1)], 3),
        "min_ms": round(ms[0], 3),
        "max_ms": round(ms[-1], 3),
    }


def machine() -> dict[str, Any]:
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (postgresql,) = cursor.fetchone()
    cpu = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "platform": platform.platform(),
        "cpu": cpu or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "django": django.get_version(),
        "postgresql": postgresql,
    }
