from tests.oidc_provider.fixture import franceconnect, oidc_provider  # noqa: F401
