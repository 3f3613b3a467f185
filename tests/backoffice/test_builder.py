"""The form builder's page and endpoints: save (JSON and no-JavaScript form), preview,
publish."""

import json
import subprocess
from pathlib import Path

import pytest

from grc.demarches.models import DemarcheVersion
from grc.demarches.services.demarches import publish_demarche
from tests.backoffice.conftest import HOST, make_demarche, valid_definition

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def post_json(client, url, payload, **extra):
    return client.post(
        url, json.dumps(payload), content_type="application/json", HTTP_HOST=HOST, **extra
    )


def urls(demarche):
    base = f"/backoffice/demarches/{demarche.pk}/"
    return {
        "page": base + "formulaire/",
        "save": base + "formulaire/enregistrer/",
        "preview": base + "formulaire/apercu/",
        "publish": base + "publier/",
    }


def broken_definition():
    definition = valid_definition()
    fields = definition["pages"][0]["fields"]
    fields[2]["options"] = []  # a choice without options
    # a condition on a later field
    fields[1]["condition"] = {"op": "equals", "field": "precision", "value": "x"}
    return definition


def test_the_builder_page(admin_client, demarche_a):
    page = admin_client.get(urls(demarche_a)["page"])
    assert page.status_code == 200
    text = page.text
    title = "Formulaire – Demande d&#x27;acte – Démarches – Espace agents – GRC"
    assert f"<title>{title}</title>" in text
    assert 'src="/static/grc/builder.js"' in text
    assert '<meta name="csrf-token"' in text
    assert 'id="builder-definition"' in text and 'id="builder-config"' in text
    assert 'role="status" aria-live="polite"' in text
    # The palette offers every type; the outline works without JavaScript.
    assert 'data-add-type="block"' in text and "Bloc répétable" in text
    assert "Page 2 : Pièces justificatives" in text
    assert "Motif de la demande" in text
    # The no-JavaScript fallback: the definition in a textarea, saved by a plain form.
    assert 'name="definition"' in text
    assert "&quot;motif&quot;" in text
    assert f'action="{urls(demarche_a)["save"]}"' in text
    config = page.context["config"]
    assert config["urls"]["preview"] == urls(demarche_a)["preview"]
    assert "text" in config["prefillTypes"]["first_name"]
    assert "application/pdf" in config["fileTypes"]


def test_saving_returns_the_problems_and_keeps_the_draft(admin_client, demarche_a):
    payload = {"definition": broken_definition()}
    response = post_json(admin_client, urls(demarche_a)["save"], payload)
    assert response.status_code == 200
    data = response.json()
    assert data["saved"] is True
    assert data["version"] == 1
    problems = " ".join(data["problems"])
    assert "un champ à choix doit proposer au moins une option" in problems
    assert "la condition porte sur « precision », qui vient après" in problems
    draft = demarche_a.versions.get(status=DemarcheVersion.Status.DRAFT)
    assert draft.definition == broken_definition()
    # Reopening the builder shows the saved draft and its problems.
    page = admin_client.get(urls(demarche_a)["page"])
    assert page.context["definition"] == broken_definition()
    assert "qui vient après" in page.text


def test_saving_something_that_is_not_a_definition_is_refused(admin_client, demarche_a):
    bad = post_json(admin_client, urls(demarche_a)["save"], {"definition": ["pas", "un", "objet"]})
    assert bad.status_code == 400
    assert bad.json() == {
        "saved": False,
        "problems": ["La définition du formulaire doit être un objet JSON."],
    }
    not_json = admin_client.post(
        urls(demarche_a)["save"], "{pas du json", content_type="application/json"
    )
    assert not_json.status_code == 400
    assert demarche_a.versions.get().definition == valid_definition()


