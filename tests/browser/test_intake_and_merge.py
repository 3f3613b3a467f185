"""An agent at the counter in a real browser: a request taken in for a person who has no record
yet; then two records of one person merged, every dossier kept."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from grc.base.models import Channel, Usager
from grc.base.services.usagers import find_or_create_usager
from grc.demarches.models import Dossier
from tests.demarches.dossier_helpers import demarche_for, file_dossier
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, user, url):
    page.goto(f"/comptes/connexion/?next={url}")
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"**{url}")


def test_counter_intake_for_a_new_citizen(page, settings, tenant_a, assert_accessible, media):
    settings.ALLOWED_HOSTS = ["*"]
    demarche = demarche_for(tenant_a, title="Signaler un problème de voirie")
    log_in(page, tenant_a.agent, "/backoffice/")

    page.get_by_role("link", name="Saisir une demande").click()
    page.get_by_label("Démarche").select_option(label="Signaler un problème de voirie")
    page.get_by_label("Accueil (guichet)").check()
    assert_accessible(page, where="intake start")
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Signaler un problème")

    # Nobody by that name yet: the search says so, the agent types the person in.
    page.get_by_label(re.compile("Chercher une fiche existante")).fill("Garnier")
    page.get_by_role("button", name="Chercher").click()
    expect(page.get_by_text("Aucune fiche ne correspond")).to_be_visible()
    assert_accessible(page, where="intake form")

    # Sent without the démarche's answer: the error summary names it, nothing is saved.
    page.get_by_label("Prénom").fill("Odile")
    page.get_by_label(re.compile(r"^Nom\b")).fill("Garnier")
    page.get_by_role("textbox", name="Téléphone").fill("02 41 00 10 20")
    page.get_by_role("button", name="Enregistrer la demande").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Objet")
    assert_accessible(page, where="intake form with an error")
    assert not Usager.objects.exists()

    page.get_by_label("Objet").fill("Nid-de-poule devant l'école")
    page.get_by_role("button", name="Enregistrer la demande").click()
    expect(page.get_by_role("heading", name="Demande enregistrée")).to_be_visible()
    dossier = Dossier.objects.get()
    expect(page.locator(".intake-reference")).to_have_text(dossier.reference)
    expect(page.get_by_text("remettez-lui ou postez-lui les accusés")).to_be_visible()
    assert_accessible(page, where="intake done")
    assert dossier.channel == Channel.COUNTER and dossier.demarche == demarche
    assert dossier.usager.last_name == "Garnier"
    assert dossier.usager.phones == ["+33241001020"]

    # The new record holds the dossier.
    page.get_by_role("link", name="Odile Garnier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Odile Garnier")
    expect(page.get_by_role("cell", name=dossier.reference)).to_be_visible()
    assert_accessible(page, where="citizen record")


def test_merge_of_two_duplicates_keeps_every_dossier(
    page, settings, tenant_a, assert_accessible, media
):
    settings.ALLOWED_HOSTS = ["*"]
    demarche = demarche_for(tenant_a)
    born = datetime.date(1980, 5, 1)
    first = find_or_create_usager(
        tenant_a.collectivite,
        email="jeanne.martin@exemple.test",
        first_name="Jeanne",
        last_name="Martin",
        birth_date=born,
        channel=Channel.WEB,
    ).usager
    second = find_or_create_usager(
        tenant_a.collectivite,
        email="j.martin@exemple.test",
        phone="06 12 34 56 78",
        first_name="Jeanne",
        last_name="Martin",
        birth_date=born,
        channel=Channel.PHONE,
        actor=tenant_a.agent,
    ).usager
    dossiers = [
        file_dossier(demarche, contact_email=first.email, objet="Premier"),
        file_dossier(demarche, contact_email=second.email, objet="Deuxième"),
        file_dossier(demarche, contact_email=second.email, objet="Troisième"),
    ]
    log_in(page, tenant_a.agent, "/backoffice/")

    page.get_by_role("link", name="Usagers").click()
    page.get_by_label("Nom, adresse e-mail ou téléphone").fill("jeanne martin")
    page.get_by_role("button", name="Rechercher").click()
    page.locator(f'a[href="/backoffice/usagers/{first.pk}/"]').click()
    expect(page.get_by_role("heading", name="Doublons probables")).to_be_visible()
    page.get_by_role("link", name=re.compile("Comparer avec")).click()
    expect(page.get_by_role("heading", name="Comparer deux fiches")).to_be_visible()
    assert_accessible(page, where="comparison")

    page.get_by_label(re.compile(f"Garder la fiche n° {first.pk}")).check()
    page.get_by_role("button", name="Fusionner les deux fiches").click()
    expect(page.get_by_text("Les fiches sont fusionnées")).to_be_visible()
    page.wait_for_url(f"**/backoffice/usagers/{first.pk}/")
    for dossier in dossiers:
        expect(page.get_by_role("cell", name=dossier.reference)).to_be_visible()
    assert_accessible(page, where="kept record")

    assert set(Dossier.objects.filter(usager=first).values_list("pk", flat=True)) == {
        d.pk for d in dossiers
    }
    assert Usager.objects.get(pk=second.pk).merged_into_id == first.pk
    assert Usager.objects.get(pk=first.pk).phones == ["+33612345678"]

    # The merged record's address leads to the kept one.
    page.goto(f"/backoffice/usagers/{second.pk}/")
    page.wait_for_url(f"**/backoffice/usagers/{first.pk}/")
    expect(page.get_by_text("a été fusionnée")).to_be_visible()
