"""Messages from other channels through their connectors' signed webhooks (grc.channels.api.hooks
and grc.channels.hooks.services), through the Django test client."""

from __future__ import annotations

import base64
import datetime
import json
import threading
import time

import pytest
from django.db import connection
from django.test import Client

from grc.base.models import Event
from grc.channels.hooks import services, signing
from grc.channels.models import HookChannel, HookMessage
from grc.demarches.models import Dossier, Message
from tests.channels.hooks_helpers import SECRET, message, post, url

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def hook(tenant_a, media):
    return HookChannel.objects.create(
        collectivite=tenant_a.collectivite, name="Facebook", slug="facebook", secret=SECRET
    )


# --- signature ------------------------------------------------------------------------------


def test_a_signed_message_opens_a_dossier(hook, tenant_a):
    client = Client(enforce_csrf_checks=True)  # a connector has no CSRF cookie
    response = post(client, hook, message(sent_at="2026-01-05T09:30:00+01:00"))
    assert response.status_code == 201, response.content
    answer = response.json()
    dossier = Dossier.objects.get(reference=answer["dossier"])
    assert answer == {"status": "opened", "dossier": dossier.reference, "duplicate": False}
    assert dossier.collectivite == tenant_a.collectivite and dossier.channel == "social"
    assert dossier.demarche.slug == "courriel"
    assert dossier.received_at == datetime.datetime(2026, 1, 5, 8, 30, tzinfo=datetime.UTC)
    assert (dossier.usager.first_name, dossier.usager.last_name) == ("Jeanne", "Martin")
    assert dossier.usager.email == "jeanne.martin@exemple.fr"
    assert "Facebook" in dossier.answers["objet"] and "Jeanne Martin" in dossier.answers["objet"]
    first = dossier.messages.get(direction=Message.Direction.IN)
    assert first.channel == "social" and "lampadaire" in first.body
    row = HookMessage.objects.get()
    assert (row.outcome, row.dossier, row.message, row.usager) == (
        "opened",
        dossier,
        first,
        dossier.usager,
    )
    assert row.thread_id == "t-1" and row.payload["from"]["handle"] == "@jm"
    assert Event.objects.filter(action="hook_message.received", object_id=str(row.pk)).exists()


