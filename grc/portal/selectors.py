"""Reads of the citizen portal: a citizen's dossiers and drafts as they see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import QuerySet

from grc.base.models import Collectivite
from grc.demarches import access
from grc.demarches.models import Dossier
from grc.demarches.workflow import definition as wf


@dataclass(frozen=True)
class DossierRow:
    dossier: Dossier
    status_label: str
    status_colour: str
    closed: bool
    expected_decision_date: date | None
    waiting_for_me: bool
    last_change: datetime | None


def citizen_dossiers(user, *, collectivite: Collectivite | None = None) -> QuerySet[Dossier]:
    dossiers = access.dossiers_of_citizen(user)
    if collectivite is not None:
        dossiers = dossiers.filter(collectivite=collectivite)
    return dossiers.select_related("demarche", "version", "collectivite").order_by(
        "-submitted_at", "-pk"
    )


def dossier_rows(dossiers: QuerySet[Dossier]) -> list[DossierRow]:
    """One row per dossier, its status named as the citizen sees it; a fixed number of
    queries whatever the number of rows."""
    waiting = set(
        dossiers.filter(piece_requests__status="open").values_list("pk", flat=True).distinct()
    )
    rows = []
    for dossier in dossiers:
        status = wf.status(dossier.version.workflow, dossier.status) or {}
        closed = bool(status.get("terminal") or dossier.closed_at)
        rows.append(
            DossierRow(
                dossier=dossier,
                status_label=status.get("citizen_label") or status.get("label") or dossier.status,
                status_colour=status.get("colour") or "#3a3a3a",
                closed=closed,
                expected_decision_date=None if closed else dossier.expected_decision_date,
                waiting_for_me=dossier.pk in waiting,
                last_change=dossier.status_entered_at or dossier.submitted_at,
            )
        )
    return rows


def prefill_for(user) -> dict:
    """What forms are prefilled with for a logged-in citizen: their profile first, else what
    their latest citizen record knows (a counter or phone intake may have filled it)."""
    if not user.is_authenticated:
        return {}
    from grc.base.models import CitizenProfile

    prefill = {"first_name": user.first_name, "last_name": user.last_name, "email": user.email}
    sources = [
        CitizenProfile.objects.filter(user=user).first(),
        user.usagers.order_by("-updated_at").first(),
    ]
    for source in filter(None, sources):
        if source.phones and "phone" not in prefill:
            prefill["phone"] = source.phones[0]
        if source.birth_date and "birth_date" not in prefill:
            prefill["birth_date"] = source.birth_date.isoformat()
        if not source.address.is_empty() and "address" not in prefill:
            prefill["address"] = {k: getattr(source, k) for k in source.ADDRESS_FIELDS}
    return {k: v for k, v in prefill.items() if v}
