"""Moving démarches between collectivités and platforms: a versioned JSON document
(docs/form-definition.md, "Export format")."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from grc.base.models import Collectivite, Service, User
from grc.demarches.definition import check_definition
from grc.demarches.models import Demarche
from grc.demarches.services.demarches import (
    SETTINGS_FIELDS,
    create_demarche,
    draft_version,
    publish_demarche,
    published_version,
)
from grc.demarches.workflow.defaults import default_workflow
from grc.demarches.workflow.definition import check_workflow

FORMAT = "grc.demarche"
FORMAT_VERSION = 2
# Version 1 had no workflow: importing one gives the démarche the default workflow.
READABLE_VERSIONS = (1, 2)
CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "catalogue"
# Dates are tied to one collectivité's calendar: not exported.
EXPORTED_SETTINGS = tuple(f for f in SETTINGS_FIELDS if f not in ("opens_at", "closes_at"))


def export_demarche(demarche: Demarche) -> dict[str, Any]:
    """The published form (or the draft of a never-published démarche) and the settings."""
    # A read: never creates a version.
    version = published_version(demarche) or demarche.versions.order_by("-number").first()
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "demarche": {name: copy.deepcopy(getattr(demarche, name)) for name in EXPORTED_SETTINGS},
        "definition": copy.deepcopy(version.definition),
        "workflow": copy.deepcopy(version.workflow),
    }


def parse_export(raw: bytes | str | dict) -> dict[str, Any]:
    """The document, checked as a whole; every problem is listed, nothing is created."""
    if isinstance(raw, dict):
        document = raw
    else:
        try:
            document = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as error:
            raise ValidationError(
                _("Ce fichier n'est pas du JSON valide : %(e)s.") % {"e": error}
            ) from None
    if not isinstance(document, dict):
        raise ValidationError(_("Le document doit être un objet JSON."))
    errors: list[str] = []
    if document.get("format") != FORMAT:
        errors.append(
            _("Ce n'est pas un export de démarche GRC (format « %(f)s »).")
            % {"f": document.get("format")}
        )
    elif document.get("format_version") not in READABLE_VERSIONS:
        errors.append(
            _("Version d'export %(v)s non prise en charge (attendue : %(e)s).")
            % {"v": document.get("format_version"), "e": FORMAT_VERSION}
        )
    settings = document.get("demarche")
    if not isinstance(settings, dict):
        errors.append(_("Les réglages de la démarche manquent."))
    else:
        unknown = set(settings) - set(EXPORTED_SETTINGS)
        if unknown:
            errors.append(_("Réglages inconnus : %(n)s.") % {"n": ", ".join(sorted(unknown))})
        for required in ("title", "slug"):
            if not settings.get(required):
                errors.append(_("Le réglage « %(n)s » manque.") % {"n": required})
    errors.extend(
        _("Formulaire — %(p)s") % {"p": problem}
        for problem in check_definition(document.get("definition"))
    )
    if document.get("workflow") is not None:
        errors.extend(
            _("Circuit — %(p)s") % {"p": problem}
            for problem in check_workflow(document["workflow"], document.get("definition"))
        )
    if errors:
        raise ValidationError(errors)
    return document


@transaction.atomic
def import_demarche(
    *,
    actor: User | None,
    collectivite: Collectivite | None,
    raw: bytes | str | dict,
    service: Service | None = None,
) -> Demarche:
    """A new draft démarche from an export. Settings are validated like a new démarche's (a
    taken slug is refused with its field named); a refusal changes nothing."""
    document = parse_export(raw)
    return create_demarche(
        actor=actor,
        collectivite=collectivite,
        data=document["demarche"],
        definition=document["definition"],
        workflow=document.get("workflow"),
        service=service,
    )


def load_catalogue(*, actor: User | None) -> list[Demarche]:
    """Install or refresh the platform catalogue from grc/demarches/catalogue/*.json
    (idempotent: a model already present with the same definition is left alone)."""
    models = []
    for path in sorted(CATALOGUE_DIR.glob("*.json")):
        document = parse_export(path.read_bytes())
        slug = document["demarche"]["slug"]
        model = Demarche.objects.filter(collectivite=None, slug=slug).first()
        if model is None:
            model = import_demarche(actor=actor, collectivite=None, raw=document)
        current = published_version(model)
        workflow = document.get("workflow") or default_workflow(
            document["demarche"].get("implicit_decision", "sva")
        )
        if current is None or (current.definition, current.workflow) != (
            document["definition"],
            workflow,
        ):
            version = draft_version(model)
            version.definition = document["definition"]
            version.workflow = workflow
            version.save(update_fields=["definition", "workflow", "updated_at"])
            publish_demarche(actor=actor, demarche=model)
        models.append(model)
    return models
