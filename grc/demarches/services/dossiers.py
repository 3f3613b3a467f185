"""Dossiers: drafts, attachments and the submission, with its reference and acknowledgements."""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import magic
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import DurationField, ExpressionWrapper, F, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from grc.base.audit import record_event
from grc.base.calendar import paris_date
from grc.base.models import Channel, Usager, User
from grc.base.models.address import Address
from grc.base.services.errors import deny
from grc.base.services.usagers import find_or_create_usager
from grc.base.validators import normalize_email
from grc.demarches import access, answers, references
from grc.demarches.definition import FILE_TYPES, MAX_FILE_SIZE_MB, fields_by_key, placed_fields
from grc.demarches.models import Acknowledgement, Attachment, Demarche, DemarcheVersion, Dossier
from grc.demarches.search import refresh_search
from grc.demarches.services.demarches import published_version
from grc.demarches.workflow.services import decision_date, enter_initial_status

MEGABYTE = 1024 * 1024


# --- Drafts -----------------------------------------------------------------------------------


def _check_open(demarche: Demarche, channel: str) -> DemarcheVersion:
    # The caller's instance may be stale (published or closed meanwhile): read it again.
    demarche.refresh_from_db()
    version = published_version(demarche)
    if demarche.state != Demarche.State.PUBLISHED or version is None:
        raise ValidationError(_("Cette démarche n'est pas ouverte."))
    now = timezone.now()
    if channel == Channel.WEB and (
        (demarche.opens_at and now < demarche.opens_at)
        or (demarche.closes_at and now >= demarche.closes_at)
    ):
        raise ValidationError(_("Cette démarche n'accepte pas de demande en ce moment."))
    if channel not in demarche.channels:
        raise ValidationError(_("Cette démarche n'accepte pas les demandes par ce canal."))
    return version


def _check_filer(
    demarche: Demarche,
    *,
    channel: str,
    actor: User | None,
    account: User | None,
    via_gateway: bool = False,
) -> None:
    if via_gateway and actor is None and channel != Channel.WEB:
        return  # the mail gateway or a channel's webhook files what the citizen sent
    if channel == Channel.WEB:
        if demarche.who_may_file == Demarche.WhoMayFile.AGENTS:
            raise deny(_("Cette démarche se fait auprès des services, pas en ligne."))
        if demarche.who_may_file == Demarche.WhoMayFile.ACCOUNT and account is None:
            raise deny(_("Connectez-vous à votre compte pour faire cette démarche."))
    elif actor is None or not access.can_file_for_others(actor, demarche.collectivite_id):
        raise deny()


@transaction.atomic
def start_draft(
    *,
    demarche: Demarche,
    channel: str = Channel.WEB,
    actor: User | None = None,
    account: User | None = None,
) -> Dossier:
    """A new draft on the published version. Anonymous drafts get a secret token that the
    browser's session keeps."""
    version = _check_open(demarche, channel)
    _check_filer(demarche, channel=channel, actor=actor, account=account)
    return Dossier.objects.create(
        collectivite=demarche.collectivite,
        demarche=demarche,
        version=version,
        account=account,
        channel=channel,
        service=demarche.service,
        draft_token="" if account else Dossier.new_draft_token(),
    )


@transaction.atomic
def save_draft(*, dossier: Dossier, page_key: str, page_answers: dict[str, Any]) -> Dossier:
    """Keep one page's answers: the page's keys are replaced as a whole, so an answer to a field
    that became hidden is dropped."""
    locked = Dossier.objects.select_for_update().get(pk=dossier.pk)
    if locked.status != Dossier.DRAFT:
        raise ValidationError(_("Ce dossier a déjà été envoyé."))
    page = next(
        (p for p in locked.version.definition.get("pages", []) if p.get("key") == page_key), None
    )
    if page is None:
        raise ValidationError(_("Page inconnue."))
    kept = {k: v for k, v in locked.answers.items() if k not in answers.page_keys(page)}
    locked.answers = {**kept, **page_answers}
    locked.save(update_fields=["answers", "updated_at"])
    return locked


