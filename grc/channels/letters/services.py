"""Letters: the paper received (registered with its scan, joined to a dossier or filing a new
one, read in the background) and the letters sent (a template rendered on the letterhead, kept
as a document of the dossier). Every write of letters goes through here."""

from __future__ import annotations

import datetime
import hashlib
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grc.base.audit import record_event
from grc.base.calendar import paris_date
from grc.base.models import Channel, Collectivite, Usager, User
from grc.base.services.errors import deny
from grc.base.services.usagers import find_or_create_usager
from grc.channels.letters import ocr
from grc.channels.letters.render import RenderedLetter, recipient_lines, render_letter
from grc.channels.models import Letter, LetterTemplate
from grc.demarches import access as demarche_access
from grc.demarches.acknowledgements.context import build_context
from grc.demarches.legal import format_date_fr
from grc.demarches.models import Attachment, Demarche, Document, Dossier, Message
from grc.demarches.search import refresh_search
from grc.demarches.services import dossiers as dossier_services
from grc.demarches.texts import TemplateRenderError, check_template, render_text

logger = logging.getLogger(__name__)

SCAN_FIELD = "courrier:scan"  # the same key as intake's (grc.backoffice.intake.services)


# --- Incoming ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewDossier:
    """A letter that is a new request: the démarche, the answers the agent typed from it and
    the files for the form's file fields."""

    demarche: Demarche
    answers_given: dict[str, Any]
    uploads: dict[str, list[UploadedFile]] | None = None


def register_letter(
    *,
    actor: User,
    scan: UploadedFile,
    received_at: datetime.datetime,
    usager: Usager | None = None,
    person: Any = None,
    dossier: Dossier | None = None,
    new_dossier: NewDossier | None = None,
    subject: str = "",
) -> Letter:
    """Register a letter received on `received_at` (its legal receipt date): joined to
    `dossier` (the scan attached, a message "Courrier reçu le …" recorded) or filing
    `new_dossier` through intake. The sender is `usager`, `person` (an intake Person, found or
    created) or, joining a dossier, its citizen. Nothing is stored when anything is refused
    (files included); the text is read by the worker once committed."""
    if (dossier is None) == (new_dossier is None):
        raise ValueError("give either dossier or new_dossier")
    if usager is not None and person is not None:
        raise ValueError("give usager or person, not both")
    if received_at > timezone.now():
        raise ValidationError(
            {"received_at": _("La date de réception ne peut pas être dans le futur.")}
        )
    try:
        dossier_services.check_piece(scan)
    except ValidationError as refusal:
        raise ValidationError({"scan": refusal.messages}) from None
    written: list[Attachment] = []
    try:
        return _register(
            actor=actor,
            scan=scan,
            received_at=received_at,
            usager=usager,
            person=person,
            dossier=dossier,
            new_dossier=new_dossier,
            subject=subject,
            written=written,
        )
    except BaseException:
        for attachment in written:  # the rows went with the rollback; the files go now
            attachment.file.delete(save=False)
        raise


@transaction.atomic
def _register(
    *, actor, scan, received_at, usager, person, dossier, new_dossier, subject, written
) -> Letter:
    if new_dossier is not None:
        from grc.backoffice.intake.services import file_on_behalf

        outcome = file_on_behalf(
            actor=actor,
            demarche=new_dossier.demarche,
            channel=Channel.COURRIER,
            answers_given=new_dossier.answers_given,
            usager=usager,
            person=person,
            uploads=new_dossier.uploads,
            received_at=received_at,
            scan=scan,
        )
        dossier, usager = outcome.dossier, outcome.usager
        attachment = dossier.attachments.filter(field_key=SCAN_FIELD).latest("pk")
        written.extend(dossier.attachments.all())
    else:
        dossier = (
            demarche_access.dossiers_visible_to_staff(actor)
            .select_for_update(of=("self",))
            .filter(pk=dossier.pk)
            .first()
        )
        if dossier is None:
            raise demarche_access.NotFound
        usager = _sender(actor, dossier.collectivite, usager=usager, person=person) or (
            dossier.usager
        )
        attachment = dossier_services.attach_scan(
            dossier=dossier,
            upload=scan,
            actor=actor,
            channel=Channel.COURRIER,
            field_key=SCAN_FIELD,
        )
        written.append(attachment)
        Message.objects.create(
            dossier=dossier,
            direction=Message.Direction.IN,
            channel=Channel.COURRIER,
            author=actor,
            body=_("Courrier reçu le %(date)s") % {"date": format_date_fr(paris_date(received_at))},
        )
        refresh_search([dossier.pk])
    letter = Letter.objects.create(
        collectivite=dossier.collectivite,
        direction=Letter.Direction.IN,
        dossier=dossier,
        usager=usager,
        sender=str(usager)[:300] if usager else "",
        received_on=paris_date(received_at),
        scan=attachment,
        subject=subject[:300],
        ocr_status=Letter.OcrStatus.PENDING,
        registered_by=actor,
    )
    record_event(
        action="letter.received",
        obj=letter,
        actor=actor,
        channel=Channel.COURRIER,
        collectivite_id=letter.collectivite_id,
        payload={
            "dossier": dossier.pk,
            "reference": dossier.reference,
            "new_dossier": new_dossier is not None,
            "usager": usager.pk if usager else None,
            "scan": attachment.pk,
            "received_on": letter.received_on.isoformat(),
        },
    )
    from grc.channels.letters.tasks import read_letter

    transaction.on_commit(lambda: read_letter.defer(letter_id=letter.pk))
    return letter


