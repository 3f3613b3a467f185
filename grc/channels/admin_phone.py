"""The admin of the telephony lines (CTI) and of the SMS provider: a collectivité's admins see
and change their own; the shared secrets are write-only (typed, never shown back). Imported by
grc.channels.admin."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from grc.base import access
from grc.base.admin.scoped import CollectiviteOwnedAdmin, form_changes, form_data
from grc.channels import calls
from grc.channels.models import PhoneLine, SmsProvider
from grc.channels.sms import services as sms_services

KEEP = _("Laissez vide pour garder la valeur enregistrée (elle n'est jamais réaffichée).")


def _secret_field(label, *, required: bool) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


class PhoneLineForm(forms.ModelForm):
    class Meta:
        model = PhoneLine
        fields = ["collectivite", "service", "name", "number", "secret", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        adding = self.instance.pk is None
        self.fields["secret"] = _secret_field(_("secret partagé"), required=adding)
        self.fields["secret"].help_text = (
            _("Envoyé par la téléphonie dans l'en-tête « Authorization: Bearer … ».")
            if adding
            else KEEP
        )

    def clean(self):
        cleaned = super().clean()
        service = cleaned.get("service")
        collectivite = cleaned.get("collectivite") or getattr(self.instance, "collectivite", None)
        if (
            service is not None
            and collectivite is not None
            and service.collectivite_id != collectivite.pk
        ):
            self.add_error("service", _("Ce service n'est pas de cette collectivité."))
        return cleaned


@admin.register(PhoneLine)
class PhoneLineAdmin(CollectiviteOwnedAdmin):
    form = PhoneLineForm
    list_display = ["name", "number", "collectivite", "service", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "number", "collectivite__name"]
    list_select_related = ["collectivite", "service"]

    @staticmethod
    def visible_to(user):
        return PhoneLine.objects.filter(collectivite__in=access.administered_collectivites(user))

    def create(self, request, form):
        return calls.save_phone_line(actor=request.user, line=None, data=form_data(form))

    def update(self, request, obj, form):
        changes = form_changes(form, exclude=("collectivite",))
        return calls.save_phone_line(
            actor=request.user, line=PhoneLine.objects.get(pk=obj.pk), data=changes
        )


class SmsProviderForm(forms.ModelForm):
    url = forms.URLField(label=_("adresse d'envoi"), assume_scheme="https")

    class Meta:
        model = SmsProvider
        fields = ["collectivite", "kind", "url", "token", "sender", "callback_secret", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        adding = self.instance.pk is None
        self.fields["token"] = _secret_field(_("jeton"), required=False)
        self.fields["token"].help_text = (
            _("Envoyé au fournisseur dans l'en-tête « Authorization: Bearer … ».")
            if adding
            else KEEP
        )
        self.fields["callback_secret"] = _secret_field(
            _("secret des accusés de réception"), required=False
        )
        self.fields["callback_secret"].help_text = (
            _(
                "Clé HMAC-SHA256 des accusés de réception envoyés à /api/canaux/sms/statut "
                "(en-tête « X-GRC-Signature: sha256=… »)."
            )
            if adding
            else KEEP
        )


@admin.register(SmsProvider)
class SmsProviderAdmin(CollectiviteOwnedAdmin):
    form = SmsProviderForm
    list_display = ["collectivite", "kind", "sender", "url", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["collectivite"]

    @staticmethod
    def visible_to(user):
        return SmsProvider.objects.filter(collectivite__in=access.administered_collectivites(user))

    def create(self, request, form):
        data = form_data(form, exclude=("collectivite",))
        return sms_services.save_sms_provider(
            actor=request.user,
            provider=None,
            collectivite=form.cleaned_data["collectivite"],
            data=data,
        )

    def update(self, request, obj, form):
        return sms_services.save_sms_provider(
            actor=request.user,
            provider=SmsProvider.objects.get(pk=obj.pk),
            data=form_changes(form, exclude=("collectivite",)),
        )
