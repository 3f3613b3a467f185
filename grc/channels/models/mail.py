"""E-mail in and out: the mailboxes polled, every message received (raw and parsed), the
Message-IDs that thread replies, and the addresses that bounce. REFERENCE §5."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from grc.base.fields import EncryptedTextField
from grc.base.models import Collectivite, Service, Usager
from grc.demarches.models import Demarche, Dossier, Message


def raw_path(instance: InboundEmail, filename: str) -> str:
    return f"mail/{instance.collectivite_id}/{instance.received_at:%Y/%m}/{filename}"


class Mailbox(models.Model):
    """An IMAP mailbox polled for citizens' e-mails, for a collectivité or one of its
    services; its address is also the Reply-To of what that service sends."""

    class Security(models.TextChoices):
        TLS = "tls", _("TLS (IMAPS, port 993)")
        STARTTLS = "starttls", _("STARTTLS (port 143)")
        PLAIN = "plain", _("Aucune (réseau local, essais)")

    collectivite = models.ForeignKey(
        Collectivite,
        on_delete=models.PROTECT,
        related_name="mailboxes",
        verbose_name=_("collectivité"),
    )
    service = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mailboxes",
        verbose_name=_("service"),
        help_text=_("Vide : la boîte de toute la collectivité."),
    )
    name = models.CharField(_("nom"), max_length=200)
    email = models.EmailField(
        _("adresse de la boîte"),
        help_text=_("Adresse à laquelle les usagers écrivent, et de réponse des envois."),
    )
    host = models.CharField(_("serveur IMAP"), max_length=253)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(
        _("sécurité"), max_length=10, choices=Security.choices, default=Security.TLS
    )
    username = models.CharField(_("identifiant"), max_length=200)
    password = EncryptedTextField(_("mot de passe"), blank=True)
    folder = models.CharField(_("dossier IMAP"), max_length=200, default="INBOX")
    done_folder = models.CharField(
        _("dossier où ranger les messages traités"),
        max_length=200,
        blank=True,
        help_text=_("Vide : les messages traités sont marqués comme lus et laissés en place."),
    )
    demarche = models.ForeignKey(
        Demarche,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("démarche des nouveaux messages"),
        help_text=_("Vide : la démarche « Courriel » de la collectivité."),
    )
    is_active = models.BooleanField(_("relevée"), default=True)
    last_polled_at = models.DateTimeField(_("dernière relève"), null=True, blank=True)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("boîte aux lettres électronique")
        verbose_name_plural = _("boîtes aux lettres électroniques")
        ordering = ["collectivite", "name"]
        constraints = [
            models.UniqueConstraint(fields=["email"], name="mailbox_email_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class InboundEmail(models.Model):
    """One message received, whatever became of it: the raw bytes are always kept (a message
    is never dropped), with what was parsed and the outcome of routing."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("À traiter")
        THREADED = "threaded", _("Ajouté à un dossier")
        OPENED = "opened", _("Nouveau dossier")
        AUTO_REPLY = "auto_reply", _("Réponse automatique ignorée")
        OWN = "own", _("Notre propre message ignoré")
        BOUNCE = "bounce", _("Avis de non-remise")
        QUARANTINED = "quarantined", _("En quarantaine")
        RELEASED = "released", _("Sorti de quarantaine")

    class Reason(models.TextChoices):
        NONE = "", _("—")
        UNPARSABLE = "unparsable", _("Message illisible")
        TOO_LARGE = "too_large", _("Message trop volumineux")
        THROTTLED = "throttled", _("Trop de nouveaux dossiers ouverts par cet expéditeur")
        NO_SENDER = "no_sender", _("Pas d'expéditeur utilisable")
        NO_DEMARCHE = "no_demarche", _("Aucune démarche pour ouvrir un dossier")
        ERROR = "error", _("Erreur pendant le traitement")

    collectivite = models.ForeignKey(
        Collectivite, on_delete=models.PROTECT, related_name="+", verbose_name=_("collectivité")
    )
    mailbox = models.ForeignKey(
        Mailbox,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("boîte"),
    )
    # The header's Message-ID, or one made from the raw bytes' hash when it has none: the same
    # message fetched twice gets the same id either way.
    email_id = models.CharField(_("Message-ID"), max_length=998)
    raw = models.FileField(_("message brut"), upload_to=raw_path, max_length=255)
    size = models.PositiveBigIntegerField(_("taille (octets)"))
    sha256 = models.CharField(max_length=64)
    imap_uid = models.CharField(_("UID IMAP"), max_length=40, blank=True)
    from_address = models.EmailField(_("expéditeur"), max_length=320, blank=True)
    from_name = models.CharField(_("nom de l'expéditeur"), max_length=300, blank=True)
    to_addresses = models.TextField(_("destinataires"), blank=True)
    subject = models.CharField(_("objet"), max_length=998, blank=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    body_text = models.TextField(_("texte"), blank=True)
    body_html = models.TextField(_("HTML nettoyé"), blank=True)
    quoted_text = models.TextField(_("historique cité"), blank=True)
    outcome = models.CharField(
        _("suite donnée"), max_length=12, choices=Outcome.choices, default=Outcome.PENDING
    )
    reason = models.CharField(
        _("motif"), max_length=20, choices=Reason.choices, blank=True, default=""
    )
    detail = models.TextField(_("détail"), blank=True)
    dossier = models.ForeignKey(
        Dossier,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_emails",
        verbose_name=_("dossier"),
    )
    message = models.OneToOneField(
        Message,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_email",
        verbose_name=_("message"),
    )
    usager = models.ForeignKey(
        Usager, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(_("reçu le"), auto_now_add=True)
    processed_at = models.DateTimeField(_("traité le"), null=True, blank=True)

    class Meta:
        verbose_name = _("courriel reçu")
        verbose_name_plural = _("courriels reçus")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["collectivite", "email_id"], name="inbound_email_once"),
        ]
        indexes = [
            models.Index(fields=["collectivite", "outcome"], name="inbound_email_outcome_idx"),
            models.Index(fields=["from_address", "received_at"], name="inbound_email_sender_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.from_address}: {self.subject[:60]}"


class MailThreadId(models.Model):
    """A Message-ID that belongs to a dossier's thread: ours (every e-mail sent about it) and
    the citizen's (every e-mail received on it). Replies are matched against these."""

    collectivite = models.ForeignKey(Collectivite, on_delete=models.CASCADE, related_name="+")
    email_id = models.CharField(_("Message-ID"), max_length=998)
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="mail_thread_ids")
    outgoing = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("identifiant de fil")
        verbose_name_plural = _("identifiants de fil")
        constraints = [
            models.UniqueConstraint(
                fields=["collectivite", "email_id"], name="mail_thread_id_once"
            ),
        ]
        indexes = [models.Index(fields=["dossier", "created_at"], name="mail_thread_dossier_idx")]

    def __str__(self) -> str:
        return self.email_id


class BouncedAddress(models.Model):
    """An address our e-mails do not reach (a DSN came back): agents see it on the dossier and
    the citizen record, until a later message from that address shows it works again."""

    collectivite = models.ForeignKey(Collectivite, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField(_("adresse"), max_length=320)
    status = models.CharField(_("code"), max_length=20, blank=True)
    diagnostic = models.TextField(_("diagnostic"), blank=True)
    permanent = models.BooleanField(_("échec définitif"), default=True)
    count = models.PositiveIntegerField(_("nombre d'échecs"), default=1)
    first_at = models.DateTimeField(_("premier échec"), auto_now_add=True)
    last_at = models.DateTimeField(_("dernier échec"))
    last_bounce = models.ForeignKey(
        InboundEmail, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cleared_at = models.DateTimeField(_("levé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("adresse en échec")
        verbose_name_plural = _("adresses en échec")
        constraints = [
            models.UniqueConstraint(fields=["collectivite", "email"], name="bounced_address_once"),
        ]

    def __str__(self) -> str:
        return self.email
