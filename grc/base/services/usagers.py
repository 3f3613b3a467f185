"""Citizen records: the one way every intake finds or creates the person it is about."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.search import TrigramSimilarity
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from grc.base import access
from grc.base.audit import apply_changes, plain, record_event, snapshot
from grc.base.models import Channel, Collectivite, DuplicateCandidate, Usager, User
from grc.base.models.address import Address
from grc.base.services.errors import deny
from grc.base.services.saving import save_validated
from grc.base.signals import usager_changed
from grc.base.validators import name_key, normalize_email, normalize_phone

# Two names at least this similar (pg_trgm, 0..1) plus the same birth date or address make a
# probable duplicate. 0.5 catches "Dupont/Dupond" and "Jean-Pierre/Jean Pierre", not siblings
# with different first names.
DUPLICATE_NAME_SIMILARITY = 0.5


@dataclass
class UsagerMatch:
    usager: Usager
    created: bool
    duplicates: list[Usager] = field(default_factory=list)


def _check_intake(actor: User | None, collectivite: Collectivite, channel: str) -> None:
    # None is the platform (mail gateway, timers). Staff take in for their collectivité; anyone
    # else only for themselves, online.
    if actor is None or channel == Channel.WEB:
        return
    if not access.can_create_usager(actor, collectivite.pk):
        raise deny()


def _lock_identity(collectivite: Collectivite, keys: list[str]) -> None:
    """Serialise concurrent intakes for the same e-mail or phone in one collectivité, so that two
    messages arriving together do not create two records for one person."""
    with connection.cursor() as cursor:
        for key in sorted(keys):
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"usager:{collectivite.pk}:{key}"],
            )


def _find_exact(
    collectivite: Collectivite, email: str, phone: str, account: User | None
) -> Usager | None:
    """The record to reuse: the account's own, else an exact e-mail match, else an exact phone
    match. With an account, a match by phone alone is not reused: a shared or mistyped number
    must not join a stranger's record to this account (a duplicate candidate is raised)."""
    records = Usager.objects.select_for_update().filter(
        collectivite=collectivite, merged_into__isnull=True
    )
    if account is not None:
        found = records.filter(account=account).first()
        if found:
            return found
    if email:
        found = records.filter(email=email).order_by("created_at", "id").first()
        if found:
            return found
    if phone and account is None:
        return records.filter(phones__contains=[phone]).order_by("created_at", "id").first()
    return None


def _fill_in(usager: Usager, offered: dict[str, Any]) -> tuple[dict, dict]:
    """Missing details are filled in; known ones are kept. Returns (changes, kept)."""
    changes: dict[str, Any] = {}
    kept: dict[str, list[Any]] = {}
    for name, value in offered.items():
        if value in (None, "", [], ()):
            continue
        current = getattr(usager, name)
        if name == "phones":
            missing = [p for p in value if p not in current]
            if missing:
                changes["phones"] = [*current, *missing]
        elif current in (None, ""):
            changes[name] = value
        elif current != value:
            kept[name] = [plain(current), plain(value)]
    return changes, kept


def _address_fields(address: Address | None) -> dict[str, str]:
    if address is None or address.is_empty():
        return {}
    return {name: getattr(address, name) for name in Usager.ADDRESS_FIELDS}


def _normalized(email: str | None, phone: str | None) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    clean_email = clean_phone = ""
    if email:
        try:
            clean_email = normalize_email(email)
        except ValidationError as error:
            errors["email"] = error.messages
    if phone:
        try:
            clean_phone = normalize_phone(phone)
        except ValidationError as error:
            errors["phone"] = error.messages
    if errors:
        raise ValidationError(errors)
    return clean_email, clean_phone


@transaction.atomic
def find_or_create_usager(
    collectivite: Collectivite,
    *,
    email: str | None = None,
    phone: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    birth_date: datetime.date | None = None,
    address: Address | None = None,
    channel: str,
    actor: User | None = None,
    account: User | None = None,
) -> UsagerMatch:
    """The citizen record for this person in `collectivite`.

    - An exact e-mail match (then an exact phone match) reuses that record and fills in the
      details it lacks, never overwriting what it knows (differences are kept in the event).
    - Otherwise a new record is created; records with a similar name and the same birth date or
      address are recorded as duplicate candidates for an agent, never merged here.
    """
    _check_intake(actor, collectivite, channel)
    clean_email, clean_phone = _normalized(email, phone)
    _lock_identity(collectivite, [k for k in (clean_email, clean_phone) if k])
    offered: dict[str, Any] = {
        "first_name": (first_name or "").strip(),
        "last_name": (last_name or "").strip(),
        "birth_date": birth_date,
        "email": clean_email,
        "phones": [clean_phone] if clean_phone else [],
    }
    existing = _find_exact(collectivite, clean_email, clean_phone, account)
    if existing is not None:
        changes, kept = _fill_in(existing, {**offered, **_address_fields(address)})
        if (
            account is not None
            and existing.account_id is None
            and existing.email == (account.email)
        ):
            changes["account"] = account  # the account holder's own address: their record
        if changes:
            diff = apply_changes(existing, changes)
            _save(existing)
            usager_changed.send(sender=Usager, usager=existing)
            record_event(
                action="usager.completed",
                obj=existing,
                actor=actor,
                channel=channel,
                collectivite_id=collectivite.pk,
                payload={"changes": diff, "kept": kept},
            )
        return UsagerMatch(usager=existing, created=False)

    usager = Usager(
        collectivite=collectivite,
        created_channel=channel,
        account=account,
        **{k: v for k, v in offered.items() if v is not None},
        **_address_fields(address),
    )
    return _insert(usager, actor=actor, channel=channel)


