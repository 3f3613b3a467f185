"""The dossier page of the agents' workspace: what it shows, what an agent does from it, what it
records, and a fixed number of queries however long the dossier's life."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grc.backoffice.models import CannedResponse
from grc.base.models import Event, Membership, Role
from grc.demarches.models import Dossier, Message
from grc.demarches.services import messages as message_services
from grc.demarches.services.assignment import assign_dossier
from grc.demarches.workflow import services as workflow
from tests.backoffice.conftest import HOST
from tests.demarches.dossier_helpers import demarche_for, file_dossier, quiet_workflow
from tests.demarches.helpers import png_file
from tests.factories import MembershipFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def citizen(db):
    return UserFactory(email="marie@exemple.test", first_name="Marie", last_name="Dubois")


@pytest.fixture
def dossier(tenant_a, citizen, media):
    demarche = demarche_for(tenant_a, workflow=quiet_workflow())
    return file_dossier(demarche, account=citizen, with_file=True)


def url(dossier, suffix=""):
    return f"/backoffice/dossiers/{dossier.pk}/{suffix}"


def test_the_page_shows_the_dossier_and_its_life(agent_client, dossier, tenant_a, citizen):
    message_services.post_citizen_message(
        dossier=dossier, actor=citizen, body="Bonjour, où en est-on ?"
    )
    message_services.post_internal_note(
        dossier=dossier, actor=tenant_a.agent, body="Voir M. Martin"
    )
    response = agent_client.get(url(dossier))
    assert response.status_code == 200
    page = response.text
    assert dossier.reference in page
    assert "Démarche de test" in page
    assert "Déposé" in page  # the status as agents name it
    assert "Banc cassé" in page  # the answers as given
    assert "justificatif.pdf" in page
    assert f"/backoffice/dossiers/{dossier.pk}/fichiers/" in page
    assert "<iframe" in page  # the PDF preview
    assert "Bonjour, où en est-on ?" in page
    assert "canal : Site web" in page
    # The note is set apart from what the citizen sees.
    assert "bo-event--internal" in page
    assert "Note interne – invisible pour l&#x27;usager" in page or (
        "Note interne – invisible pour l'usager" in page
    )
    assert "Voir M. Martin" in page
    # The transitions the service may take from "Déposé".
    assert "Commencer l&#x27;instruction" in page or "Commencer l'instruction" in page
    assert "Demander des pièces" in page
    assert "Retirer ma demande" not in page  # the citizen's
    assert "Relancer l&#x27;usager" not in page and "Relancer l'usager" not in page  # system


def test_opening_the_page_is_audited_and_reads_the_citizen_messages(
    agent_client, dossier, citizen, tenant_a
):
    message = message_services.post_citizen_message(dossier=dossier, actor=citizen, body="Allô")
    agent_client.get(url(dossier))
    viewed = Event.objects.filter(action="dossier.viewed", object_id=str(dossier.pk))
    assert viewed.count() == 1
    assert viewed.get().actor == tenant_a.agent
    assert viewed.get().collectivite_id == dossier.collectivite_id
    message.refresh_from_db()
    assert message.read_at is not None
    agent_client.get(url(dossier))
    assert viewed.count() == 2


def test_an_image_shows_inline_with_its_name_as_alt_text(agent_client, dossier, citizen):
    message_services.post_citizen_message(
        dossier=dossier, actor=citizen, body="La photo", uploads=[png_file("banc.png")]
    )
    page = agent_client.get(url(dossier)).text
    assert 'alt="banc.png"' in page


def test_preview_and_download_headers(agent_client, dossier):
    attachment = dossier.attachments.get()
    preview = agent_client.get(url(dossier, f"fichiers/{attachment.pk}/"))
    assert preview.status_code == 200
    assert preview["Content-Disposition"].startswith("inline")
    assert preview["X-Content-Type-Options"] == "nosniff"
    assert preview["Content-Type"] == "application/pdf"
    assert preview["X-Frame-Options"] == "SAMEORIGIN"
    assert b"".join(preview.streaming_content).startswith(b"%PDF")
    download = agent_client.get(url(dossier, f"fichiers/{attachment.pk}/?telecharger=1"))
    assert download["Content-Disposition"].startswith("attachment")
    assert 'filename="justificatif.pdf"' in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert agent_client.get(url(dossier, "fichiers/999999/")).status_code == 404


def test_a_transition_moves_the_dossier(agent_client, dossier):
    response = agent_client.post(
        url(dossier, "action/"), {"transition": "instruire", "from_status": "depose"}
    )
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == "instruction"
    page = agent_client.get(url(dossier)).text
    assert "C&#x27;est fait" in page or "C'est fait" in page


def test_a_transition_with_errors_shows_them(agent_client, dossier):
    response = agent_client.post(
        url(dossier, "action/"),
        {
            "transition": "demander_pieces",
            "from_status": "depose",
            "t-demander_pieces-pieces_demandees": "",
            "t-demander_pieces-delai_pieces": "500",
        },
    )
    assert response.status_code == 400
    page = response.text
    assert 'role="alert"' in page
    assert "Pièces demandées (une par ligne)" in page
    assert "<details open" in page
    dossier.refresh_from_db()
    assert dossier.status == "depose"


def test_a_refusal_needs_its_comment(agent_client, dossier, tenant_a):
    workflow.apply_transition(dossier, "instruire", actor=tenant_a.agent)
    response = agent_client.post(
        url(dossier, "action/"),
        {"transition": "refuser", "from_status": "instruction", "t-refuser-comment": ""},
    )
    assert response.status_code == 400
    assert "Commentaire pour « Refuser » (obligatoire)" in response.text
    dossier.refresh_from_db()
    assert dossier.status == "instruction"


def test_a_dossier_that_moved_meanwhile_says_what_it_is_now(agent_client, dossier, tenant_a):
    # The agent's page was drawn in "Déposé"; a colleague started the instruction since.
    workflow.apply_transition(dossier, "instruire", actor=tenant_a.manager)
    response = agent_client.post(
        url(dossier, "action/"), {"transition": "instruire", "from_status": "depose"}, follow=True
    )
    assert response.status_code == 200
    page = response.text
    assert "Ce dossier a changé entre-temps : il est maintenant « En instruction »" in page
    assert response.redirect_chain[-1][0] == url(dossier)
    assert Dossier.objects.get(pk=dossier.pk).status_changes.count() == 2


def test_moved_between_the_check_and_the_lock(agent_client, dossier, tenant_a, monkeypatch):
    """The race inside apply_transition itself: the page's check passed, the lock says no."""
    real = workflow.apply_transition

    def colleague_first(target, key, **kwargs):
        real(
            Dossier.objects.get(pk=target.pk), "classer", actor=tenant_a.manager, comment="Doublon"
        )
        return real(target, key, **kwargs)

    monkeypatch.setattr(workflow, "apply_transition", colleague_first)
    response = agent_client.post(
        url(dossier, "action/"), {"transition": "instruire", "from_status": "depose"}, follow=True
    )
    assert "Ce dossier a changé entre-temps : il est maintenant « Classé sans suite »" in (
        response.text
    )


