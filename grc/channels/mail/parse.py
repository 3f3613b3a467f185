"""The raw bytes of a received e-mail made into a ParsedEmail (REFERENCE §5).

Whatever mail clients send: broken MIME, unknown or mislabelled charsets, raw 8-bit headers,
odd dates, no Message-ID. What is odd but readable is recorded in `defects`; ParseError only
when nothing usable can be read (the raw message then goes to quarantine, it is never lost)."""

from __future__ import annotations

import base64
import binascii
import codecs
import datetime
import hashlib
import mimetypes
import quopri
import re
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser, HeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

import nh3
from mailparser_reply import EmailReplyParser

from grc.base.mail import OWN_HEADER
from grc.channels.mail.parsed import Bounce, MailAttachment, ParsedEmail, ParseError

__all__ = ["ParseError", "normalize_message_id", "parse"]

MAX_ID_LENGTH = 500
MADE_ID_DOMAIN = "grc.invalid"
REPLY_LANGUAGES = ["fr", "en"]

# At least one of these must be there for the bytes to be a message at all.
_KNOWN_HEADERS = {
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "received",
    "return-path",
    "delivered-to",
    "content-type",
    "mime-version",
}


def parse(raw: bytes) -> ParsedEmail:
    if not raw or not raw.strip():
        raise ParseError("message vide")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as error:  # the stdlib parser is lenient; anything else is unreadable
        raise ParseError(f"analyse MIME impossible : {error}") from error
    defects: list[str] = []
    if not _has_known_header(message):
        # A line of garbage before the headers (a broken "From " line, a client's banner)
        # hides them all from the parser: start again at the first header we know.
        start = _FIRST_HEADER.search(raw, 0, 16384)
        if start is None or start.start() == 0:
            raise ParseError("aucun en-tête de courriel reconnu")
        message = BytesParser(policy=policy.default).parsebytes(raw[start.start() :])
        if not _has_known_header(message):
            raise ParseError("aucun en-tête de courriel reconnu")
        defects.append("lignes illisibles avant les en-têtes")
    try:
        return _Reader(raw, message, defects).read()
    except ParseError:
        raise
    except Exception as error:  # never a crash of the gateway: the message goes to quarantine
        raise ParseError(f"{type(error).__name__}: {error}") from error


_FIRST_HEADER = re.compile(
    rb"^(?:" + b"|".join(name.encode() for name in sorted(_KNOWN_HEADERS)) + rb")[ \t]*:",
    re.M | re.I,
)


def _has_known_header(message: EmailMessage) -> bool:
    return any(name.lower() in _KNOWN_HEADERS for name, _ in message.raw_items())


# ---- Message-IDs ------------------------------------------------------------------------------

_ID_TOKEN = re.compile(r"<([^<>]*)>")


def normalize_message_id(value: str) -> str:
    """One spelling of a Message-ID, the same for the header of a message and for the
    In-Reply-To/References of its replies: "<left@right>", ASCII, at most 500 characters (a
    longer or non-ASCII one is replaced by a hash of itself). "" when there is none."""
    value = (value or "").strip()
    if not value:
        return ""
    token = _ID_TOKEN.search(value)
    core = token.group(1) if token else value.split()[0]
    core = "".join(core.split())
    if not core:
        return ""
    normalized = f"<{core}>"
    if not core.isascii() or len(normalized) > MAX_ID_LENGTH:
        digest = hashlib.sha256(core.encode("utf-8", "surrogateescape")).hexdigest()
        return f"<{digest}@{MADE_ID_DOMAIN}>"
    return normalized


def _id_list(value: str) -> list[str]:
    tokens = _ID_TOKEN.findall(value) or re.split(r"[\s,]+", value)
    ids: list[str] = []
    for token in tokens:
        normalized = normalize_message_id(f"<{token}>") if token.strip() else ""
        if normalized and normalized not in ids:
            ids.append(normalized)
    return ids


# ---- Text decoding ----------------------------------------------------------------------------

# Mail labelled Latin-1 or ASCII is, in practice, Windows-1252 (curly quotes, €, œ): browsers
# decode it so too (WHATWG Encoding).
_LATIN1_LABELS = {"iso-8859-1", "iso8859-1", "iso_8859-1", "latin-1", "latin1", "l1", "cp819"}
_ASCII_LABELS = {"us-ascii", "ascii", "ansi_x3.4-1968", "646"}


