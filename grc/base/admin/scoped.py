"""The base of our admin pages: rows and rights come from grc.base.access, writes go through
services, and a refusal by a service shows as a message instead of an error page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import reverse

from grc.base import access


def form_changes(form: forms.ModelForm, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The model fields the user changed, as the services take them."""
    changes: dict[str, Any] = {}
    for name in form.changed_data:
        if name in exclude or name not in form.cleaned_data:
            continue
        try:
            field = form._meta.model._meta.get_field(name)
        except FieldDoesNotExist:  # a form-only field (hosts, passwords)
            continue
        value = form.cleaned_data[name]
        if isinstance(field, models.FileField):
            if value is None:
                continue
            value = value or ""  # False is "clear"
        changes[name] = value
    return changes


def form_data(form: forms.ModelForm, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every model field of an add form, as the services take them."""
    data: dict[str, Any] = {}
    for field in form._meta.model._meta.concrete_fields:
        if field.name in exclude or field.name not in form.cleaned_data:
            continue
        value = form.cleaned_data[field.name]
        if isinstance(field, models.FileField) and not value:
            continue
        data[field.name] = value
    return data


class ScopedAdmin(admin.ModelAdmin):
    """Subclasses name the access function that gives a user's rows (`visible_to`) and define
    how a save is done (`create(request, form)`, `update(request, obj, form)`), through the
    services."""

    visible_to: Any  # staticmethod(access.<model>s_visible_to)

    def get_queryset(self, request):
        return self.visible_to(request.user)

    # `is_staff` is access.can_use_admin, computed once per request (a cached_property on User).
    def has_module_permission(self, request):
        return request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = self.update(request, obj, form) if change else self.create(request, form)
        # The admin goes on with `obj` (redirects, messages): give it the saved row's identity.
        obj.pk = saved.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        # Nothing many-to-many here, and inline rows are written by the services.
        pass

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            # Only reached when something changed between the form's checks and the save (a
            # concurrent edit): the transaction was rolled back, nothing is half-saved.
            messages.error(request, " ".join(error.messages))
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as error:
            # A service refused the deletion (e.g. one's own admin role): the transaction was
            # rolled back, nothing is deleted.
            messages.error(request, " ".join(error.messages))
            opts = self.opts
            return HttpResponseRedirect(
                reverse(
                    f"admin:{opts.app_label}_{opts.model_name}_changelist",
                    current_app=self.admin_site.name,
                )
            )


class CollectiviteOwnedAdmin(ScopedAdmin):
    """Rows that belong to one collectivité and that its administrators manage (a mailbox, a
    phone line, a template…): the collectivité is chosen among theirs when the row is created,
    then fixed; any other link to a collectivité's rows (its services, its démarches) offers
    only theirs. `always_readonly` names the fields shown but never edited."""

    always_readonly: tuple[str, ...] = ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        administered = access.administered_collectivites(request.user)
        related = db_field.related_model
        if db_field.name == "collectivite":
            kwargs["queryset"] = administered
        elif any(f.name == "collectivite" for f in related._meta.get_fields()):
            kwargs["queryset"] = related._default_manager.filter(collectivite__in=administered)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fixed = ["collectivite"] if obj is not None else []
        return [*fixed, *self.always_readonly]

    def has_add_permission(self, request):
        return access.administered_collectivites(request.user).exists()

    def has_change_permission(self, request, obj=None):
        return request.user.is_staff and (
            obj is None or access.can_administer(request.user, obj.collectivite_id)
        )
