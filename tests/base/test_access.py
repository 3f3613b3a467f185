"""Tenancy through the services and the access functions: nothing of collectivité B is reachable
by the staff of collectivité A, whatever their role."""

import pytest
from django.core.exceptions import PermissionDenied

from grc.base import access
from grc.base.models import Channel, Event, Membership, Role
from grc.base.services import accounts, collectivites, usagers
from tests.factories import MembershipFactory, UsagerFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["admin", "manager", "agent"]


@pytest.fixture
def b_usager(tenant_b):
    return UsagerFactory(collectivite=tenant_b.collectivite, first_name="Bérénice")


@pytest.mark.parametrize("role", ROLES)
def test_staff_of_a_never_read_citizen_records_of_b(tenant_a, tenant_b, b_usager, role):
    user = getattr(tenant_a, role)
    a_usager = UsagerFactory(collectivite=tenant_a.collectivite)
    assert list(access.usagers_visible_to(user)) == [a_usager]
    with pytest.raises(access.NotFound):
        access.access_usager(user, b_usager.pk)
    # The same error as for a record that does not exist: ids cannot be probed.
    with pytest.raises(access.NotFound):
        access.access_usager(user, 10**9)
    assert access.access_usager(user, a_usager.pk) == a_usager


@pytest.mark.parametrize("role", ROLES)
def test_staff_of_a_never_change_citizen_records_of_b(tenant_a, tenant_b, b_usager, role):
    user = getattr(tenant_a, role)
    with pytest.raises(access.NotFound):
        usagers.update_usager(
            actor=user, usager=b_usager, changes={"first_name": "Piraté"}, channel=Channel.ADMIN
        )
    with pytest.raises(access.NotFound):
        usagers.create_usager(
            actor=user,
            collectivite=tenant_b.collectivite,
            data={"last_name": "Intrus"},
            channel=Channel.ADMIN,
        )
    with pytest.raises(PermissionDenied):
        usagers.find_or_create_usager(
            tenant_b.collectivite, email="x@exemple.test", channel=Channel.COUNTER, actor=user
        )
    b_usager.refresh_from_db()
    assert b_usager.first_name == "Bérénice"
    assert b_usager.collectivite.usagers.count() == 1


def test_admin_of_a_never_changes_the_configuration_of_b(tenant_a, tenant_b):
    admin = tenant_a.admin
    b = tenant_b.collectivite
    with pytest.raises(access.NotFound):
        collectivites.update_collectivite(actor=admin, collectivite=b, changes={"name": "X"})
    with pytest.raises(PermissionDenied):
        collectivites.create_service(actor=admin, collectivite=b, data={"name": "Intrus"})
    with pytest.raises(access.NotFound):
        collectivites.update_service(actor=admin, service=tenant_b.service, changes={"name": "X"})
    b.refresh_from_db()
    tenant_b.service.refresh_from_db()
    assert b.name == "Commune B" and tenant_b.service.name != "X"
    assert not b.services.filter(name="Intrus").exists()


def test_admin_of_a_never_gives_or_takes_roles_in_b(tenant_a, tenant_b):
    admin = tenant_a.admin
    outsider = UserFactory()
    with pytest.raises(access.NotFound):
        accounts.grant_role(
            actor=admin, user=outsider, collectivite=tenant_b.collectivite, role=Role.ADMIN
        )
    b_agent_role = Membership.objects.get(user=tenant_b.agent)
    with pytest.raises(access.NotFound):
        accounts.revoke_role(actor=admin, membership=b_agent_role)
    with pytest.raises(access.NotFound):
        accounts.update_role(actor=admin, membership=b_agent_role, changes={"role": Role.MANAGER})
    # Moving one of A's roles into B is refused too.
    a_agent_role = Membership.objects.get(user=tenant_a.agent)
    with pytest.raises(access.NotFound):
        accounts.update_role(
            actor=admin, membership=a_agent_role, changes={"collectivite": tenant_b.collectivite}
        )
    assert not outsider.memberships.exists()
    assert Membership.objects.filter(pk=b_agent_role.pk, role=Role.AGENT).exists()


