"""Moving dossiers: the one write path for status changes (`apply_transition`), and what moves
them without an agent: timers, the legal clock, the citizen's answers, transfers."""

from __future__ import annotations

import contextlib
import datetime
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from grc.base.audit import record_event
from grc.base.calendar import add_working_days, paris_date, paris_today
from grc.base.models import Channel, Service, User
from grc.demarches import access as demarche_access
from grc.demarches import answers, conditions, legal, notifications
from grc.demarches.models import Dossier, Message, PieceRequest, StatusChange, Transfer
from grc.demarches.search import refresh_search
from grc.demarches.workflow import definition as wf

SYSTEM = None  # the actor of timers and of the legal clock
logger = logging.getLogger(__name__)


def _refuse(message: str) -> ValidationError:
    return ValidationError(message, code="transition_refused")


def _check_actor(who: str, actor: User | None, dossier: Dossier) -> None:
    """Who may take a transition: "system" (no actor), "citizen" (the dossier's account),
    "service" (its service's agents and the collectivité's admins), "agents" (any staff)."""
    if who == "system":
        if actor is not None:
            raise PermissionDenied(
                _("Cette étape est réservée au système (délais, décision implicite).")
            )
        return
    if who == "citizen" and isinstance(actor, demarche_access.CitizenOfDossier):
        if not actor.acts_for(dossier):
            raise PermissionDenied(_("Seul l'usager qui a déposé la demande peut faire cela."))
        return
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied(_("Connectez-vous pour faire cette action."))
    allowed = {
        "citizen": lambda: dossier.account_id == actor.pk,
        "service": lambda: demarche_access.works_on_service(actor, dossier),
        "agents": lambda: demarche_access.can_file_for_others(actor, dossier.collectivite_id),
    }
    refusals = {
        "citizen": _("Seul l'usager qui a déposé la demande peut faire cela."),
        "service": _("Seuls les agents du service chargé du dossier (%(s)s) peuvent faire cela.")
        % {"s": dossier.service.name if dossier.service_id else "—"},
        "agents": _("Seuls les agents de la collectivité peuvent faire cela."),
    }
    if who not in allowed or not allowed[who]():
        raise PermissionDenied(refusals.get(who, _("Action impossible.")))


def _stored(message: str) -> str:
    """A sentence kept on a dossier (messages, comments): in the site's language (French),
    whatever language the agent's browser asked for."""
    with translation.override(settings.LANGUAGE_CODE):
        return _(message)


def _is_citizen_of(actor, dossier: Dossier) -> bool:
    if isinstance(actor, demarche_access.CitizenOfDossier):
        return actor.acts_for(dossier)
    return bool(actor and actor.is_authenticated and dossier.account_id == actor.pk)


def _user(actor) -> User | None:
    """The account behind an actor, for the rows that name one (None for the system and for a
    citizen without an account)."""
    return actor if actor is not None and actor.is_authenticated else None


def _status_label(workflow: dict[str, Any], key: str) -> str:
    item = wf.status(workflow, key)
    return item.get("label", key) if item else key


def _clean_data(step: dict[str, Any], data: dict[str, Any], context: dict[str, Any]):
    if not step.get("fields"):
        return {}
    outcome = answers.clean_fields(
        step["fields"], context=dict(context), raw=lambda spec: (data or {}).get(spec["key"])
    )
    if not outcome.ok:
        raise ValidationError(outcome.errors)
    return outcome.answers


