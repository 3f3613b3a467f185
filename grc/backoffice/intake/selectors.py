"""Reads for intake on the citizen's behalf: the démarches an agent may file, the dossiers they
filed. Staff of a collectivité (any role) take requests in for it; the platform's admins, who
hold no role there, do not."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet

from grc.backoffice.usagers.selectors import member_collectivite_ids
from grc.base.access import NotFound
from grc.base.models import Channel
from grc.demarches.access import dossiers_visible_to_staff
from grc.demarches.models import Demarche, DemarcheVersion, Dossier

# The channels an agent takes a request in by; the web is the citizen's own.
INTAKE_CHANNELS = (Channel.COUNTER, Channel.PHONE, Channel.COURRIER, Channel.EMAIL)


def intake_demarches(user) -> QuerySet[Demarche]:
    """Published démarches of the person's collectivités that accept at least one intake
    channel."""
    if not (user and user.is_authenticated and user.is_active):
        return Demarche.objects.none()
    published = DemarcheVersion.objects.filter(
        demarche=OuterRef("pk"), status=DemarcheVersion.Status.PUBLISHED
    )
    return (
        Demarche.objects.filter(
            collectivite_id__in=member_collectivite_ids(user),
            state=Demarche.State.PUBLISHED,
            channels__overlap=list(INTAKE_CHANNELS),
        )
        .filter(Exists(published))
        .select_related("collectivite", "service")
        .order_by("collectivite__name", "category", "title")
    )


def access_intake_demarche(user, demarche_id) -> Demarche:
    try:
        return intake_demarches(user).get(pk=demarche_id)
    except (Demarche.DoesNotExist, ValueError, TypeError):
        raise NotFound from None


def channels_for(demarche: Demarche) -> list[tuple[str, str]]:
    """The intake channels this démarche accepts, as (value, label)."""
    return [(c.value, c.label) for c in INTAKE_CHANNELS if c.value in demarche.channels]


def access_intake_dossier(user, dossier_id) -> Dossier:
    """A dossier this person may see in the backoffice, or the one they just took in (an agent
    at the counter files for any service and hands over the acknowledgement)."""
    mine = Dossier.objects.filed().filter(
        submitted_by=user, collectivite_id__in=member_collectivite_ids(user)
    )
    visible = dossiers_visible_to_staff(user)
    try:
        return (
            Dossier.objects.filter(Q(pk__in=visible.values("pk")) | Q(pk__in=mine.values("pk")))
            .select_related("demarche", "collectivite", "service", "usager", "version")
            .get(pk=dossier_id)
        )
    except (Dossier.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound from None
