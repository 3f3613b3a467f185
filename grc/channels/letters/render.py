"""An outgoing letter as a PDF (WeasyPrint, A4) on the collectivité's letterhead, the
recipient's address placed for a French window envelope.

DL/C5 envelopes with the window on the right (NF Z 10-011, La Poste): a window of about
45 × 100 mm, 20 mm from the right edge and 50–55 mm from the top. The address block sits at
110 mm from the left and 50 mm from the top, 90 × 40 mm; La Poste reads at most 6 lines of
38 characters, the last one the postcode and town in capitals without accents."""

from __future__ import annotations

import base64
import textwrap
import unicodedata
from dataclasses import dataclass

import weasyprint
from django.template.loader import render_to_string
from django.utils import timezone

from grc.base.calendar import paris_date
from grc.base.models import Collectivite, Usager
from grc.base.validators import display_phone
from grc.demarches.legal import format_date_fr

TEMPLATE = "channels/letter.html"
MAX_LINES = 6
MAX_CHARS = 38
# The address block on the page, in millimetres (the tests read it back from the PDF).
ADDRESS_BOX = {"left": 110, "top": 50, "width": 90, "height": 40}
LOGO_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif"}


@dataclass(frozen=True)
class RenderedLetter:
    subject: str
    body: str
    recipient: list[str]
    html: str
    pdf: bytes


def _plain_capitals(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def recipient_lines(usager: Usager | None) -> list[str] | None:
    """The address as La Poste reads it (name, complement, street, postcode and town), or
    None when the record lacks the street, the postcode or the town."""
    if usager is None or not (usager.address_line1 and usager.postal_code and usager.city):
        return None
    civility = usager.get_civility_display() if usager.civility else ""
    name = " ".join(p for p in (civility, usager.first_name, usager.last_name) if p)
    town = _plain_capitals(f"{usager.postal_code} {usager.city}")
    last = [town]
    if usager.country and usager.country != "FR":
        last.append(usager.country.upper())
    head: list[str] = []
    for line in (name, usager.address_line2, usager.address_line1):
        head.extend(textwrap.wrap(" ".join(line.split()), MAX_CHARS) if line else [])
    head = head[: MAX_LINES - len(last)]
    return [*head, *(line[:MAX_CHARS] for line in last)]


def _logo_data_uri(collectivite: Collectivite) -> str:
    if not collectivite.logo:
        return ""
    extension = collectivite.logo.name.rsplit(".", 1)[-1].lower()
    content_type = LOGO_TYPES.get(extension)
    if content_type is None:
        return ""
    try:
        with collectivite.logo.open("rb") as logo:
            data = logo.read()
    except OSError:
        return ""  # a missing logo file does not stop a letter
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


def _to_pdf(html: str) -> bytes:
    # Only the embedded logo (a data: URL) is fetched; nothing reaches the network.
    document = weasyprint.HTML(
        string=html, url_fetcher=weasyprint.URLFetcher(allowed_protocols=("data",))
    )
    return document.write_pdf(pdf_variant="pdf/ua-1")


def render_letter(
    *,
    collectivite: Collectivite,
    recipient: list[str],
    subject: str,
    body: str,
    signature: str,
    reference: str,
    today=None,
) -> RenderedLetter:
    today = today or paris_date(timezone.now())
    place = collectivite.city or collectivite.name
    html = render_to_string(
        TEMPLATE,
        {
            "collectivite": collectivite,
            "phone": display_phone(collectivite.phone) if collectivite.phone else "",
            "address_lines": collectivite.address_text.splitlines(),
            "logo": _logo_data_uri(collectivite),
            "recipient": recipient,
            "box": ADDRESS_BOX,
            "place_and_date": f"À {place}, le {format_date_fr(today)}",
            "subject": subject,
            "paragraphs": [p.strip() for p in body.strip().split("\n\n") if p.strip()],
            "signature": [line for line in signature.splitlines() if line.strip()],
            "reference": reference,
        },
    )
    return RenderedLetter(
        subject=subject, body=body, recipient=recipient, html=html, pdf=_to_pdf(html)
    )
