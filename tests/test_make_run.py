"""What `make run` promises, end to end on a fresh data directory: the embedded PostgreSQL is
created and started, migrations and demo data are loaded, the web server and the worker answer,
a printed login opens the admin, and Ctrl-C leaves no server behind."""

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
import pytest

from grc import embedded_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Output:
    """The lines a child process prints, collected by a thread."""

    def __init__(self, stream):
        self.lines: list[str] = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float, count: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(1 for line in self.lines if re.search(pattern, line)) >= count:
                return
            time.sleep(0.2)
        pytest.fail(f"{pattern!r} not printed in {timeout}s:\n" + "\n".join(self.lines[-40:]))


def postgres_processes(pgdata: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.info["name"] == "postgres" and str(pgdata) in " ".join(proc.info["cmdline"] or []):
            found.append(proc)
    return found


def get(url: str, opener=None):
    try:
        with (opener or urllib.request.build_opener()).open(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_make_run_serves_health_and_admin_then_stops_everything(tmp_path):
    var = tmp_path / "var"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "GRC_ENV"}}
    env.update(GRC_VAR_DIR=str(var), PYTHONUNBUFFERED="1")
    server = subprocess.Popen(
        # As `make run` starts it: with runserver's autoreloader, whose server process is a
        # grandchild that must stop too. And as `make run &` does in a script: SIGINT ignored
        # (inherited by every child), so stopping falls to SIGTERM.
        [sys.executable, "-m", "grc", "devserver", "--port", str(port)],
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = Output(server.stdout)
    base = f"http://127.0.0.1:{port}"
    try:
        output.wait_for(r"GRC est prêt", timeout=240)
        output.wait_for(r"marie\.dubois@exemple\.test", timeout=30, count=2)
        pgdata = (var / "pgdata").resolve()
        assert postgres_processes(pgdata), "the embedded PostgreSQL runs under var/pgdata"

        status, body = get(f"{base}/healthz")
        assert status == 200, body
        health = json.loads(body)
        assert health["database"]["ok"] and health["worker"]["ok"]

        # A printed login opens the admin.
        password = re.search(r"mot de passe : (\S+)\)", "\n".join(output.lines)).group(1)
        printed = [
            m.group(1)
            for line in output.lines
            if (m := re.match(r"^\s+(\S+@\S+)\s+administrateur de la plateforme", line))
        ]
        assert printed == ["admin@grc.test", "admin@grc.test"]  # after the data, and at the end
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        status, page = get(f"{base}/admin/login/", opener)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": csrf,
                "username": printed[0],
                "password": password,
                "next": "/admin/",
            }
        ).encode()
        request = urllib.request.Request(
            f"{base}/admin/login/?next=/admin/",
            data=form,
            headers={"Referer": f"{base}/admin/login/"},
        )
        with opener.open(request, timeout=10) as response:
            assert response.url.endswith("/admin/"), response.url
            assert "Configuration de la plateforme" in response.read().decode()

        # The database going away turns /healthz to 503.
        embedded_db.stop(pgdata, "embedded_postgres" if os.geteuid() == 0 else None)
        status, body = get(f"{base}/healthz")
        assert status == 503, body
        assert json.loads(body)["database"]["ok"] is False
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)  # Ctrl-C takes the same path (KeyboardInterrupt)
        server.wait(timeout=60)
    assert not postgres_processes((var / "pgdata").resolve())
    assert not started_with(var), "every process of `make run` has stopped"


def started_with(var: Path) -> list[psutil.Process]:
    """Live processes whose environment names this GRC_VAR_DIR, wherever they are in the
    process tree (an orphan is adopted by init and is no child of ours any more)."""
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if (
                proc.environ().get("GRC_VAR_DIR") == str(var)
                and proc.status() != psutil.STATUS_ZOMBIE
            ):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def test_ctrl_c_stops_the_embedded_database(tmp_path):
    """The owner stops the server it started, on Ctrl-C as on SIGTERM."""
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "GRC_ENV"}}
    env.update(GRC_VAR_DIR=str(var))
    for sig in (signal.SIGINT, signal.SIGTERM):
        shell = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import django, os, time; os.environ['DJANGO_SETTINGS_MODULE']='grc.settings';"
                " django.setup(); print('up', flush=True); time.sleep(120)",
            ],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert shell.stdout.readline().strip() == "up"
        pgdata = (var / "pgdata").resolve()
        assert postgres_processes(pgdata)
        shell.send_signal(sig)
        shell.wait(timeout=60)
        assert not postgres_processes(pgdata), sig
