import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from grc.base import access
from grc.base.admin.scoped import ScopedAdmin
from grc.base.models import Event


@admin.register(Event)
class EventAdmin(ScopedAdmin):
    """Read-only: the trail is written by the services and the database refuses changes."""

    visible_to = staticmethod(access.events_visible_to)
    list_display = [
        "created_at",
        "action",
        "object_type",
        "object_id",
        "actor",
        "channel",
        "collectivite",
    ]
    # Only `channel` (fixed choices): a filter on action or object type would run a SELECT
    # DISTINCT over the whole append-only table on every page; search covers them.
    list_filter = ["channel"]
    search_fields = ["action", "object_id", "actor__email"]
    list_select_related = ["actor", "collectivite"]
    date_hierarchy = "created_at"
    fields = [
        "created_at",
        "collectivite",
        "actor",
        "action",
        "object_type",
        "object_id",
        "channel",
        "payload_display",
    ]
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description=_("détails"))
    def payload_display(self, obj):
        return format_html(
            "<pre>{}</pre>", json.dumps(obj.payload, ensure_ascii=False, indent=2, default=str)
        )

    def get_actions(self, request):
        return {}
