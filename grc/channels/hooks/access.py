"""Who sees which channels' webhooks: the administrators of their collectivité (and the
platform's)."""

from __future__ import annotations

from django.db.models import QuerySet

from grc.base import access
from grc.channels.models import HookChannel, HookDelivery, HookMessage


def hook_channels_visible_to(user) -> QuerySet[HookChannel]:
    return HookChannel.objects.filter(collectivite__in=access.administered_collectivites(user))


def hook_messages_visible_to(user) -> QuerySet[HookMessage]:
    return HookMessage.objects.filter(
        channel__collectivite__in=access.administered_collectivites(user)
    )


def hook_deliveries_visible_to(user) -> QuerySet[HookDelivery]:
    return HookDelivery.objects.filter(
        channel__collectivite__in=access.administered_collectivites(user)
    )
