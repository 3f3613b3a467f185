"""How allauth fits GRC: sign-ups are audited, its e-mails leave from the worker after commit,
and a login lands where the person works (backoffice) or follows their requests (portal)."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction

from grc.base.audit import record_event
from grc.base.models import Channel


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            if commit:
                record_event(
                    action="user.signed_up",
                    obj=user,
                    actor=user,
                    channel=Channel.WEB,
                    collectivite_id=None,
                    payload={"email": user.email},
                )
        return user

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # Rendered now (the request's language and links), sent by the worker after commit:
        # a slow or failing SMTP server neither blocks the page nor loses the message.
        message = self.render_mail(template_prefix, email, context)
        html = next(
            (
                content
                for content, mimetype in getattr(message, "alternatives", None) or []
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
