from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _


def save_validated(instance: models.Model, *, exclude: list[str] | None = None) -> None:
    """full_clean() then save(); a uniqueness lost to a concurrent writer (the database
    constraint fires after our check passed) becomes a ValidationError, not a 500."""
    instance.full_clean(exclude=exclude)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        diag = getattr(error.__cause__, "diag", None)
        raise ValidationError(
            _("Enregistrement refusé : une autre saisie vient de prendre cette valeur (%(rule)s)."),
            code="conflict",
            params={"rule": (diag and diag.constraint_name) or "unicité"},
        ) from error
