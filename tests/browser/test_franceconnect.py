"""FranceConnect login in a real browser against the local OpenID Connect provider
(tests/oidc_provider/server.js), our pages checked with axe-core at 360 px and 1280 px."""

import re

import pytest

from grc.base.models import User
from grc.portal.models import FranceConnectIdentity
from tests.factories import PASSWORD, UserFactory
from tests.oidc_provider.fixture import ANGELA, PIERRE, franceconnect, oidc_provider  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_franceconnect_login(page, franceconnect, assert_accessible_both):  # noqa: F811
    page.goto("/comptes/connexion/")
    assert_accessible_both(page, where="login page with the FranceConnect button")
    page.get_by_role("button", name="S'identifier avec FranceConnect").click()

    # At the provider: log in as Angela and consent.
    page.wait_for_url(f"{franceconnect.issuer}/**")
    page.get_by_label("Angela Claire Louise DUBOIS").check()
    page.get_by_role("button", name="Se connecter et autoriser").click()

    # Back home, logged in, greeted by the name FranceConnect certifies.
    page.wait_for_url("**/comptes/")
    main = page.locator("main").inner_text()
    assert "Vous êtes connecté avec FranceConnect, Angela Claire Louise DUBOIS" in main
    assert_accessible_both(page, where="landing page after FranceConnect")
    user = User.objects.get(email=ANGELA["email"])
    assert user.franceconnect_identities.exists()
    assert str(user.profile.birth_date) == ANGELA["birthdate"]

    # Logging out ends the FranceConnect session too.
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(f"{franceconnect.issuer}/**")
    page.get_by_role("button", name="Me déconnecter").click()
    page.get_by_text("Vous êtes déconnecté de ce site et de FranceConnect").wait_for()
    assert page.get_by_role("link", name="Se connecter").is_visible()


def test_linking_an_existing_account(page, franceconnect, assert_accessible_both):  # noqa: F811
    owner = UserFactory(email=PIERRE["email"], first_name="Pierre", last_name="M.")
    page.goto("/comptes/connexion/")
    page.get_by_role("button", name="S'identifier avec FranceConnect").click()
    page.get_by_label("Pierre MERCIER").check()
    page.get_by_role("button", name="Se connecter et autoriser").click()

    # An account has this address: its password first, never a silent takeover.
    page.wait_for_url(re.compile(r"/comptes/connexion/\?next="))
    assert "Un compte existe déjà" in page.locator("main").inner_text()
    page.get_by_label("Adresse e-mail").fill(owner.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    page.wait_for_url("**/franceconnect/relier/")
    assert_accessible_both(page, where="link confirmation")
    page.get_by_role("button", name="Relier mon compte à FranceConnect").click()
    page.wait_for_url("**/comptes/")
    assert "Votre compte est relié à FranceConnect" in page.locator("main").inner_text()
    assert FranceConnectIdentity.objects.get().user == owner