def test_a_bad_transition_key_is_a_message_not_an_error(agent_client, dossier):
    response = agent_client.post(
        url(dossier, "action/"),
        {"transition": "pieces_recues", "from_status": "depose"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Cette action n&#x27;est pas possible" in response.text or (
        "Cette action n'est pas possible" in response.text
    )


def test_assign_to_me_to_a_colleague_and_to_a_service(agent_client, dossier, tenant_a):
    agent_client.post(url(dossier, "attribuer/"), {"action": "me"})
    dossier.refresh_from_db()
    assert dossier.assignee == tenant_a.agent
    event = Event.objects.filter(action="dossier.assigned").last()
    assert event.payload["after"]["assignee"] == tenant_a.agent.pk

    agent_client.post(
        url(dossier, "attribuer/"), {"action": "agent", "assignee": tenant_a.manager.pk}
    )
    dossier.refresh_from_db()
    assert dossier.assignee == tenant_a.manager

    # Someone of another service cannot be given the dossier.
    outsider = MembershipFactory(
        collectivite=tenant_a.collectivite,
        role=Role.AGENT,
        service=ServiceFactory(collectivite=tenant_a.collectivite),
    ).user
    response = agent_client.post(
        url(dossier, "attribuer/"), {"action": "agent", "assignee": outsider.pk}
    )
    assert response.status_code == 400
    dossier.refresh_from_db()
    assert dossier.assignee == tenant_a.manager

    voirie = ServiceFactory(collectivite=tenant_a.collectivite, name="Voirie")
    response = agent_client.post(
        url(dossier, "attribuer/"), {"action": "service", "service": voirie.pk}
    )
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.service == voirie and dossier.assignee is None
    # The agent no longer works on it: the page is not theirs any more.
    assert agent_client.get(url(dossier)).status_code == 404


def test_assign_to_a_service_of_another_collectivite_is_refused(agent_client, dossier, tenant_b):
    response = agent_client.post(
        url(dossier, "attribuer/"), {"action": "service", "service": tenant_b.service.pk}
    )
    assert response.status_code == 400
    dossier.refresh_from_db()
    assert dossier.service_id != tenant_b.service.pk


def test_reply_with_a_canned_response(agent_client, dossier, tenant_a):
    canned = CannedResponse.objects.create(
        service=tenant_a.service,
        title="Dossier incomplet",
        body=(
            "Bonjour {{ usager.first_name }}, votre dossier {{ dossier.reference }} est incomplet."
        ),
    )
    CannedResponse.objects.create(
        service=tenant_a.service, title="Ancienne", body="x", is_active=False
    )
    page = agent_client.get(url(dossier, f"?reponse_type={canned.pk}")).text
    assert "Dossier incomplet" in page and "Ancienne" not in page
    assert f"Bonjour Marie, votre dossier {dossier.reference} est incomplet." in page
    # Another service's canned response is not offered, nor rendered.
    other = CannedResponse.objects.create(
        service=ServiceFactory(collectivite=tenant_a.collectivite), title="Autre", body="Secret"
    )
    page = agent_client.get(url(dossier, f"?reponse_type={other.pk}")).text
    assert "Secret" not in page
    response = agent_client.post(url(dossier, "repondre/"), {"body": "Merci d'envoyer le plan."})
    assert response.status_code == 302
    sent = Message.objects.get(dossier=dossier, direction="out")
    assert sent.body == "Merci d'envoyer le plan." and sent.author == tenant_a.agent
    assert sent.notification is not None  # the citizen is told


def test_a_canned_response_that_does_not_render_says_why(agent_client, dossier, tenant_a):
    broken = CannedResponse.objects.create(
        service=tenant_a.service, title="Cassée", body="{{ inconnu.truc }}"
    )
    response = agent_client.get(url(dossier, f"?reponse_type={broken.pk}"))
    assert response.status_code == 200
    assert "n&#x27;a pas pu être produite" in response.text or "n'a pas pu être produite" in (
        response.text
    )


def test_an_empty_reply_is_an_error(agent_client, dossier):
    response = agent_client.post(url(dossier, "repondre/"), {"body": "  "})
    assert response.status_code == 400
    assert "Écrivez votre réponse." in response.text
    assert not Message.objects.filter(dossier=dossier, direction="out").exists()


def test_internal_note_is_never_the_citizens(agent_client, dossier, tenant_a):
    response = agent_client.post(url(dossier, "note/"), {"body": "Appeler le service voirie"})
    assert response.status_code == 302
    note = Message.objects.get(dossier=dossier, direction="note")
    assert note.author == tenant_a.agent
    assert not hasattr(note, "notification") or note.notification is None
    assert Event.objects.filter(action="dossier.note_added").exists()
    from grc.demarches.selectors import citizen_view

    assert all(item["message"].pk != note.pk for item in citizen_view(dossier)["thread"])


def test_private_annotations(agent_client, dossier):
    response = agent_client.post(url(dossier, "annotations/"), {"annotation": "Client exigeant"})
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.annotations["annotation"] == "Client exigeant"
    assert Event.objects.filter(action="dossier.annotations_changed").exists()
    assert "Client exigeant" in agent_client.get(url(dossier)).text
    response = agent_client.post(url(dossier, "annotations/"), {"annotation": "x" * 6000})
    assert response.status_code == 400


def test_transfer_to_another_service(agent_client, dossier, tenant_a):
    voirie = ServiceFactory(collectivite=tenant_a.collectivite, name="Voirie")
    response = agent_client.post(url(dossier, "transmettre/"), {"service": voirie.pk, "reason": ""})
    assert response.status_code == 400
    response = agent_client.post(
        url(dossier, "transmettre/"), {"service": voirie.pk, "reason": "Compétence voirie"}
    )
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.service == voirie


def _thread(dossier, citizen, agent, n):
    for i in range(n):
        message_services.post_citizen_message(dossier=dossier, actor=citizen, body=f"Question {i}")
        message_services.post_service_message(dossier=dossier, actor=agent, body=f"Réponse {i}")
        message_services.post_internal_note(dossier=dossier, actor=agent, body=f"Note {i}")


def _count(client, dossier) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url(dossier)).status_code == 200
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_dossier(
    agent_client, tenant_a, citizen, media
):
    demarche = demarche_for(tenant_a, workflow=quiet_workflow())
    small = file_dossier(demarche, account=citizen)
    large = file_dossier(demarche, account=citizen)
    _thread(small, citizen, tenant_a.agent, 1)  # 3 messages
    _thread(large, citizen, tenant_a.agent, 10)  # 30 messages
    for target in (small, large):
        workflow.apply_transition(target, "instruire", actor=tenant_a.agent)
        assign_dossier(dossier=target, actor=tenant_a.agent, assignee=tenant_a.agent)
    _count(agent_client, small)  # warm-up (session, content types)
    _count(agent_client, large)
    # Each opening marks messages read once; the second opening of each has nothing new.
    assert _count(agent_client, small) == _count(agent_client, large)


