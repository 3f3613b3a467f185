"""A citizen's account in a real browser: sign-up confirmed by the e-mail a real SMTP server
caught, the profile, "Mes demandes", logging out and in; and a dossier filed without an account
followed later, in another browser, with its reference and tracking code. axe-core checks each
page at 360 px and at desktop width."""

import re

import pytest
from playwright.sync_api import expect

from grc.base.models import CitizenProfile, User
from grc.demarches.models import Dossier
from tests.demarches.factories import definition, field, published
from tests.factories import CollectiviteFactory, ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "Un-mot-de-passe-solide-2026"


@pytest.fixture
def commune(settings):
    settings.ALLOWED_HOSTS = ["*"]
    commune = CollectiviteFactory(slug="lussac", name="Commune de Lussac")
    service = ServiceFactory(collectivite=commune, name="Accueil")
    published(
        commune,
        service,
        definition([field("objet", label="Objet de votre demande", required=True)]),
        title="Demande de renseignement",
        slug="renseignement",
        implicit_decision="none",
    )
    return commune


def test_sign_up_confirm_profile_and_mes_demandes(
    page, commune, smtp_server, run_jobs, assert_accessible_both
):
    page.goto("/c/lussac/")
    page.get_by_role("link", name="Créer un compte").click()
    expect(page).to_have_title(re.compile("Créer un compte – Commune de Lussac"))
    assert_accessible_both(page, where="sign-up")

    # A first try with mistakes: summarised at the top, each tied to its field.
    page.get_by_label("Adresse e-mail").fill("camille@exemple")
    page.get_by_label("Mot de passe", exact=True).fill("court")
    page.get_by_label("Confirmez le mot de passe").fill("autre")
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("alert")).to_contain_text("à corriger")
    expect(page.get_by_label("Adresse e-mail")).to_have_attribute("aria-invalid", "true")
    assert_accessible_both(page, where="sign-up with errors")

    page.get_by_label("Adresse e-mail").fill("camille.roux@exemple.test")
    page.get_by_label("Prénom").fill("Camille")
    page.get_by_label(re.compile(r"^Nom")).fill("Roux")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_label("Confirmez le mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("heading", name="Confirmez votre adresse e-mail")).to_be_visible()
    assert_accessible_both(page, where="confirmation sent")

    run_jobs(["mail"])
    [mail] = smtp_server.messages
    assert mail["To"] == "camille.roux@exemple.test"
    link = re.search(
        r"https?://[^/\s]+(/comptes/confirmation/\S+/)", mail.get_body(("plain",)).get_content()
    )
    page.goto(link.group(1))
    assert_accessible_both(page, where="confirm address")
    page.get_by_role("button", name=re.compile("Confirmer")).click()

    # Logged in, on the profile: it prefills later forms.
    expect(page.get_by_role("heading", name="Mon profil", level=1)).to_be_visible()
    assert_accessible_both(page, where="profile")
    page.get_by_label(re.compile(r"^Téléphone")).fill("06 12 34 56 78")
    page.get_by_label("Code postal").fill("490")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("alert")).to_contain_text("5 chiffres")
    assert_accessible_both(page, where="profile with an error")
    page.get_by_label("Code postal").fill("49170")
    page.get_by_label(re.compile(r"^Commune")).fill("Lussac")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("Votre profil est enregistré")
    user = User.objects.get(email="camille.roux@exemple.test")
    assert CitizenProfile.objects.get(user=user).phones == ["+33612345678"]

    page.get_by_role("link", name="Mes demandes").first.click()
    expect(page.get_by_role("heading", name="Mes demandes", level=1)).to_be_visible()
    assert_accessible_both(page, where="Mes demandes, empty")

    # Out, then in again with the password.
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("link", name="Se connecter")).to_be_visible()
    page.goto("/comptes/connexion/?next=/c/lussac/mes-demandes/")
    assert_accessible_both(page, where="login")
    page.get_by_label("Adresse e-mail").fill("camille.roux@exemple.test")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/c/lussac/mes-demandes/")


def test_a_dossier_filed_without_account_is_followed_with_its_tracking_code(
    page, commune, media, assert_accessible_both
):
    page.goto("/c/lussac/demarches/renseignement/")
    page.get_by_role("button", name="Commencer la démarche").click()
    page.get_by_label("Objet de votre demande").fill("Horaires de la déchetterie")
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/recapitulatif/")
    for box in page.get_by_role("checkbox").all():  # an attestation, when the summary has one
        box.check()
    page.get_by_label("Votre adresse e-mail").fill("sans-compte@exemple.test")
    page.get_by_role("button", name=re.compile("Envoyer")).click()
    page.wait_for_url("**/dossiers/**")
    dossier = Dossier.objects.filed().get(contact_email="sans-compte@exemple.test")
    assert dossier.tracking_code in page.locator("main").inner_text()

    # Days later, on another computer: nothing of this browser's session.
    other = page.context.browser.new_context(base_url=page.url.split("/c/")[0], locale="fr-FR")
    tab = other.new_page()
    tab.goto("/c/lussac/")
    tab.get_by_role("link", name="Suivre un dossier").click()
    assert_accessible_both(tab, where="tracking")
    tab.get_by_label("Référence du dossier").fill(dossier.reference)
    tab.get_by_label("Code de suivi").fill("ZZZZZZZZ")
    tab.get_by_role("button", name="Voir mon dossier").click()
    expect(tab.get_by_role("alert")).to_contain_text("Aucun dossier ne correspond")
    assert_accessible_both(tab, where="tracking, wrong code")
    tab.get_by_label("Code de suivi").fill(dossier.tracking_code.lower())
    tab.get_by_role("button", name="Voir mon dossier").click()
    tab.wait_for_url(f"**/dossiers/{dossier.uuid}/")
    expect(tab.locator("main")).to_contain_text(dossier.reference)
    expect(tab.locator("main")).to_contain_text("Horaires de la déchetterie")
    assert_accessible_both(tab, where="dossier reached by tracking code")
    other.close()
