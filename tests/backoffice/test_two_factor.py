"""Two-factor authentication of staff: enrolment of an authenticator app confirmed by a code,
the code asked after the password, wrong codes audited and rate-limited, backup codes that
work once, and the collectivité's switch that makes it mandatory."""

import time

import pytest
from django.core.cache import cache
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from grc.base.models import Event
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SECURITY = "/backoffice/securite/"
VERIFY = "/backoffice/securite/verifier/"


@pytest.fixture(autouse=True)
def no_throttling(settings):
    # django-otp's own exponential delay after a wrong code would refuse the next right one
    # within the second; ours (grc.base.ratelimit) is what these tests look at.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def browser() -> Client:
    return Client(HTTP_HOST="127.0.0.1")


def code_for(device: TOTPDevice) -> str:
    """The code the phone shows now (to confirm a new app)."""
    value = totp(device.bin_key, device.step, device.t0, device.digits)
    return str(value).zfill(device.digits)


def next_code(device: TOTPDevice) -> str:
    """A code the server accepts now from a confirmed app: one not used yet (after `last_t`)
    and in the window it looks at (the app's recorded clock drift, ± its tolerance). django-otp
    records a drift when a code is checked across a 30-second boundary: a code computed from
    the bare clock would then fall outside the window now and then."""
    device.refresh_from_db()
    now = int((time.time() - device.t0) // device.step)
    target = max(device.last_t + 1, now + device.drift)
    value = totp(device.bin_key, device.step, device.t0, device.digits, drift=target - now)
    return str(value).zfill(device.digits)


def log_in(user) -> Client:
    client = browser()
    page = client.post("/comptes/connexion/", {"login": user.email, "password": PASSWORD})
    assert page.status_code == 302
    return client


def enrol(client, user) -> TOTPDevice:
    assert client.post(SECURITY, {"action": "start"}).status_code == 302
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    confirmed = client.post(SECURITY, {"action": "confirm", "code": code_for(device)})
    assert confirmed.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    return device


def test_enrolment_shows_a_qr_code_and_the_secret_then_needs_a_code(tenant_a):
    client = log_in(tenant_a.agent)
    page = client.get(SECURITY)
    assert page.status_code == 200 and "Désactivée." in page.text
    client.post(SECURITY, {"action": "start"})
    device = TOTPDevice.objects.get(user=tenant_a.agent)
    page = client.get(SECURITY)
    assert '<svg role="img" aria-label="Code QR' in page.text
    assert page.context["secret"] in page.text and len(page.context["secret"]) == 32
    # Not counted before it is confirmed: the backoffice opens without a code.
    assert client.get("/backoffice/").status_code == 200

    wrong = client.post(SECURITY, {"action": "confirm", "code": "000000"})
    assert wrong.status_code == 400 and "Ce code n" in wrong.text
    device.refresh_from_db()
    assert not device.confirmed
    assert client.post(SECURITY, {"action": "confirm", "code": code_for(device)}).status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    added = Event.objects.get(action="otp.device_added")
    assert (added.actor, added.collectivite) == (tenant_a.agent, tenant_a.collectivite)
    # This session is verified by the enrolment itself.
    assert client.get("/backoffice/").status_code == 200


def test_after_the_password_the_code_is_asked(tenant_a):
    device = enrol(log_in(tenant_a.agent), tenant_a.agent)
    client = log_in(tenant_a.agent)
    for path in ("/backoffice/", "/backoffice/tableau-de-bord/", SECURITY, "/admin/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(VERIFY + "?next="), path
    page = client.get(VERIFY + "?next=/backoffice/tableau-de-bord/")
    assert page.status_code == 200

    wrong = client.post(VERIFY, {"code": "123456", "next": "/backoffice/tableau-de-bord/"})
    assert wrong.status_code == 400
    assert 'id="error-summary"' in wrong.text
    failed = Event.objects.get(action="otp.verification_failed")
    assert failed.actor == tenant_a.agent

    right = client.post(VERIFY, {"code": next_code(device), "next": "/backoffice/tableau-de-bord/"})
    assert right.status_code == 302 and right["Location"] == "/backoffice/tableau-de-bord/"
    assert client.get("/backoffice/").status_code == 200


def test_the_next_address_stays_on_this_site(tenant_a):
    device = enrol(log_in(tenant_a.agent), tenant_a.agent)
    client = log_in(tenant_a.agent)
    right = client.post(VERIFY, {"code": next_code(device), "next": "https://evil.test/"})
    assert right["Location"] == "/backoffice/"


def test_wrong_codes_are_rate_limited(tenant_a):
    device = enrol(log_in(tenant_a.agent), tenant_a.agent)
    cache.clear()  # the code typed at enrolment counted too
    client = log_in(tenant_a.agent)
    for _attempt in range(5):
        assert client.post(VERIFY, {"code": "000000"}).status_code == 400
    assert Event.objects.filter(action="otp.verification_failed").count() == 5
    refused = client.post(VERIFY, {"code": next_code(device)})
    assert refused.status_code == 429
    assert "Trop de codes essayés" in refused.text
    assert client.get("/backoffice/").status_code == 302


def test_backup_codes_work_once(tenant_a):
    client = log_in(tenant_a.agent)
    enrol(client, tenant_a.agent)
    page = client.post(SECURITY, {"action": "backup"})
    codes = page.context["backup_codes"]
    assert len(codes) == 10 and codes[0] in page.text
    assert client.get(SECURITY).context["backup_left"] == 10

    second = log_in(tenant_a.agent)
    assert second.post(VERIFY, {"code": codes[0]}).status_code == 302
    assert second.get("/backoffice/").status_code == 200
    assert StaticDevice.objects.get(user=tenant_a.agent).token_set.count() == 9

    third = log_in(tenant_a.agent)
    assert third.post(VERIFY, {"code": codes[0]}).status_code == 400
    assert third.post(VERIFY, {"code": codes[1].upper()}).status_code == 302


def test_removing_two_factor(tenant_a):
    client = log_in(tenant_a.agent)
    enrol(client, tenant_a.agent)
    client.post(SECURITY, {"action": "backup"})
    assert client.post(SECURITY, {"action": "remove"}).status_code == 302
    assert not TOTPDevice.objects.filter(user=tenant_a.agent).exists()
    assert not StaticDevice.objects.filter(user=tenant_a.agent).exists()
    assert Event.objects.filter(action="otp.device_removed").count() == 2
    assert log_in(tenant_a.agent).get("/backoffice/").status_code == 200


def test_mandatory_two_factor_sends_to_enrolment_first(tenant_a, tenant_b):
    tenant_a.collectivite.staff_2fa_required = True
    tenant_a.collectivite.save()
    client = log_in(tenant_a.agent)
    for path in ("/backoffice/", "/backoffice/tableau-de-bord/", "/backoffice/exports/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == SECURITY, path
    page = client.get(SECURITY)
    assert page.status_code == 200
    assert "rend la double authentification obligatoire" in page.text
    enrol(client, tenant_a.agent)
    assert client.get("/backoffice/tableau-de-bord/").status_code == 200
    # Other collectivités are not concerned.
    assert log_in(tenant_b.agent).get("/backoffice/").status_code == 200


def test_the_setting_is_in_the_collectivite_admin(tenant_a):
    client = log_in(tenant_a.admin)
    page = client.get(f"/admin/base/collectivite/{tenant_a.collectivite.pk}/change/")
    assert page.status_code == 200
    assert 'name="staff_2fa_required"' in page.text


def test_the_security_pages_are_for_staff_only(tenant_a, platform_admin):
    citizen = UserFactory()
    client = browser()
    client.force_login(citizen)
    assert client.get(SECURITY).status_code == 404
    assert client.post(SECURITY, {"action": "start"}).status_code == 404
    assert client.get(VERIFY).status_code == 404
    assert client.post(VERIFY, {"code": "000000"}).status_code == 404
    assert not TOTPDevice.objects.exists()
    # Platform admins may protect their own account (nothing here shows anyone else's data).
    client.force_login(platform_admin)
    assert client.get(SECURITY).status_code == 200


def test_a_code_is_only_valid_for_its_owner(tenant_a, tenant_b):
    device_a = enrol(log_in(tenant_a.agent), tenant_a.agent)
    enrol(log_in(tenant_b.agent), tenant_b.agent)
    client = log_in(tenant_b.agent)
    # The code of A's phone does not open B's session.
    assert client.post(VERIFY, {"code": next_code(device_a)}).status_code == 400


def test_a_code_typed_too_soon_after_a_wrong_one_says_to_wait(tenant_a, settings):
    # django-otp's own delay (here 60 s after one failure, 1 s by default) refuses even a
    # right code: the agent is told to wait rather than that the right code is wrong.
    client = log_in(tenant_a.agent)
    device = enrol(client, tenant_a.agent)
    client = log_in(tenant_a.agent)
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    assert client.post(VERIFY, {"code": "000000"}).status_code == 400
    page = client.post(VERIFY, {"code": next_code(device)})
    assert page.status_code == 400
    assert "attendez 60 secondes avant de réessayer" in page.text
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    assert client.post(VERIFY, {"code": next_code(device)}).status_code == 302
