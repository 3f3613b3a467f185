"""The actions a workflow runs on a transition or on entering a status, in the worker.

A status change's actions run in one job, in their configured order (a request for pieces is
created before the e-mail that lists them). Each action's outcome is kept (ActionRun): done
actions are never run again when the job is retried; a failure that a retry can cure (the mail
server is down, the webhook answers 500) makes the job retry; a failure that it cannot (a text
that does not render) marks the action failed, alerts the service and lets the others run."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import json
import logging
import smtplib
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from grc.base.calendar import paris_today
from grc.base.mail import send_email
from grc.base.models import Channel, Membership, Role, Service, User
from grc.demarches import notifications, texts
from grc.demarches.acknowledgements.context import build_context
from grc.demarches.acknowledgements.render import html_to_pdf
from grc.demarches.models import ActionRun, Document, Dossier, Message, PieceRequest, StatusChange
from grc.demarches.search import refresh_search
from grc.demarches.workflow import definition as wf

MAX_ATTEMPTS = 8
logger = logging.getLogger(__name__)


class Retry(Exception):
    """A failure worth another try later (the job is retried with backoff)."""


class Failed(Exception):
    """A failure no retry will cure: recorded on the dossier, the service alerted."""


def schedule_actions(change: StatusChange, *, transition: dict | None, status: dict | None):
    """Inside the status change's transaction: the actions to run, then their job on commit."""
    from grc.demarches.tasks import run_actions

    runs = []
    for source, actions in (
        (
            f"transition:{transition['key']}" if transition else "",
            (transition or {}).get("actions") or [],
        ),
        (f"status:{status['key']}" if status else "", (status or {}).get("actions") or []),
    ):
        for position, spec in enumerate(actions):
            runs.append(
                ActionRun(
                    dossier_id=change.dossier_id,
                    status_change=change,
                    source=source,
                    position=position,
                    spec=spec,
                )
            )
    if runs:
        ActionRun.objects.bulk_create(runs)
        transaction.on_commit(lambda: run_actions.defer(status_change_id=change.pk))


def run_status_change_actions(status_change_id: int, *, attempt: int = 1) -> None:
    """The job: every pending action of one status change, in order."""
    runs = ActionRun.objects.filter(
        status_change_id=status_change_id, status=ActionRun.Status.PENDING
    ).order_by("id")
    retry: Retry | None = None
    for run in runs.select_related("dossier", "status_change"):
        try:
            try:
                result = _run_one(run)
            except (Retry, Failed):
                raise
            except Exception as error:
                # Unforeseen (a database hiccup, a PDF engine error): recorded, then retried
                # like a mail server being down, and failed with an alert on the last try.
                logger.exception("action %s of status change %s", run.pk, status_change_id)
                raise Retry(f"{type(error).__name__}: {error}") from error
        except Retry as error:
            _record(
                run,
                ActionRun.Status.PENDING if attempt < MAX_ATTEMPTS else ActionRun.Status.FAILED,
                error=str(error),
            )
            retry = retry or error
            if attempt >= MAX_ATTEMPTS:
                _alert_service(run, str(error))
            continue
        except Failed as error:
            _record(run, ActionRun.Status.FAILED, error=str(error))
            _alert_service(run, str(error))
            continue
        _record(run, result.pop("_status", ActionRun.Status.DONE), result=result)
        refresh_search([run.dossier_id])  # messages and notes the actions wrote
    if retry is not None and attempt < MAX_ATTEMPTS:
        raise retry


def _record(run: ActionRun, status: str, *, error: str = "", result: dict | None = None):
    ActionRun.objects.filter(pk=run.pk).update(
        status=status,
        error=error[:2000],
        result=result or {},
        attempts=run.attempts + 1,
        finished_at=timezone.now() if status != ActionRun.Status.PENDING else None,
    )


def _alert_service(run: ActionRun, error: str) -> None:
    """A failed action is written on the dossier for the agents, and mailed to the agent who
    follows the dossier, else to the service (best effort: if the mail server is what failed,
    the note on the dossier still tells)."""
    from grc.channels.failures import alert_staff

    dossier = run.dossier
    label = wf.ACTION_TYPES.get(run.spec.get("type"), run.spec.get("type"))
    note = _("L'action automatique « %(a)s » a échoué : %(e)s") % {"a": label, "e": error}
    Message.objects.create(
        dossier=dossier, direction=Message.Direction.NOTE, channel=Channel.SYSTEM, body=note
    )
    alert_staff(dossier=dossier, subject=_("Action automatique en échec"), text=note)


