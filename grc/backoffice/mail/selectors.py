"""Who sees which e-mails received (quarantine, bounces) in the agents' workspace.

The rule, kept simple:
- a collectivité admin sees every e-mail received by any mailbox of their collectivité;
- an agent or a manager sees the e-mails of their service's mailboxes and of the collectivité's
  shared mailboxes (no service), in the collectivités where they work;
- platform admins see none (the e-mails are the collectivités' data, like dossiers);
- a message can be taken out of quarantine by a collectivité admin, or by a manager who sees
  it (its mailbox is their service's or the shared one).
Addresses in failure (bounces) are seen by every member of staff of the collectivité: they
tell the agent that writing to that citizen by e-mail is useless.

`access_inbound_email` answers 404 for "does not exist" and "not yours" alike."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from grc.base import access as base_access
from grc.base.access import NotFound
from grc.base.models import Membership, Role
from grc.channels.models import BouncedAddress, InboundEmail

FILTERS = ("quarantaine", "tous", "non-remises")


def _memberships(user) -> QuerySet[Membership]:
    if not (user and user.is_authenticated and user.is_active):
        return Membership.objects.none()
    return Membership.objects.filter(user=user, collectivite__is_active=True)


def _scope(user, roles_for_services: tuple[str, ...]) -> Q | None:
    memberships = _memberships(user)
    administered = list(
        memberships.filter(role=Role.ADMIN).values_list("collectivite_id", flat=True)
    )
    staff = memberships.filter(role__in=roles_for_services)
    services = list(staff.filter(service__isnull=False).values_list("service_id", flat=True))
    shared = list(staff.values_list("collectivite_id", flat=True))
    if not (administered or services or shared):
        return None
    return (
        Q(collectivite_id__in=administered)
        | Q(mailbox__service_id__in=services)
        | Q(mailbox__service__isnull=True, collectivite_id__in=shared)
    )


def inbound_emails_visible_to(user) -> QuerySet[InboundEmail]:
    scope = _scope(user, (Role.AGENT, Role.MANAGER))
    if scope is None:
        return InboundEmail.objects.none()
    return InboundEmail.objects.filter(scope)


def access_inbound_email(user, pk) -> InboundEmail:
    try:
        return (
            inbound_emails_visible_to(user)
            .select_related("collectivite", "mailbox", "mailbox__service", "dossier")
            .get(pk=pk)
        )
    except (InboundEmail.DoesNotExist, ValueError, TypeError):
        raise NotFound from None


def can_release(user, inbound_email: InboundEmail) -> bool:
    """A collectivité admin, or a manager who sees the message."""
    scope = _scope(user, (Role.MANAGER,))
    return scope is not None and InboundEmail.objects.filter(scope, pk=inbound_email.pk).exists()


def may_see_mail(user) -> bool:
    return _scope(user, (Role.AGENT, Role.MANAGER)) is not None


def listed(user, filtre: str) -> QuerySet[InboundEmail]:
    rows = inbound_emails_visible_to(user).select_related("collectivite", "mailbox", "dossier")
    if filtre == "quarantaine":
        rows = rows.filter(outcome=InboundEmail.Outcome.QUARANTINED)
    elif filtre == "non-remises":
        rows = rows.filter(outcome=InboundEmail.Outcome.BOUNCE)
    return rows.order_by("-received_at", "-pk")


def bounces_visible_to(user) -> QuerySet[BouncedAddress]:
    if base_access.is_platform_admin(user) and not _memberships(user).exists():
        return BouncedAddress.objects.none()
    ids = _memberships(user).values("collectivite_id")
    return BouncedAddress.objects.filter(collectivite_id__in=ids)
