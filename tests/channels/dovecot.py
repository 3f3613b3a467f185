"""A real IMAP server for the mail tests and the bench: Debian's Dovecot with a throwaway
configuration in a temporary folder (plain IMAP with STARTTLS on one port, IMAPS on another,
a self-signed certificate made here), any user name with one password (static passdb),
maildirs under the folder.

Runs as the current user; as root (containers), Dovecot refuses root for its login and mail
processes, so the Debian `dovecot` system user runs them and owns the folder. Each pytest-xdist
worker starts its own server (session fixture, free ports)."""

from __future__ import annotations

import datetime
import grp
import imaplib
import ipaddress
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = "/usr/sbin/dovecot"
PASSWORD = "imap-secret"


def quote(folder: str) -> str:
    from grc.channels.mail.imap import quote as imap_quote  # folder names in modified UTF-7

    return imap_quote(folder)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (it is its own CA)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "GRC test IMAP")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
first_valid_uid = {uid}
last_valid_uid = 0
first_valid_gid = 0
mail_uid = {uid}
mail_gid = {gid}
disable_plaintext_auth = no
auth_mechanisms = plain login
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
mail_location = maildir:{root}/mail/%u
mail_max_userip_connections = 200
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
    ssl = yes
  }}
  process_min_avail = 0
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    """A running Dovecot: its ports, certificate, and helpers that act as a mail client."""

    root: Path
    port: int
    ssl_port: int
    cert: Path
    process: subprocess.Popen | None = None

    host = "127.0.0.1"
    password = PASSWORD

    # --- as a mail client ----------------------------------------------------------------

    def client(self, user: str) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=30)
        imap.login(user, self.password)
        return imap

    def append(self, user: str, raw: bytes, *, folder: str = "INBOX", flags: str = "") -> None:
        """Deliver a raw message to a user's folder (created when missing), unseen unless
        `flags` say otherwise."""
        self.append_many(user, [raw], folder=folder, flags=flags)

    def append_many(
        self, user: str, messages: list[bytes], *, folder: str = "INBOX", flags: str = ""
    ) -> None:
        """Any user name logs in with the one password (static passdb); its maildir is made
        on first use."""
        imap = self.client(user)
        try:
            imap.create(quote(folder))  # "already exists" is a NO, ignored
            for raw in messages:
                typ, data = imap.append(quote(folder), f"({flags})" if flags else None, None, raw)
                if typ != "OK":
                    raise RuntimeError(f"APPEND refused: {data!r}")
        finally:
            imap.logout()

    def flags(self, user: str, folder: str = "INBOX") -> dict[int, set[str]]:
        """{uid: flags} of every message in the folder (without \\Recent)."""
        imap = self.client(user)
        try:
            typ, _ = imap.select(quote(folder), readonly=True)
            if typ != "OK":
                return {}
            typ, data = imap.uid("FETCH", "1:*", "(FLAGS)")
            result: dict[int, set[str]] = {}
            for item in data:
                if not item:
                    continue
                text = item.decode() if isinstance(item, bytes) else item[0].decode()
                match = re.search(r"UID (\d+)", text)
                flags = re.search(r"FLAGS \(([^)]*)\)", text)
                if match:
                    found = set(flags.group(1).split()) if flags else set()
                    result[int(match.group(1))] = found - {"\\Recent"}  # session-dependent
            return result
        finally:
            imap.logout()

    def unseen(self, user: str, folder: str = "INBOX") -> list[int]:
        return sorted(
            uid for uid, flags in self.flags(user, folder).items() if "\\Seen" not in flags
        )

    # --- lifecycle -------------------------------------------------------------------------

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None


def _run_as() -> tuple[str, str, int, int]:
    """User and group for Dovecot's processes: the current ones, or `dovecot` for root."""
    uid = os.getuid()
    if uid != 0:
        return pwd.getpwuid(uid).pw_name, grp.getgrgid(os.getgid()).gr_name, uid, os.getgid()
    account = pwd.getpwnam("dovecot")
    return account.pw_name, grp.getgrgid(account.pw_gid).gr_name, account.pw_uid, account.pw_gid


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    for folder, _dirs, files in os.walk(root):
        os.chown(folder, uid, gid)
        for name in files:
            os.chown(os.path.join(folder, name), uid, gid)


def start_dovecot(root: Path) -> Dovecot:
    """Start Dovecot in `root` (an empty folder); wait until both ports answer."""
    user, group, uid, gid = _run_as()
    for name in ("run", "state", "mail", "home"):
        (root / name).mkdir(parents=True, exist_ok=True)
    cert, _key = make_certificate(root)
    server = Dovecot(root=root, port=free_port(), ssl_port=free_port(), cert=cert)
    config = root / "dovecot.conf"
    config.write_text(
        CONFIG.format(
            root=root,
            user=user,
            group=group,
            uid=uid,
            gid=gid,
            port=server.port,
            ssl_port=server.ssl_port,
            password=PASSWORD,
        )
    )
    if os.getuid() == 0:
        root.chmod(0o755)
        _chown_tree(root / "mail", uid, gid)
        _chown_tree(root / "home", uid, gid)
    server.process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            raise RuntimeError(f"Dovecot stopped: {server.process.stderr.read()!r}\n{log}")
        try:
            with socket.create_connection((server.host, server.port), timeout=1) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    with socket.create_connection((server.host, server.ssl_port), timeout=1):
                        return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError("Dovecot did not answer in 20 s")


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """One Dovecot per test process (each xdist worker its own), stopped at the end."""
    if not os.path.exists(DOVECOT):
        pytest.fail(
            "Dovecot is needed for the mail gateway's tests: install Debian's 'dovecot-imapd' "
            "package (make test does it when run as root)."
        )
    root = Path(tempfile.mkdtemp(prefix="grc-dovecot-"))
    server = start_dovecot(root)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
