"""Real-world-shaped e-mails (tests/channels/corpus/NN-name.eml) and what each must give
(expected.json): the parser's tests and the routing tests read them through `load`.

In the files, `{REF}` stands for a dossier reference and `{OUR_ID}` for the Message-ID of one
of our e-mails without its angle brackets (the files write `<{OUR_ID}>`): `load` puts real
ones in, so that routing tests can thread a reply onto the dossier they created."""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent
REF = "SAL-2026-000042"
OUR_ID = "grc.20261103091200.4f2a9c@saint-aubin.test"


def names() -> list[str]:
    return sorted(path.name for path in HERE.glob("*.eml"))


@cache
def _expected() -> dict:
    return json.loads((HERE / "expected.json").read_text(encoding="utf-8"))


def expected(name: str, *, ref: str = REF, our_id: str = OUR_ID) -> dict:
    """The facts of one message, with the placeholders replaced as `load` does."""
    return _substitute(_expected()[name], ref=ref, our_id=our_id)


def load(name: str, *, ref: str = REF, our_id: str = OUR_ID) -> bytes:
    raw = (HERE / name).read_bytes()
    return raw.replace(b"{REF}", ref.encode("ascii")).replace(b"{OUR_ID}", our_id.encode("ascii"))


def _substitute(value, *, ref: str, our_id: str):
    if isinstance(value, str):
        return value.replace("{REF}", ref).replace("{OUR_ID}", our_id)
    if isinstance(value, list):
        return [_substitute(item, ref=ref, our_id=our_id) for item in value]
    if isinstance(value, dict):
        return {key: _substitute(item, ref=ref, our_id=our_id) for key, item in value.items()}
    return value


def big_message(size: int = 20 * 1024 * 1024) -> bytes:
    """A Thunderbird-like message with a PDF-ish attachment of about `size` bytes (built here
    rather than committed). Its content is not compressible junk repeated, so that nothing
    downstream can shortcut it."""
    chunks = [b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"]
    length = len(chunks[0])
    counter = 0
    while length < size:
        block = hashlib.sha256(counter.to_bytes(8, "big")).digest() * 128  # 4 KiB
        stream = b"%d 0 obj << /Length 4096 >> stream\n" % counter + block + b"\nendstream endobj\n"
        chunks.append(stream)
        length += len(stream)
        counter += 1
    pdf = b"".join(chunks)[:size] + b"\n%%EOF\n"
    encoded = base64.encodebytes(pdf).replace(b"\n", b"\r\n")
    head = (
        b"Return-Path: <thomas.bernard@free.fr>\r\n"
        b"Delivered-To: urbanisme@saint-aubin.test\r\n"
        b"Message-ID: <big-5e1f0c2d-8a7b-4c3d-9e2f-1a0b9c8d7e6f@free.fr>\r\n"
        b"Date: Sat, 8 Nov 2026 10:00:00 +0100\r\n"
        b"MIME-Version: 1.0\r\n"
        b"User-Agent: Mozilla Thunderbird\r\n"
        b"From: Thomas Bernard <thomas.bernard@free.fr>\r\n"
        b"To: urbanisme@saint-aubin.test\r\n"
        b"Subject: =?UTF-8?Q?Plans_du_permis_de_construire_=28dossier_complet=29?=\r\n"
        b'Content-Type: multipart/mixed; boundary="------------Big0123456789abcdef"\r\n'
        b"\r\n"
        b"This is a multi-part message in MIME format.\r\n"
        b"--------------Big0123456789abcdef\r\n"
        b"Content-Type: text/plain; charset=UTF-8; format=flowed\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n"
        b"\r\n"
        b"Bonjour,\r\n\r\nVoici les plans complets du permis de construire.\r\n"
        b"\r\nThomas Bernard\r\n"
        b"\r\n"
        b"--------------Big0123456789abcdef\r\n"
        b'Content-Type: application/pdf; name="plans-permis-construire.pdf"\r\n'
        b'Content-Disposition: attachment; filename="plans-permis-construire.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n"
        b"\r\n"
    )
    return head + encoded + b"\r\n--------------Big0123456789abcdef--\r\n"
