"""Settings come from the environment; production mode passes Django's deployment checks."""

import os
import secrets
import subprocess
import sys

import pytest

PRODUCTION = {
    "GRC_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    # Not reached by `check`: a production setting must simply be present.
    "DATABASE_URL": "postgres://grc:secret@db.example.fr:5432/grc",
    "ALLOWED_HOSTS": "grc.example.fr,.demarches.example.fr",
    "GRC_BASE_URL": "https://grc.example.fr",
    "EMAIL_URL": "smtp+tls://grc:secret@smtp.example.fr:587",
}


def grc(*args, env):
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    return subprocess.run(
        [sys.executable, "-m", "grc", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_nothing_in_production():
    result = grc("check", "--deploy", "--fail-level", "DEBUG", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "DATABASE_URL", "EMAIL_URL", "ALLOWED_HOSTS", "GRC_BASE_URL"]
)
def test_production_refuses_to_start_without_required_settings(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = grc("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_refuses_debug():
    result = grc("check", env={**PRODUCTION, "DEBUG": "true"})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "DEBUG=True" in result.stderr
    assert grc("check", env={**PRODUCTION, "DEBUG": "false"}).returncode == 0


def test_email_url_forms():
    from grc.env import email_settings

    starttls = email_settings("smtp+tls://u%40x:p%2Fw@smtp.example.fr")
    assert starttls["EMAIL_USE_TLS"] and not starttls["EMAIL_USE_SSL"]
    assert (starttls["EMAIL_PORT"], starttls["EMAIL_HOST_USER"]) == (587, "u@x")
    assert starttls["EMAIL_HOST_PASSWORD"] == "p/w"
    ssl = email_settings("smtps://smtp.example.fr")
    assert ssl["EMAIL_USE_SSL"] and ssl["EMAIL_PORT"] == 465
    plain = email_settings("smtp://127.0.0.1:1025?timeout=5")
    assert not plain["EMAIL_USE_TLS"] and plain["EMAIL_TIMEOUT"] == 5
    assert email_settings("smtp://h?starttls=1")["EMAIL_USE_TLS"]
    assert email_settings("console://")["EMAIL_BACKEND"].endswith("console.EmailBackend")