@pytest.mark.parametrize(
    "headers",
    [
        {"X-GRC-Signature": "sha256=" + "0" * 64},
        {"X-GRC-Signature": ""},
        {"X-GRC-Timestamp": ""},
        {"X-GRC-Timestamp": "hier"},
    ],
)
def test_a_bad_or_missing_signature_is_refused(client, hook, headers):
    response = post(client, hook, message(), headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"]
    assert not HookMessage.objects.exists() and not Dossier.objects.exists()


def test_another_secret_is_refused(client, hook):
    response = post(client, hook, message(), secret="un-autre-secret-quelconque")
    assert response.status_code == 401 and response.json()["detail"] == "Signature invalide."


def test_a_body_changed_after_signing_is_refused(client, hook):
    body = json.dumps(message()).encode()
    headers = signing.signed_headers(SECRET, body)
    tampered = body.replace(b"lampadaire", b"lampadaires")
    response = client.post(
        url(hook), data=tampered, content_type="application/json", headers=headers
    )
    assert response.status_code == 401


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_stale_or_future_timestamp_is_refused_as_a_replay(client, hook, offset):
    response = post(client, hook, message(), at=time.time() + offset)
    assert response.status_code == 401
    assert "rejeu" in response.json()["detail"]
    assert not HookMessage.objects.exists()


def test_unknown_or_inactive_channels_are_not_found(client, hook, tenant_b):
    other = HookChannel(collectivite=tenant_b.collectivite, slug="facebook")
    assert client.post(url(other), data=b"{}", content_type="application/json").status_code == 404
    hook.is_active = False
    hook.save()
    response = post(client, hook, message())
    assert response.status_code == 404 and response.json()["detail"]


# --- idempotence ----------------------------------------------------------------------------


def test_the_same_message_twice_gives_the_same_answer_and_nothing_new(client, hook):
    first = post(client, hook, message()).json()
    again = post(client, hook, message(text="Texte renvoyé"))
    assert again.status_code == 200
    assert again.json() == {**first, "duplicate": True}
    assert HookMessage.objects.count() == 1 and Dossier.objects.filed().count() == 1
    assert Message.objects.filter(direction="in").count() == 1


def post_together(hook, payloads: list[dict]) -> list:
    """The payloads POSTed at the same moment from threads (each its own connection)."""
    barrier = threading.Barrier(len(payloads))
    answers: list = []

    def send(payload):
        try:
            barrier.wait()
            answers.append(post(Client(), hook, payload))
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_of_one_message_make_one_row(hook, tenant_a):
    answers = post_together(hook, [message(), message()])
    assert sorted(a.status_code for a in answers) == [200, 201]
    assert sorted(a.json()["duplicate"] for a in answers) == [False, True]
    assert len({a.json()["dossier"] for a in answers}) == 1
    assert HookMessage.objects.count() == 1 and Dossier.objects.filed().count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_messages_of_a_new_thread_open_one_dossier(hook, tenant_a):
    answers = post_together(hook, [message(id="m-1"), message(id="m-2")])
    assert sorted(a.json()["status"] for a in answers) == ["opened", "threaded"]
    assert HookMessage.objects.count() == 2 and Dossier.objects.filed().count() == 1


# --- threading ------------------------------------------------------------------------------


def test_the_same_thread_joins_its_dossier(client, hook):
    reference = post(client, hook, message()).json()["dossier"]
    response = post(client, hook, message(id="m-2", text="Toujours en panne."))
    assert response.status_code == 200
    assert response.json() == {"status": "threaded", "dossier": reference, "duplicate": False}
    dossier = Dossier.objects.get(reference=reference)
    assert [m.body for m in dossier.messages.filter(direction="in")][-1] == "Toujours en panne."
    # Another thread is another dossier.
    other = post(client, hook, message(id="m-3", thread="t-2")).json()
    assert other["status"] == "opened" and other["dossier"] != reference


def test_a_reference_joins_its_dossier_whatever_the_thread(client, hook):
    reference = post(client, hook, message()).json()["dossier"]
    response = post(client, hook, message(id="m-2", thread="", reference=reference.lower()))
    assert response.json()["status"] == "threaded" and response.json()["dossier"] == reference


def test_another_collectivites_channel_cannot_reach_this_ones_dossiers(client, hook, tenant_b):
    reference = post(client, hook, message()).json()["dossier"]
    theirs = HookChannel.objects.create(
        collectivite=tenant_b.collectivite, name="Facebook", slug="facebook", secret=SECRET
    )
    # Their thread ids are theirs too: the same "t-1" on their channel is not our thread.
    response = post(client, theirs, message(id="m-9", reference=reference, text="Intrus"))
    assert response.status_code == 201
    assert response.json()["dossier"] != reference
    ours = Dossier.objects.get(reference=reference)
    assert not ours.messages.filter(body="Intrus").exists()
    assert Dossier.objects.get(reference=response.json()["dossier"]).collectivite == (
        tenant_b.collectivite
    )


# --- content ----------------------------------------------------------------------------------


def test_attachments_are_stored_on_the_message(client, hook):
    content = base64.b64encode(PDF).decode()
    response = post(
        client,
        hook,
        message(
            text="", attachments=[{"filename": "photo-lampadaire.pdf", "content_base64": content}]
        ),
    )
    assert response.status_code == 201
    row = HookMessage.objects.get()
    links = list(row.message.attachment_links.select_related("attachment"))
    assert [link.attachment.original_name for link in links] == ["photo-lampadaire.pdf"]
    assert links[0].attachment.file.read() == PDF
    assert links[0].attachment.dossier == row.dossier


def test_an_oversized_body_is_refused_with_413(client, hook, settings):
    big = "x" * (services.MAX_BODY_BYTES + 1)
    response = post(client, hook, message(text=big))
    assert response.status_code == 413 and "Mo" in response.json()["detail"]
    assert not HookMessage.objects.exists()


def test_a_large_body_under_the_limit_is_accepted(client, hook):
    # Above Django's in-memory limit for request bodies (2.5 Mo), below ours.
    text = "x" * (3 * 1024 * 1024)
    response = post(client, hook, message(text=text[: services.MAX_TEXT]) | {"pad": text})
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{pas du json", 400, None),
        (b"[1, 2]", 400, None),
        (b"\xff\xfe", 400, None),
        (json.dumps({"text": "sans id"}).encode(), 422, "id"),
        (json.dumps({"id": "m-1"}).encode(), 422, "text"),
        (json.dumps({"id": "m-1", "text": 3}).encode(), 422, "text"),
        (json.dumps({"id": "m-1", "text": "a", "from": "moi"}).encode(), 422, "from"),
        (json.dumps({"id": "m-1", "text": "a", "sent_at": "hier"}).encode(), 422, "sent_at"),
        (
            json.dumps({"id": "m-1", "text": "a", "sent_at": "2026-02-30T10:00:00Z"}).encode(),
            422,
            "sent_at",
        ),
        (
            json.dumps({"id": "m-1", "text": "a", "sent_at": "2026-01-05T09:30:00"}).encode(),
            422,
            "sent_at",
        ),
        (
            json.dumps(
                {"id": "m-1", "attachments": [{"filename": "a.pdf", "content_base64": "%%%"}]}
            ).encode(),
            422,
            "attachments[0].content_base64",
        ),
        (json.dumps({"id": "m-1", "attachments": "a.pdf"}).encode(), 422, "attachments"),
    ],
)
def test_bad_json_gets_a_4xx_with_a_french_body_never_a_500(client, hook, body, status, field):
    response = post(client, hook, body=body)
    assert response.status_code == status, response.content
    answer = response.json()
    assert answer["detail"]
    if field:
        assert field in answer["errors"], answer
    assert not HookMessage.objects.exists()


