"""A citizen follows their dossier in a real browser: reads the acknowledgement, answers the
service's message with a file, provides the missing pieces, withdraws the request. axe-core
checks every page of the journey at 360 px and at desktop width."""

import pathlib
import re

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from grc.demarches.models import Message, PieceRequest
from grc.demarches.services import messages as message_services
from grc.demarches.workflow import services as workflow
from grc.demarches.workflow.actions import run_status_change_actions
from tests.demarches.dossier_helpers import demarche_for, file_dossier
from tests.demarches.helpers import pdf_file, png_file
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, live_server, user) -> None:
    """The browser carries a session of `user` (logging in is another journey's subject)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def test_follow_a_dossier_to_its_end(
    page, live_server, settings, smtp_server, run_jobs, media, tmp_path, tenant_a,
    assert_accessible_both,
):  # fmt: skip
    settings.ALLOWED_HOSTS = ["*"]
    settings.GRC_BASE_URL = live_server.url
    citizen = UserFactory(email="marie@exemple.test", first_name="Marie", last_name="Dubois")
    dossier = file_dossier(demarche_for(tenant_a), account=citizen, with_file=True)
    run_jobs(["mail"])  # the acknowledgements, PDF included
    log_in(page, live_server, citizen)
    dossier_url = f"/c/{dossier.collectivite.slug}/dossiers/{dossier.uuid}/"

    # The dossier as filed, and its acknowledgement to read.
    page.goto(dossier_url)
    expect(page).to_have_title(re.compile(f"Demande {dossier.reference}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(dossier.reference)
    expect(page.locator(".dossier-status")).to_contain_text("Demande reçue")
    assert_accessible_both(page, where="dossier page")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger l'accusé de réception (PDF)").click()
    assert download.value.suggested_filename == f"Accusé de réception {dossier.reference}.pdf"
    assert pathlib.Path(download.value.path()).read_bytes().startswith(b"%PDF-")
    with page.expect_download() as download:
        page.get_by_role("link", name="justificatif.pdf").click()
    assert download.value.suggested_filename == "justificatif.pdf"

    # The service writes, with a file; the citizen is told by e-mail, with a link back.
    message_services.post_service_message(
        dossier=dossier,
        actor=tenant_a.agent,
        body="Bonjour, pouvez-vous nous envoyer une photo du banc ?",
        uploads=[pdf_file("plan.pdf")],
    )
    run_jobs(["mail"])
    mail = next(m for m in smtp_server.messages if "Nouveau message" in m["Subject"])
    link = re.search(r"https?://\S+", mail.get_body(("plain",)).get_content()).group(0)
    page.goto(link)
    thread = page.locator("#messages")
    expect(thread).to_contain_text("pouvez-vous nous envoyer une photo du banc ?")
    expect(thread.locator(".thread__new")).to_have_count(1)
    assert_accessible_both(page, where="page with a new message")

    # An empty answer first: the error is summarised and tied to its field.
    page.get_by_role("button", name="Envoyer le message").click()
    expect(page.get_by_role("alert")).to_contain_text("Écrivez votre message")
    expect(page.get_by_label("Votre message")).to_have_attribute("aria-invalid", "true")
    expect(page).to_have_title(re.compile("^Erreur – "))
    assert_accessible_both(page, where="message with an error")

    photo = tmp_path / "banc.png"
    photo.write_bytes(png_file().read())
    page.get_by_label("Votre message").fill("Voici la photo demandée.")
    page.get_by_label("Joindre des fichiers").set_input_files(str(photo))
    page.get_by_role("button", name="Envoyer le message").click()
    expect(page.get_by_role("status").first).to_contain_text("Votre message est envoyé")
    mine = page.locator(".thread__message--in")
    expect(mine).to_contain_text("Voici la photo demandée.")
    expect(mine).to_contain_text("banc.png")
    expect(mine).to_contain_text("Pas encore lu par le service")
    assert_accessible_both(page, where="message sent")
    answer = Message.objects.get(dossier=dossier, direction="in")
    assert answer.attachment_links.get().attachment.original_name == "banc.png"
    message_services.mark_read_by_service(dossier=dossier, actor=tenant_a.agent)
    page.reload()
    expect(mine).to_contain_text("Lu par le service le")

    # The service asks for a missing piece through the workflow.
    change = workflow.apply_transition(
        dossier,
        "demander_pieces",
        actor=tenant_a.agent,
        data={"pieces_demandees": "Justificatif de domicile", "delai_pieces": 15},
    )
    run_status_change_actions(change.pk)
    page.reload()
    pieces = page.locator("#pieces-a-fournir")
    expect(pieces).to_contain_text("Justificatif de domicile")
    expect(page.locator(".dossier-status")).to_contain_text("Pièces à fournir")
    assert_accessible_both(page, where="pieces requested")
    proof = tmp_path / "domicile.pdf"
    proof.write_bytes(pdf_file().read())
    page.get_by_label("Vos fichiers").set_input_files(str(proof))
    page.get_by_role("button", name="Envoyer les pièces").click()
    expect(page.get_by_role("status").first).to_contain_text("vos pièces sont transmises")
    expect(page.locator(".dossier-status")).to_contain_text("En cours de traitement")
    expect(page.locator("#historique")).to_contain_text("domicile.pdf")
    assert_accessible_both(page, where="pieces sent")
    assert PieceRequest.objects.get(dossier=dossier).status == "answered"

    # Withdrawal, after a confirmation page.
    page.get_by_role("link", name="Retirer ma demande").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirmer : Retirer ma demande")
    assert_accessible_both(page, where="withdrawal confirmation")
    page.get_by_label(re.compile("Pourquoi")).fill("Le banc a été réparé.")
    page.get_by_role("button", name="Confirmer : Retirer ma demande").click()
    expect(page.locator(".dossier-status")).to_contain_text("Demande retirée")
    expect(page.get_by_role("button", name="Envoyer le message")).to_have_count(0)
    assert_accessible_both(page, where="withdrawn")
    dossier.refresh_from_db()
    assert dossier.status == "annule" and dossier.closed_at is not None
