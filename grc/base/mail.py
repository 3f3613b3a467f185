"""Sending e-mail: the one path every message to a citizen takes (SMTP from EMAIL_URL)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives

# Our own messages carry this header, so that the mail gateway recognises them coming back.
OWN_HEADER = "X-GRC-Message"


def mail_domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "grc.localhost"


def send_email(
    *,
    to: list[str],
    subject: str,
    body: str,
    reply_to: list[str] | None = None,
    attachments: Iterable[tuple[str, bytes, str]] = (),
    headers: dict[str, str] | None = None,
    html: str = "",
    envelope_sender: str = "",
    in_reply_to: str = "",
    references: Sequence[str] | None = None,
) -> str:
    """Send now (callers run in the worker) and return the Message-ID we gave the message.
    Raises on SMTP failure: the caller's task is retried.

    `envelope_sender`: the SMTP MAIL FROM, where bounces go (the Return-Path the receiving
    server writes); the From header stays DEFAULT_FROM_EMAIL. `references`: the thread's
    Message-IDs, oldest first; our own id is appended to them (REFERENCE §5: some providers
    rewrite Message-ID, and a reply's References then still carries ours)."""
    message_id = make_msgid(domain=mail_domain())
    threading: dict[str, str] = {}
    if in_reply_to:
        threading["In-Reply-To"] = in_reply_to
    if references is not None:
        threading["References"] = " ".join([*references, message_id])
    message = EmailMessage(
        subject=subject,
        body=body,
        # Django gives from_email as MAIL FROM and writes the "From" header when there is one.
        from_email=envelope_sender or settings.DEFAULT_FROM_EMAIL,
        to=to,
        reply_to=reply_to or None,
        headers={
            "From": settings.DEFAULT_FROM_EMAIL,
            "Message-ID": message_id,
            **threading,
            OWN_HEADER: "1",
            # RFC 3834: an automatic message; well-behaved autoresponders stay quiet.
            "Auto-Submitted": "auto-generated",
            **(headers or {}),
        },
    )
    if html:
        message = _with_html(message, html)
    for name, content, mimetype in attachments:
        message.attach(name, content, mimetype)
    message.send(fail_silently=False)
    return message_id


def _with_html(message: EmailMessage, html: str) -> EmailMultiAlternatives:
    rich = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=message.from_email,
        to=message.to,
        reply_to=message.reply_to,
        headers=message.extra_headers,
    )
    rich.attach_alternative(html, "text/html")
    return rich
