"""Export, import and adoption of catalogue models from the backoffice."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from grc.demarches.models import Demarche
from grc.demarches.services.demarches import publish_demarche
from grc.demarches.services.exchange import export_demarche
from tests.backoffice.conftest import HOST, make_demarche, valid_definition

pytestmark = pytest.mark.django_db


def upload(content, name="export.json"):
    if not isinstance(content, bytes):
        content = json.dumps(content).encode()
    return SimpleUploadedFile(name, content, content_type="application/json")


def test_export_downloads_the_demarche_as_json(admin_client, demarche_a):
    response = admin_client.get(f"/backoffice/demarches/{demarche_a.pk}/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="acte.json"'
    document = json.loads(response.content)
    assert document["format"] == "grc.demarche"
    assert document["demarche"]["title"] == "Demande d'acte"
    assert document["definition"] == valid_definition()


def test_a_malformed_file_lists_the_errors_and_creates_nothing(admin_client, tenant_a):
    page = admin_client.get("/backoffice/demarches/importer/")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    not_json = admin_client.post(
        "/backoffice/demarches/importer/",
        {"file": upload(b"{ceci n'est pas du json"), "service": tenant_a.service.pk},
    )
    assert not_json.status_code == 400
    assert "Ce fichier n&#x27;est pas du JSON valide" in not_json.text
    document = {
        "format": "grc.demarche",
        "format_version": 1,
        "demarche": {"title": "Sans identifiant", "couleur": "rouge"},
        "definition": {"schema": 1, "pages": []},
    }
    incompatible = admin_client.post(
        "/backoffice/demarches/importer/",
        {"file": upload(document), "service": tenant_a.service.pk},
    )
    assert incompatible.status_code == 400
    problems = incompatible.context["problems"]
    assert "Réglages inconnus : couleur." in problems
    assert "Le réglage « slug » manque." in problems
    assert "Formulaire — Le formulaire doit avoir au moins une page." in problems
    assert 'role="alert"' in incompatible.text
    assert not Demarche.objects.exists()


def test_a_file_whose_form_cannot_be_read_is_refused(admin_client, tenant_a, demarche_a):
    document = export_demarche(demarche_a)
    document["demarche"]["slug"] = "autre"
    document["definition"]["pages"] = ["pas une page"]
    response = admin_client.post(
        "/backoffice/demarches/importer/",
        {"file": upload(document), "service": tenant_a.service.pk},
    )
    assert response.status_code == 400
    assert "Formulaire — Page 1 : une page doit être un objet JSON." in response.context["problems"]
    assert Demarche.objects.count() == 1


def test_import_of_an_export_round_trips(admin_client, tenant_a, demarche_a):
    exported = admin_client.get(f"/backoffice/demarches/{demarche_a.pk}/export/").content
    # Same collectivité: the slug is taken, and said so.
    taken = admin_client.post(
        "/backoffice/demarches/importer/",
        {"file": upload(exported), "service": tenant_a.service.pk},
    )
    assert taken.status_code == 400
    assert taken.context["problems"] == ["Une démarche utilise déjà cet identifiant court."]
    assert Demarche.objects.count() == 1
    response = admin_client.post(
        "/backoffice/demarches/importer/",
        {"file": upload(exported), "service": tenant_a.service.pk, "slug": "acte-copie"},
    )
    assert response.status_code == 302
    copy = Demarche.objects.get(slug="acte-copie")
    assert response["Location"] == f"/backoffice/demarches/{copy.pk}/"
    assert copy.collectivite == tenant_a.collectivite
    assert copy.service == tenant_a.service
    assert copy.state == Demarche.State.DRAFT
    again = export_demarche(copy)
    original = json.loads(exported)
    original["demarche"]["slug"] = "acte-copie"
    assert again == original


def test_import_into_another_collectivite(client, tenant_a, tenant_b, demarche_a):
    client.force_login(tenant_a.admin)
    exported = client.get(f"/backoffice/demarches/{demarche_a.pk}/export/", HTTP_HOST=HOST).content
    client.force_login(tenant_b.admin)
    response = client.post(
        "/backoffice/demarches/importer/",
        {"file": upload(exported), "service": tenant_b.service.pk},
        HTTP_HOST=HOST,
    )
    assert response.status_code == 302
    imported = Demarche.objects.get(collectivite=tenant_b.collectivite)
    assert imported.slug == "acte"
    assert imported.versions.get().definition == valid_definition()


def test_the_catalogue_lists_published_models(admin_client):
    published = make_demarche(None, slug="modele", title="Modèle publié", service=False)
    publish_demarche(actor=None, demarche=published)
    make_demarche(None, slug="brouillon", title="Modèle en brouillon", service=False)
    page = admin_client.get("/backoffice/demarches/catalogue/")
    assert page.status_code == 200
    assert "Modèle publié" in page.text
    assert "Modèle en brouillon" not in page.text
    assert f"/backoffice/demarches/catalogue/{published.pk}/adopter/" in page.text


def test_adopting_a_model_creates_a_draft_owned_by_the_collectivite(admin_client, tenant_a):
    model = make_demarche(None, slug="modele", title="Modèle", service=False)
    publish_demarche(actor=None, demarche=model)
    url = f"/backoffice/demarches/catalogue/{model.pk}/adopter/"
    page = admin_client.get(url)
    assert page.status_code == 200
    assert tenant_a.service.name in page.text
    response = admin_client.post(url, {"service": tenant_a.service.pk, "slug": "modele"})
    adopted = Demarche.objects.get(collectivite=tenant_a.collectivite)
    assert response.status_code == 302
    assert response["Location"] == f"/backoffice/demarches/{adopted.pk}/reglages/"
    assert adopted.source == model
    assert adopted.service == tenant_a.service
    assert adopted.state == Demarche.State.DRAFT
    assert adopted.versions.get().definition == valid_definition()
    # Adopting it again needs another slug, and says so on the field.
    again = admin_client.post(url, {"service": tenant_a.service.pk, "slug": "modele"})
    assert again.status_code == 200
    assert again.context["form"].errors["slug"] == [
        "Une démarche utilise déjà cet identifiant court."
    ]
    assert "Déjà adoptée" in admin_client.get("/backoffice/demarches/catalogue/").text


def test_a_draft_or_local_demarche_cannot_be_adopted(admin_client, demarche_a):
    model = make_demarche(None, slug="modele", service=False)
    for demarche in (model, demarche_a):
        response = admin_client.get(f"/backoffice/demarches/catalogue/{demarche.pk}/adopter/")
        assert response.status_code == 404


def test_the_real_catalogue_can_be_adopted(admin_client, tenant_a):
    from grc.demarches.services.exchange import load_catalogue

    models = load_catalogue(actor=None)
    for model in models:
        response = admin_client.post(
            f"/backoffice/demarches/catalogue/{model.pk}/adopter/",
            {"service": tenant_a.service.pk, "slug": model.slug},
        )
        assert response.status_code == 302, model.slug
        adopted = Demarche.objects.get(collectivite=tenant_a.collectivite, source=model)
        # Each adopted form opens in the builder and every page previews.
        page = admin_client.get(f"/backoffice/demarches/{adopted.pk}/formulaire/")
        assert page.status_code == 200
        definition = page.context["definition"]
        for index, _page in enumerate(definition["pages"]):
            preview = admin_client.post(
                f"/backoffice/demarches/{adopted.pk}/formulaire/apercu/",
                json.dumps({"definition": definition, "index": index}),
                content_type="application/json",
            )
            assert preview.status_code == 200
            assert "pas encore affichés" not in preview.text
