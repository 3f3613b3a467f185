from django.db import models
from django.utils.translation import gettext_lazy as _

from grc.demarches.models.dossiers import Dossier


def acknowledgement_path(instance: "Acknowledgement", filename: str) -> str:
    dossier = instance.dossier
    return (
        f"accuses/{dossier.collectivite_id}/{dossier.uuid}/{instance.kind}-{dossier.reference}.pdf"
    )


class Acknowledgement(models.Model):
    """An acknowledgement owed to the citizen (CRPA L112-11) and the evidence of it: what was
    sent, to whom and when (L112-6: a missing acknowledgement voids the appeal deadlines)."""

    class Kind(models.TextChoices):
        REGISTRATION = "aee", _("Accusé d'enregistrement")
        RECEPTION = "are", _("Accusé de réception")

    class Status(models.TextChoices):
        PENDING = "pending", _("À envoyer")
        SENT = "sent", _("Envoyé")
        FAILED = "failed", _("Échec de l'envoi")
        TO_PRINT = "to_print", _("À remettre ou poster (pas d'adresse e-mail)")
        NOT_REQUIRED = "not_required", _("Non requis (CRPA R112-4)")

    dossier = models.ForeignKey(
        Dossier,
        on_delete=models.PROTECT,
        related_name="acknowledgements",
        verbose_name=_("dossier"),
    )
    kind = models.CharField(_("type"), max_length=3, choices=Kind.choices)
    status = models.CharField(
        _("état"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    recipient = models.EmailField(_("destinataire"), blank=True)
    subject = models.CharField(_("objet"), max_length=300, blank=True)
    body = models.TextField(_("texte envoyé"), blank=True)
    pdf = models.FileField(
        _("document PDF"), upload_to=acknowledgement_path, blank=True, max_length=255
    )
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("accusé")
        verbose_name_plural = _("accusés")
        ordering = ["dossier", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["dossier", "kind"], name="acknowledgement_one_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} – {self.dossier}"
