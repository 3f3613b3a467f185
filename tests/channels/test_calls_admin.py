"""The admin of telephony lines and SMS providers: per collectivité, secrets write-only."""

import pytest
from django.test import Client

import grc.channels.admin_phone  # noqa: F401 - registers (grc.channels.admin imports it)
from grc.base.models import Event
from grc.channels.models import PhoneLine, SmsProvider
from tests.backoffice.conftest import HOST

pytestmark = pytest.mark.django_db


def admin_client(user):
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return client


def test_a_line_is_added_with_its_secret_never_shown_back(tenant_a, tenant_b):
    client = admin_client(tenant_a.admin)
    response = client.post(
        "/admin/channels/phoneline/add/",
        {
            "collectivite": tenant_a.collectivite.pk,
            "service": tenant_a.service.pk,
            "name": "Standard",
            "number": "02 41 00 00 01",
            "secret": "s3cret-de-ligne",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    line = PhoneLine.objects.get()
    assert line.secret == "s3cret-de-ligne" and line.number == "+33241000001"
    change_url = f"/admin/channels/phoneline/{line.pk}/change/"
    page = client.get(change_url).content.decode()
    assert "s3cret-de-ligne" not in page
    event = Event.objects.get(action="phone_line.created")
    assert "s3cret-de-ligne" not in str(event.payload)
    # Changed without typing the secret: it is kept.
    client.post(
        change_url,
        {
            "service": tenant_a.service.pk,
            "name": "Accueil de la mairie A",
            "number": "0241000001",
            "secret": "",
            "is_active": "on",
        },
    )
    line.refresh_from_db()
    assert line.name == "Accueil de la mairie A" and line.secret == "s3cret-de-ligne"
    # Another collectivité's admin neither sees nor changes it.
    other = admin_client(tenant_b.admin)
    assert other.get(change_url).status_code in (302, 404)
    assert "Accueil de la mairie A" not in other.get("/admin/channels/phoneline/").content.decode()


def test_a_service_of_another_collectivite_is_refused_for_a_line(tenant_a, tenant_b):
    response = admin_client(tenant_a.admin).post(
        "/admin/channels/phoneline/add/",
        {
            "collectivite": tenant_a.collectivite.pk,
            "service": tenant_b.service.pk,
            "name": "Standard",
            "secret": "x",
            "is_active": "on",
        },
    )
    assert response.status_code == 200 and not PhoneLine.objects.exists()


def test_the_sms_provider_keeps_its_secrets_write_only(tenant_a):
    client = admin_client(tenant_a.admin)
    response = client.post(
        "/admin/channels/smsprovider/add/",
        {
            "collectivite": tenant_a.collectivite.pk,
            "kind": "http",
            "url": "https://sms.exemple.test/envoi",
            "token": "jeton-tres-secret",
            "sender": "MAIRIE",
            "callback_secret": "cle-tres-secrete",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    provider = SmsProvider.objects.get()
    page = client.get(f"/admin/channels/smsprovider/{provider.pk}/change/").content.decode()
    assert "jeton-tres-secret" not in page and "cle-tres-secrete" not in page
    assert provider.token == "jeton-tres-secret" and provider.callback_secret == "cle-tres-secrete"
