"""Démarches for tests, built through the services."""

from __future__ import annotations

from typing import Any

from grc.demarches.services.demarches import create_demarche, publish_demarche


def field(key: str, kind: str = "text", **extra: Any) -> dict[str, Any]:
    spec = {"key": key, "type": kind, "label": key.replace("_", " ").capitalize()}
    if kind in ("choice", "multiple") and "options" not in extra:
        spec["options"] = [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]
    spec.update(extra)
    return spec


def definition(*pages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schema": 1,
        "pages": [
            {"key": f"page_{n}", "title": f"Page {n}", "condition": None, "fields": fields}
            for n, fields in enumerate(pages, start=1)
        ],
    }


def published(collectivite, service, form: dict[str, Any], **settings: Any):
    data = {"title": "Démarche de test", "slug": "test", "who_may_file": "anonymous", **settings}
    demarche = create_demarche(
        actor=None, collectivite=collectivite, data=data, definition=form, service=service
    )
    publish_demarche(actor=None, demarche=demarche)
    demarche.refresh_from_db()
    return demarche
