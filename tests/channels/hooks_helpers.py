"""Posting signed messages to a channel's webhook, as a connector does."""

from __future__ import annotations

import json

from grc.channels.hooks import signing
from grc.channels.models import HookChannel

SECRET = "un-secret-de-connecteur-assez-long"


def url(hook: HookChannel) -> str:
    return f"/api/canaux/webhooks/{hook.collectivite.slug}/{hook.slug}/messages"


def post(client, hook, payload=None, *, body: bytes | None = None, secret=SECRET, at=None, **kw):
    """POST `payload` (or the raw `body`) signed with `secret` at time `at` (now by default);
    `headers` override the signed ones."""
    if body is None:
        body = json.dumps(payload).encode()
    headers = signing.signed_headers(secret, body, now=at)
    headers.update(kw.pop("headers", {}))
    return client.post(url(hook), data=body, content_type="application/json", headers=headers)


def message(**extra):
    return {
        "id": "m-1",
        "thread": "t-1",
        "from": {"name": "Jeanne Martin", "email": "Jeanne.Martin@exemple.fr", "handle": "@jm"},
        "text": "Bonjour, le lampadaire de ma rue ne marche plus.",
        **extra,
    }
