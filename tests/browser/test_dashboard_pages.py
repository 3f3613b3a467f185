"""The dashboard, the exports page and the account's security page in Chromium, checked by
axe-core: an admin looks at the figures, asks for an export, downloads it, and turns on
two-factor authentication with the code their phone would show."""

import base64
import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.backoffice.test_dashboard import Data
from tests.backoffice.test_two_factor import next_code
from tests.browser.conftest import DESKTOP
from tests.factories import PASSWORD


def log_in(page, user):
    page.goto("/comptes/connexion/")
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r".*/backoffice/$"))


@pytest.mark.django_db(transaction=True)
def test_dashboard_exports_and_two_factor(
    page, assert_accessible, settings, tenant_a, tenant_b, media, run_jobs
):
    settings.ALLOWED_HOSTS = ["*"]
    # django-otp refuses any code for a second after a wrong one: a person never types that
    # fast, the test does.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    Data(tenant_a, tenant_b)
    page.set_viewport_size(DESKTOP)
    log_in(page, tenant_a.admin)

    page.get_by_role("link", name="Tableau de bord").click()
    page.get_by_role("heading", name="Tableau de bord", level=1).wait_for()
    assert page.get_by_role("img", name="Dossiers reçus par semaine et par canal").is_visible()
    assert_accessible(page, where="dashboard")
    page.get_by_label("Périmètre").select_option(
        label=f"{tenant_a.collectivite.name} – {tenant_a.service.name}"
    )
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url(re.compile(r"perimetre=s\d+"))
    page.locator("summary").first.click()
    assert page.locator("details table").first.is_visible()

    page.get_by_role("button", name="Exporter les dossiers (CSV)").click()
    page.wait_for_url(re.compile(r".*/backoffice/exports/$"))
    assert page.locator("progress").count() == 1
    assert_accessible(page, where="exports (running)")
    run_jobs(["exports"])
    page.wait_for_selector("text=Télécharger", timeout=15_000)  # the page polls, then reloads
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Télécharger")).click()
    assert download.value.suggested_filename.endswith(".csv")
    assert_accessible(page, where="exports (done)")

    page.get_by_role("link", name="Sécurité du compte").click()
    page.get_by_role("button", name="Ajouter une application d'authentification").click()
    assert page.get_by_role("img", name=re.compile("Code QR")).is_visible()
    assert_accessible(page, where="security (enrolment)")
    secret = page.locator(".otp-secret").inner_text().strip()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label(re.compile("code à six chiffres")).fill(str(totp(key)).zfill(6))
    page.get_by_role("button", name="Activer").click()
    page.get_by_text("La double authentification est activée").wait_for()
    page.get_by_role("button", name="Générer des codes de secours").click()
    assert page.locator(".backup-codes li").count() == 10
    assert_accessible(page, where="security (backup codes)")

    # A new session asks for the code.
    page.context.clear_cookies()
    page.goto("/comptes/connexion/")
    page.get_by_label("Adresse e-mail").fill(tenant_a.admin.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r".*/backoffice/securite/verifier/.*"))
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Vérifier").click()
    page.get_by_text("Le code n'a pas été accepté").wait_for()
    assert_accessible(page, where="verify (error)")
    device = TOTPDevice.objects.get(user=tenant_a.admin, confirmed=True)
    page.get_by_label("Code").fill(next_code(device))
    page.get_by_role("button", name="Vérifier").click()
    page.wait_for_url(re.compile(r".*/backoffice/$"))
