"""The portal's home search and legal pages (mentions légales, personal data, the accessibility
declaration): by path and by host name, each collectivité's own, with sensible defaults."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grc.base.models import CollectiviteHost
from tests.demarches.factories import definition, field, published

pytestmark = pytest.mark.django_db

FORM = definition([field("nom")])
LEGAL_PAGES = ["mentions-legales", "donnees-personnelles", "accessibilite"]


def add_demarche(tenant, slug: str, title: str, **data):
    return published(tenant.collectivite, tenant.service, FORM, slug=slug, title=title, **data)


@pytest.fixture
def portal_a(tenant_a):
    """Commune A with three published démarches in three categories, on its own host name."""
    CollectiviteHost.objects.create(collectivite=tenant_a.collectivite, host="a.localhost")
    tenant_a.acte = add_demarche(
        tenant_a,
        "acte",
        "Demande d'acte de naissance",
        category="État civil",
        summary="Copie intégrale ou extrait",
        data_purpose="Délivrer l'acte demandé",
        legal_basis="Code civil, article 34",
        retention_months=24,
    )
    tenant_a.voirie = add_demarche(
        tenant_a,
        "voirie",
        "Signaler un problème sur la voie publique",
        category="Cadre de vie",
        description="Nid-de-poule, éclairage en panne, dépôt sauvage.",
    )
    tenant_a.ecole = add_demarche(
        tenant_a, "ecole", "Inscription à l'école", category="Enfance et jeunesse"
    )
    return tenant_a


@pytest.fixture
def portal_b(tenant_b):
    tenant_b.collectivite.dpo_email = "dpo@commune-b.test"
    tenant_b.collectivite.legal_mentions = "Mention propre à la commune B"
    tenant_b.collectivite.accessibility_non_compliances = "Défaut propre à la commune B"
    tenant_b.collectivite.save()
    tenant_b.encombrants = add_demarche(
        tenant_b,
        "encombrants",
        "Collecte des encombrants",
        category="Déchets",
        data_purpose="Finalité propre à la commune B",
    )
    return tenant_b


def home(client, tenant, q=None, **extra):
    params = {} if q is None else {"q": q}
    page = client.get(f"/c/{tenant.collectivite.slug}/", params, **extra)
    assert page.status_code == 200
    return page


# --- Search -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ETAT CIVIL", ["acte"]),  # the category, accents and case ignored
        ("ecole", ["ecole"]),  # the title
        ("intégrale", ["acte"]),  # the summary
        ("NID-DE-POULE", ["voirie"]),  # the description
        ("  naissance   acte ", ["acte"]),  # every word, in any order
        ("Éclairage", ["voirie"]),
    ],
)
def test_the_search_ignores_accents_and_case(client, portal_a, portal_b, query, expected):
    page = home(client, portal_a, query)
    assert [d.slug for d in page.context["demarches"]] == expected
    assert "1 démarche trouvée" in page.text
    assert "1 démarche trouvée" in page.text.split("</title>")[0]  # the title says it too
    # The results keep their category heading.
    category = page.context["demarches"][0].category
    assert f"<h3>{category}</h3>" in page.text


def test_a_search_without_result_says_so_with_a_link_back(client, portal_a):
    page = home(client, portal_a, "acte voirie")
    assert page.context["demarches"] == []
    assert "Aucune démarche trouvée" in page.text
    assert "Aucune démarche ne correspond à « acte voirie »" in page.text
    assert f'<a href="/c/{portal_a.collectivite.slug}/">Voir toutes les démarches</a>' in page.text


def test_several_results_are_counted_and_grouped(client, portal_a):
    page = home(client, portal_a, "de")  # "de" is in two titles and a description
    assert {d.slug for d in page.context["demarches"]} == {"acte", "voirie"}
    assert "2 démarches trouvées" in page.text
    assert page.text.count("<h3>") >= 2


@pytest.mark.parametrize("query", ["", "   ", "\x00", "\t\n"])
def test_an_empty_search_lists_every_demarche(client, portal_a, query):
    page = home(client, portal_a, query)
    assert len(page.context["demarches"]) == 3
    assert "trouvée" not in page.text
    assert 'value=""' in page.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("%", []),  # LIKE wildcards are taken literally
        ("_", []),
        ("%_", []),
        ("'", ["acte", "ecole"]),  # "d'acte", "l'école"
        ('"', []),
        ("<>", []),
        ("%_'\"<>", []),
        ("x" * 5000, []),
    ],
)
def test_odd_characters_are_searched_literally(client, portal_a, query, expected):
    page = home(client, portal_a, query)
    assert sorted(d.slug for d in page.context["demarches"]) == expected


def test_the_query_is_escaped_where_it_is_shown(client, portal_a):
    page = home(client, portal_a, '<script>alert("x")</script>')
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert" in page.text


def test_the_search_form_works_without_javascript(client, portal_a):
    page = home(client, portal_a, "école")
    form = re.search(r'<form method="get" role="search"[^>]*>.*?</form>', page.text, re.S)
    assert form, "a GET form with the search role"
    assert "action=" not in form.group(0).split(">")[0]  # sent to the page it is on
    assert '<label for="search-q">' in form.group(0)
    assert 'id="search-q" name="q" value="école"' in form.group(0)


def test_the_search_by_host_name_stays_on_the_host(client, portal_a, portal_b):
    page = client.get("/", {"q": "ecole"}, HTTP_HOST="a.localhost")
    assert [d.slug for d in page.context["demarches"]] == ["ecole"]
    assert '<a href="/">Voir toutes les démarches</a>' in page.text


def test_the_search_never_finds_another_collectivites_demarches(client, portal_a, portal_b):
    page = home(client, portal_a, "encombrants")
    assert page.context["demarches"] == []
    assert "Collecte des encombrants" not in page.text


def test_the_home_page_query_count_does_not_grow_with_the_demarches(client, portal_a):
    def count(q=None):
        with CaptureQueriesContext(connection) as queries:
            home(client, portal_a, q)
        return len(queries)

    before, before_search = count(), count("de")
    for n in range(4):
        add_demarche(portal_a, f"autre-{n}", f"Autre démarche {n}", category=f"Catégorie {n}")
    assert count() == before
    assert count("de") == before_search
    assert before <= 5


# --- The conformity mention and the footer ----------------------------------------------------


def test_the_home_page_shows_the_conformity_mention(client, portal_a):
    portal_a.collectivite.accessibility_status = "partielle"
    portal_a.collectivite.save()
    page = home(client, portal_a)
    slug = portal_a.collectivite.slug
    assert (
        f'<a href="/c/{slug}/accessibilite/">Accessibilité : partiellement conforme</a>'
        in page.text
    )


@pytest.mark.parametrize("path", ["", *(f"{p}/" for p in LEGAL_PAGES)])
def test_every_page_links_the_legal_pages(client, portal_a, path):
    slug = portal_a.collectivite.slug
    page = client.get(f"/c/{slug}/{path}")
    footer = page.text.split('<footer class="site-footer">')[1]
    for target in LEGAL_PAGES:
        assert f'href="/c/{slug}/{target}/"' in footer
    assert "Accessibilité : non conforme" in footer  # the default status
    if path:  # the current page is marked as such
        assert f'href="/c/{slug}/{path}" aria-current="page"' in footer


# --- The legal pages, by path and by host -----------------------------------------------------


@pytest.mark.parametrize("name", LEGAL_PAGES)
def test_each_legal_page_by_path_and_by_host(client, portal_a, portal_b, name):
    by_path = client.get(f"/c/{portal_a.collectivite.slug}/{name}/")
    by_host = client.get(f"/{name}/", HTTP_HOST="a.localhost")
    for page in (by_path, by_host):
        assert page.status_code == 200
        assert page.context["collectivite"] == portal_a.collectivite
        assert portal_a.collectivite.name in page.text.split("</title>")[0]
        # Nothing of the other collectivité.
        for text in (
            "Commune B",
            "dpo@commune-b.test",
            "propre à la commune B",
            "Collecte des encombrants",
        ):
            assert text not in page.text, text


@pytest.mark.parametrize("name", LEGAL_PAGES)
def test_an_unknown_or_inactive_collectivite_has_no_legal_pages(client, portal_a, name):
    assert client.get(f"/c/inconnue/{name}/").status_code == 404
    portal_a.collectivite.is_active = False
    portal_a.collectivite.save()
    assert client.get(f"/c/{portal_a.collectivite.slug}/{name}/").status_code == 404


def test_the_legal_mentions(client, portal_a, settings):
    settings.GRC_HOSTING = "Agence Numérique 49\n2 rue du Serveur, 49000 Angers"
    collectivite = portal_a.collectivite
    collectivite.address_line1 = "1 place de la Mairie"
    collectivite.phone = "+33241000001"
    collectivite.publication_director = "Hélène Martin, maire"
    collectivite.legal_mentions = "Photos : <b>service communication</b>"
    collectivite.save()
    page = client.get(f"/c/{collectivite.slug}/mentions-legales/")
    assert "<title>Mentions légales – Commune A</title>" in page.text
    for text in (
        "1 place de la Mairie",
        "49000 Testville",
        'href="tel:+33241000001"',
        f"SIREN : {collectivite.siren}",
        "Hélène Martin, maire",
        "Agence Numérique 49<br>2 rue du Serveur, 49000 Angers",
        "Photos : &lt;b&gt;service communication&lt;/b&gt;",
    ):
        assert text in page.text, text


def test_the_legal_mentions_default_to_the_legal_representative(client, portal_a):
    page = client.get(f"/c/{portal_a.collectivite.slug}/mentions-legales/")
    assert "Le représentant légal de Commune A" in page.text
    assert "GRC_HOSTING" in page.text  # the default asks the operator to fill it in
    assert "Informations complémentaires" not in page.text


def test_the_personal_data_page_describes_each_published_demarche(client, portal_a, portal_b):
    add_demarche(portal_a, "fermee", "Démarche fermée", data_purpose="Finalité fermée")
    portal_a.collectivite.demarches.filter(slug="fermee").update(state="closed")
    collectivite = portal_a.collectivite
    collectivite.dpo_name = "Délégué mutualisé"
    collectivite.dpo_email = "dpo@commune-a.test"
    collectivite.save()
    page = client.get(f"/c/{collectivite.slug}/donnees-personnelles/")
    assert "<title>Données personnelles – Commune A</title>" in page.text
    acte = page.text.split('id="demarche-acte"')[1].split("</section>")[0]
    for text in ("Délivrer l'acte demandé", "Code civil, article 34", "24 mois après la décision"):
        assert text in acte.replace("&#x27;", "'"), text
    assert f"Les agents habilités du service « {portal_a.service.name} »" in acte
    # Defaults where the démarche says nothing.
    ecole = page.text.split('id="demarche-ecole"')[1].split("</section>")[0]
    assert "article 6.1.e du RGPD" in ecole
    assert "12 mois après la décision" in ecole
    # Rights and how to use them.
    for text in (
        "Délégué mutualisé",
        'href="mailto:dpo@commune-a.test"',
        "dans un délai d'un mois",
        "https://www.cnil.fr/fr/plaintes",
        "Cookies",
    ):
        assert text in page.text.replace("&#x27;", "'"), text
    assert "Finalité fermée" not in page.text


def test_the_accessibility_declaration(client, portal_a):
    collectivite = portal_a.collectivite
    collectivite.accessibility_status = "partielle"
    collectivite.accessibility_rate = Decimal("78.50")
    collectivite.accessibility_audit_date = datetime.date(2026, 3, 12)
    collectivite.accessibility_auditor = "Cabinet Audit Accès"
    collectivite.accessibility_non_compliances = "Carte sans alternative (critère 1.3)"
    collectivite.accessibility_derogations = "Archives vidéo de 2015"
    collectivite.accessibility_contact = "accessibilite@commune-a.test"
    collectivite.accessibility_multiyear_plan = "Schéma 2026-2028 de la commune"
    collectivite.accessibility_action_plan = "Refonte des cartes"
    collectivite.save()
    page = client.get(f"/c/{collectivite.slug}/accessibilite/")
    assert "<title>Déclaration d'accessibilité – Commune A</title>" in page.text.replace(
        "&#x27;", "'"
    )
    text = page.text.replace("&#x27;", "'")
    for expected in (
        "article 47 de la loi n° 2005-102",
        f"http://testserver/c/{collectivite.slug}/",
        "<strong>partiellement conforme</strong>",
        "RGAA), version 4.1",
        "L'audit de conformité réalisé par Cabinet Audit Accès révèle que 78,5 % des critères",
        "établie le 12 mars 2026",
        "Carte sans alternative (critère 1.3)",
        "Archives vidéo de 2015",
        "Contenus non soumis à l'obligation d'accessibilité",
        "Technologies utilisées",
        "Environnement de test",
        'href="mailto:accessibilite@commune-a.test"',
        "https://formulaire.defenseurdesdroits.fr/",
        "09 69 39 00 00",
        "https://www.defenseurdesdroits.fr/carte-des-delegues",
        "Libre réponse 71120<br>75342 Paris CEDEX 07",
        "Schéma 2026-2028 de la commune",
        f"Plan d'actions {datetime.date.today().year}",
        "Refonte des cartes",
    ):
        assert expected in text, expected


def test_the_accessibility_declaration_has_defaults(client, portal_a):
    portal_a.collectivite.email = "mairie@commune-a.test"
    portal_a.collectivite.save()
    page = client.get("/accessibilite/", HTTP_HOST="a.localhost")
    text = page.text.replace("&#x27;", "'")
    assert "<strong>non conforme</strong>" in text
    assert "Aucun audit de conformité n'a encore été réalisé" in text
    assert "Aucune dérogation n'est invoquée." in text
    assert "http://a.localhost/" in text  # the declaration applies to the host's portal
    assert 'href="mailto:mairie@commune-a.test"' in text  # the contact falls back
    assert "Le schéma pluriannuel de mise en accessibilité de Commune A" in text


# --- The platform's own pages -----------------------------------------------------------------


def test_the_platform_root_has_its_own_legal_pages(client, portal_a, portal_b, settings):
    settings.GRC_HOSTING = "Agence Numérique 49"
    root = client.get("/")
    assert 'href="/mentions-legales/"' in root.text
    assert '<a href="/accessibilite/">Accessibilité : non conforme</a>' in root.text

    mentions = client.get("/mentions-legales/")
    assert "collectivite" not in mentions.context
    assert "Agence Numérique 49" in mentions.text
    for tenant in (portal_a, portal_b):
        assert f'href="/c/{tenant.collectivite.slug}/mentions-legales/"' in mentions.text
    assert 'id="donnees-personnelles"' in mentions.text

    accessibility = client.get("/accessibilite/")
    assert "Libre réponse 71120" in accessibility.text
    assert f'href="/c/{portal_b.collectivite.slug}/accessibilite/"' in accessibility.text

    data = client.get("/donnees-personnelles/")
    assert data.status_code == 302
    assert data["Location"] == "/mentions-legales/#donnees-personnelles"


# --- The declaration, filled in the admin ------------------------------------------------------


def test_the_admin_fills_the_declaration_through_the_service(client, portal_a):
    from django.urls import reverse

    from grc.base.models import Event
    from tests.base.test_admin import post_data

    client.force_login(portal_a.admin)
    change = reverse("admin:base_collectivite_change", args=[portal_a.collectivite.pk])
    form_page = client.get(change)
    fieldsets = [name for name, _options in form_page.context["adminform"].fieldsets]
    assert "Mentions légales" in fieldsets and "Déclaration d'accessibilité" in fieldsets

    refused = client.post(change, post_data(form_page, accessibility_rate="150"))
    assert refused.status_code == 200
    assert "accessibility_rate" in refused.context["adminform"].form.errors

    declaration = {
        "publication_director": "Hélène Martin, maire",
        "accessibility_status": "partielle",
        "accessibility_rate": "64,5",
        "accessibility_audit_date": "12/03/2026",
        "accessibility_auditor": "Cabinet Audit Accès",
    }
    saved = client.post(change, post_data(form_page, **declaration))
    assert saved.status_code == 302, saved.context["adminform"].form.errors
    event = Event.objects.filter(action="collectivite.updated").latest("id")
    assert event.payload["changes"]["accessibility_status"] == ["non", "partielle"]
    page = client.get(f"/c/{portal_a.collectivite.slug}/accessibilite/")
    assert "64,5 % des critères" in page.text
    assert "établie le 12 mars 2026" in page.text
    mentions = client.get(f"/c/{portal_a.collectivite.slug}/mentions-legales/")
    assert "Hélène Martin, maire" in mentions.text
