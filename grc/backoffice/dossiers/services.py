"""Writes of the dossier page that belong to the workspace itself: the trace of who viewed a
dossier, the canned responses of a service, and the bulk actions (each dossier through the
same services as the page, one by one)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from grc.backoffice.models import CannedResponse
from grc.base import access as base_access
from grc.base.audit import apply_changes, record_event
from grc.base.models import Channel, Membership, Role, Service, User
from grc.demarches import access as demarche_access
from grc.demarches import texts
from grc.demarches.acknowledgements.context import build_context
from grc.demarches.models import Dossier
from grc.demarches.services import assignment
from grc.demarches.workflow import services as workflow_services

BULK_MAX = 200  # dossiers in one bulk action


@transaction.atomic
def record_dossier_viewed(*, dossier: Dossier, actor: User, what: dict | None = None) -> None:
    """A member of staff opened a dossier's personal data (RGPD: who read what, when): its
    page, or one of its files (`what`: {"attachment": id}…)."""
    record_event(
        action="dossier.viewed",
        obj=dossier,
        actor=actor,
        channel=Channel.WEB,
        collectivite_id=dossier.collectivite_id,
        payload=what or {},
    )


# --- Canned responses -------------------------------------------------------------------------


def services_managed_by(user) -> QuerySet[Service]:
    """The services whose canned responses `user` writes: those they manage, and every service
    of the collectivités they administer."""
    if not (user and user.is_authenticated and user.is_active):
        return Service.objects.none()
    managed = Membership.objects.filter(
        user=user, role=Role.MANAGER, collectivite__is_active=True
    ).values("service_id")
    return Service.objects.filter(
        Q(pk__in=managed) | Q(collectivite__in=base_access.administered_collectivites(user))
    )


def can_manage_canned_responses(user, service) -> bool:
    return service is not None and services_managed_by(user).filter(pk=service.pk).exists()


def _check_body(body: str) -> None:
    problems = texts.check_template(body)
    if problems:
        raise ValidationError({"body": problems})


@transaction.atomic
def create_canned_response(*, actor: User, service, data: dict[str, Any]) -> CannedResponse:
    if not can_manage_canned_responses(actor, service):
        raise demarche_access.NotFound
    response = CannedResponse(service=service, **data)
    response.full_clean()
    _check_body(response.body)
    response.save()
    record_event(
        action="canned_response.created",
        obj=response,
        actor=actor,
        channel=Channel.ADMIN,
        collectivite_id=service.collectivite_id,
        payload={"title": response.title},
    )
    return response


@transaction.atomic
def update_canned_response(
    *, actor: User, response: CannedResponse, changes: dict[str, Any]
) -> CannedResponse:
    locked = (
        CannedResponse.objects.select_for_update().select_related("service").get(pk=response.pk)
    )
    if not can_manage_canned_responses(actor, locked.service):
        raise demarche_access.NotFound
    changes.pop("service", None)
    diff = apply_changes(locked, changes)
    if not diff:
        return locked
    locked.full_clean()
    _check_body(locked.body)
    locked.save()
    record_event(
        action="canned_response.changed",
        obj=locked,
        actor=actor,
        channel=Channel.ADMIN,
        collectivite_id=locked.service.collectivite_id,
        payload={"changed": sorted(diff)},
    )
    return locked


@transaction.atomic
def delete_canned_response(*, actor: User, response: CannedResponse) -> None:
    if not can_manage_canned_responses(actor, response.service):
        raise demarche_access.NotFound
    record_event(
        action="canned_response.deleted",
        obj=response,
        actor=actor,
        channel=Channel.ADMIN,
        collectivite_id=response.service.collectivite_id,
        payload={"title": response.title},
    )
    response.delete()


def render_canned_response(response: CannedResponse, dossier: Dossier) -> str:
    """A canned response written for this dossier, in the sandbox of the démarches' texts;
    raises texts.TemplateRenderError (French) when it cannot be produced."""
    return texts.render_text(response.body, build_context(dossier)).strip()


# --- Bulk actions -----------------------------------------------------------------------------


@dataclass
class Outcome:
    """What became of one dossier of a bulk action."""

    dossier_id: int
    reference: str
    ok: bool
    detail: str = ""


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    if isinstance(error, PermissionDenied):
        return str(error) or _("Action non autorisée.")
    return _("Dossier introuvable.")


def parse_ids(values: Iterable[str]) -> list[int]:
    """The dossier ids of a bulk form, duplicates and garbage dropped, order kept."""
    ids: list[int] = []
    for value in values:
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            continue
        if 0 < number < 2**63 and number not in ids:
            ids.append(number)
    return ids


def run_bulk_action(
    *,
    actor: User,
    dossier_ids: list[int],
    action: str,
    assignee: User | None = None,
    transition: str = "",
    comment: str = "",
    tag: str = "",
) -> tuple[list[Outcome], list[int]]:
    """Apply `action` to each dossier of `dossier_ids` the actor may reach, each in its own
    transaction through the page's services (and audited by them). Returns the outcomes and
    the ids that were not found (outside the actor's scope, or not existing): never acted
    on."""
    if len(dossier_ids) > BULK_MAX:
        raise ValidationError(
            _("Sélectionnez %(max)d dossiers au plus à la fois.") % {"max": BULK_MAX}
        )
    found = {
        d.pk: d
        for d in demarche_access.dossiers_visible_to_staff(actor)
        .filter(pk__in=dossier_ids)
        .select_related("version", "service", "collectivite")
    }
    missing = [pk for pk in dossier_ids if pk not in found]
    outcomes = []
    for pk in dossier_ids:
        dossier = found.get(pk)
        if dossier is None:
            continue
        try:
            if action == "assign_me":
                assignment.assign_dossier(dossier=dossier, actor=actor, assignee=actor)
            elif action == "assign":
                assignment.assign_dossier(dossier=dossier, actor=actor, assignee=assignee)
            elif action == "transition":
                workflow_services.apply_transition(
                    dossier, transition, actor=actor, comment=comment
                )
            elif action == "tag":
                assignment.add_tag(dossier=dossier, actor=actor, tag=tag)
            else:
                raise ValidationError(_("Action inconnue."))
        except (ValidationError, PermissionDenied, demarche_access.NotFound) as error:
            outcomes.append(Outcome(pk, dossier.reference, ok=False, detail=_reason(error)))
        else:
            outcomes.append(Outcome(pk, dossier.reference, ok=True))
    return outcomes, missing
