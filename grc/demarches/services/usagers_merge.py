"""Merging two citizen records that describe one person (a duplicate found by an agent).

Lives with the démarches because a merge moves dossiers; grc.base stays below. Every row that
points at the merged record follows the kept one, whatever app declares it (later channels add
calls and letters): the relations are read from the model, not listed here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from grc.base import access
from grc.base.audit import apply_changes, plain, record_event
from grc.base.models import Channel, DuplicateCandidate, Usager, User
from grc.base.services.saving import save_validated
from grc.base.signals import usager_changed
from grc.base.validators import name_key

# Copied to the kept record when it has none; the address travels as a whole (never a street
# from one record with the town of the other).
_IDENTITY_FIELDS = (
    "civility",
    "first_name",
    "last_name",
    "birth_name",
    "birth_date",
    "email",
    "preferred_channel",
)


@dataclass
class MergeOutcome:
    kept: Usager
    merged: Usager
    moved: dict[str, list[Any]] = field(default_factory=dict)
    filled: dict[str, list[Any]] = field(default_factory=dict)


def _lock_pair(kept_id: int, merged_id: int) -> tuple[Usager, Usager]:
    # Always in id order: two agents merging the same pair both ways cannot deadlock.
    rows = {u.pk: u for u in Usager.objects.select_for_update().filter(pk__in=[kept_id, merged_id])}
    if kept_id not in rows or merged_id not in rows:
        raise access.NotFound
    return rows[kept_id], rows[merged_id]


def _check(actor: User, kept: Usager, merged: Usager) -> None:
    if not (access.can_change_usager(actor, kept) and access.can_change_usager(actor, merged)):
        raise access.NotFound
    if kept.pk == merged.pk:
        raise ValidationError(_("Une fiche ne peut pas être fusionnée avec elle-même."))
    if kept.collectivite_id != merged.collectivite_id:
        raise ValidationError(_("Les deux fiches n'appartiennent pas à la même collectivité."))
    if kept.merged_into_id or merged.merged_into_id:
        raise ValidationError(
            _("L'une des deux fiches a déjà été fusionnée : rechargez la page de la fiche gardée.")
        )
    if kept.account_id and merged.account_id and kept.account_id != merged.account_id:
        raise ValidationError(
            _(
                "Les deux fiches sont liées à deux comptes usagers différents : ce ne sont "
                "sans doute pas la même personne."
            )
        )


def _filled_in(kept: Usager, merged: Usager) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in _IDENTITY_FIELDS:
        if getattr(kept, name) in (None, "") and getattr(merged, name) not in (None, ""):
            changes[name] = getattr(merged, name)
    if kept.address.is_empty() and not merged.address.is_empty():
        changes.update({name: getattr(merged, name) for name in Usager.ADDRESS_FIELDS})
    missing = [phone for phone in merged.phones if phone not in kept.phones]
    if missing:
        changes["phones"] = [*kept.phones, *missing]
    if merged.notes and merged.notes not in kept.notes:
        changes["notes"] = "\n\n".join(n for n in (kept.notes, merged.notes) if n)
    return changes


def _move_relations(kept: Usager, merged: Usager) -> dict[str, list[Any]]:
    """Point every foreign key to the merged record at the kept one. Duplicate candidates are
    settled apart (_settle_candidates)."""
    moved: dict[str, list[Any]] = {}
    for relation in Usager._meta.related_objects:
        if not relation.one_to_many or relation.related_model is DuplicateCandidate:
            continue
        rows = relation.related_model._default_manager.filter(**{relation.field.name: merged})
        ids = list(rows.values_list("pk", flat=True))
        if ids:
            rows.update(**{relation.field.name: kept})
            moved[relation.related_model._meta.label_lower + "." + relation.field.name] = [
                plain(i) for i in ids
            ]
    return moved


def _settle_candidates(kept: Usager, merged: Usager) -> list[int]:
    """The pair itself is resolved; the merged record's other suspicions move to the kept
    record (or are closed when the kept record already has the same one)."""
    settled = []
    open_ones = DuplicateCandidate.objects.select_for_update().filter(
        status=DuplicateCandidate.Status.OPEN
    )
    pair = sorted((kept.pk, merged.pk))
    for candidate in open_ones.filter(first_id=pair[0], second_id=pair[1]):
        candidate.status = DuplicateCandidate.Status.MERGED
        candidate.save(update_fields=["status"])
        settled.append(candidate.pk)
    for candidate in open_ones.filter(first=merged) | open_ones.filter(second=merged):
        other = candidate.second_id if candidate.first_id == merged.pk else candidate.first_id
        first, second = sorted((kept.pk, other))
        if DuplicateCandidate.objects.filter(first_id=first, second_id=second).exists():
            candidate.status = DuplicateCandidate.Status.MERGED
            candidate.save(update_fields=["status"])
        else:
            candidate.first_id, candidate.second_id = first, second
            candidate.save(update_fields=["first", "second"])
    return settled


@transaction.atomic
def merge_usagers(
    *, kept: Usager, merged: Usager, actor: User, channel: str = Channel.ADMIN
) -> MergeOutcome:
    """Merge `merged` into `kept`: dossiers and every other row of the person move to `kept`,
    which gains the details it lacked (never loses one) and every phone; `merged` stays, marked
    as merged into `kept`, so that its history and links still lead somewhere."""
    kept, merged = _lock_pair(kept.pk, merged.pk)
    _check(actor, kept, merged)

    # The merged record leaves the "one live record per account" constraint before the kept
    # one takes its account.
    account = merged.account
    merged.merged_into = kept
    merged.save(update_fields=["merged_into", "updated_at"])

    changes = _filled_in(kept, merged)
    if account is not None and kept.account_id is None:
        changes["account"] = account
    filled = apply_changes(kept, changes)
    if filled:
        kept.name_key = name_key(kept.first_name, kept.last_name)
        save_validated(kept)

    moved = _move_relations(kept, merged)
    settled = _settle_candidates(kept, merged)
    # The queues' search text names the citizen: the moved dossiers name the kept record now,
    # and the kept record's own ones its filled-in details. In this transaction, like every
    # other change of the search text: it is never behind what was committed.
    usager_changed.send(sender=Usager, usager=kept)
    record_event(
        action="usager.merged",
        obj=kept,
        actor=actor,
        channel=channel,
        collectivite_id=kept.collectivite_id,
        payload={
            "kept": kept.pk,
            "merged": merged.pk,
            "moved": moved,
            "filled": filled,
            "duplicates_resolved": settled,
        },
    )
    return MergeOutcome(kept=kept, merged=merged, moved=moved, filled=filled)
