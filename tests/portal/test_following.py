"""Following one's requests: "Mes demandes" for account holders, reference + tracking code
for the others. A citizen reaches only their own dossiers; a wrong code answers like a
dossier that does not exist."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from grc.base.models import Channel
from grc.demarches.services.dossiers import start_draft, submit_dossier
from grc.demarches.workflow import services as workflow
from tests.demarches.factories import definition, field, published
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
FORM = definition([field("objet", required=True)])


def browser() -> Client:
    return Client(HTTP_HOST="127.0.0.1")


def file(demarche, *, account=None, subject="Banc cassé", email="anonyme@exemple.test"):
    draft = start_draft(demarche=demarche, account=account)
    return submit_dossier(
        demarche=demarche,
        answers_given={"objet": subject},
        channel=Channel.WEB,
        actor=account,
        account=account,
        dossier=draft,
        contact_email="" if account else email,
    )


@pytest.fixture
def demarche_a(tenant_a):
    return published(tenant_a.collectivite, tenant_a.service, FORM, implicit_decision="sva")


@pytest.fixture
def demarche_b(tenant_b):
    return published(tenant_b.collectivite, tenant_b.service, FORM, implicit_decision="svr")


def test_mes_demandes_lists_my_dossiers_of_this_collectivite_only(demarche_a, demarche_b):
    me, other = UserFactory(), UserFactory()
    mine = file(demarche_a, account=me)
    mine_elsewhere = file(demarche_b, account=me)
    theirs = file(demarche_a, account=other)
    anonymous = file(demarche_a)
    client = browser()
    client.force_login(me)

    page = client.get(f"/c/{demarche_a.collectivite.slug}/mes-demandes/")
    assert page.status_code == 200
    text = page.content.decode()
    assert mine.reference in text
    for absent in (mine_elsewhere, theirs, anonymous):
        assert absent.reference not in text
    assert "Demande reçue" in text  # the status as the citizen sees it
    assert mine.expected_decision_date.strftime("%Y") in text

    everywhere = client.get("/comptes/").content.decode()
    assert mine.reference in everywhere and mine_elsewhere.reference in everywhere
    assert theirs.reference not in everywhere and anonymous.reference not in everywhere
    assert demarche_b.collectivite.name in everywhere


def test_a_dossier_filed_at_the_counter_on_my_record_is_mine_too(demarche_a, tenant_a):
    from grc.base.services.usagers import find_or_create_usager

    me = UserFactory()
    record = find_or_create_usager(
        tenant_a.collectivite,
        actor=tenant_a.agent,
        channel=Channel.COUNTER,
        email=me.email,
        first_name="Marie",
        last_name="Dubois",
    ).usager
    record.account = me
    record.save(update_fields=["account"])
    counter = file(demarche_a, email=me.email)
    counter.usager = record
    counter.save(update_fields=["usager"])
    client = browser()
    client.force_login(me)
    assert (
        counter.reference
        in client.get(f"/c/{demarche_a.collectivite.slug}/mes-demandes/").content.decode()
    )
    assert (
        client.get(f"/c/{demarche_a.collectivite.slug}/dossiers/{counter.uuid}/").status_code == 200
    )


def test_a_dossier_filed_with_another_account_is_not_listed_for_the_records_account(
    demarche_a, tenant_a
):
    # Filed online by A on a citizen record (found by e-mail) whose account is B: A follows
    # it; B neither lists it nor opens it (the list and the page follow one rule).
    a, b = UserFactory(), UserFactory()
    theirs = file(demarche_a, account=a)
    theirs.usager.account = b
    theirs.usager.save(update_fields=["account"])
    listing = f"/c/{demarche_a.collectivite.slug}/mes-demandes/"
    page = f"/c/{demarche_a.collectivite.slug}/dossiers/{theirs.uuid}/"
    for user, sees in ((a, True), (b, False)):
        client = browser()
        client.force_login(user)
        assert (theirs.reference in client.get(listing).content.decode()) is sees
        assert client.get(page).status_code == (200 if sees else 404)


def test_mes_demandes_runs_a_fixed_number_of_queries(demarche_a, tenant_a):
    me = UserFactory()
    client = browser()
    client.force_login(me)
    url = f"/c/{demarche_a.collectivite.slug}/mes-demandes/"

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    file(demarche_a, account=me)
    few = count()
    for n in range(8):
        dossier = file(demarche_a, account=me, subject=f"Objet {n}")
        if n % 2:
            workflow.apply_transition(
                dossier,
                "demander_pieces",
                actor=tenant_a.agent,
                data={"pieces_demandees": "Photo", "delai_pieces": 10},
            )
    assert count() == few


def test_the_tracking_code_opens_the_dossier_in_this_browser_only(demarche_a):
    dossier = file(demarche_a)
    slug = demarche_a.collectivite.slug
    someone = browser()
    assert someone.get(f"/c/{slug}/dossiers/{dossier.uuid}/").status_code == 404
    page = someone.post(
        f"/c/{slug}/suivi/",
        # As people type them: lower case, spaces, a dash in the code.
        {
            "reference": f" {dossier.reference.lower()} ",
            "code": dossier.tracking_code[:4].lower() + "-" + dossier.tracking_code[4:],
        },
    )
    assert page.status_code == 302
    assert page["Location"] == f"/c/{slug}/dossiers/{dossier.uuid}/"
    assert someone.get(page["Location"]).status_code == 200
    assert browser().get(page["Location"]).status_code == 404  # another browser


def test_a_wrong_code_and_someone_elses_reference_answer_like_nothing(demarche_a, demarche_b):
    target = file(demarche_a)
    mine = file(demarche_a, email="moi@exemple.test")
    elsewhere = file(demarche_b)
    slug = demarche_a.collectivite.slug
    attempts = {
        "wrong code": {"reference": target.reference, "code": "BCDFGHJK"},
        "my code, their reference": {"reference": target.reference, "code": mine.tracking_code},
        "nothing there": {"reference": "MAIRIE-1999-000001", "code": mine.tracking_code},
        "other collectivité": {"reference": elsewhere.reference, "code": elsewhere.tracking_code},
    }
    answers = set()
    for name, data in attempts.items():
        client = browser()
        page = client.post(f"/c/{slug}/suivi/", data)
        assert page.status_code == 200, name
        text = page.content.decode()
        assert "Aucun dossier ne correspond" in text, name
        main = text.split("<main")[1].split("</main>")[0]
        # What differs is only what the person typed, shown back to them, and the CSRF token.
        main = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", main)
        answers.add(main.replace(data["reference"], "REF").replace(data["code"], "CODE"))
        assert client.get(f"/c/{slug}/dossiers/{target.uuid}/").status_code == 404
    assert len(answers) == 1  # word for word the same page


def test_tracking_lookups_are_rate_limited(demarche_a, settings):
    settings.GRC_RATE_LIMITS = {**settings.GRC_RATE_LIMITS, "tracking_lookup": "3/10m/ip"}
    dossier = file(demarche_a)
    client = browser()
    url = f"/c/{demarche_a.collectivite.slug}/suivi/"
    for _attempt in range(3):
        assert (
            client.post(url, {"reference": dossier.reference, "code": "XXXXXXXX"}).status_code
            == 200
        )
    refused = client.post(url, {"reference": dossier.reference, "code": dossier.tracking_code})
    assert refused.status_code == 429
    assert "Trop de recherches" in refused.content.decode()
    # Another address is not held back.
    other = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="10.0.0.9")
    assert (
        other.post(url, {"reference": dossier.reference, "code": dossier.tracking_code}).status_code
        == 302
    )


def test_an_empty_or_odd_lookup_is_a_form_error_not_a_crash(demarche_a):
    url = f"/c/{demarche_a.collectivite.slug}/suivi/"
    assert browser().get(url).status_code == 200
    assert browser().post(url, {}).status_code == 400
    page = browser().post(url, {"reference": "%' OR 1=1 --", "code": "<script>"})
    assert page.status_code == 200 and "<script>" not in page.content.decode()
