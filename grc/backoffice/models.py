"""What the agents' workspace keeps of its own: canned responses per service, and the export
jobs run in the background."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from grc.base.models import Collectivite, Service, User


class CannedResponse(models.Model):
    """A ready-made answer a service's agents start their reply from (a Jinja2 template in the
    sandbox, like the démarches' texts)."""

    service = models.ForeignKey(
        Service,
        on_delete=models.CASCADE,
        related_name="canned_responses",
        verbose_name=_("service"),
    )
    title = models.CharField(_("titre"), max_length=200)
    body = models.TextField(_("texte"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("réponse type")
        verbose_name_plural = _("réponses types")
        ordering = ["service", "title"]

    def __str__(self) -> str:
        return self.title


def export_path(instance: "ExportJob", filename: str) -> str:
    return f"exports/{instance.collectivite_id}/{instance.pk}-{filename}"


class ExportJob(models.Model):
    """A list or a chart's data exported as CSV or XLSX by the worker, with its progress; the
    file is for the person who asked only."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente")
        RUNNING = "running", _("En cours")
        DONE = "done", _("Prêt")
        FAILED = "failed", _("Échec")

    requested_by = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="+", verbose_name=_("demandé par")
    )
    collectivite = models.ForeignKey(
        Collectivite, on_delete=models.CASCADE, related_name="+", verbose_name=_("collectivité")
    )
    kind = models.CharField(_("contenu"), max_length=50)  # "dossiers", "chart:<name>"…
    params = models.JSONField(_("filtres"), default=dict, blank=True)
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    status = models.CharField(
        _("état"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    total = models.PositiveIntegerField(_("lignes à écrire"), default=0)
    done = models.PositiveIntegerField(_("lignes écrites"), default=0)
    file = models.FileField(_("fichier"), upload_to=export_path, blank=True, max_length=255)
    error = models.TextField(_("erreur"), blank=True)
    created_at = models.DateTimeField(_("demandé le"), auto_now_add=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} ({self.get_format_display()})"
