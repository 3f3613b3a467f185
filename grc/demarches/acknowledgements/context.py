"""The variables of acknowledgement texts (documented in grc/demarches/texts.py: VARIABLES),
built from a dossier."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from grc.base.validators import display_phone
from grc.demarches import legal
from grc.demarches.access import follower_account_id
from grc.demarches.models import Dossier


def dossier_url(dossier: Dossier) -> str:
    """Where a message sends the citizen back to their dossier: its page when an account
    follows it (after login), else the tracking page with the reference filled in (the page
    itself opens only in the browser it was filed from)."""
    base = settings.GRC_BASE_URL.rstrip("/")
    slug = dossier.collectivite.slug
    if follower_account_id(dossier) is not None:
        return base + reverse("portal:dossier", args=[slug, dossier.uuid])
    path = reverse("portal:tracking", args=[slug])
    return f"{base}{path}?{urlencode({'reference': dossier.reference})}"


def build_context(dossier: Dossier) -> dict[str, Any]:
    collectivite = dossier.collectivite
    service = dossier.service
    demarche = dossier.demarche
    usager = dossier.usager
    return {
        "collectivite": {
            "name": collectivite.name,
            "address": collectivite.address_text,
            "email": collectivite.email,
            "phone": display_phone(collectivite.phone),
            "website": collectivite.website,
            "dpo_name": collectivite.dpo_name,
            "dpo_email": collectivite.dpo_email,
        },
        "service": {
            "name": service.name if service else collectivite.name,
            "address": service.address_text if service else "",
            "email": service.email if service else "",
            "phone": display_phone(service.phone) if service else "",
            "opening_hours": service.opening_hours if service else "",
        },
        "demarche": {"title": demarche.title, "legal_basis": demarche.legal_basis},
        "dossier": {
            "reference": dossier.reference,
            "tracking_code": dossier.tracking_code or "",
            "received_at": dossier.received_at,
            "channel_label": dossier.get_channel_display(),
            "url": dossier_url(dossier),
        },
        "usager": {
            "civility_label": usager.get_civility_display() if usager.civility else "",
            "first_name": usager.first_name,
            "last_name": usager.last_name,
            "email": dossier.contact_email or usager.email,
            "address": usager.address_text,
        },
        "decision": {
            "kind": dossier.implicit_decision or "none",
            "date": dossier.expected_decision_date,
            "period_label": legal.period_label_fr(
                dossier.decision_period or demarche.decision_period,
                dossier.decision_period_unit or demarche.decision_period_unit,
            ),
        },
    }
