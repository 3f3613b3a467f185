"""Accounts from FranceConnect identities: the first login creates the account (its address
confirmed: FranceConnect vouches for it) and fills the profile from the identity pivot; later
logins refresh it. An existing account with the same address is never taken over silently:
its owner logs in with their password once, then links (`link_identity`)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grc.base.audit import apply_changes, record_event
from grc.base.models import Channel, CitizenProfile, User
from grc.base.services.accounts import confirm_email_address, create_user
from grc.base.services.profiles import profile_of
from grc.base.services.saving import save_validated
from grc.base.validators import normalize_email
from grc.portal.models import FranceConnectIdentity

# What we keep of the signed userinfo: the identity pivot and the contact address.
PIVOT_CLAIMS = (
    "given_name",
    "family_name",
    "preferred_username",
    "birthdate",
    "gender",
    "birthplace",
    "birthcountry",
    "email",
)
FRANCE = "99100"  # INSEE code of France as a country of birth


@dataclass(frozen=True)
class Outcome:
    """`user` to log in, or `existing_email`: an account already uses the address, and its
    owner must prove it with their password before the identity is linked."""

    user: User | None = None
    created: bool = False
    existing_email: str = ""


def pivot_from(claims: dict[str, Any]) -> dict[str, str]:
    return {name: str(claims.get(name) or "") for name in PIVOT_CLAIMS}


def _identity_fields(pivot: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(account changes, profile changes) that the pivot certifies."""
    try:
        birth_date = datetime.date.fromisoformat(pivot["birthdate"])
    except ValueError:
        birth_date = None  # FranceConnect may know only part of an old birth date
    # FranceConnect gives INSEE codes: the commune when born in France, else the country.
    if pivot["birthcountry"] in ("", FRANCE):
        birth_place = pivot["birthplace"]
    else:
        birth_place = pivot["birthcountry"]
    account = {
        "first_name": pivot["given_name"][:150],
        # The usage name (nom d'usage) when there is one, else the birth name.
        "last_name": (pivot["preferred_username"] or pivot["family_name"])[:150],
    }
    profile = {
        "birth_date": birth_date,
        "birth_place": birth_place[:150],
        "identity_source": CitizenProfile.IdentitySource.FRANCECONNECT,
    }
    return account, profile


def _certify(*, user: User, pivot: dict[str, str]) -> dict[str, list[Any]]:
    """Write the certified identity on the account and its profile; return what changed."""
    account_changes, profile_changes = _identity_fields(pivot)
    locked = User.objects.select_for_update().get(pk=user.pk)
    diff = apply_changes(locked, account_changes)
    if diff:
        save_validated(locked, exclude=["password"])
        user.first_name, user.last_name = locked.first_name, locked.last_name
    profile_of(locked)
    profile = CitizenProfile.objects.select_for_update().get(user=locked)
    profile_diff = apply_changes(profile, profile_changes)
    if profile_diff:
        save_validated(profile)
    return {**diff, **profile_diff}


def _email_taken(email: str) -> bool:
    from allauth.account.models import EmailAddress

    return (
        User.objects.filter(email__iexact=email).exists()
        or EmailAddress.objects.filter(email__iexact=email).exists()
    )


@transaction.atomic
def login_with_franceconnect(*, sub: str, claims: dict[str, Any]) -> Outcome:
    """The account of a FranceConnect identity (whose `claims` come from the verified,
    signed userinfo), created on first login. No write when the address is already taken."""
    pivot = pivot_from(claims)
    identity = (
        FranceConnectIdentity.objects.select_for_update()
        .select_related("user")
        .filter(sub=sub)
        .first()
    )
    if identity is not None:
        user = identity.user
        changes = _certify(user=user, pivot=pivot)
        identity.pivot, identity.last_login = pivot, timezone.now()
        identity.save(update_fields=["pivot", "last_login"])
        record_event(
            action="franceconnect.login",
            obj=identity,
            actor=user,
            channel=Channel.WEB,
            collectivite_id=None,
            payload={"user": user.pk, "changes": changes} if changes else {"user": user.pk},
        )
        return Outcome(user=user)
    try:
        email = normalize_email(pivot["email"])
    except ValidationError:
        raise ValidationError(
            _(
                "FranceConnect n'a pas transmis d'adresse e-mail valide : créez plutôt un "
                "compte avec votre adresse e-mail."
            )
        ) from None
    if _email_taken(email):
        return Outcome(existing_email=email)
    account, _profile = _identity_fields(pivot)
    user = create_user(actor=None, email=email, password=None, channel=Channel.WEB, **account)
    # FranceConnect vouches for the address: no confirmation e-mail.
    confirm_email_address(user=user)
    _link(user=user, sub=sub, pivot=pivot, action="franceconnect.account_created")
    return Outcome(user=user, created=True)


def _link(*, user: User, sub: str, pivot: dict[str, str], action: str) -> FranceConnectIdentity:
    identity = FranceConnectIdentity(user=user, sub=sub, pivot=pivot, last_login=timezone.now())
    save_validated(identity)
    changes = _certify(user=user, pivot=pivot)
    record_event(
        action=action,
        obj=identity,
        actor=user,
        channel=Channel.WEB,
        collectivite_id=None,
        payload={"user": user.pk, "changes": changes},
    )
    return identity


@transaction.atomic
def link_identity(*, actor: User, sub: str, claims: dict[str, Any]) -> FranceConnectIdentity:
    """Link a FranceConnect identity to the account of `actor`, who has just proved it is
    theirs (logged in with their password, then confirmed). The profile becomes certified."""
    if not actor.is_authenticated:
        raise ValidationError(_("Connectez-vous d'abord à votre compte."))
    existing = FranceConnectIdentity.objects.select_for_update().filter(sub=sub).first()
    if existing is not None:
        if existing.user_id != actor.pk:
            raise ValidationError(
                _("Cette identité FranceConnect est déjà reliée à un autre compte.")
            )
        return existing
    return _link(user=actor, sub=sub, pivot=pivot_from(claims), action="franceconnect.linked")