def test_the_no_javascript_form_saves_the_json(admin_client, demarche_a):
    definition = valid_definition()
    definition["pages"][0]["title"] = "Votre demande d'acte"
    response = admin_client.post(
        urls(demarche_a)["save"], {"definition": json.dumps(definition)}, follow=True
    )
    assert response.redirect_chain[-1][0] == urls(demarche_a)["page"]
    assert "Brouillon enregistré (version 1)." in response.text
    assert demarche_a.versions.get().definition == definition
    invalid = admin_client.post(urls(demarche_a)["save"], {"definition": "{pas du json"})
    assert invalid.status_code == 400
    assert "Ce texte n&#x27;est pas du JSON valide" in invalid.text
    assert demarche_a.versions.get().definition == definition


def test_the_preview_is_the_citizens_page(admin_client, demarche_a):
    definition = valid_definition()
    definition["pages"][0]["fields"][1]["label"] = "Votre nom de famille"
    response = post_json(
        admin_client, urls(demarche_a)["preview"], {"definition": definition, "page": "demande"}
    )
    assert response.status_code == 200
    html = response.text
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="fr">' in html
    assert "/static/grc/portal.css" in html
    assert "/static/grc/form.js" in html
    assert "<h1>Votre demande</h1>" in html
    assert "Étape 1 sur 2" in html
    # Rendered by demarches/form/page.html, as on the portal.
    assert '<h2 class="section-title" data-type="title">Vos coordonnées</h2>' in html
    assert "Votre nom de famille" in html
    assert "Acte de naissance" in html
    assert 'data-condition="{&quot;op&quot;: &quot;equals&quot;' in html
    assert 'class="demarche-form"' in html
    # The unsaved definition was only shown, not saved.
    assert demarche_a.versions.get().definition == valid_definition()
    second = post_json(
        admin_client, urls(demarche_a)["preview"], {"definition": definition, "index": 1}
    )
    assert "<h1>Pièces justificatives</h1>" in second.text
    assert "Justificatif" in second.text


def test_the_preview_of_an_unfinished_definition_names_what_it_leaves_out(admin_client, demarche_a):
    definition = valid_definition()
    fields = definition["pages"][0]["fields"]
    fields.append({"key": "quand", "type": "date", "label": "Quand", "validation": {"min": "x"}})
    fields.append({"type": "text", "label": "Sans identifiant"})
    fields.append("pas un champ")
    fields[3]["condition"] = {"op": "inconnu"}
    response = post_json(
        admin_client, urls(demarche_a)["preview"], {"definition": definition, "page": "demande"}
    )
    assert response.status_code == 200
    assert "Votre nom" in response.text
    assert "Précisez votre demande" in response.text  # shown, its broken condition ignored
    assert "pas encore affichés" in response.text
    assert "Sans identifiant" in response.text
    nothing = post_json(admin_client, urls(demarche_a)["preview"], {"definition": "rien"})
    assert nothing.status_code == 200


def test_the_saved_draft_can_be_previewed_as_a_page(admin_client, demarche_a):
    response = admin_client.get(urls(demarche_a)["preview"] + "?page=pieces")
    assert response.status_code == 200
    assert "<h1>Pièces justificatives</h1>" in response.text


def test_publishing_is_refused_with_the_reasons(admin_client, demarche_a):
    post_json(admin_client, urls(demarche_a)["save"], {"definition": broken_definition()})
    response = post_json(admin_client, urls(demarche_a)["publish"], {})
    assert response.status_code == 400
    data = response.json()
    assert data["published"] is False
    problems = " ".join(data["problems"])
    assert "au moins une option" in problems
    assert "qui vient après" in problems
    assert demarche_a.versions.get().status == DemarcheVersion.Status.DRAFT
    # The same refusal from the plain form lists the reasons on the page.
    page = admin_client.post(urls(demarche_a)["publish"])
    assert page.status_code == 200
    assert "La publication est refusée" in page.text
    assert "au moins une option" in page.text


