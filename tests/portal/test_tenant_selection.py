import pytest

from grc.base.models import CollectiviteHost

pytestmark = pytest.mark.django_db


def test_the_host_name_selects_the_collectivite(client, tenant_a, tenant_b):
    CollectiviteHost.objects.create(collectivite=tenant_a.collectivite, host="a.localhost")
    page = client.get("/", HTTP_HOST="a.localhost")
    assert page.status_code == 200
    assert page.context["collectivite"] == tenant_a.collectivite
    assert "Commune B" not in page.text


def test_the_path_selects_the_collectivite_without_dns(client, tenant_a, tenant_b):
    page = client.get(f"/c/{tenant_b.collectivite.slug}/")
    assert page.context["collectivite"] == tenant_b.collectivite
    assert '<html lang="fr">' in page.text


def test_the_platform_root_lists_active_collectivites(client, tenant_a, tenant_b):
    tenant_b.collectivite.is_active = False
    tenant_b.collectivite.save()
    page = client.get("/")
    assert list(page.context["collectivites"]) == [tenant_a.collectivite]


def test_an_unknown_or_inactive_collectivite_is_not_found(client, tenant_a):
    assert client.get("/c/inconnue/").status_code == 404
    tenant_a.collectivite.is_active = False
    tenant_a.collectivite.save()
    assert client.get(f"/c/{tenant_a.collectivite.slug}/").status_code == 404


def test_pages_are_in_french_with_english_available(client, tenant_a):
    page = client.get(f"/c/{tenant_a.collectivite.slug}/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en">' in page.text
    assert "Online services" in page.text
