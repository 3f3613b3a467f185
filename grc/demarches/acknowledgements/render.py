"""Rendering the accusé d'enregistrement (AEE) and the accusé de réception (ARE).

CRPA L112-11: every electronic request gets an ARE, preceded by an AEE when the ARE is not
sent at once. The ARE must carry the mentions of R112-11-1 (date of receipt, service in charge
with its address and phone, implicit decision and its date, L232-3 attestation or appeal
routes); without them appeal deadlines cannot be held against the person (L112-6). So the
mentions live in a fixed Django template, and staff only edit the paragraphs around them.

The functions take plain dicts (see ``render_are``) so that they can be used, previewed and
tested without the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import weasyprint
from django.template.loader import render_to_string
from django.utils import timezone

from grc.base.calendar import paris_date
from grc.demarches.legal import format_date_fr, format_time_fr
from grc.demarches.texts import DEFAULT_TEXTS, render_text

ARE_TEMPLATE = "demarches/acknowledgements/are.html"

DECISION_KINDS = ("none", "sva", "svr")

# Relative URLs in the template (there are none) would resolve here, never on the network.
_BASE_URL = str(Path(__file__).resolve().parent.parent / "templates")


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    body: str


@dataclass(frozen=True)
class RenderedAre:
    subject: str
    body: str
    html: str
    pdf: bytes


def _source(texts: Mapping[str, str] | None, key: str) -> str:
    """The staff's text for ``key``, or the default when it is missing or blank."""
    value = (texts or {}).get(key) or ""
    return value if value.strip() else DEFAULT_TEXTS[key]


def _subject(texts: Mapping[str, str] | None, key: str, context: Mapping[str, Any]) -> str:
    # One line, whatever staff typed: a newline in a header would break or inject headers.
    return " ".join(render_text(_source(texts, key), context).split())


def render_aee(context: Mapping[str, Any], texts: Mapping[str, str] | None = None) -> RenderedMail:
    """The accusé d'enregistrement e-mail (subject and plain-text body)."""
    return RenderedMail(
        subject=_subject(texts, "aee_subject", context),
        body=render_text(_source(texts, "aee_body"), context),
    )


def _service_contact(context: Mapping[str, Any]) -> dict[str, str]:
    """The service's coordinates, completed from the collectivité's where they are missing.

    R112-11-1 requires a postal or e-mail address and a phone number: a service without them
    is reached through the collectivité, and a document without them is not an ARE at all.
    """
    service = context["service"]
    collectivite = context["collectivite"]
    address = (service.get("address") or "").strip()
    email = (service.get("email") or "").strip()
    if not address and not email:
        address = (collectivite.get("address") or "").strip()
        email = (collectivite.get("email") or "").strip()
    phone = (service.get("phone") or "").strip() or (collectivite.get("phone") or "").strip()
    if not address and not email:
        raise ValueError(
            "L'accusé de réception doit indiquer une adresse postale ou électronique du service "
            "(article R112-11-1 du CRPA) : renseignez-en une pour le service ou la collectivité."
        )
    if not phone:
        raise ValueError(
            "L'accusé de réception doit indiquer le téléphone du service "
            "(article R112-11-1 du CRPA) : renseignez-le pour le service ou la collectivité."
        )
    return {
        "name": service["name"],
        "address": address,
        "email": email,
        "phone": phone,
        "opening_hours": (service.get("opening_hours") or "").strip(),
    }


def _decision(context: Mapping[str, Any]) -> dict[str, Any]:
    decision = context["decision"]
    kind = decision.get("kind")
    if kind not in DECISION_KINDS:
        raise ValueError(f"Unknown decision kind {kind!r}; expected one of {DECISION_KINDS}.")
    decision_date: date | None = decision.get("date")
    if kind != "none" and decision_date is None:
        # The date is a mandatory mention for SVA and SVR: never print an ARE without it.
        raise ValueError(f"A {kind} decision needs its date for the acknowledgement.")
    return {
        "kind": kind,
        "date": format_date_fr(decision_date) if decision_date else "",
        "period_label": (decision.get("period_label") or "").strip(),
    }


def render_are_html(
    context: Mapping[str, Any],
    *,
    intro: str,
    closing: str,
    issued_at: datetime | None = None,
) -> str:
    """The ARE document as HTML; ``intro`` and ``closing`` are plain text (escaped here)."""
    received_at: datetime = context["dossier"]["received_at"]
    issued_at = issued_at or timezone.now()
    document = {
        "title": f"Accusé de réception – demande {context['dossier']['reference']}",
        "received_date": format_date_fr(paris_date(received_at)),
        "received_time": format_time_fr(received_at),
        "issued_date": format_date_fr(paris_date(issued_at)),
        "contact": _service_contact(context),
        "decision": _decision(context),
        "intro": intro.strip(),
        "closing": closing.strip(),
    }
    return render_to_string(ARE_TEMPLATE, {**context, "document": document})


def _refusing_fetcher() -> weasyprint.URLFetcher:
    # The template embeds everything; refusing every URL keeps rendering offline and
    # deterministic, whatever ends up in the HTML.
    return weasyprint.URLFetcher(allowed_protocols=())


def html_to_pdf(html: str) -> bytes:
    """A tagged, accessible PDF (PDF/UA-1): the person may read it with a screen reader."""
    document = weasyprint.HTML(string=html, base_url=_BASE_URL, url_fetcher=_refusing_fetcher())
    return document.write_pdf(pdf_variant="pdf/ua-1")


def render_are(
    context: Mapping[str, Any],
    texts: Mapping[str, str] | None = None,
    *,
    issued_at: datetime | None = None,
) -> RenderedAre:
    """The accusé de réception: e-mail subject and body, and the document as HTML and PDF.

    ``context`` holds plain dicts: ``collectivite`` (name, address, email, phone, website,
    dpo_name, dpo_email), ``service`` (name, address, email, phone, opening_hours),
    ``demarche`` (title, legal_basis), ``dossier`` (reference, tracking_code, received_at as an
    aware datetime, channel_label, url), ``usager`` (civility_label, first_name, last_name,
    email, address) and ``decision`` (kind "none" | "sva" | "svr", date, period_label).
    ``texts`` overrides DEFAULT_TEXTS keys. Raises TemplateRenderError for a broken staff text
    and ValueError when a mandatory mention cannot be filled.
    """
    html = render_are_html(
        context,
        intro=render_text(_source(texts, "are_intro"), context),
        closing=render_text(_source(texts, "are_closing"), context),
        issued_at=issued_at,
    )
    return RenderedAre(
        subject=_subject(texts, "are_subject", context),
        body=render_text(_source(texts, "are_body"), context),
        html=html,
        pdf=html_to_pdf(html),
    )
