from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class FranceConnectIdentity(models.Model):
    """An account's link to a FranceConnect identity. `sub` is pairwise: FranceConnect gives
    each service provider its own identifier for the same person, stable across logins."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="franceconnect_identities",
        verbose_name=_("compte"),
    )
    sub = models.CharField(_("identifiant FranceConnect (sub)"), max_length=255, unique=True)
    # The identity pivot and the other claims as the signed userinfo gave them at the last
    # login: given_name, family_name, preferred_username, birthdate, gender, birthplace,
    # birthcountry, email.
    pivot = models.JSONField(
        _("identité pivot"), default=dict, blank=True, encoder=DjangoJSONEncoder
    )
    created_at = models.DateTimeField(_("relié le"), auto_now_add=True)
    last_login = models.DateTimeField(_("dernière connexion"))

    class Meta:
        verbose_name = _("identité FranceConnect")
        verbose_name_plural = _("identités FranceConnect")
        ordering = ["-last_login"]

    def __str__(self) -> str:
        return f"{self.user} (FranceConnect)"