@transaction.atomic
def delete_draft(*, dossier: Dossier, actor: User | None) -> None:
    """Delete a draft at its owner's request ("Mes brouillons"), with its files. The caller
    reached it through access_own_draft; a draft of an account is its holder's only."""
    locked = Dossier.objects.select_for_update().filter(pk=dossier.pk).first()
    if locked is None or locked.status != Dossier.DRAFT:
        raise ValidationError(_("Ce brouillon n'existe plus : la demande a peut-être été envoyée."))
    if locked.account_id is not None and (
        actor is None or not actor.is_authenticated or actor.pk != locked.account_id
    ):
        raise deny()
    record_event(
        action="dossier.draft_deleted",
        obj=locked,
        actor=actor,
        channel=Channel.WEB,
        collectivite_id=locked.collectivite_id,
        payload={"uuid": str(locked.uuid), "demarche": locked.demarche_id},
    )
    _drop_attachments(locked.attachments.all())
    locked.delete()


# --- Attachments ------------------------------------------------------------------------------


def _file_spec(dossier: Dossier, field_key: str) -> dict[str, Any]:
    spec = fields_by_key(dossier.version.definition).get(field_key)
    if spec is None or spec.get("type") != "file":
        raise ValidationError(_("Ce champ n'attend pas de fichier."))
    return spec


def _size_label(size: int) -> str:
    return f"{size / MEGABYTE:.1f}".replace(".", ",") + " Mo"


@transaction.atomic
def attach_file(
    *, dossier: Dossier, field_key: str, upload: UploadedFile, actor: User | None = None
) -> Attachment:
    """A file for a file field of the form. See _store_upload."""
    spec = _file_spec(dossier, field_key)
    return _store_upload(
        dossier=dossier,
        field_key=field_key,
        upload=upload,
        actor=actor,
        accepted=spec.get("accept") or list(FILE_TYPES),
        limit=spec.get("max_size_mb", 10),
    )


@transaction.atomic
def detach_file(*, dossier: Dossier, attachment_id: int) -> None:
    """Take a file back out of a draft (the citizen removed it): the file goes, and so does its
    id from the answers that named it. A filed dossier's files stay as they were sent."""
    locked = Dossier.objects.select_for_update().get(pk=dossier.pk)
    if locked.status != Dossier.DRAFT:
        raise ValidationError(_("Ce dossier a déjà été envoyé."))
    rows = locked.attachments.filter(pk=attachment_id)
    if not rows.exists():
        raise ValidationError(_("Pièce jointe inconnue."))
    _drop_attachments(rows)

    def without(value):
        if isinstance(value, list):
            return [without(v) for v in value if not (type(v) is int and v == attachment_id)]
        if isinstance(value, dict):
            return {k: without(v) for k, v in value.items()}
        return value

    cleaned = {key: without(value) for key, value in locked.answers.items()}
    if cleaned != locked.answers:
        locked.answers = cleaned
        locked.save(update_fields=["answers", "updated_at"])


# What a citizen may send as missing pieces: documents and pictures.
PIECE_TYPES = ["application/pdf", "image/jpeg", "image/png", "image/heic", "image/webp"]
PIECE_SIZE_MB = 20


@transaction.atomic
def attach_piece(*, dossier: Dossier, upload: UploadedFile, actor=None) -> Attachment:
    """A file answering the dossier's open request for missing pieces."""
    request = dossier.piece_requests.filter(status="open").first()
    if request is None:
        raise ValidationError(_("Aucune pièce n'est attendue pour ce dossier."))
    return _store_upload(
        dossier=dossier,
        field_key=f"pieces:{request.pk}",
        upload=upload,
        actor=actor,
        accepted=PIECE_TYPES,
        limit=PIECE_SIZE_MB,
    )


def check_piece(upload: UploadedFile) -> None:
    """Refuse a file that attach_piece would refuse, before anything is stored (a batch of
    files is accepted whole or not at all)."""
    _checked(upload, accepted=PIECE_TYPES, limit=PIECE_SIZE_MB)


