from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from grc.base.fields import PhoneField, SirenField
from grc.base.models.address import PostalAddress
from grc.base.validators import validate_portal_colour

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
REFERENCE_PREFIX_PATTERN = r"^[A-Z0-9]+(-[A-Z0-9]+)*$"


class AccessibilityStatus(models.TextChoices):
    TOTAL = "totale", _("totalement conforme")
    PARTIAL = "partielle", _("partiellement conforme")
    NON = "non", _("non conforme")


class Collectivite(PostalAddress):
    """A tenant of the platform: a commune, an EPCI… Everything else hangs from one."""

    class Kind(models.TextChoices):
        COMMUNE = "commune", _("Commune")
        EPCI = "epci", _("Intercommunalité (EPCI)")
        DEPARTEMENT = "departement", _("Département")
        SYNDICAT = "syndicat", _("Syndicat")
        OTHER = "other", _("Autre")

    name = models.CharField(_("nom"), max_length=200)
    slug = models.CharField(
        _("identifiant court"),
        max_length=60,
        validators=[
            RegexValidator(
                SLUG_PATTERN,
                _("En minuscules non accentuées, chiffres et tirets seulement (ex. saint-aubin)."),
            )
        ],
        unique=True,
        help_text=_("Utilisé dans les adresses web (/c/<identifiant>/) et les références."),
        error_messages={"unique": _("Une collectivité utilise déjà cet identifiant court.")},
    )
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    reference_prefix = models.CharField(
        _("préfixe des références"),
        max_length=20,
        unique=True,
        validators=[
            RegexValidator(
                REFERENCE_PREFIX_PATTERN,
                _("En majuscules non accentuées, chiffres et tirets (ex. MAIRIE-STAUBIN)."),
            )
        ],
        help_text=_("Début des références de dossiers : PREFIXE-2026-000123."),
        error_messages={"unique": _("Une collectivité utilise déjà ce préfixe.")},
    )
    siren = SirenField(
        _("SIREN"),
        unique=True,
        error_messages={"unique": _("Une collectivité porte déjà ce SIREN.")},
    )
    email = models.EmailField(_("adresse e-mail"), blank=True)
    phone = PhoneField(_("téléphone"), blank=True)
    website = models.URLField(_("site web"), blank=True)
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    primary_colour = models.CharField(
        _("couleur principale"),
        max_length=7,
        default="#000091",
        validators=[validate_portal_colour],
    )
    secondary_colour = models.CharField(
        _("couleur secondaire"),
        max_length=7,
        default="#1f4e79",
        validators=[validate_portal_colour],
    )
    legal_mentions = models.TextField(_("mentions légales"), blank=True)
    dpo_name = models.CharField(
        _("délégué à la protection des données"), max_length=200, blank=True
    )
    dpo_email = models.EmailField(_("e-mail du délégué à la protection des données"), blank=True)
    dpo_address = models.TextField(_("adresse postale du délégué"), blank=True)
    publication_director = models.CharField(
        _("directeur ou directrice de la publication"), max_length=200, blank=True
    )
    # The accessibility declaration (RGAA; shown on the portal's "Accessibilité" page, its
    # status on the home page).
    accessibility_status = models.CharField(
        _("conformité RGAA"),
        max_length=12,
        choices=AccessibilityStatus.choices,
        default=AccessibilityStatus.NON,
    )
    accessibility_rate = models.DecimalField(
        _("taux de critères respectés (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    accessibility_audit_date = models.DateField(_("date de l'audit"), null=True, blank=True)
    accessibility_auditor = models.CharField(_("audit réalisé par"), max_length=200, blank=True)
    accessibility_non_compliances = models.TextField(_("non-conformités"), blank=True)
    accessibility_derogations = models.TextField(_("dérogations"), blank=True)
    accessibility_contact = models.CharField(
        _("contact pour signaler un défaut d'accessibilité"),
        max_length=300,
        blank=True,
        help_text=_("Adresse e-mail, formulaire ou téléphone."),
    )
    accessibility_multiyear_plan = models.TextField(_("schéma pluriannuel"), blank=True)
    accessibility_action_plan = models.TextField(_("plan d'action de l'année"), blank=True)
    staff_2fa_required = models.BooleanField(
        _("double authentification obligatoire pour les agents"),
        default=False,
        help_text=_(
            "Les agents, responsables et administrateurs de la collectivité doivent saisir un "
            "code à usage unique (application d'authentification) à chaque connexion."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("collectivité")
        verbose_name_plural = _("collectivités")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(slug__regex=SLUG_PATTERN),
                name="collectivite_slug_lowercase",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CollectiviteHost(models.Model):
    """A host name that selects a collectivité's portal (demarches.ville.fr)."""

    collectivite = models.ForeignKey(
        Collectivite, on_delete=models.CASCADE, related_name="hosts", verbose_name=_("collectivité")
    )
    host = models.CharField(_("nom d'hôte"), max_length=253)

    class Meta:
        verbose_name = _("nom d'hôte")
        verbose_name_plural = _("noms d'hôte")
        constraints = [
            models.UniqueConstraint(Lower("host"), name="collectivitehost_host_unique"),
        ]

    def __str__(self) -> str:
        return self.host


class Service(PostalAddress):
    """A service of a collectivité (état civil, urbanisme…): in charge of démarches and dossiers."""

    collectivite = models.ForeignKey(
        Collectivite,
        on_delete=models.PROTECT,
        related_name="services",
        verbose_name=_("collectivité"),
    )
    name = models.CharField(_("nom"), max_length=200)
    email = models.EmailField(_("adresse e-mail"), blank=True)
    phone = PhoneField(_("téléphone"), blank=True)
    opening_hours = models.TextField(
        _("horaires d'ouverture"),
        blank=True,
        help_text=_("Tels qu'ils seront affichés aux usagers, ex. « Lundi–vendredi 8h30–12h »."),
    )
    is_active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["collectivite__name", "name"]
        constraints = [
            models.UniqueConstraint(
                "collectivite",
                Lower("name"),
                name="service_name_unique_per_collectivite",
                violation_error_message=_("Cette collectivité a déjà un service de ce nom."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.collectivite})"
