"""SMS: consent, the generic HTTP provider against a real local server (scripted answers),
retries and failures, delivery reports, the workflow action."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from grc.base.access import NotFound
from grc.base.models import Event, Usager
from grc.channels.models import SmsMessage, SmsProvider
from grc.channels.sms import services
from grc.channels.sms.providers import GenericHttpProvider, ProviderRetry
from grc.demarches.models import ActionRun, Message
from grc.demarches.workflow import services as workflow
from grc.demarches.workflow.actions import run_status_change_actions
from tests.backoffice.conftest import HOST
from tests.demarches.dossier_helpers import demarche_for, file_dossier, quiet_workflow

pytestmark = pytest.mark.django_db
MOBILE = "+33612345678"
CALLBACK = "cle-des-accuses"


class Script:
    """What the provider answers, in order (the last answer repeats), and what it received."""

    def __init__(self):
        self.answers: list[tuple[int, dict]] = [(200, {"id": "fourn-1"})]
        self.requests: list[dict] = []
        self.url = ""


@pytest.fixture
def provider_server():
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            script.requests.append({"headers": dict(self.headers), "json": json.loads(body)})
            status, payload = (
                script.answers.pop(0) if len(script.answers) > 1 else script.answers[0]
            )
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    script.url = f"http://127.0.0.1:{server.server_port}/envoi"
    yield script
    server.shutdown()
    server.server_close()


@pytest.fixture
def allow_local(settings):
    settings.GRC_WEBHOOK_ALLOW_PRIVATE = True


def provider_of(tenant, url, **fields):
    values = {
        "url": url,
        "token": "jeton-du-fournisseur",
        "sender": "MAIRIE",
        "callback_secret": CALLBACK,
    }
    values.update(fields)
    return SmsProvider.objects.create(collectivite=tenant.collectivite, **values)


def dossier_of(tenant, *, phones=(MOBILE,), preferred="sms", slug="test"):
    dossier = file_dossier(
        demarche_for(tenant, slug=slug, workflow=quiet_workflow()),
        contact_email=f"{slug}@exemple.test",
    )
    Usager.objects.filter(pk=dossier.usager_id).update(
        phones=list(phones), preferred_channel=preferred
    )
    dossier.refresh_from_db()
    return dossier


def queued(tenant, provider_server, **kwargs):
    provider_of(tenant, provider_server.url)
    dossier = dossier_of(tenant)
    return services.send_sms(dossier=dossier, body="Votre dossier est prêt.", **kwargs)


# --- send_sms ---------------------------------------------------------------------------------


def test_an_sms_is_queued_as_a_message_of_the_dossier(
    tenant_a, provider_server, django_capture_on_commit_callbacks
):
    provider_of(tenant_a, provider_server.url)
    dossier = dossier_of(tenant_a)
    with django_capture_on_commit_callbacks() as callbacks:
        sms = services.send_sms(
            dossier=dossier, body="Votre dossier est prêt.", actor=tenant_a.agent
        )
    assert len(callbacks) == 1  # the job, after commit
    assert sms.status == "queued" and sms.to == MOBILE and sms.collectivite == tenant_a.collectivite
    message = sms.message
    assert (
        message.channel == "sms" and message.direction == "out" and message.author == tenant_a.agent
    )
    assert message.body == "Votre dossier est prêt."
    assert Event.objects.filter(action="sms.queued", object_id=str(sms.pk)).exists()


@pytest.mark.parametrize(
    ("phones", "preferred", "provider", "code", "words"),
    [
        ((MOBILE,), "email", True, "no_consent", "n'a pas choisi d'être prévenu par SMS"),
        (("+33241001020",), "sms", True, "no_mobile", "pas de numéro de téléphone mobile"),
        ((), "sms", True, "no_mobile", "pas de numéro de téléphone mobile"),
        ((MOBILE,), "sms", False, "no_provider", "Aucun fournisseur de SMS"),
    ],
)
def test_no_sms_without_consent_a_mobile_or_a_provider(
    tenant_a, phones, preferred, provider, code, words
):
    if provider:
        provider_of(tenant_a, "https://sms.exemple.test/envoi")
    dossier = dossier_of(tenant_a, phones=phones, preferred=preferred)
    with pytest.raises(ValidationError) as refused:
        services.send_sms(dossier=dossier, body="Bonjour")
    assert refused.value.code == code and words in refused.value.messages[0]
    assert not SmsMessage.objects.exists()
    assert not Message.objects.filter(channel="sms").exists()


def test_an_inactive_provider_is_no_provider(tenant_a):
    provider_of(tenant_a, "https://sms.exemple.test/envoi", is_active=False)
    with pytest.raises(ValidationError) as refused:
        services.send_sms(dossier=dossier_of(tenant_a), body="Bonjour")
    assert refused.value.code == "no_provider"


def test_an_agent_of_another_collectivite_sends_nothing(tenant_a, tenant_b):
    provider_of(tenant_a, "https://sms.exemple.test/envoi")
    dossier = dossier_of(tenant_a)
    with pytest.raises(NotFound):
        services.send_sms(dossier=dossier, body="Bonjour", actor=tenant_b.admin)
    with pytest.raises(NotFound):
        services.send_sms(usager=dossier.usager, body="Bonjour", actor=tenant_b.agent)
    assert not SmsMessage.objects.exists()


# --- the provider -----------------------------------------------------------------------------


def test_the_provider_receives_the_sms_and_gives_its_id(tenant_a, provider_server, allow_local):
    sms = queued(tenant_a, provider_server)
    services.deliver(sms.pk, attempt=1)
    sms.refresh_from_db()
    assert sms.status == "sent" and sms.provider_id == "fourn-1" and sms.attempts == 1
    assert sms.sent_at is not None
    (request,) = provider_server.requests
    assert request["headers"]["Authorization"] == "Bearer jeton-du-fournisseur"
    assert request["json"] == {
        "to": MOBILE,
        "text": "Votre dossier est prêt.",
        "sender": "MAIRIE",
        "reference": str(sms.pk),
    }
    services.deliver(sms.pk, attempt=2)  # a duplicate run of the job sends nothing
    assert len(provider_server.requests) == 1


def test_a_server_error_is_retried_then_sent(tenant_a, provider_server, allow_local):
    provider_server.answers = [(500, {"error": "surcharge"}), (200, {"id": "fourn-2"})]
    sms = queued(tenant_a, provider_server)
    with pytest.raises(ProviderRetry, match="500"):
        services.deliver(sms.pk, attempt=1)
    sms.refresh_from_db()
    assert sms.status == "queued" and sms.attempts == 1 and "surcharge" in sms.last_error
    services.deliver(sms.pk, attempt=2)
    sms.refresh_from_db()
    assert sms.status == "sent" and sms.provider_id == "fourn-2" and sms.last_error == ""


def test_a_provider_always_failing_fails_the_sms_and_tells_the_agents(
    tenant_a, provider_server, allow_local
):
    provider_server.answers = [(503, {})]
    sms = queued(tenant_a, provider_server)
    for attempt in range(1, services.MAX_ATTEMPTS):
        with pytest.raises(ProviderRetry):
            services.deliver(sms.pk, attempt=attempt)
    services.deliver(sms.pk, attempt=services.MAX_ATTEMPTS)  # the last: no more retry
    sms.refresh_from_db()
    assert sms.status == "failed" and "503" in sms.last_error
    assert len(provider_server.requests) == services.MAX_ATTEMPTS
    note = Message.objects.get(dossier=sms.dossier, direction="note")
    assert "n'a pas été remis" in note.body and "06 12 34 56 78" in note.body


def test_a_refusal_fails_at_once_with_the_providers_reason(tenant_a, provider_server, allow_local):
    provider_server.answers = [(400, {"error": "numéro non joignable"})]
    sms = queued(tenant_a, provider_server)
    services.deliver(sms.pk, attempt=1)
    sms.refresh_from_db()
    assert sms.status == "failed" and "HTTP 400" in sms.last_error
    assert "numéro non joignable" in sms.last_error
    assert "numéro non joignable" in Message.objects.get(dossier=sms.dossier, direction="note").body
    assert Event.objects.filter(action="sms.failed", object_id=str(sms.pk)).exists()


def test_the_provider_on_an_internal_address_is_refused(tenant_a, provider_server):
    sms = queued(tenant_a, provider_server)
    services.deliver(sms.pk, attempt=1)
    sms.refresh_from_db()
    assert sms.status == "failed" and "réseau interne" in sms.last_error
    assert provider_server.requests == []


def test_a_provider_that_does_not_answer_in_time_is_retried(allow_local):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the connection, never answers
        provider = GenericHttpProvider(
            url=f"http://127.0.0.1:{silent.getsockname()[1]}/", timeout=0.5
        )
        with pytest.raises(ProviderRetry, match=r"timed out|TimeoutError"):
            provider.send(to=MOBILE, text="x", sender="MAIRIE", reference="1")


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_the_sms_after_commit(tenant_a, provider_server, allow_local, run_jobs):
    sms = queued(tenant_a, provider_server)
    run_jobs(["sms"])
    sms.refresh_from_db()
    assert sms.status == "sent" and sms.provider_id == "fourn-1"


# --- delivery reports -------------------------------------------------------------------------


def report(body, *, secret=CALLBACK, signature=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    if signature is None:
        signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return Client(HTTP_HOST=HOST).post(
        "/api/canaux/sms/statut",
        data=raw,
        content_type="application/json",
        HTTP_X_GRC_SIGNATURE=signature,
    )


def sent(tenant, provider_server, provider_id="fourn-1", slug="test"):
    sms = queued(tenant, provider_server) if slug == "test" else None
    SmsMessage.objects.filter(pk=sms.pk).update(status="sent", provider_id=provider_id)
    return sms


def test_a_signed_report_marks_the_sms_delivered(tenant_a, provider_server):
    sms = sent(tenant_a, provider_server)
    response = report({"id": "fourn-1", "status": "delivered"})
    assert response.status_code == 200 and response.json() == {
        "id": "fourn-1",
        "status": "delivered",
    }
    sms.refresh_from_db()
    assert sms.status == "delivered" and sms.delivered_at is not None
    assert report({"id": "fourn-1", "status": "delivered"}).status_code == 200  # repeated
    assert Event.objects.filter(action="sms.delivered").count() == 1


def test_a_failure_report_fails_the_sms_with_its_error(tenant_a, provider_server):
    sms = sent(tenant_a, provider_server)
    assert (
        report({"id": "fourn-1", "status": "failed", "error": "absent du réseau"}).status_code
        == 200
    )
    sms.refresh_from_db()
    assert sms.status == "failed" and sms.last_error == "absent du réseau"
    assert "absent du réseau" in Message.objects.get(dossier=sms.dossier, direction="note").body


def test_a_report_signed_with_another_secret_or_for_another_collectivite_is_refused(
    tenant_a, tenant_b, provider_server
):
    sms = sent(tenant_a, provider_server)
    SmsProvider.objects.create(
        collectivite=tenant_b.collectivite,
        url="https://b.test/",
        sender="B",
        callback_secret="cle-B",
    )
    for response in (
        report({"id": "fourn-1", "status": "delivered"}, secret="cle-B"),
        report({"id": "fourn-1", "status": "delivered"}, signature=""),
        report({"id": "fourn-1", "status": "delivered"}, signature="sha256=00"),
        report({"id": "inconnu", "status": "delivered"}),
    ):
        assert response.status_code == 401 and response.json()["detail"]
    sms.refresh_from_db()
    assert sms.status == "sent"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{pas du json", 400),
        (b"[]", 400),
        ({"status": "delivered"}, 400),
        ({"id": "fourn-1", "status": "lu"}, 422),
    ],
)
def test_a_bad_report_is_answered_with_a_reason(tenant_a, provider_server, body, status):
    sent(tenant_a, provider_server)
    response = report(body)
    assert response.status_code == status and response.json()["detail"]


# --- the workflow action ----------------------------------------------------------------------


def sms_action(dossier, tenant, body="Dossier {{ dossier.reference }} : en instruction."):
    change = workflow.apply_transition(dossier, "instruire", actor=tenant.agent)
    return ActionRun.objects.create(
        dossier=dossier,
        status_change=change,
        source="test",
        position=9,
        spec={"type": "sms", "body": body},
    )


def test_the_workflow_action_queues_the_sms_once(tenant_a, provider_server):
    provider_of(tenant_a, provider_server.url)
    dossier = dossier_of(tenant_a)
    run = sms_action(dossier, tenant_a)
    run_status_change_actions(run.status_change_id, attempt=1)
    run.refresh_from_db()
    assert run.status == "done", run.error
    sms = SmsMessage.objects.get(action_run=run)
    assert dossier.reference in sms.body and run.result["sms"] == sms.pk
    ActionRun.objects.filter(pk=run.pk).update(status="pending")
    run_status_change_actions(run.status_change_id, attempt=2)
    assert SmsMessage.objects.count() == 1


@pytest.mark.parametrize("preferred", ["", "email"])
def test_the_workflow_action_is_skipped_without_consent(tenant_a, provider_server, preferred):
    provider_of(tenant_a, provider_server.url)
    run = sms_action(dossier_of(tenant_a, preferred=preferred), tenant_a)
    run_status_change_actions(run.status_change_id, attempt=1)
    run.refresh_from_db()
    assert run.status == "skipped" and "n'a pas choisi" in run.result["reason"]
    assert not SmsMessage.objects.exists()


def test_the_workflow_action_is_skipped_without_a_provider(tenant_a):
    run = sms_action(dossier_of(tenant_a), tenant_a)
    run_status_change_actions(run.status_change_id, attempt=1)
    run.refresh_from_db()
    assert run.status == "skipped" and "fournisseur" in run.result["reason"]
