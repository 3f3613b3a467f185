"""SMS out: the collectivité's provider (a generic HTTP interface) and every SMS sent."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from grc.base.fields import EncryptedTextField, PhoneField
from grc.base.models import Collectivite, Usager
from grc.demarches.models import ActionRun, Dossier, Message


class SmsProvider(models.Model):
    """How a collectivité sends SMS: a provider reached over HTTP (URL, token, sender name)."""

    class Kind(models.TextChoices):
        GENERIC_HTTP = "http", _("HTTP générique (JSON)")

    collectivite = models.OneToOneField(
        Collectivite, on_delete=models.PROTECT, related_name="sms_provider"
    )
    kind = models.CharField(
        _("type"), max_length=10, choices=Kind.choices, default=Kind.GENERIC_HTTP
    )
    url = models.URLField(_("adresse d'envoi"))
    token = EncryptedTextField(_("jeton"), blank=True)
    sender = models.CharField(_("expéditeur affiché"), max_length=11)
    # The provider calls us back with delivery reports signed with this secret.
    callback_secret = EncryptedTextField(_("secret des accusés de réception"), blank=True)
    is_active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("fournisseur de SMS")
        verbose_name_plural = _("fournisseurs de SMS")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} – {self.sender}"


class SmsMessage(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("À envoyer")
        SENT = "sent", _("Envoyé")
        DELIVERED = "delivered", _("Remis")
        FAILED = "failed", _("Échec")

    collectivite = models.ForeignKey(Collectivite, on_delete=models.PROTECT, related_name="+")
    dossier = models.ForeignKey(
        Dossier, on_delete=models.SET_NULL, null=True, blank=True, related_name="sms_messages"
    )
    usager = models.ForeignKey(
        Usager, on_delete=models.SET_NULL, null=True, blank=True, related_name="sms_messages"
    )
    message = models.OneToOneField(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="sms"
    )
    action_run = models.OneToOneField(
        ActionRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="sms"
    )
    to = PhoneField(_("destinataire"))
    body = models.TextField(_("texte"))
    status = models.CharField(
        _("état"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    provider_id = models.CharField(_("identifiant chez le fournisseur"), max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("remis le"), null=True, blank=True)

    class Meta:
        verbose_name = _("SMS")
        verbose_name_plural = _("SMS")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["provider_id"], name="sms_provider_id_idx")]

    def __str__(self) -> str:
        return f"{self.to}: {self.body[:40]}"
