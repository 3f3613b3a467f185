"""The citizen record (360°) in the backoffice, duplicates and their merge."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grc.base.access import NotFound
from grc.base.models import Channel, DuplicateCandidate, Event, Role, Usager
from grc.base.services.usagers import find_or_create_usager
from grc.demarches.models import Dossier, Message
from grc.demarches.services.messages import post_service_message
from grc.demarches.services.usagers_merge import merge_usagers
from tests.backoffice.conftest import HOST
from tests.demarches.dossier_helpers import demarche_for, file_dossier
from tests.factories import MembershipFactory, ServiceFactory, UsagerFactory


@pytest.fixture
def demarche_a(tenant_a):
    return demarche_for(tenant_a)


def usager_of(dossier) -> Usager:
    return Usager.objects.get(pk=dossier.usager_id)


def duplicate_pair(tenant):
    """Two records of one person (same name and birth date, two e-mails), flagged."""
    import datetime

    first = find_or_create_usager(
        tenant.collectivite,
        email="jeanne.martin@exemple.test",
        first_name="Jeanne",
        last_name="Martin",
        birth_date=datetime.date(1980, 5, 1),
        channel=Channel.WEB,
    ).usager
    second_match = find_or_create_usager(
        tenant.collectivite,
        email="j.martin@exemple.test",
        phone="06 12 34 56 78",
        first_name="Jeanne",
        last_name="Martin",
        birth_date=datetime.date(1980, 5, 1),
        channel=Channel.PHONE,
        actor=tenant.agent,
    )
    assert second_match.duplicates == [first]
    return first, second_match.usager


# --- the 360° view --------------------------------------------------------------------------


def test_record_shows_identity_dossiers_and_messages(agent_client, tenant_a, demarche_a):
    dossier = file_dossier(demarche_a, contact_email="paul.dupont@exemple.test", objet="Trottoir")
    post_service_message(
        dossier=dossier, actor=tenant_a.agent, body="Nous avons bien reçu votre demande."
    )
    usager = usager_of(dossier)
    response = agent_client.get(reverse("backoffice:usager_detail", args=[usager.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "paul.dupont@exemple.test" in page
    assert dossier.reference in page
    assert "Nous avons bien reçu votre demande." in page
    assert "Historique des échanges" in page
    viewed = Event.objects.get(action="usager.viewed", object_id=str(usager.pk))
    assert viewed.actor == tenant_a.agent and viewed.payload == {"dossiers": [dossier.pk]}


def test_record_query_count_does_not_grow_with_dossiers(
    agent_client, tenant_a, demarche_a, django_assert_max_num_queries
):
    def queries_for(n: int) -> int:
        email = f"personne{n}@exemple.test"
        for i in range(n):
            dossier = file_dossier(demarche_a, contact_email=email, objet=f"Objet {i}")
            Message.objects.create(dossier=dossier, direction="out", body=f"Réponse {i}")
        usager = Usager.objects.get(email=email)
        url = reverse("backoffice:usager_detail", args=[usager.pk])
        agent_client.get(url)  # warm the session and caches
        with CaptureQueriesContext(connection) as captured:
            response = agent_client.get(url)
        assert response.status_code == 200
        assert response.content.decode().count("Objet ") >= 0
        return len(captured.captured_queries)

    assert queries_for(3) == queries_for(30)


def test_search_by_name_email_and_phone(agent_client, tenant_a):
    usager = UsagerFactory(
        collectivite=tenant_a.collectivite,
        first_name="Hélène",
        last_name="Léger",
        email="helene@exemple.test",
        phones=["+33612345678"],
    )
    UsagerFactory(collectivite=tenant_a.collectivite, first_name="Autre", last_name="Personne")
    url = reverse("backoffice:usager_list")
    for query in ("helene leger", "HELENE@exemple.test", "06 12 34 56 78"):
        page = agent_client.get(url, {"q": query}).content.decode()
        assert reverse("backoffice:usager_detail", args=[usager.pk]) in page, query
        assert "Personne" not in page


@pytest.mark.parametrize("query", ["%", "\x00", "'; drop table", "a" * 500, "   "])
def test_odd_searches_answer_a_normal_page(agent_client, query):
    response = agent_client.get(reverse("backoffice:usager_list"), {"q": query})
    assert response.status_code == 200


def test_record_shows_duplicates_and_compares_them(agent_client, tenant_a):
    first, second = duplicate_pair(tenant_a)
    page = agent_client.get(reverse("backoffice:usager_detail", args=[first.pk])).content.decode()
    compare = reverse("backoffice:usager_compare", args=[first.pk, second.pk])
    assert compare in page
    page = agent_client.get(compare).content.decode()
    assert "jeanne.martin@exemple.test" in page and "j.martin@exemple.test" in page
    assert "diffère" in page


# --- merge ------------------------------------------------------------------------------------


def test_merge_moves_everything_and_keeps_the_merged_record(tenant_a, demarche_a):
    first, second = duplicate_pair(tenant_a)
    kept_dossier = file_dossier(demarche_a, contact_email=first.email)
    moved = [file_dossier(demarche_a, contact_email=second.email) for _ in range(2)]
    assert {d.usager_id for d in moved} == {second.pk}
    older = UsagerFactory(collectivite=tenant_a.collectivite, merged_into=second)

    outcome = merge_usagers(kept=first, merged=second, actor=tenant_a.agent)

    kept = Usager.objects.get(pk=first.pk)
    merged = Usager.objects.get(pk=second.pk)
    assert merged.merged_into_id == kept.pk  # kept, never deleted
    assert set(Dossier.objects.filter(usager=kept).values_list("pk", flat=True)) == {
        kept_dossier.pk,
        *(d.pk for d in moved),
    }
    assert not Dossier.objects.filter(usager=merged).exists()
    assert kept.email == "jeanne.martin@exemple.test"  # known details are never overwritten
    assert kept.phones == ["+33612345678"]  # phones are united
    assert Usager.objects.get(pk=older.pk).merged_into_id == kept.pk  # no chains
    candidate = DuplicateCandidate.objects.get(first=first, second=second)
    assert candidate.status == DuplicateCandidate.Status.MERGED
    event = Event.objects.get(action="usager.merged", object_id=str(kept.pk))
    assert event.actor == tenant_a.agent
    assert sorted(event.payload["moved"]["demarches.dossier.usager"]) == sorted(d.pk for d in moved)
    assert outcome.filled == {"phones": [[], ["+33612345678"]]}
    # The search knows it at once: every dossier of the kept record, its own included, is
    # found by the phone the merge brought.
    from grc.demarches.search import search_filter

    found = Dossier.objects.filter(search_filter("06 12 34 56 78"))
    assert set(found.values_list("pk", flat=True)) == {kept_dossier.pk, *(d.pk for d in moved)}


def test_merge_view_and_redirect_of_the_merged_record(agent_client, tenant_a, demarche_a):
    first, second = duplicate_pair(tenant_a)
    file_dossier(demarche_a, contact_email=second.email)
    url = reverse("backoffice:usager_merge", args=[first.pk, second.pk])
    response = agent_client.post(url, {"kept": second.pk})
    assert response.status_code == 302
    assert response.url == reverse("backoffice:usager_detail", args=[second.pk])
    assert Usager.objects.get(pk=first.pk).merged_into_id == second.pk
    response = agent_client.get(reverse("backoffice:usager_detail", args=[first.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("backoffice:usager_detail", args=[second.pk])
    assert "a été fusionnée" in response.content.decode()


def test_merge_without_a_choice_changes_nothing(agent_client, tenant_a):
    first, second = duplicate_pair(tenant_a)
    url = reverse("backoffice:usager_merge", args=[first.pk, second.pk])
    assert agent_client.post(url, {"kept": "999999"}).status_code == 302
    assert not Usager.objects.filter(merged_into__isnull=False).exists()


def test_merge_refusals(tenant_a, tenant_b):
    first, second = duplicate_pair(tenant_a)
    stranger = UsagerFactory(collectivite=tenant_b.collectivite)
    with pytest.raises(ValidationError):
        merge_usagers(kept=first, merged=first, actor=tenant_a.agent)
    with pytest.raises((ValidationError, NotFound)):
        merge_usagers(kept=first, merged=stranger, actor=tenant_a.agent)
    with pytest.raises(NotFound):
        merge_usagers(kept=first, merged=second, actor=tenant_b.agent)
    merge_usagers(kept=first, merged=second, actor=tenant_a.agent)
    with pytest.raises(ValidationError):  # already merged: no chains
        merge_usagers(kept=second, merged=first, actor=tenant_a.agent)
    third = UsagerFactory(collectivite=tenant_a.collectivite)
    with pytest.raises(ValidationError):
        merge_usagers(kept=third, merged=second, actor=tenant_a.agent)
    assert Event.objects.filter(action="usager.merged").count() == 1


def test_merge_refuses_two_accounts(tenant_a):
    from tests.factories import UserFactory

    one = UsagerFactory(collectivite=tenant_a.collectivite, account=UserFactory())
    two = UsagerFactory(collectivite=tenant_a.collectivite, account=UserFactory())
    with pytest.raises(ValidationError):
        merge_usagers(kept=one, merged=two, actor=tenant_a.agent)


def test_merge_hands_the_account_over(tenant_a):
    from tests.factories import UserFactory

    account = UserFactory()
    kept = UsagerFactory(collectivite=tenant_a.collectivite)
    merged = UsagerFactory(collectivite=tenant_a.collectivite, account=account)
    merge_usagers(kept=kept, merged=merged, actor=tenant_a.agent)
    assert Usager.objects.get(pk=kept.pk).account == account


# --- who reaches what -------------------------------------------------------------------------


def test_agent_of_another_service_sees_the_record_but_not_other_services_dossiers(
    client, tenant_a, demarche_a
):
    dossier = file_dossier(demarche_a, contact_email="x@exemple.test", objet="Secret")
    other = MembershipFactory(
        collectivite=tenant_a.collectivite,
        role=Role.AGENT,
        service=ServiceFactory(collectivite=tenant_a.collectivite),
    ).user
    client.force_login(other)
    page = client.get(
        reverse("backoffice:usager_detail", args=[dossier.usager_id]), HTTP_HOST=HOST
    ).content.decode()
    assert dossier.reference not in page
    assert "autre service" in page


@pytest.fixture
def outsiders(tenant_b, platform_admin, django_user_model):
    from tests.factories import UserFactory

    return {
        "agent_b": tenant_b.agent,
        "admin_b": tenant_b.admin,
        "platform_admin": platform_admin,
        "citizen": UserFactory(),
    }


@pytest.mark.parametrize("who", ["agent_b", "admin_b", "platform_admin", "citizen"])
def test_every_usager_url_is_not_found_outside_the_collectivite(client, tenant_a, outsiders, who):
    first, second = duplicate_pair(tenant_a)
    client.force_login(outsiders[who])
    urls = [
        ("get", reverse("backoffice:usager_detail", args=[first.pk])),
        ("get", reverse("backoffice:usager_compare", args=[first.pk, second.pk])),
        ("post", reverse("backoffice:usager_merge", args=[first.pk, second.pk])),
        ("post", reverse("backoffice:usager_dismiss", args=[first.pk, second.pk])),
    ]
    for method, url in urls:
        response = getattr(client, method)(url, {"kept": first.pk}, HTTP_HOST=HOST)
        assert response.status_code == 404, (who, url)
    page = client.get(reverse("backoffice:usager_list"), {"q": "Martin"}, HTTP_HOST=HOST)
    assert page.status_code == 200
    assert reverse("backoffice:usager_detail", args=[first.pk]) not in page.content.decode()
    assert not Usager.objects.filter(merged_into__isnull=False).exists()
    assert DuplicateCandidate.objects.get().status == DuplicateCandidate.Status.OPEN


def test_anonymous_visitor_is_sent_to_login(client, tenant_a):
    first, second = duplicate_pair(tenant_a)
    for url in (
        reverse("backoffice:usager_list"),
        reverse("backoffice:usager_detail", args=[first.pk]),
        reverse("backoffice:usager_compare", args=[first.pk, second.pk]),
    ):
        response = client.get(url, HTTP_HOST=HOST)
        assert response.status_code == 302 and "/comptes/connexion/" in response.url


def test_two_different_people_are_set_aside(agent_client, tenant_a):
    first, second = duplicate_pair(tenant_a)
    compare = agent_client.get(reverse("backoffice:usager_compare", args=[first.pk, second.pk]))
    assert "Deux personnes différentes" in compare.content.decode()
    url = reverse("backoffice:usager_dismiss", args=[first.pk, second.pk])
    assert agent_client.post(url).status_code == 302
    candidate = DuplicateCandidate.objects.get(first=first, second=second)
    assert candidate.status == DuplicateCandidate.Status.DISMISSED
    assert Event.objects.filter(action="usager.duplicate_dismissed").count() == 1
    page = agent_client.get(reverse("backoffice:usager_detail", args=[first.pk])).content.decode()
    assert "Doublons probables" not in page
    assert agent_client.post(url).status_code == 302  # twice: said, not an error
    assert Event.objects.filter(action="usager.duplicate_dismissed").count() == 1


def test_search_query_count_does_not_grow_with_results(agent_client, tenant_a):
    def queries_for(n: int, name: str) -> int:
        for _i in range(n):
            UsagerFactory(collectivite=tenant_a.collectivite, first_name="Lucie", last_name=name)
        url = reverse("backoffice:usager_list")
        with CaptureQueriesContext(connection) as captured:
            response = agent_client.get(url, {"q": f"lucie {name}"})
        assert response.content.decode().count(f"Lucie {name}") == n
        return len(captured.captured_queries)

    assert queries_for(3, "Perrin") == queries_for(30, "Moreau")
