"""Checking and normalising what people type: phones, e-mails, SIREN, colours, names.

Every function raises django.core.exceptions.ValidationError with a French message that names
the problem, so forms, services and the API report the same words.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.fr import siren as stdnum_siren

DEFAULT_PHONE_REGION = "FR"


def normalize_phone(raw: str, *, region: str = DEFAULT_PHONE_REGION) -> str:
    """Return the number in E.164 (+33612345678); national numbers are read as French."""
    value = (raw or "").strip()
    if not value:
        raise ValidationError(_("Saisissez un numéro de téléphone."), code="required")
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("« %(value)s » n'est pas un numéro de téléphone valide."),
            code="invalid_phone",
            params={"value": value},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """French numbers in the national format (01 23 45 67 89), others internationally."""
    if not e164:
        return ""
    number = phonenumbers.parse(e164, None)
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 33
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)


_email_validator = EmailValidator()


def normalize_email(raw: str) -> str:
    """Trimmed and lower-cased: that is how addresses are compared and stored."""
    value = (raw or "").strip()
    try:
        _email_validator(value)
    except ValidationError:
        raise ValidationError(
            _("« %(value)s » n'est pas une adresse e-mail valide."),
            code="invalid_email",
            params={"value": value},
        ) from None
    return value.lower()


def compact_siren(value: str) -> str:
    return stdnum_siren.compact(value or "")


def validate_siren(value: str) -> str:
    """Return the 9 digits of a valid SIREN (spaces allowed on input)."""
    compact = stdnum_siren.compact(value or "")
    try:
        return stdnum_siren.validate(compact)
    except stdnum_errors.InvalidLength:
        message = _("Un SIREN compte 9 chiffres (« %(value)s » en compte %(count)d).")
    except stdnum_errors.InvalidFormat:
        message = _("Un SIREN ne contient que des chiffres (« %(value)s »).")
    except stdnum_errors.InvalidChecksum:
        message = _("« %(value)s » n'est pas un SIREN valide : la clé de contrôle est fausse.")
    raise ValidationError(
        message, code="invalid_siren", params={"value": value, "count": len(compact)}
    )


_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _relative_luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted(
        (_relative_luminance(first), _relative_luminance(second)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


def validate_portal_colour(value: str) -> None:
    """A portal colour carries white text (buttons, header): WCAG AA asks for 4.5:1."""
    if not _HEX_COLOUR.match(value or ""):
        raise ValidationError(
            _("Indiquez une couleur au format #RRVVBB (par exemple #1D4F91)."),
            code="invalid_colour",
        )
    ratio = contrast_ratio(value, "#ffffff")
    if ratio < 4.5:
        raise ValidationError(
            _(
                "Le texte blanc sur %(value)s n'est pas assez lisible (contraste %(ratio)s:1, "
                "il faut au moins 4,5:1 pour l'accessibilité). Choisissez une couleur plus foncée."
            ),
            code="low_contrast",
            params={"value": value, "ratio": f"{ratio:.1f}".replace(".", ",")},
        )


_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def name_key(*parts: str | None) -> str:
    """Accent-free, lower-case, punctuation-free form used to compare names.

    Hélène-Marie → helene marie."""
    text = " ".join(p for p in parts if p)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_ALNUM.sub(" ", stripped.casefold().replace("œ", "oe").replace("æ", "ae")).strip()