def _decode_bytes(data: bytes, charset: str | None, defects: list[str], where: str) -> str:
    label = (charset or "").strip().strip("\"'").lower()
    if label in _LATIN1_LABELS:
        label = "cp1252"
    elif label and not re.fullmatch(r"[a-z0-9_.:+-]{1,40}", label):  # damaged: "utf-\x008"
        _defect(defects, f"jeu de caractères illisible ({where})")
        label = ""
    if label and label not in _ASCII_LABELS:
        try:
            codecs.lookup(label)
        except LookupError:
            _defect(defects, f"jeu de caractères inconnu « {label[:40]} » ({where})")
        else:
            try:
                return data.decode(label)
            except UnicodeDecodeError:
                if label != "cp1252":
                    _defect(defects, f"texte invalide en {label[:40]} ({where})")
            except LookupError:  # a codec that is not a text encoding ("base64", "rot13"…)
                _defect(defects, f"jeu de caractères inconnu « {label[:40]} » ({where})")
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        pass
    for fallback in ("utf-8", "cp1252"):
        try:
            return data.decode(fallback)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1", errors="replace")


def _clean(text: str) -> str:
    # PostgreSQL refuses NUL characters in text.
    return text.replace("\x00", "")


def _defect(defects: list[str], text: str) -> None:
    if text not in defects:
        defects.append(text)


_SURROGATES = re.compile(r"[\udc80-\udcff]")


def _from_8bit(value: str, defects: list[str], where: str) -> str:
    """A header with raw 8-bit bytes (no RFC 2047): UTF-8, else Windows-1252."""
    if not _SURROGATES.search(value):
        return value
    _defect(defects, f"en-tête non encodé ({where})")
    return _decode_bytes(value.encode("utf-8", "surrogateescape"), "", defects, where)


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=")


def _decode_words(value: str, defects: list[str], where: str) -> str:
    """RFC 2047 encoded words, leniently: adjacent words of one charset are joined before
    decoding (some clients split a character between two words), bad base64 is repaired."""
    if "=?" not in value:
        return value
    pieces: list[str | tuple[str, bytes]] = []
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        if between and not (between.isspace() and pieces and isinstance(pieces[-1], tuple)):
            pieces.append(between)
        charset = match.group(1).split("*")[0]  # RFC 2231 language suffix
        data = _word_bytes(match.group(2).upper(), match.group(3))
        if pieces and isinstance(pieces[-1], tuple) and pieces[-1][0].lower() == charset.lower():
            pieces[-1] = (charset, pieces[-1][1] + data)
        else:
            pieces.append((charset, data))
        position = match.end()
    pieces.append(value[position:])
    return "".join(
        piece if isinstance(piece, str) else _decode_bytes(piece[1], piece[0], defects, where)
        for piece in pieces
    )


def _word_bytes(encoding: str, text: str) -> bytes:
    if encoding == "Q":
        return quopri.decodestring(text.encode("ascii", "replace"), header=True)
    cleaned = re.sub(r"[^A-Za-z0-9+/]", "", text)
    cleaned = cleaned[: len(cleaned) - len(cleaned) % 4] if len(cleaned) % 4 == 1 else cleaned
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        return text.encode("ascii", "replace")


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n[ \t]*", " ", value)


# ---- Dates ------------------------------------------------------------------------------------

_FRENCH_DATE_WORDS = {
    "lun": "Mon", "mar": "Tue", "mer": "Wed", "jeu": "Thu", "ven": "Fri", "sam": "Sat",
    "dim": "Sun", "janv": "Jan", "janvier": "Jan", "févr": "Feb", "fevr": "Feb",
    "février": "Feb", "mars": "Mar", "avr": "Apr", "avril": "Apr", "mai": "May", "juin": "Jun",
    "juil": "Jul", "juillet": "Jul", "août": "Aug", "aout": "Aug", "sept": "Sep",
    "septembre": "Sep", "oct": "Oct", "octobre": "Oct", "nov": "Nov", "novembre": "Nov",
    "déc": "Dec", "dec": "Dec", "décembre": "Dec",
}  # fmt: skip


