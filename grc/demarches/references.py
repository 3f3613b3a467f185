"""Dossier references (PREFIX-2026-000123) and tracking codes."""

from __future__ import annotations

import secrets

from django.db import connection

from grc.base.models import Collectivite

# Publik's alphabet: no vowels (no words), no easily confused letters.
TRACKING_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
TRACKING_LENGTH = 8


def next_reference(collectivite: Collectivite, year: int) -> str:
    """The next number for this collectivité and year, inside the caller's transaction.

    One upsert statement (the ORM cannot express "insert or increment, returning"): the row lock
    it takes is held until the caller commits, so concurrent submissions line up, and a rollback
    gives the number back, so the sequence has no gaps."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO demarches_referencecounter (collectivite_id, year, last_number)
            VALUES (%s, %s, 1)
            ON CONFLICT (collectivite_id, year)
            DO UPDATE SET last_number = demarches_referencecounter.last_number + 1
            RETURNING last_number
            """,
            [collectivite.pk, year],
        )
        (number,) = cursor.fetchone()
    return f"{collectivite.reference_prefix}-{year}-{number:06d}"


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))
