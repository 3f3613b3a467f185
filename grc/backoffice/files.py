"""Files the workspace serves (attachments, scans, letters, e-mails, acknowledgements,
exports): personal data, never cached by a shared proxy and never sniffed into another type
by the browser (a text file shown as HTML)."""

from __future__ import annotations

from django.http import FileResponse


def file_response(opened, *, name: str, content_type: str, inline: bool = False) -> FileResponse:
    response = FileResponse(
        opened, as_attachment=not inline, filename=name, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
