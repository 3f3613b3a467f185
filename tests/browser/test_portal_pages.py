"""The portal's home page, its search and the legal pages in a real browser, checked with
axe-core at desktop width and at 360 px."""

import datetime
from decimal import Decimal

import pytest

from tests.demarches.factories import definition, field, published
from tests.factories import CollectiviteFactory, ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_home_search_and_legal_pages(page, assert_accessible, assert_accessible_both):
    commune = CollectiviteFactory(
        slug="lussac",
        name="Commune de Lussac",
        primary_colour="#1d4f91",
        email="mairie@lussac.test",
        accessibility_status="partielle",
        accessibility_rate=Decimal("81.5"),
        accessibility_audit_date=datetime.date(2026, 1, 20),
        accessibility_auditor="Agence de mutualisation",
    )
    service = ServiceFactory(collectivite=commune, name="État civil", opening_hours="Lundi 9h–12h")
    form = definition([field("nom")])
    for slug, title, category in [
        ("acte", "Demande d'acte de naissance", "État civil"),
        ("ecole", "Inscription à l'école", "Enfance"),
    ]:
        published(commune, service, form, slug=slug, title=title, category=category)

    page.goto("/c/lussac/")
    assert page.get_by_role("link", name="Accessibilité : partiellement conforme").is_visible()
    assert_accessible_both(page, where="home")

    # The search, from the keyboard.
    page.get_by_label("Rechercher une démarche").fill("ECOLE")
    page.keyboard.press("Enter")
    page.wait_for_url("**/c/lussac/?q=ECOLE")
    assert page.get_by_role("heading", name="1 démarche trouvée").is_visible()
    assert page.get_by_role("link", name="Inscription à l'école").is_visible()
    assert_accessible_both(page, where="search results")
    page.get_by_label("Rechercher une démarche").fill("piscine")
    page.get_by_role("button", name="Rechercher").click()
    assert page.get_by_role("heading", name="Aucune démarche trouvée").is_visible()
    assert_accessible(page, where="search without result")
    page.get_by_role("link", name="Voir toutes les démarches").click()
    assert page.get_by_role("link", name="Demande d'acte de naissance").is_visible()

    # Each legal page, reached from the footer.
    for link, heading in [
        ("Mentions légales", "Mentions légales"),
        ("Données personnelles", "Données personnelles"),
        ("Accessibilité : partiellement conforme", "Déclaration d'accessibilité"),
    ]:
        page.get_by_role("navigation", name="Informations légales").get_by_role(
            "link", name=link
        ).click()
        assert page.get_by_role("heading", level=1, name=heading).is_visible()
        assert_accessible_both(page, where=heading)

    # The platform's root and its own pages (smaller: at desktop width only).
    page.goto("/")
    page.get_by_role("link", name="Accessibilité : non conforme").click()
    assert page.get_by_role("heading", level=1, name="Déclaration d'accessibilité").is_visible()
    assert_accessible(page, where="platform accessibility")
    page.get_by_role("link", name="Mentions légales").click()
    assert page.get_by_role("heading", level=1, name="Mentions légales").is_visible()
    assert_accessible(page, where="platform mentions")
