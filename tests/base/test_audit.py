import pytest
from django.db import DatabaseError, connection, transaction

from grc.base.audit import record_event
from grc.base.models import Channel, Event
from tests.factories import CollectiviteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    collectivite = CollectiviteFactory()
    with transaction.atomic():
        return record_event(
            action="test.done",
            obj=collectivite,
            actor=None,
            channel=Channel.SYSTEM,
            collectivite_id=collectivite.pk,
            payload={"changes": {"name": ["avant", "après"]}},
        )


def test_an_event_keeps_what_happened(event):
    stored = Event.objects.get(pk=event.pk)
    assert stored.object_type == "base.collectivite"
    assert stored.payload == {"changes": {"name": ["avant", "après"]}}
    assert stored.created_at is not None


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE base_event SET action = 'forged' WHERE id = %s",
        "DELETE FROM base_event WHERE id = %s",
    ],
)
def test_the_database_refuses_update_and_delete(event, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        connection.cursor().execute(sql, [event.pk])
    assert Event.objects.get(pk=event.pk).action == "test.done"


def test_the_orm_cannot_change_or_delete_events_either(event):
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(payload={})
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(pk=event.pk).delete()
    assert Event.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_events_are_written_inside_the_transaction_of_the_change():
    # transaction=True: outside pytest-django's wrapping transaction, as in production.
    collectivite = CollectiviteFactory()
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record_event(
            action="x", obj=collectivite, actor=None, channel=Channel.SYSTEM, collectivite_id=None
        )
