"""The channels' lists run a fixed number of queries whatever the number of rows shown."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grc.channels.mail.ingest import ingest
from grc.channels.models import Call, Letter
from tests.channels.mails import make_mail
from tests.channels.test_mail_backoffice import mailbox_of

pytestmark = pytest.mark.django_db


def _count(client, url) -> int:
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def _calls(tenant, n):
    for i in range(n):
        Call.objects.create(
            collectivite=tenant.collectivite,
            direction=Call.Direction.IN,
            number=f"+336123456{i:02d}",
            started_at=timezone.now() - datetime.timedelta(minutes=i),
            agent=tenant.admin,
            notes=f"Appel {i}",
        )


def _letters(tenant, n):
    for i in range(n):
        Letter.objects.create(
            collectivite=tenant.collectivite,
            direction=Letter.Direction.IN,
            sender=f"Expéditeur {i}",
            received_on=timezone.localdate(),
        )


def test_the_call_list(admin_client, tenant_a):
    _calls(tenant_a, 2)
    few = _count(admin_client, "/backoffice/appels/")
    _calls(tenant_a, 15)
    assert _count(admin_client, "/backoffice/appels/") == few


def test_the_letter_list(admin_client, tenant_a):
    _letters(tenant_a, 2)
    few = _count(admin_client, "/backoffice/courrier/")
    _letters(tenant_a, 15)
    assert _count(admin_client, "/backoffice/courrier/") == few


def test_the_mail_list(admin_client, tenant_a, media):
    box = mailbox_of(tenant_a)
    for i in range(2):
        ingest(box, make_mail(subject=f"Demande {i}", sender=f"p{i}@exemple.fr"))
    few = _count(admin_client, "/backoffice/courriels/?filtre=tous")
    for i in range(2, 12):
        ingest(box, make_mail(subject=f"Demande {i}", sender=f"p{i}@exemple.fr"))
    assert _count(admin_client, "/backoffice/courriels/?filtre=tous") == few
