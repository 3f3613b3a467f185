"""A dossier's life in the admin, read-only, for its collectivité's admins only."""

import pytest
from django.urls import reverse

from grc.base.models import Channel
from grc.demarches.services.dossiers import submit_dossier
from grc.demarches.workflow import services as workflow
from grc.demarches.workflow.actions import run_status_change_actions
from tests.demarches.factories import definition, field, published

pytestmark = pytest.mark.django_db


@pytest.fixture
def dossier(tenant_a):
    demarche = published(
        tenant_a.collectivite, tenant_a.service, definition([field("objet", required=True)])
    )
    version = demarche.versions.get()
    for status in version.workflow["statuses"]:
        if status["key"] == "instruction":
            status["actions"].insert(0, {"type": "note", "body": "{{ 1 / 0 }}"})
    version.save()
    filed = submit_dossier(
        demarche=demarche,
        answers_given={"objet": "x"},
        channel=Channel.WEB,
        actor=None,
        contact_email="a@exemple.test",
    )
    change = workflow.apply_transition(filed, "instruire", actor=tenant_a.agent)
    run_status_change_actions(change.pk)
    return filed


def test_the_admin_sees_the_outcome_of_each_action(client, tenant_a, dossier):
    client.force_login(tenant_a.admin)
    page = client.get(reverse("admin:demarches_dossier_change", args=[dossier.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert dossier.reference in text
    assert "n&#x27;a pas pu être produit" in text  # the failed note, and why
    assert "Commencer l&#x27;instruction" in text


def test_another_collectivites_admin_and_agents_see_nothing(client, tenant_a, tenant_b, dossier):
    url = reverse("admin:demarches_dossier_change", args=[dossier.pk])
    client.force_login(tenant_b.admin)
    assert client.get(url).status_code == 302  # "does not exist", as for any missing id
    listing = client.get(reverse("admin:demarches_dossier_changelist"))
    assert dossier.reference not in listing.content.decode()
    client.force_login(tenant_a.agent)
    assert client.get(url).status_code == 302  # to the login: no admin access
