"""FranceConnect login through the Django test client against a real OpenID Connect provider
(tests/oidc_provider/server.js, run by the `oidc_provider` fixture): the whole code flow, the
identity pivot on the profile, and every refusal (state, tampered or unsigned tokens, provider
down, an existing account never taken over)."""

import base64
import json
import os
import subprocess
import sys
from datetime import date
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from allauth.account.models import EmailAddress
from django.contrib.messages import get_messages
from django.urls import reverse

from grc.base.models import CitizenProfile, Event, User
from grc.portal.franceconnect import client as fc_client
from grc.portal.franceconnect.views import FLOW, ID_TOKEN, PENDING
from grc.portal.models import FranceConnectIdentity
from tests.factories import PASSWORD, UserFactory
from tests.oidc_provider.fixture import ANGELA, PIERRE

pytestmark = pytest.mark.django_db

START = "/comptes/franceconnect/connexion/"


def start(client, next_url=""):
    response = client.post(START, {"next": next_url} if next_url else {})
    assert response.status_code == 302
    return response["Location"]


def come_back(client, callback_url):
    """Our callback, as the browser would reach it after the provider."""
    parts = urlsplit(callback_url)
    assert parts.path == reverse("franceconnect_callback")
    return client.get(f"{parts.path}?{parts.query}")


def fc_login(client, provider, *, person="angela", next_url=""):
    return come_back(client, provider.session().authorize(start(client, next_url), person=person))