def test_a_collectivite_admin_works_on_every_dossier_of_theirs(client, dossier, tenant_a):
    client.force_login(tenant_a.admin)
    assert client.get(url(dossier), HTTP_HOST=HOST).status_code == 200
    client.post(url(dossier, "attribuer/"), {"action": "me"}, HTTP_HOST=HOST)
    dossier.refresh_from_db()
    assert dossier.assignee == tenant_a.admin
    assert Membership.objects.filter(user=tenant_a.admin, role=Role.ADMIN).exists()


# --- Canned responses in the admin ------------------------------------------------------------


def test_an_admin_writes_the_canned_responses_of_their_services_only(client, tenant_a, tenant_b):
    client.force_login(tenant_a.admin)
    add = "/admin/backoffice/cannedresponse/add/"
    form = client.get(add, HTTP_HOST=HOST)
    assert form.status_code == 200
    choices = {str(s.pk) for s in form.context["adminform"].form.fields["service"].queryset}
    assert str(tenant_a.service.pk) in choices and str(tenant_b.service.pk) not in choices
    response = client.post(
        add,
        {"service": tenant_b.service.pk, "title": "Volée", "body": "x", "is_active": "on"},
        HTTP_HOST=HOST,
    )
    assert response.status_code == 200 and not CannedResponse.objects.exists()
    response = client.post(
        add,
        {"service": tenant_a.service.pk, "title": "Faute", "body": "{{ inconnu }}"},
        HTTP_HOST=HOST,
    )
    assert response.status_code == 200 and "inconnu" in response.text
    response = client.post(
        add,
        {
            "service": tenant_a.service.pk,
            "title": "Accueil",
            "body": "Bonjour {{ usager.first_name }}",
            "is_active": "on",
        },
        HTTP_HOST=HOST,
    )
    assert response.status_code == 302
    canned = CannedResponse.objects.get()
    assert canned.service == tenant_a.service
    assert Event.objects.filter(action="canned_response.created").exists()
    other = CannedResponse.objects.create(service=tenant_b.service, title="B", body="b")
    assert client.get(
        f"/admin/backoffice/cannedresponse/{other.pk}/change/", HTTP_HOST=HOST
    ).status_code in (302, 404)
    listing = client.get("/admin/backoffice/cannedresponse/", HTTP_HOST=HOST)
    assert "Accueil" in listing.text and ">B<" not in listing.text


