"""An agent's reply leaves by the channel the citizen last wrote by."""

import pytest
from django.db import transaction

from grc.channels import inbound
from grc.demarches.models import Notification
from grc.demarches.services.messages import post_service_message

pytestmark = pytest.mark.django_db


def _dossier(tenant, channel):
    with transaction.atomic():
        dossier, _ = inbound.open_dossier(
            collectivite=tenant.collectivite,
            demarche=None,
            channel=channel,
            sender=inbound.Sender(email="lea@exemple.fr", last_name="Petit"),
            subject="Question",
            body="Bonjour",
        )
    return dossier


def test_a_reply_to_an_email_leaves_by_email(tenant_a, media):
    dossier = _dossier(tenant_a, "email")
    message = post_service_message(dossier=dossier, actor=tenant_a.agent, body="Réponse")
    assert message.channel == "email"
    assert Notification.objects.get(message=message).recipient == "lea@exemple.fr"


def test_the_latest_channel_wins(tenant_a, media, django_capture_on_commit_callbacks):
    dossier = _dossier(tenant_a, "email")
    from grc.demarches.services.messages import post_citizen_message
    from tests.factories import UserFactory

    citizen = UserFactory(email="lea@exemple.fr")
    dossier.account = citizen
    dossier.save(update_fields=["account"])
    post_citizen_message(dossier=dossier, actor=citizen, body="Depuis le site")
    message = post_service_message(dossier=dossier, actor=tenant_a.agent, body="Réponse")
    assert message.channel == "web"  # read on the portal, announced by e-mail
    assert Notification.objects.filter(message=message).exists()


def test_a_reply_to_a_social_message_goes_back_through_its_connector(tenant_a, media, client):
    from grc.channels.models import HookChannel, HookDelivery
    from grc.demarches.models import Dossier
    from tests.channels import hooks_helpers

    hook = HookChannel.objects.create(
        collectivite=tenant_a.collectivite,
        name="Facebook",
        slug="facebook",
        secret=hooks_helpers.SECRET,
        outbound_url="https://connecteur.exemple.fr/reponses",
    )
    answer = hooks_helpers.post(client, hook, hooks_helpers.message())
    assert answer.status_code == 201, answer.content
    dossier = Dossier.objects.get(reference=answer.json()["dossier"])
    message = post_service_message(dossier=dossier, actor=tenant_a.agent, body="On s'en occupe.")
    assert message.channel == "social"
    assert HookDelivery.objects.get(message=message).channel == hook
    # The connector answers; an e-mail would say the same thing twice.
    assert not Notification.objects.filter(message=message).exists()
    # A channel turned off, or without an address for replies: the reply is read on the
    # portal and announced by e-mail, never lost between the two.
    for change in ({"is_active": False}, {"outbound_url": ""}):
        HookChannel.objects.filter(pk=hook.pk).update(**change)
        later = post_service_message(dossier=dossier, actor=tenant_a.agent, body="Suite.")
        assert later.channel == "web" and not HookDelivery.objects.filter(message=later)
        assert Notification.objects.get(message=later).recipient == "jeanne.martin@exemple.fr"
        HookChannel.objects.filter(pk=hook.pk).update(
            is_active=True, outbound_url=hook.outbound_url
        )