def test_admin_of_a_never_changes_accounts_of_b(tenant_a, tenant_b):
    admin = tenant_a.admin
    with pytest.raises(access.NotFound):
        accounts.update_user(actor=admin, user=tenant_b.agent, changes={"is_active": False})
    with pytest.raises(access.NotFound):
        accounts.set_password(actor=admin, user=tenant_b.agent, password="Un-nouveau-secret-42")
    tenant_b.agent.refresh_from_db()
    assert tenant_b.agent.is_active
    assert tenant_b.agent not in access.accounts_visible_to(admin)
    assert tenant_a.agent in access.accounts_visible_to(admin)


def test_an_agent_working_for_a_and_b_is_left_to_the_platform(tenant_a, tenant_b):
    shared = tenant_a.agent
    MembershipFactory(user=shared, collectivite=tenant_b.collectivite, role=Role.AGENT)
    assert not access.can_change_account(tenant_a.admin, shared)
    with pytest.raises(access.NotFound):
        accounts.update_user(actor=tenant_a.admin, user=shared, changes={"email": "x@y.test"})


def test_audit_trail_is_per_collectivite(tenant_a, tenant_b, platform_admin):
    for tenant in (tenant_a, tenant_b):
        collectivites.update_collectivite(
            actor=tenant.admin,
            collectivite=tenant.collectivite,
            changes={"website": "https://example.org"},
        )
    seen = set(access.events_visible_to(tenant_a.admin).values_list("collectivite_id", flat=True))
    assert seen == {tenant_a.collectivite.pk}
    assert access.events_visible_to(platform_admin).count() == Event.objects.count() == 2
    assert not access.events_visible_to(tenant_a.agent).exists()


@pytest.mark.parametrize("role", ["manager", "agent"])
def test_managers_and_agents_have_no_admin_access(tenant_a, role):
    user = getattr(tenant_a, role)
    assert not access.can_use_admin(user)
    assert not user.is_staff
    assert not access.administered_collectivites(user).exists()


def test_a_citizen_sees_only_their_own_records(tenant_a):
    citizen = UserFactory()
    own = UsagerFactory(collectivite=tenant_a.collectivite, account=citizen)
    UsagerFactory(collectivite=tenant_a.collectivite)
    assert list(access.usagers_visible_to(citizen)) == [own]
    assert not access.can_change_usager(citizen, own)
    assert not access.can_use_admin(citizen)


def test_a_deactivated_collectivite_or_account_loses_its_rights(tenant_a, platform_admin):
    assert access.can_use_admin(tenant_a.admin)
    collectivites.update_collectivite(
        actor=platform_admin, collectivite=tenant_a.collectivite, changes={"is_active": False}
    )
    assert not access.can_use_admin(tenant_a.admin)
    assert not access.usagers_visible_to(tenant_a.agent).exists()


def test_only_the_platform_changes_a_collectivites_identity(tenant_a):
    with pytest.raises(PermissionDenied):
        collectivites.update_collectivite(
            actor=tenant_a.admin, collectivite=tenant_a.collectivite, changes={"slug": "autre"}
        )
    with pytest.raises(PermissionDenied):
        collectivites.create_collectivite(actor=tenant_a.admin, data={"name": "Nouvelle"})


def test_a_role_given_to_a_citizen_does_not_hand_over_their_account(tenant_a, tenant_b):
    """Admin A makes a citizen of B an agent of A: A may not then change the account (its
    e-mail and password would carry the citizen's dossiers in B)."""
    citizen = UserFactory()
    UsagerFactory(collectivite=tenant_b.collectivite, account=citizen)
    accounts.grant_role(
        actor=tenant_a.admin,
        user=citizen,
        collectivite=tenant_a.collectivite,
        role=Role.AGENT,
        service=tenant_a.service,
    )
    assert not access.can_change_account(tenant_a.admin, citizen)
    with pytest.raises(access.NotFound):
        accounts.set_password(actor=tenant_a.admin, user=citizen, password="Pris-en-main-42!")
    # An agent who is only A's citizen too stays A's to manage.
    local = UserFactory()
    UsagerFactory(collectivite=tenant_a.collectivite, account=local)
    accounts.grant_role(
        actor=tenant_a.admin,
        user=local,
        collectivite=tenant_a.collectivite,
        role=Role.AGENT,
        service=tenant_a.service,
    )
    assert access.can_change_account(tenant_a.admin, local)
