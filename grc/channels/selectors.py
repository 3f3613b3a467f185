"""Reads of the channels that other pages show (the dossier page, the citizen record)."""

from __future__ import annotations

from collections.abc import Iterable

from grc.channels.models import BouncedAddress


def bounced_addresses(collectivite_id: int, emails: Iterable[str]) -> list[BouncedAddress]:
    """The addresses among `emails` that our e-mails do not reach (one query): agents must
    know before they count on an e-mail reaching the citizen."""
    wanted = sorted({e.strip().lower() for e in emails if e and e.strip()})
    if not wanted:
        return []
    return list(
        BouncedAddress.objects.filter(
            collectivite_id=collectivite_id,
            email__in=wanted,
            cleared_at__isnull=True,
            permanent=True,
        ).order_by("email")
    )
