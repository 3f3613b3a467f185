"""The citizen's dossier page: status and history as they see them, the pieces to send, the
documents issued, the steps the workflow lets them take."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from grc.base.models import Channel
from grc.demarches.models import Attachment, Dossier, PieceRequest
from grc.demarches.services.dossiers import start_draft, submit_dossier
from grc.demarches.workflow import services as workflow
from grc.demarches.workflow.actions import run_status_change_actions
from tests.demarches.factories import definition, field, published
from tests.demarches.helpers import pdf_file, png_file

pytestmark = pytest.mark.django_db
FORM = definition([field("objet", required=True)])


@pytest.fixture
def filed(tenant_a, media):
    """An anonymous dossier filed from this browser, then asked for pieces."""
    demarche = published(tenant_a.collectivite, tenant_a.service, FORM, implicit_decision="sva")
    browser = Client(HTTP_HOST="127.0.0.1")
    draft = start_draft(demarche=demarche)
    dossier = submit_dossier(
        demarche=demarche,
        answers_given={"objet": "Banc cassé"},
        channel=Channel.WEB,
        actor=None,
        dossier=draft,
        contact_email="anonyme@exemple.test",
    )
    session = browser.session
    session["submitted_dossiers"] = [str(dossier.uuid)]
    session.save()
    change = workflow.apply_transition(
        dossier,
        "demander_pieces",
        actor=tenant_a.agent,
        data={"pieces_demandees": "Photo du banc\nPlan de situation", "delai_pieces": 10},
    )
    run_status_change_actions(change.pk)
    dossier.refresh_from_db()
    return browser, dossier


def url(dossier, suffix=""):
    return f"/c/{dossier.collectivite.slug}/dossiers/{dossier.uuid}/{suffix}"


def test_the_page_shows_the_status_history_and_what_is_asked(filed):
    browser, dossier = filed
    page = browser.get(url(dossier))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Pièces à fournir" in text and "Photo du banc" in text and "Plan de situation" in text
    assert "Demande reçue" in text  # the citizen's label of the initial status
    assert "Pièces demandées pour votre demande" in text  # the message of the request


def test_the_citizen_sends_the_pieces_and_the_dossier_moves_on(filed):
    browser, dossier = filed
    response = browser.post(
        url(dossier, "pieces/"),
        {
            "pieces": [png_file("banc.png"), pdf_file("plan.pdf")],
            "message": "Voici la photo et le plan.",
        },
    )
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == "instruction"
    request = PieceRequest.objects.get(dossier=dossier)
    assert request.status == "answered" and request.answer == "Voici la photo et le plan."
    stored = Attachment.objects.filter(dossier=dossier, field_key=f"pieces:{request.pk}")
    assert sorted(stored.values_list("original_name", flat=True)) == ["banc.png", "plan.pdf"]


def test_a_wrong_file_is_refused_and_nothing_changes(filed):
    browser, dossier = filed
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("photo.png", b"not an image at all")
    response = browser.post(url(dossier, "pieces/"), {"pieces": [png_file(), fake]})
    assert response.status_code == 400
    assert "n&#x27;est pas accepté" in response.content.decode()
    dossier.refresh_from_db()
    assert dossier.status == "attente_pieces"
    assert not Attachment.objects.filter(dossier=dossier).exists()  # the good one either
    assert PieceRequest.objects.get(dossier=dossier).status == "open"


def test_the_citizen_withdraws_the_request(filed):
    browser, dossier = filed
    response = browser.post(url(dossier, "action/"), {"transition": "retirer"})
    assert response.status_code == 302
    assert Dossier.objects.get(pk=dossier.pk).status == "annule"


def test_the_citizen_cannot_take_an_agents_step(filed):
    browser, dossier = filed
    response = browser.post(url(dossier, "action/"), {"transition": "reprendre"})
    assert response.status_code == 400
    assert Dossier.objects.get(pk=dossier.pk).status == "attente_pieces"


def test_another_browser_reaches_nothing(filed):
    _, dossier = filed
    stranger = Client(HTTP_HOST="127.0.0.1")
    assert stranger.get(url(dossier)).status_code == 404
    assert stranger.post(url(dossier, "pieces/"), {"message": "x"}).status_code == 404
    assert stranger.post(url(dossier, "action/"), {"transition": "retirer"}).status_code == 404
    assert Dossier.objects.get(pk=dossier.pk).status == "attente_pieces"


def test_issued_documents_are_downloadable_by_the_citizen_only(tenant_a, filed):
    browser, dossier = filed
    workflow.answer_piece_request(dossier=dossier, actor=tenant_a.agent, transition="reprendre")
    Dossier.objects.filter(pk=dossier.pk).update(
        received_at=timezone.now() - datetime.timedelta(days=90)
    )
    dossier.refresh_from_db()
    workflow.refresh_decision_date(dossier)
    assert workflow.run_legal_clock() == 1
    change = dossier.status_changes.latest("id")
    run_status_change_actions(change.pk)
    document = dossier.documents.get()
    page = browser.get(url(dossier)).content.decode()
    assert "Attestation d&#x27;acceptation implicite" in page
    download = browser.get(url(dossier, f"documents/{document.pk}.pdf"))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    stranger = Client(HTTP_HOST="127.0.0.1")
    assert stranger.get(url(dossier, f"documents/{document.pk}.pdf")).status_code == 404


def test_a_refused_batch_leaves_no_file_in_storage(filed, media):
    browser, dossier = filed
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = {p for p in media.rglob("*") if p.is_file()}
    browser.post(
        url(dossier, "pieces/"), {"pieces": [png_file(), SimpleUploadedFile("x.png", b"text")]}
    )
    assert {p for p in media.rglob("*") if p.is_file()} == before


def test_the_citizen_cannot_declare_the_pieces_sent_without_sending_them(filed):
    browser, dossier = filed
    response = browser.post(url(dossier, "action/"), {"transition": "pieces_recues"})
    assert response.status_code == 400
    assert "Envoyez les pièces demandées" in response.content.decode()
    dossier.refresh_from_db()
    assert dossier.status == "attente_pieces"
    assert PieceRequest.objects.get(dossier=dossier).status == "open"
