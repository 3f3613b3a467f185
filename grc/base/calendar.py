"""Days that count: the French calendar for timers and deadlines (Europe/Paris).

Public holidays come from the `holidays` package (maintained, covers the moveable feasts and
the Alsace-Moselle and overseas additions when a subdivision is given)."""

from __future__ import annotations

import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

PARIS = ZoneInfo("Europe/Paris")


@lru_cache(maxsize=64)
def _holidays(year: int, subdivision: str | None) -> frozenset[datetime.date]:
    return frozenset(holidays.France(years=year, subdiv=subdivision))


def is_public_holiday(day: datetime.date, *, subdivision: str | None = None) -> bool:
    return day in _holidays(day.year, subdivision)


def is_working_day(day: datetime.date, *, subdivision: str | None = None) -> bool:
    """Monday to Friday, public holidays excluded."""
    return day.weekday() < 5 and not is_public_holiday(day, subdivision=subdivision)


def add_working_days(
    start: datetime.date, count: int, *, subdivision: str | None = None
) -> datetime.date:
    """The `count`-th working day after `start` (start itself never counts)."""
    day = start
    remaining = count
    while remaining > 0:
        day += datetime.timedelta(days=1)
        if is_working_day(day, subdivision=subdivision):
            remaining -= 1
    return day


def paris_date(moment: datetime.datetime) -> datetime.date:
    """The calendar day of ``moment`` in Paris: a receipt at 23:30 UTC is already tomorrow."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A naive datetime would silently be read in the server's zone: refuse it.
        raise ValueError("the moment must be timezone-aware")
    return moment.astimezone(PARIS).date()


def paris_today(now: datetime.datetime | None = None) -> datetime.date:
    from django.utils import timezone

    return paris_date(now or timezone.now())
