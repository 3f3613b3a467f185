"""Who may configure a démarche and who may reach a dossier. Built on grc.base.access; the
interfaces reach démarches and dossiers only through these functions."""

from __future__ import annotations

import re
import secrets

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

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
    """A member of staff who works on this dossier: the same rule as dossiers_visible_to_staff
    (its collectivité's admins, its service's agents and managers; not the platform's admins)."""
    return dossiers_visible_to_staff(user).filter(pk=dossier.pk).exists()


def dossiers_visible_to_staff(user) -> QuerySet[Dossier]:
    """The filed dossiers a member of staff works on: every dossier of the collectivités they
    administer, those of their services elsewhere (agents and managers). Platform admins see
    none: dossiers are the collectivités' data. Drafts are nobody's business but their
    author's."""
    if not (user and user.is_authenticated and user.is_active):
        return Dossier.objects.none()
    memberships = Membership.objects.filter(user=user, collectivite__is_active=True)
    administered = memberships.filter(role=Role.ADMIN).values("collectivite_id")
    services = memberships.filter(
        role__in=(Role.AGENT, Role.MANAGER), service__isnull=False
    ).values("service_id")
    return Dossier.objects.filed().filter(
        Q(collectivite_id__in=administered) | Q(service_id__in=services)
    )


def access_staff_dossier(user, dossier_id) -> Dossier:
    """One dossier for the backoffice, or NotFound (the same answer for a dossier outside the
    person's scope as for one that does not exist)."""
    try:
        return (
            dossiers_visible_to_staff(user)
            .select_related("demarche", "version", "collectivite", "service", "usager", "assignee")
            .get(pk=dossier_id)
        )
    except (Dossier.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound from None


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


DRAFT_SESSION_PREFIX = "draft:"  # + the draft's uuid → its secret token (anonymous drafts)


def is_account_draft(dossier_uuid, collectivite) -> bool:
    """Whether this is a draft of an account here: a visitor without a session who reaches it
    is asked to log in again (their session expired), and sees nothing of it before."""
    try:
        return (
            Dossier.objects.drafts()
            .filter(uuid=dossier_uuid, collectivite=collectivite, account__isnull=False)
            .exists()
        )
    except (ValueError, TypeError, ValidationError):
        return False


def own_drafts(request, collectivite) -> list[Dossier]:
    """The drafts this person may resume here, last saved first: their account's, and the
    anonymous ones whose secret token this browser's session holds."""
    tokens = {}
    for key, token in request.session.items():
        if key.startswith(DRAFT_SESSION_PREFIX) and isinstance(token, str):
            try:
                found = Dossier._meta.get_field("uuid").to_python(key[len(DRAFT_SESSION_PREFIX) :])
            except ValidationError:
                continue
            tokens[str(found)] = token
    held = Q(account__isnull=True, uuid__in=list(tokens))
    user = request.user
    if user.is_authenticated and user.is_active:
        held |= Q(account=user)
    drafts = (
        Dossier.objects.drafts()
        .filter(held, collectivite=collectivite)
        .select_related("demarche", "collectivite")
        .order_by("-updated_at")
    )
    return [draft for draft in drafts if draft.account_id is not None or _holds(tokens, draft)]


def _holds(tokens: dict[str, str], draft: Dossier) -> bool:
    token = tokens.get(str(draft.uuid), "")
    return bool(draft.draft_token) and secrets.compare_digest(token, draft.draft_token)


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


def follower_account_id(dossier: Dossier) -> int | None:
    """The account that follows a dossier: the one it was filed with, else the one linked to
    the citizen record it was filed for (counter, phone, letter). The same rule as
    dossiers_of_citizen, for one dossier."""
    if dossier.account_id is not None:
        return dossier.account_id
    return dossier.usager.account_id if dossier.usager_id is not None else None


def dossiers_of_citizen(user) -> QuerySet[Dossier]:
    """The filed dossiers a citizen's account follows: those filed with it, and those filed on
    their behalf (counter, phone, letter) on a citizen record linked to it."""
    if not (user and user.is_authenticated and user.is_active):
        return Dossier.objects.none()
    # The rule of follower_account_id: the account a dossier was filed with comes first; a
    # record's account follows only the dossiers filed without one.
    return Dossier.objects.filed().filter(
        Q(account=user) | Q(account__isnull=True, usager__account=user)
    )


def access_submitted_by_session(request, dossier_uuid, collectivite) -> Dossier:
    """A filed dossier as its citizen sees it: through their account, or in this browser after
    sending it or after giving its reference and tracking code (grant_tracking_access)."""
    try:
        dossier = (
            Dossier.objects.filed()
            .select_related("demarche", "version", "collectivite", "usager")
            .get(uuid=dossier_uuid, collectivite=collectivite)
        )
    except (Dossier.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound from None
    user = request.user
    following = follower_account_id(dossier)
    if user.is_authenticated and user.is_active and following is not None and following == user.pk:
        return dossier
    granted = {
        *request.session.get("submitted_dossiers", []),
        *request.session.get(TRACKED_SESSION_KEY, []),
    }
    if str(dossier.uuid) in granted:
        return dossier
    raise NotFound


TRACKED_SESSION_KEY = "tracked_dossiers"
_CODE_NOISE = re.compile(r"[\s\-]")


def grant_tracking_access(request, *, collectivite, reference: str, code: str) -> Dossier | None:
    """The dossier of this collectivité with that reference and tracking code, now reachable in
    this browser; None when either does not match (the caller says the same in both cases)."""
    reference = "".join((reference or "").split()).upper()
    code = _CODE_NOISE.sub("", code or "").upper()
    if not reference or not code:
        return None
    dossier = (
        Dossier.objects.filed()
        .filter(collectivite=collectivite, reference__iexact=reference)
        .exclude(tracking_code="")
        .first()
    )
    # Compared in constant time; a missing dossier costs the same comparison.
    expected = dossier.tracking_code if dossier else "X" * len(code)
    if not secrets.compare_digest(expected.upper().encode(), code.encode()) or dossier is None:
        return None
    tracked = [u for u in request.session.get(TRACKED_SESSION_KEY, []) if u != str(dossier.uuid)]
    request.session[TRACKED_SESSION_KEY] = [*tracked[-19:], str(dossier.uuid)]
    request.session.cycle_key()  # a new session id once it opens a dossier
    return dossier
