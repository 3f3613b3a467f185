"""Writing the audit trail. Services call `record_event` inside the transaction of their change,
so the change and its trace are committed together or not at all."""

from __future__ import annotations

from typing import Any

from django.db import connection, models
from django.db.models.fields.files import FieldFile

from grc.base.models import Event, User


def record_event(
    *,
    action: str,
    obj: models.Model,
    actor: User | None,
    channel: str,
    collectivite_id: int | None,
    payload: dict[str, Any] | None = None,
) -> Event:
    if not connection.in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction of the change")
    return Event.objects.create(
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        actor=actor if actor is not None and actor.is_authenticated else None,
        channel=channel,
        collectivite_id=collectivite_id,
        payload=payload or {},
    )


def plain(value: Any) -> Any:
    """A value as an event payload keeps it: model instances as ids, files as names."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def snapshot(data: dict[str, Any]) -> dict[str, Any]:
    """Plain values of `data` for an event's payload (model instances as ids, files as names)."""
    return {name: plain(value) for name, value in data.items()}


def apply_changes(instance: models.Model, changes: dict[str, Any]) -> dict[str, list[Any]]:
    """Set `changes` on `instance`; return {field: [before, after]} for what really changed."""
    diff: dict[str, list[Any]] = {}
    for name, new in changes.items():
        old = getattr(instance, name)
        if plain(old) == plain(new):
            continue
        setattr(instance, name, new)
        diff[name] = [plain(old), plain(new)]
    return diff
