"""A draft in a real browser: saved as the person types, saved again when they leave the page,
found in "Mes brouillons", resumed with its answers, finished and sent."""

from __future__ import annotations

import json
import time

import pytest

from grc.base.models import Event
from grc.demarches.models import Attachment, Dossier
from grc.demarches.services.demarches import publish_demarche
from grc.demarches.services.exchange import CATALOGUE_DIR, import_demarche
from tests.browser.test_filing_models import answer_page, log_in
from tests.demarches.helpers import PDF
from tests.factories import CollectiviteFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def saved_answer(draft_pk: int, key: str, timeout: float = 5.0):
    """The draft's answer once the background save has reached the server."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = Dossier.objects.get(pk=draft_pk).answers.get(key)
        if value:
            return value
        time.sleep(0.1)
    return None


def test_a_draft_is_saved_left_found_again_and_sent(
    page, live_server, settings, media, tmp_path, assert_accessible_both
):
    settings.ALLOWED_HOSTS = ["*"]
    commune = CollectiviteFactory(slug="lussac", name="Commune de Lussac")
    document = json.loads((CATALOGUE_DIR / "reclamation.json").read_text())
    demarche = import_demarche(
        actor=None,
        collectivite=commune,
        service=ServiceFactory(collectivite=commune, name="Accueil"),
        raw=json.dumps(document).encode(),
    )
    publish_demarche(actor=None, demarche=demarche)
    log_in(page, live_server, UserFactory(email="camille@exemple.test"))
    pages = {p["key"]: p for p in document["definition"]["pages"]}

    # Half of the first page, then a pause: saved in the background, and said so.
    page.goto(f"/c/lussac/demarches/{demarche.slug}/")
    page.get_by_role("button", name="Commencer la démarche").click()
    page.get_by_role("group", name="Quel service est concerné ?").get_by_label(
        "Voirie, éclairage"
    ).check()
    page.get_by_label("Objet de votre réclamation").fill("Trottoir jamais réparé")
    status = page.locator("#autosave-status")
    status.get_by_text("Brouillon enregistré à").wait_for()
    assert status.get_attribute("aria-live") == "polite"
    draft = Dossier.objects.drafts().get(demarche=demarche)
    assert draft.answers["objet"] == "Trottoir jamais réparé"
    assert_accessible_both(page, where="page saved in the background")

    # One more answer, and the person leaves at once: saved on the way out.
    page.get_by_label("Que s'est-il passé ?").fill("Signalé deux fois, rien n'a bougé.")
    page.get_by_role("link", name="Mes brouillons").first.click()
    page.wait_for_url("**/c/lussac/brouillons/")
    assert saved_answer(draft.pk, "description") == "Signalé deux fois, rien n'a bougé."

    # "Mes brouillons": the draft, when it was saved and until when it is kept.
    assert_accessible_both(page, where="Mes brouillons")
    item = page.locator("li.draft", has_text=demarche.title)
    assert "Supprimé automatiquement le" in item.inner_text()
    item.get_by_role("link", name="Supprimer").click()
    assert_accessible_both(page, where="delete confirmation")
    page.get_by_role("link", name="Non, garder le brouillon").click()
    page.locator("li.draft", has_text=demarche.title).get_by_role("link", name="Reprendre").click()

    # Resumed where answers are missing, with what was typed.
    page.wait_for_url("**/reclamation_page/")
    assert page.get_by_label("Objet de votre réclamation").input_value() == (
        "Trottoir jamais réparé"
    )
    assert page.get_by_label("Que s'est-il passé ?").input_value() == (
        "Signalé deux fois, rien n'a bougé."
    )
    answer_page(
        page, pages["reclamation_page"], tmp_path, skip={"service_concerne", "objet", "description"}
    )
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/suite/")

    # A file that is not what it says: refused on its field, before anything is sent.
    files = page.get_by_label("Documents utiles")
    fake = tmp_path / "faux.pdf"
    fake.write_text("pas un PDF")
    files.set_input_files(str(fake))
    errors = page.locator("#id_pieces_jointes_errors")
    errors.get_by_text("n'est pas accepté").wait_for()
    assert "id_pieces_jointes_errors" in files.get_attribute("aria-describedby")
    assert files.get_attribute("aria-invalid") == "true"
    assert_accessible_both(page, where="a refused file")
    # A good one, then taken back.
    good = tmp_path / "courrier.pdf"
    good.write_bytes(PDF)
    files.set_input_files(str(good))
    joined = page.locator("[data-key=pieces_jointes] ul.attachments li", has_text="courrier.pdf")
    joined.wait_for()
    assert errors.count() == 0 and files.get_attribute("aria-invalid") is None
    joined.get_by_role("button", name="Retirer").click()
    page.get_by_text("« courrier.pdf » est retiré.").wait_for()
    assert joined.count() == 0
    assert not Attachment.objects.filter(dossier=draft).exists()

    answer_page(page, pages["suite"], tmp_path, skip=set())
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/validation/")
    answer_page(page, pages["validation"], tmp_path, skip=set())
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/recapitulatif/")
    assert "Trottoir jamais réparé" in page.locator("main").inner_text()
    page.get_by_role("button", name="Envoyer ma demande").dblclick()  # one dossier all the same
    page.wait_for_url("**/dossiers/**")
    assert Event.objects.filter(action="dossier.submitted").count() == 1

    filed = Dossier.objects.get(pk=draft.pk)
    assert filed.is_filed and filed.answers["description"] == "Signalé deux fois, rien n'a bougé."
    page.goto("/c/lussac/brouillons/")
    assert page.locator("li.draft").count() == 0
