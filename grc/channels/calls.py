"""Phone calls with citizens: the call log kept by agents, the events reported by the
collectivité's telephony system (CTI), and who sees which call.

Scope of a call (the same rule for the log, the incoming-call screen and a call's page): an
admin sees every call of their collectivité; an agent or manager the calls they took or
logged, those on the lines of their services or on the collectivité's switchboard (a line
without a service), and those about a dossier they work on. Nobody outside the collectivité,
the platform's admins included (calls are the collectivité's data, like dossiers)."""

from __future__ import annotations

import datetime
import hmac
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from grc.base import access
from grc.base.audit import apply_changes, record_event
from grc.base.models import Channel, Collectivite, Membership, Role, Usager, User
from grc.base.validators import normalize_phone
from grc.channels.models import Call, PhoneLine
from grc.demarches import access as demarche_access
from grc.demarches.models import Dossier
from grc.demarches.workflow import definition as workflow_definition

NOTES_MAX_LENGTH = 5000
MAX_DURATION = 24 * 3600
# The incoming-call screen shows a ringing call for this long, an answered one for longer (the
# agent is on the phone with the person).
RINGING_WINDOW = datetime.timedelta(minutes=5)
ANSWERED_WINDOW = datetime.timedelta(hours=2)
RECENT_CALLS = 50
# A CTI event never moves a call backwards (events may arrive out of order).
_RANK = {
    Call.Status.RINGING: 0,
    Call.Status.ANSWERED: 1,
    Call.Status.MISSED: 2,
    Call.Status.ENDED: 2,
}


# --- Scope ------------------------------------------------------------------------------------


def _memberships(user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, collectivite__is_active=True)


def calls_visible_to(user) -> QuerySet[Call]:
    if not (user and user.is_authenticated and user.is_active):
        return Call.objects.none()
    memberships = _memberships(user)
    administered = memberships.filter(role=Role.ADMIN).values("collectivite_id")
    staff_of = memberships.values("collectivite_id")
    services = memberships.filter(
        role__in=(Role.AGENT, Role.MANAGER), service__isnull=False
    ).values("service_id")
    return Call.objects.filter(
        Q(collectivite_id__in=administered)
        | Q(collectivite_id__in=staff_of)
        & (
            Q(agent=user)
            | Q(line__service_id__in=services)
            | Q(line__isnull=False, line__service__isnull=True)
            | Q(dossier__in=demarche_access.dossiers_visible_to_staff(user))
        )
    )


def access_call(user, call_id) -> Call:
    try:
        return (
            calls_visible_to(user)
            .select_related("collectivite", "line", "agent", "usager", "dossier")
            .get(pk=call_id)
        )
    except (Call.DoesNotExist, ValueError, TypeError):
        raise access.NotFound from None


def staff_usagers(user) -> QuerySet[Usager]:
    """Citizen records of the collectivités where this person holds a staff role (the same
    rule as the backoffice's record pages: the platform's admins hold none)."""
    if not (user and user.is_authenticated and user.is_active):
        return Usager.objects.none()
    return access.usagers_visible_to(user).filter(
        collectivite_id__in=_memberships(user).values("collectivite_id")
    )


def access_call_usager(user, usager_id) -> Usager:
    try:
        return staff_usagers(user).select_related("collectivite").get(pk=usager_id)
    except (Usager.DoesNotExist, ValueError, TypeError):
        raise access.NotFound from None


# --- Reads ------------------------------------------------------------------------------------


def recent_calls(user) -> list[Call]:
    """The agent's recent calls (taken, logged, or ringing on their lines), ringing first."""
    calls = (
        calls_visible_to(user)
        .filter(Q(agent=user) | Q(status=Call.Status.RINGING))
        .select_related("line", "usager", "dossier", "agent")
        .order_by("-started_at", "-id")[:RECENT_CALLS]
    )
    return sorted(calls, key=lambda call: call.status != Call.Status.RINGING)


