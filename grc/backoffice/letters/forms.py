"""The forms of letters: registering one received, choosing the template of one to send."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from grc.backoffice.intake.forms import LetterForm


class IncomingLetterForm(LetterForm):
    """The letter itself (received date, scan) and, when it joins a dossier, its reference."""

    prefix = "courrier"

    subject = forms.CharField(
        label=_("Objet du courrier"),
        max_length=300,
        required=False,
        help_text=_("Facultatif : en quelques mots, ce que demande le courrier."),
    )

    def __init__(self, *args, joins_dossier: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if joins_dossier:
            self.fields["reference"] = forms.CharField(
                label=_("Référence du dossier"),
                max_length=40,
                help_text=_("Le dossier auquel ce courrier se rapporte (ex. MAIRIE-2026-000012)."),
            )

    def clean_reference(self) -> str:
        value = " ".join((self.cleaned_data.get("reference") or "").split()).upper()
        if not value:
            raise ValidationError(_("Indiquez la référence du dossier."))
        return value


class ChooseTemplateForm(forms.Form):
    template = forms.ModelChoiceField(
        queryset=None, label=_("Modèle de courrier"), empty_label=None
    )

    def __init__(self, *args, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates


class LetterTextForm(forms.Form):
    """The text of the letter as previewed, which the agent may correct before sending."""

    subject = forms.CharField(label=_("Objet"), max_length=300)
    body = forms.CharField(
        label=_("Texte"), widget=forms.Textarea(attrs={"rows": 14}), max_length=20000
    )