def context_for(run: ActionRun) -> dict[str, Any]:
    """The texts' variables, read afresh for each action: an earlier action of the same job
    (a request for pieces, private fields, an assignment) changes what the next one says."""
    dossier = Dossier.objects.select_related(
        "collectivite", "service", "demarche", "usager", "version"
    ).get(pk=run.dossier_id)
    change = run.status_change
    workflow = dossier.version.workflow
    status = wf.status(workflow, change.to_status) or {}
    step = wf.transition(workflow, change.transition) or {}
    request = dossier.piece_requests.filter(status=PieceRequest.Status.OPEN).first()
    context = build_context(dossier)
    context.update(
        {
            "statut": {"libelle": status.get("citizen_label", change.to_status)},
            "transition": {"libelle": step.get("label", "")},
            "commentaire": change.comment,
            "reponses": dossier.answers,
            "annotations": dossier.annotations,
            "pieces": {
                "liste": request.items if request else [],
                "date_limite": request.deadline if request else None,
            },
        }
    )
    return context


def _render(source: str, context: dict[str, Any]) -> str:
    try:
        return texts.render_text(source, context)
    except texts.TemplateRenderError as error:
        raise Failed(str(error)) from error


def _run_one(run: ActionRun) -> dict[str, Any]:
    handler = HANDLERS.get(run.spec.get("type"))
    if handler is None:
        raise Failed(_("type d'action inconnu : %(t)s") % {"t": run.spec.get("type")})
    return handler(run, run.spec)


def _email(run: ActionRun, spec: dict) -> dict[str, Any]:
    context = context_for(run)
    dossier = run.dossier
    recipients = _recipients(dossier, spec)
    if not recipients:
        return {
            "_status": ActionRun.Status.SKIPPED,
            "reason": _("pas d'adresse e-mail pour ce destinataire"),
        }
    if spec.get("to") == "citizen":
        kind = notifications.workflow_email_kind(run.status_change, dossier.version.workflow)
        if not notifications.wants(dossier, kind):
            return {
                "_status": ActionRun.Status.SKIPPED,
                "reason": _("l'usager ne souhaite pas recevoir ces e-mails"),
            }
    subject = " ".join(_render(spec["subject"], context).split())
    body = _render(spec["body"], context)
    if spec.get("to") != "citizen":
        reply_to = [dossier.service.email] if dossier.service_id and dossier.service.email else None
        try:
            message_id = send_email(to=recipients, subject=subject, body=body, reply_to=reply_to)
        except (smtplib.SMTPException, OSError) as error:
            raise Retry(f"{type(error).__name__}: {error}") from error
        return {"to": recipients, "subject": subject, "message_id": message_id}
    # To the citizen: on the dossier's e-mail thread, like the notifications (REFERENCE §5).
    from grc.channels import outgoing

    subject = outgoing.with_reference(dossier, subject)
    try:
        message_id = outgoing.send_to_citizen(
            dossier=dossier, to=recipients, subject=subject, body=body
        )
    except (smtplib.SMTPException, OSError) as error:
        raise Retry(f"{type(error).__name__}: {error}") from error
    with transaction.atomic():
        Message.objects.create(
            dossier=dossier,
            direction=Message.Direction.OUT,
            channel=Channel.EMAIL,
            body=f"{subject}\n\n{body}",
        )
        outgoing.record_sent(dossier=dossier, email_id=message_id)
    return {"to": recipients, "subject": subject, "message_id": message_id}


def _recipients(dossier: Dossier, spec: dict) -> list[str]:
    target = spec.get("to")
    if target == "citizen":
        email = dossier.contact_email or (dossier.usager.email if dossier.usager_id else "")
        return [email] if email else []
    if target == "service":
        return [dossier.service.email] if dossier.service_id and dossier.service.email else []
    emails = [e for e in spec.get("agents") or [] if isinstance(e, str)]
    staff = Membership.objects.filter(
        collectivite_id=dossier.collectivite_id, user__email__in=emails, user__is_active=True
    )
    return sorted(set(staff.values_list("user__email", flat=True)))


