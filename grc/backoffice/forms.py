"""What the workspace's forms share."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from grc.base.models import Service


class ServiceChoiceField(forms.ModelChoiceField):
    """A service, named with its collectivité when the choices span several."""

    def __init__(self, *args, several_collectivites: bool = False, **kwargs):
        self.several_collectivites = several_collectivites
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Service) -> str:
        if self.several_collectivites:
            return f"{obj.collectivite.name} – {obj.name}"
        return obj.name


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal on the form: on the field it names when the form has it, else on
    the whole form."""
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            form.add_error(name if name in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
