"""`grc fetchmail [--mailbox ID]`: fetch the unseen messages now (the worker does it every
minute) and print what became of them."""

from django.core.management.base import BaseCommand, CommandError

from grc.channels.mail.imap import fetch_all
from grc.channels.models import Mailbox


class Command(BaseCommand):
    help = "Relève les boîtes aux lettres électroniques actives (ou celle indiquée)."

    def add_arguments(self, parser):
        parser.add_argument("--mailbox", type=int, help="identifiant de la boîte à relever")

    def handle(self, *args, mailbox=None, **options):
        if mailbox is not None and not Mailbox.objects.filter(pk=mailbox).exists():
            raise CommandError(f"Aucune boîte n'a l'identifiant {mailbox}.")
        reports = fetch_all(mailbox_id=mailbox)
        if not reports:
            self.stdout.write("Aucune boîte active.")
        failed = False
        for report in reports:
            box = Mailbox.objects.get(pk=report.mailbox_id)
            line = f"{box.email} : {report.total} message(s) – {report}"
            if report.error:
                failed = True
                self.stderr.write(line)
            else:
                self.stdout.write(line)
        if failed and mailbox is not None:
            raise CommandError("La boîte n'a pas pu être relevée.")