def _parse_date(value: str) -> datetime.datetime | None:
    value = " ".join(value.split())
    if not value:
        return None
    for candidate in (value, _english_date(value)):
        try:
            moment = parsedate_to_datetime(candidate)
        except (TypeError, ValueError, IndexError, OverflowError):
            continue
        if moment.tzinfo is None:  # "-0000": the time is UTC, the zone unknown
            moment = moment.replace(tzinfo=datetime.UTC)
        try:
            return moment.astimezone(datetime.UTC)
        except (OverflowError, ValueError):
            return None
    return None


def _english_date(value: str) -> str:
    """French day and month names (some webmails and phones) in RFC 5322's English."""

    def word(match: re.Match[str]) -> str:
        return _FRENCH_DATE_WORDS.get(match.group(1).lower(), match.group(1))

    return re.sub(r"([^\W\d]+)\.?", word, value)


# ---- HTML -------------------------------------------------------------------------------------

_HTML_TAGS = set(nh3.ALLOWED_TAGS) - {"title", "head", "style", "script"}
_HTML_ATTRIBUTES = {tag: set(values) for tag, values in nh3.ALLOWED_ATTRIBUTES.items()}


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    # Only the message's own images (cid:): a remote image tells the sender the mail was read.
    if tag == "img" and attribute == "src" and not value.strip().lower().startswith("cid:"):
        return None
    return value


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=_HTML_TAGS,
        clean_content_tags={"script", "style", "title", "head"},
        attributes=_HTML_ATTRIBUTES,
        attribute_filter=_keep_attribute,
        url_schemes={"http", "https", "mailto", "tel", "cid"},
        link_rel="noopener noreferrer",
    )


class _TextOfHtml(HTMLParser):
    """HTML made into readable plain text: paragraphs and line breaks kept, lists as "- ",
    quotations (blockquote) as "> " lines, so that the quoted history is found as in text."""

    BLOCKS = {
        "p", "div", "br", "tr", "li", "ul", "ol", "table", "blockquote", "pre", "hr", "h1",
        "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer", "address",
        "dl", "dt", "dd",
    }  # fmt: skip
    SKIPPED = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.buffer: list[str] = []
        self.depth = 0
        self.skipping = 0
        self.href = ""
        self.link_text: list[str] = []

    def flush(self, *, blank: bool = False) -> None:
        text = " ".join("".join(self.buffer).split())
        self.buffer = []
        prefix = "> " * self.depth
        if text or blank:
            self.lines.append((prefix + text).rstrip() if text else prefix.rstrip())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIPPED:
            self.skipping += 1
        elif tag == "br":
            self.flush(blank=True)
        elif tag in self.BLOCKS:
            self.flush()
            if tag == "blockquote":
                self.depth += 1
            elif tag == "li":
                self.buffer.append("- ")
        elif tag == "a":
            self.href = dict(attrs).get("href") or ""
            self.link_text = []
        elif tag in ("td", "th"):
            self.buffer.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.flush()
            if tag == "blockquote":
                self.depth = max(0, self.depth - 1)
            if tag in ("p", "blockquote", "table"):
                self.lines.append("> " * self.depth if self.depth else "")
        elif tag == "a":
            shown = " ".join("".join(self.link_text).split())
            href = self.href
            if href.lower().startswith(("http://", "https://")) and href not in shown:
                self.buffer.append(f" ({href})")
            self.href = ""

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        self.buffer.append(data)
        if self.href:
            self.link_text.append(data)

    def text(self) -> str:
        self.flush()
        lines = [line.rstrip() for line in self.lines]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    converter = _TextOfHtml()
    converter.feed(html)
    converter.close()
    return converter.text()


# ---- Reply and quoted history -----------------------------------------------------------------

