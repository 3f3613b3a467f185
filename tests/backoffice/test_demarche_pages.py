"""The démarches pages of the backoffice, for a collectivité admin (HTTP level)."""

import pytest
from django.utils.html import escape

from grc.demarches.models import Demarche
from grc.demarches.texts import DEFAULT_TEXTS, TEXT_LABELS
from tests.backoffice.conftest import make_demarche
from tests.factories import MembershipFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def test_the_list_shows_the_admins_demarches_with_their_links(admin_client, demarche_a):
    page = admin_client.get("/backoffice/demarches/")
    assert page.status_code == 200
    assert "<title>Démarches – Espace agents – GRC</title>" in page.text
    assert "Demande d&#x27;acte" in page.text
    assert "Brouillon" in page.text
    assert "v1 en préparation" in page.text
    assert demarche_a.service.name in page.text
    for link in ("Nouvelle démarche", "Importer (JSON)", "Catalogue"):
        assert link in page.text
    assert f"/backoffice/demarches/{demarche_a.pk}/formulaire/" in page.text


def test_the_home_page_links_to_the_demarches_for_admins_only(client, tenant_a):
    client.force_login(tenant_a.admin)
    assert "/backoffice/demarches/" in client.get("/backoffice/", HTTP_HOST="127.0.0.1").text
    client.force_login(tenant_a.agent)
    assert "/backoffice/demarches/" not in client.get("/backoffice/", HTTP_HOST="127.0.0.1").text


def test_creating_a_demarche(admin_client, tenant_a):
    page = admin_client.get("/backoffice/demarches/nouvelle/")
    assert page.status_code == 200
    assert tenant_a.collectivite.name in page.text  # one collectivité: no select
    assert 'name="collectivite"' not in page.text
    response = admin_client.post(
        "/backoffice/demarches/nouvelle/",
        {
            "service": tenant_a.service.pk,
            "title": "Inscription à la cantine",
            "slug": "cantine",
            "who_may_file": "account",
            "channels": ["web", "email"],
            "draft_lifespan_days": 30,
            "implicit_decision": "none",
            "decision_period": 2,
            "decision_period_unit": "months",
            "acknowledgement_required": "on",
            "retention_months": 12,
        },
    )
    demarche = Demarche.objects.get(slug="cantine")
    assert response.status_code == 302
    assert response["Location"] == f"/backoffice/demarches/{demarche.pk}/formulaire/"
    assert demarche.collectivite == tenant_a.collectivite
    assert demarche.service == tenant_a.service
    assert demarche.channels == ["web", "email"]
    assert demarche.state == Demarche.State.DRAFT
    assert demarche.versions.get().number == 1


