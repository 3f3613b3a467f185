"""Who reaches the démarches pages: a collectivité admin, their own démarches only; platform
admins, everything; anyone else, a 404 (the same answer as for a démarche that does not
exist)."""

import json

import pytest

from grc.demarches.models import Demarche, DemarcheVersion
from grc.demarches.services.demarches import publish_demarche
from tests.backoffice.conftest import HOST, make_demarche, valid_definition

pytestmark = pytest.mark.django_db

GLOBAL_URLS = [
    "/backoffice/demarches/",
    "/backoffice/demarches/nouvelle/",
    "/backoffice/demarches/importer/",
    "/backoffice/demarches/catalogue/",
]


def demarche_urls(pk):
    base = f"/backoffice/demarches/{pk}/"
    return {
        "get": [
            base,
            base + "reglages/",
            base + "textes/",
            base + "formulaire/",
            base + "formulaire/apercu/",
            base + "export/",
        ],
        "post": [
            base + "reglages/",
            base + "textes/",
            base + "formulaire/enregistrer/",
            base + "formulaire/apercu/",
            base + "publier/",
            base + "fermer/",
        ],
    }


def post_json(client, url, payload):
    return client.post(url, json.dumps(payload), content_type="application/json", HTTP_HOST=HOST)


def test_an_admin_reaches_nothing_of_another_collectivite(admin_client, demarche_a, demarche_b):
    listing = admin_client.get("/backoffice/demarches/")
    assert "Démarche de B" not in listing.text
    assert [r["demarche"] for r in listing.context["rows"]] == [demarche_a]
    urls = demarche_urls(demarche_b.pk)
    for url in urls["get"]:
        assert admin_client.get(url).status_code == 404, url
    for url in urls["post"]:
        assert admin_client.post(url, {"title": "Pris"}).status_code == 404, url
        assert post_json(admin_client, url, {"definition": {}, "page": "x"}).status_code == 404
    demarche_b.refresh_from_db()
    assert demarche_b.title == "Démarche de B"
    assert demarche_b.state == Demarche.State.DRAFT
    assert demarche_b.versions.get().definition == valid_definition()


def test_an_unknown_demarche_answers_the_same(admin_client):
    for url in demarche_urls(999999)["get"]:
        assert admin_client.get(url).status_code == 404


def test_an_admin_cannot_adopt_into_another_collectivites_service(admin_client, tenant_a, tenant_b):
    model = make_demarche(None, slug="modele", service=False)
    publish_demarche(actor=None, demarche=model)
    response = admin_client.post(
        f"/backoffice/demarches/catalogue/{model.pk}/adopter/",
        {"service": tenant_b.service.pk, "slug": "modele"},
    )
    assert response.status_code == 200
    assert "service" in response.context["form"].errors
    assert not Demarche.objects.filter(collectivite__isnull=False).exists()


def test_an_admin_cannot_import_into_another_collectivites_service(admin_client, tenant_b):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = admin_client.post(
        "/backoffice/demarches/importer/",
        {"file": SimpleUploadedFile("x.json", b"{}"), "service": tenant_b.service.pk},
    )
    assert response.status_code == 200
    assert "service" in response.context["form"].errors
    assert not Demarche.objects.exists()


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_staff_without_the_admin_role_get_404(client, tenant_a, demarche_a, role):
    client.force_login(getattr(tenant_a, role))
    client.defaults["HTTP_HOST"] = HOST
    urls = demarche_urls(demarche_a.pk)
    for url in GLOBAL_URLS + urls["get"]:
        assert client.get(url).status_code == 404, url
    for url in urls["post"]:
        assert client.post(url).status_code == 404, url
    assert client.get("/backoffice/").status_code == 200


def test_anonymous_visitors_are_sent_to_the_login_page(client, demarche_a):
    for url in GLOBAL_URLS + demarche_urls(demarche_a.pk)["get"]:
        response = client.get(url, HTTP_HOST=HOST)
        assert response.status_code == 302
        assert response["Location"].startswith("/comptes/connexion/?next=")


def test_catalogue_models_are_managed_by_platform_admins_only(
    client, admin_client, platform_admin, tenant_a
):
    model = make_demarche(None, slug="modele", title="Modèle", service=False)
    for url in demarche_urls(model.pk)["get"]:
        assert admin_client.get(url).status_code == 404, url
    client.force_login(platform_admin)
    for url in demarche_urls(model.pk)["get"]:
        assert client.get(url, HTTP_HOST=HOST).status_code == 200, url
    assert DemarcheVersion.objects.filter(demarche=model).count() == 1


def test_posts_need_a_csrf_token(tenant_a, demarche_a):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(tenant_a.admin)
    response = post_json(
        client,
        f"/backoffice/demarches/{demarche_a.pk}/formulaire/enregistrer/",
        {"definition": valid_definition()},
    )
    assert response.status_code == 403


def test_the_platform_admin_does_not_work_on_dossiers(tenant_a, platform_admin):
    # One rule for the pages and the services: the agency configures, the collectivités'
    # staff handle the dossiers.
    from grc.demarches.access import dossiers_visible_to_staff, works_on_service
    from tests.demarches.dossier_helpers import demarche_for, file_dossier

    dossier = file_dossier(demarche_for(tenant_a), contact_email="x@exemple.test")
    for user, works in ((tenant_a.admin, True), (tenant_a.agent, True), (platform_admin, False)):
        assert works_on_service(user, dossier) is works
        assert dossiers_visible_to_staff(user).filter(pk=dossier.pk).exists() is works
