"""Filing démarches in tests: files and valid answers generated from any definition."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from grc.demarches.definition import placed_fields
from grc.demarches.services import dossiers as dossier_services

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
SIRET = "73282932000074"
IBAN = "FR7630006000011234567890189"
# Values for fields whose format a generator cannot guess (patterns).
BY_KEY = {"heure_debut": "14h00", "heure_fin": "18h30"}


def png_file(name: str = "photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def pdf_file(name: str = "piece.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def value_for(spec: dict[str, Any], *, files: dict[str, list[int]]) -> Any:
    kind = spec["type"]
    rules = spec.get("validation") or {}
    if spec["key"] in BY_KEY:
        return BY_KEY[spec["key"]]
    if kind in ("text", "textarea"):
        return "Réponse de test"[: rules.get("max_length", 100)]
    if kind == "email":
        return "usager@exemple.test"
    if kind == "phone":
        return "06 12 34 56 78"
    if kind == "integer":
        return rules.get("min", 1)
    if kind == "decimal":
        return "12.5"
    if kind == "date":
        return rules.get("min", "2026-12-01")
    if kind == "datetime":
        return "2026-12-01T10:00:00+01:00"
    if kind == "yesno":
        return False
    if kind == "checkbox":
        return True
    if kind == "choice":
        return spec["options"][0]["value"]
    if kind == "multiple":
        return [spec["options"][0]["value"]]
    if kind == "address":
        return {
            "address_line1": "4 rue des Tilleuls",
            "address_line2": "",
            "postal_code": "49170",
            "city": "Saint-Aubin-sur-Loire",
            "country": "FR",
        }
    if kind == "siret":
        return SIRET
    if kind == "iban":
        return IBAN
    if kind == "file":
        return files.get(spec["key"])
    if kind == "block":
        count = max(spec.get("min_items", 1), 1)
        return [
            {
                sub["key"]: value_for(sub, files=files)
                for sub in spec["fields"]
                if sub["type"] not in ("title", "explanation")
            }
            for _ in range(count)
        ]
    return None


def fill(definition: dict[str, Any], *, dossier=None) -> dict[str, Any]:
    """Answers for every field (conditions then drop what is hidden). File fields get a
    stored attachment on `dossier` (a draft)."""
    files: dict[str, list[int]] = {}
    for placed in placed_fields(definition):
        spec = placed.field
        if spec.get("type") == "file" and dossier is not None:
            upload = pdf_file() if "application/pdf" in spec.get("accept", []) else png_file()
            attachment = dossier_services.attach_file(
                dossier=dossier, field_key=spec["key"], upload=upload
            )
            files[spec["key"]] = [attachment.pk]
    return {
        placed.field["key"]: value_for(placed.field, files=files)
        for placed in placed_fields(definition, blocks=False)
        if placed.field["type"] not in ("title", "explanation")
    }
