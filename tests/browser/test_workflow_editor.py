"""An admin's session with the workflow editor, in a real browser: a status renamed and a
transition added in the forms, the diagram following each edit, the workflow saved and checked,
a problem shown; and the read-only diagram of the default workflow, legible (no node or label
overlapping another), saved as a picture for the documentation when GRC_SAVE_DIAGRAM names a
file:

    GRC_SAVE_DIAGRAM=docs/workflow-default.png \
        .venv/bin/pytest tests/browser/test_workflow_editor.py -p no:xdist
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from grc.backoffice.demarches.workflow import describe
from grc.demarches.models import DemarcheVersion
from grc.demarches.services.demarches import create_demarche
from grc.demarches.workflow.defaults import default_workflow
from tests.demarches.factories import definition, field
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def sva_demarche(tenant):
    return create_demarche(
        actor=None,
        collectivite=tenant.collectivite,
        data={"title": "Permis de végétaliser", "slug": "vegetaliser", "implicit_decision": "sva"},
        definition=definition(
            [field("nom", "text", required=True, label="Votre nom"), field("jardin", "yesno")]
        ),
        service=tenant.service,
    )


def log_in(page, user, url):
    page.goto(f"/comptes/connexion/?next={url}")
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"**{url}")


# The boxes of the statuses and of the labels, as drawn: none may overlap another.
OVERLAPS = """(svg) => {
  const boxes = [];
  for (const g of svg.querySelectorAll("g.wf-status, g.wf-label")) {
    const r = g.querySelector("rect").getBBox();
    boxes.push({name: g.textContent, x: r.x, y: r.y, w: r.width, h: r.height});
  }
  const found = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h)
      found.push(a.name + " / " + b.name);
  }
  return found;
}"""


def test_an_admin_edits_the_workflow_and_the_diagram_follows(
    page, settings, tenant_a, assert_accessible
):
    settings.ALLOWED_HOSTS = ["*"]
    demarche = sva_demarche(tenant_a)
    url = f"/backoffice/demarches/{demarche.pk}/circuit/"
    page.set_viewport_size({"width": 1600, "height": 1000})
    log_in(page, tenant_a.admin, url)

    status = page.locator("#workflow-status[role=status]")
    diagram = page.get_by_role("img", name=re.compile("^Schéma du circuit de traitement"))
    arrows = diagram.locator(".wf-arrow")
    description = page.locator("#wf-description li")
    # The default SVA workflow: 8 statuses, 11 transitions (one a loop: the reminder).
    expect(diagram).to_have_attribute(
        "aria-label",
        "Schéma du circuit de traitement : 8 statuts, 11 transitions. "
        "Description textuelle ci-dessous.",
    )
    expect(diagram.locator("g.wf-status")).to_have_count(8)
    expect(arrows).to_have_count(11)
    expect(diagram.locator("g.wf-status--initial")).to_contain_text("Déposé")
    expect(diagram.locator("g.wf-status--terminal")).to_have_count(5)
    expect(description.first).to_have_text("Déposé → En instruction : Commencer l'instruction")
    # The browser's description of the diagram is the server's, line for line.
    expect(description).to_have_text(describe(default_workflow("sva")))
    assert diagram.evaluate(OVERLAPS) == []
    assert_accessible(page, where="workflow editor, as opened")
    # The autosave would speak in the live region at unpredictable moments: off, for now.
    page.get_by_label("Enregistrer automatiquement").uncheck()
    expect(status).to_have_text("Enregistrement automatique désactivé.")

    # 1. Renaming a status: the node's text changes as one types.
    statuses = page.get_by_role("region", name="Statuts")
    toggle = statuses.get_by_role("button", name=re.compile(r"\(instruction\)$"))
    expect(toggle).to_have_accessible_name("En instruction (instruction)")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    statuses.get_by_label("Libellé pour les agents").fill("Instruction en cours")
    node = diagram.locator('g.wf-status[data-status="instruction"]')
    expect(node).to_contain_text("Instruction en cours")
    expect(toggle).to_have_accessible_name("Instruction en cours (instruction)")
    expect(description.first).to_have_text(
        "Déposé → Instruction en cours : Commencer l'instruction"
    )
    statuses.get_by_label("Code couleur (#RRVVBB)").fill("#7a3e9d")
    expect(node.locator("rect").last).to_have_attribute("fill", "#7a3e9d")
    assert_accessible(page, where="workflow editor, a status open")
    toggle.click()

    # 2. Adding a transition: a new arrow, going back (dashed), with its label.
    transitions = page.get_by_role("region", name="Transitions")
    transitions.get_by_role("button", name="Ajouter une transition").click()
    label = transitions.get_by_label("Libellé (le bouton que voit la personne qui la déclenche)")
    expect(label).to_be_focused()
    expect(arrows).to_have_count(12)
    label.fill("Renvoyer au dépôt")
    expect(transitions.get_by_label("Identifiant", exact=True)).to_have_value("renvoyer_au_depot")
    origins = transitions.get_by_role("group", name="Statuts de départ")
    origins.get_by_label("Déposé").uncheck()
    origins.get_by_label("Instruction en cours").check()
    transitions.get_by_label("Statut d'arrivée").select_option("depose")
    transitions.get_by_label("Commentaire", exact=True).select_option("required")
    back = diagram.locator('g.wf-edge--back[data-transition="renvoyer_au_depot"]')
    expect(back).to_have_count(1)
    expect(diagram.locator('g.wf-label[data-transition="renvoyer_au_depot"]')).to_have_text(
        "Renvoyer au dépôt"
    )
    expect(arrows).to_have_count(12)
    expect(page.locator("#wf-description")).to_contain_text(
        "Instruction en cours → Déposé : Renvoyer au dépôt"
    )
    # Its guard, on a question of the form; and an action, with the variables beside it.
    transitions.get_by_role("button", name="Possible seulement si…").click()
    guard = transitions.get_by_role("group", name="Condition 1")
    expect(guard.get_by_label("Champ")).to_be_focused()
    guard.get_by_label("Champ").select_option("jardin")
    guard.get_by_label("Valeur").select_option(label="Non")
    transitions.get_by_role(
        "button", name="Ajouter une action de la transition « Renvoyer au dépôt »"
    ).click()
    action = transitions.get_by_role("group", name="Action 1 : Envoyer un e-mail")
    expect(action.get_by_label("Type d'action")).to_be_focused()
    action.get_by_label("Type d'action").select_option("note")
    action = transitions.get_by_role("group", name="Action 1 : Ajouter une note interne")
    action.get_by_text("Variables utilisables dans les textes").click()
    expect(action.get_by_text("{{ transition.libelle }}")).to_be_visible()
    action.get_by_label("Note interne (jamais montrée à l'usager)").fill(
        "Renvoyé au dépôt : {{ commentaire }}"
    )
    assert diagram.evaluate(OVERLAPS) == []
    assert_accessible(page, where="workflow editor, a new transition open")

    # 3. Saving: announced, kept in the draft, no problem.
    expect(page.get_by_text("Modifications non enregistrées")).to_be_visible()
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(status).to_have_text(
        re.compile(
            r"Circuit enregistré à .+ \(brouillon, version 1\)\. "
            r"Aucun point à corriger dans le circuit\."
        )
    )
    expect(page.get_by_text("Modifications non enregistrées")).to_be_hidden()
    saved = DemarcheVersion.objects.get(demarche=demarche, status=DemarcheVersion.Status.DRAFT)
    workflow = saved.workflow
    instruction = next(s for s in workflow["statuses"] if s["key"] == "instruction")
    assert (instruction["label"], instruction["colour"]) == ("Instruction en cours", "#7a3e9d")
    added = workflow["transitions"][-1]
    assert added == {
        "key": "renvoyer_au_depot",
        "label": "Renvoyer au dépôt",
        "from": ["instruction"],
        "to": "depose",
        "by": "service",
        "comment": "required",
        "guard": {"op": "equals", "field": "jardin", "value": False},
        "fields": [],
        "actions": [{"type": "note", "body": "Renvoyé au dépôt : {{ commentaire }}"}],
    }
    unchanged = default_workflow("sva")
    assert workflow["transitions"][:-1] == unchanged["transitions"]

    # 4. A problem: a final status made not final has no way out, said on saving.
    page.get_by_label("Enregistrer automatiquement").check()
    statuses.get_by_role("button", name="Refusé (refuse)").click()
    statuses.get_by_label("Statut final (aucune transition n'en part)").uncheck()
    expect(status).to_have_text(
        re.compile(r"Circuit enregistré à .+\. 1 point à corriger dans le circuit")
    )
    problems = page.get_by_role("region", name=re.compile("À corriger dans le circuit"))
    expect(problems.get_by_role("listitem")).to_have_text(
        [
            "Circuit — Statut « refuse » : ce statut n'est pas final mais aucune transition "
            "n'en part."
        ]
    )
    expect(diagram.locator("g.wf-status--terminal")).to_have_count(4)
    assert_accessible(page, where="workflow editor, with a problem")

    # 5. Publishing from the editor: refused with the reason, then done once it is fixed.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Publier").click()
    expect(status).to_have_text(
        "Publication refusée : 1 point à corriger, listés sous la barre d'outils."
    )
    refused = page.get_by_role("region", name="Publication refusée (1 point)")
    expect(refused.get_by_role("listitem")).to_have_text([re.compile("ce statut n'est pas final")])
    assert not demarche.versions.filter(status=DemarcheVersion.Status.PUBLISHED).exists()
    statuses.get_by_label("Statut final (aucune transition n'en part)").check()
    expect(status).to_have_text(re.compile(r"Aucun point à corriger dans le circuit\."))
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Publier").click()
    expect(status).to_have_text("Version 1 publiée : elle s'applique aux nouveaux dossiers.")
    published = demarche.versions.get(status=DemarcheVersion.Status.PUBLISHED)
    assert published.workflow["transitions"][-1]["key"] == "renvoyer_au_depot"

    # 6. Back to the default workflow, after the confirmation: a new draft, the page reloaded.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Réinitialiser avec le circuit par défaut").click()
    expect(page.get_by_text("Le circuit du brouillon (version 2) est remplacé")).to_be_visible()
    expect(arrows).to_have_count(11)
    expect(diagram.locator('g.wf-status[data-status="instruction"]')).to_contain_text(
        "En instruction"
    )
    assert demarche.versions.get(number=2).workflow == default_workflow("sva")
    assert demarche.versions.get(number=1).workflow == published.workflow


def test_the_diagram_of_the_default_workflow(
    page, live_server, settings, tenant_a, assert_accessible
):
    settings.ALLOWED_HOSTS = ["*"]
    demarche = sva_demarche(tenant_a)
    url = f"/backoffice/demarches/{demarche.pk}/circuit/schema/"
    log_in(page, tenant_a.admin, url)
    diagram = page.get_by_role("img", name=re.compile("^Schéma du circuit de traitement"))
    expect(diagram.locator("g.wf-status")).to_have_count(8)
    expect(diagram.locator(".wf-arrow")).to_have_count(11)
    names = {
        "depose": "Déposé",
        "instruction": "En instruction",
        "attente_pieces": "En attente decompléments",  # on two lines
        "accepte": "Accepté",
        "refuse": "Refusé",
    }
    for key, name in names.items():
        node = diagram.locator(f'g.wf-status[data-status="{key}"]')
        expect(node).to_be_visible()
        expect(node).to_contain_text(name)
    expect(diagram.locator("g.wf-label")).to_have_count(11)
    assert diagram.evaluate(OVERLAPS) == []
    # Big enough to read: the drawing's own size, not shrunk.
    box = diagram.bounding_box()
    assert box["width"] > 1000 and box["height"] > 300
    assert_accessible(page, where="the diagram page")

    target = os.environ.get("GRC_SAVE_DIAGRAM")
    if target:
        # A sharper picture: the same page in a context with twice the pixels.
        context = page.context.browser.new_context(
            base_url=live_server.url,
            device_scale_factor=2,
            viewport={"width": int(box["width"]) + 120, "height": int(box["height"]) + 400},
            locale="fr-FR",
        )
        context.add_cookies(page.context.cookies())
        sharp = context.new_page()
        sharp.goto(url)
        expect(sharp.locator("g.wf-status")).to_have_count(8)
        path = Path(target)
        if not path.is_absolute():
            path = ROOT / path
        sharp.locator("#wf-figure").screenshot(path=str(path))
        context.close()
