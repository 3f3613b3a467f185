"""What an agent does with an e-mail received: take it out of quarantine (into a new dossier,
or into a dossier by its reference), download its raw bytes. Checked, locked, audited."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grc.backoffice.mail import selectors
from grc.base.access import NotFound
from grc.base.audit import record_event
from grc.base.models import Channel, User
from grc.channels import inbound
from grc.channels.mail import route as router
from grc.channels.mail.parse import parse
from grc.channels.mail.parsed import ParseError
from grc.channels.models import InboundEmail
from grc.demarches.access import dossiers_visible_to_staff


@transaction.atomic
def release_from_quarantine(
    *, actor: User, inbound_email: InboundEmail, reference: str = ""
) -> InboundEmail:
    """Route the message again, as the agent decides: into the dossier whose reference is
    given, else into a new dossier (the throttle does not apply: a person decided)."""
    if not selectors.can_release(actor, inbound_email):
        raise NotFound
    locked = (
        InboundEmail.objects.select_for_update(of=("self",))
        .select_related("collectivite", "mailbox", "mailbox__demarche")
        .get(pk=inbound_email.pk)
    )
    if locked.outcome != InboundEmail.Outcome.QUARANTINED:
        raise ValidationError(_("Ce courriel n'est plus en quarantaine."))
    dossier = None
    if reference.strip():
        dossier = inbound.find_dossier_by_reference(locked.collectivite, reference)
        if dossier is None or not dossiers_visible_to_staff(actor).filter(pk=dossier.pk).exists():
            raise ValidationError(
                {"reference": _("Aucun dossier de vos services n'a cette référence.")}
            )
    try:
        with locked.raw.open("rb") as handle:
            raw = handle.read()
        parsed = parse(raw)
    except (OSError, ParseError) as error:
        raise ValidationError(
            _(
                "Ce message est illisible (%(e)s) : téléchargez-le et saisissez la demande "
                "à la main."
            )
            % {"e": error}
        ) from error
    previous = {"reason": locked.reason, "detail": locked.detail}
    now = timezone.now()
    if dossier is not None:
        router.thread_into(
            locked,
            parsed,
            dossier,
            received_at=locked.received_at,
            outcome=InboundEmail.Outcome.RELEASED,
        )
    else:
        if not parsed.from_address:
            raise ValidationError(
                _(
                    "Ce message n'a pas d'expéditeur utilisable : indiquez la référence du "
                    "dossier auquel il se rapporte."
                )
            )
        if not router.open_new(
            locked,
            parsed,
            locked.mailbox,
            received_at=locked.received_at,
            outcome=InboundEmail.Outcome.RELEASED,
        ):
            raise ValidationError(
                _("Aucun dossier n'a pu être ouvert : %(d)s") % {"d": locked.detail}
            )
    locked.processed_at = now
    locked.save()
    record_event(
        action="inbound_email.released",
        obj=locked,
        actor=actor,
        channel=Channel.WEB,
        collectivite_id=locked.collectivite_id,
        payload={
            **previous,
            "dossier": locked.dossier_id,
            "into": "reference" if dossier is not None else "new",
        },
    )
    return locked


@transaction.atomic
def record_raw_download(*, actor: User, inbound_email: InboundEmail) -> None:
    """The raw message holds personal data: who downloaded it is kept."""
    record_event(
        action="inbound_email.raw_downloaded",
        obj=inbound_email,
        actor=actor,
        channel=Channel.WEB,
        collectivite_id=inbound_email.collectivite_id,
    )