def test_transfer_to_another_collectivite(
    agent_client, dossier, tenant_b, django_capture_on_commit_callbacks
):
    form = {"where": "ailleurs", "ailleurs-service": tenant_b.service.pk, "ailleurs-reason": ""}
    response = agent_client.post(url(dossier, "transmettre/"), form)
    assert response.status_code == 400
    assert "Indiquez le motif de la transmission." in response.text
    form["ailleurs-reason"] = "Compétence intercommunale"
    with django_capture_on_commit_callbacks():
        response = agent_client.post(url(dossier, "transmettre/"), form)
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == "transmis" and dossier.closed_at is not None
    copy = dossier.transfers_out.get().to_dossier
    assert copy.collectivite == tenant_b.collectivite
    page = agent_client.get(url(dossier)).text
    assert "Compétence intercommunale" in page
    assert "Faire avancer le dossier" not in page  # closed: nothing left to do
    assert "Répondre à l&#x27;usager" not in page and "Répondre à l'usager" not in page


def test_a_reply_with_files_is_checked(agent_client, dossier):
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("virus.exe", b"MZ\x90\x00", content_type="application/pdf")
    response = agent_client.post(url(dossier, "repondre/"), {"body": "Voici", "files": [bad]})
    assert response.status_code == 400
    assert not Message.objects.filter(dossier=dossier, direction="out").exists()
