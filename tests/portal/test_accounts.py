"""Citizen accounts (django-allauth): sign-up with a confirmation e-mail sent by the worker
through a real SMTP server, login, rate limits, the profile that prefills forms."""

import html
import re

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from grc.base.models import CitizenProfile, Event, User
from tests.factories import PASSWORD, UserFactory

STRONG = "Un-mot-de-passe-solide-2026"


def browser() -> Client:
    return Client(HTTP_HOST="127.0.0.1")


@pytest.mark.django_db(transaction=True)
def test_sign_up_confirm_by_the_emailed_link_then_log_in(smtp_server, run_jobs, tenant_a):
    client = browser()
    page = client.get(f"/comptes/inscription/?c={tenant_a.collectivite.slug}")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'for="id_email"' in text and "Créer mon compte" in text
    assert tenant_a.collectivite.name in text  # the portal the person came from

    answer = client.post(
        "/comptes/inscription/",
        {
            "email": "Nouvelle.Personne@Exemple.test",
            "first_name": "Nour",
            "last_name": "Haddad",
            "password1": STRONG,
            "password2": STRONG,
        },
    )
    assert answer.status_code == 302
    assert answer["Location"] == "/comptes/confirmation/"
    user = User.objects.get(email__iexact="nouvelle.personne@exemple.test")
    assert (user.first_name, user.last_name) == ("Nour", "Haddad")
    assert Event.objects.filter(action="user.signed_up", object_id=str(user.pk)).exists()
    assert smtp_server.messages == []  # not sent by the request: by the worker, after commit

    run_jobs(["mail"])
    [mail] = smtp_server.messages
    assert mail["To"] == user.email
    assert mail["X-GRC-Message"] == "1"
    body = mail.get_body(("plain",)).get_content()
    link = re.search(r"http://\S+/comptes/confirmation/(\S+)/", body)
    assert link, body

    # Not logged in before the address is confirmed.
    refused = client.post("/comptes/connexion/", {"login": user.email, "password": STRONG})
    assert refused.status_code == 302 and refused["Location"] == "/comptes/confirmation/"
    assert "_auth_user_id" not in client.session

    path = f"/comptes/confirmation/{link.group(1)}/"
    page = client.get(path)
    assert page.status_code == 200 and "Confirm" in page.content.decode()
    confirmed = client.post(path)
    assert confirmed.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    home = client.get("/comptes/", follow=True)
    assert home.status_code == 200
    assert "Mes demandes" in home.content.decode()


@pytest.mark.django_db
def test_staff_accounts_log_in_without_a_confirmation(tenant_a):
    client = browser()
    page = client.post("/comptes/connexion/", {"login": tenant_a.agent.email, "password": PASSWORD})
    assert page.status_code == 302
    assert client.get(page["Location"])["Location"] == "/backoffice/"


@pytest.mark.django_db
def test_wrong_passwords_are_refused_with_the_error_tied_to_the_form_then_rate_limited():
    user = UserFactory()
    client = browser()
    page = client.post("/comptes/connexion/", {"login": user.email, "password": "non"})
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="error-summary"' in text and 'aria-invalid="true"' not in text.split("<form")[0]
    for _attempt in range(5):
        page = client.post("/comptes/connexion/", {"login": user.email, "password": "non"})
    # Now even the right password is refused for this address, with a message saying why.
    page = client.post("/comptes/connexion/", {"login": user.email, "password": PASSWORD})
    assert page.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Trop de tentatives" in page.content.decode()


@pytest.mark.django_db
def test_too_many_logins_from_one_address_get_a_429_page(settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}
    client = browser()
    for _attempt in range(3):
        client.post("/comptes/connexion/", {"login": "x@exemple.test", "password": "non"})
    page = client.post("/comptes/connexion/", {"login": "x@exemple.test", "password": "non"})
    assert page.status_code == 429
    assert "Trop de tentatives" in page.content.decode()


