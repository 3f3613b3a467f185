from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from grc.base.models.collectivites import Collectivite, Service


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        # Logins are case-insensitive: addresses are stored lower-cased.
        return self.get(email=(username or "").strip().lower())

    def create_user(self, email, password=None, **fields):
        # For Django's own tooling (createsuperuser, tests); the application uses
        # grc.base.services.accounts.create_user, which also writes the audit event.
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields["is_platform_admin"] = True
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser):
    """Everyone who logs in: platform staff, collectivité staff and citizens.

    What a user may see and do follows from `is_platform_admin` and their `Membership` rows, and
    is decided in grc/base/access.py only. Django's permission tables are not used.
    """

    email = models.EmailField(
        _("adresse e-mail"),
        unique=True,
        error_messages={
            "unique": _("Un compte existe déjà avec cette adresse e-mail."),
        },
    )
    first_name = models.CharField(_("prénom"), max_length=150, blank=True)
    last_name = models.CharField(_("nom"), max_length=150, blank=True)
    is_active = models.BooleanField(
        _("actif"),
        default=True,
        help_text=_("Décochez plutôt que de supprimer : l'historique garde la trace du compte."),
    )
    is_platform_admin = models.BooleanField(
        _("administrateur de la plateforme"),
        default=False,
        help_text=_("Configure les collectivités et le catalogue partagé (agence)."),
    )
    date_joined = models.DateTimeField(_("inscrit le"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("compte")
        verbose_name_plural = _("comptes")
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="user_email_lowercase"
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email

    # The Django admin and libraries (procrastinate's job pages) ask these. Our own admin pages
    # ask grc.base.access instead; Django's permissions only open third-party pages to the
    # platform's admins.
    @cached_property
    def is_staff(self) -> bool:
        from grc.base import access

        return access.can_use_admin(self)

    @property
    def is_superuser(self) -> bool:
        return self.is_active and self.is_platform_admin

    def has_perm(self, perm, obj=None) -> bool:
        return self.is_superuser

    def has_perms(self, perm_list, obj=None) -> bool:
        return self.is_superuser

    def has_module_perms(self, app_label) -> bool:
        return self.is_superuser


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrateur de la collectivité")
    MANAGER = "manager", _("Responsable de service")
    AGENT = "agent", _("Agent")


class Membership(models.Model):
    """One role of one person in one collectivité (and, for managers and agents, one service)."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("compte")
    )
    collectivite = models.ForeignKey(
        Collectivite,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("collectivité"),
    )
    service = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("service"),
        help_text=_("Obligatoire pour un responsable de service ; vide pour un administrateur."),
    )
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("rôle d'un agent")
        verbose_name_plural = _("rôles des agents")
        ordering = ["collectivite__name", "user__email"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "collectivite", "service", "role"],
                nulls_distinct=False,
                name="membership_unique",
                violation_error_message=_("Cette personne a déjà ce rôle."),
            ),
            models.CheckConstraint(
                condition=~models.Q(role="admin") | models.Q(service__isnull=True),
                name="membership_admin_without_service",
                violation_error_message=_(
                    "Un administrateur l'est de toute la collectivité : "
                    "ne choisissez pas de service."
                ),
            ),
            models.CheckConstraint(
                condition=~models.Q(role="manager") | models.Q(service__isnull=False),
                name="membership_manager_has_service",
                violation_error_message=_(
                    "Choisissez le service dont cette personne est responsable."
                ),
            ),
        ]

    def __str__(self) -> str:
        where = self.service.name if self.service_id else self.collectivite.name
        return f"{self.user} – {self.get_role_display()} – {where}"

    def clean(self) -> None:
        super().clean()
        if (
            self.service_id
            and self.collectivite_id
            and (self.service.collectivite_id != self.collectivite_id)
        ):
            raise ValidationError(
                {"service": _("Ce service n'appartient pas à la collectivité choisie.")}
            )
