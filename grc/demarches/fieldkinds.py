"""Each field type of a form definition as a Django form field, with the conversions between
what a browser sends, what the field cleans to, and the JSON kept in `dossier.answers`.

The same Django fields validate a page posted by a citizen and the answers a service receives
(intake by an agent, the API, a re-validation of a stored dossier): one set of rules."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siret as stdnum_siret

from grc.base.fields import PhoneFormField
from grc.base.models.address import Address

ADDRESS_PARTS = ("address_line1", "address_line2", "postal_code", "city", "country")
_FRENCH_POSTCODE = re.compile(r"^\d{5}$")


class DecimalAnswerField(forms.CharField):
    """12,5 or 12.5 → Decimal('12.5'); kept as the string "12.5" (exact, JSON-safe)."""

    def __init__(self, *, min_value=None, max_value=None, **kwargs):
        self.min_value, self.max_value = min_value, max_value
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            number = Decimal(str(value).replace(" ", "").replace("\u00a0", "").replace(",", "."))
        except InvalidOperation:
            raise ValidationError(
                _("Saisissez un nombre (par exemple 12,5)."), code="invalid"
            ) from None
        if not number.is_finite():
            raise ValidationError(_("Saisissez un nombre (par exemple 12,5)."), code="invalid")
        return number

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        if self.min_value is not None and value < Decimal(str(self.min_value)):
            raise ValidationError(
                _("Saisissez un nombre supérieur ou égal à %(n)s.") % {"n": self.min_value}
            )
        if self.max_value is not None and value > Decimal(str(self.max_value)):
            raise ValidationError(
                _("Saisissez un nombre inférieur ou égal à %(n)s.") % {"n": self.max_value}
            )


class YesNoField(forms.TypedChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            choices=[("true", _("Oui")), ("false", _("Non"))],
            coerce=lambda v: v == "true",
            empty_value=None,
            widget=forms.RadioSelect,
            **kwargs,
        )

    def to_python(self, value):
        if isinstance(value, bool):
            return "true" if value else "false"
        return super().to_python(value)


class SiretField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return ""
        compact = stdnum_siret.compact(value)
        try:
            return stdnum_siret.validate(compact)
        except StdnumError:
            raise ValidationError(
                _(
                    "« %(v)s » n'est pas un numéro SIRET valide (14 chiffres, clé de contrôle "
                    "comprise)."
                )
                % {"v": value},
                code="invalid_siret",
            ) from None


class IbanField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return ""
        compact = stdnum_iban.compact(value)
        try:
            return stdnum_iban.validate(compact)
        except StdnumError:
            raise ValidationError(
                _("« %(v)s » n'est pas un IBAN valide : vérifiez les caractères et la clé.")
                % {"v": value},
                code="invalid_iban",
            ) from None


class AddressWidget(forms.MultiWidget):
    template_name = "demarches/widgets/address.html"

    def __init__(self, attrs=None):
        parts = [
            forms.TextInput(attrs={"autocomplete": "address-line1"}),
            forms.TextInput(attrs={"autocomplete": "address-line2"}),
            forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
            forms.TextInput(attrs={"autocomplete": "address-level2"}),
            forms.TextInput(attrs={"autocomplete": "country", "size": 2}),
        ]
        super().__init__(parts, attrs)

    def decompress(self, value):
        if isinstance(value, dict):
            return [value.get(part, "") for part in ADDRESS_PARTS]
        return ["", "", "", "", "FR"]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        labels = [
            _("Numéro et voie"),
            _("Complément d'adresse (facultatif)"),
            _("Code postal"),
            _("Commune"),
            _("Pays (code à deux lettres)"),
        ]
        for sub, label in zip(context["widget"]["subwidgets"], labels, strict=True):
            sub["label"] = label
        return context


class AddressField(forms.MultiValueField):
    widget = AddressWidget

    def __init__(self, **kwargs):
        # Parts are optional one by one; compress() says which ones a usable address lacks.
        fields = [
            forms.CharField(max_length=length, required=False) for length in (200, 200, 10, 100, 2)
        ]
        super().__init__(fields=fields, require_all_fields=False, **kwargs)

    def clean(self, value):
        if isinstance(value, dict):
            value = [value.get(part, "") for part in ADDRESS_PARTS]
        return super().clean(value)

    def compress(self, data_list):
        if not data_list:
            return None
        address = dict(zip(ADDRESS_PARTS, (str(v or "").strip() for v in data_list), strict=True))
        address["country"] = (address["country"] or "FR").upper()
        if not any(address[p] for p in ("address_line1", "postal_code", "city")):
            return None
        missing = [
            label
            for part, label in (
                ("address_line1", _("le numéro et la voie")),
                ("postal_code", _("le code postal")),
                ("city", _("la commune")),
            )
            if not address[part]
        ]
        if missing:
            raise ValidationError(
                _("Adresse incomplète : indiquez %(parts)s.") % {"parts": ", ".join(missing)}
            )
        if address["country"] == "FR" and not _FRENCH_POSTCODE.match(address["postal_code"]):
            raise ValidationError(_("Un code postal français compte 5 chiffres (ex. 49170)."))
        return address


class AttachmentsField(forms.Field):
    """The answer is a list of attachment ids already stored for this dossier and field (uploads
    are checked and stored first, by the attachment service)."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, multiple: bool, known_ids: Callable[[], set[int]] | None, **kwargs):
        self.multiple = multiple
        self.known_ids = known_ids
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in (None, "", [], ()):
            return []
        values = value if isinstance(value, (list, tuple)) else [value]
        try:
            return [int(v) for v in values]
        except (TypeError, ValueError):
            raise ValidationError(_("Pièce jointe inconnue."), code="invalid") from None

    def validate(self, value):
        if self.required and not value:
            raise ValidationError(_("Joignez un fichier."), code="required")
        if len(value) > 1 and not self.multiple:
            raise ValidationError(_("Un seul fichier est attendu ici."), code="too_many")
        if value and self.known_ids is not None and not set(value) <= self.known_ids():
            raise ValidationError(_("Pièce jointe inconnue."), code="unknown")


