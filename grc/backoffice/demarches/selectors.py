"""Reads for the démarches pages of the backoffice. Who may reach what is decided in
grc.base.access and grc.demarches.access; these only narrow and shape the querysets."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from grc.base import access as base_access
from grc.base.access import NotFound
from grc.base.models import Collectivite, Service
from grc.demarches import access
from grc.demarches.definition import empty_definition
from grc.demarches.models import Demarche, DemarcheVersion


def require_demarche_admin(user) -> None:
    """The démarches pages are for collectivité admins and platform admins; anyone else gets
    the same answer as for a page that does not exist."""
    if not base_access.can_use_admin(user):
        raise NotFound


def demarches_for_list(user) -> QuerySet[Demarche]:
    return (
        access.demarches_administered_by(user)
        .select_related("collectivite", "service")
        .prefetch_related("versions")
        .order_by("collectivite__name", "category", "title")
    )


def version_numbers(demarche: Demarche) -> dict[str, int | None]:
    """The version online and the one being edited (from prefetched versions)."""
    numbers: dict[str, int | None] = {"published": None, "draft": None}
    for version in demarche.versions.all():
        if version.status == DemarcheVersion.Status.PUBLISHED:
            numbers["published"] = version.number
        elif version.status == DemarcheVersion.Status.DRAFT:
            numbers["draft"] = version.number
    return numbers


def editing_definition(demarche: Demarche) -> tuple[dict[str, Any], DemarcheVersion | None]:
    """What the form builder opens: the draft, or else a copy of the latest version (the draft
    itself is created by the first save, never by looking)."""
    draft = demarche.versions.filter(status=DemarcheVersion.Status.DRAFT).first()
    if draft is not None:
        return draft.definition, draft
    latest = demarche.versions.order_by("-number").first()
    return (latest.definition if latest else empty_definition()), None


def administered_collectivites(user) -> QuerySet[Collectivite]:
    return base_access.administered_collectivites(user).filter(is_active=True).order_by("name")


def administered_services(user, collectivite: Collectivite | None = None) -> QuerySet[Service]:
    services = Service.objects.filter(
        collectivite__in=administered_collectivites(user), is_active=True
    ).select_related("collectivite")
    if collectivite is not None:
        services = services.filter(collectivite=collectivite)
    return services.order_by("collectivite__name", "name")


def catalogue_models() -> QuerySet[Demarche]:
    """The models of the platform catalogue that collectivités may adopt."""
    return Demarche.objects.filter(collectivite=None, state=Demarche.State.PUBLISHED).order_by(
        "category", "title"
    )


def access_catalogue_model(user, model_id) -> Demarche:
    require_demarche_admin(user)
    try:
        return catalogue_models().get(pk=model_id)
    except (Demarche.DoesNotExist, ValueError, TypeError):
        raise NotFound from None


def adopted_model_ids(user) -> set[int]:
    return set(
        access.demarches_administered_by(user)
        .filter(source__isnull=False, collectivite__isnull=False)
        .values_list("source_id", flat=True)
    )