@transaction.atomic
def attach_message_file(
    *, dossier: Dossier, message_id: int, upload: UploadedFile, actor=None
) -> Attachment:
    """A file sent with a message on the dossier (grc.demarches.services.messages), either way:
    the same checks as missing pieces."""
    return _store_upload(
        dossier=dossier,
        field_key=f"message:{message_id}",
        upload=upload,
        actor=actor,
        accepted=PIECE_TYPES,
        limit=PIECE_SIZE_MB,
    )


@transaction.atomic
def attach_received_file(*, dossier: Dossier, message_id: int, upload: UploadedFile, channel: str):
    """A file that came with an e-mail or another channel's message (grc.channels.inbound):
    every type the forms accept (office documents too, as people attach them to e-mails),
    checked by content like the others."""
    return _store_upload(
        dossier=dossier,
        field_key=f"message:{message_id}",
        upload=upload,
        actor=None,
        accepted=list(FILE_TYPES),
        limit=MAX_FILE_SIZE_MB,
        channel=channel,
    )


@transaction.atomic
def attach_scan(
    *, dossier: Dossier, upload: UploadedFile, actor, channel: str, field_key: str = "scan"
) -> Attachment:
    """The paper itself (a letter, a form filled at the counter) scanned and kept with the
    dossier an agent took in: the same checks as a citizen's pieces."""
    return _store_upload(
        dossier=dossier,
        field_key=field_key,
        upload=upload,
        actor=actor,
        accepted=PIECE_TYPES,
        limit=PIECE_SIZE_MB,
        channel=channel,
    )


def _checked(upload: UploadedFile, *, accepted: list[str], limit: int) -> tuple[str, str]:
    """The file's name and real content type (libmagic, not its name), or a French refusal."""
    name = (upload.name or "fichier").rsplit("/", 1)[-1][:255]
    if upload.size == 0:
        raise ValidationError(_("Le fichier « %(n)s » est vide.") % {"n": name})
    if upload.size > limit * MEGABYTE:
        raise ValidationError(
            _("Le fichier « %(n)s » fait %(size)s : la limite est de %(limit)d Mo.")
            % {"n": name, "size": _size_label(upload.size), "limit": limit}
        )
    upload.seek(0)
    content_type = magic.from_buffer(upload.read(8192), mime=True)
    if content_type not in accepted:
        raise ValidationError(
            _("Le fichier « %(n)s » n'est pas accepté : formats possibles %(formats)s.")
            % {"n": name, "formats": ", ".join(str(FILE_TYPES.get(m, m)) for m in accepted)}
        )
    return name, content_type


