from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from grc.base.demo import DEMO_PASSWORD, Login, load_demo


def refuse_in_production() -> None:
    if settings.PRODUCTION:
        raise CommandError("Les données de démonstration sont refusées en production.")


def write_logins(stdout: OutputWrapper, logins: Iterable[Login]) -> None:
    """The demo accounts, as `demo` and `devserver` print them (tests/test_make_run.py reads
    these lines)."""
    stdout.write(f"Comptes de démonstration (mot de passe : {DEMO_PASSWORD}) :")
    for login in logins:
        stdout.write(f"  {login.email:<32} {login.role}")


class Command(BaseCommand):
    help = "Charge les données de démonstration (idempotent) et affiche les identifiants."

    def handle(self, *args, **options):
        refuse_in_production()
        logins = load_demo()
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes."))
        write_logins(self.stdout, logins)
