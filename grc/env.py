"""Reading the environment: the only place settings come from (django-environ underneath)."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

_TRUE = {"1", "true", "yes", "on"}


def database_settings(url: str) -> dict:
    config = env.db_url_config(url)
    # A Unix socket directory is written percent-encoded in the URL's host part.
    config["HOST"] = unquote(config.get("HOST") or "")
    config["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
    config["CONN_HEALTH_CHECKS"] = True
    return config


def email_settings(url: str) -> dict:
    """Django's EMAIL_* settings from one URL.

    smtp://user:pass@host:port         plain SMTP (add ?starttls=1 or ?ssl=1)
    smtp+tls://… (STARTTLS), smtps://… or smtp+ssl://… (TLS from the first byte)
    console://, file:///path, memory://, dummy://
    Query options: starttls, ssl, timeout (seconds).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    backends = {
        "console": "django.core.mail.backends.console.EmailBackend",
        "consolemail": "django.core.mail.backends.console.EmailBackend",
        "file": "django.core.mail.backends.filebased.EmailBackend",
        "filemail": "django.core.mail.backends.filebased.EmailBackend",
        "memory": "django.core.mail.backends.locmem.EmailBackend",
        "memorymail": "django.core.mail.backends.locmem.EmailBackend",
        "dummy": "django.core.mail.backends.dummy.EmailBackend",
        "dummymail": "django.core.mail.backends.dummy.EmailBackend",
    }
    if scheme in backends:
        result = {"EMAIL_BACKEND": backends[scheme]}
        if backends[scheme].endswith("filebased.EmailBackend"):
            result["EMAIL_FILE_PATH"] = unquote(parts.path) or "var/mail"
        return result
    if scheme not in {"smtp", "smtp+tls", "smtps", "smtp+ssl"}:
        raise ImproperlyConfigured(f"EMAIL_URL: unknown scheme {scheme!r}")
    use_ssl = scheme in {"smtps", "smtp+ssl"} or options.get("ssl", "").lower() in _TRUE
    use_tls = scheme == "smtp+tls" or options.get("starttls", "").lower() in _TRUE
    if use_ssl and use_tls:
        raise ImproperlyConfigured("EMAIL_URL: choose STARTTLS or SSL, not both")
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or (465 if use_ssl else 587 if use_tls else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
        "EMAIL_TIMEOUT": int(options.get("timeout", 30)),
    }


def development_secret_key(var_dir: Path) -> str:
    """A key generated once per checkout and kept under var/, so sessions survive restarts."""
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        draft = var_dir / f".secret_key.{os.getpid()}"
        # A draft with our pid is a leftover of a crashed process (containers reuse pids).
        with contextlib.suppress(FileNotFoundError):
            draft.unlink()
        # Private from its first byte: created 0o600, never readable by others even briefly.
        fd = os.open(draft, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(50))
            # link() fails if another process got there first: every process then reads one key.
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            draft.unlink()
    return path.read_text().strip()
