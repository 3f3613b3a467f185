"""An agent's day in a real browser: the new dossier waits in "À traiter", the agent reads it,
asks for a missing piece through the workflow's form (the citizen's e-mail is caught by the
test SMTP server), sees the citizen's answer arrive on the page and accepts the dossier.
axe-core checks each page the agent works on."""

import re

import pytest
from playwright.sync_api import expect

from grc.base.models import Event
from grc.demarches.models import Dossier
from grc.demarches.services import dossiers as dossier_services
from grc.demarches.services.assignment import assign_dossier
from grc.demarches.workflow import services as workflow
from tests.demarches.dossier_helpers import demarche_for, file_dossier
from tests.demarches.helpers import pdf_file
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, user) -> None:
    page.goto("/comptes/connexion/")
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_label("Adresse e-mail")).to_have_count(0)


def test_an_agents_day(
    page, live_server, settings, smtp_server, run_jobs, media, tenant_a, assert_accessible
):
    settings.ALLOWED_HOSTS = ["*"]
    settings.GRC_BASE_URL = live_server.url
    agent = tenant_a.agent
    # A citizen has filed a dossier on the web; the service's manager gave it to the agent.
    citizen = UserFactory(email="lea@exemple.test", first_name="Léa", last_name="Petit")
    dossier = file_dossier(
        demarche_for(tenant_a), account=citizen, objet="Lampadaire en panne", with_file=True
    )
    assign_dossier(dossier=dossier, actor=tenant_a.manager, assignee=agent)
    run_jobs()  # the acknowledgements
    smtp_server.messages.clear()

    # The agent finds it in "À traiter".
    log_in(page, agent)
    page.goto("/backoffice/dossiers/a-traiter/")
    assert_accessible(page, where="À traiter")
    page.get_by_role("link", name=dossier.reference).click()

    # Reads it: the answers, the file previewed, the legal dates.
    expect(page.get_by_role("heading", level=1)).to_contain_text(dossier.reference)
    expect(page.locator("#statut")).to_contain_text("Déposé")
    expect(page.locator("#reponses")).to_contain_text("Lampadaire en panne")
    expect(page.locator("#fichiers iframe")).to_have_attribute(
        "title", "Aperçu de justificatif.pdf"
    )
    expect(page.locator(".dossier-facts")).to_contain_text("Acceptation (SVA)")
    assert_accessible(page, where="dossier page")
    assert Event.objects.filter(action="dossier.viewed", actor=agent).exists()

    # Asks for a missing piece: first without saying which, then properly.
    page.locator("#action-demander_pieces summary").click()
    page.get_by_role("button", name="Valider : Demander des pièces").click()
    expect(page.get_by_role("alert")).to_contain_text("Pièces demandées (une par ligne)")
    # Focus moves to the summary of errors (autofocus, applied when the page first renders):
    # typing before it lands would type into the summary, not the field.
    expect(page.get_by_role("alert")).to_be_focused()
    expect(page).to_have_title(re.compile("^Erreur – "))
    assert_accessible(page, where="transition form with errors")
    page.get_by_label("Pièces demandées (une par ligne)").fill("Photo du lampadaire")
    page.get_by_label("Délai pour les fournir (jours)").fill("10")
    page.get_by_role("button", name="Valider : Demander des pièces").click()
    expect(page.get_by_role("status")).to_contain_text("C'est fait")
    expect(page.locator("#statut")).to_contain_text("En attente de compléments")
    run_jobs()  # the status's actions: the request for pieces and the e-mail to the citizen
    page.reload()
    expect(page.locator("#historique")).to_contain_text("Photo du lampadaire")
    expect(page.locator(".dossier-facts")).to_contain_text("Pièces attendues avant le")
    mail = next(m for m in smtp_server.messages if "Des pièces manquent" in m["Subject"])
    assert mail["To"] == "lea@exemple.test"
    assert "Photo du lampadaire" in mail.get_body(("plain",)).get_content()

    # The citizen answers from their dossier's page (the same service).
    dossier_services.attach_piece(dossier=dossier, upload=pdf_file("lampadaire.pdf"), actor=citizen)
    workflow.answer_piece_request(
        dossier=dossier, actor=citizen, answer="Voici la photo du lampadaire."
    )

    # The agent sees it arrive, and accepts the dossier.
    page.reload()
    expect(page.locator("#statut")).to_contain_text("En instruction")
    timeline = page.locator("#historique")
    expect(timeline).to_contain_text("Pièces reçues")
    expect(timeline).to_contain_text("Voici la photo du lampadaire.")
    expect(timeline).to_contain_text("lampadaire.pdf")
    assert_accessible(page, where="pieces received")
    page.locator("#action-accepter summary").click()
    page.get_by_label("Commentaire pour « Accepter » (facultatif)").fill(
        "Intervention prévue lundi."
    )
    page.get_by_role("button", name="Valider : Accepter").click()
    expect(page.locator("#statut")).to_contain_text("Accepté")
    expect(page.locator("#historique")).to_contain_text("Intervention prévue lundi.")
    assert_accessible(page, where="accepted")
    run_jobs()
    assert any("est acceptée" in m["Subject"] for m in smtp_server.messages)
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.status == "accepte" and dossier.closed_at is not None
