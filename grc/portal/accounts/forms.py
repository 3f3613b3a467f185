"""allauth's forms with our wording (plain French, no placeholders standing in for labels) and
the browser hints that help people fill them (autocomplete)."""

from allauth.account import forms as allauth_forms
from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from grc.base.fields import PhoneFormField


class LoginForm(allauth_forms.LoginForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        login.label = _("Adresse e-mail")
        login.widget.attrs.pop("placeholder", None)
        login.widget.attrs["autocomplete"] = "email"
        password = self.fields["password"]
        password.label = _("Mot de passe")
        password.widget.attrs.pop("placeholder", None)
        password.help_text = format_html(
            '<a href="{}">{}</a>', reverse("account_reset_password"), _("Mot de passe oublié ?")
        )
        if "remember" in self.fields:
            self.fields["remember"].label = _("Rester connecté sur cet appareil")


class SignupForm(allauth_forms.SignupForm):
    first_name = forms.CharField(
        label=_("Prénom"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Nom"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )

    field_order = ["email", "first_name", "last_name", "password1", "password2"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        email = self.fields["email"]
        email.label = _("Adresse e-mail")
        email.help_text = _("Un lien vous y sera envoyé pour la confirmer.")
        email.widget.attrs.pop("placeholder", None)
        self.fields["password1"].label = _("Mot de passe")
        self.fields["password1"].help_text = _(
            "Au moins 10 caractères, pas uniquement des chiffres, ni un mot de passe trop courant."
        )
        if "password2" in self.fields:
            self.fields["password2"].label = _("Confirmez le mot de passe")
        for name in ("password1", "password2"):
            if name in self.fields:
                self.fields[name].widget.attrs.pop("placeholder", None)
        self.order_fields(self.field_order)


class ResetPasswordForm(allauth_forms.ResetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("Adresse e-mail de votre compte")
        self.fields["email"].widget.attrs.pop("placeholder", None)


class ProfileForm(forms.Form):
    """What the account knows about the person; it prefills their forms."""

    first_name = forms.CharField(
        label=_("Prénom"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Nom"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    birth_date = forms.DateField(
        label=_("Date de naissance"),
        required=False,
        help_text=_("Par exemple 14/07/1985."),
        input_formats=["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"],
        widget=forms.DateInput(format="%d/%m/%Y", attrs={"autocomplete": "bday"}),
        error_messages={"invalid": _("Saisissez une date au format jj/mm/aaaa.")},
    )
    birth_place = forms.CharField(label=_("Lieu de naissance"), max_length=150, required=False)
    phone = PhoneFormField(
        label=_("Téléphone"),
        required=False,
        help_text=_("Par exemple 06 12 34 56 78."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    phone2 = PhoneFormField(
        label=_("Autre téléphone"),
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    address_line1 = forms.CharField(
        label=_("Numéro et voie"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    address_line2 = forms.CharField(
        label=_("Complément d'adresse"),
        max_length=200,
        required=False,
        help_text=_("Bâtiment, appartement, lieu-dit, boîte postale…"),
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    postal_code = forms.CharField(
        label=_("Code postal"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )
    city = forms.CharField(
        label=_("Commune"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    notify_status = forms.BooleanField(label=_("quand ma demande change d'étape"), required=False)
    notify_messages = forms.BooleanField(label=_("quand le service m'écrit"), required=False)
    notify_pieces = forms.BooleanField(
        label=_("quand des pièces me sont demandées"), required=False
    )
    notify_documents = forms.BooleanField(label=_("quand un document est émis"), required=False)

    IDENTITY = ("first_name", "last_name", "birth_date", "birth_place")
    CONTACT = ("phone", "phone2")
    ADDRESS = ("address_line1", "address_line2", "postal_code", "city")
    NOTIFICATIONS = ("notify_status", "notify_messages", "notify_pieces", "notify_documents")

    def __init__(self, *args, certified: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if certified:
            for name in self.IDENTITY:
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Certifié par FranceConnect.")

    def clean_postal_code(self):
        code = self.cleaned_data["postal_code"].strip()
        if code and not (len(code) == 5 and code.isdigit()):
            raise forms.ValidationError(_("Un code postal français compte 5 chiffres (ex. 75001)."))
        return code

    def changes(self) -> dict:
        data = dict(self.cleaned_data)
        phones = [p for p in (data.pop("phone"), data.pop("phone2")) if p]
        data["phones"] = list(dict.fromkeys(phones))
        return data

    def bound_groups(self):
        """The fields by fieldset, for the template."""
        return {
            "identity": [self[n] for n in self.IDENTITY],
            "contact": [self[n] for n in self.CONTACT],
            "address": [self[n] for n in self.ADDRESS],
            "notifications": [self[n] for n in self.NOTIFICATIONS],
        }

    @classmethod
    def initial_for(cls, user, profile) -> dict:
        phones = [*profile.phones, "", ""]
        initial = {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "phone": phones[0],
            "phone2": phones[1],
        }
        for name in ("birth_date", "birth_place", *cls.ADDRESS, *cls.NOTIFICATIONS):
            initial[name] = getattr(profile, name)
        return initial
