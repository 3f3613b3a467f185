"""Filing a dossier on a citizen's behalf (counter, phone, letter, e-mail), in one transaction:
the person's record, the form's files, the submission and the letter's scan are all saved, or
none of them is. Each step goes through the service that owns it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from grc.base.models import Usager, User
from grc.base.models.address import Address
from grc.base.services.errors import deny
from grc.base.services.usagers import find_or_create_usager
from grc.demarches import access
from grc.demarches.models import Attachment, Demarche, Dossier
from grc.demarches.services import dossiers as dossier_services

SCAN_FIELD = "courrier:scan"


@dataclass(frozen=True)
class Person:
    """A person without a record yet, as the agent typed them in."""

    last_name: str
    first_name: str = ""
    email: str = ""
    phone: str = ""
    address: Address | None = None


@dataclass
class IntakeOutcome:
    dossier: Dossier
    usager: Usager
    created: bool = False
    duplicates: list[Usager] = field(default_factory=list)


def file_on_behalf(
    *,
    actor: User,
    demarche: Demarche,
    channel: str,
    answers_given: dict[str, Any],
    usager: Usager | None = None,
    person: Person | None = None,
    uploads: dict[str, list[UploadedFile]] | None = None,
    received_at: datetime.datetime | None = None,
    scan: UploadedFile | None = None,
) -> IntakeOutcome:
    """File `answers_given` for `usager` (an existing record) or `person` (found or created).

    `uploads` are the files for the form's file fields (field key → files); `received_at` and
    `scan` belong to a letter. A ValidationError (keyed by field where it has one) leaves
    nothing behind, files included."""
    if (usager is None) == (person is None):
        raise ValueError("give either usager or person")
    if not access.can_file_for_others(actor, demarche.collectivite_id):
        raise deny()
    stored: list[Attachment] = []
    try:
        return _file(
            actor=actor,
            demarche=demarche,
            channel=channel,
            answers_given=dict(answers_given),
            usager=usager,
            person=person,
            uploads=uploads or {},
            received_at=received_at,
            scan=scan,
            stored=stored,
        )
    except BaseException:
        # The rows went with the rollback; the files written meanwhile go now.
        for attachment in stored:
            attachment.file.delete(save=False)
        raise


@transaction.atomic
def _file(
    *,
    actor,
    demarche,
    channel,
    answers_given,
    usager,
    person,
    uploads,
    received_at,
    scan,
    stored,
) -> IntakeOutcome:
    created, duplicates = False, []
    if person is not None:
        match = find_or_create_usager(
            demarche.collectivite,
            email=person.email or None,
            phone=person.phone or None,
            first_name=person.first_name,
            last_name=person.last_name,
            address=person.address,
            channel=channel,
            actor=actor,
        )
        usager, created, duplicates = match.usager, match.created, match.duplicates
    else:
        usager = Usager.objects.get(pk=usager.pk)
        if usager.merged_into_id is not None:
            raise ValidationError(
                _("Cette fiche a été fusionnée dans une autre : choisissez la fiche gardée.")
            )

    draft = None
    if uploads:
        draft = dossier_services.start_draft(demarche=demarche, channel=channel, actor=actor)
        for key, files in uploads.items():
            ids = []
            for upload in files:
                try:
                    attachment = dossier_services.attach_file(
                        dossier=draft, field_key=key, upload=upload, actor=actor
                    )
                except ValidationError as refusal:
                    raise ValidationError({key: refusal.messages}) from None
                stored.append(attachment)
                ids.append(attachment.pk)
            answers_given[key] = [*(answers_given.get(key) or []), *ids]

    dossier = dossier_services.submit_dossier(
        demarche=demarche,
        answers_given=answers_given,
        channel=channel,
        actor=actor,
        dossier=draft,
        usager=usager,
        # The acknowledgements go to the record's e-mail; without one they are to print.
        contact_email=usager.email,
        received_at=received_at,
    )
    if scan is not None:
        # The letter itself, kept with the dossier (the same checks as a citizen's pieces).
        stored.append(
            dossier_services.attach_scan(
                dossier=dossier, field_key=SCAN_FIELD, upload=scan, actor=actor, channel=channel
            )
        )
    return IntakeOutcome(dossier=dossier, usager=usager, created=created, duplicates=duplicates)
