"""The implicit decision date against a table of cases (REFERENCE §1, CRPA L114-3, L114-5)."""

import datetime
import zoneinfo

import pytest

from grc.demarches.legal import PieceWait, legal_decision_date

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
D = datetime.date


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=PARIS)


CASES = [
    # name, kind, received, waits, restart, competent receipt, today, expected
    (
        "worked example: 15 May 2023, 2 months",
        "sva",
        D(2023, 5, 15),
        [],
        False,
        None,
        D(2023, 5, 20),
        D(2023, 7, 16),
    ),
    (
        "same for a rejection",
        "svr",
        D(2023, 5, 15),
        [],
        False,
        None,
        D(2023, 5, 20),
        D(2023, 7, 16),
    ),
    (
        "pieces asked 1 June, answered after 10 days: +11",
        "sva",
        D(2023, 5, 15),
        [PieceWait(D(2023, 6, 1), D(2023, 6, 11))],
        False,
        None,
        D(2023, 6, 20),
        D(2023, 7, 27),
    ),
    (
        "a pending request counts as answered today",
        "svr",
        D(2023, 5, 15),
        [PieceWait(D(2023, 6, 1), None)],
        False,
        None,
        D(2023, 6, 5),
        D(2023, 7, 21),
    ),
    (
        "restart: the period starts again the day after the pieces",
        "sva",
        D(2023, 5, 15),
        [PieceWait(D(2023, 6, 1), D(2023, 6, 11))],
        True,
        None,
        D(2023, 6, 20),
        D(2023, 8, 12),
    ),
    (
        "restart with a pending request: from tomorrow",
        "sva",
        D(2023, 5, 15),
        [PieceWait(D(2023, 6, 1), None)],
        True,
        None,
        D(2023, 6, 5),
        D(2023, 8, 6),
    ),
    (
        "two overlapping requests are counted once",
        "sva",
        D(2023, 5, 15),
        [PieceWait(D(2023, 6, 1), D(2023, 6, 11)), PieceWait(D(2023, 6, 5), D(2023, 6, 8))],
        False,
        None,
        D(2023, 6, 20),
        D(2023, 7, 27),
    ),
    (
        "two requests one after the other add up",
        "sva",
        D(2023, 5, 15),
        [PieceWait(D(2023, 6, 1), D(2023, 6, 11)), PieceWait(D(2023, 6, 20), D(2023, 6, 21))],
        False,
        None,
        D(2023, 6, 25),
        D(2023, 7, 29),
    ),
    (
        "a request the day of receipt counts from the start",
        "sva",
        D(2023, 5, 15),
        [PieceWait(D(2023, 5, 15), D(2023, 5, 20))],
        False,
        None,
        D(2023, 5, 25),
        D(2023, 7, 21),
    ),
    (
        "transfer, SVA: from receipt by the competent authority",
        "sva",
        D(2023, 5, 15),
        [],
        False,
        D(2023, 6, 1),
        D(2023, 6, 2),
        D(2023, 8, 2),
    ),
    (
        "transfer, SVR: from the first receipt",
        "svr",
        D(2023, 5, 15),
        [],
        False,
        D(2023, 6, 1),
        D(2023, 6, 2),
        D(2023, 7, 16),
    ),
]


@pytest.mark.parametrize(
    ("name", "kind", "received", "waits", "restart", "competent", "today", "expected"),
    CASES,
    ids=[case[0] for case in CASES],
)
def test_decision_date(name, kind, received, waits, restart, competent, today, expected):
    assert (
        legal_decision_date(
            received_at=at(received),
            period=2,
            unit="months",
            kind=kind,
            today=today,
            waits=waits,
            restart=restart,
            competent_received_at=at(competent) if competent else None,
        )
        == expected
    )
