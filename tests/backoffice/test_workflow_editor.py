"""The workflow editor ("Circuit de traitement"): the page, the JSON save endpoint and its
no-JavaScript form, the reset to the default workflow, the read-only diagram, publication."""

import copy
import json
from pathlib import Path

import pytest

from grc.demarches.models import DemarcheVersion
from grc.demarches.services.demarches import publish_demarche
from grc.demarches.workflow.defaults import default_workflow
from tests.backoffice.conftest import HOST

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def post_json(client, url, payload):
    return client.post(url, json.dumps(payload), content_type="application/json", HTTP_HOST=HOST)


def urls(demarche):
    base = f"/backoffice/demarches/{demarche.pk}/"
    return {
        "page": base + "circuit/",
        "save": base + "circuit/enregistrer/",
        "reset": base + "circuit/reinitialiser/",
        "diagram": base + "circuit/schema/",
        "publish": base + "publier/",
    }


def draft_of(demarche):
    return demarche.versions.get(status=DemarcheVersion.Status.DRAFT)


def status(workflow, key):
    return next(s for s in workflow["statuses"] if s["key"] == key)


def transition(workflow, key):
    return next(t for t in workflow["transitions"] if t["key"] == key)


def broken_workflow():
    """One of each problem publishing must refuse."""
    workflow = default_workflow("sva")
    # A status nothing leads to.
    workflow["statuses"].append(
        {
            "key": "oublie",
            "label": "Oublié",
            "citizen_label": "Oublié",
            "colour": "#123456",
            "category": "in_progress",
            "visible": True,
            "terminal": True,
            "actions": [],
            "timers": [],
        }
    )
    # A status that is not final and that no transition leaves.
    workflow["statuses"].append(
        {
            "key": "impasse",
            "label": "Impasse",
            "citizen_label": "Impasse",
            "colour": "#654321",
            "category": "in_progress",
            "visible": False,
            "terminal": False,
            "actions": [],
            "timers": [],
        }
    )
    workflow["transitions"].append(
        {
            "key": "aller_impasse",
            "label": "Aller à l'impasse",
            "from": ["instruction"],
            "to": "impasse",
            "by": "service",
            "comment": "none",
            # A guard on a field the form does not have.
            "guard": {"op": "equals", "field": "champ_fantome", "value": "x"},
            "fields": [],
            "actions": [
                # A template with a syntax error, and one with an unknown variable.
                {"type": "note", "body": "Dossier {{ dossier.reference }"},
                {"type": "message", "body": "Bonjour {{ usager.surnom }}, {{ inconnue }}"},
            ],
        }
    )
    return workflow


EXPECTED_PROBLEMS = [
    "Statut « oublie » : aucune transition n'y mène depuis le statut initial.",
    "Statut « impasse » : ce statut n'est pas final mais aucune transition n'en part.",
    "la condition porte sur « champ_fantome », qui n'existe pas dans le formulaire.",
    "body : Erreur de syntaxe à la ligne 1",
    "« usager.surnom » n'est pas une variable connue.",
    "La variable « inconnue » n'existe pas.",
]


