"""Accounts and staff roles."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from grc.base import access
from grc.base.audit import apply_changes, record_event, snapshot
from grc.base.models import Channel, Collectivite, Membership, Role, Service, User
from grc.base.services.errors import deny
from grc.base.services.saving import save_validated
from grc.base.validators import normalize_email


def _normalize_account_email(value: str) -> str:
    try:
        return normalize_email(value)
    except ValidationError as error:
        raise ValidationError({"email": error.messages}) from None


@transaction.atomic
def create_user(
    *,
    actor: User | None,
    email: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    is_platform_admin: bool = False,
    channel: str = Channel.ADMIN,
) -> User:
    """Create an account. `actor=None` is the platform itself (sign-up, demo data)."""
    if actor is not None and not access.can_create_account(actor):
        raise deny()
    if is_platform_admin and not (actor is None or access.is_platform_admin(actor)):
        raise deny(_("Seule l'agence peut créer un administrateur de la plateforme."))
    user = User(
        email=_normalize_account_email(email),
        first_name=first_name,
        last_name=last_name,
        is_platform_admin=is_platform_admin,
    )
    if password:
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from None
        user.set_password(password)
    else:
        user.set_unusable_password()
    save_validated(user)
    # Created by an administrator or the platform's own set-up, who vouch for the address: no
    # confirmation e-mail before the first login. Citizens' sign-ups go through allauth, which
    # asks for the confirmation (grc.portal.accounts.adapter).
    confirm_email_address(user=user)
    record_event(
        action="user.created",
        obj=user,
        actor=actor,
        channel=channel,
        collectivite_id=None,
        payload={"email": user.email, "is_platform_admin": is_platform_admin},
    )
    return user


@transaction.atomic
def update_user(
    *, actor: User, user: User, changes: dict[str, Any], channel: str = Channel.ADMIN
) -> User:
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not access.can_change_account(actor, locked):
        raise access.NotFound
    if "email" in changes:
        changes = {**changes, "email": _normalize_account_email(changes["email"])}
    promoting = bool(changes.get("is_platform_admin", locked.is_platform_admin))
    if promoting != locked.is_platform_admin and not access.is_platform_admin(actor):
        raise deny(_("Seule l'agence peut nommer un administrateur de la plateforme."))
    if locked.pk == actor.pk and changes.get("is_active") is False:
        raise ValidationError(
            {"is_active": _("Vous ne pouvez pas désactiver votre propre compte.")}
        )
    diff = apply_changes(locked, changes)
    if not diff:
        return locked
    save_validated(locked, exclude=["password"])
    record_event(
        action="user.updated",
        obj=locked,
        actor=actor,
        channel=channel,
        collectivite_id=None,
        payload={"changes": diff},
    )
    return locked


@transaction.atomic
def set_password(*, actor: User, user: User, password: str, channel: str = Channel.ADMIN) -> None:
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not access.can_change_account(actor, locked):
        raise access.NotFound
    try:
        validate_password(password, locked)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    locked.set_password(password)
    locked.save(update_fields=["password"])
    # The event says that the password changed, never what it is.
    record_event(
        action="user.password_changed",
        obj=locked,
        actor=actor,
        channel=channel,
        collectivite_id=None,
    )


def _check_grant(actor: User, collectivite: Collectivite) -> None:
    if not access.can_grant(actor, collectivite_id=collectivite.pk):
        raise access.NotFound


def _check_own_admin_role(
    actor: User, membership: Membership, changes: dict[str, Any] | None = None
) -> None:
    """A collectivité admin never revokes (`changes=None`), demotes or moves their own admin
    role: they would lock themselves out. The agency may."""
    if (
        membership.user_id != actor.pk
        or membership.role != Role.ADMIN
        or access.is_platform_admin(actor)
    ):
        return
    if changes is None:
        raise ValidationError(_("Vous ne pouvez pas retirer votre propre rôle d'administrateur."))
    new_collectivite = changes.get("collectivite", membership.collectivite)
    if (
        changes.get("role", membership.role) != membership.role
        or getattr(new_collectivite, "pk", None) != membership.collectivite_id
    ):
        raise ValidationError(_("Vous ne pouvez pas modifier votre propre rôle d'administrateur."))


@transaction.atomic
def grant_role(
    *,
    actor: User | None,
    user: User,
    collectivite: Collectivite,
    role: str,
    service: Service | None = None,
    channel: str = Channel.ADMIN,
) -> Membership:
    """Give `user` a staff role. `actor=None` is the platform itself (demo data)."""
    if actor is not None:
        _check_grant(actor, collectivite)
    membership = Membership(user=user, collectivite=collectivite, role=role, service=service)
    save_validated(membership)
    record_event(
        action="membership.granted",
        obj=membership,
        actor=actor,
        channel=channel,
        collectivite_id=collectivite.pk,
        payload={"user": user.email, "role": role, "service": service.pk if service else None},
    )
    return membership


@transaction.atomic
def update_role(
    *, actor: User, membership: Membership, changes: dict[str, Any], channel: str = Channel.ADMIN
) -> Membership:
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    _check_grant(actor, locked.collectivite)
    if "collectivite" in changes:
        _check_grant(actor, changes["collectivite"])
    _check_own_admin_role(actor, locked, changes)
    diff = apply_changes(locked, changes)
    if not diff:
        return locked
    save_validated(locked)
    record_event(
        action="membership.updated",
        obj=locked,
        actor=actor,
        channel=channel,
        collectivite_id=locked.collectivite_id,
        payload={"user": locked.user.email, "changes": diff},
    )
    return locked


@transaction.atomic
def revoke_role(*, actor: User, membership: Membership, channel: str = Channel.ADMIN) -> None:
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    _check_grant(actor, locked.collectivite)
    _check_own_admin_role(actor, locked)
    record_event(
        action="membership.revoked",
        obj=locked,
        actor=actor,
        channel=channel,
        collectivite_id=locked.collectivite_id,
        payload=snapshot(
            {"user": locked.user.email, "role": locked.role, "service": locked.service_id}
        ),
    )
    locked.delete()


def confirm_email_address(*, user: User) -> None:
    """Mark the account's address as confirmed (allauth's record of it)."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user=user).exclude(email__iexact=user.email).update(primary=False)
    EmailAddress.objects.update_or_create(
        user=user,
        email=user.email,
        defaults={"verified": True, "primary": True},
    )
