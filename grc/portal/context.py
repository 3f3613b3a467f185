from django.conf import settings


def features(request) -> dict:
    """Switches the portal's templates read on every page."""
    return {"franceconnect_enabled": getattr(settings, "FRANCECONNECT_ENABLED", False)}