def test_the_editor_page(admin_client, demarche_a):
    page = admin_client.get(urls(demarche_a)["page"])
    assert page.status_code == 200
    text = page.text
    title = "Circuit de traitement – Demande d&#x27;acte – Démarches – Espace agents – GRC"
    assert f"<title>{title}</title>" in text
    # The tab, current.
    assert (
        f'<a href="{urls(demarche_a)["page"]}" aria-current="page">Circuit de traitement</a>'
        in (text)
    )
    assert 'src="/static/grc/workflow-editor.js"' in text
    assert 'src="/static/grc/workflow-diagram.js"' in text
    assert 'id="workflow-data"' in text and 'id="workflow-config"' in text
    assert 'role="status" aria-live="polite"' in text
    assert 'id="workflow-diagram" class="wf-svg" role="img" aria-label="' in text
    # Without JavaScript: the circuit as text, the diagram's description, the JSON form.
    assert "Commencer l&#x27;instruction" in text
    assert "<li>Déposé → En instruction : Commencer l&#x27;instruction</li>" in text
    assert (
        "<li>En attente de compléments → En attente de compléments : Relancer l&#x27;usager</li>"
        in (text)
    )
    assert 'name="workflow"' in text and "&quot;accepter_implicitement&quot;" in text
    assert f'action="{urls(demarche_a)["save"]}"' in text
    assert f'action="{urls(demarche_a)["reset"]}"' in text
    assert f'action="{urls(demarche_a)["publish"]}"' in text
    # The default SVA workflow has no problem of its own.
    assert page.context["problems"] == []
    assert "Aucun point à corriger dans le circuit." in text
    config = page.context["config"]
    assert config["urls"]["save"] == urls(demarche_a)["save"]
    assert config["actionTypes"]["request_pieces"] == "Demander des pièces"
    assert set(config["fieldTypes"]) == {"text", "textarea", "integer", "date", "yesno", "choice"}
    assert "dossier.reference" in config["variables"] and "pieces.liste" in config["variables"]
    assert [f["key"] for f in config["formFields"]] == ["nom", "motif", "precision", "justificatif"]
    assert config["services"] == [demarche_a.service.name]
    # Looking creates nothing: the draft is version 1, still unchanged.
    assert demarche_a.versions.count() == 1


def test_the_diagram_page(admin_client, demarche_a):
    page = admin_client.get(urls(demarche_a)["diagram"])
    assert page.status_code == 200
    text = page.text
    assert text.startswith("<!DOCTYPE html>")
    assert 'src="/static/grc/workflow-diagram.js"' in text
    assert 'data-workflow-diagram="workflow-data"' in text and 'role="img"' in text
    assert "Circuit de traitement : Demande d&#x27;acte" in text
    assert "<li>Déposé → Accepté : Acceptation implicite (silence vaut acceptation)</li>" in text
    assert json.loads(
        text.split('<script id="workflow-data" type="application/json">')[1].split("</script>")[0]
    ) == default_workflow("sva")


def test_every_url_is_a_404_for_another_collectivite_and_for_agents(
    client, tenant_a, tenant_b, demarche_a
):
    for user in (tenant_b.admin, tenant_a.agent, tenant_a.manager):
        client.force_login(user)
        for name, url in urls(demarche_a).items():
            # The endpoints that only take POST say so before anything else, to anyone.
            expected = 405 if name in ("save", "publish") else 404
            assert client.get(url, HTTP_HOST=HOST).status_code == expected, (user, url)
            assert client.post(url, {"confirm": "yes"}, HTTP_HOST=HOST).status_code == 404, url
            assert post_json(client, url, {"workflow": {}}).status_code == 404, url
    assert draft_of(demarche_a).workflow == default_workflow("sva")


def test_saving_returns_the_problems_and_keeps_the_draft(admin_client, demarche_a):
    response = post_json(admin_client, urls(demarche_a)["save"], {"workflow": broken_workflow()})
    assert response.status_code == 200
    data = response.json()
    assert data["saved"] is True
    assert data["version"] == 1
    problems = "\n".join(data["problems"])
    for expected in EXPECTED_PROBLEMS:
        assert expected in problems
    assert all(p.startswith("Circuit — ") for p in data["problems"])
    # The form and the settings have no problem: nothing else blocks.
    assert data["other_problems"] == []
    assert draft_of(demarche_a).workflow == broken_workflow()
    # Reopening the editor shows the saved draft and its problems.
    page = admin_client.get(urls(demarche_a)["page"])
    assert page.context["workflow"] == broken_workflow()
    assert page.context["problems"] == data["problems"]
    assert "aucune transition n&#x27;y mène depuis le statut initial" in page.text
    # Publishing is refused, with the same reasons; nothing is published.
    refused = post_json(admin_client, urls(demarche_a)["publish"], {})
    assert refused.status_code == 400
    assert refused.json()["published"] is False
    assert refused.json()["problems"] == data["problems"]
    assert not demarche_a.versions.filter(status=DemarcheVersion.Status.PUBLISHED).exists()
    # And without JavaScript, the overview page lists them.
    page = admin_client.post(urls(demarche_a)["publish"])
    assert "La publication est refusée" in page.text
    assert "qui n&#x27;existe pas dans le formulaire" in page.text


