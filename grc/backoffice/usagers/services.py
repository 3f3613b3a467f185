"""Writes of the citizen record pages that belong to the workspace itself: the trace of who
read a record, a suspected duplicate set aside. The merge moves dossiers: it lives with them,
in grc.demarches.services.usagers_merge."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from grc.base import access
from grc.base.audit import record_event
from grc.base.models import Channel, DuplicateCandidate, Usager, User


@transaction.atomic
def record_usager_viewed(*, usager: Usager, actor: User, dossier_ids: list[int]) -> None:
    """A member of staff opened a person's record and the exchanges of these dossiers (RGPD:
    who read what, when)."""
    record_event(
        action="usager.viewed",
        obj=usager,
        actor=actor,
        channel=Channel.WEB,
        collectivite_id=usager.collectivite_id,
        payload={"dossiers": dossier_ids},
    )


@transaction.atomic
def dismiss_duplicate(*, first: Usager, second: Usager, actor: User) -> DuplicateCandidate:
    """An agent decides that two records flagged as one person are two people: the suspicion is
    closed (kept, with who decided, in the audit trail)."""
    low, high = sorted((first.pk, second.pk))
    candidate = (
        DuplicateCandidate.objects.select_for_update()
        .filter(first_id=low, second_id=high, status=DuplicateCandidate.Status.OPEN)
        .first()
    )
    if candidate is None:
        raise ValidationError(_("Ces deux fiches ne sont pas signalées comme doublon."))
    if not access.can_change_usager(actor, first) or not access.can_change_usager(actor, second):
        raise access.NotFound
    candidate.status = DuplicateCandidate.Status.DISMISSED
    candidate.save(update_fields=["status"])
    record_event(
        action="usager.duplicate_dismissed",
        obj=candidate,
        actor=actor,
        channel=Channel.WEB,
        collectivite_id=candidate.collectivite_id,
        payload={"first": low, "second": high},
    )
    return candidate
