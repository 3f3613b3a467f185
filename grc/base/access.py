"""Who may see and do what. The only place where this is decided.

Rules of the foundation (later issues add dossiers and services' queues):
- a platform admin (the agency) sees and configures everything;
- a collectivité admin sees and configures their collectivité: its details, services, staff
  roles, citizen records and audit trail;
- managers and agents work in their collectivité (citizen records) but have no admin access;
- a citizen sees only their own account.

`access_*` functions return the object or raise NotFound, the same error for "does not exist"
and "not yours", so that ids cannot be probed. `*_visible_to` return querysets for lists.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from grc.base.models import (
    Collectivite,
    DuplicateCandidate,
    Event,
    Membership,
    Role,
    Service,
    Usager,
    User,
)


class NotFound(Http404):
    """The object does not exist, or the user may not reach it: one error for both."""


def _is_active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def is_platform_admin(user) -> bool:
    return _is_active(user) and user.is_platform_admin


def _active_memberships(user, roles: tuple[str, ...]) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, role__in=roles, collectivite__is_active=True)


def administered_collectivites(user) -> QuerySet[Collectivite]:
    """Collectivités whose configuration this user may change."""
    if not _is_active(user):
        return Collectivite.objects.none()
    if user.is_platform_admin:
        return Collectivite.objects.all()
    ids = _active_memberships(user, (Role.ADMIN,)).values("collectivite_id")
    return Collectivite.objects.filter(id__in=ids)


def staff_collectivites(user) -> QuerySet[Collectivite]:
    """Collectivités where this user works (any staff role)."""
    if not _is_active(user):
        return Collectivite.objects.none()
    if user.is_platform_admin:
        return Collectivite.objects.all()
    ids = _active_memberships(user, tuple(Role.values)).values("collectivite_id")
    return Collectivite.objects.filter(id__in=ids)


def can_use_admin(user) -> bool:
    return is_platform_admin(user) or (
        _is_active(user) and _active_memberships(user, (Role.ADMIN,)).exists()
    )


# --- Collectivités and their configuration ---------------------------------------------------


def can_create_collectivite(user) -> bool:
    return is_platform_admin(user)


def can_administer(user, collectivite_id: int | None) -> bool:
    return collectivite_id is not None and (
        administered_collectivites(user).filter(id=collectivite_id).exists()
    )


def access_collectivite_admin(user, collectivite_id) -> Collectivite:
    try:
        return administered_collectivites(user).get(id=collectivite_id)
    except (Collectivite.DoesNotExist, ValueError, TypeError):
        raise NotFound from None


def services_visible_to(user) -> QuerySet[Service]:
    return Service.objects.filter(collectivite__in=staff_collectivites(user))


def memberships_visible_to(user) -> QuerySet[Membership]:
    return Membership.objects.filter(collectivite__in=administered_collectivites(user))


def can_grant(user, *, collectivite_id: int | None) -> bool:
    """Give or take a staff role in a collectivité."""
    return can_administer(user, collectivite_id)


# --- Accounts --------------------------------------------------------------------------------


def accounts_visible_to(user) -> QuerySet[User]:
    """Platform admins see every account; a collectivité admin, the staff of their collectivités."""
    if is_platform_admin(user):
        return User.objects.all()
    if not _is_active(user):
        return User.objects.none()
    staff = Membership.objects.filter(
        user=OuterRef("pk"), collectivite__in=administered_collectivites(user)
    )
    return User.objects.filter(Exists(staff))


def can_create_account(user) -> bool:
    return can_use_admin(user)


def can_change_account(user, account: User) -> bool:
    """A collectivité admin changes an account only when every role of that account is in a
    collectivité they administer: an agent shared with another collectivité is left to the
    platform, and so are platform admins."""
    if is_platform_admin(user):
        return True
    if not _is_active(user) or account.is_platform_admin:
        return False
    if account.pk == user.pk:
        return True
    collectivite_ids = set(account.memberships.values_list("collectivite_id", flat=True))
    administered = set(administered_collectivites(user).values_list("id", flat=True))
    if not collectivite_ids or not collectivite_ids <= administered:
        return False
    # Giving a role to a citizen's account must not hand over their identity: an account that
    # is also someone's citizen record elsewhere (their dossiers go with it) stays theirs.
    return (
        not Usager.objects.filter(account=account)
        .exclude(collectivite_id__in=administered)
        .exists()
    )


# --- Citizen records -------------------------------------------------------------------------


def usagers_visible_to(user) -> QuerySet[Usager]:
    """Staff of a collectivité see its citizen records; a citizen, the records linked to their
    account."""
    if not _is_active(user):
        return Usager.objects.none()
    if user.is_platform_admin:
        return Usager.objects.all()
    return Usager.objects.filter(Q(collectivite__in=staff_collectivites(user)) | Q(account=user))


def access_usager(user, usager_id) -> Usager:
    try:
        return usagers_visible_to(user).get(pk=usager_id)
    except (Usager.DoesNotExist, ValueError, TypeError):
        raise NotFound from None


def works_in(user, collectivite_id: int) -> bool:
    """Staff of that collectivité (any role): takes citizens in, keeps their records."""
    return staff_collectivites(user).filter(id=collectivite_id).exists()


def can_change_usager(user, usager: Usager) -> bool:
    """Staff of the record's collectivité (citizens change their own details through their
    account profile, a later issue)."""
    return works_in(user, usager.collectivite_id)


can_create_usager = works_in


def duplicates_visible_to(user) -> QuerySet[DuplicateCandidate]:
    return DuplicateCandidate.objects.filter(collectivite__in=staff_collectivites(user))


# --- Audit -----------------------------------------------------------------------------------


def events_visible_to(user) -> QuerySet[Event]:
    """The audit trail of the collectivités a user administers (platform events: platform
    admins only)."""
    if is_platform_admin(user):
        return Event.objects.all()
    return Event.objects.filter(collectivite__in=administered_collectivites(user))
