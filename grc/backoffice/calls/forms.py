"""Forms of the call log: noting a call, and completing one (notes, the record it is about)."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grc.base.validators import normalize_phone
from grc.channels.calls import NOTES_MAX_LENGTH
from grc.channels.models import Call


class CallLogForm(forms.Form):
    direction = forms.ChoiceField(
        label=_("Sens de l'appel"),
        choices=Call.Direction.choices,
        initial=Call.Direction.IN,
        widget=forms.RadioSelect,
    )
    number = forms.CharField(
        label=_("Numéro"),
        max_length=30,
        required=False,
        help_text=_("Vide : le premier numéro de la fiche usager."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    started_at = forms.DateTimeField(
        label=_("Date et heure"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"],
    )
    minutes = forms.IntegerField(
        label=_("Durée (minutes)"), min_value=0, max_value=24 * 60, required=False
    )
    dossier = forms.ModelChoiceField(
        queryset=None,
        label=_("Dossier concerné"),
        required=False,
        empty_label=_("Aucun dossier en particulier"),
    )
    notes = forms.CharField(
        label=_("Notes"),
        max_length=NOTES_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, dossiers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dossier"].queryset = dossiers
        self.fields["dossier"].label_from_instance = lambda d: f"{d.reference} – {d.demarche}"
        if not dossiers.exists():
            del self.fields["dossier"]
        if not self.is_bound:
            self.initial.setdefault("started_at", timezone.localtime().replace(second=0))

    def clean_number(self) -> str:
        value = self.cleaned_data["number"].strip()
        return normalize_phone(value) if value else ""

    def clean_started_at(self):
        value = self.cleaned_data["started_at"]
        if value > timezone.now() + datetime.timedelta(minutes=5):
            raise ValidationError(_("L'heure de l'appel ne peut pas être à venir."))
        return value

    def duration(self) -> int | None:
        minutes = self.cleaned_data.get("minutes")
        return None if minutes is None else minutes * 60


class CallEditForm(forms.Form):
    usager = forms.ModelChoiceField(
        queryset=None,
        label=_("Fiche usager"),
        required=False,
        empty_label=_("Aucune fiche"),
        help_text=_("Les fiches dont un numéro est celui de l'appel."),
    )
    dossier_reference = forms.CharField(
        label=_("Référence du dossier"),
        max_length=40,
        required=False,
        help_text=_("Vide : l'appel ne concerne pas un dossier en particulier."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        max_length=NOTES_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    def __init__(self, *args, usagers, dossiers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["usager"].queryset = usagers
        self.dossiers = dossiers

    def clean_dossier_reference(self):
        reference = "".join(self.cleaned_data["dossier_reference"].split()).upper()
        if not reference:
            return None
        found = self.dossiers.filter(reference__iexact=reference).first()
        if found is None:
            raise ValidationError(
                _("Aucun dossier de votre périmètre ne porte la référence « %(r)s »."),
                params={"r": reference},
            )
        return found
