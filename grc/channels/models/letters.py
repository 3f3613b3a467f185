"""Letters (courrier): incoming letters registered with their scan (OCR in the background),
outgoing letters generated from templates on the collectivité's letterhead."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from grc.base.models import Collectivite, Usager, User
from grc.demarches.models import Attachment, Document, Dossier


class LetterTemplate(models.Model):
    """The text of an outgoing letter, written by staff (Jinja2, sandboxed)."""

    collectivite = models.ForeignKey(
        Collectivite, on_delete=models.PROTECT, related_name="letter_templates"
    )
    name = models.CharField(_("nom"), max_length=200)
    subject = models.CharField(_("objet"), max_length=300, blank=True)
    body = models.TextField(_("texte"))
    signature = models.CharField(_("signataire"), max_length=300, blank=True)
    is_active = models.BooleanField(_("utilisable"), default=True)

    class Meta:
        verbose_name = _("modèle de courrier")
        verbose_name_plural = _("modèles de courrier")
        ordering = ["collectivite", "name"]

    def __str__(self) -> str:
        return self.name


class Letter(models.Model):
    class Direction(models.TextChoices):
        IN = "in", _("Courrier reçu")
        OUT = "out", _("Courrier envoyé")

    class OcrStatus(models.TextChoices):
        NONE = "", _("—")
        PENDING = "pending", _("Lecture en cours")
        DONE = "done", _("Texte lu")
        FAILED = "failed", _("Lecture impossible")

    collectivite = models.ForeignKey(Collectivite, on_delete=models.PROTECT, related_name="+")
    direction = models.CharField(_("sens"), max_length=3, choices=Direction.choices)
    dossier = models.ForeignKey(
        Dossier,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="letters",
        verbose_name=_("dossier"),
    )
    usager = models.ForeignKey(
        Usager,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="letters",
        verbose_name=_("usager"),
    )
    # Incoming: who wrote, when it arrived (the legal receipt date), the scan and its text.
    sender = models.CharField(_("expéditeur"), max_length=300, blank=True)
    received_on = models.DateField(_("reçu le"), null=True, blank=True)
    scan = models.OneToOneField(
        Attachment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="letter",
        verbose_name=_("numérisation"),
    )
    ocr_status = models.CharField(
        _("lecture du texte"), max_length=10, choices=OcrStatus.choices, blank=True, default=""
    )
    ocr_text = models.TextField(_("texte lu"), blank=True)
    ocr_error = models.TextField(blank=True)
    # Outgoing: the address on the envelope and the PDF made.
    recipient_address = models.TextField(_("adresse du destinataire"), blank=True)
    template = models.ForeignKey(
        LetterTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    document = models.OneToOneField(
        Document, on_delete=models.SET_NULL, null=True, blank=True, related_name="letter"
    )
    subject = models.CharField(_("objet"), max_length=300, blank=True)
    registered_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("enregistré le"), auto_now_add=True)

    class Meta:
        verbose_name = _("courrier")
        verbose_name_plural = _("courriers")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["collectivite", "created_at"], name="letter_created_idx")]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} – {self.sender or self.subject}"
