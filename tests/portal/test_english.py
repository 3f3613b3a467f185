"""The portal in English: pages asked for in English (language cookie or browser header) come
in English, the texts the form's script shows are English too, and the translation catalogue
has no entry left untranslated or fuzzy, with its compiled .mo in step with it."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from grc.demarches.models import Dossier
from tests.demarches.factories import definition, field, published

pytestmark = pytest.mark.django_db

CATALOGUE = Path(settings.BASE_DIR) / "grc" / "locale" / "en" / "LC_MESSAGES"


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def english_page(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert '<html lang="en">' in text
    return text


def test_a_collectivite_home_is_in_english(english, tenant_a):
    text = english_page(english, f"/c/{tenant_a.collectivite.slug}/")
    for words in (
        "Online services – Commune A",
        "Search for an online service",
        "Contact us",
        "Track an application",
        "Create an account",
        "Legal notice",
        "Personal data",
        "Accessibility: non-compliant",
    ):
        assert words in text
    assert "Rechercher une démarche" not in text


def test_the_login_page_is_in_english_by_the_browser_header(client, tenant_a):
    page = client.get("/comptes/connexion/", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert '<html lang="en">' in text
    for words in (
        "Sign in to your account",
        "Forgotten your password?",
        "No account yet?",
        "Stay signed in on this device",
    ):
        assert words in text
    assert "Mot de passe oublié" not in text


def test_the_tracking_page_is_in_english(english, tenant_a):
    text = english_page(english, f"/c/{tenant_a.collectivite.slug}/suivi/")
    for words in (
        "Track an application",
        "Application reference",
        "Tracking code",
        "See my application",
    ):
        assert words in text


def test_the_form_script_gets_its_texts_in_english(english, tenant_a):
    """form.js says nothing of its own: the page hands it the words (upload progress, autosave
    failure), and the background save answers in the page's language."""
    demarche = published(tenant_a.collectivite, tenant_a.service, definition([field("nom")]))
    slug = tenant_a.collectivite.slug
    started = english.post(reverse("portal:start", args=[slug, demarche.slug]))
    text = english_page(english, started["Location"])
    for words in (
        "Uploading “%(name)s”: %(percent)s%",
        "“%(name)s” has been attached.",
        'data-remove="Remove"',
        "The draft could not be saved automatically",
        'data-login="Sign in again"',
    ):
        assert words in text
    draft = Dossier.objects.get(demarche__pk=demarche.pk)
    saved = english.post(
        reverse("portal:autosave", args=[slug, draft.uuid, "page_1"]), {"nom": "Durand"}
    )
    assert re.fullmatch(r"Draft saved at \d{1,2}:\d{2}", saved.json()["message"])


def msgattrib(*options: str) -> str:
    if shutil.which("msgattrib") is None:
        pytest.fail("msgattrib is missing: install GNU gettext (Debian package 'gettext').")
    done = subprocess.run(
        ["msgattrib", *options, str(CATALOGUE / "django.po")],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_every_message_is_translated_and_none_is_fuzzy():
    untranslated = msgattrib("--untranslated", "--no-obsolete")
    assert untranslated == "", f"untranslated entries in django.po:\n{untranslated}"
    fuzzy = msgattrib("--only-fuzzy", "--no-obsolete")
    assert fuzzy == "", f"fuzzy entries in django.po:\n{fuzzy}"


def test_the_compiled_catalogue_matches_the_po_file(tmp_path):
    if shutil.which("msgfmt") is None:
        pytest.fail("msgfmt is missing: install GNU gettext (Debian package 'gettext').")
    fresh = tmp_path / "django.mo"
    subprocess.run(
        ["msgfmt", "--check-format", "-o", str(fresh), str(CATALOGUE / "django.po")], check=True
    )
    with (CATALOGUE / "django.mo").open("rb") as committed, fresh.open("rb") as compiled:
        assert gettext.GNUTranslations(committed)._catalog == (
            gettext.GNUTranslations(compiled)._catalog
        ), "django.mo is out of date: run `django-admin compilemessages -l en` in grc/"
