from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from grc.base.models.collectivites import Collectivite
from grc.base.models.people import User
from grc.base.models.usagers import Channel


class Event(models.Model):
    """The audit trail: append-only, written by services inside the transaction of the change.

    A database trigger (migration 0002) refuses UPDATE and DELETE on this table, so the foreign
    keys are PROTECT: a collectivité or an account with history is deactivated, never deleted.
    """

    collectivite = models.ForeignKey(
        Collectivite,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("collectivité"),
    )
    actor = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("auteur"),
        help_text=_("Vide pour une action automatique."),
    )
    action = models.CharField(_("action"), max_length=100)
    object_type = models.CharField(_("type d'objet"), max_length=100)
    object_id = models.CharField(_("identifiant de l'objet"), max_length=64)
    channel = models.CharField(_("canal"), max_length=10, choices=Channel.choices)
    payload = models.JSONField(_("détails"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("date"), db_default=Now(), editable=False)

    class Meta:
        verbose_name = _("événement du journal")
        verbose_name_plural = _("journal d'audit")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="event_object_idx"),
            models.Index(fields=["collectivite", "-created_at"], name="event_collectivite_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}#{self.object_id}"