def _text_validators(rules: dict) -> list:
    if rules.get("pattern"):
        return [RegexValidator(f"^(?:{rules['pattern']})$", rules.get("pattern_message"))]
    return []


def _date(value):
    return None if value in (None, "") else datetime.date.fromisoformat(value)


def _datetime(value):
    if value in (None, ""):
        return None
    moment = datetime.datetime.fromisoformat(value)
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def form_field(
    spec: dict[str, Any],
    *,
    required: bool | None = None,
    known_attachments: Callable[[str], set[int]] | None = None,
) -> forms.Field:
    """The Django form field for one field of a definition."""
    kind = spec["type"]
    rules = spec.get("validation") or {}
    common = {
        "label": spec.get("label", ""),
        "help_text": spec.get("help", ""),
        "required": spec.get("required", False) if required is None else required,
    }
    if kind in ("text", "textarea"):
        widget = forms.Textarea(attrs={"rows": 5}) if kind == "textarea" else forms.TextInput
        return forms.CharField(
            min_length=rules.get("min_length"),
            max_length=rules.get("max_length"),
            validators=_text_validators(rules),
            widget=widget,
            **common,
        )
    if kind == "email":
        return forms.EmailField(
            max_length=rules.get("max_length", 254),
            widget=forms.EmailInput(attrs={"autocomplete": "email"}),
            **common,
        )
    if kind == "phone":
        return PhoneFormField(
            max_length=30,
            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            **common,
        )
    if kind == "integer":
        return forms.IntegerField(min_value=rules.get("min"), max_value=rules.get("max"), **common)
    if kind == "decimal":
        return DecimalAnswerField(
            min_value=rules.get("min"),
            max_value=rules.get("max"),
            widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            **common,
        )
    if kind == "date":
        field = forms.DateField(
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            input_formats=["%Y-%m-%d", "%d/%m/%Y"],
            **common,
        )
        _add_bounds(field, _date(rules.get("min")), _date(rules.get("max")))
        return field
    if kind == "datetime":
        field = forms.DateTimeField(
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M"],
            **common,
        )
        _add_bounds(field, _datetime(rules.get("min")), _datetime(rules.get("max")))
        return field
    if kind == "yesno":
        return YesNoField(**common)
    if kind == "checkbox":
        return forms.BooleanField(**common)
    if kind in ("choice", "multiple"):
        choices = [(o["value"], o["label"]) for o in spec.get("options", [])]
        if kind == "multiple":
            return forms.MultipleChoiceField(
                choices=choices, widget=forms.CheckboxSelectMultiple, **common
            )
        if spec.get("widget") == "select":
            return forms.ChoiceField(choices=[("", _("— Choisissez —")), *choices], **common)
        return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
    if kind == "file":
        return AttachmentsField(
            multiple=bool(spec.get("multiple")),
            known_ids=(lambda: known_attachments(spec["key"])) if known_attachments else None,
            **common,
        )
    if kind == "address":
        return AddressField(**common)
    if kind == "siret":
        return SiretField(max_length=20, **common)
    if kind == "iban":
        return IbanField(max_length=42, **common)
    raise ValueError(f"no form field for type {kind!r}")


