"""The admin of the other channels' webhooks (imported by grc.channels.admin): a collectivité's
administrators set up their channels and read what came in and went out; nobody sees another
collectivité's. The HMAC secret is write-only: generated when left empty, shown once after
saving, never again. Writes go through grc.channels.hooks.services."""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from grc.base.admin.scoped import CollectiviteOwnedAdmin, ScopedAdmin, form_changes, form_data
from grc.channels.hooks import access as hook_access
from grc.channels.hooks import services, signing
from grc.channels.models import HookChannel, HookDelivery, HookMessage


class HookChannelForm(forms.ModelForm):
    outbound_url = forms.URLField(
        label=_("adresse des réponses"),
        required=False,
        assume_scheme="https",
        help_text=_(
            "Adresse https du connecteur où envoyer les réponses des agents ; vide : les "
            "réponses ne passent pas par ce canal."
        ),
    )
    new_secret = forms.CharField(
        label=_("secret HMAC"),
        required=False,
        strip=True,
        min_length=signing.MIN_SECRET_LENGTH,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    regenerate = forms.BooleanField(
        label=_("générer un nouveau secret"),
        required=False,
        help_text=_(
            "L'ancien secret cesse aussitôt de fonctionner : le connecteur doit recevoir le "
            "nouveau."
        ),
    )

    class Meta:
        model = HookChannel
        fields = ["collectivite", "name", "slug", "outbound_url", "demarche", "is_active"]
        help_texts = {
            "slug": _("Dans l'adresse des messages : lettres minuscules, chiffres et tirets."),
            "demarche": _("Vide : la démarche « Courriel » de la collectivité."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        adding = self.instance.pk is None
        self.fields["new_secret"].help_text = (
            _("Laissez vide pour qu'un secret soit généré (il sera affiché une seule fois).")
            if adding
            else _("Laissez vide pour garder le secret enregistré (il n'est jamais réaffiché).")
        )
        if adding:
            del self.fields["regenerate"]

    def clean(self):
        cleaned = super().clean()
        demarche = cleaned.get("demarche")
        collectivite = cleaned.get("collectivite") or getattr(self.instance, "collectivite", None)
        if (
            demarche is not None
            and collectivite is not None
            and demarche.collectivite_id != collectivite.pk
        ):
            self.add_error("demarche", _("Cette démarche n'est pas celle de la collectivité."))
        if cleaned.get("regenerate") and cleaned.get("new_secret"):
            self.add_error(
                "regenerate", _("Tapez un secret ou demandez-en un nouveau, pas les deux.")
            )
        return cleaned


def _show_secret_once(request, hook: HookChannel) -> None:
    messages.warning(
        request,
        format_html(
            "{} <code>{}</code>",
            gettext(
                "Secret HMAC du canal « %(c)s », à donner au connecteur : il ne sera plus "
                "jamais affiché."
            )
            % {"c": hook.name},
            hook.secret,
        ),
    )


@admin.register(HookChannel)
class HookChannelAdmin(CollectiviteOwnedAdmin):
    form = HookChannelForm
    visible_to = staticmethod(hook_access.hook_channels_visible_to)
    list_display = ["name", "slug", "collectivite", "outbound_url", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug", "collectivite__name"]
    list_select_related = ["collectivite"]
    prepopulated_fields = {"slug": ["name"]}

    def get_fields(self, request, obj=None):
        fields = ["collectivite", "name", "slug", "new_secret"]
        if obj is not None:
            fields += ["regenerate", "endpoint"]
        return [*fields, "outbound_url", "demarche", "is_active"]

    @admin.display(description=_("adresse des messages"))
    def endpoint(self, obj):
        path = reverse(
            "channels_api:hook_message",
            kwargs={"collectivite_slug": obj.collectivite.slug, "channel_slug": obj.slug},
        )
        return format_html("<code>{}</code>", (settings.GRC_BASE_URL or "").rstrip("/") + path)

    def get_readonly_fields(self, request, obj=None):
        # The connector's address exists once the channel does.
        return [*super().get_readonly_fields(request, obj), *(["endpoint"] if obj else [])]

    def create(self, request, form):
        typed = form.cleaned_data.get("new_secret", "")
        hook = services.create_hook_channel(
            actor=request.user,
            collectivite=form.cleaned_data["collectivite"],
            data=form_data(form, exclude=("collectivite", "secret")),
            secret=typed,
        )
        if not typed:
            _show_secret_once(request, hook)
        return hook

    def update(self, request, obj, form):
        regenerate = form.cleaned_data.get("regenerate")
        new_secret = signing.new_secret() if regenerate else form.cleaned_data.get("new_secret")
        hook = services.update_hook_channel(
            actor=request.user,
            hook=HookChannel.objects.get(pk=obj.pk),
            changes=form_changes(form, exclude=("collectivite",)),
            new_secret=new_secret or "",
        )
        if regenerate:
            _show_secret_once(request, hook)
        return hook


def _without_file_contents(payload):
    """The payload as received, each attachment's base64 replaced by its size."""
    if not isinstance(payload, dict):
        return payload
    shown = dict(payload)
    if isinstance(shown.get("attachments"), list):
        shown["attachments"] = [
            {**item, "content_base64": f"({len(str(item.get('content_base64', '')))} car.)"}
            if isinstance(item, dict)
            else item
            for item in shown["attachments"]
        ]
    return shown


@admin.register(HookMessage)
class HookMessageAdmin(ScopedAdmin):
    visible_to = staticmethod(hook_access.hook_messages_visible_to)
    list_display = ["received_at", "channel", "external_id", "outcome", "dossier"]
    list_filter = ["outcome"]
    search_fields = ["external_id", "thread_id", "dossier__reference"]
    list_select_related = ["channel", "dossier"]
    fields = [
        "channel",
        "external_id",
        "thread_id",
        "received_at",
        "outcome",
        "detail",
        "dossier",
        "usager",
        "payload_display",
    ]
    readonly_fields = fields

    @admin.display(description=_("contenu reçu"))
    def payload_display(self, obj):
        text = json.dumps(_without_file_contents(obj.payload), ensure_ascii=False, indent=2)
        return format_html("<pre>{}</pre>", text)


@admin.register(HookDelivery)
class HookDeliveryAdmin(ScopedAdmin):
    visible_to = staticmethod(hook_access.hook_deliveries_visible_to)
    list_display = ["created_at", "channel", "message", "status", "attempts", "sent_at"]
    list_filter = ["status"]
    list_select_related = ["channel", "message"]
    fields = ["channel", "message", "status", "attempts", "last_error", "created_at", "sent_at"]
    readonly_fields = fields
