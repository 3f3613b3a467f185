"""Phone: the call log (services and pages), the CTI endpoint, the incoming-call screen."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grc.base.access import NotFound
from grc.base.models import Event, Usager
from grc.channels import calls
from grc.channels.models import Call, PhoneLine
from grc.demarches.models import Dossier
from tests.backoffice.conftest import HOST
from tests.demarches.dossier_helpers import demarche_for, file_dossier, quiet_workflow
from tests.factories import MembershipFactory, ServiceFactory, UsagerFactory

pytestmark = pytest.mark.django_db
NUMBER = "+33612345678"
SECRET = "secret-de-la-ligne-A"


def dossier_with_phone(tenant, number=NUMBER, *, slug="test"):
    dossier = file_dossier(
        demarche_for(tenant, slug=slug, workflow=quiet_workflow()),
        contact_email=f"{slug}@exemple.test",
    )
    Usager.objects.filter(pk=dossier.usager_id).update(phones=[number])
    return Dossier.objects.select_related("usager").get(pk=dossier.pk)


def line_of(tenant, *, secret=SECRET, service=True, **fields):
    return PhoneLine.objects.create(
        collectivite=tenant.collectivite,
        service=tenant.service if service else None,
        name=f"Accueil {tenant.collectivite.name}",
        number="+33241000001",
        secret=secret,
        **fields,
    )


def cti(line, body, *, secret=SECRET, raw=None):
    client = Client(HTTP_HOST=HOST)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret is not None else {}
    return client.post(
        f"/api/canaux/telephonie/lignes/{line.pk}/appels",
        data=raw if raw is not None else json.dumps(body),
        content_type="application/json",
        **headers,
    )


def event(kind="ringing", call_id="c-1", number="06 12 34 56 78", **extra):
    return {
        "call_id": call_id,
        "event": kind,
        "from": number,
        "to": "+33241000001",
        "at": timezone.now().isoformat(),
        **extra,
    }


def staff_client(user):
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return client


# --- log_call / update_call -------------------------------------------------------------------


def test_a_call_about_a_dossier_is_logged_for_its_citizen_with_their_number(tenant_a):
    dossier = dossier_with_phone(tenant_a)
    call = calls.log_call(
        actor=tenant_a.agent,
        dossier=dossier,
        direction="in",
        started_at=timezone.now(),
        duration=95,
        notes="  Demande où en est son dossier.  ",
    )
    assert call.usager_id == dossier.usager_id and call.collectivite == tenant_a.collectivite
    assert call.number == NUMBER and call.agent == tenant_a.agent
    assert call.notes == "Demande où en est son dossier." and call.status == "ended"
    (logged,) = Event.objects.filter(action="call.logged", object_id=str(call.pk))
    assert logged.actor == tenant_a.agent and logged.payload["dossier"] == dossier.pk


def test_the_number_typed_is_stored_in_e164_and_a_wrong_one_is_refused(tenant_a):
    usager = UsagerFactory(collectivite=tenant_a.collectivite)
    call = calls.log_call(
        actor=tenant_a.agent,
        usager=usager,
        direction="out",
        number="02 41 00 10 20",
        started_at=timezone.now(),
    )
    assert call.number == "+33241001020"
    with pytest.raises(ValidationError) as refused:
        calls.log_call(
            actor=tenant_a.agent,
            usager=usager,
            direction="out",
            number="12",
            started_at=timezone.now(),
        )
    assert "n'est pas un numéro de téléphone valide" in refused.value.message_dict["number"][0]


def test_nobody_logs_a_call_on_another_collectivites_record_or_dossier(tenant_a, tenant_b):
    dossier = dossier_with_phone(tenant_a)
    for actor in (tenant_b.agent, tenant_b.admin):
        with pytest.raises(NotFound):
            calls.log_call(actor=actor, dossier=dossier, direction="in", started_at=timezone.now())
        with pytest.raises(NotFound):
            calls.log_call(
                actor=actor, usager=dossier.usager, direction="in", started_at=timezone.now()
            )
    assert not Call.objects.exists()


def test_a_reported_call_is_linked_to_a_record_and_dossier_then_audited(tenant_a):
    dossier = dossier_with_phone(tenant_a)
    call = Call.objects.create(
        collectivite=tenant_a.collectivite,
        line=line_of(tenant_a),
        direction="in",
        number="+33612000001",
        started_at=timezone.now(),
        status="answered",
        agent=tenant_a.agent,
    )
    calls.update_call(actor=tenant_a.agent, call=call, notes="Rappeler lundi", dossier=dossier)
    call.refresh_from_db()
    assert call.dossier == dossier and call.usager_id == dossier.usager_id
    assert call.notes == "Rappeler lundi"
    event = Event.objects.get(action="call.updated", object_id=str(call.pk))
    assert event.payload["dossier"] == [None, dossier.pk] and event.payload["notes"] is True


# --- the CTI endpoint -------------------------------------------------------------------------


def test_the_telephony_is_refused_without_the_lines_secret(tenant_a):
    line = line_of(tenant_a)
    for secret in (None, "", "faux", SECRET + "x"):
        response = cti(line, event(), secret=secret)
        assert response.status_code == 401
        assert "secret" in response.json()["detail"]
    assert not Call.objects.exists()


def test_an_unknown_or_inactive_line_is_not_found(tenant_a):
    line = line_of(tenant_a, is_active=False)
    assert cti(line, event()).status_code == 404
    line.pk = 999999
    response = cti(line, event())
    assert response.status_code == 404 and response.json()["detail"]


def test_events_of_one_call_update_the_same_row_and_never_go_back(tenant_a):
    line = line_of(tenant_a)
    start = timezone.now() - datetime.timedelta(minutes=3)
    ringing = event("ringing", at=start.isoformat())
    assert cti(line, ringing).status_code == 200
    assert cti(line, ringing).status_code == 200  # repeated: same call
    answered = event(
        "answered",
        agent=tenant_a.agent.email.upper(),
        at=(start + datetime.timedelta(seconds=10)).isoformat(),
    )
    assert cti(line, answered).json()["status"] == "answered"
    ended = event("ended", at=(start + datetime.timedelta(seconds=130)).isoformat())
    assert cti(line, ended).json()["status"] == "ended"
    assert cti(line, ringing).json()["status"] == "ended"  # a late event changes nothing
    (call,) = Call.objects.all()
    assert call.external_id == "c-1" and call.line == line and call.number == NUMBER
    assert call.status == "ended" and call.agent == tenant_a.agent and call.duration == 130
    assert call.started_at == start
    assert Event.objects.filter(action="call.reported", object_id=str(call.pk)).count() == 3


def test_the_answer_names_the_records_with_that_number_and_their_open_dossiers(tenant_a):
    dossier = dossier_with_phone(tenant_a)
    closed = dossier_with_phone(tenant_a, slug="autre")
    Dossier.objects.filter(pk=closed.pk).update(usager=dossier.usager, closed_at=timezone.now())
    Usager.objects.filter(pk=closed.usager_id).update(phones=[])
    merged = UsagerFactory(collectivite=tenant_a.collectivite, phones=[NUMBER])
    Usager.objects.filter(pk=merged.pk).update(merged_into=dossier.usager)
    response = cti(line_of(tenant_a), event())
    assert response.status_code == 200
    body = response.json()
    (found,) = body["usagers"]
    assert found["id"] == dossier.usager_id
    (open_dossier,) = found["dossiers"]
    assert open_dossier["reference"] == dossier.reference
    assert open_dossier["demarche"] == "Démarche de test" and open_dossier["status"]
    assert body["screen_url"].endswith("/backoffice/appels/entrant/")
    assert Call.objects.get(pk=body["call"]).usager_id == dossier.usager_id


def test_a_line_of_one_collectivite_never_shows_anothers_records(tenant_a, tenant_b):
    dossier_with_phone(tenant_a)
    response = cti(line_of(tenant_b, secret="secret-B"), event(), secret="secret-B")
    assert response.status_code == 200 and response.json()["usagers"] == []
    (call,) = Call.objects.all()
    assert call.collectivite == tenant_b.collectivite and call.usager is None
    # Nor does it take an agent of another collectivité as the one who answered.
    cti(
        line_of(tenant_b, secret="secret-B2"),
        event("answered", call_id="c-2", agent=tenant_a.agent.email),
        secret="secret-B2",
    )
    assert Call.objects.get(external_id="c-2").agent is None


@pytest.mark.parametrize(
    ("raw", "status", "field"),
    [
        (b"{not json", 400, None),
        (b"[1, 2]", 400, None),
        (json.dumps(event(number="12")).encode(), 422, "from"),
        (json.dumps({**event(), "event": "hung"}).encode(), 422, "event"),
        (json.dumps({k: v for k, v in event().items() if k != "call_id"}).encode(), 422, "call_id"),
        (json.dumps({**event(), "at": "hier"}).encode(), 422, "at"),
        (json.dumps({**event(), "at": "2026-01-05T10:00:00"}).encode(), 422, "at"),
    ],
)
def test_a_bad_event_is_answered_with_a_json_reason(tenant_a, raw, status, field):
    response = cti(line_of(tenant_a), None, raw=raw)
    assert response.status_code == status
    body = response.json()
    assert body["detail"]
    if field:
        assert field in body["errors"]
    assert not Call.objects.exists()


def test_a_hidden_number_is_a_call_without_a_match(tenant_a):
    UsagerFactory(collectivite=tenant_a.collectivite, phones=[NUMBER])
    response = cti(line_of(tenant_a), event(number="anonymous"))
    assert response.status_code == 200 and response.json()["usagers"] == []
    assert Call.objects.get().number == ""


# --- pages ------------------------------------------------------------------------------------


def test_noting_a_call_from_the_citizen_record(tenant_a):
    dossier = dossier_with_phone(tenant_a)
    client = staff_client(tenant_a.agent)
    url = reverse("backoffice:call_log") + f"?usager={dossier.usager_id}"
    page = client.get(url)
    assert page.status_code == 200 and dossier.reference in page.content.decode()
    response = client.post(
        url,
        {
            "direction": "in",
            "number": "",
            "started_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "minutes": "3",
            "dossier": dossier.pk,
            "notes": "A appelé pour son banc cassé.",
        },
    )
    assert response.status_code == 302 and response.url == reverse(
        "backoffice:dossier", args=[dossier.pk]
    )
    call = Call.objects.get()
    assert call.dossier == dossier and call.duration == 180 and call.number == NUMBER


def test_the_call_form_says_what_is_wrong_in_french(tenant_a):
    usager = UsagerFactory(collectivite=tenant_a.collectivite)
    client = staff_client(tenant_a.agent)
    future = timezone.localtime() + datetime.timedelta(days=1)
    response = client.post(
        reverse("backoffice:call_log") + f"?usager={usager.pk}",
        {"direction": "in", "number": "abc", "started_at": future.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Le formulaire contient des erreurs" in page
    assert "pas un numéro de téléphone valide" in page and "ne peut pas être à venir" in page
    assert not Call.objects.exists()


def test_call_pages_of_another_collectivite_are_not_found(tenant_a, tenant_b, platform_admin):
    dossier = dossier_with_phone(tenant_a)
    call = calls.log_call(
        actor=tenant_a.agent, dossier=dossier, direction="in", started_at=timezone.now()
    )
    for user in (tenant_b.agent, tenant_b.admin, platform_admin):
        client = staff_client(user)
        for url in (
            reverse("backoffice:call_edit", args=[call.pk]),
            reverse("backoffice:call_log") + f"?usager={dossier.usager_id}",
            reverse("backoffice:call_log") + f"?dossier={dossier.pk}",
        ):
            assert client.get(url).status_code == 404, (user, url)
            assert client.post(url, {"notes": "x", "direction": "in"}).status_code == 404
    assert Call.objects.get().notes == ""
    # The platform's admins have no call log at all.
    assert staff_client(platform_admin).get(reverse("backoffice:call_list")).status_code == 404


def test_an_agent_of_another_service_does_not_reach_a_call_of_this_service(tenant_a):
    other = MembershipFactory(
        collectivite=tenant_a.collectivite,
        service=ServiceFactory(collectivite=tenant_a.collectivite),
    ).user
    dossier = dossier_with_phone(tenant_a)
    call = calls.log_call(
        actor=tenant_a.agent, dossier=dossier, direction="in", started_at=timezone.now()
    )
    assert (
        staff_client(other).get(reverse("backoffice:call_edit", args=[call.pk])).status_code == 404
    )
    assert (
        staff_client(tenant_a.admin)
        .get(reverse("backoffice:call_edit", args=[call.pk]))
        .status_code
        == 200
    )


def test_the_edit_page_links_a_reported_call_to_a_dossier_by_its_reference(tenant_a, tenant_b):
    dossier = dossier_with_phone(tenant_a)
    foreign = dossier_with_phone(tenant_b)
    cti(line_of(tenant_a), event("answered", agent=tenant_a.agent.email, number="0612000001"))
    call = Call.objects.get()
    client = staff_client(tenant_a.agent)
    url = reverse("backoffice:call_edit", args=[call.pk])
    refused = client.post(url, {"dossier_reference": foreign.reference, "notes": ""})
    assert (
        refused.status_code == 200
        and "Aucun dossier de votre périmètre" in refused.content.decode()
    )
    response = client.post(url, {"dossier_reference": dossier.reference.lower(), "notes": "Vu"})
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.dossier == dossier and call.usager_id == dossier.usager_id and call.notes == "Vu"


def test_the_call_log_lists_ringing_calls_first(tenant_a):
    line = line_of(tenant_a)
    old = calls.log_call(
        actor=tenant_a.agent,
        number="0241001020",
        direction="out",
        started_at=timezone.now() - datetime.timedelta(minutes=1),
    )
    cti(line, event(at=(timezone.now() - datetime.timedelta(minutes=2)).isoformat()))
    ringing = Call.objects.get(status="ringing")
    page = staff_client(tenant_a.agent).get(reverse("backoffice:call_list")).content.decode()
    assert page.index(f'data-call="{ringing.pk}"') < page.index(f'data-call="{old.pk}"')


# --- the incoming-call screen -----------------------------------------------------------------


def test_the_incoming_screen_shows_the_callers_record_to_the_lines_agents(tenant_a, tenant_b):
    dossier = dossier_with_phone(tenant_a)
    cti(line_of(tenant_a), event())
    client = staff_client(tenant_a.agent)
    page = client.get(reverse("backoffice:call_incoming"))
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("backoffice:usager_detail", args=[dossier.usager_id]) in html
    assert dossier.reference in html and 'aria-live="polite"' in html
    partial = client.get(reverse("backoffice:call_incoming") + "?partiel=1").content.decode()
    assert dossier.reference in partial and "<html" not in partial
    # Another collectivité's agent, another service's agent: nothing.
    other = MembershipFactory(
        collectivite=tenant_a.collectivite,
        service=ServiceFactory(collectivite=tenant_a.collectivite),
    ).user
    for user in (tenant_b.agent, tenant_b.admin, other):
        html = staff_client(user).get(reverse("backoffice:call_incoming")).content.decode()
        assert dossier.reference not in html and "Aucun appel en cours" in html


def test_the_incoming_screen_keeps_an_answered_call_for_its_agent_only(tenant_a):
    manager_client = staff_client(tenant_a.manager)
    line = line_of(tenant_a)
    cti(line, event())
    assert "+33 6" not in manager_client.get(reverse("backoffice:call_incoming")).content.decode()
    assert (
        "Aucun appel en cours"
        not in manager_client.get(reverse("backoffice:call_incoming")).content.decode()
    )
    cti(line, event("answered", agent=tenant_a.agent.email))
    assert (
        "Aucun appel en cours"
        in manager_client.get(reverse("backoffice:call_incoming")).content.decode()
    )
    agent_page = staff_client(tenant_a.agent).get(reverse("backoffice:call_incoming"))
    assert "Décroché" in agent_page.content.decode()
    # Old ringing calls leave the screen.
    Call.objects.update(
        status="ringing", agent=None, started_at=timezone.now() - datetime.timedelta(minutes=30)
    )
    assert (
        "Aucun appel en cours"
        in manager_client.get(reverse("backoffice:call_incoming")).content.decode()
    )