def _sms(run: ActionRun, spec: dict) -> dict[str, Any]:
    """An SMS to the citizen through the collectivité's provider (grc.channels.sms): skipped,
    with the reason, when they did not choose SMS, have no mobile number, or the collectivité
    no provider. The provider is called by the SMS's own job, which retries and, when the SMS
    cannot be sent, writes so on the dossier."""
    from django.core.exceptions import ValidationError

    from grc.channels.sms.services import send_sms

    body = _render(spec["body"], context_for(run))
    try:
        with transaction.atomic():
            sms = send_sms(dossier=run.dossier, body=body, action_run=run)
    except ValidationError as refusal:
        reason = " ".join(refusal.messages)
        if refusal.code in ("no_consent", "no_mobile", "no_provider", "no_usager"):
            return {"_status": ActionRun.Status.SKIPPED, "reason": reason}
        raise Failed(reason) from refusal
    return {"sms": sms.pk, "to": sms.to}


def _message(run: ActionRun, spec: dict) -> dict[str, Any]:
    body = _render(spec["body"], context_for(run))
    with transaction.atomic():
        message = Message.objects.create(
            dossier=run.dossier, direction=Message.Direction.OUT, channel=Channel.WEB, body=body
        )
        notifications.message_posted(
            message, change=run.status_change, workflow=run.dossier.version.workflow
        )
    return {"message": message.pk}


def _note(run: ActionRun, spec: dict) -> dict[str, Any]:
    body = _render(spec["body"], context_for(run))
    message = Message.objects.create(
        dossier=run.dossier, direction=Message.Direction.NOTE, channel=Channel.SYSTEM, body=body
    )
    return {"note": message.pk}


def _assign(run: ActionRun, spec: dict) -> dict[str, Any]:
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update().get(pk=run.dossier_id)
        changes = {}
        if spec.get("service"):
            if spec["service"] == "in_charge":
                service = dossier.demarche.service
            else:
                service = Service.objects.filter(
                    collectivite_id=dossier.collectivite_id, name=spec["service"]
                ).first()
            if service is None:
                raise Failed(_("service « %(s)s » introuvable") % {"s": spec["service"]})
            dossier.service = service
            changes["service"] = service.name
        if spec.get("agent"):
            agent = User.objects.filter(
                email=spec["agent"],
                is_active=True,
                memberships__collectivite_id=dossier.collectivite_id,
                memberships__role__in=[Role.AGENT, Role.MANAGER, Role.ADMIN],
            ).first()
            if agent is None:
                raise Failed(
                    _("agent « %(a)s » introuvable dans la collectivité") % {"a": spec["agent"]}
                )
            dossier.assignee = agent
            changes["assignee"] = agent.email
        dossier.save(update_fields=["service", "assignee", "updated_at"])
    return changes


def _request_pieces(run: ActionRun, spec: dict) -> dict[str, Any]:
    from grc.demarches.workflow.services import open_piece_request

    data = run.status_change.data or {}
    items = spec.get("items") or []
    if spec.get("items_field"):
        typed = str(data.get(spec["items_field"], ""))
        items = [line.strip(" -•\t") for line in typed.splitlines()]
    items = [item for item in items if item]
    if not items:
        raise Failed(_("aucune pièce n'est indiquée"))
    days = data.get(spec.get("deadline_field") or "", spec.get("deadline_days", 15))
    requested_at = run.status_change.at
    if run.dossier.status != run.status_change.to_status:
        # The dossier moved on before the worker came (pieces received meanwhile, closed):
        # asking now would open a wait nobody is in.
        return {
            "_status": ActionRun.Status.SKIPPED,
            "reason": _("le dossier a changé de statut entre-temps"),
        }
    with transaction.atomic():
        request = open_piece_request(
            dossier=run.dossier,
            items=items,
            deadline=paris_today(requested_at) + datetime.timedelta(days=int(days)),
            message=_render(spec.get("message") or "", context_for(run)),
            requested_at=requested_at,
            actor=run.status_change.actor,
        )
        notifications.pieces_requested(
            request, change=run.status_change, workflow=run.dossier.version.workflow
        )
    return {"piece_request": request.pk}


