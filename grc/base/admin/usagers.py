from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from grc.base import access
from grc.base.admin.scoped import ScopedAdmin, form_changes, form_data
from grc.base.models import Channel, DuplicateCandidate, Usager
from grc.base.services import usagers as services
from grc.base.validators import display_phone, normalize_phone


@admin.register(Usager)
class UsagerAdmin(ScopedAdmin):
    visible_to = staticmethod(access.usagers_visible_to)
    list_display = [
        "last_name",
        "first_name",
        "email",
        "phones_display",
        "city",
        "collectivite",
        "created_channel",
        "created_at",
    ]
    list_filter = ["created_channel", "preferred_channel"]
    search_fields = ["last_name", "first_name", "birth_name", "email", "city"]
    list_select_related = ["collectivite"]
    readonly_fields = ["created_channel", "created_at", "updated_at", "merged_into", "account"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "collectivite",
                    "civility",
                    "first_name",
                    "last_name",
                    "birth_name",
                    "birth_date",
                ]
            },
        ),
        (_("Contact"), {"fields": ["email", "phones", "preferred_channel"]}),
        (
            _("Adresse"),
            {"fields": ["address_line1", "address_line2", "postal_code", "city", "country"]},
        ),
        (
            _("Suivi"),
            {
                "fields": [
                    "notes",
                    "account",
                    "created_channel",
                    "created_at",
                    "updated_at",
                    "merged_into",
                ]
            },
        ),
    ]

    @admin.display(description=_("téléphones"))
    def phones_display(self, obj):
        return format_html_join(", ", "{}", ((display_phone(p),) for p in obj.phones))

    def get_queryset(self, request):
        # The admin shows the records of the collectivités this user administers.
        return (
            super()
            .get_queryset(request)
            .filter(collectivite__in=access.administered_collectivites(request.user))
        )

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            phone = normalize_phone(search_term)
        except ValidationError:
            return results, may_have_duplicates
        # Phones are stored in E.164: "06 12 34 56 78" finds +33612345678.
        return results | queryset.filter(phones__contains=[phone]), may_have_duplicates

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "collectivite":
            kwargs["queryset"] = access.administered_collectivites(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        extra = ["collectivite"] if obj is not None else []
        return [*self.readonly_fields, *extra]

    def has_add_permission(self, request):
        return access.administered_collectivites(request.user).exists()

    def has_change_permission(self, request, obj=None):
        return request.user.is_staff and (
            obj is None or access.can_change_usager(request.user, obj)
        )

    def create(self, request, form):
        match = services.create_usager(
            actor=request.user,
            collectivite=form.cleaned_data["collectivite"],
            data=form_data(form, exclude=("collectivite",)),
            channel=Channel.ADMIN,
        )
        return match.usager

    def update(self, request, obj, form):
        return services.update_usager(
            actor=request.user, usager=obj, changes=form_changes(form), channel=Channel.ADMIN
        )


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(ScopedAdmin):
    visible_to = staticmethod(access.duplicates_visible_to)
    list_display = ["first", "second", "score", "reason", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["first", "second"]
    readonly_fields = ["collectivite", "first", "second", "score", "reason", "status", "created_at"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(collectivite__in=access.administered_collectivites(request.user))
        )
