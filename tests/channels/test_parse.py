"""The e-mail parser against the corpus of real-world-shaped messages (tests/channels/corpus/)
and a few messages made here for one fact each. Plain function tests: no database."""

from __future__ import annotations

import datetime
import random
import time

import pytest

from grc.channels.mail.parse import normalize_message_id, parse, split_reply
from grc.channels.mail.parsed import ParseError
from tests.channels import corpus

NAMES = corpus.names()
PARSABLE = [name for name in NAMES if not corpus.expected(name).get("parse_error")]


def test_the_corpus_is_complete():
    assert len(NAMES) >= 34
    described = {name for name in corpus._expected() if not name.startswith("_")}
    assert described == set(NAMES)
    outcomes = {corpus.expected(name)["outcome"] for name in NAMES}
    assert outcomes == {"threaded", "opened", "auto_reply", "own", "bounce", "quarantined"}
    ways = {corpus.expected(name).get("by") for name in NAMES} - {None}
    assert ways == {"reference", "in_reply_to", "references"}
    assert sum(1 for name in NAMES if corpus.expected(name).get("parse_error")) <= 2


@pytest.mark.parametrize("name", NAMES)
def test_the_parser_never_fails_but_on_unreadable_bytes(name):
    raw = corpus.load(name)
    if corpus.expected(name).get("parse_error"):
        with pytest.raises(ParseError):
            parse(raw)
    else:
        assert parse(raw).email_id


@pytest.mark.parametrize("name", PARSABLE)
def test_parse_facts(name):
    facts = corpus.expected(name)
    parsed = parse(corpus.load(name))

    assert parsed.email_id_made is facts["email_id_made"]
    assert parsed.email_id.startswith("<") and parsed.email_id.endswith(">")
    if "email_id" in facts:
        assert parsed.email_id == facts["email_id"]
    assert parsed.from_address == facts["from"]
    if "from_name" in facts:
        assert parsed.from_name == facts["from_name"]
    if "subject" in facts:
        assert parsed.subject == facts["subject"]
    for address in facts.get("to_has", []):
        assert address in parsed.to
    if "sent_at" in facts:
        expected = facts["sent_at"] and datetime.datetime.fromisoformat(facts["sent_at"])
        assert parsed.sent_at == expected
    if parsed.sent_at is not None:
        assert parsed.sent_at.utcoffset() == datetime.timedelta(0)
    if "in_reply_to" in facts:
        assert parsed.in_reply_to == facts["in_reply_to"]
    if "references" in facts:
        assert list(parsed.references) == facts["references"]

    files = [a for a in parsed.attachments if not a.inline]
    inline = [a for a in parsed.attachments if a.inline]
    if "attachments" in facts:
        assert [a.filename for a in files] == facts["attachments"]
    if "attachment_types" in facts:
        assert [a.content_type for a in files] == facts["attachment_types"]
    if "attachment_sizes" in facts:
        assert [len(a.content) for a in files] == facts["attachment_sizes"]
    for filename, needle in facts.get("attachment_contains", {}).items():
        (attachment,) = [a for a in files if a.filename == filename]
        assert needle.encode() in attachment.content
    if "inline" in facts:
        assert len(inline) == facts["inline"]
    if "inline_cids" in facts:
        assert [a.content_id for a in inline] == facts["inline_cids"]
        for attachment in inline:
            assert f"cid:{attachment.content_id}" in parsed.html
    for attachment in parsed.attachments:
        assert attachment.filename and "/" not in attachment.filename
        assert "\\" not in attachment.filename

    if "text" in facts:
        assert parsed.text == facts["text"]
    for needle in facts.get("text_has", []):
        assert needle in parsed.text, (needle, parsed.text)
    for needle in facts.get("text_not", []):
        assert needle not in parsed.text, (needle, parsed.text)
    if "quoted" in facts:
        assert parsed.quoted == facts["quoted"]
    for needle in facts.get("quoted_has", []):
        assert needle in parsed.quoted, (needle, parsed.quoted)
    for needle in facts.get("quoted_not", []):
        assert needle not in parsed.quoted, (needle, parsed.quoted)
    if "html" in facts:
        assert parsed.html == facts["html"]
    for needle in facts.get("html_has", []):
        assert needle in parsed.html, needle
    for needle in facts.get("html_not", []):
        assert needle not in parsed.html, needle
    for needle in facts.get("defects_has", []):
        assert any(needle in defect for defect in parsed.defects), (needle, parsed.defects)
    for value in (parsed.text, parsed.quoted, parsed.html, parsed.subject, parsed.from_name):
        assert "\x00" not in value and "\ufffd" not in value

    outcome = facts["outcome"]
    assert parsed.own is (outcome == "own")
    if outcome == "auto_reply":
        assert parsed.auto_reply
    if outcome in ("opened", "threaded"):
        assert not parsed.auto_reply and parsed.bounce is None and not parsed.own
    if outcome == "bounce":
        bounce = facts["bounce"]
        assert parsed.bounce is not None
        assert list(parsed.bounce.recipients) == bounce["recipients"]
        assert parsed.bounce.status == bounce["status"]
        assert parsed.bounce.permanent is bounce["permanent"]
        assert parsed.bounce.original_email_id == bounce["original_email_id"]
        if "diagnostic_has" in bounce:
            assert bounce["diagnostic_has"] in parsed.bounce.diagnostic
    else:
        assert parsed.bounce is None