def test_the_implicit_decision_must_agree_with_the_demarche(admin_client, demarche_a):
    workflow = default_workflow("sva")
    workflow["implicit"] = {}
    data = post_json(admin_client, urls(demarche_a)["save"], {"workflow": workflow}).json()
    assert data["problems"] == [
        "La démarche est en « silence vaut acceptation » : le circuit doit indiquer la "
        "transition d'acceptation implicite."
    ]
    workflow["implicit"] = {"accept": "accepter"}  # taken by the service, not the system
    data = post_json(admin_client, urls(demarche_a)["save"], {"workflow": workflow}).json()
    assert data["problems"] == [
        "Circuit — La transition de décision implicite « accepter » doit être déclenchée par "
        "le système."
    ]


def test_other_points_blocking_publication_are_listed_apart(admin_client, tenant_a):
    from tests.backoffice.conftest import make_demarche

    demarche = make_demarche(tenant_a, slug="sans-service", service=False)
    data = post_json(
        admin_client, urls(demarche)["save"], {"workflow": default_workflow("sva")}
    ).json()
    assert data["problems"] == []
    assert data["other_problems"] == [
        "Choisissez le service chargé des dossiers (il figure sur l'accusé de réception)."
    ]


def test_saving_something_that_is_not_a_workflow_is_refused(admin_client, demarche_a):
    bad = post_json(admin_client, urls(demarche_a)["save"], {"workflow": ["pas", "un", "objet"]})
    assert bad.status_code == 400
    assert bad.json() == {
        "saved": False,
        "problems": ["Le circuit de traitement doit être un objet JSON."],
    }
    not_json = admin_client.post(
        urls(demarche_a)["save"], "{pas du json", content_type="application/json"
    )
    assert not_json.status_code == 400
    assert draft_of(demarche_a).workflow == default_workflow("sva")


def test_the_no_javascript_form_saves_the_json(admin_client, demarche_a):
    workflow = default_workflow("sva")
    status(workflow, "depose")["label"] = "Reçu"
    response = admin_client.post(
        urls(demarche_a)["save"], {"workflow": json.dumps(workflow)}, follow=True
    )
    assert response.redirect_chain[-1][0] == urls(demarche_a)["page"]
    assert "Circuit enregistré dans le brouillon (version 1)." in response.text
    assert draft_of(demarche_a).workflow == workflow
    invalid = admin_client.post(urls(demarche_a)["save"], {"workflow": "{pas du json"})
    assert invalid.status_code == 400
    assert "Ce texte n&#x27;est pas du JSON valide" in invalid.text
    not_an_object = admin_client.post(urls(demarche_a)["save"], {"workflow": "[1, 2]"})
    assert not_an_object.status_code == 400
    assert "Le circuit de traitement doit être un objet JSON." in not_an_object.text
    assert draft_of(demarche_a).workflow == workflow
    broken = admin_client.post(
        urls(demarche_a)["save"], {"workflow": json.dumps(broken_workflow())}, follow=True
    )
    assert "avec des points à corriger avant de publier" in broken.text
    assert "Statut « impasse » : ce statut n&#x27;est pas final" in broken.text