@transaction.atomic
def apply_transition(
    dossier: Dossier,
    transition: str,
    *,
    actor: User | None,
    comment: str | None = None,
    data: dict[str, Any] | None = None,
    channel: str = Channel.WEB,
) -> StatusChange:
    """Move `dossier` along `transition` on behalf of `actor` (None: the system).

    Checks that the transition leaves the current status, that this actor may take it, its
    comment and fields, and its guard; locks the dossier (two agents clicking at once: the
    second is told what happened); records the change in the history and the audit trail; runs
    the configured actions after commit, in the worker."""
    locked = (
        Dossier.objects.select_for_update(of=("self",))
        .select_related("version", "service")
        .get(pk=dossier.pk)
    )
    if not locked.is_filed:
        raise _refuse(_("Ce dossier n'a pas encore été envoyé."))
    workflow = locked.version.workflow
    step = wf.transition(workflow, transition)
    if step is None:
        raise _refuse(_("Action inconnue pour ce dossier : « %(t)s ».") % {"t": transition})
    if locked.status not in step["from"]:
        current = _status_label(workflow, locked.status)
        if dossier.status != locked.status:
            raise _refuse(
                _(
                    "Le dossier a changé entre-temps : il est maintenant « %(s)s ». "
                    "L'action « %(t)s » n'est plus possible."
                )
                % {"s": current, "t": step["label"]}
            )
        raise _refuse(
            _("L'action « %(t)s » n'est pas possible quand le dossier est « %(s)s ».")
            % {"t": step["label"], "s": current}
        )
    _check_actor(step["by"], actor, locked)
    target = wf.status(workflow, step["to"]) or {}
    if (
        step["by"] == "citizen"
        and not target.get("terminal")
        and locked.piece_requests.filter(status=PieceRequest.Status.OPEN).exists()
    ):
        raise _refuse(_("Envoyez les pièces demandées depuis la page de votre demande."))
    comment = (comment or "").strip()
    if step.get("comment") == "required" and not comment:
        raise ValidationError(
            {"comment": _("Un commentaire est obligatoire pour « %(t)s ».") % {"t": step["label"]}}
        )
    context = {**locked.answers, **locked.annotations}
    filled = _clean_data(step, data or {}, context)
    if not conditions.evaluate(step.get("guard"), {**context, **filled}):
        raise _refuse(
            _("Les conditions de l'action « %(t)s » ne sont pas remplies pour ce dossier.")
            % {"t": step["label"]}
        )
    change = _enter(
        locked,
        step["to"],
        transition=step,
        actor=actor,
        comment=comment,
        data=filled,
        channel=channel,
    )
    dossier.status = locked.status
    return change


def _enter(
    dossier: Dossier,
    status_key: str,
    *,
    transition: dict[str, Any] | None,
    actor: User | None,
    comment: str,
    data: dict[str, Any],
    channel: str,
) -> StatusChange:
    """Put a (locked) dossier in a status: history, audit, timers, actions and the citizen's
    notification after commit."""
    from grc.demarches.workflow.actions import schedule_actions

    workflow = dossier.version.workflow
    previous = dossier.status if dossier.is_filed else ""
    now = timezone.now()
    entered = wf.status(workflow, status_key) or {}
    dossier.status = status_key
    dossier.status_entered_at = now
    dossier.timer_due_on = next_timer_on(dossier, entered)
    dossier.closed_at = now if entered.get("terminal") else None
    if data:
        dossier.annotations = {**dossier.annotations, **data}
    dossier.save(
        update_fields=[
            "status",
            "status_entered_at",
            "timer_due_on",
            "closed_at",
            "annotations",
            "updated_at",
        ]
    )
    change = StatusChange.objects.create(
        dossier=dossier,
        from_status=previous,
        to_status=status_key,
        transition=transition["key"] if transition else "",
        label=transition["label"] if transition else "",
        actor=_user(actor),
        comment=comment,
        data=data,
    )
    record_event(
        action="dossier.status_changed",
        obj=dossier,
        actor=actor,
        channel=channel,
        collectivite_id=dossier.collectivite_id,
        payload={
            "from": previous,
            "to": status_key,
            "transition": change.transition,
            "comment": comment,
        },
    )
    if previous != status_key:
        _close_piece_request(
            dossier, leaving=wf.status(workflow, previous) or {}, entered=entered, now=now
        )
    # Staying in the same status (a reminder) runs the transition's actions, not the status's
    # entry actions again.
    schedule_actions(
        change, transition=transition, status=entered if previous != status_key else None
    )
    notifications.status_changed(change, transition=transition, status=entered, actor=actor)
    return change


def _close_piece_request(dossier: Dossier, *, leaving: dict, entered: dict, now) -> None:
    """A request for pieces lives as long as the wait for them: moving back to instruction
    (an agent received them by post) answers it, ending the dossier cancels it; either way the
    legal clock is recomputed."""
    request = dossier.piece_requests.filter(status=PieceRequest.Status.OPEN).first()
    if request is None or not (
        entered.get("terminal") or leaving.get("category") == "waiting_citizen"
    ):
        return
    if entered.get("terminal"):
        request.status = PieceRequest.Status.CANCELLED
    else:
        request.status, request.answered_at = PieceRequest.Status.ANSWERED, now
    request.save(update_fields=["status", "answered_at"])
    refresh_decision_date(dossier)