def test_placeholders_are_put_in_everywhere():
    ref, our_id = "ABC-2027-000001", "notif.77@grc.example"
    parsed = parse(corpus.load("02-gmail-reply-fr.eml", ref=ref, our_id=our_id))
    assert parsed.in_reply_to == f"<{our_id}>"
    assert f"[{ref}]" in parsed.subject
    assert corpus.expected("02-gmail-reply-fr.eml", our_id=our_id)["in_reply_to"] == f"<{our_id}>"


def test_a_20_mb_message_parses_in_reasonable_time():
    raw = corpus.big_message()
    assert 20 * 1024 * 1024 < len(raw) < 30 * 1024 * 1024
    started = time.monotonic()
    parsed = parse(raw)
    elapsed = time.monotonic() - started
    (attachment,) = parsed.attachments
    assert attachment.filename == "plans-permis-construire.pdf"
    assert attachment.content.startswith(b"%PDF-") and len(attachment.content) > 20 * 10**6
    assert "plans complets du permis de construire" in parsed.text
    assert elapsed < 30, elapsed


def test_the_same_bytes_without_message_id_get_the_same_made_id():
    raw = corpus.load("32-no-message-id-scanner.eml")
    first, second = parse(raw), parse(raw)
    assert first.email_id == second.email_id
    assert first.email_id.endswith("@grc.invalid>") and len(first.email_id) == 64 + 14
    assert parse(raw + b"\r\n").email_id != first.email_id


# --- One fact each ------------------------------------------------------------------------------

HEAD = (
    "From: Marie Dubois <marie.dubois@exemple.test>\r\n"
    "To: mairie@saint-aubin.test\r\n"
    "Message-ID: <m1@exemple.test>\r\n"
    "Date: Mon, 3 Nov 2026 10:00:00 +0100\r\n"
)


def message(headers: str = "", body: str = "Bonjour.", subject: str = "Une question") -> bytes:
    return (f"{HEAD}Subject: {subject}\r\n{headers}\r\n{body}\r\n").encode()


@pytest.mark.parametrize(
    ("header", "subject"),
    [
        ("Auto-Submitted: auto-replied\r\n", "Re: Votre demande"),
        ("Auto-Submitted: auto-generated\r\n", "Re: Votre demande"),
        ("Precedence: bulk\r\n", "Re: Votre demande"),
        ("Precedence: junk\r\n", "Re: Votre demande"),
        ("Precedence: list\r\n", "Re: Votre demande"),
        ("Precedence: auto_reply\r\n", "Re: Votre demande"),
        ("X-Autoreply: yes\r\n", "Re: Votre demande"),
        ("X-Autorespond: Absent\r\n", "Re: Votre demande"),
        ("X-Auto-Response-Suppress: OOF\r\n", "Re: Votre demande"),
        ("X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply\r\n", "Re: Votre demande"),
        ("X-Auto-Response-Suppress: All\r\n", "Re: Votre demande"),
        ("List-Id: <infos.exemple.test>\r\n", "Re: Votre demande"),
        ("List-Unsubscribe: <mailto:stop@exemple.test>\r\n", "Re: Votre demande"),
        ("", "Réponse automatique : Votre demande"),
        ("", "=?utf-8?q?R=C3=A9ponse_automatique_=3A_Votre_demande?="),
        ("", "Absence du bureau"),
        ("", "Out of Office: Your request"),
        ("", "Automatic reply: Your request"),
    ],
)
def test_each_sign_of_an_automatic_reply(header, subject):
    assert parse(message(header, subject=subject)).auto_reply


@pytest.mark.parametrize(
    ("header", "subject"),
    [
        ("Auto-Submitted: no\r\n", "Re: Votre demande"),
        ("Precedence: first-class\r\n", "Re: Votre demande"),
        ("X-Auto-Response-Suppress: DR, RN\r\n", "Re: Votre demande"),
        ("", "Absence de ramassage des poubelles"),
        ("", "Re: ma réponse automatique ne marche pas"),
    ],
)
def test_a_person_is_not_an_automatic_reply(header, subject):
    assert not parse(message(header, subject=subject)).auto_reply