def said(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def logged_in_user(client):
    return User.objects.filter(pk=client.session.get("_auth_user_id")).first()


def assert_refused(client, response, words):
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert words in said(response)
    assert logged_in_user(client) is None


def test_the_authorization_request_is_franceconnects(client, franceconnect):
    location = start(client, "/c/ailleurs/")
    parts = urlsplit(location)
    assert location.startswith(f"{franceconnect.issuer}/auth?")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == franceconnect.client_id
    assert query["redirect_uri"] == "http://testserver/comptes/franceconnect/retour/"
    assert query["acr_values"] == "eidas1"
    assert query["scope"].split() == [
        "openid",
        "given_name",
        "family_name",
        "birthdate",
        "birthplace",
        "birthcountry",
        "gender",
        "email",
        "preferred_username",
    ]
    flow = client.session[FLOW]
    assert (query["state"], query["nonce"]) == (flow["state"], flow["nonce"])
    assert len(flow["state"]) >= 32 and flow["state"] != flow["nonce"]
    assert flow["next"] == "/c/ailleurs/"


def test_first_login_creates_the_account_from_the_identity_pivot(client, franceconnect):
    response = fc_login(client, franceconnect, next_url="/c/saint-aubin/")

    assert response.status_code == 302 and response["Location"] == "/c/saint-aubin/"
    user = logged_in_user(client)
    assert user is not None and user.email == ANGELA["email"]
    assert (user.first_name, user.last_name) == (ANGELA["given_name"], ANGELA["family_name"])
    assert not user.has_usable_password()
    assert "Vous êtes connecté avec FranceConnect" in said(response)
    # FranceConnect vouches for the address: confirmed for allauth, no e-mail to click.
    assert EmailAddress.objects.filter(user=user, email=user.email, verified=True, primary=True)
    profile = CitizenProfile.objects.get(user=user)
    assert profile.birth_date == date.fromisoformat(ANGELA["birthdate"])
    assert profile.birth_place == ANGELA["birthplace"]
    assert profile.identity_source == CitizenProfile.IdentitySource.FRANCECONNECT
    identity = FranceConnectIdentity.objects.get(user=user)
    # Pairwise: not the provider's own account id, but stable for our service.
    assert identity.sub != "angela" and len(identity.sub) == 64
    assert identity.pivot["gender"] == "female" and identity.pivot["birthcountry"] == "99100"
    assert client.session[ID_TOKEN]
    actions = set(Event.objects.values_list("action", flat=True))
    assert {"user.created", "franceconnect.account_created"} <= actions

    # Next time: the same account, refreshed, audited.
    client.logout()
    response = fc_login(client, franceconnect)
    assert response["Location"] == reverse("account_home")
    assert logged_in_user(client) == user
    assert User.objects.count() == 1 and FranceConnectIdentity.objects.count() == 1
    assert Event.objects.filter(action="franceconnect.login", object_id=str(identity.pk)).exists()


def test_usage_name_and_birth_abroad(client, franceconnect):
    fc_login(client, franceconnect, person="pierre")
    user = logged_in_user(client)
    assert user.email == PIERRE["email"]
    assert user.last_name == PIERRE["preferred_username"]  # the usage name, when there is one
    profile = user.profile
    assert profile.birth_place == "99134"  # the country's INSEE code when born abroad
    assert user.franceconnect_identities.get().pivot["family_name"] == "MERCIER"


def test_a_foreign_next_address_is_ignored(client, franceconnect):
    response = fc_login(client, franceconnect, next_url="https://evil.example/")
    assert response["Location"] == reverse("account_home")


def test_state_mismatch_is_refused(client, franceconnect):
    callback = franceconnect.session().authorize(start(client))
    tampered = callback.replace("state=", "state=x")
    response = come_back(client, tampered)
    assert_refused(client, response, "a expiré ou n'a pas pu être vérifiée")
    assert not User.objects.exists()


def test_a_return_without_a_started_login_is_refused(client, franceconnect):
    """The code and state of someone else's login, replayed in another session."""
    victim = client.__class__()
    callback = franceconnect.session().authorize(start(victim))
    response = come_back(client, callback)
    assert_refused(client, response, "a expiré ou n'a pas pu être vérifiée")


def test_refusing_at_franceconnect_says_so(client, franceconnect):
    callback = franceconnect.session().authorize(start(client), refuse=True)
    assert "error=access_denied" in callback
    response = come_back(client, callback)
    assert_refused(client, response, "Vous avez annulé la connexion avec FranceConnect")


def test_a_wrong_nonce_is_refused(client, franceconnect):
    url = start(client)
    session = client.session
    session[FLOW] = {**session[FLOW], "nonce": "another-nonce"}
    session.save()
    response = come_back(client, franceconnect.session().authorize(url))
    assert_refused(client, response, "n'a pas abouti")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def other_sub(token: str) -> str:
    """The same signature over another person's claims."""
    header, _payload, signature = token.split(".")
    return ".".join([header, _b64({**_claims(token), "sub": "someone-else"}), signature])


def unsigned(token: str) -> str:
    return ".".join([_b64({"alg": "none", "typ": "JWT"}), _b64(_claims(token)), ""])


def hs256_with_the_secret(token: str) -> str:
    """Signed with the client secret (HS256, as FranceConnect v1 did): not the provider's key."""
    kid = jwt.get_unverified_header(token)["kid"]
    return jwt.encode(
        _claims(token), "grc-test-secret-0123456789abcdef", "HS256", headers={"kid": kid}
    )


def own_key(token: str) -> str:
    """Signed with the same algorithm and the provider's kid, by a key it does not publish."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    header = jwt.get_unverified_header(token)
    if header["alg"] == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(_claims(token), key, header["alg"], headers={"kid": header["kid"]})


TAMPERINGS = [other_sub, unsigned, hs256_with_the_secret, own_key]


@pytest.fixture
def in_transit(monkeypatch):
    """Alter the provider's answers on their way to us (a man in the middle)."""
    real = fc_client._http
    changes = {}

    def http(url, **kwargs):
        content_type, body = real(url, **kwargs)
        for suffix, change in changes.items():
            if url.endswith(suffix):
                content_type, body = change(content_type, body)
        return content_type, body

    monkeypatch.setattr(fc_client, "_http", http)
    return changes


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=lambda f: f.__name__)
def test_a_tampered_or_unsigned_id_token_is_refused(client, franceconnect, in_transit, tamper):
    def id_token(content_type, body):
        answer = json.loads(body)
        return content_type, json.dumps({**answer, "id_token": tamper(answer["id_token"])}).encode()

    in_transit["/token"] = id_token
    response = fc_login(client, franceconnect)
    assert_refused(client, response, "n'a pas abouti")
    assert not User.objects.exists()


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=lambda f: f.__name__)
def test_a_tampered_or_unsigned_userinfo_is_refused(client, franceconnect, in_transit, tamper):
    in_transit["/me"] = lambda content_type, body: (content_type, tamper(body.decode()).encode())
    response = fc_login(client, franceconnect)
    assert_refused(client, response, "n'a pas abouti")
    assert not User.objects.exists()


def test_a_plain_json_userinfo_is_refused(client, franceconnect, in_transit):
    def plain(content_type, body):
        return "application/json", json.dumps(_claims(body.decode())).encode()

    in_transit["/me"] = plain
    response = fc_login(client, franceconnect)
    assert_refused(client, response, "n'a pas abouti")


def test_provider_down_is_a_message_not_an_error(client, franceconnect, settings):
    settings.FRANCECONNECT_ISSUER = "http://127.0.0.1:9"  # nothing listens there
    response = client.post(START)
    assert_refused(client, response, "FranceConnect ne répond pas pour le moment")


def test_provider_down_at_the_return(client, franceconnect, in_transit):
    def down(content_type, body):
        raise fc_client.unavailable("token endpoint down")

    in_transit["/token"] = down
    response = fc_login(client, franceconnect)
    assert_refused(client, response, "FranceConnect ne répond pas pour le moment")


def test_switched_off_by_default(client, settings):
    settings.FRANCECONNECT_ENABLED = False
    assert client.post(START).status_code == 404
    assert client.get(reverse("franceconnect_callback")).status_code == 404
    page = client.get(reverse("account_login"))
    assert "S'identifier avec" not in page.content.decode()


