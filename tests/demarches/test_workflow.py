"""Workflows: apply_transition, actions, timers, the legal clock and transfers."""

import datetime
import json
import threading
import zoneinfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from grc.base.models import Channel, Event, Role
from grc.demarches.definition import empty_definition
from grc.demarches.models import ActionRun, Dossier, Message, PieceRequest, StatusChange
from grc.demarches.services.dossiers import submit_dossier
from grc.demarches.services.exchange import CATALOGUE_DIR
from grc.demarches.workflow import definition as wf
from grc.demarches.workflow import services as workflow
from grc.demarches.workflow.actions import run_status_change_actions
from grc.demarches.workflow.defaults import default_workflow
from grc.demarches.workflow.definition import check_workflow
from tests.demarches.factories import definition, field, published
from tests.factories import CollectiviteFactory, MembershipFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
FORM = definition([field("objet", required=True), field("montant", "integer")])


@pytest.fixture
def citizen():
    return UserFactory(email="camille@exemple.test", first_name="Camille", last_name="Roux")


def file(tenant, citizen, kind="sva", **settings):
    demarche = published(
        tenant.collectivite,
        tenant.service,
        FORM,
        implicit_decision=kind,
        who_may_file="account",
        slug=f"d-{kind}",
        **settings,
    )
    return submit_dossier(
        demarche=demarche,
        answers_given={"objet": "Demande", "montant": 40},
        channel=Channel.WEB,
        actor=citizen,
        account=citizen,
    )


def history(dossier):
    return list(
        StatusChange.objects.filter(dossier=dossier).values_list("from_status", "to_status")
    )


@pytest.mark.parametrize("kind", ["none", "sva", "svr"])
def test_the_default_workflows_pass_the_publishing_checks(kind):
    assert check_workflow(default_workflow(kind), empty_definition()) == []


