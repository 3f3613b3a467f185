"""The implicit decision date and the French formatting of legal documents."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from grc.demarches.legal import (
    PARIS,
    format_date_fr,
    format_datetime_fr,
    implicit_decision_date,
    period_label_fr,
)

CEST = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("received_at", "period", "unit", "expected"),
    [
        # REFERENCE §1 worked example: received 15 May 2023, 2 months → 16 July 2023.
        (datetime(2023, 5, 15, 14, 5, tzinfo=PARIS), 2, "months", date(2023, 7, 16)),
        (datetime(2023, 5, 15, 0, 0, tzinfo=PARIS), 2, "months", date(2023, 7, 16)),
        # Late evening in Paris is still the 15th…
        (datetime(2023, 5, 15, 23, 30, tzinfo=CEST), 2, "months", date(2023, 7, 16)),
        (datetime(2023, 5, 15, 21, 59, tzinfo=UTC), 2, "months", date(2023, 7, 16)),
        # …but 22:30 UTC is already 00:30 on the 16th in Paris.
        (datetime(2023, 5, 15, 22, 30, tzinfo=UTC), 2, "months", date(2023, 7, 17)),
        # Winter time: midnight in Paris is 23:00 UTC the day before.
        (datetime(2023, 12, 31, 23, 0, tzinfo=UTC), 1, "months", date(2024, 2, 2)),
        # Days and weeks.
        (datetime(2023, 5, 15, 10, 0, tzinfo=PARIS), 15, "days", date(2023, 5, 31)),
        (datetime(2023, 5, 15, 10, 0, tzinfo=PARIS), 1, "days", date(2023, 5, 17)),
        (datetime(2023, 5, 15, 10, 0, tzinfo=PARIS), 3, "weeks", date(2023, 6, 6)),
        # Month ends: the start (31 Dec) + 2 months clamps to the end of February.
        (datetime(2023, 12, 30, 10, 0, tzinfo=PARIS), 2, "months", date(2024, 2, 29)),
        (datetime(2022, 12, 30, 10, 0, tzinfo=PARIS), 2, "months", date(2023, 2, 28)),
        (datetime(2023, 7, 30, 10, 0, tzinfo=PARIS), 1, "months", date(2023, 8, 31)),
        (datetime(2023, 3, 30, 10, 0, tzinfo=PARIS), 1, "months", date(2023, 4, 30)),
        # Across a year.
        (datetime(2023, 11, 20, 10, 0, tzinfo=PARIS), 2, "months", date(2024, 1, 21)),
    ],
)
def test_implicit_decision_date(received_at, period, unit, expected):
    assert implicit_decision_date(received_at, period=period, unit=unit) == expected


@pytest.mark.parametrize(("period", "unit"), [(0, "months"), (-1, "days"), (2, "years"), (2, "")])
def test_implicit_decision_date_rejects_bad_periods(period, unit):
    with pytest.raises(ValueError):
        implicit_decision_date(datetime(2023, 5, 15, tzinfo=PARIS), period=period, unit=unit)


def test_implicit_decision_date_rejects_naive_datetimes():
    with pytest.raises(ValueError):
        implicit_decision_date(datetime(2023, 5, 15, 12, 0), period=2, unit="months")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2023, 7, 16), "16 juillet 2023"),
        (date(2024, 3, 1), "1er mars 2024"),
        (date(2023, 2, 28), "28 février 2023"),
        (date(2023, 8, 2), "2 août 2023"),
        (date(2023, 12, 31), "31 décembre 2023"),
    ],
)
def test_format_date_fr(value, expected):
    assert format_date_fr(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2023, 5, 15, 14, 5, tzinfo=PARIS), "15 mai 2023 à 14 h 05"),
        (datetime(2023, 5, 15, 12, 5, tzinfo=UTC), "15 mai 2023 à 14 h 05"),
        (datetime(2023, 5, 15, 22, 30, tzinfo=UTC), "16 mai 2023 à 0 h 30"),
        (datetime(2024, 1, 1, 9, 0, tzinfo=PARIS), "1er janvier 2024 à 9 h 00"),
    ],
)
def test_format_datetime_fr(value, expected):
    assert format_datetime_fr(value) == expected


@pytest.mark.parametrize(
    ("period", "unit", "expected"),
    [
        (2, "months", "2 mois"),
        (1, "months", "1 mois"),
        (15, "days", "15 jours"),
        (1, "days", "1 jour"),
        (1, "weeks", "1 semaine"),
        (3, "weeks", "3 semaines"),
    ],
)
def test_period_label_fr(period, unit, expected):
    assert period_label_fr(period, unit) == expected