def _save(usager: Usager) -> None:
    usager.name_key = name_key(usager.first_name, usager.last_name)
    save_validated(usager)


def _insert(usager: Usager, *, actor: User | None, channel: str) -> UsagerMatch:
    _save(usager)
    record_event(
        action="usager.created",
        obj=usager,
        actor=actor,
        channel=channel,
        collectivite_id=usager.collectivite_id,
        payload={"data": _public_snapshot(usager)},
    )
    duplicates = _record_duplicates(usager, actor=actor, channel=channel)
    return UsagerMatch(usager=usager, created=True, duplicates=duplicates)


def _public_snapshot(usager: Usager) -> dict[str, Any]:
    names = (
        "civility",
        "first_name",
        "last_name",
        "birth_name",
        "birth_date",
        "email",
        "phones",
        "preferred_channel",
        *Usager.ADDRESS_FIELDS,
    )
    return snapshot({name: getattr(usager, name) for name in names})


def probable_duplicates(usager: Usager) -> list[Usager]:
    """Other live records of the collectivité with a similar name and the same birth date or
    the same address."""
    if not usager.name_key:
        return []
    similar = (
        Usager.objects.filter(
            collectivite_id=usager.collectivite_id,
            merged_into__isnull=True,
            name_key__trigram_similar=usager.name_key,
        )
        .exclude(pk=usager.pk)
        .annotate(similarity=TrigramSimilarity("name_key", usager.name_key))
        .filter(similarity__gte=DUPLICATE_NAME_SIMILARITY)
        .order_by("-similarity", "id")[:20]
    )
    street = name_key(usager.address_line1)
    found = []
    for other in similar:
        same_birth = usager.birth_date is not None and other.birth_date == usager.birth_date
        same_address = bool(street and usager.postal_code) and (
            other.postal_code == usager.postal_code and name_key(other.address_line1) == street
        )
        if same_birth or same_address:
            other.duplicate_reason = (
                _("même date de naissance") if same_birth else _("même adresse")
            )
            found.append(other)
    return found


def _record_duplicates(usager: Usager, *, actor: User | None, channel: str) -> list[Usager]:
    found = probable_duplicates(usager)
    for other in found:
        first, second = sorted((usager, other), key=lambda u: u.pk)
        candidate, created = DuplicateCandidate.objects.get_or_create(
            first=first,
            second=second,
            defaults={
                "collectivite_id": usager.collectivite_id,
                "score": round(other.similarity, 3),
                "reason": _("Nom proche (%(score)s) et %(why)s")
                % {
                    "score": f"{other.similarity:.2f}",
                    "why": other.duplicate_reason,
                },
            },
        )
        if created:
            record_event(
                action="usager.duplicate_suspected",
                obj=candidate,
                actor=actor,
                channel=channel,
                collectivite_id=usager.collectivite_id,
                payload={"first": first.pk, "second": second.pk, "reason": candidate.reason},
            )
    return found


def _normalized_contacts(data: dict[str, Any]) -> dict[str, Any]:
    """E-mail lower-cased and phones in E.164, or errors keyed by field."""
    data = dict(data)
    errors: dict[str, list[str]] = {}
    if data.get("email"):
        try:
            data["email"] = normalize_email(data["email"])
        except ValidationError as error:
            errors["email"] = error.messages
    if data.get("phones"):
        phones: list[str] = []
        for raw in data["phones"]:
            try:
                phone = normalize_phone(raw)
            except ValidationError as error:
                errors.setdefault("phones", []).extend(error.messages)
                continue
            if phone not in phones:
                phones.append(phone)
        data["phones"] = phones
    if errors:
        raise ValidationError(errors)
    return data


@transaction.atomic
def create_usager(
    *, actor: User, collectivite: Collectivite, data: dict[str, Any], channel: str
) -> UsagerMatch:
    """An agent types in a record by hand (admin, counter). Same checks as any record, and the
    same duplicate detection; it never silently reuses another record."""
    if not access.can_create_usager(actor, collectivite.pk):
        raise access.NotFound
    usager = Usager(
        collectivite=collectivite, created_channel=channel, **_normalized_contacts(data)
    )
    return _insert(usager, actor=actor, channel=channel)


@transaction.atomic
def update_usager(*, actor: User, usager: Usager, changes: dict[str, Any], channel: str) -> Usager:
    locked = Usager.objects.select_for_update().get(pk=usager.pk)
    if not access.can_change_usager(actor, locked):
        raise access.NotFound
    if "collectivite" in changes and changes["collectivite"].pk != locked.collectivite_id:
        raise ValidationError({"collectivite": _("Une fiche ne change pas de collectivité.")})
    diff = apply_changes(locked, _normalized_contacts(changes))
    if not diff:
        return locked
    _save(locked)
    usager_changed.send(sender=Usager, usager=locked)
    record_event(
        action="usager.updated",
        obj=locked,
        actor=actor,
        channel=channel,
        collectivite_id=locked.collectivite_id,
        payload={"changes": diff},
    )
    if {"first_name", "last_name", "birth_date", "address_line1", "postal_code"} & diff.keys():
        _record_duplicates(locked, actor=actor, channel=channel)
    return locked