@pytest.mark.parametrize("path", sorted(CATALOGUE_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_every_model_workflow_passes_the_publishing_checks(path):
    document = json.loads(path.read_text())
    assert check_workflow(document["workflow"], document["definition"]) == []


def test_submission_enters_the_initial_status(tenant_a, citizen):
    dossier = file(tenant_a, citizen)
    assert dossier.status == "depose" and dossier.status_entered_at is not None
    assert history(dossier) == [("", "depose")]


def test_an_agent_of_the_service_moves_the_dossier(tenant_a, citizen):
    dossier = file(tenant_a, citizen)
    change = workflow.apply_transition(dossier, "instruire", actor=tenant_a.agent)
    dossier.refresh_from_db()
    assert dossier.status == "instruction"
    assert (change.from_status, change.to_status, change.actor) == (
        "depose",
        "instruction",
        tenant_a.agent,
    )
    assert Event.objects.filter(
        action="dossier.status_changed", object_id=str(dossier.pk), payload__to="instruction"
    ).exists()
    # The status's e-mail to the citizen waits for the worker.
    (run,) = ActionRun.objects.filter(status_change=change)
    assert run.spec["type"] == "email" and run.status == ActionRun.Status.PENDING


def test_refusals_say_why_and_change_nothing(tenant_a, tenant_b, citizen):
    dossier = file(tenant_a, citizen)
    with pytest.raises(ValidationError, match="pas possible quand le dossier est « Déposé »"):
        workflow.apply_transition(dossier, "accepter", actor=tenant_a.agent)
    with pytest.raises(ValidationError, match="Action inconnue"):
        workflow.apply_transition(dossier, "teleporter", actor=tenant_a.agent)
    with pytest.raises(PermissionDenied, match="service chargé du dossier"):
        workflow.apply_transition(dossier, "instruire", actor=citizen)
    with pytest.raises(PermissionDenied):
        workflow.apply_transition(dossier, "instruire", actor=tenant_b.agent)
    other_service_agent = MembershipFactory(
        collectivite=tenant_a.collectivite, role=Role.AGENT
    ).user
    with pytest.raises(PermissionDenied):
        workflow.apply_transition(dossier, "instruire", actor=other_service_agent)
    with pytest.raises(PermissionDenied, match="réservée au système"):
        workflow.apply_transition(dossier, "accepter_implicitement", actor=tenant_a.admin)
    with pytest.raises(PermissionDenied, match="Seul l'usager"):
        workflow.apply_transition(dossier, "retirer", actor=tenant_a.agent)
    workflow.apply_transition(dossier, "instruire", actor=tenant_a.admin)
    with pytest.raises(ValidationError) as refusal:
        workflow.apply_transition(dossier, "refuser", actor=tenant_a.agent, comment="  ")
    assert "comment" in refusal.value.message_dict
    with pytest.raises(ValidationError) as refusal:
        workflow.apply_transition(
            dossier, "demander_pieces", actor=tenant_a.agent, data={"delai_pieces": 500}
        )
    assert set(refusal.value.message_dict) == {"pieces_demandees", "delai_pieces"}
    dossier.refresh_from_db()
    assert dossier.status == "instruction"
    assert history(dossier) == [("", "depose"), ("depose", "instruction")]


def test_a_guard_is_checked_against_answers_and_fields(tenant_a, citizen):
    dossier = file(tenant_a, citizen)
    version = dossier.version
    version.workflow["transitions"].append(
        {
            "key": "accord_rapide",
            "label": "Accord rapide",
            "from": ["depose"],
            "to": "accepte",
            "by": "service",
            "comment": "none",
            "fields": [],
            "actions": [],
            "guard": {"op": "lte", "field": "montant", "value": 30},
        }
    )
    version.save()
    with pytest.raises(ValidationError, match="conditions de l'action « Accord rapide »"):
        workflow.apply_transition(dossier, "accord_rapide", actor=tenant_a.agent)
    assert Dossier.objects.get(pk=dossier.pk).status == "depose"


def test_the_citizen_withdraws_their_own_dossier(tenant_a, citizen):
    dossier = file(tenant_a, citizen)
    workflow.apply_transition(dossier, "retirer", actor=citizen, comment="Plus besoin")
    assert Dossier.objects.get(pk=dossier.pk).status == "annule"


@pytest.mark.django_db(transaction=True)
def test_two_agents_at_once_one_wins_the_other_is_told(tenant_a, citizen):
    dossier = file(tenant_a, citizen)
    colleague = MembershipFactory(
        collectivite=tenant_a.collectivite, role=Role.AGENT, service=tenant_a.service
    ).user
    barrier = threading.Barrier(2)
    outcomes = []

    def act(agent):
        try:
            seen = Dossier.objects.get(pk=dossier.pk)  # each agent opened the page before
            barrier.wait(timeout=10)
            workflow.apply_transition(seen, "instruire", actor=agent)
            outcomes.append("done")
        except ValidationError as refusal:
            outcomes.append(refusal.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=(agent,)) for agent in (tenant_a.agent, colleague)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("done") == 1
    (refused,) = (v for v in outcomes if v != "done")
    assert refused == (
        "Le dossier a changé entre-temps : il est maintenant « En instruction ». "
        "L'action « Commencer l'instruction » n'est plus possible."
    )
    assert len(history(Dossier.objects.get(pk=dossier.pk))) == 2


# --- actions ----------------------------------------------------------------------------------


def test_actions_retry_after_an_smtp_failure_then_send_once(tenant_a, citizen, smtp_server):
    dossier = file(tenant_a, citizen)
    change = workflow.apply_transition(dossier, "instruire", actor=tenant_a.agent)
    smtp_server.refuse = True
    with pytest.raises(Exception, match="451"):
        run_status_change_actions(change.pk, attempt=1)
    run = ActionRun.objects.get(status_change=change)
    assert run.status == "pending" and run.attempts == 1 and "451" in run.error
    smtp_server.refuse = False
    run_status_change_actions(change.pk, attempt=2)
    run_status_change_actions(change.pk, attempt=3)  # a duplicate run of the job
    run.refresh_from_db()
    assert run.status == "done" and run.result["to"] == ["camille@exemple.test"]
    (message,) = smtp_server.messages
    assert dossier.reference in message["Subject"]
    assert "en cours de traitement" in message.get_content()


def test_a_text_that_fails_to_render_fails_its_action_not_the_transition(
    tenant_a, citizen, smtp_server
):
    dossier = file(tenant_a, citizen)
    version = dossier.version
    instruction = next(s for s in version.workflow["statuses"] if s["key"] == "instruction")
    instruction["actions"].insert(0, {"type": "note", "body": "Total : {{ 1 / 0 }}"})
    version.save()
    change = workflow.apply_transition(dossier, "instruire", actor=tenant_a.agent)
    run_status_change_actions(change.pk)
    runs = {r.spec["type"]: r for r in ActionRun.objects.filter(status_change=change)}
    assert runs["note"].status == "failed" and "n'a pas pu être produit" in runs["note"].error
    assert runs["email"].status == "done"  # the others still ran
    assert Dossier.objects.get(pk=dossier.pk).status == "instruction"  # the move stands
    alert = Message.objects.get(dossier=dossier, direction="note")
    assert "a échoué" in alert.body
    assert any(m["To"] == tenant_a.service.email for m in smtp_server.messages)


def test_a_document_action_issues_a_pdf(tenant_a, citizen, media):
    dossier = file(tenant_a, citizen, kind="sva")
    dossier.received_at = timezone.now() - datetime.timedelta(days=70)
    dossier.save()
    workflow.refresh_decision_date(dossier)
    assert workflow.run_legal_clock() == 1
    change = StatusChange.objects.filter(dossier=dossier).latest("id")
    run_status_change_actions(change.pk)
    (document,) = dossier.documents.all()
    assert document.kind == "attestation_acceptation"
    assert document.file.read().startswith(b"%PDF")


# --- missing pieces and the legal clock -------------------------------------------------------


def test_a_request_for_pieces_pauses_the_clock_until_the_citizen_answers(tenant_a, citizen):
    dossier = file(tenant_a, citizen, kind="sva")
    Dossier.objects.filter(pk=dossier.pk).update(
        received_at=timezone.now() - datetime.timedelta(days=30)
    )
    dossier.refresh_from_db()
    workflow.refresh_decision_date(dossier)
    first_date = dossier.expected_decision_date
    change = workflow.apply_transition(
        dossier,
        "demander_pieces",
        actor=tenant_a.agent,
        data={"pieces_demandees": "Justificatif de domicile\n- RIB", "delai_pieces": 15},
    )
    run_status_change_actions(change.pk)
    request = PieceRequest.objects.get(dossier=dossier)
    assert request.items == ["Justificatif de domicile", "RIB"]
    assert request.status == "open"
    assert Message.objects.filter(dossier=dossier, direction="out", body__contains="RIB").exists()
    # Answered ten days later: the clock moved by eleven days.
    PieceRequest.objects.filter(pk=request.pk).update(
        requested_at=timezone.now() - datetime.timedelta(days=10)
    )
    workflow.answer_piece_request(dossier=dossier, actor=citizen, answer="Voici les pièces")
    dossier.refresh_from_db()
    assert dossier.status == "instruction"
    assert dossier.expected_decision_date == first_date + datetime.timedelta(days=11)


def test_the_svr_rejection_fires_once_even_run_twice_or_late(tenant_a, citizen):
    dossier = file(tenant_a, citizen, kind="svr")
    Dossier.objects.filter(pk=dossier.pk).update(
        received_at=datetime.datetime(2023, 5, 15, 10, tzinfo=PARIS)
    )
    dossier.refresh_from_db()
    workflow.refresh_decision_date(dossier)
    assert dossier.expected_decision_date == datetime.date(2023, 7, 16)
    eve = datetime.datetime(2023, 7, 15, 23, 50, tzinfo=PARIS)
    assert workflow.run_legal_clock(now=eve) == 0
    late = datetime.datetime(2023, 8, 30, 9, tzinfo=PARIS)  # the worker was down for weeks
    assert workflow.run_legal_clock(now=late) == 1
    assert workflow.run_legal_clock(now=late) == 0
    dossier.refresh_from_db()
    assert dossier.status == "refuse"
    implicit = StatusChange.objects.get(dossier=dossier, transition="rejeter_implicitement")
    assert implicit.actor is None and "16 juillet 2023" in implicit.comment
    assert ActionRun.objects.filter(status_change=implicit, spec__to="citizen").exists()


def test_no_implicit_decision_while_pieces_are_awaited(tenant_a, citizen):
    dossier = file(tenant_a, citizen, kind="sva")
    change = workflow.apply_transition(
        dossier,
        "demander_pieces",
        actor=tenant_a.agent,
        data={"pieces_demandees": "RIB", "delai_pieces": 15},
    )
    run_status_change_actions(change.pk)
    Dossier.objects.filter(pk=dossier.pk).update(expected_decision_date=datetime.date(2020, 1, 1))
    assert workflow.run_legal_clock() == 0
    assert Dossier.objects.get(pk=dossier.pk).status == "attente_pieces"


# --- timers -----------------------------------------------------------------------------------


def test_working_day_timers_skip_the_weekend_and_14_july(tenant_a, citizen):
    dossier = file(tenant_a, citizen)
    version = dossier.version
    for status in version.workflow["statuses"]:
        if status["key"] == "attente_pieces":
            status["timers"] = [{"after": 2, "unit": "working_days", "transition": "relancer"}]
    version.save()
    workflow.apply_transition(
        dossier,
        "demander_pieces",
        actor=tenant_a.agent,
        data={"pieces_demandees": "RIB", "delai_pieces": 15},
    )
    friday = datetime.datetime(2025, 7, 11, 16, tzinfo=PARIS)  # Mon 14 July: holiday
    dossier.refresh_from_db()
    dossier.status_entered_at = friday
    status = wf.status(dossier.version.workflow, "attente_pieces")
    dossier.timer_due_on = workflow.next_timer_on(dossier, status)
    dossier.save()
    assert dossier.timer_due_on == datetime.date(2025, 7, 16)
    tuesday = datetime.datetime(2025, 7, 15, 18, tzinfo=PARIS)  # 1st working day after
    assert workflow.run_due_timers(now=tuesday) == 0
    wednesday = datetime.datetime(2025, 7, 16, 8, tzinfo=PARIS)  # the 2nd
    assert workflow.run_due_timers(now=wednesday) == 1
    assert workflow.run_due_timers(now=wednesday) == 0  # the reminder re-entered the status
    reminders = StatusChange.objects.filter(dossier=dossier, transition="relancer")
    assert reminders.count() == 1 and reminders.get().actor is None


def test_calendar_day_timers(tenant_a, citizen):
    from grc.base.calendar import add_working_days

    assert add_working_days(datetime.date(2025, 7, 11), 1) == datetime.date(2025, 7, 15)
    assert add_working_days(datetime.date(2025, 12, 24), 1) == datetime.date(2025, 12, 26)


# --- transfers --------------------------------------------------------------------------------


def test_a_transfer_to_another_service_is_audited_and_told(tenant_a, citizen):
    dossier = file(tenant_a, citizen)
    other = ServiceFactory(collectivite=tenant_a.collectivite, name="Urbanisme")
    workflow.transfer_to_service(
        dossier=dossier, actor=tenant_a.agent, service=other, reason="Relève de l'urbanisme"
    )
    dossier.refresh_from_db()
    assert dossier.service == other
    assert Message.objects.filter(dossier=dossier, body__contains="Urbanisme").exists()
    assert Event.objects.filter(action="dossier.transferred").count() == 1


@pytest.mark.parametrize(("kind", "expected"), [("sva", "competent"), ("svr", "first")])
def test_a_transfer_to_another_collectivite(tenant_a, citizen, media, kind, expected):
    dossier = file(tenant_a, citizen, kind=kind)
    Dossier.objects.filter(pk=dossier.pk).update(
        received_at=timezone.now() - datetime.timedelta(days=20)
    )
    dossier.refresh_from_db()
    epci = CollectiviteFactory(name="Intercommunalité", reference_prefix="EPCI")
    competent = ServiceFactory(collectivite=epci)
    transfer = workflow.transfer_to_collectivite(
        dossier=dossier, actor=tenant_a.agent, service=competent, reason="Compétence EPCI"
    )
    copy = transfer.to_dossier
    dossier.refresh_from_db()
    assert dossier.status == "transmis"
    assert copy.collectivite == epci and copy.reference.startswith("EPCI-")
    assert copy.status == "depose" and copy.answers == dossier.answers
    assert copy.usager.collectivite == epci
    assert set(copy.acknowledgements.values_list("kind", flat=True)) == {"aee", "are"}
    from grc.demarches.legal import implicit_decision_date

    start = copy.competent_received_at if expected == "competent" else dossier.received_at
    assert copy.expected_decision_date == implicit_decision_date(start, period=2, unit="months")
    events = Event.objects.filter(action="dossier.transferred")
    assert set(events.values_list("collectivite_id", flat=True)) == {
        tenant_a.collectivite.pk,
        epci.pk,
    }


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_a_transitions_actions_after_commit(tenant_a, citizen, smtp_server):
    from procrastinate.contrib.django import app

    dossier = file(tenant_a, citizen)
    workflow.apply_transition(dossier, "instruire", actor=tenant_a.agent)
    with app.replace_connector(app.connector.get_worker_connector()) as worker_app:
        worker_app.run_worker(
            queues=["actions"], wait=False, install_signal_handlers=False, listen_notify=False
        )
    assert ActionRun.objects.get(dossier=dossier).status == "done"
    assert [m["To"] for m in smtp_server.messages] == ["camille@exemple.test"]


# --- webhooks ---------------------------------------------------------------------------------


@pytest.fixture
def receiver(settings):
    """A real HTTP server on this machine that records what it gets and answers as told (the
    platform allows webhooks to its own network for it)."""
    settings.GRC_WEBHOOK_ALLOW_PRIVATE = True
    import http.server
    import socketserver

    received = {"calls": [], "answers": []}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received["calls"].append((self.headers, body))  # case-insensitive
            status = received["answers"].pop(0) if received["answers"] else 200
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = socketserver.TCPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    received["url"] = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield received
    server.shutdown()
    server.server_close()


def test_a_webhook_is_signed_retried_on_5xx_and_delivered_once(tenant_a, citizen, receiver):
    import hashlib
    import hmac

    dossier = file(tenant_a, citizen)
    version = dossier.version
    secret = "un-secret-de-test-assez-long"
    wf.status(version.workflow, "instruction")["actions"] = [
        {"type": "webhook", "url": receiver["url"], "secret": secret}
    ]
    version.save()
    change = workflow.apply_transition(dossier, "instruire", actor=tenant_a.agent)
    receiver["answers"] = [503]
    with pytest.raises(Exception, match="HTTP 503"):
        run_status_change_actions(change.pk, attempt=1)
    run_status_change_actions(change.pk, attempt=2)
    run_status_change_actions(change.pk, attempt=3)  # nothing left to do
    assert len(receiver["calls"]) == 2
    headers, body = receiver["calls"][-1]
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-GRC-Signature"] == f"sha256={expected}"
    run = ActionRun.objects.get(status_change=change)
    assert headers["X-GRC-Delivery"] == str(run.pk)  # the same on both tries: deduplicable
    payload = json.loads(body)
    assert payload["dossier"]["reference"] == dossier.reference
    assert payload["dossier"]["status"] == "instruction"
    assert run.status == "done" and run.attempts == 2


def test_a_webhook_refusing_with_4xx_fails_without_retry(tenant_a, citizen, receiver):
    dossier = file(tenant_a, citizen)
    version = dossier.version
    wf.status(version.workflow, "instruction")["actions"] = [
        {"type": "webhook", "url": receiver["url"], "secret": "s" * 20}
    ]
    version.save()
    change = workflow.apply_transition(dossier, "instruire", actor=tenant_a.agent)
    receiver["answers"] = [403]
    run_status_change_actions(change.pk, attempt=1)
    run = ActionRun.objects.get(status_change=change)
    assert run.status == "failed" and "403" in run.error
    assert Message.objects.filter(
        dossier=dossier, direction="note", body__contains="webhook"
    ).exists()


def test_a_webhook_to_the_platforms_own_network_is_refused(tenant_a, citizen, receiver, settings):
    settings.GRC_WEBHOOK_ALLOW_PRIVATE = False
    dossier = file(tenant_a, citizen)
    version = dossier.version
    wf.status(version.workflow, "instruction")["actions"] = [
        {"type": "webhook", "url": receiver["url"], "secret": "s" * 20}
    ]
    version.save()
    change = workflow.apply_transition(dossier, "instruire", actor=tenant_a.agent)
    run_status_change_actions(change.pk)
    run = ActionRun.objects.get(status_change=change)
    assert run.status == "failed" and "réseau interne (127.0.0.1)" in run.error
    assert receiver["calls"] == []


def test_an_unforeseen_action_error_is_recorded_then_retried(tenant_a, citizen, monkeypatch):
    from grc.demarches.workflow import actions

    dossier = file(tenant_a, citizen)
    change = workflow.apply_transition(dossier, "instruire", actor=tenant_a.agent)

    def broken(run, spec):
        raise RuntimeError("moteur en panne")

    monkeypatch.setitem(actions.HANDLERS, "email", broken)
    with pytest.raises(Exception, match="moteur en panne"):
        run_status_change_actions(change.pk, attempt=1)
    run = ActionRun.objects.get(status_change=change)
    assert run.status == "pending" and "RuntimeError: moteur en panne" in run.error
    run_status_change_actions(change.pk, attempt=actions.MAX_ATTEMPTS)  # the last try
    run.refresh_from_db()
    assert run.status == "failed"
    assert Message.objects.filter(
        dossier=dossier, direction="note", body__contains="moteur en panne"
    ).exists()


def ask_pieces(tenant, dossier):
    change = workflow.apply_transition(
        dossier,
        "demander_pieces",
        actor=tenant.agent,
        data={"pieces_demandees": "RIB", "delai_pieces": 15},
    )
    run_status_change_actions(change.pk)
    return PieceRequest.objects.get(dossier=dossier, status="open")


def test_pieces_received_by_post_close_the_request_and_free_the_clock(tenant_a, citizen):
    dossier = file(tenant_a, citizen, kind="sva")
    request = ask_pieces(tenant_a, dossier)
    workflow.apply_transition(dossier, "reprendre", actor=tenant_a.agent, comment="Reçu")
    request.refresh_from_db()
    assert request.status == "answered" and request.answered_at is not None
    Dossier.objects.filter(pk=dossier.pk).update(expected_decision_date=datetime.date(2020, 1, 1))
    assert workflow.run_legal_clock() == 1  # nothing pending any more


def test_closing_a_dossier_cancels_its_request_and_a_new_request_is_a_new_one(tenant_a, citizen):
    dossier = file(tenant_a, citizen)
    first = ask_pieces(tenant_a, dossier)
    workflow.apply_transition(dossier, "reprendre", actor=tenant_a.agent)
    second = ask_pieces(tenant_a, dossier)
    assert second.pk != first.pk
    workflow.apply_transition(dossier, "classer", actor=tenant_a.agent, comment="Doublon")
    second.refresh_from_db()
    assert second.status == "cancelled"


def test_the_citizen_cannot_skip_sending_the_pieces(tenant_a, citizen):
    dossier = file(tenant_a, citizen)
    ask_pieces(tenant_a, dossier)
    with pytest.raises(ValidationError, match="Envoyez les pièces demandées"):
        workflow.apply_transition(dossier, "pieces_recues", actor=citizen)
    assert Dossier.objects.get(pk=dossier.pk).status == "attente_pieces"
    workflow.apply_transition(dossier, "retirer", actor=citizen)  # ending it stays possible
    assert Dossier.objects.get(pk=dossier.pk).status == "annule"


def test_a_reminder_sends_its_own_mail_only(tenant_a, citizen):
    dossier = file(tenant_a, citizen)
    ask_pieces(tenant_a, dossier)
    dossier.refresh_from_db()
    reminder = workflow.apply_transition(dossier, "relancer", actor=None)
    specs = [r.spec for r in ActionRun.objects.filter(status_change=reminder)]
    assert len(specs) == 1 and specs[0]["subject"].startswith("Rappel")


def test_a_timer_that_cannot_be_taken_leaves_the_next_one_scheduled(tenant_a, citizen):
    dossier = file(tenant_a, citizen)
    version = dossier.version
    version.workflow["transitions"].append(
        {
            "key": "jamais",
            "label": "Jamais",
            "from": ["instruction"],
            "to": "classe",
            "by": "system",
            "comment": "none",
            "fields": [],
            "actions": [],
            "guard": {"op": "gt", "field": "montant", "value": 1000},
        }
    )
    version.workflow["transitions"].append(
        {
            "key": "plus_tard",
            "label": "Plus tard",
            "from": ["instruction"],
            "to": "classe",
            "by": "system",
            "comment": "none",
            "fields": [],
            "actions": [],
            "guard": None,
        }
    )
    wf.status(version.workflow, "instruction")["timers"] = [
        {"after": 1, "unit": "days", "transition": "jamais"},
        {"after": 5, "unit": "days", "transition": "plus_tard"},
    ]
    version.save()
    workflow.apply_transition(dossier, "instruire", actor=tenant_a.agent)
    dossier.refresh_from_db()
    entered = dossier.status_entered_at
    assert workflow.run_due_timers(now=entered + datetime.timedelta(days=2)) == 0
    dossier.refresh_from_db()
    assert dossier.timer_due_on == workflow.timer_due_on(dossier, {"after": 5, "unit": "days"})
    assert workflow.run_due_timers(now=entered + datetime.timedelta(days=6)) == 1
    assert Dossier.objects.get(pk=dossier.pk).status == "classe"


def test_another_services_agent_cannot_take_the_dossier_over(tenant_a, citizen):
    dossier = file(tenant_a, citizen)
    other_service = ServiceFactory(collectivite=tenant_a.collectivite, name="Urbanisme")
    outsider = MembershipFactory(
        collectivite=tenant_a.collectivite, role=Role.AGENT, service=other_service
    ).user
    from grc.demarches.access import NotFound

    with pytest.raises(NotFound):
        workflow.transfer_to_service(
            dossier=dossier, actor=outsider, service=other_service, reason="Je le prends"
        )
    assert Dossier.objects.get(pk=dossier.pk).service == tenant_a.service


def test_editing_the_demarche_later_does_not_move_a_filed_dossiers_dates(tenant_a, citizen):
    from grc.demarches.services.demarches import update_demarche

    dossier = file(tenant_a, citizen, kind="sva")
    promised = dossier.expected_decision_date
    update_demarche(
        actor=tenant_a.admin,
        demarche=dossier.demarche,
        changes={"decision_period": 6, "clock_restarts_on_pieces": True},
    )
    ask_pieces(tenant_a, dossier)
    # Asked and answered the day of receipt, before the period started: nothing to add; read
    # from the démarche now, 6 months restarted from tomorrow would have been given instead.
    workflow.answer_piece_request(dossier=dossier, actor=citizen)
    dossier.refresh_from_db()
    assert dossier.expected_decision_date == promised
