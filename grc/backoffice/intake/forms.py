"""The forms of intake around the démarche's own form: the new person, the letter."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grc.base.calendar import PARIS, paris_date
from grc.base.validators import normalize_email, normalize_phone
from grc.demarches.services import dossiers as dossier_services


class StartForm(forms.Form):
    demarche = forms.ModelChoiceField(queryset=None, label=_("Démarche"), empty_label=None)
    canal = forms.ChoiceField(label=_("Canal"), widget=forms.RadioSelect)

    def __init__(self, *args, demarches, channels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["demarche"].queryset = demarches
        self.fields["canal"].choices = channels


class PersonForm(forms.Form):
    """A person without a record yet: name and the ways to reach them."""

    prefix = "usager"

    first_name = forms.CharField(label=_("Prénom"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Nom"), max_length=150)
    email = forms.CharField(
        label=_("Adresse e-mail"),
        max_length=254,
        required=False,
        help_text=_(
            "Les accusés lui sont envoyés à cette adresse ; sans adresse, ils sont à imprimer."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Téléphone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    address_line1 = forms.CharField(label=_("Numéro et voie"), max_length=200, required=False)
    address_line2 = forms.CharField(label=_("Complément d'adresse"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Code postal"), max_length=10, required=False)
    city = forms.CharField(label=_("Commune"), max_length=100, required=False)

    def clean_email(self) -> str:
        value = self.cleaned_data["email"].strip()
        return normalize_email(value) if value else ""

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip()
        return normalize_phone(value) if value else ""


class LetterForm(forms.Form):
    """A request received by post: the day it arrived (the legal receipt date) and its scan."""

    prefix = "courrier"

    received_on = forms.DateField(
        label=_("Reçu le"),
        help_text=_("Date d'arrivée du courrier : elle fait courir les délais légaux."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    scan = forms.FileField(
        label=_("Courrier numérisé"), help_text=_("PDF ou image, 20 Mo au plus.")
    )

    def clean_received_on(self) -> datetime.date:
        value = self.cleaned_data["received_on"]
        if value > paris_date(timezone.now()):
            raise ValidationError(_("La date de réception ne peut pas être dans le futur."))
        return value

    def clean_scan(self):
        upload = self.cleaned_data["scan"]
        dossier_services.check_piece(upload)
        return upload

    def received_at(self) -> datetime.datetime:
        """The legal receipt moment: noon, Paris time, on the day the letter arrived (the
        day counts, not the hour; noon never slips to another day), or now for today."""
        day = self.cleaned_data["received_on"]
        now = timezone.now()
        if day == paris_date(now):
            return now
        return timezone.make_aware(
            datetime.datetime.combine(day, datetime.time(12)),
            PARIS,
        )
