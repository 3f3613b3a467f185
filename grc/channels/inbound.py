"""What arrives by e-mail or another channel lands on a dossier: a reply joins its dossier, a
new message opens one (the collectivité's "Courriel" démarche unless the channel names
another). The mail gateway (grc.channels.mail) and the channels' webhooks (grc.channels.hooks)
call these inside their own transaction, with the row that records what they received, so that
one commit holds it all."""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grc.base.audit import record_event
from grc.base.models import Collectivite, Service, Usager
from grc.base.services.usagers import find_or_create_usager
from grc.demarches.models import Demarche, Dossier, Message, MessageAttachment
from grc.demarches.search import refresh_search
from grc.demarches.services import dossiers as dossier_services

DEFAULT_SLUG = "courriel"


@dataclass(frozen=True)
class Sender:
    """Who wrote, as far as the channel tells."""

    email: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""


@dataclass(frozen=True)
class IncomingFile:
    filename: str
    content: bytes


def default_demarche(collectivite: Collectivite) -> Demarche:
    """The collectivité's "Courriel" démarche, adopted from the catalogue and published the
    first time a message needs it. Raises ValidationError when it cannot be published (the
    collectivité lacks the contact details an acknowledgement must give)."""
    from grc.demarches.services.demarches import (
        adopt_demarche,
        publish_demarche,
        published_version,
    )
    from grc.demarches.services.exchange import load_catalogue

    existing = (
        Demarche.objects.filter(collectivite=collectivite, slug=DEFAULT_SLUG)
        .select_related("service")
        .first()
    )
    if existing is not None:
        if existing.state != Demarche.State.PUBLISHED or published_version(existing) is None:
            raise ValidationError(
                _("La démarche « %(t)s » de la collectivité n'est pas publiée.")
                % {"t": existing.title}
            )
        return existing
    model = Demarche.objects.filter(collectivite=None, slug=DEFAULT_SLUG).first()
    if model is None:
        model = next(m for m in load_catalogue(actor=None) if m.slug == DEFAULT_SLUG)
    service = collectivite.services.filter(is_active=True).order_by("pk").first()
    if service is None:
        raise ValidationError(_("La collectivité n'a aucun service pour recevoir les messages."))
    with transaction.atomic():
        # A savepoint: a refused publication leaves no half-adopted démarche behind.
        adopted = adopt_demarche(
            actor=None, model=model, collectivite=collectivite, service=service
        )
        publish_demarche(actor=None, demarche=adopted)
    return adopted


def find_dossier_by_reference(collectivite: Collectivite, text: str) -> Dossier | None:
    """A filed dossier of this collectivité whose reference appears in `text` (a subject:
    "Re: [SAB-2026-000042] Votre demande"). Another collectivité's reference finds nothing."""
    # PREFIX-2026-000123, with this collectivité's own prefix (which may contain dashes).
    pattern = rf"(?<![A-Z0-9-]){re.escape(collectivite.reference_prefix)}-\d{{4}}-\d{{6}}(?!\d)"
    references = re.findall(pattern, (text or "").upper())
    if not references:
        return None
    return (
        Dossier.objects.filed()
        .filter(collectivite=collectivite, reference__in=references)
        .order_by("-received_at")
        .first()
    )


def open_dossier(
    *,
    collectivite: Collectivite,
    demarche: Demarche | None,
    channel: str,
    sender: Sender,
    subject: str,
    body: str,
    files: Sequence[IncomingFile] = (),
    received_at: datetime.datetime | None = None,
    service: Service | None = None,
) -> tuple[Dossier, Message]:
    """A new dossier for a message that answers none: the citizen record found or created from
    what the channel knows of the sender, the message filed as the dossier's first message.
    `service` is the service the message was written to (its mailbox), which then handles the
    dossier rather than the démarche's."""
    if demarche is None:
        demarche = default_demarche(collectivite)
    elif demarche.collectivite_id != collectivite.pk:
        raise ValidationError(_("Cette démarche n'est pas celle de la collectivité."))
    usager = find_or_create_usager(
        collectivite,
        email=sender.email or None,
        phone=sender.phone or None,
        first_name=sender.first_name or None,
        last_name=sender.last_name or None,
        channel=channel,
        actor=None,
    ).usager
    text = (body or "").strip() or _("(message sans texte)")
    dossier = dossier_services.submit_dossier(
        demarche=demarche,
        answers_given={"objet": (subject or "")[:998], "message": text[:200000]},
        channel=channel,
        actor=None,
        usager=usager,
        contact_email=sender.email,
        received_at=received_at,
        via_gateway=True,
    )
    if service is not None and service.pk != dossier.service_id:
        if service.collectivite_id != collectivite.pk:
            raise ValidationError(_("Ce service n'est pas celui de la collectivité."))
        dossier.service = service
        dossier.save(update_fields=["service", "updated_at"])
    message = _record(
        dossier=dossier, usager=usager, channel=channel, body=text, files=files, action=None
    )
    return dossier, message


def append_message(
    *,
    dossier: Dossier,
    channel: str,
    body: str,
    files: Sequence[IncomingFile] = (),
    received_at: datetime.datetime | None = None,
) -> Message:
    """The citizen's message joins their dossier; one that arrives after the dossier was closed
    is kept there too, with a note so that the agents see it came late."""
    locked = Dossier.objects.select_for_update(of=("self",)).get(pk=dossier.pk)
    text = (body or "").strip() or _("(message sans texte)")
    message = _record(
        dossier=locked,
        usager=locked.usager,
        channel=channel,
        body=text,
        files=files,
        action="dossier.message_received",
    )
    if locked.closed_at is not None:
        Message.objects.create(
            dossier=locked,
            direction=Message.Direction.NOTE,
            channel="system",
            body=_(
                "Ce message est arrivé le %(d)s, après la clôture du dossier : l'usager "
                "attend peut-être une réponse."
            )
            % {"d": timezone.localtime(received_at or timezone.now()).strftime("%d/%m/%Y %H:%M")},
        )
    return message


def _record(
    *,
    dossier: Dossier,
    usager: Usager | None,
    channel: str,
    body: str,
    files: Sequence[IncomingFile],
    action: str | None,
) -> Message:
    message = Message.objects.create(
        dossier=dossier, direction=Message.Direction.IN, channel=channel, body=body
    )
    refused = []
    for incoming in files:
        upload = SimpleUploadedFile(_safe_name(incoming.filename), incoming.content)
        try:
            with transaction.atomic():
                attachment = dossier_services.attach_received_file(
                    dossier=dossier, message_id=message.pk, upload=upload, channel=channel
                )
        except ValidationError as refusal:
            refused.append(" ".join(refusal.messages))
            continue
        MessageAttachment.objects.create(message=message, attachment=attachment)
    if refused:
        # The file is not stored with the dossier, but the message as received (an e-mail's
        # raw bytes, a webhook's payload) keeps it: the agents are told where to look.
        Message.objects.create(
            dossier=dossier,
            direction=Message.Direction.NOTE,
            channel="system",
            body=_(
                "Des pièces jointes de ce message n'ont pas été ajoutées au dossier (elles "
                "restent dans le message reçu) :\n%(r)s"
            )
            % {"r": "\n".join(f"- {r}" for r in refused)},
        )
    if action:
        record_event(
            action=action,
            obj=dossier,
            actor=None,
            channel=channel,
            collectivite_id=dossier.collectivite_id,
            payload={"message": message.pk, "files": len(files) - len(refused)},
        )
    refresh_search([dossier.pk])
    return message


def _safe_name(filename: str) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:200] or "piece-jointe"