def test_our_own_header():
    assert parse(message("X-GRC-Message: 1\r\n")).own
    assert not parse(message()).own


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<abc@exemple.test>", "<abc@exemple.test>"),
        ("  <abc@exemple.test>  (Marie's message)", "<abc@exemple.test>"),
        ("abc@exemple.test", "<abc@exemple.test>"),
        ("<abc@\r\n exemple.test>", "<abc@exemple.test>"),
        ("", ""),
        ("<>", ""),
    ],
)
def test_message_ids_are_normalised(value, expected):
    assert normalize_message_id(value) == expected


def test_long_or_non_ascii_message_ids_are_hashed_the_same_each_time():
    long_id = "<" + "x" * 600 + "@exemple.test>"
    hashed = normalize_message_id(long_id)
    assert hashed.endswith("@grc.invalid>") and len(hashed) < 100
    assert normalize_message_id(long_id) == hashed
    assert normalize_message_id("<été@exemple.test>").endswith("@grc.invalid>")
    raw = message(f"In-Reply-To: {long_id}\r\nReferences: <a@x> {long_id}\r\n")
    parsed = parse(raw.replace(b"Message-ID: <m1@exemple.test>", f"Message-ID: {long_id}".encode()))
    assert parsed.email_id == parsed.in_reply_to == parsed.references[-1] == hashed
    assert parsed.references[0] == "<a@x>"


@pytest.mark.parametrize(
    "raw",
    [b"", b"   \r\n  ", b"\x00\x01\x02 not a message at all \xff\xfe", b"%PDF-1.4\n%%EOF\n"],
)
def test_unreadable_bytes_raise_parse_error(raw):
    with pytest.raises(ParseError):
        parse(raw)


def test_headers_only_message_is_readable():
    parsed = parse(HEAD.encode() + b"Subject: Rien\r\n")
    assert parsed.subject == "Rien" and parsed.text == "" and parsed.html == ""


def test_a_reply_written_below_the_quote_keeps_the_text_above_and_below():
    text = "Bonjour,\n\n> votre question\n\nma réponse en dessous\n"
    assert split_reply(text) == (text.strip(), "")


def test_a_reply_on_top_of_an_unquoted_outlook_header_block():
    text = (
        "Voici le document.\n\n"
        "De : Mairie <ne-pas-repondre@saint-aubin.test>\n"
        "Envoyé : lundi 3 novembre 2026 10:12\n"
        "À : Marie\nObjet : Votre demande\n\nBonjour Marie,\n"
    )
    new, quoted = split_reply(text)
    assert new == "Voici le document."
    assert quoted.startswith("De : Mairie")


def test_french_date_names_are_read_and_a_missing_date_is_none():
    raw = message().replace(
        b"Date: Mon, 3 Nov 2026 10:00:00 +0100", b"Date: mer., 5 f\xc3\xa9vr. 2025 08:00:00 +0100"
    )
    assert parse(raw).sent_at == datetime.datetime(2025, 2, 5, 7, 0, tzinfo=datetime.UTC)
    parsed = parse(message().replace(b"Date: Mon, 3 Nov 2026 10:00:00 +0100\r\n", b""))
    assert parsed.sent_at is None


def test_a_multipart_report_of_another_kind_is_not_a_bounce():
    raw = message(
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=disposition-notification;"
        ' boundary="b"\r\n',
        body="--b\r\nContent-Type: text/plain\r\n\r\nLu.\r\n--b--",
    )
    parsed = parse(raw)
    assert parsed.bounce is None and parsed.auto_reply


def test_garbage_before_the_headers_is_skipped():
    parsed = parse(b"\xff\xfe garbled first line\r\n" + message())
    assert parsed.from_address == "marie.dubois@exemple.test"
    assert parsed.subject == "Une question"
    assert "lignes illisibles avant les en-têtes" in parsed.defects


def test_a_damaged_body_still_gives_a_message():
    """Truncated messages and flipped bytes after the header block (a broken download, a bad
    relay): the parser still reads the message, it is not quarantined as unreadable."""
    rng = random.Random(20261103)
    for name in PARSABLE:
        raw = corpus.load(name)
        body = raw.find(b"\r\n\r\n") + 4
        assert body > 4, name
        for attempt in range(12):
            damaged = bytearray(raw)
            if attempt % 3 == 0:
                damaged = damaged[: rng.randrange(body, len(damaged) + 1)]
            elif len(damaged) > body:
                for _ in range(rng.randrange(1, 40)):
                    damaged[rng.randrange(body, len(damaged))] = rng.randrange(256)
            parsed = parse(bytes(damaged))
            assert parsed.email_id and parsed.subject == parse(raw).subject, (name, attempt)
