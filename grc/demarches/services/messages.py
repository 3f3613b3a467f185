"""The message thread of a dossier between the citizen and the service: writing (with files),
and knowing what the other side has read."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grc.base.audit import record_event
from grc.base.models import Channel, User
from grc.demarches import access as demarche_access
from grc.demarches import notifications
from grc.demarches.models import Dossier, Message, MessageAttachment
from grc.demarches.search import refresh_search
from grc.demarches.services import dossiers as dossier_services

MAX_LENGTH = 5000
MAX_FILES = 5


def is_citizen_of(actor, dossier: Dossier) -> bool:
    """The person the dossier is about, as grc.demarches.access.citizen_actor gives them."""
    if isinstance(actor, demarche_access.CitizenOfDossier):
        return actor.acts_for(dossier)
    return bool(
        actor is not None
        and actor.is_authenticated
        and actor.is_active
        and dossier.account_id == actor.pk
    )


def _user(actor) -> User | None:
    return actor if actor is not None and actor.is_authenticated else None


def check_message(*, body: str, uploads: Sequence[UploadedFile]) -> dict[str, list[str]]:
    """What is wrong with a message before anything is stored, by field ("body", "files")."""
    errors: dict[str, list[str]] = {}
    if not body and not uploads:
        errors["body"] = [_("Écrivez votre message, ou joignez au moins un fichier.")]
    elif len(body) > MAX_LENGTH:
        errors["body"] = [
            _("Votre message fait %(n)d caractères : %(max)d au plus.")
            % {"n": len(body), "max": MAX_LENGTH}
        ]
    if len(uploads) > MAX_FILES:
        errors["files"] = [
            ngettext(
                "Joignez %(max)d fichier au plus par message.",
                "Joignez %(max)d fichiers au plus par message.",
                MAX_FILES,
            )
            % {"max": MAX_FILES}
        ]
    else:
        for upload in uploads:
            try:
                dossier_services.check_piece(upload)
            except ValidationError as refusal:
                errors.setdefault("files", []).extend(refusal.messages)
    return errors


def _post(
    *,
    dossier: Dossier,
    actor,
    body: str,
    uploads: Sequence[UploadedFile],
    direction: str,
    channel: str = Channel.WEB,
) -> Message:
    body = (body or "").strip()
    uploads = list(uploads)
    errors = check_message(body=body, uploads=uploads)
    if errors:
        raise ValidationError(errors)  # every file checked before any is stored
    message = Message.objects.create(
        dossier=dossier, direction=direction, channel=channel, author=_user(actor), body=body
    )
    for upload in uploads:
        attachment = dossier_services.attach_message_file(
            dossier=dossier, message_id=message.pk, upload=upload, actor=actor
        )
        MessageAttachment.objects.create(message=message, attachment=attachment)
    record_event(
        action="dossier.message_received"
        if direction == Message.Direction.IN
        else "dossier.message_sent",
        obj=dossier,
        actor=actor,
        channel=Channel.WEB,
        collectivite_id=dossier.collectivite_id,
        payload={"message": message.pk, "files": len(uploads), "via": channel},
    )
    refresh_search([dossier.pk])
    return message


@transaction.atomic
def post_citizen_message(
    *, dossier: Dossier, actor, body: str, uploads: Sequence[UploadedFile] = ()
) -> Message:
    """The citizen writes to the service from their dossier's page, with files if they wish
    (checked like missing pieces). Refused on a closed dossier: the service no longer follows
    it."""
    locked = Dossier.objects.select_for_update(of=("self",)).get(pk=dossier.pk)
    if not locked.is_filed or not is_citizen_of(actor, locked):
        raise demarche_access.NotFound
    if locked.closed_at is not None:
        raise ValidationError(
            {
                "body": [
                    _(
                        "Cette demande est close : le service n'y répond plus. Pour une "
                        "nouvelle question, faites une nouvelle demande."
                    )
                ]
            }
        )
    return _post(
        dossier=locked, actor=actor, body=body, uploads=uploads, direction=Message.Direction.IN
    )


@transaction.atomic
def post_service_message(
    *, dossier: Dossier, actor: User, body: str, uploads: Sequence[UploadedFile] = ()
) -> Message:
    """An agent of the dossier's service writes to the citizen. The reply leaves by the
    channel the citizen last wrote by (grc.channels.replies): back through a social network's
    connector, or by e-mail (the notification carries the text and threads with their
    e-mails), the portal's page announced by e-mail otherwise."""
    from grc.channels.replies import reply_channel

    locked = Dossier.objects.select_for_update(of=("self",)).get(pk=dossier.pk)
    if not locked.is_filed or not demarche_access.works_on_service(actor, locked):
        raise demarche_access.NotFound
    channel = reply_channel(locked)
    message = _post(
        dossier=locked,
        actor=actor,
        body=body,
        uploads=uploads,
        direction=Message.Direction.OUT,
        channel=channel,
    )
    from grc.channels.hooks.services import queue_reply

    if channel != Channel.SOCIAL or queue_reply(message) is None:
        notifications.message_posted(message)  # no connector takes it: the e-mail tells
    return message


def _mark_read(*, dossier: Dossier, actor, direction: str, by: str) -> int:
    unread = list(
        dossier.messages.filter(direction=direction, read_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    if not unread:
        return 0
    now = timezone.now()
    with transaction.atomic():
        count = Message.objects.filter(pk__in=unread, read_at__isnull=True).update(read_at=now)
        if count:
            record_event(
                action="dossier.messages_read",
                obj=dossier,
                actor=actor,
                channel=Channel.WEB,
                collectivite_id=dossier.collectivite_id,
                payload={"by": by, "messages": unread},
            )
    return count


def mark_read_by_citizen(*, dossier: Dossier, actor) -> int:
    """The citizen opened their dossier's page: the service's messages are read. Someone else
    reading it (an agent, later) does not count. Returns how many were newly read."""
    if not is_citizen_of(actor, dossier):
        return 0
    return _mark_read(dossier=dossier, actor=actor, direction=Message.Direction.OUT, by="citizen")


def mark_read_by_service(*, dossier: Dossier, actor: User) -> int:
    """An agent of the service opened the dossier: the citizen's messages are read (the
    citizen sees when)."""
    if not demarche_access.works_on_service(actor, dossier):
        raise demarche_access.NotFound
    return _mark_read(dossier=dossier, actor=actor, direction=Message.Direction.IN, by="service")


@transaction.atomic
def post_internal_note(*, dossier: Dossier, actor: User, body: str) -> Message:
    """An agent notes something on the dossier for the service: never shown to the citizen, nor
    e-mailed. Notes are kept as written (no edit, no deletion)."""
    locked = Dossier.objects.select_for_update(of=("self",)).get(pk=dossier.pk)
    if not locked.is_filed or not demarche_access.works_on_service(actor, locked):
        raise demarche_access.NotFound
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": [_("Écrivez la note.")]})
    if len(body) > MAX_LENGTH:
        raise ValidationError(
            {
                "body": [
                    _("Votre note fait %(n)d caractères : %(max)d au plus.")
                    % {"n": len(body), "max": MAX_LENGTH}
                ]
            }
        )
    note = Message.objects.create(
        dossier=locked,
        direction=Message.Direction.NOTE,
        channel=Channel.WEB,
        author=actor,
        body=body,
    )
    record_event(
        action="dossier.note_added",
        obj=locked,
        actor=actor,
        channel=Channel.WEB,
        collectivite_id=locked.collectivite_id,
        payload={"message": note.pk},
    )
    refresh_search([locked.pk])
    return note
