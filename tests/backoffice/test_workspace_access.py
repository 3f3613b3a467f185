"""Every URL of the agents' workspace answers "not found" outside the person's scope: an agent of
another collectivité, an agent of another service of the same collectivité, a platform admin
without a role there, a citizen (even the dossier's own) get a 404, never data; an anonymous
visitor is sent to the login page. Writes change nothing."""

import pytest
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile

from grc.base.models import Event, Role
from grc.demarches.models import Acknowledgement, Document, Dossier, Message
from tests.backoffice.conftest import HOST
from tests.demarches.dossier_helpers import demarche_for, file_dossier, quiet_workflow
from tests.factories import MembershipFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

# --- The dossier page and its actions (issue 6, points 2 and 6) -------------------------------


@pytest.fixture
def citizen(db):
    return UserFactory(email="usager@exemple.test")


@pytest.fixture
def dossier(tenant_a, citizen, media):
    found = file_dossier(
        demarche_for(tenant_a, workflow=quiet_workflow()), account=citizen, with_file=True
    )
    Document.objects.create(
        dossier=found,
        kind="decision",
        title="Décision",
        file=ContentFile(b"%PDF-1.7 decision", name="decision.pdf"),
        sha256="0" * 64,
    )
    ack = Acknowledgement.objects.get(dossier=found, kind=Acknowledgement.Kind.RECEPTION)
    ack.pdf.save("are.pdf", ContentFile(b"%PDF-1.7 are"), save=True)
    return found


def dossier_urls(dossier) -> dict[str, list]:
    base = f"/backoffice/dossiers/{dossier.pk}/"
    attachment = dossier.attachments.get()
    document = dossier.documents.get()
    return {
        "get": [
            base,
            f"{base}?reponse_type=1",
            f"{base}fichiers/{attachment.pk}/",
            f"{base}fichiers/{attachment.pk}/?telecharger=1",
            f"{base}documents/{document.pk}/",
            f"{base}accuses/are/",
        ],
        "post": [
            (f"{base}action/", {"transition": "instruire", "from_status": "depose"}),
            (f"{base}attribuer/", {"action": "me"}),
            (f"{base}transmettre/", {"service": "1", "reason": "Pris"}),
            (f"{base}repondre/", {"body": "Pris"}),
            (f"{base}note/", {"body": "Pris"}),
            (f"{base}annotations/", {"annotation": "Pris"}),
        ],
    }


def outsider(kind: str, tenant_a, tenant_b, platform_admin, citizen):
    if kind == "tenant_b_agent":
        return tenant_b.agent
    if kind == "tenant_b_admin":
        return tenant_b.admin
    if kind == "other_service_agent":
        return MembershipFactory(
            collectivite=tenant_a.collectivite,
            role=Role.AGENT,
            service=ServiceFactory(collectivite=tenant_a.collectivite),
        ).user
    if kind == "platform_admin":
        return platform_admin
    return citizen


OUTSIDERS = [
    "tenant_b_agent",
    "tenant_b_admin",
    "other_service_agent",
    "platform_admin",
    "citizen",
]


def state(dossier) -> tuple:
    fresh = Dossier.objects.get(pk=dossier.pk)
    return (
        fresh.status,
        fresh.assignee_id,
        fresh.service_id,
        fresh.annotations,
        Message.objects.filter(dossier=dossier).count(),
        Event.objects.filter(object_id=str(dossier.pk), action__startswith="dossier.")
        .exclude(action="dossier.viewed")
        .count(),
    )


def test_the_dossier_s_staff_reach_every_url(client, dossier, tenant_a):
    client.force_login(tenant_a.agent)
    for url in dossier_urls(dossier)["get"]:
        assert client.get(url, HTTP_HOST=HOST).status_code == 200, url


@pytest.mark.parametrize("kind", OUTSIDERS)
def test_outsiders_get_not_found_everywhere(
    client, kind, dossier, tenant_a, tenant_b, platform_admin, citizen
):
    client.force_login(outsider(kind, tenant_a, tenant_b, platform_admin, citizen))
    before = state(dossier)
    urls = dossier_urls(dossier)
    for url in urls["get"]:
        response = client.get(url, HTTP_HOST=HOST)
        assert response.status_code == 404, (kind, url)
        assert dossier.reference.encode() not in b"".join(
            getattr(response, "streaming_content", [response.content])
        )
    for url, data in urls["post"]:
        response = client.post(url, data, HTTP_HOST=HOST)
        assert response.status_code == 404, (kind, url)
    assert state(dossier) == before
    assert not Event.objects.filter(action="dossier.viewed", object_id=str(dossier.pk)).exists()


@pytest.mark.parametrize("kind", OUTSIDERS)
def test_outsiders_bulk_actions_touch_nothing(
    client, kind, dossier, tenant_a, tenant_b, platform_admin, citizen
):
    client.force_login(outsider(kind, tenant_a, tenant_b, platform_admin, citizen))
    before = state(dossier)
    for data in (
        {"action": "assign_me"},
        {"action": "transition", "transition": "instruire"},
        {"action": "tag", "tag": "pris"},
    ):
        response = client.post(
            "/backoffice/dossiers/lot/",
            {"dossiers": [dossier.pk], **data},
            HTTP_HOST=HOST,
        )
        assert response.status_code == 302
        texts = [str(m) for m in get_messages(response.wsgi_request)]
        assert texts and not any(dossier.reference in t for t in texts)
    assert state(dossier) == before


def test_anonymous_visitors_are_sent_to_log_in(client, dossier):
    urls = dossier_urls(dossier)
    for url in urls["get"]:
        response = client.get(url, HTTP_HOST=HOST)
        assert response.status_code == 302 and "/comptes/" in response["Location"], url
    for url, data in [*urls["post"], ("/backoffice/dossiers/lot/", {"dossiers": [dossier.pk]})]:
        response = client.post(url, {**data, "action": "assign_me"}, HTTP_HOST=HOST)
        assert response.status_code == 302 and "/comptes/" in response["Location"], url
    assert Dossier.objects.get(pk=dossier.pk).assignee_id is None


def test_files_of_another_dossier_are_not_reached_through_mine(client, dossier, tenant_a, tenant_b):
    """An agent's own dossier in the URL, another collectivité's file id after it."""
    other = file_dossier(demarche_for(tenant_b, slug="b"), contact_email="b@exemple.test",
                         with_file=True)  # fmt: skip
    client.force_login(tenant_a.agent)
    base = f"/backoffice/dossiers/{dossier.pk}/"
    assert (
        client.get(f"{base}fichiers/{other.attachments.get().pk}/", HTTP_HOST=HOST).status_code
        == 404
    )
