"""What the parser makes of a raw message (grc.channels.mail.parse) and the router reads
(grc.channels.mail.route): one shape, so that each can be tested alone."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field


class ParseError(Exception):
    """The bytes are not a message we can read: the raw message goes to quarantine."""


@dataclass(frozen=True)
class MailAttachment:
    filename: str
    content_type: str  # as declared; the real type is checked again when stored
    content: bytes
    content_id: str = ""  # without <>, for the `cid:` images of the HTML part
    inline: bool = False


@dataclass(frozen=True)
class Bounce:
    """A delivery status notification (RFC 3464), or what a non-standard bounce lets us read."""

    recipients: tuple[str, ...]  # the addresses that failed, lower-case
    status: str = ""  # "5.1.1"
    diagnostic: str = ""
    permanent: bool = True  # 5.x.x; a 4.x.x delay is not a failure yet
    original_email_id: str = ""  # the Message-ID of our message that bounced, when quoted


@dataclass(frozen=True)
class ParsedEmail:
    email_id: str  # "<…@…>", made from the bytes' hash when the message has none
    email_id_made: bool  # True when we made it
    from_address: str  # lower-case, "" when none is usable
    from_name: str
    to: tuple[str, ...]  # To, Cc and Delivered-To, lower-case
    subject: str
    sent_at: datetime.datetime | None  # UTC, None when the Date header is missing or bad
    in_reply_to: str
    references: tuple[str, ...]  # oldest first
    text: str  # what the sender wrote, without the quoted history
    quoted: str  # the quoted history of a reply, kept apart
    html: str  # sanitised (nh3), `cid:` references left for the attachments
    attachments: tuple[MailAttachment, ...] = ()
    auto_reply: bool = False  # Auto-Submitted, Precedence, X-Autoreply and the like
    own: bool = False  # one of ours coming back (our header)
    bounce: Bounce | None = None
    defects: tuple[str, ...] = field(default_factory=tuple)  # what was odd but readable
