"""How allauth fits GRC: its e-mails leave from the worker after commit, and staff accounts
(created by an administrator, who vouches for the address) need no confirmation."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # Rendered now (the request's language and links), sent by the worker after commit:
        # a slow or failing SMTP server neither blocks the page nor loses the message.
        message = self.render_mail(template_prefix, email, context)
        html = next(
            (
                content
                for content, mimetype in getattr(message, "alternatives", []) or []
                if mimetype == "text/html"
            ),
            "",
        )
        payload = {
            "to": list(message.to),
            "subject": message.subject,
            "body": message.body,
            "html": html,
        }

        def defer():
            from grc.base.tasks import send_account_mail

            send_account_mail.defer(**payload)

        transaction.on_commit(defer)
