"""What a citizen's account knows about them, across every collectivité of the platform: it
prefills their forms and says which notifications they want."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from grc.base.fields import PhoneField
from grc.base.models.address import PostalAddress
from grc.base.models.people import User


class CitizenProfile(PostalAddress):
    """One per account (created on first need). Identity names stay on User; FranceConnect may
    certify them (identity_source)."""

    class IdentitySource(models.TextChoices):
        DECLARED = "declared", _("Déclarée par la personne")
        FRANCECONNECT = "franceconnect", _("Certifiée par FranceConnect")

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="profile", verbose_name=_("compte")
    )
    birth_date = models.DateField(_("date de naissance"), null=True, blank=True)
    birth_place = models.CharField(_("lieu de naissance"), max_length=150, blank=True)
    phones = ArrayField(PhoneField(), verbose_name=_("téléphones"), default=list, blank=True)
    identity_source = models.CharField(
        _("origine de l'identité"),
        max_length=20,
        choices=IdentitySource.choices,
        default=IdentitySource.DECLARED,
    )
    # Notification preferences: by e-mail, per kind of event on the person's dossiers.
    notify_status = models.BooleanField(_("quand ma demande change d'étape"), default=True)
    notify_messages = models.BooleanField(_("quand le service m'écrit"), default=True)
    notify_pieces = models.BooleanField(_("quand des pièces me sont demandées"), default=True)
    notify_documents = models.BooleanField(_("quand un document est émis"), default=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    NOTIFICATION_FIELDS = ("notify_status", "notify_messages", "notify_pieces", "notify_documents")

    class Meta:
        verbose_name = _("profil usager")
        verbose_name_plural = _("profils usagers")

    def __str__(self) -> str:
        return str(self.user)

    def wants(self, kind: str) -> bool:
        """kind: "status", "messages", "pieces" or "documents"."""
        return bool(getattr(self, f"notify_{kind}"))
