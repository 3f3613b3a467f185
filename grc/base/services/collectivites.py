"""Collectivités, their host names and their services."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from grc.base import access
from grc.base.audit import apply_changes, record_event, snapshot
from grc.base.models import Channel, Collectivite, CollectiviteHost, Service, User
from grc.base.services.errors import deny
from grc.base.services.saving import save_validated

_HOST = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


# The identity of a tenant is the agency's business, not the collectivité admin's.
PLATFORM_ONLY_FIELDS = frozenset({"slug", "siren", "is_active", "reference_prefix"})


def normalize_hosts(raw: Iterable[str]) -> list[str]:
    hosts: list[str] = []
    errors: list[ValidationError] = []
    for item in raw:
        host = item.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/.")
        if not host:
            continue
        if not _HOST.match(host):
            errors.append(
                ValidationError(
                    _("« %(host)s » n'est pas un nom d'hôte valide (ex. demarches.ville.fr)."),
                    params={"host": item.strip()},
                )
            )
        elif host not in hosts:
            hosts.append(host)
    if errors:
        raise ValidationError(errors)
    return hosts


def check_hosts_free(hosts: list[str], *, collectivite_id: int | None) -> None:
    taken = (
        CollectiviteHost.objects.filter(host__in=hosts)
        .exclude(collectivite_id=collectivite_id)
        .select_related("collectivite")
    )
    errors = [
        ValidationError(
            _("Le nom d'hôte « %(host)s » est déjà utilisé par %(name)s."),
            params={"host": row.host, "name": row.collectivite.name},
        )
        for row in taken
    ]
    if errors:
        raise ValidationError(errors)


def _set_hosts(collectivite: Collectivite, hosts: list[str]) -> dict[str, list[list[str]]]:
    current = sorted(collectivite.hosts.values_list("host", flat=True))
    wanted = sorted(hosts)
    if current == wanted:
        return {}
    check_hosts_free(wanted, collectivite_id=collectivite.pk)
    collectivite.hosts.exclude(host__in=wanted).delete()
    try:
        with transaction.atomic():
            CollectiviteHost.objects.bulk_create(
                [
                    CollectiviteHost(collectivite=collectivite, host=h)
                    for h in wanted
                    if h not in current
                ]
            )
    except IntegrityError as error:  # a concurrent save took the name between check and insert
        raise ValidationError(
            {"hosts": _("Un de ces noms d'hôte vient d'être pris par une autre collectivité.")}
        ) from error
    return {"hosts": [current, wanted]}


@transaction.atomic
def create_collectivite(
    *, actor: User, data: dict[str, Any], hosts: Iterable[str] = (), channel: str = Channel.ADMIN
) -> Collectivite:
    if not access.can_create_collectivite(actor):
        raise deny()
    hosts = normalize_hosts(hosts)
    collectivite = Collectivite(**data)
    if not collectivite.reference_prefix and collectivite.slug:
        collectivite.reference_prefix = collectivite.slug.upper()[:20].strip("-")
    save_validated(collectivite)
    _set_hosts(collectivite, hosts)
    record_event(
        action="collectivite.created",
        obj=collectivite,
        actor=actor,
        channel=channel,
        collectivite_id=collectivite.pk,
        payload={"data": snapshot(data), "hosts": hosts},
    )
    return collectivite


@transaction.atomic
def update_collectivite(
    *,
    actor: User,
    collectivite: Collectivite,
    changes: dict[str, Any],
    hosts: Iterable[str] | None = None,
    channel: str = Channel.ADMIN,
) -> Collectivite:
    locked = (
        access.administered_collectivites(actor)
        .select_for_update()
        .filter(pk=collectivite.pk)
        .first()
    )
    if locked is None:
        raise access.NotFound
    diff = apply_changes(locked, changes)
    reserved = PLATFORM_ONLY_FIELDS & diff.keys()
    if reserved and not access.is_platform_admin(actor):
        raise deny(
            _("Seule l'agence peut modifier : %(fields)s.")
            % {
                "fields": ", ".join(
                    str(Collectivite._meta.get_field(f).verbose_name) for f in sorted(reserved)
                )
            }
        )
    save_validated(locked)
    if hosts is not None:
        diff.update(_set_hosts(locked, normalize_hosts(hosts)))
    if diff:
        record_event(
            action="collectivite.updated",
            obj=locked,
            actor=actor,
            channel=channel,
            collectivite_id=locked.pk,
            payload={"changes": diff},
        )
    return locked


@transaction.atomic
def create_service(
    *,
    actor: User,
    collectivite: Collectivite,
    data: dict[str, Any],
    channel: str = Channel.ADMIN,
) -> Service:
    if not access.can_administer(actor, collectivite.pk):
        raise deny()
    service = Service(collectivite=collectivite, **data)
    save_validated(service)
    record_event(
        action="service.created",
        obj=service,
        actor=actor,
        channel=channel,
        collectivite_id=collectivite.pk,
        payload={"data": snapshot(data)},
    )
    return service


@transaction.atomic
def update_service(
    *, actor: User, service: Service, changes: dict[str, Any], channel: str = Channel.ADMIN
) -> Service:
    locked = Service.objects.select_for_update().get(pk=service.pk)
    if not access.can_administer(actor, locked.collectivite_id):
        raise access.NotFound
    if "collectivite" in changes and changes["collectivite"].pk != locked.collectivite_id:
        raise ValidationError({"collectivite": _("Un service ne change pas de collectivité.")})
    diff = apply_changes(locked, changes)
    if not diff:
        return locked
    save_validated(locked)
    record_event(
        action="service.updated",
        obj=locked,
        actor=actor,
        channel=channel,
        collectivite_id=locked.collectivite_id,
        payload={"changes": diff},
    )
    return locked
