"""The Django admin of the channels: the mailboxes here, the telephony lines and SMS provider
(admin_phone), letters (admin_letters), webhook channels (admin_hooks). A collectivité's
admins see and change their own; credentials are write-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from grc.base import access
from grc.base.admin.scoped import CollectiviteOwnedAdmin, form_changes, form_data
from grc.channels import admin_hooks, admin_letters, admin_phone  # noqa: F401 - registers
from grc.channels.mail.mailboxes import FIELDS, save_mailbox
from grc.channels.models import Mailbox

KEEP = _("Laissez vide pour garder le mot de passe enregistré (il n'est jamais réaffiché).")


class MailboxForm(forms.ModelForm):
    class Meta:
        model = Mailbox
        fields = ["collectivite", *FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        adding = self.instance.pk is None
        self.fields["password"] = forms.CharField(
            label=_("mot de passe"),
            required=adding,
            strip=False,
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
            help_text=_("Le mot de passe IMAP de la boîte.") if adding else KEEP,
        )

    def clean(self):
        cleaned = super().clean()
        collectivite = cleaned.get("collectivite") or getattr(self.instance, "collectivite", None)
        for name in ("service", "demarche"):
            value = cleaned.get(name)
            if (
                value is not None
                and collectivite is not None
                and value.collectivite_id != collectivite.pk
            ):
                self.add_error(name, _("Ce choix n'est pas de cette collectivité."))
        return cleaned


@admin.register(Mailbox)
class MailboxAdmin(CollectiviteOwnedAdmin):
    form = MailboxForm
    always_readonly = ("last_polled_at", "last_error")
    list_display = ["name", "email", "collectivite", "service", "is_active", "last_polled_at"]
    list_filter = ["is_active", "security"]
    search_fields = ["name", "email", "collectivite__name"]
    list_select_related = ["collectivite", "service"]
    fieldsets = [
        (None, {"fields": ["collectivite", "service", "name", "email", "is_active"]}),
        (
            _("Serveur IMAP"),
            {"fields": ["host", "port", "security", "username", "password", "folder"]},
        ),
        (_("Traitement"), {"fields": ["done_folder", "demarche"]}),
        (_("Relève"), {"fields": ["last_polled_at", "last_error"]}),
    ]

    @staticmethod
    def visible_to(user):
        return Mailbox.objects.filter(collectivite__in=access.administered_collectivites(user))

    def create(self, request, form):
        return save_mailbox(actor=request.user, mailbox=None, data=form_data(form))

    def update(self, request, obj, form):
        changes = form_changes(form, exclude=("collectivite",))
        return save_mailbox(
            actor=request.user, mailbox=Mailbox.objects.get(pk=obj.pk), data=changes
        )
