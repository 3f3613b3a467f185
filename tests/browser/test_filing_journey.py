"""Filing a model démarche in a real browser, checked with axe-core at each step, at desktop
width and at 360 px."""

import pytest

from grc.demarches.services.demarches import publish_demarche
from grc.demarches.services.exchange import CATALOGUE_DIR, import_demarche
from tests.demarches.helpers import png_file
from tests.factories import CollectiviteFactory, ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [1280, 360])
def test_anonymous_report_with_a_photo(page, settings, assert_accessible, media, tmp_path, width):
    settings.ALLOWED_HOSTS = ["*"]
    page.set_viewport_size({"width": width, "height": 900})
    commune = CollectiviteFactory(slug="lussac", name="Commune de Lussac")
    service = ServiceFactory(collectivite=commune, name="Voirie")
    demarche = import_demarche(
        actor=None,
        collectivite=commune,
        service=service,
        raw=(CATALOGUE_DIR / "signalement-voirie.json").read_bytes(),
    )
    publish_demarche(actor=None, demarche=demarche)

    page.goto("/c/lussac/")
    assert_accessible(page, where="home")
    page.get_by_role("link", name=demarche.title).click()
    assert_accessible(page, where="presentation")
    page.get_by_role("button", name="Commencer la démarche").click()

    # Page 1, sent empty: errors, summarised and tied to their fields.
    page.get_by_role("button", name="Continuer").click()
    assert page.get_by_role("alert").is_visible()
    assert_accessible(page, where="page with errors")
    page.get_by_label("Quel est le problème ?").select_option(index=1)
    page.get_by_role("group", name="Y a-t-il un danger immédiat ?").get_by_label("Non").check()
    page.get_by_role("button", name="Continuer").click()

    # Page 2: the place.
    assert_accessible(page, where="place")
    page.get_by_label("Numéro et voie").fill("3 rue du Port")
    page.get_by_label("Code postal").fill("49170")
    page.get_by_label("Commune", exact=True).fill("Lussac")
    page.get_by_role("button", name="Continuer").click()

    # Page 3: description and a photo.
    page.get_by_label("Décrivez le problème").fill("Un trou profond devant le numéro 3.")
    photo = tmp_path / "trou.png"
    photo.write_bytes(png_file().read())
    page.locator("input[type=file]").set_input_files(str(photo))
    page.get_by_role("button", name="Continuer").click()

    # Page 4: the attestation.
    page.get_by_label("Je certifie l'exactitude des informations fournies").check()
    page.get_by_role("button", name="Continuer").click()

    # Summary, e-mail, sending.
    page.wait_for_url("**/recapitulatif/")
    assert "trou.png" in page.content() and "3 rue du Port" in page.content()
    assert_accessible(page, where="summary")
    page.get_by_label("Votre adresse e-mail").fill("jean@exemple.test")
    page.get_by_role("button", name="Envoyer ma demande").click()
    page.wait_for_url("**/dossiers/**")
    assert_accessible(page, where="confirmation")
    reference = page.locator(".confirmation strong").first.inner_text()
    assert reference.startswith(f"{commune.reference_prefix}-")
    assert "Accusé de réception" in page.locator("main").inner_text()
