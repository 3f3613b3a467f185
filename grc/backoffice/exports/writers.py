"""CSV as French spreadsheets open it: UTF-8 with a byte-order mark (without it Excel reads
the accents as Windows-1252), ";" between fields (Excel in a French locale expects it, since
"," is the decimal separator), decimals with a comma, every line ended by CRLF."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse
from django.utils.text import slugify

BOM = "\ufeff"
DELIMITER = ";"


def writer(stream):
    return csv.writer(stream, delimiter=DELIMITER, lineterminator="\r\n")


def cell(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",") if not value.is_integer() else str(int(value))
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
