"""Dossiers in the admin, read-only: until the agents' workspace shows them, a collectivité's
admins can see each dossier's life there — its steps, the outcome of every automatic action
(done, skipped and why, failed and why), messages and notes, acknowledgements, requests for
pieces and documents. Every change goes through the workflow's services, never here."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from grc.base import access as base_access
from grc.base.admin.scoped import ScopedAdmin
from grc.demarches.models import (
    Acknowledgement,
    ActionRun,
    Document,
    Dossier,
    Message,
    Notification,
    PieceRequest,
    StatusChange,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request, obj=None):
        # The dossier itself was reached through the admin's scoped queryset.
        return request.user.is_staff

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class StatusChangeInline(ReadOnlyInline):
    model = StatusChange
    fields = ["at", "from_status", "to_status", "label", "actor", "comment"]
    verbose_name_plural = _("historique")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class ActionRunInline(ReadOnlyInline):
    model = ActionRun
    fields = ["created_at", "source", "action_type", "status", "attempts", "error", "result"]
    verbose_name_plural = _("actions automatiques")

    @admin.display(description=_("action"))
    def action_type(self, obj):
        return obj.spec.get("type")


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ["created_at", "direction", "channel", "author", "body", "read_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


class AcknowledgementInline(ReadOnlyInline):
    model = Acknowledgement
    fields = ["kind", "status", "recipient", "sent_at", "attempts", "last_error", "pdf"]


class PieceRequestInline(ReadOnlyInline):
    model = PieceRequest
    fields = ["requested_at", "items", "deadline", "status", "answered_at", "answer"]


class DocumentInline(ReadOnlyInline):
    model = Document
    fields = ["created_at", "kind", "title", "file", "visible_to_citizen"]


class NotificationInline(ReadOnlyInline):
    """What the citizen was told by e-mail, or why not (grc.demarches.notifications)."""

    model = Notification
    fields = ["created_at", "kind", "status", "reason", "recipient", "subject", "sent_at"]


@admin.register(Dossier)
class DossierAdmin(ScopedAdmin):
    list_display = [
        "reference",
        "demarche",
        "status",
        "service",
        "received_at",
        "expected_decision_date",
        "closed_at",
    ]
    list_filter = ["status"]
    search_fields = ["reference", "tracking_code", "contact_email"]
    list_select_related = ["demarche", "service", "service__collectivite"]
    fields = [
        "reference",
        "collectivite",
        "demarche",
        "version",
        "status",
        "usager",
        "service",
        "assignee",
        "channel",
        "received_at",
        "expected_decision_date",
        "closed_at",
        "answers",
        "annotations",
    ]
    readonly_fields = fields
    inlines = [
        StatusChangeInline,
        ActionRunInline,
        MessageInline,
        AcknowledgementInline,
        PieceRequestInline,
        DocumentInline,
        NotificationInline,
    ]
    show_full_result_count = False

    @staticmethod
    def visible_to(user):
        return Dossier.objects.filed().filter(
            collectivite__in=base_access.administered_collectivites(user)
        )

    def get_actions(self, request):
        return {}
