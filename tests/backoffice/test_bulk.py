"""Bulk actions on a selection of dossiers: each through the page's services, each audited;
dossiers outside the agent's scope are never touched and reported as not found."""

import pytest

from grc.base.models import Event, Role
from grc.demarches.models import Dossier
from tests.demarches.dossier_helpers import demarche_for, file_dossier, quiet_workflow
from tests.factories import MembershipFactory, ServiceFactory

pytestmark = pytest.mark.django_db

BULK = "/backoffice/dossiers/lot/"


@pytest.fixture
def mine(tenant_a):
    demarche = demarche_for(tenant_a, workflow=quiet_workflow())
    return [file_dossier(demarche, contact_email=f"u{i}@exemple.test") for i in range(3)]


@pytest.fixture
def theirs(tenant_b):
    return file_dossier(demarche_for(tenant_b, slug="b"), contact_email="b@exemple.test")


@pytest.fixture
def other_service(tenant_a):
    service = ServiceFactory(collectivite=tenant_a.collectivite)
    demarche = demarche_for(tenant_a, slug="autre")
    demarche.service = service
    demarche.save(update_fields=["service"])
    dossier = file_dossier(demarche, contact_email="c@exemple.test")
    assert dossier.service == service
    return dossier


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_assign_to_me(agent_client, mine, tenant_a):
    response = agent_client.post(
        BULK,
        {"dossiers": [d.pk for d in mine], "action": "assign_me", "next": "/backoffice/"},
        follow=True,
    )
    assert response.redirect_chain[0][0] == "/backoffice/"
    assert {d.assignee for d in Dossier.objects.filter(pk__in=[d.pk for d in mine])} == {
        tenant_a.agent
    }
    assert Event.objects.filter(action="dossier.assigned").count() == 3
    assert any("3 dossiers traités" in m for m in messages_of(response))


def test_out_of_scope_ids_are_reported_and_never_touched(
    agent_client, mine, theirs, other_service, tenant_a
):
    response = agent_client.post(
        BULK,
        {
            "dossiers": [mine[0].pk, theirs.pk, other_service.pk, 987654, "pas-un-nombre"],
            "action": "assign_me",
        },
        follow=True,
    )
    texts = messages_of(response)
    assert any("1 dossier traité" in m for m in texts)
    assert any("3 dossiers introuvables" in m for m in texts)
    # Never a reference of someone else's dossier in the answer.
    assert not any(theirs.reference in m or other_service.reference in m for m in texts)
    theirs.refresh_from_db()
    other_service.refresh_from_db()
    assert theirs.assignee is None and other_service.assignee is None
    assert not Event.objects.filter(
        action="dossier.assigned", object_id__in=[str(theirs.pk), str(other_service.pk)]
    ).exists()


def test_transition_with_per_dossier_outcome(agent_client, mine, tenant_a):
    from grc.demarches.workflow.services import apply_transition

    apply_transition(mine[0], "instruire", actor=tenant_a.agent)
    response = agent_client.post(
        BULK,
        {"dossiers": [d.pk for d in mine], "action": "transition", "transition": "instruire"},
        follow=True,
    )
    statuses = set(
        Dossier.objects.filter(pk__in=[d.pk for d in mine]).values_list("status", flat=True)
    )
    assert statuses == {"instruction"}
    texts = messages_of(response)
    assert any("2 dossiers traités" in m for m in texts)
    assert any(m.startswith(mine[0].reference) for m in texts)  # already in instruction
    assert (
        Event.objects.filter(action="dossier.status_changed", payload__to="instruction").count()
        == 3
    )


def test_transition_needing_a_comment_is_refused_per_dossier(agent_client, mine):
    response = agent_client.post(
        BULK,
        {"dossiers": [mine[0].pk], "action": "transition", "transition": "classer"},
        follow=True,
    )
    assert any("commentaire est obligatoire" in m for m in messages_of(response))
    mine[0].refresh_from_db()
    assert mine[0].status == "depose"