def test_creation_errors_are_shown_on_their_fields_in_french(admin_client, tenant_a, demarche_a):
    response = admin_client.post(
        "/backoffice/demarches/nouvelle/",
        {
            "title": "Doublon",
            "slug": demarche_a.slug,
            "who_may_file": "account",
            "channels": ["web"],
            "draft_lifespan_days": 500,
            "implicit_decision": "none",
            "decision_period": 2,
            "decision_period_unit": "months",
            "retention_months": 12,
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["slug"] == ["Une démarche utilise déjà cet identifiant court."]
    assert "draft_lifespan_days" in form.errors
    assert "<title>Erreur – Nouvelle démarche" in response.text
    assert Demarche.objects.filter(title="Doublon").count() == 0


def test_an_admin_of_several_collectivites_chooses_one(client, tenant_a, tenant_b):
    MembershipFactory(user=tenant_a.admin, collectivite=tenant_b.collectivite, role="admin")
    client.force_login(tenant_a.admin)
    page = client.get("/backoffice/demarches/nouvelle/", HTTP_HOST="127.0.0.1")
    assert 'name="collectivite"' in page.text
    response = client.post(
        "/backoffice/demarches/nouvelle/",
        {
            "collectivite": tenant_b.collectivite.pk,
            "service": tenant_a.service.pk,  # not B's
            "title": "Mauvais service",
            "slug": "mauvais",
            "who_may_file": "account",
            "channels": ["web"],
            "draft_lifespan_days": 30,
            "implicit_decision": "none",
            "decision_period": 2,
            "decision_period_unit": "months",
            "retention_months": 12,
        },
        HTTP_HOST="127.0.0.1",
    )
    assert response.status_code == 200
    assert response.context["form"].errors["service"]
    assert not Demarche.objects.filter(slug="mauvais").exists()


def test_settings_are_saved_through_the_service(admin_client, tenant_a, demarche_a):
    other = ServiceFactory(collectivite=tenant_a.collectivite, name="Urbanisme")
    url = f"/backoffice/demarches/{demarche_a.pk}/reglages/"
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "<legend>Présentation</legend>" in page.text
    assert "Réglages – Demande d&#x27;acte" in page.text
    data = {
        "service": other.pk,
        "title": "Demande d'acte d'état civil",
        "slug": "acte",
        "summary": "Résumé",
        "description": "<p>Bonjour <script>alert(1)</script></p>",
        "who_may_file": "anonymous",
        "channels": ["web"],
        "draft_lifespan_days": 30,
        "implicit_decision": "sva",
        "decision_period": 2,
        "decision_period_unit": "months",
        "retention_months": 24,
        "opens_at": "2030-01-01T08:00",
        "closes_at": "2029-01-01T08:00",
    }
    refused = admin_client.post(url, data)
    assert refused.status_code == 200
    assert refused.context["form"].non_field_errors() == ["La fermeture doit suivre l'ouverture."]
    data["closes_at"] = ""
    response = admin_client.post(url, data)
    assert response.status_code == 302
    demarche_a.refresh_from_db()
    assert demarche_a.title == "Demande d'acte d'état civil"
    assert demarche_a.service == other
    assert demarche_a.description == "<p>Bonjour </p>"
    assert demarche_a.retention_months == 24
    assert demarche_a.opens_at.isoformat().startswith("2030-01-01T07:00")


def test_texts_are_edited_from_their_defaults(admin_client, demarche_a):
    url = f"/backoffice/demarches/{demarche_a.pk}/textes/"
    page = admin_client.get(url)
    assert page.status_code == 200
    assert escape(TEXT_LABELS["are_intro"]) in page.text
    assert "dossier.reference" in page.text  # the documented variables
    assert "Nom de la collectivité" in page.text
    data = dict(DEFAULT_TEXTS)
    data["aee_subject"] = "Demande {{ dossier.reference }} reçue"
    response = admin_client.post(url, data)
    assert response.status_code == 302
    demarche_a.refresh_from_db()
    # Only the changed text is kept: the others follow the defaults.
    assert demarche_a.texts == {"aee_subject": "Demande {{ dossier.reference }} reçue"}


def test_a_broken_text_is_refused_on_its_field(admin_client, demarche_a):
    url = f"/backoffice/demarches/{demarche_a.pk}/textes/"
    data = dict.fromkeys(DEFAULT_TEXTS, "")
    data["are_intro"] = "Bonjour {{ usager.mot_de_passe }} {% if %}"
    response = admin_client.post(url, data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["are_intro"]
    assert "Erreur de syntaxe" in errors["are_intro"][0]
    demarche_a.refresh_from_db()
    assert demarche_a.texts == {}


def test_the_overview_lists_publication_problems_and_versions(admin_client, tenant_a):
    demarche = make_demarche(tenant_a, slug="vide", definition={"schema": 1, "pages": []})
    page = admin_client.get(f"/backoffice/demarches/{demarche.pk}/")
    assert page.status_code == 200
    assert "Le formulaire doit avoir au moins une page." in page.text
    assert "Publier la version 1" in page.text


def test_closing_a_published_demarche(admin_client, demarche_a):
    admin_client.post(f"/backoffice/demarches/{demarche_a.pk}/publier/")
    response = admin_client.post(f"/backoffice/demarches/{demarche_a.pk}/fermer/")
    assert response.status_code == 302
    demarche_a.refresh_from_db()
    assert demarche_a.state == Demarche.State.CLOSED
    again = admin_client.post(f"/backoffice/demarches/{demarche_a.pk}/fermer/", follow=True)
    assert "Seule une démarche en ligne peut être fermée." in again.text


def test_platform_admins_create_catalogue_models(client, platform_admin, tenant_a):
    client.force_login(platform_admin)
    page = client.get("/backoffice/demarches/nouvelle/", HTTP_HOST="127.0.0.1")
    assert "Catalogue de la plateforme (modèle)" in page.text
    response = client.post(
        "/backoffice/demarches/nouvelle/",
        {
            "collectivite": "",
            "title": "Modèle",
            "slug": "modele",
            "who_may_file": "account",
            "channels": ["web"],
            "draft_lifespan_days": 30,
            "implicit_decision": "none",
            "decision_period": 2,
            "decision_period_unit": "months",
            "retention_months": 12,
        },
        HTTP_HOST="127.0.0.1",
    )
    assert response.status_code == 302
    model = Demarche.objects.get(slug="modele")
    assert model.collectivite is None
    assert model.service is None
    listing = client.get("/backoffice/demarches/", HTTP_HOST="127.0.0.1")
    assert "Catalogue (modèle)" in listing.text
