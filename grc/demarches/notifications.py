"""E-mails telling citizens what happened on their dossier: a new step, a message from the
service, a request for pieces, a document issued. Each has the reference in its subject and a
link back to the dossier, and follows the account's preferences (CitizenProfile.wants); a
person who filed without an account always gets them: it is their only way to know.

One e-mail per event, never two, by these rules:
- a status change: into a status the citizen sees, not the first one (the acknowledgements
  tell of the filing), not a step the citizen took, and not when the status change's own
  actions (its transition's or the entered status's) e-mail the citizen: the workflow's e-mail
  is then the notification, and follows the same preferences (`workflow_email_kind`);
- a message from the service (an agent's, or a workflow "message" action's): not the copies
  of the workflow's e-mails nor the text of a request for pieces, and, posted by a status
  change, the same exception as above;
- a request for pieces: the same exception (the default workflows' "Pièces à fournir" e-mail
  lists them);
- a document the citizen may see: always (no workflow e-mail carries it).

Each event leaves a Notification row, sent or not and why (preferences, no address): what the
citizen was told, when, at which address; the agents' timeline shows it. The worker sends it
(task demarches.send_notification, queue "mail", retried with backoff)."""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from grc.base.models import CitizenProfile, User
from grc.demarches import access as demarche_access
from grc.demarches.models import (
    Document,
    Dossier,
    Message,
    Notification,
    PieceRequest,
    StatusChange,
)
from grc.demarches.workflow import definition as wf

MAX_ATTEMPTS = 8
Kind = Notification.Kind
logger = logging.getLogger(__name__)


# --- Who, where, whether ----------------------------------------------------------------------


def citizen_account(dossier: Dossier) -> User | None:
    """The account that follows the dossier: the one it was filed with, or the one linked to
    the citizen record it was filed for (counter, phone, letter)."""
    if demarche_access.follower_account_id(dossier) is None:
        return None
    return dossier.account if dossier.account_id is not None else dossier.usager.account


def recipient(dossier: Dossier) -> str:
    account = citizen_account(dossier)
    if account is not None and account.email:
        return account.email
    return dossier.contact_email or (dossier.usager.email if dossier.usager_id else "")


def wants(dossier: Dossier, kind: str) -> bool:
    """Whether the citizen wants e-mails of this kind about this dossier."""
    account = citizen_account(dossier)
    if account is None:
        return True
    profile = CitizenProfile.objects.filter(user=account).first()
    return profile is None or profile.wants(kind)


def citizen_link(dossier: Dossier) -> str:
    """Where the e-mail sends the citizen (the same link as the workflow's own e-mails)."""
    from grc.demarches.acknowledgements.context import dossier_url

    return dossier_url(dossier)


def _emails_citizen(*steps: dict[str, Any] | None) -> bool:
    return any(
        action.get("type") == "email" and action.get("to") == "citizen"
        for step in steps
        if step
        for action in step.get("actions") or []
    )


def change_emails_citizen(change: StatusChange, workflow: dict[str, Any]) -> bool:
    """Whether the actions of this status change e-mail the citizen (the entered status's
    actions run only when the status changes)."""
    entered = (
        wf.status(workflow, change.to_status) if change.from_status != change.to_status else None
    )
    return _emails_citizen(wf.transition(workflow, change.transition), entered)


def workflow_email_kind(change: StatusChange, workflow: dict[str, Any]) -> str:
    """Which preference a workflow's e-mail to the citizen falls under: pieces while the
    dossier waits for them, the steps otherwise."""
    status = wf.status(workflow, change.to_status) or {}
    return Kind.PIECES if status.get("category") == "waiting_citizen" else Kind.STATUS


def _stored(text: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _(text)


# --- The events -------------------------------------------------------------------------------


def status_changed(
    change: StatusChange, *, transition: dict[str, Any] | None, status: dict[str, Any], actor
) -> Notification | None:
    """Called by the workflow (grc.demarches.workflow.services._enter), in its transaction."""
    dossier = change.dossier
    if not change.from_status or change.from_status == change.to_status:
        return None
    if not status.get("visible"):
        return None
    if isinstance(actor, demarche_access.CitizenOfDossier) or (
        actor is not None and actor.is_authenticated and actor.pk == dossier.account_id
    ):
        return None  # the citizen took this step: they know
    if _emails_citizen(transition, status):
        return None
    return _notify(dossier, Kind.STATUS, status_change=change)


def message_posted(
    message: Message,
    *,
    change: StatusChange | None = None,
    workflow: dict[str, Any] | None = None,
) -> Notification | None:
    """A message for the citizen from the service; `change` when a status change's action
    posted it."""
    if message.direction != Message.Direction.OUT:
        return None
    if change is not None and workflow is not None and change_emails_citizen(change, workflow):
        return None
    return _notify(message.dossier, Kind.MESSAGES, message=message)


def pieces_requested(
    request: PieceRequest, *, change: StatusChange | None, workflow: dict[str, Any]
) -> Notification | None:
    if change is not None and change_emails_citizen(change, workflow):
        return None
    return _notify(request.dossier, Kind.PIECES, piece_request=request)


def document_issued(document: Document) -> Notification | None:
    if not document.visible_to_citizen:
        return None
    return _notify(document.dossier, Kind.DOCUMENTS, document=document)


def _notify(dossier: Dossier, kind: str, **about: Any) -> Notification:
    """The event's notification (the existing one for an event told already), sent after
    commit unless the citizen has no address or does not want this kind."""
    existing = Notification.objects.filter(**about).first()
    if existing is not None:
        return existing
    to = recipient(dossier)
    status, reason = Notification.Status.PENDING, ""
    if not to:
        status, reason = Notification.Status.SKIPPED, _stored(gettext_noop("pas d'adresse e-mail"))
    elif not wants(dossier, kind):
        status = Notification.Status.SKIPPED
        reason = _stored(gettext_noop("l'usager ne souhaite pas recevoir ces e-mails"))
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                dossier=dossier, kind=kind, recipient=to, status=status, reason=reason, **about
            )
    except IntegrityError:  # told meanwhile by a concurrent run
        return Notification.objects.get(**about)
    if status == Notification.Status.PENDING:
        from grc.demarches.tasks import send_notification

        transaction.on_commit(lambda: send_notification.defer(notification_id=notification.pk))
    return notification