def test_assign_to_an_agent(agent_client, mine, tenant_a):
    colleague = MembershipFactory(
        collectivite=tenant_a.collectivite, role=Role.AGENT, service=tenant_a.service
    ).user
    agent_client.post(
        BULK, {"dossiers": [mine[0].pk], "action": "assign", "assignee": colleague.pk}
    )
    mine[0].refresh_from_db()
    assert mine[0].assignee == colleague


def test_assign_to_someone_of_another_collectivite_is_refused(agent_client, mine, tenant_b):
    response = agent_client.post(
        BULK,
        {"dossiers": [mine[0].pk], "action": "assign", "assignee": tenant_b.agent.pk},
        follow=True,
    )
    assert any("Cet agent n'existe pas" in m for m in messages_of(response))
    mine[0].refresh_from_db()
    assert mine[0].assignee is None


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"dossiers": ["x"], "action": "assign_me"},
        {"dossiers": ["1"], "action": "supprimer"},
        {"dossiers": ["1"], "action": "transition", "transition": "inconnue"},
    ],
)
def test_bad_input_is_a_message(agent_client, mine, data):
    response = agent_client.post(BULK, data, follow=True)
    assert response.status_code == 200
    assert messages_of(response)


@pytest.mark.parametrize("target", ["https://evil.test/backoffice/", "//evil.test/", "/comptes/"])
def test_next_must_be_a_backoffice_page(agent_client, mine, target):
    response = agent_client.post(
        BULK, {"dossiers": [mine[0].pk], "action": "assign_me", "next": target}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/backoffice/")
    assert "evil" not in response["Location"]


def test_add_a_tag(agent_client, mine):
    agent_client.post(
        BULK, {"dossiers": [d.pk for d in mine[:2]], "action": "tag", "tag": " Urgent "}
    )
    agent_client.post(BULK, {"dossiers": [mine[0].pk], "action": "tag", "tag": "Urgent"})
    assert Dossier.objects.get(pk=mine[0].pk).tags == ["Urgent"]
    assert Dossier.objects.get(pk=mine[1].pk).tags == ["Urgent"]
    assert Dossier.objects.get(pk=mine[2].pk).tags == []
    assert Event.objects.filter(action="dossier.tagged").count() == 2


def test_the_bulk_form_partial_offers_the_service_transitions(rf, mine, tenant_a):
    from django.template.loader import render_to_string

    from grc.backoffice.dossiers.selectors import bulk_choices

    request = rf.get("/backoffice/dossiers/")
    request.user = tenant_a.agent
    context = bulk_choices(tenant_a.agent, mine)
    assert ("instruire", "Commencer l'instruction") in context["bulk_transitions"]
    assert "relancer" not in dict(context["bulk_transitions"])  # the system's
    assert tenant_a.manager in context["bulk_agents"]
    html = render_to_string("backoffice/dossiers/_bulk_actions.html", context, request=request)
    assert 'name="action"' in html and 'value="instruire"' in html
    assert 'name="next" value="/backoffice/dossiers/"' in html


def test_a_tag_too_long_for_the_column_is_refused_not_cut(agent_client, mine):
    from grc.demarches.services.assignment import TAG_MAX_LENGTH

    too_long = "x" * (TAG_MAX_LENGTH + 5)
    agent_client.post(BULK, {"dossiers": [mine[0].pk], "action": "tag", "tag": too_long})
    assert Dossier.objects.get(pk=mine[0].pk).tags == []
    longest = "y" * TAG_MAX_LENGTH
    agent_client.post(BULK, {"dossiers": [mine[0].pk], "action": "tag", "tag": longest})
    assert Dossier.objects.get(pk=mine[0].pk).tags == [longest]
    # And the queue filters on it (its filter takes as long a tag as the column).
    page = agent_client.get("/backoffice/dossiers/mes-services/", {"tag": longest}).content.decode()
    assert "ignoré" not in page and mine[0].reference in page
