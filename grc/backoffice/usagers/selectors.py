"""Reads for the citizen records of the backoffice: search, the 360° view, duplicates.

Citizen records are the collectivité's data: its staff (any role) reach them, the platform's
admins do not (no membership, no record), like dossiers (grc.demarches.access)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from grc.base import access
from grc.base.access import NotFound
from grc.base.models import DuplicateCandidate, Membership, Usager
from grc.base.templatetags.grc_format import phone as phone_shown
from grc.base.validators import name_key, normalize_email, normalize_phone
from grc.channels.calls import calls_visible_to
from grc.channels.letters.selectors import letters_visible_to
from grc.channels.models import BouncedAddress, Call, Letter
from grc.channels.selectors import bounced_addresses
from grc.demarches.access import dossiers_visible_to_staff
from grc.demarches.models import Dossier, Message
from grc.demarches.workflow import definition as workflow_definition

SEARCH_MAX_LENGTH = 100
SEARCH_LIMIT = 50
TIMELINE_MESSAGES = 100


def member_collectivite_ids(user) -> QuerySet:
    return Membership.objects.filter(user=user, collectivite__is_active=True).values(
        "collectivite_id"
    )


def staff_usagers(user) -> QuerySet[Usager]:
    """The citizen records of the collectivités where this person holds a staff role."""
    if not (user and user.is_authenticated and user.is_active):
        return Usager.objects.none()
    return access.usagers_visible_to(user).filter(collectivite_id__in=member_collectivite_ids(user))


def access_staff_usager(user, usager_id) -> Usager:
    try:
        return staff_usagers(user).select_related("collectivite", "merged_into").get(pk=usager_id)
    except (Usager.DoesNotExist, ValueError, TypeError):
        raise NotFound from None


def clean_query(query: str) -> str:
    """A search as typed, control characters (NUL breaks PostgreSQL) and excess length dropped."""
    cleaned = "".join(c if c.isprintable() else " " for c in (query or "")[:SEARCH_MAX_LENGTH])
    return " ".join(cleaned.split())


def search_usagers(user, query: str) -> list[Usager]:
    """Live records whose name, e-mail or phone matches `query` (accents and case ignored)."""
    query = clean_query(query)
    if not query:
        return []
    match = Q()
    key = name_key(query)
    if key:
        match |= Q(name_key__contains=key)
    try:
        match |= Q(email=normalize_email(query))
    except ValidationError:
        if "@" in query:
            match |= Q(email__icontains=query)
    with contextlib.suppress(ValidationError):
        match |= Q(phones__contains=[normalize_phone(query)])
    if not match:
        return []
    return list(
        staff_usagers(user)
        .filter(match, merged_into__isnull=True)
        .select_related("collectivite")
        .order_by("last_name", "first_name", "id")[:SEARCH_LIMIT]
    )


def status_label(dossier: Dossier) -> str:
    found = workflow_definition.status(dossier.version.workflow or {}, dossier.status)
    return (found or {}).get("label") or dossier.status


@dataclass
class TimelineItem:
    at: datetime
    kind: str  # "dossier", "message", "call" or "letter"
    dossier: Dossier | None
    message: Message | None = None
    call: Call | None = None
    letter: Letter | None = None


@dataclass
class Record360:
    usager: Usager
    dossiers: list[Dossier]
    hidden_dossiers: int
    timeline: list[TimelineItem]
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    merged_records: list[Usager] = field(default_factory=list)
    bounces: list[BouncedAddress] = field(default_factory=list)


def record_360(user, usager: Usager) -> Record360:
    """Everything the person's record shows to this member of staff, in a fixed number of
    queries whatever the number of dossiers and messages."""
    everything = Dossier.objects.filed().filter(usager=usager)
    visible = list(
        dossiers_visible_to_staff(user)
        .filter(usager=usager)
        .select_related("demarche", "service", "version")
        .order_by("-received_at", "-id")
    )
    for dossier in visible:
        dossier.status_label = status_label(dossier)
    hidden = everything.count() - len(visible)
    by_id = {d.pk: d for d in visible}
    messages = list(
        Message.objects.filter(dossier_id__in=list(by_id))
        .select_related("author")
        .order_by("-created_at", "-id")[:TIMELINE_MESSAGES]
    )
    # The person's calls and letters that this member of staff may see (the same rules as the
    # calls' and letters' own pages).
    calls = list(
        calls_visible_to(user)
        .filter(usager=usager)
        .select_related("agent")
        .order_by("-started_at", "-id")[:TIMELINE_MESSAGES]
    )
    letters = list(
        letters_visible_to(user)
        .filter(usager=usager, dossier__isnull=True)  # a dossier's letters show as its messages
        .order_by("-created_at", "-id")[:TIMELINE_MESSAGES]
    )
    timeline = [
        TimelineItem(at=d.received_at or d.submitted_at, kind="dossier", dossier=d) for d in visible
    ]
    timeline += [
        TimelineItem(at=m.created_at, kind="message", dossier=by_id[m.dossier_id], message=m)
        for m in messages
    ]
    timeline += [
        TimelineItem(at=c.started_at, kind="call", dossier=by_id.get(c.dossier_id), call=c)
        for c in calls
    ]
    timeline += [
        TimelineItem(at=x.created_at, kind="letter", dossier=by_id.get(x.dossier_id), letter=x)
        for x in letters
    ]
    timeline.sort(key=lambda item: item.at, reverse=True)
    return Record360(
        usager=usager,
        dossiers=visible,
        hidden_dossiers=hidden,
        timeline=timeline,
        duplicates=open_duplicates(usager),
        merged_records=list(usager.merged_records.order_by("id")),
        bounces=bounced_addresses(usager.collectivite_id, [usager.email]),
    )


def open_duplicates(usager: Usager) -> list[dict[str, Any]]:
    candidates = (
        DuplicateCandidate.objects.filter(status=DuplicateCandidate.Status.OPEN)
        .filter(Q(first=usager) | Q(second=usager))
        .filter(first__merged_into__isnull=True, second__merged_into__isnull=True)
        .select_related("first", "second")
        .order_by("-score", "id")
    )
    return [
        {"candidate": c, "other": c.second if c.first_id == usager.pk else c.first}
        for c in candidates
    ]


COMPARED_FIELDS = (
    "civility",
    "first_name",
    "last_name",
    "birth_name",
    "birth_date",
    "email",
    "phones",
    "address_text",
    "preferred_channel",
    "account",
    "created_channel",
    "created_at",
)


def comparison(first: Usager, second: Usager) -> dict[str, Any]:
    """The two records side by side, with the number of dossiers each holds."""
    counts = dict(
        Dossier.objects.filed()
        .filter(usager__in=[first, second])
        .order_by()
        .values("usager_id")
        .annotate(n=Count("id"))
        .values_list("usager_id", "n")
    )
    rows = []
    for name in COMPARED_FIELDS:
        if name == "address_text":
            label = _("adresse")
        else:
            label = Usager._meta.get_field(name).verbose_name
        values = [_shown(record, name) for record in (first, second)]
        rows.append({"label": label, "values": values, "differ": values[0] != values[1]})
    low, high = sorted((first.pk, second.pk))
    return {
        "rows": rows,
        "counts": [counts.get(first.pk, 0), counts.get(second.pk, 0)],
        "flagged": DuplicateCandidate.objects.filter(
            first_id=low, second_id=high, status=DuplicateCandidate.Status.OPEN
        ).exists(),
    }


def _shown(record: Usager, name: str) -> Any:
    if name == "phones":
        return ", ".join(phone_shown(p) for p in record.phones)
    if name == "account":
        return record.account.email if record.account_id else ""
    display = getattr(record, f"get_{name}_display", None)
    if display is not None:
        return display()
    value = getattr(record, name)
    return "" if value is None else value
