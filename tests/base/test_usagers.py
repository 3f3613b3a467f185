import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from grc.base.models import Channel, DuplicateCandidate, Event, Usager
from grc.base.models.address import Address
from grc.base.services.usagers import find_or_create_usager, update_usager
from tests.factories import CollectiviteFactory, UsagerFactory, UserFactory

pytestmark = pytest.mark.django_db

BORN = datetime.date(1984, 3, 12)
HOME = Address(address_line1="4 rue des Tilleuls", postal_code="49170", city="Saint-Aubin")


@pytest.fixture
def commune():
    return CollectiviteFactory()


def test_a_new_person_gets_a_new_record_with_normalised_contacts(commune):
    match = find_or_create_usager(
        commune,
        email=" Marie.Dubois@Exemple.test",
        phone="06 12 34 56 78",
        first_name="Marie",
        last_name="Dubois",
        birth_date=BORN,
        address=HOME,
        channel=Channel.EMAIL,
    )
    usager = match.usager
    assert match.created and not match.duplicates
    assert usager.email == "marie.dubois@exemple.test"
    assert usager.phones == ["+33612345678"]
    assert (usager.address_line1, usager.postal_code) == ("4 rue des Tilleuls", "49170")
    assert usager.created_channel == Channel.EMAIL
    event = Event.objects.get(action="usager.created", object_id=str(usager.pk))
    assert event.collectivite_id == commune.pk and event.channel == Channel.EMAIL


def test_an_exact_email_match_reuses_the_record_and_fills_in_without_overwriting(commune):
    known = UsagerFactory(
        collectivite=commune,
        email="marie@exemple.test",
        first_name="Marie",
        last_name="Dubois",
        phones=[],
        birth_date=None,
    )
    match = find_or_create_usager(
        commune,
        email="MARIE@exemple.test",
        phone="0612345678",
        first_name="Maria",
        last_name="Dubois-Martin",
        birth_date=BORN,
        address=HOME,
        channel=Channel.PHONE,
    )
    assert not match.created and match.usager.pk == known.pk
    known.refresh_from_db()
    # Filled in: what was missing.
    assert known.phones == ["+33612345678"]
    assert known.birth_date == BORN
    assert known.address_line1 == "4 rue des Tilleuls"
    # Kept: what was known.
    assert (known.first_name, known.last_name) == ("Marie", "Dubois")
    event = Event.objects.get(action="usager.completed", object_id=str(known.pk))
    assert set(event.payload["changes"]) >= {"phones", "birth_date", "address_line1"}
    assert event.payload["kept"]["first_name"] == ["Marie", "Maria"]
    assert Usager.objects.filter(collectivite=commune).count() == 1


def test_an_exact_phone_match_reuses_the_record_and_adds_the_email(commune):
    known = UsagerFactory(collectivite=commune, email="", phones=["+33612345678"])
    match = find_or_create_usager(
        commune, phone="+33 6 12 34 56 78", email="nouvelle@exemple.test", channel=Channel.COUNTER
    )
    assert match.usager.pk == known.pk
    known.refresh_from_db()
    assert known.email == "nouvelle@exemple.test"


def test_a_second_phone_is_added_not_replacing_the_first(commune):
    known = UsagerFactory(collectivite=commune, email="x@exemple.test", phones=["+33612345678"])
    find_or_create_usager(
        commune, email="x@exemple.test", phone="01 23 45 67 89", channel=Channel.PHONE
    )
    known.refresh_from_db()
    assert known.phones == ["+33612345678", "+33123456789"]


def test_records_are_per_collectivite(commune):
    other = CollectiviteFactory()
    UsagerFactory(collectivite=other, email="marie@exemple.test")
    match = find_or_create_usager(commune, email="marie@exemple.test", channel=Channel.WEB)
    assert match.created and match.usager.collectivite == commune


def test_a_similar_name_and_same_birth_date_is_a_duplicate_candidate_not_a_merge(commune):
    known = UsagerFactory(
        collectivite=commune,
        first_name="Hélène",
        last_name="Dupont",
        email="helene@exemple.test",
        birth_date=BORN,
    )
    match = find_or_create_usager(
        commune,
        email="h.dupond@autre.test",
        first_name="Helene",
        last_name="DUPOND",
        birth_date=BORN,
        channel=Channel.COURRIER,
    )
    assert match.created and match.usager.pk != known.pk
    assert [u.pk for u in match.duplicates] == [known.pk]
    candidate = DuplicateCandidate.objects.get()
    assert {candidate.first_id, candidate.second_id} == {known.pk, match.usager.pk}
    assert candidate.status == DuplicateCandidate.Status.OPEN
    assert "date de naissance" in candidate.reason
    assert Event.objects.filter(action="usager.duplicate_suspected").count() == 1
    # Nothing was merged: both records live on.
    assert Usager.objects.filter(collectivite=commune, merged_into__isnull=True).count() == 2


def test_a_similar_name_at_the_same_address_is_a_duplicate_candidate(commune):
    UsagerFactory(
        collectivite=commune,
        first_name="Jean-Pierre",
        last_name="Martin",
        address_line1="4, rue des Tilleuls",
        postal_code="49170",
    )
    match = find_or_create_usager(
        commune,
        first_name="Jean Pierre",
        last_name="Martin",
        address=HOME,
        channel=Channel.COURRIER,
    )
    assert len(match.duplicates) == 1 and "adresse" in match.duplicates[0].duplicate_reason