def _sender(actor, collectivite: Collectivite, *, usager, person) -> Usager | None:
    if usager is not None:
        usager = Usager.objects.get(pk=usager.pk)
        if usager.collectivite_id != collectivite.pk:
            raise ValidationError(
                {
                    "usager": _(
                        "Cette fiche usager n'est pas celle d'une personne de cette collectivité."
                    )
                }
            )
        return usager.merged_into or usager
    if person is not None:
        return find_or_create_usager(
            collectivite,
            email=person.email or None,
            phone=person.phone or None,
            first_name=person.first_name,
            last_name=person.last_name,
            address=person.address,
            channel=Channel.COURRIER,
            actor=actor,
        ).usager
    return None


# --- Reading the scan (the worker) ------------------------------------------------------------


def read_letter_text(*, letter_id: int) -> None:
    """Read the letter's scan and store its text, then refresh its dossier's search text. A
    file that cannot be read marks the letter failed with the reason; a missing tool too, and
    raises OcrUnavailable so that the job is tried again."""
    letter = Letter.objects.select_related("scan").filter(pk=letter_id).first()
    if letter is None:
        return
    if letter.scan is None or not letter.scan.file:
        _store_reading(letter_id, error=_("Le courrier n'a pas de numérisation à lire."))
        return
    try:
        with tempfile.TemporaryDirectory(prefix="grc-letter-") as folder:
            path = Path(folder) / "scan"
            with letter.scan.file.open("rb") as source, path.open("wb") as copy:
                shutil.copyfileobj(source, copy)
            text = ocr.read_text(path, letter.scan.content_type)
    except ocr.OcrUnavailable as error:
        _store_reading(letter_id, error=str(error))
        raise
    except ocr.OcrError as error:
        _store_reading(letter_id, error=str(error))
        return
    except FileNotFoundError:
        _store_reading(letter_id, error=_("Le fichier numérisé est introuvable sur le serveur."))
        return
    _store_reading(letter_id, text=text)


@transaction.atomic
def _store_reading(letter_id: int, *, text: str = "", error: str = "") -> None:
    letter = Letter.objects.select_for_update().filter(pk=letter_id).first()
    if letter is None:
        return
    letter.ocr_text = "\n".join(line.rstrip() for line in text.strip().splitlines())
    letter.ocr_error = error
    letter.ocr_status = Letter.OcrStatus.FAILED if error else Letter.OcrStatus.DONE
    letter.save(update_fields=["ocr_text", "ocr_error", "ocr_status"])
    if letter.dossier_id is not None:
        refresh_search([letter.dossier_id])


# --- Outgoing ---------------------------------------------------------------------------------


def preview_letter(
    *,
    actor: User,
    dossier: Dossier,
    template: LetterTemplate,
    subject: str | None = None,
    body: str | None = None,
) -> RenderedLetter:
    """The letter as it will be sent (the template rendered for this dossier, or the texts the
    agent edited), without storing anything."""
    if not demarche_access.works_on_service(actor, dossier):
        raise deny()
    return _render(dossier, template, subject=subject, body=body)


