"""The workspace's own settings in the admin: each service's canned responses, written by its
managers and its collectivité's admins, through grc.backoffice.dossiers.services."""

from django import forms
from django.contrib import admin

from grc.backoffice.dossiers import services
from grc.backoffice.models import CannedResponse
from grc.base.admin.scoped import ScopedAdmin, form_changes, form_data
from grc.demarches import texts


class CannedResponseForm(forms.ModelForm):
    class Meta:
        model = CannedResponse
        fields = ["service", "title", "body", "is_active"]

    def clean_body(self):
        body = self.cleaned_data["body"]
        problems = texts.check_template(body)
        if problems:
            raise forms.ValidationError(problems)
        return body


@admin.register(CannedResponse)
class CannedResponseAdmin(ScopedAdmin):
    form = CannedResponseForm
    list_display = ["title", "service", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["title", "body", "service__name"]
    list_select_related = ["service", "service__collectivite"]
    fields = ["service", "title", "body", "is_active"]

    @staticmethod
    def visible_to(user):
        return CannedResponse.objects.filter(service__in=services.services_managed_by(user))

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "body" in form.base_fields:
            names = ", ".join(sorted(texts.VARIABLES))
            form.base_fields["body"].help_text = (
                "Texte Jinja2, comme les textes des démarches. Variables : " + names + "."
            )
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "service":
            kwargs["queryset"] = services.services_managed_by(request.user).select_related(
                "collectivite"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return ["service"] if obj is not None else []

    def has_add_permission(self, request):
        return request.user.is_staff and services.services_managed_by(request.user).exists()

    def has_change_permission(self, request, obj=None):
        return request.user.is_staff and (
            obj is None or services.can_manage_canned_responses(request.user, obj.service)
        )

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def create(self, request, form):
        return services.create_canned_response(
            actor=request.user,
            service=form.cleaned_data["service"],
            data=form_data(form, exclude=("service", "id", "created_at", "updated_at")),
        )

    def update(self, request, obj, form):
        return services.update_canned_response(
            actor=request.user, response=obj, changes=form_changes(form, exclude=("service",))
        )

    def delete_model(self, request, obj):
        services.delete_canned_response(actor=request.user, response=obj)

    def delete_queryset(self, request, queryset):
        for response in queryset:
            services.delete_canned_response(actor=request.user, response=response)
