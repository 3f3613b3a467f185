"""Dates of the CRPA: when an implicit decision arises, and how legal documents write dates.

The acknowledgement of receipt (CRPA R112-11-1) must give the date on which an implicit
decision arises. A wrong date there is a legal defect (L112-6: appeal deadlines cannot be held
against the person), so the rule lives in one place: the period starts the day after receipt in
Paris and ends ``period`` days, weeks or months later (as Démarches Simplifiées computes it).

Formatting is always French, whatever the interface language: these are documents of a French
administration, and ``date`` filters tied to the active locale would vary with the reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from grc.base.calendar import PARIS, paris_date

UNITS = ("days", "weeks", "months")

MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

# Singular and plural labels; "mois" is invariable.
_UNIT_LABELS_FR = {
    "days": ("jour", "jours"),
    "weeks": ("semaine", "semaines"),
    "months": ("mois", "mois"),
}


def _check_period(period: int, unit: str) -> None:
    if unit not in UNITS:
        raise ValueError(f"Unknown period unit {unit!r}; expected one of {', '.join(UNITS)}.")
    if isinstance(period, bool) or not isinstance(period, int) or period < 1:
        raise ValueError(f"The period must be a positive integer, not {period!r}.")


def implicit_decision_date(received_at: datetime, *, period: int, unit: str) -> date:
    """The day an implicit decision (SVA or SVR) arises for a request received at ``received_at``.

    The period starts the day after receipt (in Paris) and the decision arises ``period`` units
    after that start: received 15 May 2023, 2 months, decision on 16 July 2023. Month arithmetic
    clamps to the end of a shorter month (30 Dec + 1 day = 31 Dec, + 2 months = 29 Feb or 28 Feb).
    """
    return legal_decision_date(
        received_at=received_at, period=period, unit=unit, kind="svr", today=paris_date(received_at)
    )


def _after(start: date, period: int, unit: str) -> date:
    if unit == "days":
        return start + timedelta(days=period)
    if unit == "weeks":
        return start + timedelta(weeks=period)
    return start + relativedelta(months=period)


@dataclass(frozen=True)
class PieceWait:
    """A request for missing pieces (L114-5): asked on one day, answered on another (None while
    the citizen has not answered: it counts as if answered today)."""

    requested_on: date
    received_on: date | None


def legal_decision_date(
    *,
    received_at: datetime,
    period: int,
    unit: str,
    kind: str,
    today: date,
    waits: Sequence[PieceWait] = (),
    restart: bool = False,
    competent_received_at: datetime | None = None,
) -> date:
    """The implicit decision date once the dossier's life is taken into account.

    - L114-3, a request sent to the wrong authority and forwarded: an implicit acceptance runs
      from receipt by the competent one (`competent_received_at`), a rejection from the first
      receipt.
    - L114-5, missing pieces: the days from each request to the day after the pieces arrive
      (counted only once the period has started, overlapping requests once) are added; or, with
      `restart`, the whole period starts again the day after the last pieces arrived.
    """
    _check_period(period, unit)
    first = received_at
    if kind == "sva" and competent_received_at is not None:
        first = competent_received_at
    start = paris_date(first) + timedelta(days=1)
    if restart and waits:
        last = max(wait.received_on or today for wait in waits)
        return _after(max(last + timedelta(days=1), start), period, unit)
    return _after(start, period, unit) + timedelta(days=_paused_days(waits, start, today))


def _paused_days(waits: Sequence[PieceWait], start: date, today: date) -> int:
    spans = sorted(
        (max(wait.requested_on, start), (wait.received_on or today) + timedelta(days=1))
        for wait in waits
    )
    total, covered_until = 0, start
    for begin, end in spans:
        begin = max(begin, covered_until)
        if end > begin:
            total += (end - begin).days
            covered_until = end
    return total


def format_date_fr(d: date) -> str:
    """« 16 juillet 2023 », « 1er mars 2024 » (French writes the first day as an ordinal)."""
    day = "1er" if d.day == 1 else str(d.day)
    return f"{day} {MONTHS_FR[d.month - 1]} {d.year}"


def _in_paris(dt: datetime) -> datetime:
    # Naive datetimes are taken as already local; aware ones are converted to Paris time.
    if dt.tzinfo is not None and dt.utcoffset() is not None:
        return dt.astimezone(PARIS)
    return dt


def format_time_fr(dt: datetime) -> str:
    """« 14 h 05 », « 9 h 00 », in Paris (the French administrative style for hours)."""
    dt = _in_paris(dt)
    return f"{dt.hour} h {dt.minute:02d}"


def format_datetime_fr(dt: datetime) -> str:
    """« 15 mai 2023 à 14 h 05 », read in Paris (the collectivité's legal time)."""
    return f"{format_date_fr(_in_paris(dt).date())} à {format_time_fr(dt)}"


def period_label_fr(period: int, unit: str) -> str:
    """« 2 mois », « 15 jours », « 1 semaine », « 3 semaines »."""
    _check_period(period, unit)
    singular, plural = _UNIT_LABELS_FR[unit]
    return f"{period} {singular if period == 1 else plural}"
