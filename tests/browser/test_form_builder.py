"""An admin's session with the form builder, in a real browser: fields added from the palette,
edited in the side panel (label, key, condition), reordered with the buttons and by drag and
drop, shown in the live preview, saved, published; and a broken form refused at publication."""

import re

import pytest
from playwright.sync_api import expect

from grc.demarches.models import DemarcheVersion
from grc.demarches.services.demarches import create_demarche
from tests.demarches.factories import definition, field
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

NAME = "Votre nom"
QUESTION = "Êtes-vous une association ?"
QUESTION_KEY = "etes_vous_une_association"
SIRET = "Numéro SIRET de l'association"


def containing(text: str) -> re.Pattern:
    return re.compile(re.escape(text))


def test_an_admin_builds_previews_saves_and_publishes_a_form(
    page, settings, tenant_a, assert_accessible
):
    settings.ALLOWED_HOSTS = ["*"]
    demarche = create_demarche(
        actor=None,
        collectivite=tenant_a.collectivite,
        data={"title": "Subvention", "slug": "subvention", "who_may_file": "anonymous"},
        definition=definition([field("nom", "text", required=True, label=NAME)]),
        service=tenant_a.service,
    )
    builder_url = f"/backoffice/demarches/{demarche.pk}/formulaire/"

    # 1. Logging in through the login page, which leads to the builder.
    page.goto(f"/comptes/connexion/?next={builder_url}")
    page.get_by_label("Adresse e-mail").fill(tenant_a.admin.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"**{builder_url}")
    # The builder's live region (the page has another status region: the messages).
    status = page.locator("#builder-status[role=status]")
    structure = page.get_by_role("region", name="Structure du formulaire")
    palette = page.get_by_role("region", name="Ajouter un champ")
    panel = page.locator("#builder-panel")
    field_labels = structure.locator(".field-row .field-label")
    expect(field_labels).to_have_text([NAME])
    assert_accessible(page, where="builder, as opened")
    # The autosave would announce itself in the same live region at unpredictable moments:
    # off for now, the "Enregistrer" button saves (the autosave is used further down).
    page.get_by_label("Enregistrer automatiquement").uncheck()
    expect(status).to_have_text("Enregistrement automatique désactivé.")

    # 2. A yes/no question, then a short text shown only when the answer is yes.
    palette.get_by_role("button", name="Oui / non", exact=True).click()
    expect(panel.get_by_role("heading", name="Modifier : Oui / non")).to_be_focused()
    panel.get_by_label("Libellé (la question posée)").fill(QUESTION)
    expect(panel.get_by_label("Identifiant")).to_have_value(QUESTION_KEY)
    palette.get_by_role("button", name="Texte court", exact=True).click()
    panel.get_by_label("Libellé (la question posée)").fill(SIRET)
    panel.get_by_label("Identifiant").fill("siret_asso")
    panel.get_by_role("button", name="Afficher seulement si…").click()
    condition = panel.get_by_role("group", name="Condition 1")
    expect(condition.get_by_label("Champ")).to_be_focused()
    condition.get_by_label("Champ").select_option(QUESTION_KEY)
    condition.get_by_label("Comparaison").select_option(label="est égal à")
    condition.get_by_label("Valeur").select_option(label="Oui")
    # New fields go after the selected one; the structure shows key and condition.
    expect(field_labels).to_have_text([NAME, QUESTION, SIRET])
    siret_row = structure.get_by_role("listitem").filter(has_text=SIRET).last
    expect(siret_row).to_contain_text("Texte court · siret_asso")
    expect(siret_row).to_contain_text("conditionnel")
    assert_accessible(page, where="builder, with a condition in the side panel")

    # 3. Reordering with "Descendre"/"Monter", from the keyboard: the focus stays on the moved
    # field's button, even re-rendered.
    down = structure.get_by_role("button", name=f"Descendre le champ « {NAME} »")
    up = structure.get_by_role("button", name=f"Monter le champ « {NAME} »")
    down.focus()
    page.keyboard.press("Enter")
    expect(field_labels).to_have_text([QUESTION, NAME, SIRET])
    expect(down).to_be_focused()
    expect(status).to_have_text(f"« {NAME} » déplacé en position 2 sur 3.")
    page.keyboard.press("Enter")
    expect(field_labels).to_have_text([QUESTION, SIRET, NAME])
    # Now last: "Descendre" is disabled and the focus goes to the field's "Monter".
    expect(down).to_be_disabled()
    expect(up).to_be_focused()
    expect(status).to_have_text(f"« {NAME} » déplacé en position 3 sur 3.")

    # ... and by drag and drop (HTML5 DnD): the name dropped on the top of the SIRET's row.
    def row_of(label: str):
        return structure.locator("li.field-row").filter(
            has=page.get_by_role("button", name=f"Modifier le champ « {label} »")
        )

    row_of(NAME).drag_to(row_of(SIRET), target_position={"x": 40, "y": 4})
    expect(field_labels).to_have_text([QUESTION, NAME, SIRET])
    expect(status).to_have_text(f"« {NAME} » déplacé en position 2.")

    # 4. The live preview: the page as citizens see it. Waiting for the final order first, so
    # that the frame is not reloaded while the test answers in it.
    preview = page.frame_locator("#builder-preview")
    expect(preview.locator("div.field")).to_have_text(
        [containing(QUESTION), containing(NAME), containing(SIRET)]
    )
    question = preview.get_by_role("group", name=QUESTION)
    expect(question).to_be_visible()
    expect(preview.get_by_label(containing(NAME))).to_be_visible()
    siret_input = preview.get_by_label(SIRET)
    expect(siret_input).to_be_attached()
    expect(siret_input).to_be_hidden()
    question.get_by_label("Oui").check()
    expect(siret_input).to_be_visible()
    question.get_by_label("Non").check()
    expect(siret_input).to_be_hidden()
    frame = page.locator("#builder-preview").element_handle().content_frame()
    assert_accessible(frame, where="builder's preview frame")

    # 5. Saving: announced in the live region, kept in the draft version.
    expect(page.get_by_text("Modifications non enregistrées")).to_be_visible()
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(status).to_have_text(
        re.compile(r"Brouillon enregistré à .+ \(version 1\)\. Le formulaire peut être publié\.")
    )
    expect(page.get_by_text("Modifications non enregistrées")).to_be_hidden()
    draft = DemarcheVersion.objects.get(demarche=demarche, status=DemarcheVersion.Status.DRAFT)
    fields = draft.definition["pages"][0]["fields"]
    assert [(f["key"], f["type"], f["label"]) for f in fields] == [
        (QUESTION_KEY, "yesno", QUESTION),
        ("nom", "text", NAME),
        ("siret_asso", "text", SIRET),
    ], "the saved definition has the fields in the order of the structure"
    assert fields[2]["condition"] == {"op": "equals", "field": QUESTION_KEY, "value": True}
    assert "condition" not in fields[0] and "condition" not in fields[1]

    # 6. Publishing from the builder, after the confirmation dialog.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Publier").click()
    expect(status).to_have_text("Version 1 publiée : elle s'applique aux nouveaux dossiers.")
    expect(page.locator(".demarche-head .state")).to_have_text("Publiée")
    draft.refresh_from_db()
    assert draft.status == DemarcheVersion.Status.PUBLISHED
    demarche.refresh_from_db()
    assert demarche.state == demarche.State.PUBLISHED

    # A choice field left without options, autosaved into a new draft: publication refused,
    # with the reasons on the page, and nothing published.
    page.get_by_label("Enregistrer automatiquement").check()
    palette.get_by_role("button", name="Choix unique", exact=True).click()
    panel.get_by_label("Libellé (la question posée)").fill("Type d'association")
    panel.get_by_role("button", name="Retirer l'option « Option 1 »").click()
    panel.get_by_role("button", name="Retirer l'option « Option 2 »").click()
    expect(status).to_have_text(
        re.compile(r"Brouillon enregistré à .+ \(version 2\)\. 1 point à corriger")
    )
    expect(page.get_by_text("Modifications non enregistrées")).to_be_hidden()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Publier").click()
    expect(status).to_have_text(
        "Publication refusée : 1 point à corriger, listés sous la barre d'outils."
    )
    problems = page.get_by_role("region", name="Publication refusée (1 point)")
    expect(problems.get_by_role("listitem")).to_have_text(
        [containing("un champ à choix doit proposer au moins une option")]
    )
    assert_accessible(page, where="builder, publication refused")
    versions = {v.number: v.status for v in demarche.versions.all()}
    assert versions == {
        1: DemarcheVersion.Status.PUBLISHED,
        2: DemarcheVersion.Status.DRAFT,
    }, "the refused draft is kept, the published version is unchanged"
    broken = DemarcheVersion.objects.get(demarche=demarche, number=2).definition
    assert broken["pages"][0]["fields"][-1]["options"] == []
