"""Phone: the telephony lines that report calls (CTI) and the call log."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from grc.base.fields import EncryptedTextField, PhoneField
from grc.base.models import Collectivite, Service, Usager, User
from grc.demarches.models import Dossier


class PhoneLine(models.Model):
    """A number of the collectivité whose telephony system (CTI) tells us of incoming calls,
    authenticated by a shared secret."""

    collectivite = models.ForeignKey(
        Collectivite, on_delete=models.PROTECT, related_name="phone_lines"
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, related_name="phone_lines"
    )
    name = models.CharField(_("nom"), max_length=200)
    number = PhoneField(_("numéro"), blank=True)
    secret = EncryptedTextField(_("secret partagé"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("ligne téléphonique")
        verbose_name_plural = _("lignes téléphoniques")
        ordering = ["collectivite", "name"]

    def __str__(self) -> str:
        return self.name


class Call(models.Model):
    """A phone call with a citizen, logged by an agent or reported by the CTI."""

    class Direction(models.TextChoices):
        IN = "in", _("Appel reçu")
        OUT = "out", _("Appel émis")

    class Status(models.TextChoices):
        RINGING = "ringing", _("En cours de sonnerie")
        ANSWERED = "answered", _("Décroché")
        MISSED = "missed", _("Manqué")
        ENDED = "ended", _("Terminé")

    collectivite = models.ForeignKey(Collectivite, on_delete=models.PROTECT, related_name="+")
    line = models.ForeignKey(
        PhoneLine, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    direction = models.CharField(_("sens"), max_length=3, choices=Direction.choices)
    number = PhoneField(_("numéro"), blank=True)
    started_at = models.DateTimeField(_("heure"))
    duration = models.PositiveIntegerField(_("durée (secondes)"), null=True, blank=True)
    status = models.CharField(
        _("état"), max_length=10, choices=Status.choices, default=Status.ENDED
    )
    agent = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agent"),
    )
    usager = models.ForeignKey(
        Usager,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("usager"),
    )
    dossier = models.ForeignKey(
        Dossier,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("dossier"),
    )
    notes = models.TextField(_("notes"), blank=True)
    # The telephony system's id of the call: a repeated event updates the same row.
    external_id = models.CharField(_("identifiant de l'appel"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("appel")
        verbose_name_plural = _("appels")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["line", "external_id"],
                condition=~models.Q(external_id=""),
                name="call_external_id_once",
            ),
        ]
        indexes = [
            models.Index(fields=["collectivite", "started_at"], name="call_started_idx"),
            models.Index(fields=["agent", "status"], name="call_agent_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.number}"
