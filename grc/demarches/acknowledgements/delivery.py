"""Producing and sending acknowledgements, in the worker. The document is stored before the
e-mail leaves, and what was sent, when and to whom is kept (CRPA L112-6: the evidence)."""

from __future__ import annotations

import hashlib
import smtplib

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grc.base.models import Channel
from grc.demarches.acknowledgements.context import build_context
from grc.demarches.acknowledgements.render import render_aee, render_are
from grc.demarches.models import Acknowledgement
from grc.demarches.texts import TemplateRenderError

MAX_ATTEMPTS = 8
DONE = {Acknowledgement.Status.SENT, Acknowledgement.Status.NOT_REQUIRED}


def _prepare(acknowledgement_id: int) -> Acknowledgement | None:
    """Render the texts (and the ARE's PDF, once) and keep them; None when nothing is left to do."""
    with transaction.atomic():
        ack = (
            Acknowledgement.objects.select_for_update(of=("self",))
            .select_related(
                "dossier__collectivite", "dossier__service", "dossier__demarche", "dossier__usager"
            )
            .get(pk=acknowledgement_id)
        )
        if ack.status in DONE or ack.status == Acknowledgement.Status.FAILED:
            return None
        if not ack.subject:  # rendered once: a retry sends what was kept, word for word
            try:
                _render(ack)
            except (TemplateRenderError, ValueError) as error:
                # A text staff wrote, or a contact detail the mentions need: no retry cures it.
                _fail(ack, str(error))
                return None
            ack.save()
        return None if ack.status == Acknowledgement.Status.TO_PRINT else ack


def _render(ack: Acknowledgement) -> None:
    dossier = ack.dossier
    context = build_context(dossier)
    if ack.kind == Acknowledgement.Kind.RECEPTION:
        rendered = render_are(context, dossier.demarche.texts, issued_at=dossier.submitted_at)
        ack.pdf.save(f"{ack.kind}.pdf", ContentFile(rendered.pdf), save=False)
        ack.pdf_sha256 = hashlib.sha256(rendered.pdf).hexdigest()
    else:
        rendered = render_aee(context, dossier.demarche.texts)
    from grc.channels.outgoing import with_reference

    # Kept as it leaves (the evidence): with the reference, which a replying citizen quotes.
    ack.subject, ack.body = with_reference(dossier, rendered.subject), rendered.body


def _fail(ack: Acknowledgement, error: str) -> None:
    """The acknowledgement is owed and could not be made: said on it and on the dossier, for
    the agents (L112-6: without it, appeal deadlines cannot be held against the citizen)."""
    from grc.demarches.models import Message

    ack.status, ack.last_error = Acknowledgement.Status.FAILED, error[:2000]
    ack.save(update_fields=["status", "last_error"])
    Message.objects.create(
        dossier=ack.dossier,
        direction=Message.Direction.NOTE,
        channel=Channel.SYSTEM,
        body=_("L'%(kind)s n'a pas pu être produit : %(e)s")
        % {"kind": ack.get_kind_display().lower(), "e": error},
    )


def deliver(acknowledgement_id: int) -> None:
    """Send the acknowledgement. A failure raises, and the task is retried with backoff; after
    the last attempt it is failed, said on the dossier and the agent alerted."""
    from grc.channels import failures, outgoing

    ack = _prepare(acknowledgement_id)
    if ack is None:
        return
    dossier = ack.dossier
    attachments = []
    if ack.pdf:
        with ack.pdf.open("rb") as pdf:
            attachments.append(
                (f"accuse-reception-{dossier.reference}.pdf", pdf.read(), "application/pdf")
            )
    try:
        message_id = outgoing.send_to_citizen(
            dossier=dossier,
            to=[ack.recipient],
            subject=ack.subject,
            body=ack.body,
            attachments=attachments,
        )
    except (smtplib.SMTPException, OSError) as error:
        error_text = f"{type(error).__name__}: {error}"[:2000]
        if not _record_failure(ack.pk, error_text):
            raise  # the task is retried with backoff
        failures.alert_failed_email(
            dossier=dossier, subject=ack.subject, recipient=ack.recipient, error=error_text
        )
        return  # the last attempt: failed for good, said on the dossier
    with transaction.atomic():
        Acknowledgement.objects.filter(pk=ack.pk).update(
            status=Acknowledgement.Status.SENT,
            sent_at=timezone.now(),
            message_id=message_id,
            attempts=ack.attempts + 1,
            last_error="",
        )
        outgoing.record_sent(dossier=dossier, email_id=message_id)


def _record_failure(acknowledgement_id: int, error: str) -> bool:
    """One more failed attempt; True when it was the last (the note written, once)."""
    from grc.channels import failures

    with transaction.atomic():
        ack = (
            Acknowledgement.objects.select_for_update(of=("self",))
            .select_related("dossier")
            .get(pk=acknowledgement_id)
        )
        if ack.status != Acknowledgement.Status.PENDING:
            return False
        ack.attempts += 1
        ack.last_error = error
        final = ack.attempts >= MAX_ATTEMPTS
        if final:
            ack.status = Acknowledgement.Status.FAILED
            failures.record_final_failure(
                dossier=ack.dossier, subject=ack.subject, recipient=ack.recipient, error=error
            )
        ack.save(update_fields=["attempts", "last_error", "status"])
        return final