def _document(run: ActionRun, spec: dict) -> dict[str, Any]:
    existing = Document.objects.filter(action_run=run).first()
    if existing is not None:
        return {"document": existing.pk}
    context = context_for(run)
    title = _render(spec["title"], context)
    body = _render(spec["template"], context)
    html = render_to_string(
        "demarches/documents/document.html",
        {"title": title, "body": body, **context, "issued_on": paris_today()},
    )
    pdf = html_to_pdf(html)
    document = Document(
        dossier=run.dossier,
        kind=spec["kind"],
        title=title,
        sha256=hashlib.sha256(pdf).hexdigest(),
        action_run=run,
        visible_to_citizen=spec.get("visible_to_citizen", True),
    )
    document.file.save(f"{run.dossier.reference}.pdf", ContentFile(pdf), save=False)
    with transaction.atomic():
        document.save()
        notifications.document_issued(document)
    return {"document": document.pk, "sha256": document.sha256}


def _set_fields(run: ActionRun, spec: dict) -> dict[str, Any]:
    context = context_for(run)
    values = {
        key: _render(value, context) if isinstance(value, str) else value
        for key, value in spec["values"].items()
    }
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update().get(pk=run.dossier_id)
        dossier.annotations = {**dossier.annotations, **values}
        dossier.save(update_fields=["annotations", "updated_at"])
    return {"values": values}


def _webhook(run: ActionRun, spec: dict) -> dict[str, Any]:
    """POST the event as JSON, signed with HMAC-SHA256 of the body (header X-GRC-Signature);
    X-GRC-Delivery identifies it, so that the receiver can ignore a retried duplicate."""
    dossier = run.dossier
    change = run.status_change
    body = json.dumps(
        {
            "event": "dossier.status_changed",
            "delivery": run.pk,
            "dossier": {
                "reference": dossier.reference,
                "uuid": str(dossier.uuid),
                "demarche": dossier.demarche.slug,
                "status": change.to_status,
                "previous_status": change.from_status,
                "transition": change.transition,
                "received_at": dossier.received_at.isoformat(),
            },
            "at": change.at.isoformat(),
        },
        ensure_ascii=False,
    ).encode()
    signature = hmac.new(spec["secret"].encode(), body, hashlib.sha256).hexdigest()
    # The URL is checked to be http(s) when the workflow is published.
    request = urllib.request.Request(  # noqa: S310
        spec["url"],
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "GRC-webhook/1",
            "X-GRC-Signature": f"sha256={signature}",
            "X-GRC-Delivery": str(run.pk),
        },
    )
    _refuse_internal_address(spec["url"])
    try:
        with _NO_REDIRECTS.open(request, timeout=10) as response:
            return {"status_code": response.status}
    except urllib.error.HTTPError as error:
        if 300 <= error.code < 400:
            raise Failed(
                _("le webhook répond par une redirection (HTTP %(c)s), refusée") % {"c": error.code}
            ) from error
        if 400 <= error.code < 500 and error.code not in (408, 429):
            raise Failed(
                _("le webhook a refusé l'appel (HTTP %(c)s)") % {"c": error.code}
            ) from error
        raise Retry(f"HTTP {error.code}") from error
    except (urllib.error.URLError, OSError) as error:
        raise Retry(str(error)) from error


class _Refuse3xx(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect answers as an error: it could lead anywhere


_NO_REDIRECTS = urllib.request.build_opener(_Refuse3xx)


def _refuse_internal_address(url: str) -> None:
    """Staff of any collectivité write webhook addresses: the worker must not be made to call
    the platform's own network (private, loopback, link-local addresses), unless the platform
    allows it (GRC_WEBHOOK_ALLOW_PRIVATE, for a receiver running beside it)."""
    if getattr(settings, "GRC_WEBHOOK_ALLOW_PRIVATE", False):
        return
    parts = urllib.parse.urlsplit(url)
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except (socket.gaierror, UnicodeError) as error:
        raise Retry(f"DNS: {error}") from error
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise Failed(
                _("l'adresse du webhook mène à un réseau interne (%(ip)s) : refusée") % {"ip": ip}
            )


HANDLERS = {
    "email": _email,
    "sms": _sms,
    "message": _message,
    "note": _note,
    "assign": _assign,
    "request_pieces": _request_pieces,
    "document": _document,
    "set_fields": _set_fields,
    "webhook": _webhook,
}
