from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from grc.base.demo import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "Charge les données de démonstration (idempotent) et affiche les identifiants."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Les données de démonstration sont refusées en production.")
        logins = load_demo()
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes."))
        self.stdout.write(f"Comptes de démonstration (mot de passe : {DEMO_PASSWORD}) :")
        for login in logins:
            self.stdout.write(f"  {login.email:<32} {login.role}")
