"""A citizen reaches only their own dossier: every URL of the dossier's page, read or written,
answers another citizen (or nobody) exactly like a dossier that does not exist, whether they
guess ids or change a form's hidden fields."""

import hashlib
import uuid

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from grc.demarches.acknowledgements.delivery import deliver
from grc.demarches.models import Attachment, Document, Dossier, Message, PieceRequest
from grc.demarches.services import messages as message_services
from grc.demarches.workflow import services as workflow
from grc.demarches.workflow.actions import run_status_change_actions
from tests.demarches.dossier_helpers import demarche_for, file_dossier
from tests.demarches.helpers import PDF, pdf_file, png_file
from tests.factories import CollectiviteFactory, UserFactory

pytestmark = pytest.mark.django_db


def client_for(user=None) -> Client:
    client = Client(HTTP_HOST="127.0.0.1")
    if user is not None:
        client.force_login(user)
    return client


class World:
    """Alice's dossier with something behind every URL (a form file, a message with a file, an
    acknowledgement PDF, a document, an open request for pieces); Bruno's own dossier; an
    anonymous filer's, reachable from the browser that sent it."""

    def __init__(self, tenant):
        self.alice, self.bruno = UserFactory(), UserFactory()
        demarche = demarche_for(tenant)
        self.dossier = file_dossier(demarche, account=self.alice, with_file=True)
        self.own = file_dossier(demarche, account=self.bruno, with_file=True)
        self.anonymous = file_dossier(demarche, contact_email="anonyme@exemple.test")
        deliver(self.dossier.acknowledgements.get(kind="are").pk)  # its PDF
        message = message_services.post_service_message(
            dossier=self.dossier,
            actor=tenant.agent,
            body="Voici le plan.",
            uploads=[pdf_file("plan.pdf")],
        )
        self.message_file = message.attachment_links.get().attachment
        self.form_file = Attachment.objects.get(dossier=self.dossier, field_key="justificatif")
        self.document = Document(
            dossier=self.dossier,
            kind="decision",
            title="Lettre",
            sha256=hashlib.sha256(PDF).hexdigest(),
        )
        self.document.file.save("lettre.pdf", ContentFile(PDF), save=False)
        self.document.save()
        change = workflow.apply_transition(
            self.dossier,
            "demander_pieces",
            actor=tenant.agent,
            data={"pieces_demandees": "Photo", "delai_pieces": 10},
        )
        run_status_change_actions(change.pk)
        self.dossier.refresh_from_db()
        self.anonymous_browser = client_for()
        session = self.anonymous_browser.session
        session["submitted_dossiers"] = [str(self.anonymous.uuid)]
        session.save()

    def urls(self, dossier=None, *, files_of=None):
        dossier = dossier or self.dossier
        files_of = files_of or self
        slug = dossier.collectivite.slug
        return {
            "page": reverse("portal:dossier", args=[slug, dossier.uuid]),
            "message file": reverse(
                "portal:dossier_attachment", args=[slug, dossier.uuid, files_of.message_file.pk]
            ),
            "form file": reverse(
                "portal:dossier_attachment", args=[slug, dossier.uuid, files_of.form_file.pk]
            ),
            "document": reverse(
                "portal:document_pdf", args=[slug, dossier.uuid, files_of.document.pk]
            ),
            "acknowledgement": reverse(
                "portal:acknowledgement_pdf", args=[slug, dossier.uuid, "are"]
            ),
            "withdrawal confirmation": reverse(
                "portal:dossier_action_confirm", args=[slug, dossier.uuid, "retirer"]
            ),
        }

    def posts(self, dossier=None):
        dossier = dossier or self.dossier
        slug = dossier.collectivite.slug
        return {
            reverse("portal:dossier_message", args=[slug, dossier.uuid]): {
                "body": "Intrus",
                "files": [png_file()],
            },
            reverse("portal:dossier_pieces", args=[slug, dossier.uuid]): {
                "pieces": [png_file()],
                "message": "Intrus",
            },
            reverse("portal:dossier_action", args=[slug, dossier.uuid]): {"transition": "retirer"},
        }


@pytest.fixture
def world(tenant_a, smtp_server, media):
    return World(tenant_a)


def test_the_owner_reaches_every_url_of_their_dossier(world):
    alice = client_for(world.alice)
    for what, url in world.urls().items():
        assert alice.get(url).status_code == 200, what


