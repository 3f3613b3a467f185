"""Take the README's screenshots from a running GRC with the demo data (`make run`).

    .venv/bin/python docs/screenshots/take.py [http://127.0.0.1:8000]

Uses Debian's Chromium (or GRC_CHROMIUM) through Playwright, like the browser tests."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
SIZES = {"desktop": {"width": 1280, "height": 900}, "mobile": {"width": 360, "height": 740}}
CITIZEN = ("marie.dubois@exemple.test", "demo-grc-2026")
STAFF = ("admin@saint-aubin.test", "demo-grc-2026")


def shoot(tab, name: str) -> None:
    for label, size in SIZES.items():
        tab.set_viewport_size(size)
        tab.screenshot(path=str(HERE / f"{name}-{label}.png"), full_page=True)
        print(f"{name}-{label}.png")


def main() -> None:
    chromium = os.environ.get("GRC_CHROMIUM") or shutil.which("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        tab = browser.new_context(base_url=BASE, locale="fr-FR").new_page()

        tab.goto("/c/saint-aubin/")
        shoot(tab, "portal-home")

        tab.goto("/c/saint-aubin/demarches/question-contact/")
        tab.get_by_role("button", name="Commencer la démarche").click()
        tab.get_by_role("button", name="Continuer").click()
        tab.get_by_role("alert").wait_for()
        shoot(tab, "portal-form-error")

        tab.goto("/comptes/connexion/?next=/c/saint-aubin/mes-demandes/")
        tab.get_by_label("Adresse e-mail").fill(CITIZEN[0])
        tab.get_by_label("Mot de passe").fill(CITIZEN[1])
        tab.get_by_role("button", name="Se connecter").click()
        tab.wait_for_url("**/mes-demandes/")
        shoot(tab, "portal-mes-demandes")

        # The agents' workspace (desktop only: agents work at a desk).
        staff = browser.new_context(base_url=BASE, locale="fr-FR", viewport=SIZES["desktop"])
        tab = staff.new_page()
        tab.goto("/comptes/connexion/?next=/backoffice/dossiers/tous/")
        tab.get_by_label("Adresse e-mail").fill(STAFF[0])
        tab.get_by_label("Mot de passe").fill(STAFF[1])
        tab.get_by_role("button", name="Se connecter").click()
        tab.wait_for_url("**/backoffice/dossiers/tous/")
        tab.screenshot(path=str(HERE / "backoffice-queue.png"), full_page=True)
        print("backoffice-queue.png")
        tab.locator("table a[href*='/backoffice/dossiers/']").first.click()
        tab.wait_for_load_state()
        tab.screenshot(path=str(HERE / "backoffice-dossier.png"), full_page=True)
        print("backoffice-dossier.png")
        tab.goto("/backoffice/tableau-de-bord/")
        tab.screenshot(path=str(HERE / "backoffice-dashboard.png"), full_page=True)
        print("backoffice-dashboard.png")
        browser.close()


if __name__ == "__main__":
    main()
