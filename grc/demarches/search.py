"""Full-text search of dossiers for the agents' queues.

Each filed dossier keeps, in `Dossier.search`, one tsvector built in SQL from its reference and
tracking code, its citizen (name, e-mail, phones), its contact e-mail, the text of its answers,
the bodies of its messages (internal notes included: only staff search) and the text read from
the letters received for it (grc.channels.letters, OCR). French stemming
without accents (the `french_unaccent` configuration of migration demarches 0004), so that
"helene" finds "Hélène" and "demandes" finds "demande".

`refresh_search(dossier_ids)` rebuilds it, in the transaction of the service that filed the
dossier or wrote the message (one UPDATE of a row the service already holds): the search is
never behind what was committed. `search_filter(text)` turns what an agent typed into one
condition on the dossier table: the tsquery (the last word as a prefix, since people type a
name or a reference partly), and a reference typed in part (trigram index).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.contrib.postgres.search import SearchQuery
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q

from grc.base.validators import normalize_phone

CONFIG = "french_unaccent"
MAX_QUERY_LENGTH = 200

# One expression for the whole vector, over `d` (the dossier) and `u` (its citizen record).
# Weights: A who and which dossier, B what they answered, C the exchanges (messages, the text
# of letters received). E-mail addresses go in whole and in pieces ("marie.dubois@exemple.fr",
# "marie", "dubois", "exemple"); phones by their digits in E.164 and in the French national
# form ("33612345678", "0612345678").
# Built from constants only (no input): the f-strings below are not an injection vector.
_VECTOR_SQL = f"""
    setweight(to_tsvector('simple', concat_ws(' ', d.reference, d.tracking_code)), 'A')
    || setweight(to_tsvector('{CONFIG}', concat_ws(' ',
        u.first_name, u.last_name, u.birth_name, u.email, d.contact_email,
        translate(concat_ws(' ', u.email, d.contact_email), '@.-_+', '     '))), 'A')
    || setweight(to_tsvector('simple', coalesce((
        SELECT string_agg(
            ltrim(p, '+') || CASE WHEN p LIKE '+33%%' THEN ' 0' || substr(p, 4) ELSE '' END,
            ' ')
        FROM unnest(u.phones) AS p), '')), 'A')
    || setweight(to_tsvector('{CONFIG}', coalesce((
        SELECT string_agg(value #>> '{{}}', ' ')
        FROM jsonb_path_query(d.answers, 'strict $.** ? (@.type() == "string")') AS value
        ), '')), 'B')
    || setweight(to_tsvector('{CONFIG}', coalesce((
        SELECT string_agg(m.body, ' ' ORDER BY m.id)
        FROM demarches_message AS m WHERE m.dossier_id = d.id), '')), 'C')
    || setweight(to_tsvector('{CONFIG}', coalesce((
        SELECT string_agg(l.ocr_text, ' ' ORDER BY l.id)
        FROM channels_letter AS l WHERE l.dossier_id = d.id AND l.ocr_text <> ''), '')), 'C')
"""  # noqa: S608

_REFRESH_SQL = f"""
    UPDATE demarches_dossier AS d SET search = {_VECTOR_SQL}
    FROM base_usager AS u
    WHERE u.id = d.usager_id AND d.id = ANY(%s)
"""  # noqa: S608

# Every filed dossier at once (the benchmark's generated data; a reindex after a bulk load).
REFRESH_ALL_SQL = f"""
    UPDATE demarches_dossier AS d SET search = {_VECTOR_SQL}
    FROM base_usager AS u
    WHERE u.id = d.usager_id
"""  # noqa: S608


def refresh_search(dossier_ids: Iterable[int]) -> int:
    """Rebuild the search text of these dossiers (drafts have no citizen yet and are left
    alone). One UPDATE; returns how many rows it changed."""
    ids = sorted({int(i) for i in dossier_ids if i is not None})
    if not ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_REFRESH_SQL, [ids])
        return cursor.rowcount


# --- Reading -------------------------------------------------------------------------------

_WORDS = re.compile(r"\w+")
_TRAILING_WORD = re.compile(r"(\w+)$")
_PHONE_LIKE = re.compile(r"^\+?[\d\s.\-()]{8,20}$")
_REFERENCE_LIKE = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]*)*$")
_CODE_NOISE = re.compile(r"[\s\-]")
_TRACKING_CODE = re.compile(r"^[A-Z0-9]{8}$")


def clean_query(text: str) -> str:
    return " ".join((text or "").split())[:MAX_QUERY_LENGTH]


def search_filter(text: str) -> Q | None:
    """The condition on dossiers for what an agent typed, or None when nothing was typed.
    Never fails on odd characters: they are dropped or passed as parameters."""
    text = clean_query(text)
    if not text:
        return None
    if not _WORDS.search(text):
        return Q(pk__in=[])  # only punctuation: nothing can match it
    query = _text_query(text)
    phone = _phone_digits(text)
    if phone:
        phone_query = SearchQuery(phone, search_type="raw", config="simple")
        query = phone_query if query is None else query | phone_query
    code = _CODE_NOISE.sub("", text).upper()
    if _TRACKING_CODE.match(code):
        code_query = SearchQuery(code.lower(), search_type="raw", config="simple")
        query = code_query if query is None else query | code_query
    condition = Q(search=query) if query is not None else None
    reference = text.upper()
    if (
        len(reference) >= 4
        and _REFERENCE_LIKE.match(reference)
        and any(c.isdigit() or c == "-" for c in reference)
    ):
        # A reference typed in part: "2026-0001", "STAUBIN-2026" (trigram index).
        by_reference = Q(reference__contains=reference)
        condition = by_reference if condition is None else condition | by_reference
    return condition


def _text_query(text: str) -> SearchQuery | None:
    """websearch_to_tsquery on what was typed ("quoted phrases", -excluded, or), with the last
    word also as a prefix when the text ends in the middle of it ("dupo", "helene.dup")."""
    if not _WORDS.search(text):
        return None
    full = SearchQuery(text, search_type="websearch", config=CONFIG)
    tokens = text.split()
    last = tokens[-1]
    trailing = _TRAILING_WORD.search(last)
    if trailing is None or last.startswith("-") or text.count('"') % 2:
        return full
    # The word holds only letters, digits and "_": nothing to escape inside the quotes.
    prefix = SearchQuery(f"'{trailing.group(1)}':*", search_type="raw", config=CONFIG)
    head = " ".join([*tokens[:-1], last[: trailing.start()]])
    typed = (
        prefix
        if not _WORDS.search(head)
        else SearchQuery(head, search_type="websearch", config=CONFIG) & prefix
    )
    if trailing.start() == 0:
        return typed  # a plain last word: its prefix finds it whole too
    return full | typed  # "marie.dubois@exemple.fr" whole, or its pieces


def _phone_digits(text: str) -> str:
    if not _PHONE_LIKE.match(text):
        return ""
    try:
        return normalize_phone(text).lstrip("+")
    except ValidationError:
        return ""
