"""Test data. Factories set rows up directly; the behaviour under test goes through services."""

import factory
from stdnum import luhn

from grc.base.models import Channel, Collectivite, Membership, Role, Service, Usager, User
from grc.base.validators import name_key

PASSWORD = "mot-de-passe-de-test"


def valid_siren(n: int) -> str:
    prefix = f"2{n:07d}"
    return prefix + luhn.calc_check_digit(prefix)


class CollectiviteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Collectivite

    name = factory.Sequence(lambda n: f"Commune de Test-{n}")
    slug = factory.Sequence(lambda n: f"test-{n}")
    reference_prefix = factory.LazyAttribute(lambda c: c.slug.upper())
    kind = Collectivite.Kind.COMMUNE
    siren = factory.Sequence(valid_siren)
    city = "Testville"
    postal_code = "49000"


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    collectivite = factory.SubFactory(CollectiviteFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    email = factory.Sequence(lambda n: f"service{n}@mairie.test")
    phone = "+33241000000"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"personne{n}@exemple.test")
    first_name = "Alex"
    last_name = factory.Sequence(lambda n: f"Martin{n}")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def confirmed(user, create, extracted, **kwargs):
        """The address is confirmed (allauth) unless `confirmed=False` is given."""
        if create and extracted is not False:
            from allauth.account.models import EmailAddress

            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    collectivite = factory.SubFactory(CollectiviteFactory)
    role = Role.AGENT
    service = factory.LazyAttribute(
        lambda m: None if m.role == Role.ADMIN else ServiceFactory(collectivite=m.collectivite)
    )


class UsagerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Usager

    collectivite = factory.SubFactory(CollectiviteFactory)
    first_name = "Camille"
    last_name = factory.Sequence(lambda n: f"Durand{n}")
    email = factory.Sequence(lambda n: f"usager{n}@exemple.test")
    created_channel = Channel.WEB
    name_key = factory.LazyAttribute(lambda u: name_key(u.first_name, u.last_name))