_NBSP = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\ufeff": ""})
_Q = r"(?:>[ \t]?)*"  # inside a quotation too
_QUOTE_STARTS = [
    # Gmail, Apple Mail, Thunderbird, webmails: "Le lun. 3 nov. 2026 à 10:12, X <x@y> a écrit :"
    # (Gmail folds it over two lines when it is long).
    re.compile(rf"^{_Q}Le\b[^\n]*\d[^\n]*(?:\n{_Q}[^\n]*){{0,2}}?\ba\s+écrit\s*:\s*$", re.M | re.I),
    re.compile(rf"^{_Q}On\b[^\n]*\d[^\n]*(?:\n{_Q}[^\n]*){{0,2}}?\bwrote\s*:\s*$", re.M | re.I),
    # Outlook (and Zimbra without the separator): a block of "De : … Envoyé : …"
    re.compile(
        rf"^{_Q}[*\s]*(?:De|From)\s*:[^\n]*\n(?:{_Q}[^\n]*\n){{0,2}}?{_Q}[*\s]*"
        rf"(?:Envoyé|Sent|Date|À|A|To)\s*:",
        re.M | re.I,
    ),
    re.compile(
        rf"^{_Q}[-_=\s]*(?:Message d['’]origine|Original Message|Mail original|Message original)"
        rf"\s*[-_=]*\s*$",
        re.M | re.I,
    ),
    # Orange's webmail: "> Message du 03/11/26 10:12" then "> De : …"
    re.compile(rf"^{_Q}Message du \d{{1,2}}/\d{{1,2}}/\d{{2,4}}[^\n]*\n{_Q}\s*De\s*:", re.M | re.I),
    re.compile(rf"^{_Q}_{{20,}}\s*\n(?:{_Q}\s*\n)*{_Q}[*\s]*(?:De|From)\s*:", re.M | re.I),
    # A line our own messages may carry above which the citizen writes.
    re.compile(
        rf"^{_Q}[-#=\s]*(?:Répondez|Reply) (?:au-dessus de cette ligne|above this line)", re.M
    ),
]
# A forwarded message is what the sender sends us, not history: nothing inside it is cut.
_FORWARD = re.compile(
    r"^[-\s]*(?:Forwarded message|Message transféré|Début du message réexpédié|"
    r"Begin forwarded message|Message d'origine transféré|Courriel transféré)\s*[-:]*\s*$",
    re.M | re.I,
)
_REPLY_HEADERS = EmailReplyParser(languages=REPLY_LANGUAGES).read("").HEADER_REGEX

# The chrome of our own notifications (grc/demarches/templates/demarches/notifications/email.txt),
# useless in the quoted history of a reply.
_OWN_CHROME = re.compile(
    r"^(?:Pour répondre, écrivez depuis la page de votre demande\.|"
    r"To reply, write from your request.s page\.|"
    r"Votre demande en ligne\s*:.*|Your request online:.*|"
    r"\(munissez-vous de votre code de suivi.*|d'enregistrement\)|"
    r"Ce message est envoyé automatiquement.*|This message is sent automatically.*|"
    r"recevez, modifiez les préférences de votre compte\.)$",
    re.I,
)


def split_reply(text: str) -> tuple[str, str]:
    """(what the sender wrote, the quoted history)."""
    lines = text.translate(_NBSP).split("\n")
    stripped = "\n".join(line.strip() for line in lines)
    forward = _FORWARD.search(stripped)
    limit = _line_of(stripped, forward.start()) if forward else len(lines)
    cuts = [limit]
    for pattern in [*_QUOTE_STARTS, _REPLY_HEADERS]:
        match = pattern.search(stripped)
        if match:
            cuts.append(_line_of(stripped, match.start()))
    cuts.append(_trailing_quote(lines))
    cut = min(cuts)
    if cut >= limit:
        return text.strip(), ""
    new = "\n".join(lines[:cut]).strip()
    quoted = "\n".join(lines[cut:]).strip()
    return new, _without_chrome(quoted)


def _line_of(text: str, position: int) -> int:
    while position < len(text) and text[position] == "\n":
        position += 1
    return text.count("\n", 0, position)


def _trailing_quote(lines: list[str]) -> int:
    """Where a final block of "> " lines starts (with its attribution line), else the end."""
    end = len(lines)
    index = end
    seen_quote = False
    while index > 0:
        line = lines[index - 1].strip()
        if line.startswith(">"):
            seen_quote = True
        elif line:
            break
        index -= 1
    if not seen_quote:
        return end
    while index < end and not lines[index].strip():
        index += 1
    previous = index - 1
    while previous >= 0 and not lines[previous].strip():
        previous -= 1
    if previous >= 0 and lines[previous].rstrip().endswith(":") and len(lines[previous]) < 200:
        return previous
    return index


