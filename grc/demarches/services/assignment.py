"""Who handles a dossier and what the service notes on it for itself: assignment to an agent or
to another service of the collectivité, private annotations, tags. Nothing here is shown to
the citizen (a transfer that the citizen is told about is grc.demarches.workflow.services)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from grc.base.audit import record_event
from grc.base.models import Channel, Membership, Role, Service, User
from grc.demarches import access as demarche_access
from grc.demarches.models import Dossier

ANNOTATION_KEY = "annotation"  # the free text of Dossier.annotations (transitions fill others)
ANNOTATION_MAX_LENGTH = 5000
# The tags column's own limit (a longer tag would be cut by PostgreSQL without a word).
TAG_MAX_LENGTH = Dossier._meta.get_field("tags").base_field.max_length


def agents_of_service(service: Service | None) -> QuerySet[User]:
    """The people a dossier of `service` may be given to: its active agents and managers."""
    if service is None:
        return User.objects.none()
    members = Membership.objects.filter(
        service=service,
        role__in=(Role.AGENT, Role.MANAGER),
        collectivite__is_active=True,
    ).values("user_id")
    return User.objects.filter(pk__in=members, is_active=True).order_by(
        "last_name", "first_name", "email"
    )


def may_hold(user: User, *, service: Service | None) -> bool:
    """Whether a dossier of `service` may be given to `user`: one of its agents or managers, or
    an admin of its collectivité (who works on every dossier there)."""
    if service is None or not user.is_active:
        return False
    return (
        agents_of_service(service).filter(pk=user.pk).exists()
        or Membership.objects.filter(
            user=user,
            collectivite_id=service.collectivite_id,
            role=Role.ADMIN,
            collectivite__is_active=True,
        ).exists()
    )


def _locked(dossier: Dossier, actor: User) -> Dossier:
    locked = (
        Dossier.objects.select_for_update(of=("self",))
        .select_related("service", "collectivite")
        .get(pk=dossier.pk)
    )
    if not locked.is_filed or not demarche_access.works_on_service(actor, locked):
        raise demarche_access.NotFound
    return locked


@transaction.atomic
def assign_dossier(
    *,
    dossier: Dossier,
    actor: User,
    assignee: User | None = None,
    service: Service | None = None,
) -> Dossier:
    """Give the dossier to `assignee` (None: to nobody), within its service or within
    `service`, another service of the same collectivité that takes it over (its agents see it
    from now on; the citizen is not told: use a transfer for that)."""
    locked = _locked(dossier, actor)
    if locked.closed_at is not None:
        raise ValidationError(_("Ce dossier est clos : il ne peut plus être attribué."))
    target = locked.service
    if service is not None and service.pk != locked.service_id:
        if service.collectivite_id != locked.collectivite_id:
            raise ValidationError(
                {"service": _("Ce service n'appartient pas à la collectivité du dossier.")}
            )
        if not service.is_active:
            raise ValidationError({"service": _("Ce service n'est plus actif.")})
        target = service
    if assignee is not None and not may_hold(assignee, service=target):
        raise ValidationError(
            {
                "assignee": _("%(who)s n'est pas agent du service « %(s)s ».")
                % {"who": assignee, "s": target.name if target else "—"}
            }
        )
    before = {"service": locked.service_id, "assignee": locked.assignee_id}
    locked.service = target
    locked.assignee = assignee
    after = {"service": locked.service_id, "assignee": locked.assignee_id}
    if before == after:
        return locked
    locked.save(update_fields=["service", "assignee", "updated_at"])
    record_event(
        action="dossier.assigned",
        obj=locked,
        actor=actor,
        channel=Channel.WEB,
        collectivite_id=locked.collectivite_id,
        payload={"before": before, "after": after},
    )
    dossier.service, dossier.assignee = locked.service, locked.assignee
    return locked


@transaction.atomic
def set_annotations(*, dossier: Dossier, actor: User, text: str) -> Dossier:
    """The service's private annotation on the dossier (never shown to the citizen); the other
    annotations (filled in by transitions) are kept."""
    locked = _locked(dossier, actor)
    text = (text or "").strip()
    if len(text) > ANNOTATION_MAX_LENGTH:
        raise ValidationError(
            {
                "annotation": _("L'annotation fait %(n)d caractères : %(max)d au plus.")
                % {"n": len(text), "max": ANNOTATION_MAX_LENGTH}
            }
        )
    previous = locked.annotations.get(ANNOTATION_KEY, "")
    if previous == text:
        return locked
    locked.annotations = {**locked.annotations, ANNOTATION_KEY: text}
    locked.save(update_fields=["annotations", "updated_at"])
    record_event(
        action="dossier.annotations_changed",
        obj=locked,
        actor=actor,
        channel=Channel.WEB,
        collectivite_id=locked.collectivite_id,
        payload={"key": ANNOTATION_KEY, "length": len(text)},
    )
    dossier.annotations = locked.annotations
    return locked


@transaction.atomic
def add_tag(*, dossier: Dossier, actor: User, tag: str) -> Dossier:
    """Put a label on a dossier (the service's own sorting; the citizen never sees it)."""
    tag = " ".join((tag or "").split())
    if not tag:
        raise ValidationError({"tag": _("Indiquez l'étiquette à ajouter.")})
    if len(tag) > TAG_MAX_LENGTH:
        raise ValidationError(
            {"tag": _("Une étiquette fait %(max)d caractères au plus.") % {"max": TAG_MAX_LENGTH}}
        )
    locked = _locked(dossier, actor)
    tags = list(locked.tags or [])
    if tag in tags:
        return locked
    locked.tags = [*tags, tag]
    locked.save(update_fields=["tags", "updated_at"])
    record_event(
        action="dossier.tagged",
        obj=locked,
        actor=actor,
        channel=Channel.WEB,
        collectivite_id=locked.collectivite_id,
        payload={"tag": tag},
    )
    return locked
