"""Each model démarche of the catalogue filed in a real browser, with JavaScript: a condition
shows a field live, a file is sent at once with its progress bar, every page is checked with
axe-core at 360 px and at desktop width, and the sending lands on the dossier's page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from grc.demarches.models import Dossier
from grc.demarches.services.demarches import publish_demarche
from grc.demarches.services.exchange import CATALOGUE_DIR, import_demarche
from tests.demarches.helpers import PDF, value_for
from tests.factories import CollectiviteFactory, ServiceFactory, UserFactory
from tests.portal.test_filing import png_bytes

pytestmark = pytest.mark.django_db(transaction=True)

# Per model: the answer that shows another field on the same page, and that field.
CONDITIONS = {
    "acte-etat-civil": ("type_acte", "naissance", "type_document"),
    "inscription-scolaire": ("second_responsable", True, "resp2_prenom"),
    "question-contact": ("mode_reponse", "telephone", "contact_telephone"),
    "reclamation": ("deja_contacte", True, "date_contact"),
    "reservation-salle": ("type_evenement", "autre", "type_evenement_autre"),
    "signalement-voirie": ("type_probleme", "autre", "type_probleme_autre"),
}
# The civil-status certificate asks for no document (none may be required for it): no file.
MODELS = sorted(CONDITIONS)


def log_in(tab, live_server, user) -> None:
    """The browser holds the session of `user` (logging in itself is tested elsewhere)."""
    client = Client()
    client.force_login(user)
    tab.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]
    )


def watch_progress(tab) -> None:
    """Record every <progress> the page inserts, to check the bar was there however fast the
    upload went on the local server."""
    tab.evaluate(
        """() => {
          if (window.seenProgress) { window.seenProgress = []; return; }
          window.seenProgress = [];
          new MutationObserver((changes) => changes.forEach((c) => c.addedNodes.forEach((n) => {
            const bar = n.querySelector ? n.querySelector("progress") : null;
            if (bar) window.seenProgress.push(bar.getAttribute("aria-label"));
          }))).observe(document.body, {childList: true, subtree: true});
        }"""
    )


def fill(tab, spec: dict[str, Any], name: str, tmp_path, value=None) -> None:
    """Answer one field as a person would, with a valid value."""
    kind = spec["type"]
    wrapper = tab.locator(f'[data-key="{name}"]')
    if value is None:
        value = value_for(spec, files={})
    if kind in ("yesno", "choice") and spec.get("widget") != "select":
        text = json.dumps(value) if isinstance(value, bool) else value
        wrapper.locator(f'input[value="{text}"]').check()
    elif kind == "choice":
        wrapper.locator("select").select_option(value)
    elif kind == "multiple":
        wrapper.locator(f'input[value="{value[0]}"]').check()
    elif kind == "checkbox":
        wrapper.locator("input[type=checkbox]").check()
    elif kind == "address":
        for index, part in enumerate(["address_line1", "address_line2", "postal_code", "city"]):
            tab.locator(f"#id_{name}_{index}").fill(value[part])
    elif kind == "file":
        accepted = spec.get("accept") or []
        path = tmp_path / ("assurance.pdf" if "image/png" not in accepted else "photo.png")
        path.write_bytes(PDF if path.suffix == ".pdf" else png_bytes((60, 40)))
        watch_progress(tab)
        tab.locator(f"#id_{name}").set_input_files(str(path))
        wrapper.locator("ul.attachments li", has_text=path.name).wait_for()
        assert tab.evaluate("window.seenProgress") == [f"Envoi de « {path.name} »"]
        assert wrapper.get_by_role("status").inner_text() == f"« {path.name} » est joint."
        assert tab.locator(f"#id_{name}").evaluate("i => i.files.length") == 0
    else:
        tab.locator(f"#id_{name}").fill(str(value))


def answer_page(tab, page_spec: dict[str, Any], tmp_path, skip: set[str]) -> list[str]:
    """Every visible question of the page answered; the file names sent."""
    sent = []
    for spec in page_spec["fields"]:
        if spec["type"] in ("title", "explanation") or spec["key"] in skip:
            continue
        if spec["type"] == "block":
            for index in range(max(spec.get("min_items", 1), 1)):
                for sub in spec["fields"]:
                    name = f"{spec['key']}__{index}__{sub['key']}"
                    if (
                        sub["type"] not in ("title", "explanation")
                        and tab.locator(f'[data-key="{name}"]').is_visible()
                    ):
                        fill(tab, sub, name, tmp_path)
            continue
        if not tab.locator(f'[data-key="{spec["key"]}"]').is_visible():
            continue
        fill(tab, spec, spec["key"], tmp_path)
        if spec["type"] == "file":
            sent.append(spec["key"])
    return sent


@pytest.mark.parametrize("model", MODELS)
def test_filing_a_model_demarche(
    model, page, live_server, settings, media, tmp_path, assert_accessible_both
):
    settings.ALLOWED_HOSTS = ["*"]
    commune = CollectiviteFactory(slug="lussac", name="Commune de Lussac")
    document = json.loads((CATALOGUE_DIR / f"{model}.json").read_text())
    demarche = import_demarche(
        actor=None,
        collectivite=commune,
        service=ServiceFactory(collectivite=commune, name="Accueil"),
        raw=json.dumps(document).encode(),
    )
    publish_demarche(actor=None, demarche=demarche)
    anonymous = demarche.who_may_file == "anonymous"
    if not anonymous:
        log_in(page, live_server, UserFactory(email="camille@exemple.test"))

    page.goto(f"/c/lussac/demarches/{demarche.slug}/")
    assert "Vos données personnelles" in page.locator("main").inner_text()
    assert_accessible_both(page, where=f"{model}: presentation")
    page.get_by_role("button", name="Commencer la démarche").click()

    trigger, value, revealed = CONDITIONS[model]
    pages = {p["key"]: p for p in document["definition"]["pages"]}
    files: list[str] = []
    for _step in range(len(pages)):
        page.wait_for_load_state()
        key = page.url.rstrip("/").rsplit("/", 1)[-1]
        if key == "recapitulatif":
            break
        spec = pages[key]
        page.locator("form.demarche-form").wait_for()
        by_key = {f["key"]: f for f in spec["fields"]}
        if trigger in by_key:
            shown = page.locator(f'[data-key="{revealed}"]')
            assert shown.is_hidden()
            fill(page, by_key[trigger], trigger, tmp_path, value=value)
            assert shown.is_visible(), f"{revealed} stays hidden"
        assert_accessible_both(page, where=f"{model}: page {key}")
        files += answer_page(page, spec, tmp_path, skip={trigger})
        with page.expect_navigation():
            page.get_by_role("button", name="Continuer").click()
        if page.url.rstrip("/").endswith(f"/{key}"):
            problems = page.locator(".error-summary").all_inner_texts()
            raise AssertionError(f"{model}: page {key} refused: {problems}")

    page.wait_for_url("**/recapitulatif/")
    main = page.locator("main").inner_text()
    assert "Vos données personnelles" in main
    if model != "acte-etat-civil":
        assert files and ("photo.png" in main or "assurance.pdf" in main)
    assert_accessible_both(page, where=f"{model}: summary")
    if anonymous:
        page.get_by_label("Votre adresse e-mail").fill("camille@exemple.test")
    page.get_by_role("button", name="Envoyer ma demande").click()
    page.wait_for_url("**/dossiers/**")

    dossier = Dossier.objects.filed().get(demarche=demarche)
    assert dossier.answers[revealed]
    assert dossier.attachments.count() == len(files)
    text = page.locator("main").inner_text()
    assert dossier.reference in text
    if anonymous:
        assert dossier.tracking_code and dossier.tracking_code in text
    assert_accessible_both(page, where=f"{model}: dossier")
