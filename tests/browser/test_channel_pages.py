"""The channels in the agents' workspace, in Chromium and checked by axe-core: a call comes
in (reported by the telephony system), the agent's screen shows who is calling and their open
request, the agent notes the call on the dossier, where the e-mail that opened it is shown with
its channel; the e-mails held in quarantine and the letters' register."""

import datetime
import re

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from grc.channels import inbound
from grc.channels.mail.ingest import ingest
from grc.channels.models import Mailbox, PhoneLine
from tests.browser.conftest import DESKTOP
from tests.browser.test_dashboard_pages import log_in
from tests.channels.mails import make_mail

SECRET = "secret-de-la-ligne-telephonique"


@pytest.mark.django_db(transaction=True)
def test_an_agents_channels(page, assert_accessible, settings, tenant_a, media):
    settings.ALLOWED_HOSTS = ["*"]
    with transaction.atomic():
        dossier, _ = inbound.open_dossier(
            collectivite=tenant_a.collectivite,
            demarche=None,
            channel="email",
            sender=inbound.Sender(
                email="paul.durand@exemple.fr", phone="06 12 34 56 78", last_name="Durand"
            ),
            subject="Lampadaire en panne",
            body="Le lampadaire de la rue des Lilas est éteint.",
        )
    line = PhoneLine.objects.create(
        collectivite=tenant_a.collectivite, service=tenant_a.service, name="Standard", secret=SECRET
    )
    answer = Client().post(
        f"/api/canaux/telephonie/lignes/{line.pk}/appels",
        {
            "call_id": "c-1",
            "event": "ringing",
            "from": "+33612345678",
            "at": (timezone.now() - datetime.timedelta(seconds=5)).isoformat(),
        },
        content_type="application/json",
        headers={"Authorization": f"Bearer {SECRET}"},
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["usagers"][0]["dossiers"][0]["reference"] == dossier.reference
    settings.GRC_MAIL_THROTTLE = 0  # the next new message is held back
    box = Mailbox.objects.create(
        collectivite=tenant_a.collectivite,
        service=tenant_a.service,
        name="Voirie",
        email="voirie@mairie-a.test",
        host="127.0.0.1",
        username="voirie",
    )
    ingest(box, make_mail(subject="Encore une demande", sender="flood@exemple.fr"))

    page.set_viewport_size(DESKTOP)
    log_in(page, tenant_a.agent)
    page.goto("/backoffice/appels/entrant/")
    page.get_by_role("heading", name="Appels entrants", level=1).wait_for()
    assert page.get_by_role("link", name=dossier.reference).is_visible()
    assert_accessible(page, where="incoming call")

    page.get_by_role("link", name=dossier.reference).click()
    page.get_by_role("heading", name=re.compile(dossier.reference), level=1).wait_for()
    assert page.get_by_text("canal : Courriel").first.is_visible()
    page.get_by_role("link", name="Noter un appel").click()
    page.get_by_role("heading", name="Noter un appel", level=1).wait_for()
    assert_accessible(page, where="call log form")
    page.get_by_label("Durée (minutes)").fill("3")
    page.get_by_label("Notes").fill("Rappel : le lampadaire est signalé à la voirie.")
    page.get_by_role("button", name="Enregistrer l'appel").click()
    page.get_by_text("L'appel est noté.").wait_for()
    assert page.get_by_text("Rappel : le lampadaire est signalé").is_visible()
    assert_accessible(page, where="dossier with a call")

    page.get_by_role("link", name="Courriels", exact=True).click()
    page.get_by_role("heading", name="Courriels reçus", level=1).wait_for()
    assert_accessible(page, where="quarantine")
    page.get_by_role("link", name=re.compile("Encore une demande")).click()
    page.get_by_role("heading", name="Encore une demande", level=1).wait_for()
    assert_accessible(page, where="quarantined e-mail")

    page.get_by_role("link", name="Courrier", exact=True).click()
    page.get_by_role("heading", name="Courrier", level=1).wait_for()
    assert_accessible(page, where="letters")
