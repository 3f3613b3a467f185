import pytest

from grc.base.models import Role
from tests.factories import CollectiviteFactory, MembershipFactory, ServiceFactory, UserFactory


def pytest_configure(config):
    from django.conf import settings

    # Hashing demo and test passwords with the production hasher would dominate the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Tenant:
    """A collectivité with a service, its admin, a manager and an agent."""

    def __init__(self, name: str):
        self.collectivite = CollectiviteFactory(name=name)
        self.service = ServiceFactory(collectivite=self.collectivite)
        self.admin = MembershipFactory(collectivite=self.collectivite, role=Role.ADMIN).user
        self.manager = MembershipFactory(
            collectivite=self.collectivite, role=Role.MANAGER, service=self.service
        ).user
        self.agent = MembershipFactory(
            collectivite=self.collectivite, role=Role.AGENT, service=self.service
        ).user


@pytest.fixture
def tenant_a(db):
    return Tenant("Commune A")


@pytest.fixture
def tenant_b(db):
    return Tenant("Commune B")


@pytest.fixture
def platform_admin(db):
    return UserFactory(is_platform_admin=True, email="agence@grc.test")


@pytest.fixture(autouse=True)
def french_by_default():
    """A request in English (LocaleMiddleware) leaves English active in the thread: every test
    starts from the site's language."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