def test_similar_names_without_a_shared_birth_date_or_address_are_not_flagged(commune):
    UsagerFactory(
        collectivite=commune,
        first_name="Jean",
        last_name="Dupont",
        birth_date=datetime.date(1950, 1, 1),
    )
    match = find_or_create_usager(
        commune, first_name="Jean", last_name="Dupont", birth_date=BORN, channel=Channel.PHONE
    )
    assert match.created and match.duplicates == []
    assert not DuplicateCandidate.objects.exists()


def test_different_people_with_the_same_birth_date_are_not_flagged(commune):
    UsagerFactory(collectivite=commune, first_name="Paul", last_name="Lambert", birth_date=BORN)
    match = find_or_create_usager(
        commune, first_name="Sophie", last_name="Girard", birth_date=BORN, channel=Channel.PHONE
    )
    assert match.duplicates == []


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("phone", {"phone": "06 12"}),
        ("email", {"email": "pas-une-adresse"}),
    ],
)
def test_invalid_contact_details_name_the_field_and_save_nothing(commune, field, kwargs):
    with pytest.raises(ValidationError) as error:
        find_or_create_usager(commune, channel=Channel.WEB, first_name="X", **kwargs)
    assert field in error.value.message_dict
    assert not Usager.objects.exists() and not Event.objects.exists()


def test_a_failed_update_keeps_the_record_as_it_was(tenant_a):
    usager = UsagerFactory(
        collectivite=tenant_a.collectivite, phones=["+33612345678"], first_name="Marie"
    )
    with pytest.raises(ValidationError) as error:
        update_usager(
            actor=tenant_a.agent,
            usager=usager,
            channel=Channel.ADMIN,
            changes={"first_name": "Marion", "phones": ["+33612345678", "12"]},
        )
    assert "phones" in error.value.message_dict
    usager.refresh_from_db()
    assert usager.first_name == "Marie" and usager.phones == ["+33612345678"]
    assert not Event.objects.filter(action="usager.updated").exists()


def test_an_update_is_audited_with_before_and_after(tenant_a):
    usager = UsagerFactory(collectivite=tenant_a.collectivite, first_name="Marie")
    update_usager(
        actor=tenant_a.agent,
        usager=usager,
        channel=Channel.COUNTER,
        changes={"first_name": "Marion", "notes": "Préfère être appelée le matin."},
    )
    event = Event.objects.get(action="usager.updated")
    assert event.actor == tenant_a.agent and event.channel == Channel.COUNTER
    assert event.payload["changes"]["first_name"] == ["Marie", "Marion"]


def test_staff_take_in_only_for_their_collectivite(tenant_a, tenant_b):
    with pytest.raises(PermissionDenied):
        find_or_create_usager(
            tenant_b.collectivite,
            email="x@exemple.test",
            channel=Channel.COUNTER,
            actor=tenant_a.agent,
        )
    assert not Usager.objects.exists()
    match = find_or_create_usager(
        tenant_a.collectivite, email="x@exemple.test", channel=Channel.COUNTER, actor=tenant_a.agent
    )
    assert match.created


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_intakes_for_one_person_make_one_record():
    """Two e-mails from the same sender processed at the same moment: the advisory lock on the
    address makes the second intake find the first one's record."""
    import threading

    from django.db import connection

    commune = CollectiviteFactory()
    barrier = threading.Barrier(4)
    results, errors = [], []

    def intake(phone):
        try:
            barrier.wait()
            results.append(
                find_or_create_usager(
                    commune, email="meme@exemple.test", phone=phone, channel=Channel.EMAIL
                )
            )
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=intake, args=(f"06 12 34 56 0{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(match.created for match in results) == 1
    usager = Usager.objects.get(collectivite=commune)
    assert sorted(usager.phones) == [f"+3361234560{i}" for i in range(4)]


def test_an_account_finds_its_own_record_first(commune):
    citizen = UserFactory(email="nouvelle@exemple.test")
    own = UsagerFactory(collectivite=commune, account=citizen, email="ancienne@exemple.test")
    match = find_or_create_usager(
        commune, email=citizen.email, channel=Channel.WEB, account=citizen
    )
    assert match.usager == own and not match.created


def test_a_phone_alone_never_joins_a_strangers_record_to_an_account(commune):
    stranger = UsagerFactory(
        collectivite=commune,
        phones=["+33612345678"],
        account=None,
        email="voisin@exemple.test",
        birth_date=None,
    )
    citizen = UserFactory(email="camille@exemple.test")
    match = find_or_create_usager(
        commune,
        email=citizen.email,
        phone="06 12 34 56 78",
        birth_date=BORN,
        channel=Channel.WEB,
        account=citizen,
    )
    assert match.created and match.usager.account == citizen
    stranger.refresh_from_db()
    assert stranger.account is None and stranger.birth_date is None


def test_the_account_is_linked_to_the_record_of_its_own_address(commune):
    known = UsagerFactory(collectivite=commune, email="camille@exemple.test", account=None)
    citizen = UserFactory(email="camille@exemple.test")
    match = find_or_create_usager(
        commune, email=citizen.email, channel=Channel.WEB, account=citizen
    )
    assert match.usager == known
    known.refresh_from_db()
    assert known.account == citizen


def test_differences_kept_for_agents_are_plain_values(commune):
    other = UserFactory()
    UsagerFactory(
        collectivite=commune,
        email="x@exemple.test",
        first_name="Marie",
        account=other,
        birth_date=None,
    )
    find_or_create_usager(
        commune, email="x@exemple.test", first_name="Maria", birth_date=BORN, channel=Channel.EMAIL
    )
    event = Event.objects.get(action="usager.completed")
    assert event.payload["kept"] == {"first_name": ["Marie", "Maria"]}
