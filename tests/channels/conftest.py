import pytest

from tests.channels.dovecot import dovecot  # noqa: F401 - fixture


@pytest.fixture
def make_mailbox(dovecot):  # noqa: F811
    """A Mailbox of a collectivité polling a fresh Dovecot account (plain IMAP by default)."""
    import uuid

    from grc.channels.models import Mailbox

    def make(collectivite, *, user: str | None = None, **fields) -> Mailbox:
        user = user or f"box{uuid.uuid4().hex[:12]}"
        values = {
            "name": f"Boîte {user}",
            "email": f"{user}@mairie.test",
            "host": dovecot.host,
            "port": dovecot.port,
            "security": Mailbox.Security.PLAIN,
            "username": user,
            "password": dovecot.password,
        }
        values.update(fields)
        return Mailbox.objects.create(collectivite=collectivite, **values)

    return make