def _without_chrome(quoted: str) -> str:
    kept = []
    for line in quoted.split("\n"):
        bare = re.sub(r"^(?:>\s?)+", "", line).strip()
        if bare and _OWN_CHROME.match(bare):
            continue
        kept.append(line)
    return re.sub(r"\n(?:[> \t]*\n){2,}", "\n\n", "\n".join(kept)).strip()


# ---- Auto-replies and bounces -----------------------------------------------------------------

_AUTO_SUBJECT = re.compile(
    r"^\s*\[?(?:réponse automatique|reponse automatique|absence du bureau|out of office|"
    r"automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|message d['’]absence|"
    r"répondeur automatique|abwesenheitsnotiz)\b",
    re.I,
)
_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon")
_COPY_OF_MESSAGE = re.compile(
    r"^(?:-+\s*(?:Below this line is a copy of the message|This is a copy of the message|"
    r"Original message|Copie du message)|Return-Path:|Received:|Message-ID:)",
    re.M | re.I,
)
_QUOTED_MESSAGE_ID = re.compile(r"^[>\s]*Message-ID:\s*(<[^<>\s]+>)", re.M | re.I)


class _Reader:
    def __init__(self, raw: bytes, message: EmailMessage, defects: list[str]) -> None:
        self.raw = raw
        self.message = message
        self.defects = defects
        self.plain: list[str] = []
        self.html: list[str] = []
        self.files: list[tuple[Message, str]] = []  # (part, disposition)

    # headers
    def headers(self, name: str) -> list[str]:
        wanted = name.lower()
        values = []
        for key, value in self.message.raw_items():
            if key.lower() == wanted:
                if not isinstance(value, str):
                    value = str(value)
                values.append(_from_8bit(_unfold(value), self.defects, key))
        return values

    def header(self, name: str) -> str:
        values = self.headers(name)
        return values[0].strip() if values else ""

    def text_header(self, name: str) -> str:
        return _clean(" ".join(_decode_words(self.header(name), self.defects, name).split()))

    def addresses(self, *names: str) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for name in names:
            for value in self.headers(name):
                found.extend(self._addresses_of(value, name))
        return found

    def _addresses_of(self, value: str, where: str) -> list[tuple[str, str]]:
        try:
            pairs = getaddresses([value])
        except Exception:
            pairs = []
        result = []
        for display, address in pairs:
            address = address.strip().strip(".").lower()
            if "@" in address and " " not in address and len(address) <= 320:
                display = _clean(" ".join(_decode_words(display, self.defects, where).split()))
                result.append((display.strip("\"' "), address))
        if not result:
            result = [("", address.lower()) for address in _ADDRESS.findall(value)]
        return result

    # body
    def read(self) -> ParsedEmail:
        message = self.message
        email_id = normalize_message_id(self.header("Message-ID"))
        email_id_made = not email_id
        if email_id_made:
            email_id = f"<{hashlib.sha256(self.raw).hexdigest()}@{MADE_ID_DOMAIN}>"
            _defect(self.defects, "pas de Message-ID")
        senders = self.addresses("From") or self.addresses("Sender")
        from_name, from_address = senders[0] if senders else ("", "")
        recipients: list[str] = []
        for _, address in self.addresses("To", "Cc", "Delivered-To"):
            if address not in recipients:
                recipients.append(address)
        date = self.header("Date")
        sent_at = _parse_date(date)
        if sent_at is None:
            _defect(self.defects, "date absente ou illisible")

        try:
            self.walk(message)
        except RecursionError:
            _defect(self.defects, "structure MIME trop profonde")
        html_source = "\n".join(self.html)
        if self.plain:
            text = "\n\n".join(chunk.strip("\n") for chunk in self.plain)
        else:
            text = html_to_text(html_source) if html_source else ""
        text = _clean(text.replace("\r\n", "\n").replace("\r", "\n"))
        new, quoted = split_reply(text)
        html = _clean(sanitize_html(html_source)) if html_source.strip() else ""

        attachments = tuple(
            self.attachment(part, disposition, html_source, number)
            for number, (part, disposition) in enumerate(self.files, 1)
        )
        self.collect_mime_defects(message)  # after decoding: base64 defects are found then
        subject = self.text_header("Subject")
        bounce = self.bounce(from_address, from_name, recipients, text)
        return ParsedEmail(
            email_id=email_id,
            email_id_made=email_id_made,
            from_address=from_address,
            from_name=from_name[:300],
            to=tuple(recipients),
            subject=subject[:998],
            sent_at=sent_at,
            in_reply_to=(_id_list(self.header("In-Reply-To")) or [""])[0],
            references=tuple(_id_list(" ".join(self.headers("References")))),
            text=new,
            quoted=quoted,
            html=html,
            attachments=attachments,
            auto_reply=self.is_auto_reply(subject),
            own=bool(self.headers(OWN_HEADER)),
            bounce=bounce,
            defects=tuple(self.defects),
        )

    def walk(self, part: Message, *, alternative: bool = False) -> None:
        content_type = part.get_content_type()
        if part.is_multipart() and content_type.startswith("multipart/"):
            children = [child for child in part.get_payload() if isinstance(child, Message)]
            if content_type == "multipart/alternative":
                self.walk_alternative(children)
            else:
                for child in children:
                    self.walk(child)
            return
        if content_type in ("message/delivery-status", "message/disposition-notification"):
            return  # read by bounce()
        disposition = (part.get_content_disposition() or "").lower()
        named = bool(self.filename_of(part))
        if (
            content_type in ("text/plain", "text/html")
            and disposition != "attachment"
            and not (named and disposition != "inline")
        ):
            if content_type == "text/html":
                self.html.append(self.text_of(part))
            else:
                self.plain.append(_plain_text(part, self.text_of(part)))
            return
        self.files.append((part, disposition))

    def walk_alternative(self, children: list[Message]) -> None:
        """The text/plain version for `text`, the last (richest) HTML version for `html`; an
        alternative that is neither (a calendar invitation) is kept as an attachment."""
        plain = html = None
        for child in children:
            kinds = (
                {p.get_content_type() for p in child.walk()}
                if child.is_multipart()
                else {child.get_content_type()}
            )
            if "text/html" in kinds:
                html = child
            elif "text/plain" in kinds and plain is None:
                plain = child
            else:
                self.walk(child)
        if plain is not None:
            before = len(self.html)
            self.walk(plain)
            del self.html[before:]
        if html is not None:
            before = len(self.plain)
            self.walk(html)
            if plain is not None:
                del self.plain[before:]

    def text_of(self, part: Message) -> str:
        try:
            data = part.get_payload(decode=True)
        except Exception:
            data = None
        if data is None:
            try:
                payload = part.get_payload()
            except Exception:
                payload = ""
            data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
        try:
            charset = part.get_content_charset()
        except Exception:
            charset = None
        text = _decode_bytes(data, charset, self.defects, part.get_content_type())
        return text.replace("\r\n", "\n").replace("\r", "\n")

    def filename_of(self, part: Message) -> str:
        try:
            name = part.get_filename() or ""
        except Exception:
            name = ""
        name = str(name)
        name = _from_8bit(name, self.defects, "nom de fichier")
        return _clean(_decode_words(name, self.defects, "nom de fichier")).strip()

    def attachment(self, part: Message, disposition: str, html: str, number: int) -> MailAttachment:
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            content = self.embedded_message(part)
        else:
            try:
                content = part.get_payload(decode=True) or b""
            except Exception:
                content = b""
                _defect(self.defects, f"pièce jointe illisible ({content_type})")
        content_id = _from_8bit(_unfold(str(part.get("Content-ID", "") or "")), self.defects, "cid")
        content_id = content_id.strip().strip("<>").strip()
        inline = bool(content_id) and f"cid:{content_id}".lower() in html.lower()
        name = _safe_filename(self.filename_of(part))
        if not name and content_type == "message/rfc822":
            name = _safe_filename(self.embedded_subject(part))
            name = f"{name}.eml" if name else f"message-{number}.eml"
        if not name:
            extension = mimetypes.guess_extension(content_type) or ".bin"
            name = f"{'image' if inline else 'piece-jointe'}-{number}{extension}"
        return MailAttachment(
            filename=name,
            content_type=content_type,
            content=content,
            content_id=content_id[:250],
            inline=inline,
        )

    def embedded_message(self, part: Message) -> bytes:
        payload = part.get_payload() if part.is_multipart() else None
        inner = payload[0] if payload else None
        if isinstance(inner, Message):
            try:
                return inner.as_bytes()
            except Exception:
                return str(inner).encode("utf-8", "surrogateescape")
        data = part.get_payload(decode=True)
        return data if isinstance(data, bytes) else b""

    def embedded_subject(self, part: Message) -> str:
        payload = part.get_payload() if part.is_multipart() else None
        inner = payload[0] if payload else None
        if not isinstance(inner, Message):
            return ""
        subject = _from_8bit(_unfold(str(inner.get("Subject", "") or "")), self.defects, "Subject")
        return _decode_words(subject, self.defects, "Subject")

    def collect_mime_defects(self, message: Message) -> None:
        parts = [message]
        while parts:
            part = parts.pop()
            for defect in getattr(part, "defects", []):
                _defect(self.defects, type(defect).__name__)
            if part.is_multipart():
                parts.extend(c for c in part.get_payload() if isinstance(c, Message))

    # what kind of message
    def is_auto_reply(self, subject: str) -> bool:
        auto_submitted = self.header("Auto-Submitted").lower()
        if auto_submitted and not auto_submitted.startswith("no"):
            return True
        if self.header("Precedence").lower() in ("bulk", "auto_reply", "list", "junk"):
            return True
        for name in ("X-Autoreply", "X-Autorespond", "X-Autogenerated"):
            value = self.header(name).lower()
            if self.headers(name) and value not in ("no", "false", "0"):
                return True
        suppress = {
            token.strip().lower() for token in self.header("X-Auto-Response-Suppress").split(",")
        }
        if suppress & {"oof", "all"}:
            return True
        if self.headers("List-Id") or self.headers("List-Unsubscribe"):
            return True
        if self.report_type() == "disposition-notification":  # a read receipt
            return True
        return bool(_AUTO_SUBJECT.match(subject))

    def report_type(self) -> str:
        if self.message.get_content_type() != "multipart/report":
            return ""
        try:
            return str(self.message.get_param("report-type") or "").strip().lower()
        except Exception:
            return ""

    def bounce(
        self, from_address: str, from_name: str, recipients: list[str], text: str
    ) -> Bounce | None:
        standard = self.report_type() == "delivery-status"
        daemon = from_address.partition("@")[0] in _DAEMONS or "mail delivery" in from_name.lower()
        if not standard and not daemon:
            return None
        original_id = self.original_email_id(text)
        if standard:
            found = self.delivery_status()
            if found:
                return Bounce(original_email_id=original_id, **found)
        return self.nonstandard_bounce(from_address, recipients, text, original_id)

    def delivery_status(self) -> dict | None:
        blocks: list[dict[str, str]] = []
        for part in self.message.walk():
            if part.get_content_type() != "message/delivery-status":
                continue
            if part.is_multipart():
                for block in part.get_payload():
                    blocks.append({k.lower(): _unfold(str(v)) for k, v in block.items()})
            else:
                body = self.text_of(part)
                for chunk in re.split(r"\n\s*\n", body.replace("\r\n", "\n")):
                    parsed = HeaderParser().parsestr(chunk.strip() + "\n")
                    blocks.append({k.lower(): _unfold(str(v)) for k, v in parsed.items()})
        failed: list[dict[str, str]] = []
        for block in blocks:
            recipient = block.get("final-recipient") or block.get("original-recipient") or ""
            address = recipient.rpartition(";")[2].strip().strip("<>").lower()
            action = block.get("action", "").strip().lower()
            if "@" in address and action not in ("delivered", "relayed", "expanded"):
                failed.append({**block, "address": address, "action": action})
        if not failed:
            return None
        first = next((b for b in failed if b["action"] == "failed"), failed[0])
        status_match = _STATUS.search(first.get("status", ""))
        status = status_match.group(1) if status_match else ""
        permanent = status.startswith("5") or (first["action"] == "failed" and not status)
        addresses = tuple(dict.fromkeys(b["address"] for b in failed))
        diagnostic = first.get("diagnostic-code", "").partition(";")
        diagnostic_text = (diagnostic[2] or diagnostic[0]).strip()
        return {
            "recipients": addresses,
            "status": status,
            "diagnostic": " ".join(diagnostic_text.split())[:1000],
            "permanent": permanent,
        }

    def nonstandard_bounce(
        self, from_address: str, recipients: list[str], text: str, original_id: str
    ) -> Bounce:
        """Best effort: the addresses of the explanation, before the copy of our message."""
        copy = _COPY_OF_MESSAGE.search(text)
        explanation = text[: copy.start()] if copy else text
        ignored = {from_address, *recipients}
        addresses = tuple(
            dict.fromkeys(
                address.lower()
                for address in _ADDRESS.findall(explanation)
                if address.lower() not in ignored
                and address.lower().partition("@")[0] not in _DAEMONS
            )
        )
        status_match = _STATUS.search(explanation)
        status = status_match.group(1) if status_match else ""
        if not status:
            code = re.search(r"\b([45])\d\d\b", explanation)
            permanent = not (code and code.group(1) == "4")
        else:
            permanent = status.startswith("5")
        subject = self.text_header("Subject").lower()
        if any(word in subject for word in ("delay", "retard", "warning", "avertissement")):
            permanent = permanent and bool(status.startswith("5"))
        diagnostic = next(
            (
                line.strip()
                for line in explanation.splitlines()
                if re.search(r"\b[45]\d\d\b", line) or (status and status in line)
            ),
            "",
        )
        return Bounce(
            recipients=addresses,
            status=status,
            diagnostic=diagnostic[:1000],
            permanent=permanent,
            original_email_id=original_id,
        )

    def original_email_id(self, text: str) -> str:
        """The Message-ID of the returned message: from the message/rfc822 or
        text/rfc822-headers part of a report, else from headers quoted in the text."""
        for part in self.message.walk():
            content_type = part.get_content_type()
            headers: Message | None = None
            if content_type == "message/rfc822":
                payload = part.get_payload() if part.is_multipart() else None
                headers = payload[0] if payload else None
            elif content_type == "text/rfc822-headers":
                headers = HeaderParser().parsestr(self.text_of(part))
            if isinstance(headers, Message):
                found = normalize_message_id(_unfold(str(headers.get("Message-ID", "") or "")))
                if found:
                    return found
        match = _QUOTED_MESSAGE_ID.search(text)
        return normalize_message_id(match.group(1)) if match else ""


