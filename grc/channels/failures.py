"""E-mails to a citizen that could not leave, after the last retry: said once on the dossier
(an internal note), mailed to the agent who follows it (else to the service), and listed for
the banner of the dossier's page (`failed_deliveries`)."""

from __future__ import annotations

import contextlib
import datetime
import logging
import smtplib
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _

from grc.base.audit import record_event
from grc.base.mail import send_email
from grc.base.models import Channel
from grc.demarches.models import Acknowledgement, Dossier, Message, Notification
from grc.demarches.search import refresh_search

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FailedDelivery:
    what: str  # "Accusé de réception", "Notification : Message du service"…
    subject: str
    recipient: str
    error: str
    attempts: int
    at: datetime.datetime  # when it was created (the last attempt is not dated)


def failed_deliveries(dossier: Dossier) -> list[FailedDelivery]:
    """The dossier's e-mails to the citizen that failed for good, oldest first (two queries)."""
    found: list[FailedDelivery] = []
    acknowledgements = Acknowledgement.objects.filter(
        dossier_id=dossier.pk, status=Acknowledgement.Status.FAILED
    ).only("kind", "subject", "recipient", "last_error", "attempts", "created_at")
    for ack in acknowledgements:
        found.append(
            FailedDelivery(
                what=ack.get_kind_display(),
                subject=ack.subject,
                recipient=ack.recipient,
                error=ack.last_error,
                attempts=ack.attempts,
                at=ack.created_at,
            )
        )
    notifications = Notification.objects.filter(
        dossier_id=dossier.pk, status=Notification.Status.FAILED
    ).only("kind", "subject", "recipient", "last_error", "attempts", "created_at")
    for notification in notifications:
        found.append(
            FailedDelivery(
                what=_("Notification : %(kind)s") % {"kind": notification.get_kind_display()},
                subject=notification.subject,
                recipient=notification.recipient,
                error=notification.last_error,
                attempts=notification.attempts,
                at=notification.created_at,
            )
        )
    return sorted(found, key=lambda failure: failure.at)


def record_final_failure(*, dossier: Dossier, subject: str, recipient: str, error: str) -> Message:
    """The note on the dossier, in the transaction that marks the sending failed (the caller
    holds the sending's row lock: the note is written once). Then call `alert_staff`."""
    if not connection.in_atomic_block:
        raise RuntimeError("record_final_failure must run inside the transaction of the failure")
    note = Message.objects.create(
        dossier=dossier,
        direction=Message.Direction.NOTE,
        channel=Channel.SYSTEM,
        body=failure_text(subject=subject, recipient=recipient, error=error),
    )
    record_event(
        action="dossier.email_failed",
        obj=dossier,
        actor=None,
        channel=Channel.SYSTEM,
        collectivite_id=dossier.collectivite_id,
        payload={"subject": subject, "to": recipient, "error": error[:500], "note": note.pk},
    )
    refresh_search([dossier.pk])  # notes are searched like messages
    return note


def failure_text(*, subject: str, recipient: str, error: str) -> str:
    """In the site's language: it is stored, and read by every agent."""
    with translation.override(settings.LANGUAGE_CODE):
        return _("L'e-mail « %(subject)s » n'a pas pu être envoyé à %(to)s : %(error)s") % {
            "subject": subject,
            "to": recipient or _("(pas d'adresse)"),
            "error": error,
        }


def staff_address(dossier: Dossier) -> str:
    """Who hears of a failure: the agent the dossier is assigned to, else its service."""
    assignee = dossier.assignee
    if assignee is not None and assignee.is_active and assignee.email:
        return assignee.email
    if dossier.service_id and dossier.service.email:
        return dossier.service.email
    return ""


def alert_staff(*, dossier: Dossier, subject: str, text: str) -> bool:
    """E-mail the agent (else the service), best effort: when the mail server is what fails,
    the note on the dossier still tells. Returns whether the alert left."""
    to = staff_address(dossier)
    if not to:
        return False
    body = text
    with contextlib.suppress(NoReverseMatch):
        link = settings.GRC_BASE_URL.rstrip("/") + reverse("backoffice:dossier", args=[dossier.pk])
        with translation.override(settings.LANGUAGE_CODE):
            body = f"{text}\n\n{_('Le dossier :')} {link}\n"
    try:
        send_email(to=[to], subject=f"[{dossier.reference}] {subject}", body=body)
    except (smtplib.SMTPException, OSError) as error:
        logger.warning("alert for dossier %s not sent: %s", dossier.pk, error)
        return False
    return True


def alert_failed_email(*, dossier: Dossier, subject: str, recipient: str, error: str) -> bool:
    """After the transaction of `record_final_failure` has committed."""
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Un e-mail à l'usager n'a pas pu être envoyé")
    return alert_staff(
        dossier=dossier,
        subject=title,
        text=failure_text(subject=subject, recipient=recipient, error=error),
    )
