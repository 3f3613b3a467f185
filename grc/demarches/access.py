"""Who may configure a démarche and who may reach a dossier. Built on grc.base.access; the
interfaces reach démarches and dossiers only through these functions."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from grc.base import access as base_access
from grc.base.access import NotFound
from grc.base.models import Membership, Role
from grc.demarches.models import Demarche, Dossier

__all__ = ["NotFound"]


def demarches_administered_by(user) -> QuerySet[Demarche]:
    """Démarches a user may configure: their collectivités' (admins), the catalogue's
    (platform admins)."""
    if base_access.is_platform_admin(user):
        return Demarche.objects.all()
    return Demarche.objects.filter(collectivite__in=base_access.administered_collectivites(user))


def access_demarche_admin(user, demarche_id) -> Demarche:
    try:
        return demarches_administered_by(user).get(pk=demarche_id)
    except (Demarche.DoesNotExist, ValueError, TypeError):
        raise NotFound from None


def can_administer_demarche(user, demarche: Demarche) -> bool:
    if demarche.collectivite_id is None:
        return base_access.is_platform_admin(user)
    return base_access.can_administer(user, demarche.collectivite_id)


def can_file_for_others(user, collectivite_id: int) -> bool:
    """Intake on a citizen's behalf (counter, phone, letter): staff of the collectivité."""
    return base_access.works_in(user, collectivite_id)


def works_on_service(user, dossier: Dossier) -> bool:
    """An agent or manager of the dossier's service, or an admin of its collectivité."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if base_access.can_administer(user, dossier.collectivite_id):
        return True
    return (
        dossier.service_id is not None
        and Membership.objects.filter(
            user=user,
            collectivite_id=dossier.collectivite_id,
            service_id=dossier.service_id,
            role__in=(Role.AGENT, Role.MANAGER),
            collectivite__is_active=True,
        ).exists()
    )


def access_own_draft(request, dossier_uuid, collectivite) -> Dossier:
    """A draft being filled in this browser: the citizen's own (account) or the one whose
    secret token this session holds (anonymous filing)."""
    try:
        draft = (
            Dossier.objects.drafts()
            .select_related("demarche", "version", "collectivite")
            .get(uuid=dossier_uuid, collectivite=collectivite)
        )
    except (Dossier.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound from None
    user = request.user
    if draft.account_id is not None:
        if user.is_authenticated and draft.account_id == user.pk:
            return draft
        raise NotFound
    token = request.session.get(f"draft:{draft.uuid}", "")
    if draft.draft_token and secrets.compare_digest(token, draft.draft_token):
        return draft
    raise NotFound


class CitizenOfDossier:
    """The person who filed a dossier without an account, proven by this browser's session (or,
    later, by the reference and tracking code): acts as "the citizen" on that dossier only."""

    is_authenticated = False
    pk = None

    def __init__(self, dossier: Dossier):
        self.dossier_id = dossier.pk

    def acts_for(self, dossier: Dossier) -> bool:
        return dossier.pk == self.dossier_id


def citizen_actor(request, dossier: Dossier):
    """Who acts as the citizen on a dossier reached by access_submitted_by_session."""
    if dossier.account_id is not None:
        return request.user
    return CitizenOfDossier(dossier)


def access_submitted_by_session(request, dossier_uuid, collectivite) -> Dossier:
    """The confirmation page right after sending: the filer's account or this browser."""
    try:
        dossier = (
            Dossier.objects.filed()
            .select_related("demarche", "version", "collectivite")
            .get(uuid=dossier_uuid, collectivite=collectivite)
        )
    except (Dossier.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound from None
    user = request.user
    if dossier.account_id is not None and user.is_authenticated and dossier.account_id == user.pk:
        return dossier
    if str(dossier.uuid) in request.session.get("submitted_dossiers", []):
        return dossier
    raise NotFound
