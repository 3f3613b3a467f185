"""Agents' replies sent to the channel the citizen wrote through (grc.channels.hooks.services
.queue_reply and the worker's job), received by a real HTTP server on this machine that checks
the signature as a connector would."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import socketserver
import threading
import time

import pytest
from django.db import connection, transaction

from grc.base.models import Event
from grc.channels.hooks import services
from grc.channels.models import HookChannel, HookDelivery, HookMessage
from grc.demarches.models import Message, Notification
from grc.demarches.services import messages as message_services
from tests.channels.hooks_helpers import SECRET, message, post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver(settings):
    """A connector: records what it gets, checks the signature, answers as told."""
    settings.GRC_WEBHOOK_ALLOW_PRIVATE = True
    received = {"calls": [], "answers": []}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            timestamp = self.headers["X-GRC-Timestamp"]
            mac = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
            signed = hmac.compare_digest(
                self.headers["X-GRC-Signature"], f"sha256={mac.hexdigest()}"
            )
            fresh = abs(time.time() - int(timestamp)) <= 300
            received["calls"].append({"body": json.loads(body), "valid": signed and fresh})
            status = received["answers"].pop(0) if received["answers"] else 200
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    received["url"] = f"http://127.0.0.1:{server.server_address[1]}/grc/replies"
    yield received
    server.shutdown()
    server.server_close()


@pytest.fixture
def hook(tenant_a, media, receiver):
    return HookChannel.objects.create(
        collectivite=tenant_a.collectivite,
        name="Facebook",
        slug="facebook",
        secret=SECRET,
        outbound_url=receiver["url"],
    )


@pytest.fixture
def dossier(client, hook):
    post(client, hook, message())
    return HookMessage.objects.get().dossier


def reply(dossier, agent, body="Bonjour, nous passons demain.") -> tuple[Message, HookDelivery]:
    with transaction.atomic():
        sent = message_services.post_service_message(dossier=dossier, actor=agent, body=body)
        delivery = services.queue_reply(sent)
    return sent, delivery


def run_retries_now():
    """The retry's backoff is waited out: its job is made due."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo' "
            "AND task_name = 'channels.deliver_hook_reply'"
        )


def test_a_reply_is_signed_retried_after_a_500_and_sent_once(dossier, tenant_a, receiver, run_jobs):
    sent, delivery = reply(dossier, tenant_a.agent)
    assert delivery.status == "pending" and delivery.channel.slug == "facebook"
    receiver["answers"] = [500]
    run_jobs(["hooks"])
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 500")
    run_retries_now()
    run_jobs(["hooks"])
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.attempts == 2 and delivery.sent_at
    assert len(receiver["calls"]) == 2
    assert all(call["valid"] for call in receiver["calls"])
    first, second = (call["body"] for call in receiver["calls"])
    assert first["id"] == second["id"] == f"grc-{sent.pk}"  # deduplicable by the connector
    assert second == {
        "id": f"grc-{sent.pk}",
        "thread": "t-1",
        "reference": dossier.reference,
        "text": "Bonjour, nous passons demain.",
        "attachments": [],
        "in_reply_to": "m-1",
        "sent_at": sent.created_at.isoformat(),
    }
    run_jobs(["hooks"])  # nothing left
    assert len(receiver["calls"]) == 2


def test_a_refusal_fails_at_once_with_a_note_on_the_dossier(dossier, tenant_a, receiver, run_jobs):
    sent, delivery = reply(dossier, tenant_a.agent)
    assert not Notification.objects.filter(message=sent).exists()  # the connector answers
    receiver["answers"] = [400]
    run_jobs(["hooks"])
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 1 and "400" in delivery.last_error
    # The connector did not take it: the citizen is told by e-mail instead.
    assert Notification.objects.get(message=sent).recipient == "jeanne.martin@exemple.fr"
    note = dossier.messages.filter(direction=Message.Direction.NOTE).last()
    assert "n'a pas pu être transmise" in note.body and "Facebook" in note.body
    assert note.channel == "system"
    assert Event.objects.filter(action="hook_delivery.failed", object_id=str(delivery.pk))
    run_retries_now()
    run_jobs(["hooks"])
    assert len(receiver["calls"]) == 1


@pytest.mark.parametrize("status", [408, 429, 503])
def test_timeouts_and_throttling_are_retried(dossier, tenant_a, receiver, status):
    _sent, delivery = reply(dossier, tenant_a.agent)
    receiver["answers"] = [status]
    with pytest.raises(services.DeliveryRetry):
        services.deliver_reply(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.last_error == f"HTTP {status}"


def test_the_last_failure_fails_with_a_note(dossier, tenant_a, receiver):
    _sent, delivery = reply(dossier, tenant_a.agent)
    HookDelivery.objects.filter(pk=delivery.pk).update(attempts=services.MAX_ATTEMPTS - 1)
    receiver["answers"] = [503]
    services.deliver_reply(delivery.pk)  # no retry left: not raised
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == services.MAX_ATTEMPTS
    assert dossier.messages.filter(direction="note", body__contains="HTTP 503").exists()


def test_a_connector_that_is_down_is_retried(dossier, tenant_a, receiver):
    _sent, delivery = reply(dossier, tenant_a.agent)
    HookChannel.objects.filter(pk=delivery.channel_id).update(
        outbound_url="http://127.0.0.1:9/nobody-listens"
    )
    with pytest.raises(services.DeliveryRetry):
        services.deliver_reply(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "pending" and "refused" in delivery.last_error.lower()


def test_an_address_on_the_platforms_own_network_is_refused(dossier, tenant_a, receiver, settings):
    settings.GRC_WEBHOOK_ALLOW_PRIVATE = False
    _sent, delivery = reply(dossier, tenant_a.agent)
    services.deliver_reply(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and "réseau interne" in delivery.last_error
    assert receiver["calls"] == []


def test_no_delivery_when_the_citizen_did_not_write_through_a_channel(
    dossier, tenant_a, hook, receiver
):
    note = Message.objects.create(dossier=dossier, direction="note", body="Interne")
    assert services.queue_reply(note) is None  # only replies to the citizen go out
    HookChannel.objects.filter(pk=hook.pk).update(outbound_url="")
    _sent, delivery = reply(dossier, tenant_a.agent)
    assert delivery is None
    HookChannel.objects.filter(pk=hook.pk).update(outbound_url=receiver["url"], is_active=False)
    assert reply(dossier, tenant_a.agent)[1] is None
    assert not HookDelivery.objects.exists()


def test_queueing_twice_makes_one_delivery(dossier, tenant_a):
    sent, delivery = reply(dossier, tenant_a.agent)
    with transaction.atomic():
        assert services.queue_reply(sent) == delivery
    assert HookDelivery.objects.count() == 1


def test_a_reply_names_its_files(dossier, tenant_a, receiver):
    from tests.demarches.helpers import pdf_file

    with transaction.atomic():
        sent = message_services.post_service_message(
            dossier=dossier, actor=tenant_a.agent, body="Voici", uploads=[pdf_file("devis.pdf")]
        )
        delivery = services.queue_reply(sent)
    services.deliver_reply(delivery.pk)
    assert receiver["calls"][-1]["body"]["attachments"] == [{"filename": "devis.pdf"}]
    assert receiver["calls"][-1]["valid"]