def test_the_button_is_on_the_login_page(client, franceconnect):
    page = client.get(f"{reverse('account_login')}?next=/c/saint-aubin/").content.decode()
    assert "S'identifier avec" in page and "Qu'est-ce que FranceConnect ?" in page
    assert 'name="next" value="/c/saint-aubin/"' in page


def test_an_existing_account_is_not_taken_over(client, franceconnect):
    owner = UserFactory(email=ANGELA["email"], first_name="Angie", last_name="D.")

    response = fc_login(client, franceconnect, next_url="/c/saint-aubin/")

    # Not logged in, nothing linked, nothing changed: the owner must prove it first.
    link = reverse("franceconnect_link")
    assert response["Location"] == f"{reverse('account_login')}?next={link}"
    assert "Un compte existe déjà" in said(response)
    assert logged_in_user(client) is None
    assert not FranceConnectIdentity.objects.exists()
    owner.refresh_from_db()
    assert owner.first_name == "Angie"

    # The owner logs in with their password, then confirms the link.
    response = client.post(
        f"{reverse('account_login')}?next={link}",
        {"login": owner.email, "password": PASSWORD, "next": link},
    )
    assert response.status_code == 302 and response["Location"] == link
    page = client.get(link)
    assert page.status_code == 200 and "Angela Claire Louise DUBOIS" in page.content.decode()
    response = client.post(link, {"choice": "link"})
    assert response["Location"] == "/c/saint-aubin/"
    identity = FranceConnectIdentity.objects.get()
    assert identity.user == owner
    owner.refresh_from_db()
    assert owner.first_name == ANGELA["given_name"]
    assert owner.profile.identity_source == CitizenProfile.IdentitySource.FRANCECONNECT
    assert Event.objects.filter(action="franceconnect.linked").exists()
    assert client.session[ID_TOKEN]

    # From now on FranceConnect alone logs the owner in.
    client.logout()
    fc_login(client, franceconnect)
    assert logged_in_user(client) == owner


def test_another_persons_password_login_does_not_inherit_a_pending_identity(client, franceconnect):
    """The pending identity lives in the session that came back from FranceConnect only."""
    UserFactory(email=ANGELA["email"])
    fc_login(client, franceconnect)
    assert client.session[PENDING]
    other = client.__class__()
    other.force_login(UserFactory())
    response = other.get(reverse("franceconnect_link"))
    assert response.status_code == 302
    assert not FranceConnectIdentity.objects.exists()


def test_declining_the_link(client, franceconnect):
    owner = UserFactory(email=ANGELA["email"])
    fc_login(client, franceconnect)
    client.force_login(owner)
    response = client.post(reverse("franceconnect_link"), {"choice": "cancel"})
    assert response.status_code == 302
    assert not FranceConnectIdentity.objects.exists()
    assert PENDING not in client.session


def test_an_identity_linked_to_someone_else_is_not_moved(client, franceconnect):
    fc_login(client, franceconnect)
    first = logged_in_user(client)
    client.logout()
    someone = UserFactory()
    client.force_login(someone)
    response = fc_login(client, franceconnect)  # logged in: offered to link
    assert response["Location"] == reverse("franceconnect_link")
    response = client.post(reverse("franceconnect_link"), {"choice": "link"})
    assert "déjà reliée à un autre compte" in said(response)
    assert FranceConnectIdentity.objects.get().user == first


def test_logout_goes_through_franceconnect(client, franceconnect):
    browser = franceconnect.session()
    come_back(client, browser.authorize(start(client)))
    id_token = client.session[ID_TOKEN]

    response = client.post(reverse("franceconnect_logout"))

    assert logged_in_user(client) is None  # logged out here first, whatever happens next
    location = response["Location"]
    assert location.startswith(f"{franceconnect.issuer}/session/end?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query["id_token_hint"] == id_token
    assert query["post_logout_redirect_uri"] == (
        "http://testserver/comptes/franceconnect/deconnexion/fin/"
    )
    back = browser.end_session(location)
    assert f"state={query['state']}" in back
    parts = urlsplit(back)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 302
    assert "Vous êtes déconnecté de ce site et de FranceConnect" in said(response)


def test_logout_without_franceconnect_is_a_plain_logout(client, franceconnect):
    client.force_login(UserFactory())
    response = client.post(reverse("franceconnect_logout"))
    assert response.status_code == 302 and response["Location"] == "/"
    assert logged_in_user(client) is None


def test_switching_it_on_needs_the_provider_settings():
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRANCECONNECT_")}
    result = subprocess.run(
        [sys.executable, "-m", "grc", "check"],
        env={**env, "FRANCECONNECT_ENABLED": "true", "FRANCECONNECT_CLIENT_ID": "x"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "FRANCECONNECT_ISSUER" in result.stderr
