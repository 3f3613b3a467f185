import contextlib

import pytest

from grc.base.models import Role
from tests.factories import CollectiviteFactory, MembershipFactory, ServiceFactory, UserFactory


def pytest_configure(config):
    import os

    from django.conf import settings

    # Hashing demo and test passwords with the production hasher would dominate the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # One test database per run (xdist workers inherit the variable and add their suffix), so
    # that two runs on one server never drop each other's database.
    run = os.environ.setdefault("GRC_TEST_RUN", str(os.getpid()))
    settings.DATABASES["default"]["TEST"]["NAME"] = f"test_grc_{run}"


class Tenant:
    """A collectivité with a service, its admin, a manager and an agent."""

    def __init__(self, name: str):
        self.collectivite = CollectiviteFactory(name=name)
        self.service = ServiceFactory(collectivite=self.collectivite)
        self.admin = MembershipFactory(collectivite=self.collectivite, role=Role.ADMIN).user
        self.manager = MembershipFactory(
            collectivite=self.collectivite, role=Role.MANAGER, service=self.service
        ).user
        self.agent = MembershipFactory(
            collectivite=self.collectivite, role=Role.AGENT, service=self.service
        ).user


@pytest.fixture
def tenant_a(db):
    return Tenant("Commune A")


@pytest.fixture
def tenant_b(db):
    return Tenant("Commune B")


STAFF_HOST = "127.0.0.1"  # the workspace answers on any host: the tests use this one


def _staff_client(client, user):
    client.force_login(user)
    client.defaults["HTTP_HOST"] = STAFF_HOST
    return client


@pytest.fixture
def agent_client(client, tenant_a):
    """Tenant A's agent, logged in."""
    return _staff_client(client, tenant_a.agent)


@pytest.fixture
def admin_client(client, tenant_a):
    """Tenant A's collectivité administrator, logged in."""
    return _staff_client(client, tenant_a.admin)


@pytest.fixture
def platform_admin(db):
    return UserFactory(is_platform_admin=True, email="agence@grc.test")


@pytest.fixture(autouse=True)
def french_by_default():
    """A request in English (LocaleMiddleware) leaves English active in the thread: every test
    starts from the site's language."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


class CapturedMail:
    """An SMTP server (aiosmtpd) that keeps what it receives, and can be told to refuse."""

    def __init__(self):
        self.messages: list = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 4.3.0 Try again later"
        import email
        from email import policy

        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@contextlib.contextmanager
def running_smtp(settings, handler):
    """A real SMTP server (aiosmtpd) with this handler on a free local port, Django's SMTP
    backend pointed at it, for the time of the block."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on a free local port; Django's SMTP backend points at it."""
    with running_smtp(settings, CapturedMail()) as handler:
        yield handler


@pytest.fixture
def media(settings, tmp_path):
    """Uploaded and generated files go to a throwaway folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The live server's request threads may keep a connection to the test database after the
    last browser test (pytest-django#429): close them so that the database can be dropped."""
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def run_jobs():
    """Run the background jobs queued so far, as `grc procrastinate worker` would (its own
    psycopg connector), then return. Tests that use it need a transactional database: the
    jobs are deferred after commit."""
    from procrastinate.contrib.django import app

    def work(queues, failures):
        try:
            with app.replace_connector(app.connector.get_worker_connector()) as worker_app:
                worker_app.run_worker(
                    queues=queues, wait=False, install_signal_handlers=False, listen_notify=False
                )
        except BaseException as error:  # reported in the test's thread
            failures.append(error)
        finally:
            from django.db import connection

            connection.close()

    def run(queues: list[str] | None = None) -> None:
        # In a thread of its own: the worker runs its own event loop (asyncio.run), which
        # cannot start inside one already running here (Playwright's sync API).
        import threading

        failures: list[BaseException] = []
        thread = threading.Thread(target=work, args=(queues, failures))
        thread.start()
        thread.join()
        if failures:
            raise failures[0]

    return run
