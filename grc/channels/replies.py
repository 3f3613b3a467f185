"""By which channel an agent's reply leaves: the one the citizen last wrote by, as they expect
(REFERENCE §5: the answer goes back where the question came from)."""

from __future__ import annotations

from grc.base.models import Channel
from grc.demarches.models import Dossier, Message


def reply_channel(dossier: Dossier) -> str:
    """ "social" when the citizen's latest message came through a channel's webhook (the reply
    goes back through its connector), "email" when it came by e-mail or the dossier was opened
    by e-mail (the notification carries the text), else "web" (read on the portal, announced
    by e-mail)."""
    last_in = (
        Message.objects.filter(dossier=dossier, direction=Message.Direction.IN)
        .exclude(channel__in=[Channel.SYSTEM])
        .order_by("-created_at", "-id")
        .values(
            "channel",
            "hook_message__channel__outbound_url",
            "hook_message__channel__is_active",
        )
        .first()
    )
    if last_in is not None:
        if (
            last_in["channel"] == Channel.SOCIAL
            and last_in["hook_message__channel__outbound_url"]
            and last_in["hook_message__channel__is_active"]
        ):
            return Channel.SOCIAL
        if last_in["channel"] == Channel.EMAIL:
            return Channel.EMAIL
        if last_in["channel"] == Channel.WEB:
            return Channel.WEB
    return Channel.EMAIL if dossier.channel == Channel.EMAIL else Channel.WEB
