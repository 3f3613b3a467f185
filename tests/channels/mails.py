"""Raw e-mails for the mail gateway's tests and bench."""

from __future__ import annotations

import email.message
import email.utils
import uuid


def make_mail(
    *,
    subject: str = "Trou dans la chaussée",
    sender: str = "Jeanne Martin <jeanne.martin@exemple.fr>",
    to: str = "mairie@mairie.test",
    body: str = "Bonjour, il y a un trou rue des Lilas.",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: tuple[tuple[str, bytes, str], ...] = (),
) -> bytes:
    message = email.message.EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@exemple.fr>"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for filename, content, mimetype in attachments:
        maintype, subtype = mimetype.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes(policy=email.policy.SMTP)


def make_bounce(*, failed: str, status: str = "5.1.1", original_id: str = "") -> bytes:
    """A delivery status notification (RFC 3464) from the MTA."""
    boundary = uuid.uuid4().hex
    action = "failed" if status.startswith("5") else "delayed"
    original = f"Message-ID: {original_id}\r\n" if original_id else ""
    return (
        f"From: Mail Delivery System <MAILER-DAEMON@mx.exemple.fr>\r\n"
        f"To: bounces@grc.localhost\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {email.utils.formatdate()}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@mx.exemple.fr>\r\n"
        f"Auto-Submitted: auto-replied\r\n"
        f"MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        f"\r\n--{boundary}\r\n"
        f"Content-Type: text/plain\r\n\r\n"
        f"Your message could not be delivered to {failed}.\r\n"
        f"\r\n--{boundary}\r\n"
        f"Content-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.exemple.fr\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 {status} User unknown\r\n"
        f"\r\n--{boundary}\r\n"
        f"Content-Type: text/rfc822-headers\r\n\r\n"
        f"From: noreply@grc.localhost\r\n"
        f"To: {failed}\r\n"
        f"{original}"
        f"Subject: Votre demande\r\n"
        f"\r\n--{boundary}--\r\n"
    ).encode()
