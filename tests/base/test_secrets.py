"""Credentials are encrypted at rest: the database holds a Fernet token, reads give the clear
text, and a changed key fails loudly rather than giving garbage."""

import pytest
from django.db import connection

from grc.base import secrets
from grc.channels.models import HookChannel

pytestmark = pytest.mark.django_db


def test_the_database_holds_only_the_token(tenant_a, settings):
    hook = HookChannel.objects.create(
        collectivite=tenant_a.collectivite, name="Chat", slug="chat", secret="mot-de-passe-clair"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM channels_hookchannel WHERE id = %s", [hook.pk])
        (stored,) = cursor.fetchone()
    assert "mot-de-passe-clair" not in stored and stored.startswith("gAAAA")
    assert HookChannel.objects.get(pk=hook.pk).secret == "mot-de-passe-clair"

    settings.GRC_CREDENTIALS_KEY = "une autre clé"
    with pytest.raises(ValueError, match="GRC_CREDENTIALS_KEY"):
        HookChannel.objects.get(pk=hook.pk)


def test_each_encryption_differs_and_round_trips():
    first, second = secrets.encrypt("même texte"), secrets.encrypt("même texte")
    assert first != second  # Fernet's random IV: equal secrets do not show as equal
    assert secrets.decrypt(first) == secrets.decrypt(second) == "même texte"