def _store_upload(
    *,
    dossier: Dossier,
    field_key: str,
    upload: UploadedFile,
    actor,
    accepted: list[str],
    limit: int,
    channel: str = Channel.WEB,
) -> Attachment:
    """Check a file, then store it: a refused file is never written to storage."""
    name, content_type = _checked(upload, accepted=accepted, limit=limit)
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    user = actor if actor is not None and actor.is_authenticated else None
    attachment = Attachment(
        dossier=dossier,
        field_key=field_key,
        original_name=name,
        content_type=content_type,
        size=upload.size,
        sha256=digest.hexdigest(),
        uploaded_by=user,
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    if dossier.is_filed:
        record_event(
            action="dossier.file_added",
            obj=dossier,
            actor=user,
            channel=channel,
            collectivite_id=dossier.collectivite_id,
            payload={"attachment": attachment.pk, "field": field_key},
        )
    return attachment


def known_attachments(dossier: Dossier) -> Callable[[str], set[int]]:
    """For the answers' validation: field key → the ids of the files sent for that field (a file
    answer may not name another field's file, checked against other limits). Read once."""
    loaded: dict[str, set[int]] | None = None

    def ids(field_key: str) -> set[int]:
        nonlocal loaded
        if loaded is None:
            loaded = defaultdict(set)
            for pk, key in dossier.attachments.values_list("id", "field_key"):
                loaded[key].add(pk)
        return loaded.get(field_key, set())

    return ids


# --- Submission -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who the dossier is about, from the account, the form's profile fields and the intake."""

    email: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""
    birth_date: datetime.date | None = None
    address: Address | None = None


def identity_from_answers(definition: dict[str, Any], given: dict[str, Any]) -> Identity:
    found: dict[str, Any] = {}
    for placed in placed_fields(definition, blocks=False):
        source = placed.field.get("prefill")
        value = given.get(placed.field.get("key"))
        if not source or value in (None, ""):
            continue
        if source == "birth_date":
            value = datetime.date.fromisoformat(value)
        elif source == "address":
            value = Address(**value)
        found.setdefault(source, value)
    return Identity(**found)


def _check_one_per_citizen(
    demarche: Demarche, *, account: User | None, usager: Usager | None
) -> None:
    if not demarche.one_per_citizen:
        return
    # Two sendings at once for one person: the second waits on the record's lock, then sees
    # the first (intake through find_or_create_usager already holds a lock on the address).
    if usager is not None:
        Usager.objects.select_for_update().filter(pk=usager.pk).exists()
    filed = Dossier.objects.filed().filter(demarche=demarche)
    if (account and filed.filter(account=account).exists()) or (
        usager and filed.filter(usager=usager).exists()
    ):
        raise ValidationError(
            _("Vous avez déjà déposé une demande pour cette démarche : une seule est possible.")
        )


def _assign_tracking_code(dossier: Dossier) -> None:
    for _attempt in range(5):
        dossier.tracking_code = references.new_tracking_code()
        try:
            with transaction.atomic():
                dossier.save(update_fields=["tracking_code"])
            return
        except IntegrityError:
            continue
    raise RuntimeError("could not draw a free tracking code")


@transaction.atomic
def submit_dossier(
    *,
    demarche: Demarche,
    answers_given: dict[str, Any],
    channel: str,
    actor: User | None,
    dossier: Dossier | None = None,
    account: User | None = None,
    contact_email: str = "",
    usager: Usager | None = None,
    received_at: datetime.datetime | None = None,
    via_gateway: bool = False,
) -> Dossier:
    """File a dossier: validate the answers against its version, find or create the citizen
    record, give the reference (and a tracking code without an account), compute the legal
    dates, record the event, and send the acknowledgements after commit.

    `dossier` is the draft being sent (web); intake by an agent passes the answers directly.
    Sending a draft twice (a double click) returns the dossier already filed. `via_gateway`
    is the platform filing what arrived by e-mail or another channel (grc.channels.inbound),
    with no one acting."""
    if dossier is not None:
        dossier = Dossier.objects.select_for_update().get(pk=dossier.pk)
        if dossier.status != Dossier.DRAFT:
            return dossier
        version = dossier.version
        _check_open(demarche, channel)
    else:
        version = _check_open(demarche, channel)
    if account is None and dossier is not None:
        account = dossier.account  # the draft was started with an account
    if account is None and channel == Channel.WEB and actor is not None and actor.is_authenticated:
        account = actor  # a citizen filing online files with their account
    _check_filer(demarche, channel=channel, actor=actor, account=account, via_gateway=via_gateway)

    outcome = answers.validate_answers(
        version.definition,
        answers_given,
        known_attachments=known_attachments(dossier) if dossier else (lambda key: set()),
    )
    if not outcome.ok:
        raise ValidationError(outcome.errors)

    identity = identity_from_answers(version.definition, outcome.answers)
    if contact_email:
        try:
            contact_email = normalize_email(contact_email)
        except ValidationError as error:
            raise ValidationError({"contact_email": error.messages}) from None
    email = (account.email if account else "") or contact_email or identity.email
    if not email and account is None and usager is None and channel == Channel.WEB:
        raise ValidationError(
            {
                "contact_email": _(
                    "Indiquez votre adresse e-mail : elle sert à vous envoyer l'accusé de "
                    "réception et à suivre votre demande."
                )
            }
        )
    if usager is None:
        usager = find_or_create_usager(
            demarche.collectivite,
            email=email or None,
            phone=identity.phone or None,
            first_name=identity.first_name or (account.first_name if account else None),
            last_name=identity.last_name or (account.last_name if account else None),
            birth_date=identity.birth_date,
            address=identity.address,
            channel=channel,
            actor=actor if channel != Channel.WEB else None,
            account=account,
        ).usager
    elif usager.collectivite_id != demarche.collectivite_id:
        raise access.NotFound
    _check_one_per_citizen(demarche, account=account, usager=usager)

    now = timezone.now()
    if received_at is None or channel == Channel.WEB:
        received_at = now
    elif received_at > now:
        raise ValidationError(
            {"received_at": _("La date de réception ne peut pas être dans le futur.")}
        )
    if dossier is None:
        dossier = Dossier(
            collectivite=demarche.collectivite, demarche=demarche, version=version, channel=channel
        )
    dossier.answers = outcome.answers
    dossier.usager = usager
    dossier.account = account
    dossier.contact_email = email
    dossier.service = dossier.service or demarche.service
    dossier.received_at = received_at
    dossier.submitted_at = now
    dossier.submitted_by = actor if actor is not None and actor.is_authenticated else None
    dossier.implicit_decision = demarche.implicit_decision
    dossier.decision_period = demarche.decision_period
    dossier.decision_period_unit = demarche.decision_period_unit
    dossier.clock_restarts_on_pieces = demarche.clock_restarts_on_pieces
    dossier.expected_decision_date = decision_date(dossier, today=paris_date(now))
    dossier.reference = references.next_reference(
        demarche.collectivite, timezone.localtime(received_at).year
    )
    dossier.draft_token = ""
    dossier.save()
    enter_initial_status(dossier, actor=actor, channel=channel)
    if account is None:
        _assign_tracking_code(dossier)
    # Attachments uploaded for fields that ended hidden are not part of the dossier.
    kept = {i for key in outcome.visible for i in _attachment_ids(outcome.answers, key)}
    _drop_attachments(dossier.attachments.exclude(pk__in=kept))

    record_event(
        action="dossier.submitted",
        obj=dossier,
        actor=actor,
        channel=channel,
        collectivite_id=dossier.collectivite_id,
        payload={
            "reference": dossier.reference,
            "demarche": demarche.pk,
            "version": version.number,
            "usager": usager.pk,
            "received_at": received_at.isoformat(),
        },
    )
    _create_acknowledgements(dossier)
    refresh_search([dossier.pk])
    return dossier


def _drop_attachments(rows) -> None:
    """Delete attachment rows now and their files once that is committed (a rollback keeps
    both)."""
    files = [row.file for row in rows]
    if files:
        rows.delete()
        transaction.on_commit(lambda: [f.delete(save=False) for f in files])


def _attachment_ids(given: dict[str, Any], key: str) -> list[int]:
    value = given.get(key)
    if isinstance(value, list):
        ids = []
        for item in value:
            if isinstance(item, int):
                ids.append(item)
            elif isinstance(item, dict):  # a block item: its file sub-answers
                ids.extend(
                    i for v in item.values() if isinstance(v, list) for i in v if isinstance(i, int)
                )
        return ids
    return []


def _create_acknowledgements(dossier: Dossier) -> None:
    from grc.demarches.tasks import deliver_acknowledgement

    status = (
        Acknowledgement.Status.PENDING
        if dossier.contact_email
        else (Acknowledgement.Status.TO_PRINT)
    )
    aee = Acknowledgement.objects.create(
        dossier=dossier,
        kind=Acknowledgement.Kind.REGISTRATION,
        status=status,
        recipient=dossier.contact_email,
    )
    are = Acknowledgement.objects.create(
        dossier=dossier,
        kind=Acknowledgement.Kind.RECEPTION,
        recipient=dossier.contact_email,
        status=status
        if dossier.demarche.acknowledgement_required
        else Acknowledgement.Status.NOT_REQUIRED,
    )
    for ack in (aee, are):
        if ack.status != Acknowledgement.Status.NOT_REQUIRED:
            transaction.on_commit(
                lambda ack_id=ack.pk: deliver_acknowledgement.defer(acknowledgement_id=ack_id)
            )


# --- Housekeeping -----------------------------------------------------------------------------


def purge_expired_drafts(*, now: datetime.datetime | None = None) -> int:
    """Delete drafts left untouched longer than their démarche's draft lifespan, with their
    files (personal data is not kept without a purpose). Each deletion is recorded."""
    now = now or timezone.now()
    lifespan = ExpressionWrapper(
        F("demarche__draft_lifespan_days") * Value(datetime.timedelta(days=1)),
        output_field=DurationField(),
    )
    expired = (
        Dossier.objects.drafts()
        .alias(limit=Value(now) - lifespan)
        .filter(updated_at__lte=F("limit"))
        .only("id", "uuid", "collectivite_id", "updated_at")
    )
    count = 0
    for draft in expired.iterator():
        with transaction.atomic():
            locked = (
                Dossier.objects.select_for_update()
                .filter(pk=draft.pk, status=Dossier.DRAFT, updated_at=draft.updated_at)
                .first()
            )
            if locked is None:  # sent or edited meanwhile
                continue
            record_event(
                action="dossier.draft_purged",
                obj=locked,
                actor=None,
                channel=Channel.SYSTEM,
                collectivite_id=locked.collectivite_id,
                payload={"uuid": str(locked.uuid), "last_change": draft.updated_at.isoformat()},
            )
            _drop_attachments(locked.attachments.all())
            locked.delete()
        count += 1
    return count


def open_transferred_copy(*, original: Dossier, service, actor: User) -> Dossier:
    """The dossier as received by the competent collectivité after a transfer (CRPA L114-2):
    same form version and answers, its own citizen record, reference and acknowledgements.
    Its clock (L114-3): an acceptance runs from now, a rejection from the first receipt."""
    collectivite = service.collectivite
    usager = original.usager
    address = usager.address if not usager.address.is_empty() else None
    record = find_or_create_usager(
        collectivite,
        email=original.contact_email or usager.email or None,
        phone=usager.phones[0] if usager.phones else None,
        first_name=usager.first_name,
        last_name=usager.last_name,
        birth_date=usager.birth_date,
        address=address,
        channel=Channel.OTHER,
        account=original.account,
    ).usager
    now = timezone.now()
    copy = Dossier.objects.create(
        collectivite=collectivite,
        demarche=original.demarche,
        version=original.version,
        answers=original.answers,
        usager=record,
        account=original.account,
        contact_email=original.contact_email,
        channel=original.channel,
        service=service,
        received_at=original.received_at,
        competent_received_at=now,
        submitted_at=now,
        submitted_by=actor,
        implicit_decision=original.implicit_decision,
        decision_period=original.decision_period,
        decision_period_unit=original.decision_period_unit,
        clock_restarts_on_pieces=original.clock_restarts_on_pieces,
        reference=references.next_reference(collectivite, timezone.localtime(now).year),
    )
    renumbered: dict[int, int] = {}
    for attachment in original.attachments.all():
        with attachment.file.open("rb") as content:
            duplicate = Attachment(
                dossier=copy,
                field_key=attachment.field_key,
                original_name=attachment.original_name,
                content_type=attachment.content_type,
                size=attachment.size,
                sha256=attachment.sha256,
            )
            duplicate.file.save(attachment.original_name, content, save=False)
            duplicate.save()
        renumbered[attachment.pk] = duplicate.pk
    copy.answers = _renumber_files(copy.version.definition, copy.answers, renumbered)
    if copy.account_id is None:
        _assign_tracking_code(copy)
    copy.expected_decision_date = decision_date(copy, today=timezone.localdate())
    copy.save(update_fields=["answers", "expected_decision_date"])
    enter_initial_status(copy, actor=actor, channel=Channel.OTHER)
    _create_acknowledgements(copy)
    return copy


def _renumber_files(
    definition: dict[str, Any], given: dict[str, Any], renumbered: dict[int, int]
) -> dict[str, Any]:
    """File answers name attachment ids: point them at the copies."""

    def walk(specs, values):
        result = dict(values)
        for spec in specs:
            key = spec.get("key")
            if key not in result:
                continue
            if spec.get("type") == "file":
                result[key] = [renumbered[i] for i in result[key] if i in renumbered]
            elif spec.get("type") == "block":
                result[key] = [walk(spec.get("fields", []), item) for item in result[key]]
        return result

    specs = [spec for page in definition.get("pages", []) for spec in page.get("fields", [])]
    return walk(specs, given)