def _add_bounds(field: forms.Field, low, high) -> None:
    def shown(moment) -> str:
        if isinstance(moment, datetime.datetime):
            return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M")
        return moment.strftime("%d/%m/%Y")

    def check(value):
        if value is None:
            return
        if low is not None and value < low:
            raise ValidationError(_("La date doit être le %(d)s ou après.") % {"d": shown(low)})
        if high is not None and value > high:
            raise ValidationError(_("La date doit être le %(d)s ou avant.") % {"d": shown(high)})

    field.validators.append(check)


def to_json(spec: dict[str, Any], value: Any) -> Any:
    """A cleaned value as kept in dossier.answers (docs/form-definition.md)."""
    kind = spec["type"]
    if value in (None, "") and kind not in ("yesno", "checkbox"):
        return None
    if kind == "email":
        return value.lower()
    if kind == "decimal":
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if kind == "date":
        return value.isoformat()
    if kind == "datetime":
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return timezone.localtime(value).isoformat()
    if kind == "multiple":
        return list(value) or None
    if kind == "file":
        return list(value) or None
    return value


def to_data(spec: dict[str, Any], stored: Any) -> Any:
    """A stored answer as the field's clean() takes it back (re-validation, editing)."""
    kind = spec["type"]
    if stored is None:
        return None
    if kind == "yesno":
        return "true" if stored else "false"
    if kind == "datetime" and isinstance(stored, str):
        return timezone.localtime(datetime.datetime.fromisoformat(stored)).strftime(
            "%Y-%m-%dT%H:%M"
        )
    return stored


def display(spec: dict[str, Any], stored: Any) -> str:
    """An answer as a person reads it (summary page, dossier page, exports)."""
    kind = spec["type"]
    if stored in (None, "", []):
        return ""
    if kind in ("yesno", "checkbox"):
        return _("Oui") if stored else _("Non")
    if kind in ("choice", "multiple"):
        labels = {o["value"]: o["label"] for o in spec.get("options", [])}
        values = stored if isinstance(stored, list) else [stored]
        return ", ".join(labels.get(v, v) for v in values)
    if kind == "date":
        return datetime.date.fromisoformat(stored).strftime("%d/%m/%Y")
    if kind == "datetime":
        return timezone.localtime(datetime.datetime.fromisoformat(stored)).strftime(
            "%d/%m/%Y %H:%M"
        )
    if kind == "decimal":
        return stored.replace(".", ",")
    if kind == "phone":
        from grc.base.validators import display_phone

        return display_phone(stored)
    if kind == "address":
        return Address(**{part: stored.get(part) or "" for part in ADDRESS_PARTS}).as_text()
    return str(stored)
