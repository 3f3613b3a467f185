"""A citizen's own profile: what their account knows about them (identity, contact details,
address) and the notifications they want. Only they change it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from grc.base.audit import record_event
from grc.base.models import Channel, CitizenProfile, User
from grc.base.services.saving import save_validated

USER_FIELDS = ("first_name", "last_name")
# Certified by FranceConnect: the person cannot type over them (they change at the next
# FranceConnect login if the civil registry changes).
CERTIFIED_FIELDS = ("first_name", "last_name", "birth_date", "birth_place")
PROFILE_FIELDS = (
    "birth_date",
    "birth_place",
    "phones",
    *CitizenProfile.ADDRESS_FIELDS,
    *CitizenProfile.NOTIFICATION_FIELDS,
)


def profile_of(user: User) -> CitizenProfile:
    """The account's profile, created empty the first time it is needed."""
    profile, _created = CitizenProfile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def update_profile(*, actor: User, user: User, changes: dict[str, Any]) -> CitizenProfile:
    if not (actor.is_authenticated and actor.pk == user.pk):
        raise PermissionDenied(_("Seule la personne elle-même modifie son profil."))
    unknown = set(changes) - set(USER_FIELDS) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationError(_("Champs inconnus : %(names)s"), params={"names": sorted(unknown)})
    locked_user = User.objects.select_for_update().get(pk=user.pk)
    profile, _created = CitizenProfile.objects.select_for_update().get_or_create(user=user)
    if profile.identity_source == CitizenProfile.IdentitySource.FRANCECONNECT:
        changes = {k: v for k, v in changes.items() if k not in CERTIFIED_FIELDS}
    diff = {}
    for target, names in ((locked_user, USER_FIELDS), (profile, PROFILE_FIELDS)):
        for name in names:
            if name in changes and getattr(target, name) != changes[name]:
                diff[name] = [_plain(getattr(target, name)), _plain(changes[name])]
                setattr(target, name, changes[name])
    if not diff:
        return profile
    save_validated(locked_user, exclude=["password"])
    save_validated(profile)
    record_event(
        action="profile.updated",
        obj=profile,
        actor=actor,
        channel=Channel.WEB,
        collectivite_id=None,
        payload={"changes": diff},
    )
    return profile


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value
