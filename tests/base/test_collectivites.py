import pytest
from django.core.exceptions import ValidationError

from grc.base.models import Collectivite, Event
from grc.base.selectors import collectivite_for_host
from grc.base.services import collectivites as services
from tests.factories import valid_siren

pytestmark = pytest.mark.django_db


def data(**overrides):
    return {
        "name": "Commune de Lussac",
        "slug": "lussac",
        "kind": "commune",
        "siren": valid_siren(4242),
        **overrides,
    }


def test_the_platform_creates_a_collectivite_with_its_hosts(platform_admin):
    commune = services.create_collectivite(
        actor=platform_admin,
        data=data(phone="05 49 00 00 00"),
        hosts=["Demarches.Lussac.fr", "https://lussac.grc.example/"],
    )
    assert commune.phone == "+33549000000"
    assert sorted(commune.hosts.values_list("host", flat=True)) == [
        "demarches.lussac.fr",
        "lussac.grc.example",
    ]
    assert collectivite_for_host("demarches.lussac.fr:443") == commune
    event = Event.objects.get(action="collectivite.created")
    assert event.actor == platform_admin and event.payload["hosts"]


def test_a_second_collectivite_with_the_same_slug_is_refused(platform_admin):
    services.create_collectivite(actor=platform_admin, data=data())
    with pytest.raises(ValidationError) as error:
        services.create_collectivite(
            actor=platform_admin, data=data(name="Autre", siren=valid_siren(4243))
        )
    assert error.value.message_dict["slug"] == [
        "Une collectivité utilise déjà cet identifiant court."
    ]
    assert Collectivite.objects.count() == 1


def test_a_host_name_already_used_is_refused_with_the_owner_named(platform_admin):
    services.create_collectivite(actor=platform_admin, data=data(), hosts=["demarches.fr"])
    with pytest.raises(ValidationError) as error:
        services.create_collectivite(
            actor=platform_admin,
            data=data(name="Autre", slug="autre", siren=valid_siren(7)),
            hosts=["DEMARCHES.fr"],
        )
    assert "déjà utilisé par Commune de Lussac" in error.value.messages[0]
    assert not Collectivite.objects.filter(slug="autre").exists()  # nothing half-saved


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("siren", "123456789", "clé de contrôle"),
        ("phone", "05 49", "numéro de téléphone"),
        ("email", "mairie@", "adresse de courriel valide"),
        ("slug", "Lussac Ville", "minuscules non accentuées"),
        ("primary_colour", "#eeeeee", "contraste"),
    ],
)
def test_bad_input_names_the_field(platform_admin, field, value, message):
    with pytest.raises(ValidationError) as error:
        services.create_collectivite(actor=platform_admin, data=data(**{field: value}))
    assert field in error.value.message_dict
    assert message in " ".join(error.value.message_dict[field])
    assert not Collectivite.objects.exists() and not Event.objects.exists()


def test_invalid_host_names_are_refused(platform_admin):
    with pytest.raises(ValidationError, match="pas un nom d'hôte valide"):
        services.create_collectivite(actor=platform_admin, data=data(), hosts=["a b.fr"])


def test_a_collectivite_admin_edits_their_details_and_hosts(tenant_a):
    services.update_collectivite(
        actor=tenant_a.admin,
        collectivite=tenant_a.collectivite,
        changes={"email": "accueil@a.test"},
        hosts=["a.example"],
    )
    event = Event.objects.get(action="collectivite.updated")
    assert event.payload["changes"]["email"] == ["", "accueil@a.test"]
    assert event.payload["changes"]["hosts"] == [[], ["a.example"]]
    assert collectivite_for_host("a.example") == tenant_a.collectivite


def test_an_inactive_collectivite_is_not_served(tenant_a, platform_admin):
    services.update_collectivite(
        actor=platform_admin,
        collectivite=tenant_a.collectivite,
        changes={"is_active": False},
        hosts=["a.example"],
    )
    assert collectivite_for_host("a.example") is None