def enter_initial_status(dossier: Dossier, *, actor: User | None, channel: str) -> StatusChange:
    """At submission (called by submit_dossier, inside its transaction)."""
    return _enter(
        dossier,
        dossier.version.workflow["initial"],
        transition=None,
        actor=actor,
        comment="",
        data={},
        channel=channel,
    )


# --- Timers -----------------------------------------------------------------------------------


def next_timer_on(dossier: Dossier, status: dict[str, Any]) -> datetime.date | None:
    """The first day a timer of `status` is due for this dossier (None: no timer)."""
    return min((timer_due_on(dossier, t) for t in status.get("timers") or []), default=None)


def timer_due_on(dossier: Dossier, timer: dict[str, Any]) -> datetime.date:
    entered = paris_date(dossier.status_entered_at)
    if timer["unit"] == "working_days":
        return add_working_days(entered, timer["after"])
    return entered + datetime.timedelta(days=timer["after"])


def run_due_timers(*, now: datetime.datetime | None = None) -> int:
    """Take every transition whose status timer has expired. Based on dates, so a late or
    missed run catches up; each move rechecks the status under lock, so nothing runs twice
    (and the periodic task never overlaps itself: procrastinate lock)."""
    today = paris_today(now)
    moved = 0
    due = Dossier.objects.filed().filter(timer_due_on__lte=today).select_related("version")
    for dossier in due.iterator():
        item = wf.status(dossier.version.workflow, dossier.status) or {}
        timers = sorted(item.get("timers") or [], key=lambda t: timer_due_on(dossier, t))
        taken = False
        for timer in timers:
            if timer_due_on(dossier, timer) > today:
                break
            try:
                apply_transition(dossier, timer["transition"], actor=SYSTEM, channel=Channel.SYSTEM)
            except (ValidationError, PermissionDenied):
                continue  # moved meanwhile, or its guard says no: the next timer may apply
            except Exception:
                logger.exception("timer %s of dossier %s failed", timer, dossier.pk)
                continue
            taken = True
            break
        if not taken:
            # Nothing could be taken today: wait for the next timer of the status, if any.
            later = [d for t in timers if (d := timer_due_on(dossier, t)) > today]
            Dossier.objects.filter(pk=dossier.pk, status=dossier.status).update(
                timer_due_on=min(later, default=None)
            )
        moved += taken
    return moved


# --- The legal clock --------------------------------------------------------------------------


def decision_date(dossier: Dossier, *, today: datetime.date) -> datetime.date | None:
    """The implicit decision date, from the legal settings the dossier was filed under, the
    pieces waited for and the transfers (CRPA L114-3, L114-5)."""
    if dossier.implicit_decision not in ("sva", "svr") or dossier.received_at is None:
        return None
    requests = (
        dossier.piece_requests.exclude(status=PieceRequest.Status.CANCELLED)
        if dossier.pk
        else []  # being filed: nothing asked yet
    )
    waits = [
        legal.PieceWait(
            paris_date(request.requested_at),
            paris_date(request.answered_at) if request.answered_at else None,
        )
        for request in requests
    ]
    return legal.legal_decision_date(
        received_at=dossier.received_at,
        period=dossier.decision_period,
        unit=dossier.decision_period_unit,
        kind=dossier.implicit_decision,
        today=today,
        waits=waits,
        restart=dossier.clock_restarts_on_pieces,
        competent_received_at=dossier.competent_received_at,
    )


def refresh_decision_date(dossier: Dossier, *, today: datetime.date | None = None) -> None:
    date = decision_date(dossier, today=today or paris_today())
    if date != dossier.expected_decision_date:
        Dossier.objects.filter(pk=dossier.pk).update(expected_decision_date=date)
        dossier.expected_decision_date = date