def test_another_citizen_or_a_stranger_reaches_none(world):
    for who, client in (
        ("another account", client_for(world.bruno)),
        ("no account", client_for()),
        ("another anonymous filer", world.anonymous_browser),
    ):
        for what, url in world.urls().items():
            assert client.get(url).status_code == 404, f"{who}: {what}"


def test_nobody_else_can_write_to_the_dossier(world):
    before = (Message.objects.count(), Attachment.objects.count())
    for who, client in (("bruno", client_for(world.bruno)), ("nobody", client_for())):
        for url, data in world.posts().items():
            assert client.post(url, data).status_code == 404, f"{who}: {url}"
    assert (Message.objects.count(), Attachment.objects.count()) == before
    world.dossier.refresh_from_db()
    assert world.dossier.status == "attente_pieces"
    assert PieceRequest.objects.get(dossier=world.dossier).status == "open"


def test_ids_of_another_dossier_through_ones_own_are_not_found(world):
    """Bruno opens his own dossier's URLs with Alice's file and document ids."""
    bruno = client_for(world.bruno)
    assert bruno.get(world.urls(world.own)["page"]).status_code == 200
    for what, url in world.urls(world.own, files_of=world).items():
        if what in ("message file", "form file", "document"):
            assert bruno.get(url).status_code == 404, what
    # A made-up dossier id, and Alice's dossier on another collectivité's address.
    slug = world.dossier.collectivite.slug
    assert bruno.get(reverse("portal:dossier", args=[slug, uuid.uuid4()])).status_code == 404
    other = CollectiviteFactory()
    alice = client_for(world.alice)
    assert (
        alice.get(reverse("portal:dossier", args=[other.slug, world.dossier.uuid])).status_code
        == 404
    )


def test_an_anonymous_filer_reaches_only_the_dossier_this_browser_sent(world):
    browser = world.anonymous_browser
    slug = world.anonymous.collectivite.slug
    assert (
        browser.get(reverse("portal:dossier", args=[slug, world.anonymous.uuid])).status_code == 200
    )
    assert (
        client_for().get(reverse("portal:dossier", args=[slug, world.anonymous.uuid])).status_code
        == 404
    )


def test_changing_hidden_fields_does_not_reach_another_dossier(world):
    """Posts to one's own dossier carrying another dossier's id or a step one may not take."""
    bruno = client_for(world.bruno)
    slug = world.own.collectivite.slug
    response = bruno.post(
        reverse("portal:dossier_message", args=[slug, world.own.uuid]),
        {"body": "Bonjour", "dossier": str(world.dossier.uuid), "uuid": str(world.dossier.uuid)},
    )
    assert response.status_code == 302
    assert Message.objects.filter(dossier=world.own, direction="in").count() == 1
    assert not Message.objects.filter(dossier=world.dossier, direction="in").exists()

    action = reverse("portal:dossier_action", args=[slug, world.own.uuid])
    for step in ("reprendre", "accepter", "instruire", "inconnue"):
        response = bruno.post(action, {"transition": step, "dossier": str(world.dossier.uuid)})
        assert response.status_code == 400, step
    assert Dossier.objects.get(pk=world.own.pk).status == "depose"
    assert Dossier.objects.get(pk=world.dossier.pk).status == "attente_pieces"
    # The confirmation page of a step the citizen may not take does not exist.
    assert (
        bruno.get(
            reverse("portal:dossier_action_confirm", args=[slug, world.own.uuid, "accepter"])
        ).status_code
        == 404
    )


def test_a_file_of_an_internal_note_is_never_served_to_the_citizen(world, tenant_a):
    from grc.demarches.models import MessageAttachment
    from grc.demarches.services.dossiers import attach_message_file

    note = Message.objects.create(dossier=world.dossier, direction="note", body="Interne")
    attachment = attach_message_file(
        dossier=world.dossier, message_id=note.pk, upload=pdf_file("interne.pdf")
    )
    MessageAttachment.objects.create(message=note, attachment=attachment)
    alice = client_for(world.alice)
    slug = world.dossier.collectivite.slug
    url = reverse("portal:dossier_attachment", args=[slug, world.dossier.uuid, attachment.pk])
    assert alice.get(url).status_code == 404
    page = alice.get(reverse("portal:dossier", args=[slug, world.dossier.uuid]))
    assert "Interne" not in page.content.decode() and "interne.pdf" not in page.content.decode()
