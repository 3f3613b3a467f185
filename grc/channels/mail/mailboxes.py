"""Configuring a mailbox polled for citizens' e-mails (a collectivité admin's): the one write
path of the Django admin. The password is written, never shown again nor audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from grc.base import access
from grc.base.audit import apply_changes, record_event
from grc.base.models import Channel, User
from grc.channels.models import Mailbox

# What staff set on a mailbox, in the admin form's order (the collectivité comes first there).
FIELDS = (
    "service",
    "name",
    "email",
    "host",
    "port",
    "security",
    "username",
    "password",
    "folder",
    "done_folder",
    "demarche",
    "is_active",
)


@transaction.atomic
def save_mailbox(*, actor: User, mailbox: Mailbox | None, data: dict[str, Any]) -> Mailbox:
    """Create (mailbox None, data holds the collectivité) or change a mailbox; an empty
    password keeps the stored one."""
    collectivite = data.get("collectivite") or (mailbox.collectivite if mailbox else None)
    if collectivite is None or not access.can_administer(actor, collectivite.pk):
        raise access.NotFound
    creating = mailbox is None
    if creating:
        mailbox = Mailbox(collectivite=collectivite)
    else:
        mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    changes = {k: v for k, v in data.items() if k in FIELDS}
    if not changes.get("password"):
        changes.pop("password", None)
    if creating and not changes.get("password"):
        raise ValidationError({"password": [_("Indiquez le mot de passe de la boîte.")]})
    service = changes.get("service", mailbox.service if not creating else None)
    if service is not None and service.collectivite_id != collectivite.pk:
        raise ValidationError({"service": [_("Ce service n'est pas de cette collectivité.")]})
    demarche = changes.get("demarche", mailbox.demarche if not creating else None)
    if demarche is not None and demarche.collectivite_id != collectivite.pk:
        raise ValidationError({"demarche": [_("Cette démarche n'est pas de cette collectivité.")]})
    if "email" in changes:
        changes["email"] = changes["email"].strip().lower()
    diff = apply_changes(mailbox, changes)
    mailbox.full_clean()
    mailbox.save()
    record_event(
        action="mailbox.created" if creating else "mailbox.updated",
        obj=mailbox,
        actor=actor,
        channel=Channel.ADMIN,
        collectivite_id=collectivite.pk,
        payload={k: ("***" if k == "password" else v) for k, v in diff.items()},
    )
    return mailbox