# --- Sending (the worker) ---------------------------------------------------------------------

_SUBJECTS = {
    Kind.STATUS: gettext_noop("[%(ref)s] Votre demande : %(what)s"),
    Kind.MESSAGES: gettext_noop("[%(ref)s] Nouveau message du service"),
    Kind.PIECES: gettext_noop("[%(ref)s] Des pièces sont demandées pour votre demande"),
    Kind.DOCUMENTS: gettext_noop("[%(ref)s] Un document est disponible : %(what)s"),
}


def render(notification: Notification) -> tuple[str, str]:
    """The subject and text of the e-mail, in the site's language."""
    dossier = notification.dossier
    context: dict[str, Any] = {
        "dossier": dossier,
        "demarche": dossier.demarche,
        "collectivite": dossier.collectivite,
        "service": dossier.service,
        "usager": dossier.usager,
        "link": citizen_link(dossier),
        "tracking": citizen_account(dossier) is None,
        "kind": notification.kind,
    }
    what = ""
    if notification.kind == Kind.STATUS:
        change = notification.status_change
        status = wf.status(dossier.version.workflow, change.to_status) or {}
        what = status.get("citizen_label") or change.to_status
        context.update(status_label=what, comment=change.comment)
    elif notification.kind == Kind.MESSAGES:
        message = notification.message
        context.update(
            message=message,
            files=[link.attachment.original_name for link in message.attachment_links.all()],
        )
    elif notification.kind == Kind.PIECES:
        context["request"] = notification.piece_request
    else:
        what = notification.document.title
        context["document"] = notification.document
    with translation.override(settings.LANGUAGE_CODE):
        subject = _(_SUBJECTS[notification.kind]) % {"ref": dossier.reference, "what": what}
        body = render_to_string("demarches/notifications/email.txt", context)
    return " ".join(subject.split())[:300], body


def deliver(notification_id: int) -> None:
    """Send one notification (kept as rendered the first time: a retry sends the same text).
    A failure raises, and the task is retried with backoff; after the last attempt the
    notification is failed, said on the dossier and the agent alerted (grc.channels.failures)."""
    from grc.channels import failures, outgoing

    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related(
                "dossier__collectivite",
                "dossier__demarche",
                "dossier__service",
                "dossier__usager",
                "dossier__version",
                "status_change",
                "message",
                "piece_request",
                "document",
            )
            .get(pk=notification_id)
        )
        if notification.status != Notification.Status.PENDING:
            return
        if not notification.subject:
            notification.subject, notification.body = render(notification)
            notification.save(update_fields=["subject", "body"])
    dossier = notification.dossier
    try:
        email_id = outgoing.send_to_citizen(
            dossier=dossier,
            to=[notification.recipient],
            subject=notification.subject,
            body=notification.body,
        )
    except (smtplib.SMTPException, OSError) as error:
        error_text = f"{type(error).__name__}: {error}"[:2000]
        logger.warning("notification %s: %s", notification.pk, error)
        if not _record_failure(notification.pk, error_text):
            raise  # the task is retried with backoff
        failures.alert_failed_email(
            dossier=dossier,
            subject=notification.subject,
            recipient=notification.recipient,
            error=error_text,
        )
        return  # the last attempt: failed for good, said on the dossier
    with transaction.atomic():
        Notification.objects.filter(pk=notification.pk).update(
            status=Notification.Status.SENT,
            sent_at=timezone.now(),
            email_id=email_id,
            attempts=notification.attempts + 1,
            last_error="",
        )
        outgoing.record_sent(dossier=dossier, email_id=email_id)


def _record_failure(notification_id: int, error: str) -> bool:
    """One more failed attempt; True when it was the last (the note written, once)."""
    from grc.channels import failures

    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("dossier")
            .get(pk=notification_id)
        )
        if notification.status != Notification.Status.PENDING:
            return False
        notification.attempts += 1
        notification.last_error = error
        final = notification.attempts >= MAX_ATTEMPTS
        if final:
            notification.status = Notification.Status.FAILED
            failures.record_final_failure(
                dossier=notification.dossier,
                subject=notification.subject,
                recipient=notification.recipient,
                error=error,
            )
        notification.save(update_fields=["attempts", "last_error", "status"])
        return final