def _render(dossier, template, *, subject, body) -> RenderedLetter:
    if template.collectivite_id != dossier.collectivite_id or not template.is_active:
        raise ValidationError({"template": _("Ce modèle de courrier n'est pas utilisable.")})
    lines = recipient_lines(dossier.usager)
    if lines is None:
        raise ValidationError(
            _(
                "La fiche de l'usager n'a pas d'adresse postale complète (voie, code postal, "
                "commune) : complétez-la avant d'envoyer un courrier."
            )
        )
    context = build_context(dossier)
    try:
        subject = subject if subject is not None else render_text(template.subject, context)
        body = body if body is not None else render_text(template.body, context)
        signature = render_text(template.signature, context)
    except TemplateRenderError as error:
        raise ValidationError({"template": str(error)}) from None
    subject = " ".join(subject.split())
    if not subject:
        raise ValidationError({"subject": _("Indiquez l'objet du courrier.")})
    if not body.strip():
        raise ValidationError({"body": _("Le texte du courrier est vide.")})
    return render_letter(
        collectivite=dossier.collectivite,
        recipient=lines,
        subject=subject[:300],
        body=body,
        signature=signature,
        reference=dossier.reference,
    )


@transaction.atomic
def send_letter(
    *,
    actor: User,
    dossier: Dossier,
    template: LetterTemplate,
    subject: str | None = None,
    body: str | None = None,
) -> Letter:
    """Make the letter's PDF and keep it: a document of the dossier the citizen sees, the
    outgoing letter, and a message "Courrier envoyé : <objet>" in the thread."""
    locked = Dossier.objects.select_for_update(of=("self",)).get(pk=dossier.pk)
    if not locked.is_filed or not demarche_access.works_on_service(actor, locked):
        raise demarche_access.NotFound
    rendered = _render(locked, template, subject=subject, body=body)
    document = Document(
        dossier=locked,
        kind="courrier",
        title=(_("Courrier : %(subject)s") % {"subject": rendered.subject})[:200],
        sha256=hashlib.sha256(rendered.pdf).hexdigest(),
        visible_to_citizen=True,
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    document.file.save(f"{locked.reference}-{stamp}.pdf", ContentFile(rendered.pdf), save=False)
    try:
        document.save()
        letter = Letter.objects.create(
            collectivite=locked.collectivite,
            direction=Letter.Direction.OUT,
            dossier=locked,
            usager=locked.usager,
            recipient_address="\n".join(rendered.recipient),
            template=template,
            document=document,
            subject=rendered.subject,
            registered_by=actor,
        )
        Message.objects.create(
            dossier=locked,
            direction=Message.Direction.OUT,
            channel=Channel.COURRIER,
            author=actor,
            body=_("Courrier envoyé : %(subject)s") % {"subject": rendered.subject},
        )
        record_event(
            action="letter.sent",
            obj=letter,
            actor=actor,
            channel=Channel.COURRIER,
            collectivite_id=locked.collectivite_id,
            payload={
                "dossier": locked.pk,
                "template": template.pk,
                "document": document.pk,
                "subject": rendered.subject,
                "sha256": document.sha256,
            },
        )
        from grc.demarches import notifications

        notifications.document_issued(document)
        refresh_search([locked.pk])
    except BaseException:
        document.file.delete(save=False)
        raise
    return letter


# --- Templates (the admin) --------------------------------------------------------------------

TEMPLATE_FIELDS = ("name", "subject", "body", "signature", "is_active")


def check_letter_template(data: dict[str, Any]) -> dict[str, list[str]]:
    """French problems of a template's texts, by field."""
    errors = {}
    for name in ("subject", "body", "signature"):
        problems = check_template(data.get(name) or "")
        if problems:
            errors[name] = problems
    return errors


@transaction.atomic
def save_letter_template(
    *,
    actor: User,
    collectivite: Collectivite,
    data: dict[str, Any],
    template: LetterTemplate | None = None,
) -> LetterTemplate:
    from grc.base import access as base_access

    if not base_access.can_administer(actor, collectivite.pk):
        raise deny()
    errors = check_letter_template(data)
    if errors:
        raise ValidationError(errors)
    if template is None:
        template = LetterTemplate(collectivite=collectivite)
    elif template.collectivite_id != collectivite.pk:
        raise deny()
    before = {name: getattr(template, name) for name in TEMPLATE_FIELDS}
    for name in TEMPLATE_FIELDS:
        if name in data:
            setattr(template, name, data[name])
    template.full_clean()
    created = template.pk is None
    template.save()
    record_event(
        action="letter_template.created" if created else "letter_template.changed",
        obj=template,
        actor=actor,
        channel=Channel.WEB,
        collectivite_id=collectivite.pk,
        payload={
            name: [before[name], getattr(template, name)]
            for name in TEMPLATE_FIELDS
            if created or before[name] != getattr(template, name)
        },
    )
    return template
