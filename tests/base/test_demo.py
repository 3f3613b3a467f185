"""`grc demo`: the data a fresh `make run` shows, loaded twice without doubling anything."""

import pytest
from django.test import Client

from grc.base.demo import DEMO_PASSWORD, load_demo
from grc.base.models import Collectivite, Usager, User
from grc.channels.models import Call, InboundEmail
from grc.demarches.models import Dossier

pytestmark = pytest.mark.django_db


def test_demo_data_is_idempotent_and_shows_a_citizen_s_requests(media):
    logins = load_demo()
    counts = (
        User.objects.count(),
        Usager.objects.count(),
        Dossier.objects.count(),
        InboundEmail.objects.count(),
        Call.objects.count(),
    )
    assert load_demo() == logins
    assert (
        User.objects.count(),
        Usager.objects.count(),
        Dossier.objects.count(),
        InboundEmail.objects.count(),
        Call.objects.count(),
    ) == counts
    # The channels: an e-mail that opened a dossier, an out-of-office kept aside, a call.
    assert sorted(InboundEmail.objects.values_list("outcome", flat=True)) == [
        "auto_reply",
        "opened",
    ]
    assert Call.objects.filter(dossier__account__email="marie.dubois@exemple.test").count() == 1

    commune = Collectivite.objects.get(slug="saint-aubin")
    marie = User.objects.get(email="marie.dubois@exemple.test")
    dossiers = Dossier.objects.filed().filter(collectivite=commune, account=marie)
    assert dossiers.count() == 3
    # At different stages; the request for pieces itself is made by the worker's action.
    assert sorted(d.status for d in dossiers) == ["attente_pieces", "depose", "instruction"]

    # Every demo login works as printed (no address confirmation pending).
    client = Client(HTTP_HOST="127.0.0.1")
    for login in logins:
        assert client.login(username=login.email, password=DEMO_PASSWORD), login.email
    page = client.post("/comptes/connexion/", {"login": marie.email, "password": DEMO_PASSWORD})
    assert page.status_code == 302
    listing = client.get("/c/saint-aubin/mes-demandes/").content.decode()
    assert all(d.reference in listing for d in dossiers)
