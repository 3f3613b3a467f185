import datetime
import secrets
import uuid
from pathlib import PurePath

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models.functions import Coalesce, Least
from django.utils.translation import gettext_lazy as _

from grc.base.models import Channel, Collectivite, Service, Usager, User
from grc.demarches.models.demarches import Demarche, DemarcheVersion

# Dossiers without any deadline sort after every dated one (a sort key is never NULL, so that
# keyset pagination compares plain values).
DEADLINE_NONE = models.Value(datetime.date(9999, 12, 31))


class DossierQuerySet(models.QuerySet):
    def filed(self) -> "DossierQuerySet":
        """Submitted dossiers, whatever their workflow status."""
        return self.exclude(status=Dossier.DRAFT)

    def drafts(self) -> "DossierQuerySet":
        return self.filter(status=Dossier.DRAFT)


class Dossier(models.Model):
    """A request filed on a démarche: its answers, its citizen, its legal dates."""

    # Before submission a dossier is a draft; after, its status is a key of its version's
    # workflow (grc.demarches.workflow), whose labels say what it means.
    DRAFT = "draft"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    collectivite = models.ForeignKey(
        Collectivite,
        on_delete=models.PROTECT,
        related_name="dossiers",
        verbose_name=_("collectivité"),
    )
    demarche = models.ForeignKey(
        Demarche, on_delete=models.PROTECT, related_name="dossiers", verbose_name=_("démarche")
    )
    version = models.ForeignKey(
        DemarcheVersion,
        on_delete=models.PROTECT,
        related_name="dossiers",
        verbose_name=_("version"),
    )
    reference = models.CharField(_("référence"), max_length=40, blank=True)
    tracking_code = models.CharField(_("code de suivi"), max_length=8, blank=True)
    usager = models.ForeignKey(
        Usager,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dossiers",
        verbose_name=_("usager"),
    )
    account = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="dossiers",
        verbose_name=_("compte usager"),
    )
    contact_email = models.EmailField(_("adresse e-mail de contact"), blank=True)
    channel = models.CharField(_("canal"), max_length=10, choices=Channel.choices)
    answers = models.JSONField(_("réponses"), default=dict, blank=True)
    status = models.CharField(_("statut"), max_length=50, default=DRAFT)
    status_entered_at = models.DateTimeField(_("dans ce statut depuis"), null=True, blank=True)
    # Kept by the workflow on each status change, so that the periodic tasks read an index
    # instead of every dossier: the next timer of the status, and when a final status was
    # reached (closed dossiers have no timer nor implicit decision left).
    timer_due_on = models.DateField(_("prochain délai"), null=True, blank=True)
    closed_at = models.DateTimeField(_("clos le"), null=True, blank=True)
    annotations = models.JSONField(_("annotations privées"), default=dict, blank=True)
    service = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dossiers",
        verbose_name=_("service"),
    )
    assignee = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_dossiers",
        verbose_name=_("agent"),
    )
    received_at = models.DateTimeField(
        _("reçu le"), null=True, blank=True, help_text=_("Date légale de réception.")
    )
    submitted_at = models.DateTimeField(_("enregistré le"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("saisi par"),
    )
    implicit_decision = models.CharField(_("décision implicite"), max_length=4, blank=True)
    # The démarche's legal settings as they were when the dossier was filed: the dates given in
    # its acknowledgement must not move because an admin edits the démarche afterwards.
    decision_period = models.PositiveSmallIntegerField(
        _("délai de décision"), null=True, blank=True
    )
    decision_period_unit = models.CharField(_("unité du délai"), max_length=6, blank=True)
    clock_restarts_on_pieces = models.BooleanField(
        _("le délai repart à la réception des pièces"), default=False
    )
    # CRPA L114-3: receipt by the competent authority after a transfer (acceptance runs from it).
    competent_received_at = models.DateTimeField(
        _("reçu par l'autorité compétente le"), null=True, blank=True
    )
    expected_decision_date = models.DateField(
        _("date de décision implicite"), null=True, blank=True
    )
    # Short labels the agents put on dossiers to sort their work (filters and bulk actions).
    tags = ArrayField(
        models.CharField(max_length=40), verbose_name=_("étiquettes"), default=list, blank=True
    )
    # The text the queues' search reads (reference, tracking code, citizen, answers, messages),
    # kept by grc.demarches.search.refresh_search after each change; never edited by hand.
    search = SearchVectorField(null=True, editable=False)
    # Proves who may resume an anonymous draft (kept in that browser's session).
    draft_token = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    objects = DossierQuerySet.as_manager()

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["collectivite", "status"], name="dossier_status_idx"),
            models.Index(fields=["account", "status"], name="dossier_account_idx"),
            models.Index(
                fields=["timer_due_on"],
                name="dossier_timer_idx",
                condition=models.Q(timer_due_on__isnull=False),
            ),
            models.Index(
                fields=["expected_decision_date"],
                name="dossier_decision_idx",
                condition=models.Q(closed_at__isnull=True, expected_decision_date__isnull=False),
            ),
            # The queues: sorted by received date or deadline, then id (keyset pagination);
            # full-text search, tags, and a reference typed in part.
            models.Index(fields=["received_at", "id"], name="dossier_received_idx"),
            models.Index(
                fields=["service", "received_at", "id"], name="dossier_service_received_idx"
            ),
            models.Index(
                Coalesce(Least("expected_decision_date", "timer_due_on"), DEADLINE_NONE),
                "id",
                name="dossier_deadline_idx",
            ),
            GinIndex(fields=["search"], name="dossier_search_idx"),
            GinIndex(fields=["tags"], name="dossier_tags_idx"),
            GinIndex(
                fields=["reference"], opclasses=["gin_trgm_ops"], name="dossier_reference_trgm_idx"
            ),
        ]
        constraints = [
            # Drafts have no reference nor tracking code yet (""), submitted dossiers one each.
            models.UniqueConstraint(
                fields=["collectivite", "reference"],
                condition=~models.Q(reference=""),
                name="dossier_reference_unique",
            ),
            models.UniqueConstraint(
                fields=["collectivite", "tracking_code"],
                condition=~models.Q(tracking_code=""),
                name="dossier_tracking_code_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft")
                | (
                    ~models.Q(reference="")
                    & models.Q(received_at__isnull=False, usager__isnull=False)
                ),
                name="dossier_submitted_is_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.reference or _("Brouillon %(id)s") % {"id": self.pk}

    @property
    def is_filed(self) -> bool:
        return self.status != self.DRAFT

    @staticmethod
    def new_draft_token() -> str:
        return secrets.token_urlsafe(32)


def attachment_path(instance: "Attachment", filename: str) -> str:
    # Never the citizen's file name in the path: it is personal data and may be hostile.
    suffix = PurePath(filename).suffix.lower()[:10]
    return (
        f"dossiers/{instance.dossier.collectivite_id}/{instance.dossier.uuid}/"
        f"{secrets.token_hex(12)}{suffix}"
    )


class Attachment(models.Model):
    """A file sent with a dossier, checked for its real type and size before it was stored."""

    dossier = models.ForeignKey(
        Dossier, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("dossier")
    )
    field_key = models.CharField(_("champ"), max_length=50)
    file = models.FileField(_("fichier"), upload_to=attachment_path, max_length=255)
    original_name = models.CharField(_("nom d'origine"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("taille (octets)"))
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(_("envoyé le"), auto_now_add=True)
    uploaded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("pièce jointe")
        verbose_name_plural = _("pièces jointes")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class ReferenceCounter(models.Model):
    """The last reference number given per collectivité and year. Incremented inside the
    submission's transaction: a rolled back submission gives its number back (no gaps), and the
    row lock makes concurrent submissions wait their turn (no duplicates)."""

    collectivite = models.ForeignKey(Collectivite, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["collectivite", "year"], name="reference_counter_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.collectivite_id}/{self.year}: {self.last_number}"
