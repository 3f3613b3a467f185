"""Démarches: settings, the draft form, publication, adoption from the catalogue."""

from __future__ import annotations

import copy
from typing import Any

import nh3
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from grc.base.audit import apply_changes, record_event, snapshot
from grc.base.models import Channel, Collectivite, Service, User
from grc.base.services.saving import save_validated
from grc.demarches import access, texts
from grc.demarches.definition import check_definition, empty_definition
from grc.demarches.models import Demarche, DemarcheVersion
from grc.demarches.workflow.defaults import default_workflow
from grc.demarches.workflow.definition import check_workflow

# What a description may contain (sanitised on the way in, so that portals render it as is).
DESCRIPTION_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "h2", "h3"}
DESCRIPTION_ATTRIBUTES = {"a": {"href", "title"}}

SETTINGS_FIELDS = (
    "title", "slug", "summary", "description", "category", "who_may_file", "channels",
    "one_per_citizen", "draft_lifespan_days", "implicit_decision", "decision_period",
    "decision_period_unit", "acknowledgement_required", "legal_basis", "data_purpose",
    "retention_months", "texts", "opens_at", "closes_at", "clock_restarts_on_pieces",
)  # fmt: skip


def sanitize_description(html: str) -> str:
    return nh3.clean(
        html or "",
        tags=DESCRIPTION_TAGS,
        attributes=DESCRIPTION_ATTRIBUTES,
        url_schemes={"https", "http", "mailto", "tel"},
        link_rel="noopener",
    )