def run_legal_clock(*, now: datetime.datetime | None = None) -> int:
    """On the implicit decision date, with nothing pending, take the configured acceptance or
    rejection: once, whenever and however often this runs."""
    today = paris_today(now)
    # A pending request for pieces counts as answered today: its dossiers' dates move daily.
    waiting = Dossier.objects.filed().filter(
        closed_at__isnull=True,
        implicit_decision__in=["sva", "svr"],
        piece_requests__status=PieceRequest.Status.OPEN,
    )
    for dossier in waiting.select_related("demarche").distinct().iterator():
        refresh_decision_date(dossier, today=today)
    due = (
        Dossier.objects.filed()
        .filter(
            implicit_decision__in=["sva", "svr"],
            expected_decision_date__lte=today,
            closed_at__isnull=True,
        )
        .exclude(piece_requests__status=PieceRequest.Status.OPEN)
        .select_related("version", "demarche")
    )
    decided = 0
    for dossier in due.iterator():
        workflow = dossier.version.workflow
        key = (workflow.get("implicit") or {}).get(
            "accept" if dossier.implicit_decision == "sva" else "reject"
        )
        step = wf.transition(workflow, key) if key else None
        if step is None or dossier.status not in step["from"]:
            continue  # decided already, or in a status the decision does not leave from
        kind = _("d'acceptation") if dossier.implicit_decision == "sva" else _("de rejet")
        try:
            apply_transition(
                dossier,
                key,
                actor=SYSTEM,
                channel=Channel.SYSTEM,
                comment=_(
                    "Décision implicite %(kind)s née le %(date)s, faute de réponse dans le délai."
                )
                % {"kind": kind, "date": legal.format_date_fr(dossier.expected_decision_date)},
            )
        except (ValidationError, PermissionDenied):
            continue
        except Exception:
            # One dossier's trouble must not hold back every other decision.
            logger.exception("implicit decision of dossier %s failed", dossier.pk)
            continue
        decided += 1
    return decided


# --- Missing pieces ---------------------------------------------------------------------------


def open_piece_request(
    *,
    dossier: Dossier,
    items: list[str],
    deadline: datetime.date,
    message: str,
    requested_at: datetime.datetime,
    actor: User | None,
) -> PieceRequest:
    """Called by the request_pieces action (the worker), inside its transaction. A retried job
    finds the request it already opened (same request time); an older open one is replaced."""
    open_requests = dossier.piece_requests.filter(status=PieceRequest.Status.OPEN)
    request = open_requests.filter(requested_at=requested_at).first()
    if request is not None:
        return request
    open_requests.update(status=PieceRequest.Status.CANCELLED)
    request = PieceRequest.objects.create(
        dossier=dossier,
        items=items,
        deadline=deadline,
        message=message,
        requested_at=requested_at,
        requested_by=actor,
    )
    Message.objects.create(
        dossier=dossier,
        direction=Message.Direction.OUT,
        channel=Channel.WEB,
        author=actor,
        body="\n".join([message, *(f"- {i}" for i in items)]).strip(),
    )
    refresh_search([dossier.pk])
    record_event(
        action="dossier.pieces_requested",
        obj=dossier,
        actor=actor,
        channel=Channel.SYSTEM,
        collectivite_id=dossier.collectivite_id,
        payload={"items": items, "deadline": deadline.isoformat()},
    )
    refresh_decision_date(dossier)
    return request


@transaction.atomic
def answer_piece_request(
    *,
    dossier: Dossier,
    actor: User | None,
    answer: str = "",
    answered_at: datetime.datetime | None = None,
    transition: str | None = "pieces_recues",
) -> PieceRequest:
    """The pieces arrived (the citizen from the portal, or an agent recording a letter): the
    request is closed, the legal clock resumes, and the workflow moves on when it says how."""
    locked = Dossier.objects.select_for_update(of=("self",)).get(pk=dossier.pk)
    request = locked.piece_requests.filter(status=PieceRequest.Status.OPEN).first()
    if request is None:
        raise ValidationError(_("Aucune pièce n'est attendue pour ce dossier."))
    citizen = _is_citizen_of(actor, locked)
    if not citizen and not demarche_access.works_on_service(actor, locked):
        raise demarche_access.NotFound
    request.status = PieceRequest.Status.ANSWERED
    request.answered_at = answered_at or timezone.now()
    request.answer = answer
    request.save(update_fields=["status", "answered_at", "answer"])
    if answer:
        Message.objects.create(
            dossier=locked,
            direction=Message.Direction.IN,
            channel=Channel.WEB,
            author=_user(actor),
            body=answer,
        )
        refresh_search([locked.pk])
    record_event(
        action="dossier.pieces_received",
        obj=locked,
        actor=actor,
        channel=Channel.WEB,
        collectivite_id=locked.collectivite_id,
        payload={"request": request.pk, "at": request.answered_at.isoformat()},
    )
    refresh_decision_date(locked)
    step = wf.transition(locked.version.workflow, transition) if transition else None
    if step and locked.status in step["from"]:
        # If the workflow does not let this person move it on (its own savepoint rolls back),
        # the pieces are received all the same and an agent takes it from there.
        with contextlib.suppress(PermissionDenied, ValidationError):
            apply_transition(locked, transition, actor=actor, channel=Channel.WEB)
    return request


