"""What a dossier's workflow leaves behind: its status changes, the actions they started, the
messages and notes, the requests for missing pieces, the documents issued, the transfers."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from grc.base.models import Channel, Collectivite, Service, User
from grc.demarches.models.dossiers import Attachment, Dossier


class StatusChange(models.Model):
    """One step of a dossier: who moved it, when, from where to where, and why."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(_("de"), max_length=50, blank=True)
    to_status = models.CharField(_("vers"), max_length=50)
    transition = models.CharField(_("transition"), max_length=50, blank=True)
    label = models.CharField(_("libellé"), max_length=200, blank=True)
    actor = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("auteur"),
    )
    comment = models.TextField(_("commentaire"), blank=True)
    data = models.JSONField(_("champs remplis"), default=dict, blank=True)
    at = models.DateTimeField(_("date"), auto_now_add=True)

    class Meta:
        verbose_name = _("changement de statut")
        verbose_name_plural = _("changements de statut")
        ordering = ["dossier", "at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class ActionRun(models.Model):
    """One configured action (send an e-mail, issue a document…) run by the worker after a
    status change; its outcome stays visible on the dossier."""

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente")
        DONE = "done", _("Fait")
        FAILED = "failed", _("Échec")
        SKIPPED = "skipped", _("Sans objet")

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="action_runs")
    status_change = models.ForeignKey(
        StatusChange, on_delete=models.CASCADE, related_name="action_runs"
    )
    source = models.CharField(_("origine"), max_length=100)  # "transition:x" or "status:y"
    position = models.PositiveSmallIntegerField()
    spec = models.JSONField(_("action"))
    status = models.CharField(
        _("état"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    error = models.TextField(_("erreur"), blank=True)
    result = models.JSONField(_("résultat"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["dossier", "created_at", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["status_change", "source", "position"], name="action_run_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.spec.get('type')} ({self.get_status_display()})"


class Message(models.Model):
    """A message on a dossier: to or from the citizen, on any channel, or an internal note that
    the citizen never sees."""

    class Direction(models.TextChoices):
        OUT = "out", _("Envoyé à l'usager")
        IN = "in", _("Reçu de l'usager")
        NOTE = "note", _("Note interne")

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(_("sens"), max_length=4, choices=Direction.choices)
    channel = models.CharField(
        _("canal"), max_length=10, choices=Channel.choices, default=Channel.WEB
    )
    author = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("auteur"),
    )
    body = models.TextField(_("texte"))
    created_at = models.DateTimeField(_("date"), auto_now_add=True)
    read_at = models.DateTimeField(_("lu le"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["dossier", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} – {self.body[:40]}"

    @property
    def visible_to_citizen(self) -> bool:
        return self.direction != self.Direction.NOTE


class MessageAttachment(models.Model):
    """A file sent with a message, either way: one of the dossier's attachments (stored and
    checked like the others), tied to the message that carried it."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachment_links")
    attachment = models.OneToOneField(
        Attachment, on_delete=models.CASCADE, related_name="message_link"
    )

    class Meta:
        verbose_name = _("pièce jointe d'un message")
        verbose_name_plural = _("pièces jointes des messages")
        ordering = ["message", "id"]

    def __str__(self) -> str:
        return str(self.attachment_id)


class PieceRequest(models.Model):
    """A request for missing pieces (CRPA L114-5): the list, the deadline, and when the citizen
    answered. Its span pauses the legal clock."""

    class Status(models.TextChoices):
        OPEN = "open", _("En attente de l'usager")
        ANSWERED = "answered", _("Pièces reçues")
        CANCELLED = "cancelled", _("Annulée")

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="piece_requests")
    items = models.JSONField(_("pièces demandées"), default=list)
    message = models.TextField(_("message"), blank=True)
    deadline = models.DateField(_("à fournir avant le"))
    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.OPEN)
    requested_at = models.DateTimeField(_("demandé le"))
    requested_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(_("reçu le"), null=True, blank=True)
    answer = models.TextField(_("réponse"), blank=True)

    class Meta:
        verbose_name = _("demande de pièces")
        verbose_name_plural = _("demandes de pièces")
        ordering = ["dossier", "requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["dossier"], condition=models.Q(status="open"), name="one_open_piece_request"
            ),
        ]

    def __str__(self) -> str:
        return ", ".join(self.items)


def document_path(instance: "Document", filename: str) -> str:
    dossier = instance.dossier
    return f"documents/{dossier.collectivite_id}/{dossier.uuid}/{instance.kind}-{filename}"


class Document(models.Model):
    """A document issued on a dossier (attestation, decision letter): a tagged PDF, kept."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("type"), max_length=50)
    title = models.CharField(_("titre"), max_length=200)
    file = models.FileField(_("fichier"), upload_to=document_path, max_length=255)
    sha256 = models.CharField(max_length=64)
    visible_to_citizen = models.BooleanField(_("visible par l'usager"), default=True)
    created_at = models.DateTimeField(_("émis le"), auto_now_add=True)
    action_run = models.OneToOneField(
        ActionRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="document"
    )

    class Meta:
        verbose_name = _("document émis")
        verbose_name_plural = _("documents émis")
        ordering = ["dossier", "created_at"]

    def __str__(self) -> str:
        return self.title


class Transfer(models.Model):
    """A dossier forwarded to the competent service or collectivité (CRPA L114-2)."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="transfers_out")
    to_dossier = models.OneToOneField(
        Dossier, on_delete=models.PROTECT, null=True, blank=True, related_name="transfer_in"
    )
    from_collectivite = models.ForeignKey(Collectivite, on_delete=models.PROTECT, related_name="+")
    to_collectivite = models.ForeignKey(Collectivite, on_delete=models.PROTECT, related_name="+")
    from_service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(_("motif"))
    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("transmis le"), auto_now_add=True)

    class Meta:
        verbose_name = _("transmission")
        verbose_name_plural = _("transmissions")
        ordering = ["dossier", "at"]

    def __str__(self) -> str:
        return f"{self.from_collectivite} → {self.to_collectivite}"


class Notification(models.Model):
    """An e-mail telling the citizen that something happened on their dossier (a step, a
    message, a request for pieces, a document), or why none was sent: kept as the record of
    what the citizen was told, when and at which address (grc/demarches/notifications.py).

    One per event at most (the one-to-one links): a retried job never tells twice."""

    class Kind(models.TextChoices):
        # The same words as the citizen's preferences (CitizenProfile.wants).
        STATUS = "status", _("Changement d'étape")
        MESSAGES = "messages", _("Message du service")
        PIECES = "pieces", _("Demande de pièces")
        DOCUMENTS = "documents", _("Document émis")

    class Status(models.TextChoices):
        PENDING = "pending", _("À envoyer")
        SENT = "sent", _("Envoyé")
        SKIPPED = "skipped", _("Non envoyé")
        FAILED = "failed", _("Échec de l'envoi")

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    status_change = models.OneToOneField(
        StatusChange, on_delete=models.CASCADE, null=True, blank=True, related_name="notification"
    )
    message = models.OneToOneField(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="notification"
    )
    piece_request = models.OneToOneField(
        PieceRequest, on_delete=models.CASCADE, null=True, blank=True, related_name="notification"
    )
    document = models.OneToOneField(
        Document, on_delete=models.CASCADE, null=True, blank=True, related_name="notification"
    )
    status = models.CharField(
        _("état"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    reason = models.CharField(_("motif du non-envoi"), max_length=200, blank=True)
    recipient = models.EmailField(_("destinataire"), blank=True)
    subject = models.CharField(_("objet"), max_length=300, blank=True)
    body = models.TextField(_("texte envoyé"), blank=True)
    # The Message-ID we gave the e-mail (the mail gateway matches replies with it).
    email_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["dossier", "created_at", "id"]
        constraints = [
            # Each kind is about exactly the thing it names.
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind="status",
                        status_change__isnull=False,
                        message__isnull=True,
                        piece_request__isnull=True,
                        document__isnull=True,
                    )
                    | models.Q(
                        kind="messages",
                        status_change__isnull=True,
                        message__isnull=False,
                        piece_request__isnull=True,
                        document__isnull=True,
                    )
                    | models.Q(
                        kind="pieces",
                        status_change__isnull=True,
                        message__isnull=True,
                        piece_request__isnull=False,
                        document__isnull=True,
                    )
                    | models.Q(
                        kind="documents",
                        status_change__isnull=True,
                        message__isnull=True,
                        piece_request__isnull=True,
                        document__isnull=False,
                    )
                ),
                name="notification_about_one_thing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"