def incoming_calls(user, *, now: datetime.datetime | None = None) -> list[Call]:
    """Calls for this agent right now: ringing on their lines (or for them), answered by them."""
    now = now or timezone.now()
    calls = list(
        calls_visible_to(user)
        .filter(
            Q(status=Call.Status.RINGING, started_at__gte=now - RINGING_WINDOW)
            | Q(status=Call.Status.ANSWERED, agent=user, started_at__gte=now - ANSWERED_WINDOW)
        )
        .exclude(Q(status=Call.Status.RINGING) & Q(agent__isnull=False) & ~Q(agent=user))
        .select_related("line", "usager", "dossier")
        .order_by("-started_at", "-id")
    )
    for call in calls:
        call.matches = matching_records(
            call.collectivite_id,
            call.number,
            dossiers=demarche_access.dossiers_visible_to_staff(user),
            linked=call.usager,
        )
    return calls


@dataclass
class Match:
    usager: Usager
    dossiers: list[dict[str, Any]] = field(default_factory=list)


def status_label(dossier: Dossier) -> str:
    found = workflow_definition.status(dossier.version.workflow or {}, dossier.status)
    return (found or {}).get("label") or dossier.status


def matching_records(
    collectivite_id: int,
    number: str,
    *,
    dossiers: QuerySet[Dossier] | None = None,
    linked: Usager | None = None,
) -> list[Match]:
    """The live citizen records of the collectivité with this number (and the record the call
    is linked to), each with its open dossiers among `dossiers` (every filed one if None)."""
    found = Q(pk=linked.pk) if linked is not None else Q(pk__in=[])
    if number:
        found |= Q(phones__contains=[number])
    usagers = list(
        Usager.objects.filter(
            found, collectivite_id=collectivite_id, merged_into__isnull=True
        ).order_by("last_name", "first_name", "id")[:20]
    )
    if not usagers:
        return []
    dossiers = Dossier.objects.filed() if dossiers is None else dossiers
    open_dossiers = (
        dossiers.filter(usager__in=usagers, closed_at__isnull=True)
        .select_related("demarche", "version")
        .order_by("-received_at", "-id")
    )
    by_usager: dict[int, list[dict[str, Any]]] = {}
    for dossier in open_dossiers:
        by_usager.setdefault(dossier.usager_id, []).append(
            {
                "id": dossier.pk,
                "reference": dossier.reference,
                "demarche": dossier.demarche.title,
                "status": dossier.status,
                "status_label": status_label(dossier),
            }
        )
    return [Match(usager=u, dossiers=by_usager.get(u.pk, [])) for u in usagers]


# --- The call log -----------------------------------------------------------------------------


def _check_text(notes: str) -> str:
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX_LENGTH:
        raise ValidationError(
            {
                "notes": [
                    _("Vos notes font %(n)d caractères : %(max)d au plus.")
                    % {"n": len(notes), "max": NOTES_MAX_LENGTH}
                ]
            }
        )
    return notes


def _check_duration(duration: int | None) -> int | None:
    if duration is None:
        return None
    if duration < 0 or duration > MAX_DURATION:
        raise ValidationError(
            {"duration": [_("Indiquez une durée entre 0 et 24 heures.")]}, code="invalid"
        )
    return duration


def _check_number(number: str) -> str:
    if not (number or "").strip():
        return ""
    try:
        return normalize_phone(number)
    except ValidationError as error:
        raise ValidationError({"number": error.messages}) from None


def _resolve(actor: User, *, usager: Usager | None, dossier: Dossier | None):
    """The dossier and record a call is about, reachable by `actor` (NotFound otherwise); the
    dossier's record by default, a merged record's kept one."""
    if dossier is not None:
        dossier = demarche_access.access_staff_dossier(actor, dossier.pk)
    if usager is not None:
        usager = access_call_usager(actor, usager.pk)
        while usager.merged_into_id is not None:
            usager = Usager.objects.get(pk=usager.merged_into_id)
    if dossier is not None:
        if usager is None:
            usager = dossier.usager
        elif dossier.usager_id not in (None, usager.pk):
            raise ValidationError(
                {"dossier": [_("Ce dossier n'est pas celui de cet usager.")]}, code="mismatch"
            )
    return usager, dossier


def _collectivite_of(actor: User, usager, dossier, collectivite) -> Collectivite:
    if dossier is not None:
        return dossier.collectivite
    if usager is not None:
        return usager.collectivite
    mine = Collectivite.objects.filter(
        id__in=_memberships(actor).values("collectivite_id")
    ).order_by("id")
    if collectivite is not None:
        found = mine.filter(pk=collectivite.pk).first()
        if found is None:
            raise access.NotFound
        return found
    choices = list(mine[:2])
    if len(choices) != 1:
        raise (
            access.NotFound
            if not choices
            else ValidationError(_("Indiquez la collectivité de l'appel."), code="collectivite")
        )
    return choices[0]


