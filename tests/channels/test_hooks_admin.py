"""The channels' webhooks in the admin: scoped per collectivité, the secret write-only
(generated, shown once, never again), writes through the services and audited."""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse

import grc.channels.admin_hooks  # noqa: F401 - registers (grc.channels.admin imports it too)
from grc.base.models import Event
from grc.channels.hooks import services
from grc.channels.models import HookChannel, HookMessage
from tests.channels.hooks_helpers import SECRET, message, post

pytestmark = pytest.mark.django_db


def url(model, action, *args):
    return reverse(f"admin:channels_{model._meta.model_name}_{action}", args=args)


@pytest.fixture
def hook(tenant_a):
    return HookChannel.objects.create(
        collectivite=tenant_a.collectivite, name="Facebook", slug="facebook", secret=SECRET
    )


def test_adding_a_channel_generates_its_secret_and_shows_it_once(client, tenant_a):
    client.force_login(tenant_a.admin)
    response = client.post(
        url(HookChannel, "add"),
        {
            "collectivite": tenant_a.collectivite.pk,
            "name": "WhatsApp",
            "slug": "whatsapp",
            "new_secret": "",
            "outbound_url": "https://connecteur.exemple.fr/grc",
            "is_active": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    hook = HookChannel.objects.get(slug="whatsapp")
    assert len(hook.secret) >= 32
    assert hook.secret in response.text and "plus jamais affiché" in response.text
    event = Event.objects.get(action="hook_channel.created", object_id=str(hook.pk))
    assert hook.secret not in str(event.payload)
    page = client.get(url(HookChannel, "change", hook.pk))
    assert page.status_code == 200 and hook.secret not in page.text
    assert f"/api/canaux/webhooks/{tenant_a.collectivite.slug}/whatsapp/messages" in page.text


def test_a_typed_secret_is_kept_and_not_shown(client, tenant_a, hook):
    client.force_login(tenant_a.admin)
    typed = "un-secret-tape-par-l-administrateur"
    response = client.post(
        url(HookChannel, "change", hook.pk),
        {"name": "Facebook", "slug": "facebook", "new_secret": typed, "is_active": "on"},
        follow=True,
    )
    assert response.status_code == 200
    hook.refresh_from_db()
    assert hook.secret == typed and typed not in response.text
    event = Event.objects.get(action="hook_channel.updated", object_id=str(hook.pk))
    assert event.payload["secret_changed"] is True and typed not in str(event.payload)


def test_regenerating_replaces_the_secret_and_shows_the_new_one(client, tenant_a, hook):
    client.force_login(tenant_a.admin)
    response = client.post(
        url(HookChannel, "change", hook.pk),
        {"name": "Facebook", "slug": "facebook", "regenerate": "on", "is_active": "on"},
        follow=True,
    )
    hook.refresh_from_db()
    assert hook.secret != SECRET and hook.secret in response.text


def test_leaving_the_secret_empty_keeps_it(client, tenant_a, hook):
    client.force_login(tenant_a.admin)
    client.post(
        url(HookChannel, "change", hook.pk),
        {"name": "Facebook Mairie", "slug": "facebook", "new_secret": "", "is_active": "on"},
    )
    hook.refresh_from_db()
    assert hook.name == "Facebook Mairie" and hook.secret == SECRET


def test_a_short_secret_is_refused_by_field(client, tenant_a, hook):
    client.force_login(tenant_a.admin)
    response = client.post(
        url(HookChannel, "change", hook.pk),
        {"name": "Facebook", "slug": "facebook", "new_secret": "court", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "new_secret" in response.context["adminform"].form.errors
    hook.refresh_from_db()
    assert hook.secret == SECRET


def test_the_service_refuses_another_collectivites_demarche(tenant_a, tenant_b, hook):
    from django.core.exceptions import ValidationError

    from tests.demarches.dossier_helpers import demarche_for

    theirs = demarche_for(tenant_b)
    with pytest.raises(ValidationError) as refusal:
        services.update_hook_channel(actor=tenant_a.admin, hook=hook, changes={"demarche": theirs})
    assert "demarche" in refusal.value.message_dict


def test_another_collectivites_admin_sees_nothing(client, tenant_a, tenant_b, hook, media):
    post(client, hook, message())
    row = HookMessage.objects.get()
    client.force_login(tenant_b.admin)
    listing = client.get(url(HookChannel, "changelist"))
    assert listing.status_code == 200 and "facebook" not in listing.text
    for model, pk in ((HookChannel, hook.pk), (HookMessage, row.pk)):
        response = client.get(url(model, "change", pk))
        assert response.status_code == 302 and response.url == reverse("admin:index")
    assert "m-1" not in client.get(url(HookMessage, "changelist")).text
    for user in (tenant_a.agent, tenant_a.manager):
        client.force_login(user)
        assert client.get(url(HookChannel, "changelist")).status_code == 302


def test_a_received_message_is_shown_without_its_files_contents(client, tenant_a, hook, media):
    content = base64.b64encode(b"%PDF-1.4\n%%EOF\n" * 50).decode()
    post(
        client,
        hook,
        message(attachments=[{"filename": "plan.pdf", "content_base64": content}]),
    )
    row = HookMessage.objects.get()
    client.force_login(tenant_a.admin)
    page = client.get(url(HookMessage, "change", row.pk))
    assert page.status_code == 200
    assert "plan.pdf" in page.text and content not in page.text
    assert row.dossier.reference in page.text
