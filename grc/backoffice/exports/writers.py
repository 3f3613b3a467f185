"""CSV as French spreadsheets open it: UTF-8 with a byte-order mark (without it Excel reads
the accents as Windows-1252), ";" between fields (Excel in a French locale expects it, since
"," is the decimal separator), decimals with a comma, every line ended by CRLF."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse
from django.utils.text import slugify

BOM = "\ufeff"
DELIMITER = ";"


def writer(stream):
    return csv.writer(stream, delimiter=DELIMITER, lineterminator="\r\n")


# A cell a spreadsheet would run as a formula: citizens type their names and e-mails, which
# must not become =HYPERLINK(…) or +cmd|… in an agent's spreadsheet (OWASP "CSV injection").
# A signed number ("+33612345678", "-3,5") is left as it is.
_FORMULA = re.compile(r"^[=@\t\r]|^[+-](?![\d\s.,]*$)")


def text(value: str) -> str:
    """A text that a spreadsheet shows as typed, never runs."""
    return "'" + value if _FORMULA.match(value) else value


def cell(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",") if not value.is_integer() else str(int(value))
    if isinstance(value, str):
        return text(value)
    return "" if value is None else value


def csv_response(rows: Iterable[Iterable[Any]], *, filename: str) -> HttpResponse:
    """A small table as a CSV download (the dashboard's charts)."""
    stream = io.StringIO()
    stream.write(BOM)
    out = writer(stream)
    for row in rows:
        out.writerow([cell(v) for v in row])
    response = HttpResponse(stream.getvalue(), content_type="text/csv; charset=utf-8")
    safe = slugify(filename) or "export"
    response["Content-Disposition"] = f'attachment; filename="{safe}.csv"'
    return response
