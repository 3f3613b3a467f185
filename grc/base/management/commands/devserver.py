"""`make run`: migrate, load the demo data, then the web server and the worker together."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from grc.base.demo import load_demo
from grc.base.management.commands.demo import refuse_in_production, write_logins


class Command(BaseCommand):
    help = (
        "Prépare la base (migrations, données de démonstration) puis lance le serveur web et le "
        "worker ; Ctrl-C arrête tout, base embarquée comprise."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--no-reload",
            action="store_true",
            help="Pas de rechargement automatique du code (tests, démonstration).",
        )

    def handle(self, *args, port: int, host: str, no_reload: bool, **options):
        refuse_in_production()
        call_command("migrate", interactive=False, verbosity=1)
        logins = load_demo()
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes."))
        write_logins(self.stdout, logins)
        # The children inherit DATABASE_URL from this process (grc.embedded_db exports it), so
        # they use the database this process owns and stops.
        grc = [sys.executable, "-m", "grc"]
        web = [*grc, "runserver", f"{host}:{port}"]
        if no_reload:
            web.append("--noreload")
        # Each child leads a process group of its own, stopped as a whole: runserver's
        # autoreloader runs the server in a grandchild, and a shell that started us in the
        # background made SIGINT ignored for everything it starts.
        children = [
            subprocess.Popen([*grc, "procrastinate", "worker"], start_new_session=True),  # noqa: S603
            subprocess.Popen(web, start_new_session=True),  # noqa: S603
        ]
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        try:
            self._wait_until_up(f"http://{host}:{port}/healthz", children)
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nGRC est prêt sur http://{host}:{port}/ (administration : /admin/). "
                    "Ctrl-C pour tout arrêter."
                )
            )
            write_logins(self.stdout, logins)  # again, last on screen
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            raise CommandError("Le serveur web ou le worker s'est arrêté.")
        except KeyboardInterrupt:
            self.stdout.write("\nArrêt…")
        finally:
            for child in children:
                _signal_group(child, signal.SIGTERM)
            for child in children:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(timeout=15)
                _signal_group(child, signal.SIGKILL)  # whatever of the group is left

    def _wait_until_up(self, url: str, children: list[subprocess.Popen]) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(child.poll() is not None for child in children):
                raise CommandError("Le serveur web ou le worker n'a pas démarré.")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                    if json.load(response)["worker"]["ok"]:
                        return
            except (urllib.error.URLError, ConnectionError, ValueError, KeyError):
                pass
            time.sleep(0.5)
        raise CommandError(f"{url} ne répond pas après 60 secondes.")


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(child.pid, signum)