@transaction.atomic
def log_call(
    *,
    actor: User,
    usager: Usager | None = None,
    dossier: Dossier | None = None,
    direction: str,
    number: str = "",
    started_at: datetime.datetime,
    duration: int | None = None,
    notes: str = "",
    collectivite: Collectivite | None = None,
) -> Call:
    """An agent notes a call they had with a citizen (about a record, a dossier, or a number
    only). The number defaults to the record's first phone."""
    usager, dossier = _resolve(actor, usager=usager, dossier=dossier)
    where = _collectivite_of(actor, usager, dossier, collectivite)
    if direction not in Call.Direction.values:
        raise ValidationError({"direction": [_("Indiquez le sens de l'appel.")]})
    if timezone.is_naive(started_at):
        raise ValidationError({"started_at": [_("Indiquez l'heure de l'appel.")]})
    if started_at > timezone.now() + datetime.timedelta(minutes=5):
        raise ValidationError({"started_at": [_("L'heure de l'appel ne peut pas être à venir.")]})
    number = _check_number(number)
    if not number and usager is not None and usager.phones:
        number = usager.phones[0]
    call = Call.objects.create(
        collectivite=where,
        direction=direction,
        number=number,
        started_at=started_at,
        duration=_check_duration(duration),
        status=Call.Status.ENDED,
        agent=actor,
        usager=usager,
        dossier=dossier,
        notes=_check_text(notes),
    )
    record_event(
        action="call.logged",
        obj=call,
        actor=actor,
        channel=Channel.PHONE,
        collectivite_id=where.pk,
        payload={
            "direction": direction,
            "usager": call.usager_id,
            "dossier": call.dossier_id,
            "duration": call.duration,
        },
    )
    return call


_UNSET: Any = object()


@transaction.atomic
def update_call(
    *,
    actor: User,
    call: Call,
    notes: str | None = None,
    usager: Usager | None = _UNSET,
    dossier: Dossier | None = _UNSET,
) -> Call:
    """Notes on a call, or the record and dossier it is about (linking a call the telephony
    reported from an unknown number). Only what is given changes."""
    locked = access_call(actor, call.pk)
    locked = Call.objects.select_for_update(of=("self",)).get(pk=locked.pk)
    changes: dict[str, Any] = {}
    if notes is not None:
        changes["notes"] = _check_text(notes)
    if usager is not _UNSET or dossier is not _UNSET:
        new_usager = locked.usager if usager is _UNSET else usager
        new_dossier = locked.dossier if dossier is _UNSET else dossier
        if (
            usager is not _UNSET
            and dossier is _UNSET
            and new_dossier is not None
            and (usager is None or new_dossier.usager_id != usager.pk)
        ):
            new_dossier = None  # the dossier went with the record it was linked to
        new_usager, new_dossier = _resolve(actor, usager=new_usager, dossier=new_dossier)
        for linked in (new_usager, new_dossier):
            if linked is not None and linked.collectivite_id != locked.collectivite_id:
                raise access.NotFound
        changes["usager"] = new_usager
        changes["dossier"] = new_dossier
    diff = apply_changes(locked, changes)
    if diff:
        locked.save(update_fields=list(diff))
        record_event(
            action="call.updated",
            obj=locked,
            actor=actor,
            channel=Channel.PHONE,
            collectivite_id=locked.collectivite_id,
            payload={k: v for k, v in diff.items() if k != "notes"}
            | ({"notes": True} if "notes" in diff else {}),
        )
    return locked


# --- The telephony system (CTI) ---------------------------------------------------------------


def access_line(line_id, secret: str) -> PhoneLine | None:
    """The active line with that id, or NotFound; None when the secret is not the line's
    (compared in constant time)."""
    try:
        line = PhoneLine.objects.select_related("collectivite").get(
            pk=line_id, is_active=True, collectivite__is_active=True
        )
    except (PhoneLine.DoesNotExist, ValueError, TypeError):
        raise access.NotFound from None
    expected = (line.secret or "").encode()
    if not expected or not hmac.compare_digest(expected, (secret or "").encode()):
        return None
    return line


