from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from grc.base.models import Channel, Collectivite, Service, User

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


def default_channels() -> list[str]:
    return [Channel.WEB, Channel.EMAIL, Channel.COURRIER, Channel.PHONE, Channel.COUNTER]


class Demarche(models.Model):
    """An online procedure of a collectivité, or a model in the platform catalogue
    (collectivite is empty) that collectivités adopt. Its form lives in versions."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Brouillon")
        PUBLISHED = "published", _("Publiée")
        CLOSED = "closed", _("Fermée")

    class WhoMayFile(models.TextChoices):
        ACCOUNT = "account", _("Usagers connectés à leur compte")
        ANONYMOUS = "anonymous", _("Tout le monde, avec une adresse e-mail")
        AGENTS = "agents", _("Agents seulement (accueil, téléphone, courrier)")

    class ImplicitDecision(models.TextChoices):
        NONE = "none", _("Pas de décision implicite")
        SVA = "sva", _("Silence vaut acceptation (SVA)")
        SVR = "svr", _("Silence vaut rejet (SVR)")

    class PeriodUnit(models.TextChoices):
        DAYS = "days", _("jours")
        WEEKS = "weeks", _("semaines")
        MONTHS = "months", _("mois")

    collectivite = models.ForeignKey(
        Collectivite,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="demarches",
        verbose_name=_("collectivité"),
        help_text=_("Vide : modèle du catalogue de la plateforme."),
    )
    source = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="adoptions",
        verbose_name=_("modèle d'origine"),
    )
    title = models.CharField(_("titre"), max_length=200)
    slug = models.CharField(
        _("identifiant court"),
        max_length=80,
        validators=[
            RegexValidator(
                SLUG_PATTERN,
                _(
                    "En minuscules non accentuées, chiffres et "
                    "tirets seulement (ex. acte-naissance)."
                ),
            )
        ],
    )
    summary = models.CharField(_("résumé"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("catégorie"), max_length=100, blank=True)
    service = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="demarches",
        verbose_name=_("service chargé du dossier"),
    )
    who_may_file = models.CharField(
        _("qui peut déposer"),
        max_length=10,
        choices=WhoMayFile.choices,
        default=WhoMayFile.ACCOUNT,
    )
    channels = ArrayField(
        models.CharField(max_length=10, choices=Channel.choices),
        default=default_channels,
        verbose_name=_("canaux acceptés"),
    )
    one_per_citizen = models.BooleanField(_("un seul dossier par usager"), default=False)
    draft_lifespan_days = models.PositiveSmallIntegerField(
        _("durée de vie des brouillons (jours)"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    implicit_decision = models.CharField(
        _("décision implicite"),
        max_length=4,
        choices=ImplicitDecision.choices,
        default=ImplicitDecision.SVA,
    )
    decision_period = models.PositiveSmallIntegerField(
        _("délai de décision"), default=2, validators=[MinValueValidator(1)]
    )
    decision_period_unit = models.CharField(
        _("unité du délai"), max_length=6, choices=PeriodUnit.choices, default=PeriodUnit.MONTHS
    )
    clock_restarts_on_pieces = models.BooleanField(
        _("le délai repart à la réception des pièces"),
        default=False,
        help_text=_(
            "Sinon (par défaut), l'attente des pièces manquantes suspend le délai, qui "
            "reprend le lendemain de leur réception (CRPA L114-5)."
        ),
    )
    acknowledgement_required = models.BooleanField(
        _("accusé de réception requis"),
        default=True,
        help_text=_(
            "Décochez seulement dans les cas de l'article R112-4 du CRPA (décision "
            "favorable sous 15 jours, ou simple délivrance d'un document)."
        ),
    )
    legal_basis = models.TextField(_("base légale"), blank=True)
    data_purpose = models.TextField(_("finalité du traitement des données"), blank=True)
    retention_months = models.PositiveSmallIntegerField(
        _("durée de conservation (mois)"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    texts = models.JSONField(_("textes personnalisés"), default=dict, blank=True)
    opens_at = models.DateTimeField(_("ouverture"), null=True, blank=True)
    closes_at = models.DateTimeField(_("fermeture"), null=True, blank=True)
    state = models.CharField(_("état"), max_length=10, choices=State.choices, default=State.DRAFT)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("démarche")
        verbose_name_plural = _("démarches")
        ordering = ["category", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["collectivite", "slug"],
                nulls_distinct=False,
                name="demarche_slug_unique",
                violation_error_message=_("Une démarche utilise déjà cet identifiant court."),
            ),
            models.CheckConstraint(
                condition=models.Q(closes_at__isnull=True)
                | models.Q(opens_at__isnull=True)
                | models.Q(closes_at__gt=models.F("opens_at")),
                name="demarche_closes_after_opening",
                violation_error_message=_("La fermeture doit suivre l'ouverture."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_model(self) -> bool:
        return self.collectivite_id is None


class DemarcheVersion(models.Model):
    """A frozen form (and, later, workflow). Published versions never change: every dossier is
    validated and displayed against the version it was filed with."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Brouillon")
        PUBLISHED = "published", _("En ligne")
        ARCHIVED = "archived", _("Remplacée")

    demarche = models.ForeignKey(
        Demarche, on_delete=models.CASCADE, related_name="versions", verbose_name=_("démarche")
    )
    number = models.PositiveIntegerField(_("numéro"))
    definition = models.JSONField(_("formulaire"), default=dict)
    workflow = models.JSONField(_("circuit de traitement"), default=dict)
    status = models.CharField(
        _("statut"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)
    published_at = models.DateTimeField(_("publiée le"), null=True, blank=True)
    published_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("publiée par"),
    )

    class Meta:
        verbose_name = _("version de démarche")
        verbose_name_plural = _("versions de démarche")
        ordering = ["demarche", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["demarche", "number"], name="version_number_unique"),
            models.UniqueConstraint(
                fields=["demarche"], condition=models.Q(status="draft"), name="version_one_draft"
            ),
            models.UniqueConstraint(
                fields=["demarche"],
                condition=models.Q(status="published"),
                name="version_one_published",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.demarche} – v{self.number}"
