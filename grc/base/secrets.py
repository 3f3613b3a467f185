"""Encryption at rest of the credentials the platform keeps (EncryptedTextField).

The key is GRC_CREDENTIALS_KEY when set (any string; give it in production and keep it apart
from the database backups), else derived from SECRET_KEY. Fernet authenticates what it
decrypts: a token written under another key fails loudly instead of giving garbage."""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


@cache
def _fernet(secret: str) -> Fernet:
    digest = hashlib.sha256(b"grc-credentials:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _key() -> Fernet:
    return _fernet(getattr(settings, "GRC_CREDENTIALS_KEY", "") or settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return _key().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _key().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise ValueError(
            "a stored credential cannot be decrypted: GRC_CREDENTIALS_KEY (or SECRET_KEY) "
            "changed since it was saved; enter it again in the admin"
        ) from error