@dataclass
class CallEvent:
    call_id: str
    event: str
    number: str  # the citizen's, E.164 or "" (a hidden number)
    at: datetime.datetime
    direction: str = Call.Direction.IN
    agent_email: str = ""
    duration: int | None = None


def _agent(line: PhoneLine, email: str) -> User | None:
    if not email:
        return None
    return (
        User.objects.filter(
            email__iexact=email.strip(),
            is_active=True,
            memberships__collectivite_id=line.collectivite_id,
        )
        .distinct()
        .first()
    )


@transaction.atomic
def report_call_event(*, line: PhoneLine, event: CallEvent) -> Call:
    """One event of the telephony system about a call: the first creates the call, the next
    update it (the same call id on the same line is the same call; a repeated or late event
    never moves it backwards). A call from a number that matches one live record is linked to
    it."""
    status = Call.Status(event.event)
    call, created = Call.objects.select_for_update(of=("self",)).get_or_create(
        line=line,
        external_id=event.call_id,
        defaults={
            "collectivite_id": line.collectivite_id,
            "direction": event.direction,
            "number": event.number,
            "started_at": event.at,
            "status": status,
        },
    )
    changes: dict[str, Any] = {}
    if event.at < call.started_at:
        changes["started_at"] = event.at
    if not call.number and event.number:
        changes["number"] = event.number
    if _RANK[status] > _RANK[Call.Status(call.status)]:
        changes["status"] = status
    agent = _agent(line, event.agent_email)
    if agent is not None and call.agent_id is None:
        changes["agent"] = agent
    if status in (Call.Status.ENDED, Call.Status.MISSED) and call.duration is None:
        if event.duration is not None:
            changes["duration"] = max(0, min(event.duration, MAX_DURATION))
        elif status == Call.Status.ENDED:
            start = changes.get("started_at", call.started_at)
            changes["duration"] = max(0, int((event.at - start).total_seconds()))
    if call.usager_id is None:
        found = list(
            Usager.objects.filter(
                collectivite_id=line.collectivite_id,
                merged_into__isnull=True,
                phones__contains=[changes.get("number", call.number)],
            ).values_list("pk", flat=True)[:2]
        )
        if len(found) == 1 and (call.number or changes.get("number")):
            changes["usager"] = Usager.objects.get(pk=found[0])
    diff = apply_changes(call, changes)
    if diff:
        call.save(update_fields=list(diff))
    if created or diff:
        record_event(
            action="call.reported",
            obj=call,
            actor=None,
            channel=Channel.PHONE,
            collectivite_id=line.collectivite_id,
            payload={"line": line.pk, "event": event.event, "created": created, **diff},
        )
    return call


# --- Lines (the admin) ------------------------------------------------------------------------

LINE_FIELDS = ("collectivite", "service", "name", "number", "secret", "is_active")


@transaction.atomic
def save_phone_line(*, actor: User, line: PhoneLine | None, data: dict[str, Any]) -> PhoneLine:
    """Create or change a telephony line (a collectivité admin's). The secret is written, never
    shown again nor written in the audit trail; an empty one keeps the current secret."""
    collectivite = data.get("collectivite") or (line.collectivite if line else None)
    if collectivite is None or not access.can_administer(actor, collectivite.pk):
        raise access.NotFound
    service = data.get("service", line.service if line else None)
    if service is not None and service.collectivite_id != collectivite.pk:
        raise ValidationError({"service": [_("Ce service n'est pas de cette collectivité.")]})
    creating = line is None
    if creating:
        line = PhoneLine(collectivite=collectivite)
    else:
        line = PhoneLine.objects.select_for_update().get(pk=line.pk)
    changes = {k: v for k, v in data.items() if k in LINE_FIELDS and k != "collectivite"}
    if not changes.get("secret"):
        changes.pop("secret", None)
    if creating and not changes.get("secret"):
        raise ValidationError({"secret": [_("Indiquez le secret partagé avec la téléphonie.")]})
    diff = apply_changes(line, changes)
    line.full_clean()
    line.save()
    record_event(
        action="phone_line.created" if creating else "phone_line.updated",
        obj=line,
        actor=actor,
        channel=Channel.ADMIN,
        collectivite_id=collectivite.pk,
        payload={k: ("***" if k == "secret" else v) for k, v in diff.items()},
    )
    return line