def test_contact_details_that_do_not_parse_are_left_out_not_refused(client, hook):
    response = post(
        client, hook, message(**{"from": {"name": "Cher", "email": "pas-un-mail", "phone": "12"}})
    )
    assert response.status_code == 201
    usager = Dossier.objects.get(reference=response.json()["dossier"]).usager
    assert (usager.last_name, usager.email, usager.phones) == ("Cher", "", [])


def test_a_refused_message_is_kept_in_quarantine(client, hook, tenant_a):
    # The collectivité's démarche for new messages is closed: the démarche refuses.
    post(client, hook, message())
    demarche = Dossier.objects.get().demarche
    demarche.state = demarche.State.CLOSED
    demarche.save()
    response = post(client, hook, message(id="m-2", thread="t-2"))
    assert response.status_code == 202
    assert response.json() == {"status": "quarantined", "dossier": None, "duplicate": False}
    row = HookMessage.objects.get(external_id="m-2")
    assert row.outcome == "quarantined" and row.detail and row.dossier is None
    assert row.payload["text"] == message()["text"]
    assert Dossier.objects.filed().count() == 1
    again = post(client, hook, message(id="m-2", thread="t-2"))
    assert again.status_code == 200 and again.json()["duplicate"] is True


def test_the_endpoint_is_documented_in_the_openapi_schema(client):
    schema = client.get("/api/canaux/openapi.json").json()
    operation = schema["paths"]["/api/canaux/webhooks/{collectivite_slug}/{channel_slug}/messages"]
    body = json.dumps(operation["post"]["requestBody"])
    assert "content_base64" in body and "$ref" not in body  # nested models written in place