def _clean_settings(data: dict[str, Any], *, service_allowed: bool = False) -> dict[str, Any]:
    # create_demarche takes the service as its own argument; update_demarche among changes.
    unknown = set(data) - set(SETTINGS_FIELDS) - ({"service"} if service_allowed else set())
    if unknown:
        raise ValidationError(
            _("Réglages inconnus : %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    data = dict(data)
    if "description" in data:
        data["description"] = sanitize_description(data["description"])
    if "texts" in data:
        data["texts"] = _clean_texts(data["texts"])
    return data


def _clean_texts(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValidationError({"texts": _("Les textes doivent être un objet JSON.")})
    errors = []
    for key, source in value.items():
        if key not in texts.DEFAULT_TEXTS:
            errors.append(_("Texte inconnu : « %(k)s ».") % {"k": key})
        elif not isinstance(source, str):
            errors.append(_("Le texte « %(k)s » doit être une chaîne.") % {"k": key})
        else:
            errors.extend(
                f"{texts.TEXT_LABELS[key]} : {problem}" for problem in texts.check_template(source)
            )
    if errors:
        raise ValidationError({"texts": errors})
    return {k: v for k, v in value.items() if v.strip()}


def _check_service(demarche: Demarche, service: Service | None) -> None:
    if service is not None and service.collectivite_id != demarche.collectivite_id:
        raise ValidationError(
            {"service": _("Ce service n'appartient pas à la collectivité de la démarche.")}
        )


def _check_admin(actor: User | None, demarche: Demarche) -> None:
    if actor is not None and not access.can_administer_demarche(actor, demarche):
        raise access.NotFound


@transaction.atomic
def create_demarche(
    *,
    actor: User | None,
    collectivite: Collectivite | None,
    data: dict[str, Any],
    definition: dict[str, Any] | None = None,
    workflow: dict[str, Any] | None = None,
    service: Service | None = None,
    source: Demarche | None = None,
    channel: str = Channel.ADMIN,
) -> Demarche:
    """A new démarche in draft, with its first draft version. `collectivite=None` makes a model
    of the platform catalogue; `actor=None` is the platform itself (catalogue loading)."""
    demarche = Demarche(
        collectivite=collectivite, service=service, source=source, **_clean_settings(data)
    )
    _check_admin(actor, demarche)
    _check_service(demarche, service)
    save_validated(demarche)
    DemarcheVersion.objects.create(
        demarche=demarche,
        number=1,
        definition=definition or empty_definition(),
        workflow=workflow or default_workflow(demarche.implicit_decision),
    )
    record_event(
        action="demarche.created",
        obj=demarche,
        actor=actor,
        channel=channel,
        collectivite_id=demarche.collectivite_id,
        payload={
            "data": snapshot({k: v for k, v in data.items() if k not in ("description", "texts")}),
            "source": source.pk if source else None,
        },
    )
    return demarche


@transaction.atomic
def update_demarche(
    *, actor: User, demarche: Demarche, changes: dict[str, Any], channel: str = Channel.ADMIN
) -> Demarche:
    locked = Demarche.objects.select_for_update().get(pk=demarche.pk)
    _check_admin(actor, locked)
    changes = _clean_settings(changes, service_allowed=True)
    if "service" in changes:
        _check_service(locked, changes["service"])
    diff = apply_changes(locked, changes)
    save_validated(locked)
    if diff:
        record_event(
            action="demarche.updated",
            obj=locked,
            actor=actor,
            channel=channel,
            collectivite_id=locked.collectivite_id,
            payload={"changes": diff},
        )
    return locked


def draft_version(demarche: Demarche) -> DemarcheVersion:
    """The version being edited: the existing draft, or a new one copied from the published
    form (editing a published démarche never touches what citizens are filing)."""
    draft = demarche.versions.filter(status=DemarcheVersion.Status.DRAFT).first()
    if draft is not None:
        return draft
    latest = demarche.versions.order_by("-number").first()
    number = (demarche.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return DemarcheVersion.objects.create(
        demarche=demarche,
        number=number,
        definition=copy.deepcopy(latest.definition) if latest else empty_definition(),
        workflow=(
            copy.deepcopy(latest.workflow)
            if latest
            else default_workflow(demarche.implicit_decision)
        ),
    )


def _save_draft_part(
    *,
    actor: User,
    demarche: Demarche,
    part: str,
    value: Any,
    action: str,
    not_an_object: str,
    channel: str,
) -> DemarcheVersion:
    """Keep an editor's work (the form or the workflow) in the draft version, even while it has
    errors: they are listed to the editor and block publication only."""
    locked = Demarche.objects.select_for_update().get(pk=demarche.pk)
    _check_admin(actor, locked)
    if not isinstance(value, dict):
        raise ValidationError(not_an_object)
    version = draft_version(locked)
    if getattr(version, part) != value:
        setattr(version, part, value)
        version.save(update_fields=[part, "updated_at"])
        record_event(
            action=action,
            obj=locked,
            actor=actor,
            channel=channel,
            collectivite_id=locked.collectivite_id,
            payload={"version": version.number},
        )
    return version


@transaction.atomic
def save_definition(
    *, actor: User, demarche: Demarche, definition: dict[str, Any], channel: str = Channel.ADMIN
) -> tuple[DemarcheVersion, list[str]]:
    """The form builder's work, and what keeps it from being published."""
    version = _save_draft_part(
        actor=actor,
        demarche=demarche,
        part="definition",
        value=definition,
        action="demarche.form_saved",
        channel=channel,
        not_an_object=_("La définition du formulaire doit être un objet JSON."),
    )
    return version, check_definition(definition)


@transaction.atomic
def save_workflow(
    *, actor: User, demarche: Demarche, workflow: dict[str, Any], channel: str = Channel.ADMIN
) -> tuple[DemarcheVersion, list[str]]:
    """The workflow editor's work, and what keeps it from being published."""
    version = _save_draft_part(
        actor=actor,
        demarche=demarche,
        part="workflow",
        value=workflow,
        action="demarche.workflow_saved",
        channel=channel,
        not_an_object=_("Le circuit de traitement doit être un objet JSON."),
    )
    return version, check_workflow(workflow, version.definition)


def workflow_problems(demarche: Demarche, version: DemarcheVersion) -> list[str]:
    """What keeps the version's workflow from being published (a part of
    publication_problems, for the workflow editor)."""
    return [
        *(
            _("Circuit — %(p)s") % {"p": p}
            for p in check_workflow(version.workflow, version.definition)
        ),
        *_implicit_problems(demarche, version),
    ]


def _implicit_problems(demarche: Demarche, version: DemarcheVersion) -> list[str]:
    """The démarche's SVA/SVR setting and its workflow's implicit decision must agree."""
    workflow = version.workflow if isinstance(version.workflow, dict) else {}
    implicit = workflow.get("implicit") or {}
    if not isinstance(implicit, dict):
        return []  # check_workflow reports the shape
    if demarche.implicit_decision == "sva" and not implicit.get("accept"):
        return [
            _(
                "La démarche est en « silence vaut acceptation » : le circuit doit indiquer "
                "la transition d'acceptation implicite."
            )
        ]
    if demarche.implicit_decision == "svr" and not implicit.get("reject"):
        return [
            _(
                "La démarche est en « silence vaut rejet » : le circuit doit indiquer la "
                "transition de rejet implicite."
            )
        ]
    if demarche.implicit_decision == "none" and implicit:
        return [
            _(
                "La démarche ne prévoit pas de décision implicite, mais son circuit en "
                "déclenche une."
            )
        ]
    return []


def _contact_problems(demarche: Demarche) -> list[str]:
    """The acknowledgement of receipt must give the service's address (postal or e-mail) and
    phone (CRPA R112-11-1); the collectivité's stand in for what the service lacks."""
    service, collectivite = demarche.service, demarche.collectivite
    problems = []
    if not (service.phone or collectivite.phone):
        problems.append(
            _(
                "Indiquez le téléphone du service « %(s)s » (ou de la collectivité) : "
                "l'accusé de réception doit le mentionner."
            )
            % {"s": service.name}
        )
    if not (
        service.email or service.address_line1 or collectivite.email or collectivite.address_line1
    ):
        problems.append(
            _(
                "Indiquez l'adresse postale ou électronique du service « %(s)s » : "
                "l'accusé de réception doit la mentionner."
            )
            % {"s": service.name}
        )
    return problems


def publication_problems(demarche: Demarche, version: DemarcheVersion) -> list[str]:
    """Everything that keeps this version from being published."""
    return [*other_publication_problems(demarche, version), *workflow_problems(demarche, version)]


def other_publication_problems(demarche: Demarche, version: DemarcheVersion) -> list[str]:
    """What keeps it from being published besides its workflow: the form and the settings."""
    problems = check_definition(version.definition)
    if demarche.collectivite_id is not None and demarche.service_id is not None:
        problems.extend(_contact_problems(demarche))
    if demarche.collectivite_id is not None and demarche.service_id is None:
        problems.append(
            _("Choisissez le service chargé des dossiers (il figure sur l'accusé de réception).")
        )
    for key, source in (demarche.texts or {}).items():
        problems.extend(
            f"{texts.TEXT_LABELS.get(key, key)} : {p}" for p in texts.check_template(source)
        )
    if not demarche.channels:
        problems.append(_("Acceptez au moins un canal de dépôt."))
    return problems


@transaction.atomic
def publish_demarche(
    *, actor: User | None, demarche: Demarche, channel: str = Channel.ADMIN
) -> DemarcheVersion:
    """Freeze the draft version and put it online; refused with the list of reasons when the
    definition or the settings have errors."""
    locked = Demarche.objects.select_for_update().get(pk=demarche.pk)
    _check_admin(actor, locked)
    version = locked.versions.filter(status=DemarcheVersion.Status.DRAFT).first()
    if version is None:
        raise ValidationError(_("Rien à publier : la version en ligne est à jour."))
    problems = publication_problems(locked, version)
    if problems:
        raise ValidationError(problems)
    locked.versions.filter(status=DemarcheVersion.Status.PUBLISHED).update(
        status=DemarcheVersion.Status.ARCHIVED
    )
    version.status = DemarcheVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = actor
    version.save()
    locked.state = Demarche.State.PUBLISHED
    locked.save(update_fields=["state", "updated_at"])
    record_event(
        action="demarche.published",
        obj=locked,
        actor=actor,
        channel=channel,
        collectivite_id=locked.collectivite_id,
        payload={"version": version.number},
    )
    return version


@transaction.atomic
def close_demarche(*, actor: User, demarche: Demarche, channel: str = Channel.ADMIN) -> Demarche:
    locked = Demarche.objects.select_for_update().get(pk=demarche.pk)
    _check_admin(actor, locked)
    if locked.state != Demarche.State.PUBLISHED:
        raise ValidationError(_("Seule une démarche en ligne peut être fermée."))
    locked.state = Demarche.State.CLOSED
    locked.save(update_fields=["state", "updated_at"])
    record_event(
        action="demarche.closed",
        obj=locked,
        actor=actor,
        channel=channel,
        collectivite_id=locked.collectivite_id,
    )
    return locked


def published_version(demarche: Demarche) -> DemarcheVersion | None:
    return demarche.versions.filter(status=DemarcheVersion.Status.PUBLISHED).first()


@transaction.atomic
def adopt_demarche(
    *,
    actor: User,
    model: Demarche,
    collectivite: Collectivite,
    service: Service,
    slug: str | None = None,
) -> Demarche:
    """A collectivité takes a model of the catalogue: a copy it owns (its own service and texts,
    in draft, ready to adjust and publish)."""
    if not model.is_model:
        raise ValidationError(_("Seuls les modèles du catalogue peuvent être adoptés."))
    version = published_version(model)
    if version is None:
        raise ValidationError(_("Ce modèle n'est pas publié."))
    data = {name: copy.deepcopy(getattr(model, name)) for name in SETTINGS_FIELDS}
    if slug:
        data["slug"] = slug
    return create_demarche(
        actor=actor,
        collectivite=collectivite,
        data=data,
        definition=copy.deepcopy(version.definition),
        workflow=copy.deepcopy(version.workflow),
        service=service,
        source=model,
    )
