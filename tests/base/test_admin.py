"""The admin, over HTTP: scoped by role, writes through the services, errors named by field."""

import pytest
from django.urls import reverse

from grc.base.models import Collectivite, Event, Membership, Role, Service, Usager, User
from tests.factories import PASSWORD, UsagerFactory, valid_siren

pytestmark = pytest.mark.django_db


def post_data(response, **overrides):
    """The admin form of `response` as the browser would post it, with `overrides`."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False or name in ("logo",):
            continue
        data[name] = "on" if value is True else value
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def url(model, action, *args):
    return reverse(f"admin:base_{model._meta.model_name}_{action}", args=args)


@pytest.fixture
def client_a(client, tenant_a):
    client.force_login(tenant_a.admin)
    return client


def test_a_printed_style_login_opens_the_admin(client, tenant_a):
    response = client.post(
        reverse("admin:login"), {"username": tenant_a.admin.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 302
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    assert "Configuration de la plateforme" in page.text


@pytest.mark.parametrize("role", ["manager", "agent"])
def test_agents_and_managers_cannot_enter_the_admin(client, tenant_a, role):
    user = getattr(tenant_a, role)
    response = client.post(reverse("admin:login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 200  # the form again, with the refusal
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session
    client.force_login(user)
    assert client.get(reverse("admin:index")).status_code == 302
    assert client.get(url(Usager, "changelist")).status_code == 302


LISTS = [Collectivite, Service, Membership, User, Usager, Event]


@pytest.mark.parametrize("model", LISTS, ids=lambda m: m.__name__)
def test_lists_show_only_the_admins_collectivite(client_a, tenant_a, tenant_b, model):
    UsagerFactory(collectivite=tenant_a.collectivite, last_name="Alpha-Usager")
    UsagerFactory(collectivite=tenant_b.collectivite, last_name="Beta-Usager")
    from grc.base.services.collectivites import update_collectivite

    for tenant in (tenant_a, tenant_b):
        update_collectivite(
            actor=tenant.admin,
            collectivite=tenant.collectivite,
            changes={"email": f"x@{tenant.collectivite.slug}.test"},
        )
    response = client_a.get(url(model, "changelist"))
    assert response.status_code == 200
    shown = list(response.context["cl"].queryset)
    assert shown, "the admin's own rows are listed"
    for row in shown:
        owner = row if model is Collectivite else getattr(row, "collectivite", None)
        if model is User:
            assert row.memberships.filter(collectivite=tenant_a.collectivite).exists()
        else:
            assert owner == tenant_a.collectivite
    assert "Commune B" not in response.text and "Beta-Usager" not in response.text


def b_objects(tenant_b):
    usager = UsagerFactory(collectivite=tenant_b.collectivite)
    return [
        (Collectivite, tenant_b.collectivite),
        (Service, tenant_b.service),
        (Membership, Membership.objects.get(user=tenant_b.agent)),
        (User, tenant_b.agent),
        (Usager, usager),
    ]


def test_objects_of_b_cannot_be_opened_changed_or_deleted(client_a, tenant_b):
    for model, obj in b_objects(tenant_b):
        change = url(model, "change", obj.pk)
        page = client_a.get(change)
        assert page.status_code == 302, model  # "does not exist", like a missing id
        client_a.post(change, {"name": "Piraté", "first_name": "Piraté", "email": "p@p.test"})
        client_a.post(url(model, "delete", obj.pk), {"post": "yes"})
        fresh = model.objects.get(pk=obj.pk)
        assert "Piraté" not in str(fresh) and getattr(fresh, "email", "") != "p@p.test"
    assert Membership.objects.filter(user=tenant_b.agent).exists()


def test_rows_cannot_be_added_into_b(client_a, tenant_a, tenant_b):
    before = Service.objects.count(), Usager.objects.count(), Membership.objects.count()
    page = client_a.post(
        url(Service, "add"),
        {"collectivite": tenant_b.collectivite.pk, "name": "Intrus", "country": "FR"},
    )
    assert page.status_code == 200 and "collectivite" in page.context["adminform"].form.errors
    page = client_a.post(
        url(Usager, "add"),
        {"collectivite": tenant_b.collectivite.pk, "last_name": "Intrus", "country": "FR"},
    )
    assert "collectivite" in page.context["adminform"].form.errors
    page = client_a.post(
        url(Membership, "add"),
        {
            "user_email": tenant_a.agent.email,
            "collectivite": tenant_b.collectivite.pk,
            "role": Role.ADMIN,
        },
    )
    assert "collectivite" in page.context["adminform"].form.errors
    after = Service.objects.count(), Usager.objects.count(), Membership.objects.count()
    assert before == after


def test_an_admin_edits_their_collectivite_through_the_service(client_a, tenant_a, tenant_b):
    from grc.base.services.collectivites import update_collectivite

    update_collectivite(
        actor=tenant_b.admin, collectivite=tenant_b.collectivite, changes={}, hosts=["b.example"]
    )
    change = url(Collectivite, "change", tenant_a.collectivite.pk)
    page = client_a.get(change)
    assert "slug" not in page.context["adminform"].form.fields  # the agency's business
    # A host of B is refused, with B named, and nothing is saved.
    refused = client_a.post(change, post_data(page, phone="02 41 00 00 01", hosts_text="b.example"))
    assert refused.status_code == 200
    assert "déjà utilisé par Commune B" in str(refused.context["adminform"].form.errors)
    tenant_a.collectivite.refresh_from_db()
    assert tenant_a.collectivite.phone == ""
    saved = client_a.post(change, post_data(page, phone="02 41 00 00 01", hosts_text="a.example"))
    assert saved.status_code == 302
    tenant_a.collectivite.refresh_from_db()
    assert tenant_a.collectivite.phone == "+33241000001"
    event = Event.objects.filter(action="collectivite.updated").latest("id")
    assert event.actor == tenant_a.admin and event.channel == "admin"
    assert event.payload["changes"]["phone"] == ["", "+33241000001"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("siren", "123 456 789", "clé de contrôle"),
        ("slug", "saint-aubin", "déjà cet identifiant"),
        ("phone", "02 41", "numéro de téléphone"),
        ("email", "mairie@", "adresse de courriel"),
    ],
)
def test_bad_input_in_the_admin_is_named_by_field(client, platform_admin, field, value, message):
    from tests.factories import CollectiviteFactory

    CollectiviteFactory(slug="saint-aubin")
    client.force_login(platform_admin)
    data = {
        "name": "Nouvelle",
        "slug": "nouvelle",
        "kind": "commune",
        "siren": valid_siren(99),
        "country": "FR",
        "primary_colour": "#000091",
        "secondary_colour": "#1f4e79",
        field: value,
    }
    page = client.post(url(Collectivite, "add"), data)
    assert page.status_code == 200
    errors = page.context["adminform"].form.errors
    assert message in " ".join(errors[field])
    assert not Collectivite.objects.filter(name="Nouvelle").exists()


def test_an_admin_creates_an_agent_with_a_role(client_a, tenant_a):
    page = client_a.post(
        url(User, "add"),
        {
            "email": "Nouvel.Agent@A.test",
            "first_name": "Nouvel",
            "last_name": "Agent",
            "is_active": "on",
            "password1": "Un-mot-de-passe-solide",
            "password2": "Un-mot-de-passe-solide",
            "collectivite": tenant_a.collectivite.pk,
            "role": Role.AGENT,
            "service": tenant_a.service.pk,
        },
    )
    assert page.status_code == 302, page.context and page.context["adminform"].form.errors
    user = User.objects.get(email="nouvel.agent@a.test")
    assert user.check_password("Un-mot-de-passe-solide")
    assert user.memberships.get().service == tenant_a.service
    assert Event.objects.filter(
        action="membership.granted", object_id=str(user.memberships.get().pk)
    ).exists()


def test_an_admin_cannot_make_a_platform_admin(client_a, tenant_a):
    change = url(User, "change", tenant_a.agent.pk)
    page = client_a.get(change)
    assert "is_platform_admin" not in page.context["adminform"].form.fields
    client_a.post(change, post_data(page, is_platform_admin="on"))
    tenant_a.agent.refresh_from_db()
    assert not tenant_a.agent.is_platform_admin


def test_the_audit_trail_is_read_only_in_the_admin(client_a, tenant_a):
    from grc.base.services.collectivites import update_collectivite

    update_collectivite(
        actor=tenant_a.admin, collectivite=tenant_a.collectivite, changes={"email": "a@a.test"}
    )
    event = Event.objects.get()
    page = client_a.get(url(Event, "change", event.pk))
    assert page.status_code == 200 and "a@a.test" in page.text
    client_a.post(url(Event, "change", event.pk), {"action": "forged"})
    client_a.post(url(Event, "delete", event.pk), {"post": "yes"})
    event.refresh_from_db()
    assert event.action == "collectivite.updated"


def messages_of(response) -> list[str]:
    from django.contrib.messages import get_messages

    return [str(message) for message in get_messages(response.wsgi_request)]


def test_an_admin_cannot_delete_their_own_admin_role(client_a, tenant_a):
    own = Membership.objects.get(user=tenant_a.admin, role=Role.ADMIN)
    response = client_a.post(url(Membership, "delete", own.pk), {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == url(Membership, "changelist")
    assert any("propre rôle d'administrateur" in m for m in messages_of(response))
    assert Membership.objects.filter(pk=own.pk, role=Role.ADMIN).exists()
    assert not Event.objects.filter(action="membership.revoked").exists()


def test_the_bulk_delete_keeps_ones_own_admin_role_and_revokes_the_others(client_a, tenant_a):
    own = Membership.objects.get(user=tenant_a.admin, role=Role.ADMIN)
    agent = Membership.objects.get(user=tenant_a.agent)
    response = client_a.post(
        url(Membership, "changelist"),
        {"action": "delete_selected", "_selected_action": [own.pk, agent.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert any("propre rôle d'administrateur" in m for m in messages_of(response))
    assert Membership.objects.filter(pk=own.pk, role=Role.ADMIN).exists()
    assert not Membership.objects.filter(pk=agent.pk).exists()


def test_an_admin_cannot_demote_or_move_their_own_admin_role(tenant_a, tenant_b):
    from django.core.exceptions import ValidationError

    from grc.base.services import accounts

    own = Membership.objects.get(user=tenant_a.admin, role=Role.ADMIN)
    with pytest.raises(ValidationError, match="propre rôle d'administrateur"):
        accounts.update_role(actor=tenant_a.admin, membership=own, changes={"role": Role.AGENT})
    # Also an admin of B: moving A's admin role into B is refused the same way.
    accounts.grant_role(
        actor=None, user=tenant_a.admin, collectivite=tenant_b.collectivite, role=Role.ADMIN
    )
    with pytest.raises(ValidationError, match="propre rôle d'administrateur"):
        accounts.update_role(
            actor=tenant_a.admin, membership=own, changes={"collectivite": tenant_b.collectivite}
        )
    # Saving it unchanged is not a change (and records nothing).
    accounts.update_role(actor=tenant_a.admin, membership=own, changes={"role": Role.ADMIN})
    own.refresh_from_db()
    assert (own.role, own.collectivite) == (Role.ADMIN, tenant_a.collectivite)
    assert not Event.objects.filter(action="membership.updated").exists()


def test_an_admin_cannot_demote_themselves_through_the_change_form(client_a, tenant_a):
    own = Membership.objects.get(user=tenant_a.admin, role=Role.ADMIN)
    change = url(Membership, "change", own.pk)
    page = client_a.get(change)
    response = client_a.post(change, post_data(page, role=Role.AGENT), follow=True)
    assert response.status_code == 200
    assert any("propre rôle d'administrateur" in m for m in messages_of(response))
    own.refresh_from_db()
    assert own.role == Role.ADMIN


def test_the_platform_admin_may_change_their_own_role(platform_admin, tenant_a):
    from grc.base.services import accounts

    own = accounts.grant_role(
        actor=None, user=platform_admin, collectivite=tenant_a.collectivite, role=Role.ADMIN
    )
    accounts.update_role(actor=platform_admin, membership=own, changes={"role": Role.AGENT})
    accounts.revoke_role(actor=platform_admin, membership=own)
    assert not platform_admin.memberships.exists()


@pytest.mark.parametrize("page", ["admin:index", "admin:base_usager_changelist"])
def test_admin_pages_run_a_fixed_number_of_queries(client_a, tenant_a, page):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client_a.get(reverse(page)).status_code == 200
        return len(captured)

    UsagerFactory.create_batch(3, collectivite=tenant_a.collectivite)
    queries()  # warm caches (content types, …)
    few = queries()
    UsagerFactory.create_batch(27, collectivite=tenant_a.collectivite)
    assert queries() == few