# --- Transfers (CRPA L114-2) ------------------------------------------------------------------


@transaction.atomic
def transfer_to_service(
    *, dossier: Dossier, actor: User, service: Service, reason: str
) -> Transfer:
    """Another service of the same collectivité is competent: it takes the dossier over."""
    locked = Dossier.objects.select_for_update(of=("self",)).get(pk=dossier.pk)
    if not demarche_access.works_on_service(actor, locked):
        raise demarche_access.NotFound
    if locked.closed_at is not None:
        raise ValidationError(_("Ce dossier est clos : il ne peut plus être transmis."))
    if not service.is_active:
        raise ValidationError({"service": _("Ce service n'est plus actif.")})
    if service.collectivite_id != locked.collectivite_id:
        raise ValidationError(
            {"service": _("Ce service n'appartient pas à la collectivité du dossier.")}
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Indiquez le motif de la transmission.")})
    transfer = Transfer.objects.create(
        dossier=locked,
        from_collectivite=locked.collectivite,
        to_collectivite=locked.collectivite,
        from_service=locked.service,
        to_service=service,
        reason=reason,
        actor=actor,
    )
    previous = locked.service
    locked.service = service
    locked.assignee = None
    locked.save(update_fields=["service", "assignee", "updated_at"])
    message = Message.objects.create(
        dossier=locked,
        direction=Message.Direction.OUT,
        channel=Channel.WEB,
        author=actor,
        # Kept on the dossier for everyone who reads it: in the site's language, not the agent's.
        body=_stored(
            gettext_noop(
                "Votre demande a été transmise au service « %(s)s », compétent pour la traiter."
            )
        )
        % {"s": service.name},
    )
    notifications.message_posted(message)
    record_event(
        action="dossier.transferred",
        obj=locked,
        actor=actor,
        channel=Channel.WEB,
        collectivite_id=locked.collectivite_id,
        payload={
            "from_service": previous.pk if previous else None,
            "to_service": service.pk,
            "reason": reason,
        },
    )
    return transfer


@transaction.atomic
def transfer_to_collectivite(
    *, dossier: Dossier, actor: User, service: Service, reason: str
) -> Transfer:
    """Another collectivité of the platform is competent (L114-2): it receives a new dossier
    (same form and answers, its own reference and acknowledgement), the first one closes as
    "transmis". L114-3: an implicit acceptance runs from receipt by the competent authority,
    an implicit rejection from the first receipt."""
    from grc.demarches.services.dossiers import open_transferred_copy

    locked = (
        Dossier.objects.select_for_update(of=("self",))
        .select_related("version", "collectivite")
        .get(pk=dossier.pk)
    )
    if service.collectivite_id == locked.collectivite_id:
        raise ValidationError({"service": _("Choisissez un service d'une autre collectivité.")})
    if not (service.is_active and service.collectivite.is_active):
        raise ValidationError({"service": _("Ce service n'est plus actif.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Indiquez le motif de la transmission.")})
    apply_transition(locked, "transmettre", actor=actor, comment=reason)
    copy = open_transferred_copy(original=locked, service=service, actor=actor)
    transfer = Transfer.objects.create(
        dossier=locked,
        to_dossier=copy,
        from_collectivite=locked.collectivite,
        to_collectivite=service.collectivite,
        from_service=locked.service,
        to_service=service,
        reason=reason,
        actor=actor,
    )
    for collectivite_id, obj in ((locked.collectivite_id, locked), (copy.collectivite_id, copy)):
        record_event(
            action="dossier.transferred",
            obj=obj,
            actor=actor,
            channel=Channel.WEB,
            collectivite_id=collectivite_id,
            payload={
                "from": locked.reference,
                "to": copy.reference,
                "reason": reason,
                "transfer": transfer.pk,
            },
        )
    return transfer
