from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemarchesConfig(AppConfig):
    name = "grc.demarches"
    verbose_name = _("Démarches")

    def ready(self) -> None:
        from grc.base.signals import usager_changed

        usager_changed.connect(_refresh_citizen_dossiers, dispatch_uid="demarches.search")


def _refresh_citizen_dossiers(sender, *, usager, **kwargs) -> None:
    """A citizen's name, e-mail or phone changed: their dossiers are found by the new ones."""
    from grc.demarches.models import Dossier
    from grc.demarches.search import refresh_search

    refresh_search(Dossier.objects.filter(usager=usager).values_list("pk", flat=True))