@pytest.mark.django_db
def test_sign_up_errors_are_in_french_and_bound_to_their_fields():
    UserFactory(email="deja@exemple.test")
    page = browser().post(
        "/comptes/inscription/",
        {"email": "pas-une-adresse", "password1": "123", "password2": "456"},
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert 'aria-describedby="id_email-hint id_email-error"' in text
    assert 'aria-invalid="true"' in text
    assert "réponses sont à corriger" in text


@pytest.mark.django_db
def test_the_profile_is_saved_audited_and_checked(tenant_a):
    user = UserFactory(first_name="", last_name="")
    client = browser()
    client.force_login(user)
    bad = client.post(
        "/comptes/profil/",
        {"phone": "12", "postal_code": "4900", "birth_date": "31/02/1990"},
    )
    assert bad.status_code == 400
    text = html.unescape(bad.content.decode())
    assert "n'est pas un numéro de téléphone valide" in text
    assert "5 chiffres" in text and "jj/mm/aaaa" in text
    assert not CitizenProfile.objects.filter(user=user, phones__len__gt=0).exists()

    good = client.post(
        "/comptes/profil/",
        {
            "first_name": "Marie",
            "last_name": "Dubois",
            "birth_date": "14/07/1985",
            "phone": "06 12 34 56 78",
            "address_line1": "3 rue des Lilas",
            "postal_code": "49000",
            "city": "Angers",
            "notify_status": "on",
        },
    )
    assert good.status_code == 302
    profile = CitizenProfile.objects.get(user=user)
    assert profile.phones == ["+33612345678"]
    assert profile.city == "Angers" and str(profile.birth_date) == "1985-07-14"
    assert profile.notify_status and not profile.notify_messages
    user.refresh_from_db()
    assert user.get_full_name() == "Marie Dubois"
    assert Event.objects.filter(action="profile.updated", object_id=str(profile.pk)).count() == 1


@pytest.mark.django_db
def test_names_certified_by_franceconnect_cannot_be_typed_over():
    user = UserFactory(first_name="Jean", last_name="Martin")
    CitizenProfile.objects.create(user=user, identity_source="franceconnect")
    client = browser()
    client.force_login(user)
    client.post("/comptes/profil/", {"first_name": "Faux", "last_name": "Nom", "city": "Angers"})
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Jean", "Martin")
    assert CitizenProfile.objects.get(user=user).city == "Angers"


@pytest.mark.django_db
def test_account_pages_need_a_login():
    client = browser()
    for url in ("/comptes/", "/comptes/profil/"):
        page = client.get(url)
        assert page.status_code == 302 and page["Location"].startswith("/comptes/connexion/")


@pytest.mark.django_db(transaction=True)
def test_password_reset_by_the_emailed_link(smtp_server, run_jobs):
    user = UserFactory(email="oubli@exemple.test")
    client = browser()
    assert client.get("/comptes/mot-de-passe/oubli/").status_code == 200
    sent = client.post("/comptes/mot-de-passe/oubli/", {"email": "OUBLI@exemple.test"})
    assert sent.status_code == 302
    # The same answer for an address nobody uses (no account enumeration).
    unknown = browser().post("/comptes/mot-de-passe/oubli/", {"email": "personne@exemple.test"})
    assert unknown.status_code == 302 and unknown["Location"] == sent["Location"]
    run_jobs(["mail"])
    to_user = [m for m in smtp_server.messages if m["To"] == user.email]
    assert len(to_user) == 1
    body = to_user[0].get_body(("plain",)).get_content()
    path = re.search(r"https?://[^/\s]+(/comptes/mot-de-passe/nouveau/\S+/)", body).group(1)
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    action = form_page.redirect_chain[-1][0] if form_page.redirect_chain else path
    done = client.post(action, {"password1": STRONG, "password2": STRONG})
    assert done.status_code == 302
    assert browser().login(username=user.email, password=STRONG)


@pytest.mark.django_db
def test_every_account_page_renders_in_french_for_a_logged_in_citizen():
    user = UserFactory()
    client = browser()
    client.force_login(user)
    for url in (
        "/comptes/",
        "/comptes/profil/",
        "/comptes/adresses/",
        "/comptes/mot-de-passe/",
        "/comptes/deconnexion/",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        text = page.content.decode()
        assert '<html lang="fr">' in text, url
        assert "<title>" in text and "Se déconnecter" in text, url
