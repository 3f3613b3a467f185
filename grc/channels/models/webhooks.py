"""Other channels (social networks, chat, external sites) through generic webhooks: messages
come in as signed JSON, replies go out to the connector's address. A connector is a small
program outside the core that speaks this one interface."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from grc.base.fields import EncryptedTextField
from grc.base.models import Collectivite, Usager
from grc.demarches.models import Demarche, Dossier, Message


class HookChannel(models.Model):
    collectivite = models.ForeignKey(
        Collectivite, on_delete=models.PROTECT, related_name="hook_channels"
    )
    name = models.CharField(_("nom"), max_length=200, help_text=_("Par exemple « Facebook »."))
    slug = models.SlugField(_("identifiant"), max_length=50)
    secret = EncryptedTextField(_("secret HMAC"))
    outbound_url = models.URLField(_("adresse des réponses"), blank=True)
    demarche = models.ForeignKey(
        Demarche,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("démarche des nouveaux messages"),
    )
    is_active = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("canal externe")
        verbose_name_plural = _("canaux externes")
        ordering = ["collectivite", "name"]
        constraints = [
            models.UniqueConstraint(fields=["collectivite", "slug"], name="hook_channel_slug"),
        ]

    def __str__(self) -> str:
        return self.name


class HookMessage(models.Model):
    """A message received through a channel's webhook, kept as it came."""

    class Outcome(models.TextChoices):
        THREADED = "threaded", _("Ajouté à un dossier")
        OPENED = "opened", _("Nouveau dossier")
        QUARANTINED = "quarantined", _("En quarantaine")

    channel = models.ForeignKey(HookChannel, on_delete=models.PROTECT, related_name="messages")
    external_id = models.CharField(_("identifiant chez l'expéditeur"), max_length=300)
    thread_id = models.CharField(_("fil chez l'expéditeur"), max_length=300, blank=True)
    payload = models.JSONField(_("contenu reçu"))
    outcome = models.CharField(_("suite donnée"), max_length=12, choices=Outcome.choices)
    detail = models.TextField(_("détail"), blank=True)
    dossier = models.ForeignKey(
        Dossier, on_delete=models.SET_NULL, null=True, blank=True, related_name="hook_messages"
    )
    usager = models.ForeignKey(
        Usager, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.OneToOneField(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="hook_message"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("message d'un canal externe")
        verbose_name_plural = _("messages des canaux externes")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="hook_message_once"),
        ]
        indexes = [models.Index(fields=["channel", "thread_id"], name="hook_thread_idx")]

    def __str__(self) -> str:
        return self.external_id


class HookDelivery(models.Model):
    """A reply sent out through a channel's outbound hook, with its retries."""

    class Status(models.TextChoices):
        PENDING = "pending", _("À envoyer")
        SENT = "sent", _("Envoyé")
        FAILED = "failed", _("Échec")

    channel = models.ForeignKey(HookChannel, on_delete=models.PROTECT, related_name="deliveries")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="hook_delivery")
    status = models.CharField(
        _("état"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("envoi vers un canal externe")
        verbose_name_plural = _("envois vers les canaux externes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel} #{self.message_id}"