def test_reset_asks_first_then_restores_the_default(admin_client, demarche_a):
    post_json(admin_client, urls(demarche_a)["save"], {"workflow": broken_workflow()})
    # Without the confirmation (no JavaScript): a page that asks, nothing changed.
    asked = admin_client.post(urls(demarche_a)["reset"])
    assert asked.status_code == 200
    assert "Réinitialiser avec le circuit par défaut ?" in asked.text
    assert 'name="confirm" value="yes"' in asked.text
    assert "silence vaut acceptation" in asked.text
    assert draft_of(demarche_a).workflow == broken_workflow()
    assert admin_client.get(urls(demarche_a)["reset"]).status_code == 200
    # Confirmed: the default workflow of the démarche's implicit decision.
    done = admin_client.post(urls(demarche_a)["reset"], {"confirm": "yes"}, follow=True)
    assert done.redirect_chain[-1][0] == urls(demarche_a)["page"]
    assert "est remplacé par le circuit par défaut" in done.text
    assert draft_of(demarche_a).workflow == default_workflow("sva")
    assert done.context["problems"] == []


def test_reset_follows_the_implicit_decision_setting(admin_client, tenant_a):
    from tests.backoffice.conftest import make_demarche

    demarche = make_demarche(tenant_a, slug="svr")
    demarche.implicit_decision = "svr"
    demarche.save()
    admin_client.post(urls(demarche)["reset"], {"confirm": "yes"})
    workflow = draft_of(demarche).workflow
    assert workflow == default_workflow("svr")
    assert workflow["implicit"] == {"reject": "rejeter_implicitement"}


def test_a_valid_edit_published_makes_a_new_version_and_leaves_the_old_one(
    admin_client, tenant_a, demarche_a
):
    first = publish_demarche(actor=tenant_a.admin, demarche=demarche_a)
    assert first.number == 1
    before = copy.deepcopy(first.workflow)
    # The editor opens the published workflow; the first save makes draft version 2.
    page = admin_client.get(urls(demarche_a)["page"])
    assert page.context["draft"] is None
    assert "Le premier enregistrement crée une nouvelle version en brouillon" in page.text
    workflow = copy.deepcopy(page.context["workflow"])
    status(workflow, "instruction")["label"] = "Instruction en cours"
    workflow["transitions"].append(
        {
            "key": "reprendre_au_depot",
            "label": "Renvoyer au dépôt",
            "from": ["instruction"],
            "to": "depose",
            "by": "service",
            "comment": "required",
            "guard": {"op": "is_empty", "field": "precision"},
            "fields": [{"key": "motif_renvoi", "type": "text", "label": "Motif", "required": True}],
            "actions": [{"type": "note", "body": "Renvoyé : {{ annotations.motif_renvoi }}"}],
        }
    )
    saved = post_json(admin_client, urls(demarche_a)["save"], {"workflow": workflow}).json()
    assert saved == {"saved": True, "version": 2, "problems": [], "other_problems": []}
    published = post_json(admin_client, urls(demarche_a)["publish"], {})
    assert published.status_code == 200 and published.json()["version"] == 2
    second = demarche_a.versions.get(number=2)
    assert second.status == DemarcheVersion.Status.PUBLISHED
    assert second.workflow == workflow
    assert transition(second.workflow, "reprendre_au_depot")["to"] == "depose"
    first.refresh_from_db()
    assert first.status == DemarcheVersion.Status.ARCHIVED
    assert first.workflow == before == default_workflow("sva")
    # The diagram page can show either version.
    old = admin_client.get(urls(demarche_a)["diagram"] + "?version=1")
    assert "Instruction en cours" not in old.text
    new = admin_client.get(urls(demarche_a)["diagram"])
    assert "<li>Instruction en cours → Déposé : Renvoyer au dépôt</li>" in new.text


def test_the_scripts_are_valid_javascript():
    import shutil
    import subprocess

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    for name in ("workflow-editor.js", "workflow-diagram.js"):
        path = ROOT / "grc" / "static" / "grc" / name
        result = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
