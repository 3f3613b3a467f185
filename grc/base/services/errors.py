from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _


def deny(message: str | None = None) -> PermissionDenied:
    return PermissionDenied(message or _("Vous n'avez pas le droit de faire cela."))