def test_publishing_creates_version_2_and_leaves_version_1_as_it_was(admin_client, demarche_a):
    publish_demarche(actor=None, demarche=demarche_a)
    first = demarche_a.versions.get(number=1)
    definition = valid_definition()
    definition["pages"][0]["fields"].append(
        {"key": "telephone", "type": "phone", "label": "Téléphone"}
    )
    saved = post_json(admin_client, urls(demarche_a)["save"], {"definition": definition})
    assert saved.json()["version"] == 2
    assert saved.json()["problems"] == []
    response = post_json(admin_client, urls(demarche_a)["publish"], {})
    assert response.status_code == 200
    assert response.json()["published"] is True
    assert response.json()["version"] == 2
    first.refresh_from_db()
    assert first.status == DemarcheVersion.Status.ARCHIVED
    assert first.definition == valid_definition()
    second = demarche_a.versions.get(number=2)
    assert second.status == DemarcheVersion.Status.PUBLISHED
    assert second.definition == definition
    again = post_json(admin_client, urls(demarche_a)["publish"], {})
    assert again.status_code == 400
    assert again.json()["problems"] == ["Rien à publier : la version en ligne est à jour."]


def test_publishing_from_the_overview_page(admin_client, demarche_a):
    response = admin_client.post(urls(demarche_a)["publish"], follow=True)
    assert "Version 1 publiée" in response.text
    demarche_a.refresh_from_db()
    assert demarche_a.state == "published"


def test_a_demarche_without_service_cannot_be_published(admin_client, tenant_a):
    demarche = make_demarche(tenant_a, slug="sans-service", service=False)
    response = post_json(admin_client, urls(demarche)["publish"], {})
    assert response.status_code == 400
    assert any("service" in p for p in response.json()["problems"])


def test_builder_js_is_valid_javascript():
    result = subprocess.run(
        ["node", "--check", str(ROOT / "grc" / "static" / "grc" / "builder.js")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_a_definition_the_visual_editor_cannot_open_is_still_editable_as_json(
    admin_client, tenant_a
):
    demarche = make_demarche(tenant_a, slug="casse", definition={"schema": 1, "pages": "x"})
    page = admin_client.get(urls(demarche)["page"])
    assert page.status_code == 200
    assert "Le formulaire doit avoir au moins une page." in page.text
    assert "&quot;pages&quot;: &quot;x&quot;" in page.text
    overview = admin_client.get(f"/backoffice/demarches/{demarche.pk}/")
    assert "Le formulaire doit avoir au moins une page." in overview.text
    refused = post_json(admin_client, urls(demarche)["publish"], {})
    assert refused.status_code == 400
    assert "Le formulaire doit avoir au moins une page." in refused.json()["problems"]
    preview = post_json(
        admin_client, urls(demarche)["preview"], {"definition": {"pages": "x"}, "page": "p"}
    )
    assert preview.status_code == 200


@pytest.mark.parametrize(
    ("definition", "problem"),
    [
        ({"schema": 1, "pages": "x"}, "Le formulaire doit avoir au moins une page."),
        ({"schema": 1, "pages": ["x"]}, "Page 1 : une page doit être un objet JSON."),
        (
            {"schema": 1, "pages": [{"key": "a", "title": "A", "fields": [{"key": ["b"]}]}]},
            "identifiant invalide",
        ),
    ],
)
def test_a_malformed_definition_is_kept_as_a_draft_with_precise_problems(
    admin_client, demarche_a, definition, problem
):
    """Like any unfinished form: the work is kept, the problems listed, publication refused."""
    response = post_json(admin_client, urls(demarche_a)["save"], {"definition": definition})
    assert response.status_code == 200 and response.json()["saved"] is True
    assert any(problem in p for p in response.json()["problems"])
    draft = demarche_a.versions.get(status="draft")
    assert draft.definition == definition
    refused = post_json(admin_client, urls(demarche_a)["publish"], {})
    assert refused.status_code == 400
