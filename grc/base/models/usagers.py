from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _

from grc.base.fields import PhoneField
from grc.base.models.address import PostalAddress
from grc.base.models.collectivites import Collectivite
from grc.base.models.people import User


class Channel(models.TextChoices):
    """How something reached us or leaves us. One list for the whole product."""

    WEB = "web", _("Site web")
    EMAIL = "email", _("Courriel")
    COURRIER = "courrier", _("Courrier")
    PHONE = "phone", _("Téléphone")
    COUNTER = "counter", _("Accueil (guichet)")
    SMS = "sms", _("SMS")
    SOCIAL = "social", _("Réseau social")
    API = "api", _("API")
    ADMIN = "admin", _("Administration")
    SYSTEM = "system", _("Automatique")
    OTHER = "other", _("Autre")


class Usager(PostalAddress):
    """The citizen record ("fiche usager") of one collectivité.

    Every interaction with a person, whatever its channel, ends on one of these. Records are
    created and changed only through grc.base.services.usagers.
    """

    class Civility(models.TextChoices):
        MADAME = "mme", _("Madame")
        MONSIEUR = "m", _("Monsieur")

    class PreferredChannel(models.TextChoices):
        EMAIL = "email", _("Courriel")
        SMS = "sms", _("SMS")
        PHONE = "phone", _("Téléphone")
        COURRIER = "courrier", _("Courrier")

    collectivite = models.ForeignKey(
        Collectivite,
        on_delete=models.PROTECT,
        related_name="usagers",
        verbose_name=_("collectivité"),
    )
    civility = models.CharField(_("civilité"), max_length=3, choices=Civility.choices, blank=True)
    first_name = models.CharField(_("prénom"), max_length=150, blank=True)
    last_name = models.CharField(_("nom"), max_length=150, blank=True)
    birth_name = models.CharField(_("nom de naissance"), max_length=150, blank=True)
    birth_date = models.DateField(_("date de naissance"), null=True, blank=True)
    email = models.EmailField(_("adresse e-mail"), blank=True)
    phones = ArrayField(
        PhoneField(),
        verbose_name=_("téléphones"),
        default=list,
        blank=True,
        help_text=_(
            "Séparés par des virgules ; les numéros sans indicatif sont lus comme français."
        ),
    )
    preferred_channel = models.CharField(
        _("canal préféré"), max_length=10, choices=PreferredChannel.choices, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    account = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="usagers",
        verbose_name=_("compte usager"),
    )
    created_channel = models.CharField(
        _("créée par le canal"), max_length=10, choices=Channel.choices
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_records",
        verbose_name=_("fusionnée dans"),
    )
    # Accent-free lower-case "first last", kept by the services for duplicate search (pg_trgm).
    name_key = models.CharField(max_length=310, blank=True, editable=False)

    class Meta:
        verbose_name = _("fiche usager")
        verbose_name_plural = _("fiches usagers")
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            models.Index(fields=["collectivite", "email"], name="usager_email_idx"),
            GinIndex(fields=["phones"], name="usager_phones_idx"),
            GinIndex(fields=["name_key"], opclasses=["gin_trgm_ops"], name="usager_name_trgm_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["collectivite", "account"],
                name="usager_one_record_per_account",
                condition=models.Q(account__isnull=False, merged_into__isnull=True),
                violation_error_message=_(
                    "Ce compte est déjà lié à une autre fiche de cette collectivité."
                ),
            ),
            models.CheckConstraint(
                condition=~models.Q(merged_into=models.F("id")), name="usager_not_merged_into_self"
            ),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or (self.phones[0] if self.phones else f"#{self.pk}")


class DuplicateCandidate(models.Model):
    """Two records that probably describe the same person, left for an agent to decide."""

    class Status(models.TextChoices):
        OPEN = "open", _("À examiner")
        MERGED = "merged", _("Fusionnés")
        DISMISSED = "dismissed", _("Personnes différentes")

    collectivite = models.ForeignKey(
        Collectivite,
        on_delete=models.PROTECT,
        related_name="duplicate_candidates",
        verbose_name=_("collectivité"),
    )
    first = models.ForeignKey(
        Usager, on_delete=models.CASCADE, related_name="+", verbose_name=_("fiche")
    )
    second = models.ForeignKey(
        Usager, on_delete=models.CASCADE, related_name="+", verbose_name=_("doublon probable")
    )
    score = models.FloatField(_("similarité des noms"))
    reason = models.CharField(_("raison"), max_length=200)
    status = models.CharField(
        _("statut"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("détecté le"), auto_now_add=True)

    class Meta:
        verbose_name = _("doublon probable")
        verbose_name_plural = _("doublons probables")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="duplicate_pair_unique"),
            models.CheckConstraint(
                condition=models.Q(first__lt=models.F("second")), name="duplicate_pair_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first} ≈ {self.second}"
