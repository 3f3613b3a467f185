"""One timeline: whatever the channel, a message in or out shows on the dossier page and on
the citizen record the same way, with its channel; calls too; an address that bounces is
shown to the agents on both pages."""

import datetime

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from grc.channels import inbound
from grc.channels.models import BouncedAddress, Call
from tests.factories import MembershipFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dossier(tenant_a, media):
    with transaction.atomic():
        dossier, _message = inbound.open_dossier(
            collectivite=tenant_a.collectivite,
            demarche=None,
            channel="email",
            sender=inbound.Sender(email="paul.durand@exemple.fr", last_name="Durand"),
            subject="Lampadaire en panne",
            body="Le lampadaire de la rue des Lilas est éteint depuis une semaine.",
        )
        inbound.append_message(dossier=dossier, channel="social", body="Toujours éteint !")
    return dossier


def test_every_channel_on_the_dossier_page_and_the_record(agent_client, tenant_a, dossier):
    Call.objects.create(
        collectivite=tenant_a.collectivite,
        direction=Call.Direction.IN,
        number="+33612345678",
        started_at=timezone.now() - datetime.timedelta(minutes=5),
        duration=125,
        agent=tenant_a.agent,
        usager=dossier.usager,
        dossier=dossier,
        notes="Rappelle pour le lampadaire.",
    )
    Call.objects.create(
        collectivite=tenant_a.collectivite,
        direction=Call.Direction.OUT,
        number="+33612345678",
        started_at=timezone.now(),
        duration=30,
        agent=tenant_a.agent,
        usager=dossier.usager,
        notes="Message laissé sur le répondeur.",
    )
    # A call another service's agent had with the person about nothing here is theirs.
    other = MembershipFactory(
        collectivite=tenant_a.collectivite,
        service=ServiceFactory(collectivite=tenant_a.collectivite),
    ).user
    Call.objects.create(
        collectivite=tenant_a.collectivite,
        direction=Call.Direction.IN,
        number="+33612345678",
        started_at=timezone.now(),
        agent=other,
        usager=dossier.usager,
        notes="Question sur la cantine.",
    )
    page = agent_client.get(reverse("backoffice:dossier", args=[dossier.pk])).content.decode()
    assert "Le lampadaire de la rue des Lilas" in page and "canal : Courriel" in page
    assert "Toujours éteint" in page and "canal : Réseau social" in page
    assert "Rappelle pour le lampadaire." in page and "125 secondes" in page
    assert "Message laissé" not in page  # a call of the person, not of this dossier

    record = agent_client.get(
        reverse("backoffice:usager_detail", args=[dossier.usager_id])
    ).content.decode()
    for text in ("Le lampadaire de la rue", "Toujours éteint", "Rappelle pour", "Message laissé"):
        assert text in record, text
    assert "(Courriel)" in record and "(Réseau social)" in record
    assert "Question sur la cantine" not in record


def test_a_bounced_address_is_shown_on_both_pages(agent_client, tenant_a, tenant_b, dossier):
    dossier_url = reverse("backoffice:dossier", args=[dossier.pk])
    record_url = reverse("backoffice:usager_detail", args=[dossier.usager_id])
    assert "ne sont pas remis" not in agent_client.get(dossier_url).content.decode()
    # The same address bouncing for another collectivité says nothing here.
    BouncedAddress.objects.create(
        collectivite=tenant_b.collectivite, email="paul.durand@exemple.fr", last_at=timezone.now()
    )
    assert "ne sont pas remis" not in agent_client.get(dossier_url).content.decode()
    BouncedAddress.objects.create(
        collectivite=tenant_a.collectivite,
        email="paul.durand@exemple.fr",
        status="5.1.1",
        diagnostic="550 5.1.1 User unknown",
        last_at=timezone.now(),
    )
    for url in (dossier_url, record_url):
        page = agent_client.get(url).content.decode()
        assert "Les courriels à paul.durand@exemple.fr ne sont pas remis" in page
        assert "User unknown" in page


def test_an_email_that_failed_for_good_is_shown_on_the_dossier_page(agent_client, dossier):
    from grc.demarches.models import Notification

    message = dossier.messages.first()
    url = reverse("backoffice:dossier", args=[dossier.pk])
    assert "envois-en-echec" not in agent_client.get(url).content.decode()
    Notification.objects.create(
        dossier=dossier,
        kind=Notification.Kind.MESSAGES,
        message=message,
        status=Notification.Status.FAILED,
        recipient="paul.durand@exemple.fr",
        subject="[REF] Nouveau message",
        attempts=8,
        last_error="SMTPRecipientsRefused: 554 refusé",
    )
    page = agent_client.get(url).content.decode()
    assert 'id="envois-en-echec"' in page and "554 refusé" in page and "8 tentatives" in page