def _plain_text(part: Message, text: str) -> str:
    try:
        flowed = str(part.get_param("format") or "").lower() == "flowed"
        delsp = str(part.get_param("delsp") or "").lower() == "yes"
    except Exception:
        return text
    return _unflow(text, delsp=delsp) if flowed else text


def _unflow(text: str, *, delsp: bool) -> str:
    """format=flowed (RFC 3676, Thunderbird, K-9…): soft line breaks joined again, at each
    quotation depth, so that a sentence is not cut in the middle."""
    lines: list[tuple[int, str]] = []
    paragraph: tuple[int, str] | None = None
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):  # space-stuffing
            content = content[1:]
        soft = content.endswith(" ") and content != "-- "
        if paragraph is not None and paragraph[0] == depth:
            paragraph = (depth, paragraph[1] + content)
        else:
            if paragraph is not None:
                lines.append(paragraph)
            paragraph = (depth, content)
        if soft:
            if delsp:
                paragraph = (depth, paragraph[1][:-1])
        else:
            lines.append(paragraph)
            paragraph = None
    if paragraph is not None:
        lines.append(paragraph)
    return "\n".join(f"{'>' * depth} {content}" if depth else content for depth, content in lines)


def _safe_filename(name: str) -> str:
    """The last component only (no path), no control characters, a sane length."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    name = " ".join(name.split()).strip(". ")
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = f"{stem[:190]}.{extension[:9]}" if dot and len(extension) < 10 else name[:200]
    return name
