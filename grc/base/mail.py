"""Sending e-mail: the one path every message to a citizen takes (SMTP from EMAIL_URL)."""

from __future__ import annotations

from collections.abc import Iterable
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
) -> str:
    """Send now (callers run in the worker) and return the Message-ID we gave the message.
    Raises on SMTP failure: the caller's task is retried."""
    message_id = make_msgid(domain=mail_domain())
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        reply_to=reply_to or None,
        headers={
            "Message-ID": message_id,
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
