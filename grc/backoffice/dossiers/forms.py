"""Forms of the dossier page. They only shape and check what was typed; the services decide
(and their refusals come back on the form's fields)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from grc.backoffice.forms import ServiceChoiceField
from grc.demarches import fieldkinds
from grc.demarches.definition import has_answer
from grc.demarches.services.assignment import ANNOTATION_MAX_LENGTH
from grc.demarches.services.messages import MAX_LENGTH


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        name = obj.get_full_name()
        return f"{name} ({obj.email})" if name else obj.email


class TransitionForm(forms.Form):
    """The comment and the fields of one workflow transition (`step`), prefixed by its key so
    that every transition's form lives on the page with its own ids."""

    def __init__(self, *args, step: dict[str, Any], **kwargs):
        kwargs.setdefault("prefix", f"t-{step['key']}")
        super().__init__(*args, **kwargs)
        self.step = step
        self.specs = [
            spec
            for spec in step.get("fields") or []
            if has_answer(spec) and spec.get("type") not in ("file", "block")
        ]
        for spec in self.specs:
            self.fields[spec["key"]] = fieldkinds.form_field(spec)
        mode = step.get("comment") or "none"
        if mode != "none":
            self.fields["comment"] = forms.CharField(
                label=(
                    _("Commentaire pour « %(t)s » (obligatoire)")
                    if mode == "required"
                    else _("Commentaire pour « %(t)s » (facultatif)")
                )
                % {"t": step.get("label") or step["key"]},
                required=mode == "required",
                max_length=MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=_("Motivez la décision : l'usager lit ce commentaire."),
            )

    @property
    def is_simple(self) -> bool:
        return not self.fields

    def raw_data(self) -> dict[str, Any]:
        """What was typed in the transition's fields, as the workflow cleans them itself
        (apply_transition: the same checks for every caller)."""
        return {
            spec["key"]: self.fields[spec["key"]].widget.value_from_datadict(
                self.data, self.files, self.add_prefix(spec["key"])
            )
            for spec in self.specs
        }

    def comment(self) -> str:
        return (self.data.get(self.add_prefix("comment")) or "").strip()


class AssignForm(forms.Form):
    ME, AGENT, SERVICE = "me", "agent", "service"
    action = forms.ChoiceField(
        choices=[(ME, ME), (AGENT, AGENT), (SERVICE, SERVICE)], widget=forms.HiddenInput
    )
    assignee = AgentChoiceField(
        queryset=None, required=False, label=_("Agent"), empty_label=_("Personne (non attribué)")
    )
    service = ServiceChoiceField(queryset=None, required=False, label=_("Service"))

    def __init__(self, *args, agents, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = agents
        self.fields["service"].queryset = services

    def clean(self):
        data = super().clean()
        if data.get("action") == self.SERVICE and not data.get("service"):
            self.add_error("service", _("Choisissez le service."))
        return data


class TransferForm(forms.Form):
    service = ServiceChoiceField(
        queryset=None,
        label=_("Service compétent"),
        error_messages={"required": _("Choisissez le service compétent.")},
    )
    reason = forms.CharField(
        label=_("Motif de la transmission"),
        max_length=MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("L'usager est informé de la transmission."),
        error_messages={"required": _("Indiquez le motif de la transmission.")},
    )

    def __init__(self, *args, services, with_collectivite=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services
        self.fields["service"].several_collectivites = with_collectivite


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Votre réponse à l'usager"),
        max_length=MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": _("Écrivez votre réponse.")},
    )


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Note interne"),
        max_length=MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Visible des agents seulement, jamais de l'usager."),
        error_messages={"required": _("Écrivez la note.")},
    )


class AnnotationForm(forms.Form):
    annotation = forms.CharField(
        label=_("Annotations privées"),
        required=False,
        max_length=ANNOTATION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Pour le service : l'usager ne les voit pas."),
    )
