"""Model and form fields that normalise on the way in."""

import phonenumbers
from django import forms
from django.db import models

from grc.base.validators import compact_siren, display_phone, normalize_phone, validate_siren


class PhoneFormField(forms.CharField):
    """Accepts what people type (06 12 34 56 78, +44 …), cleans to E.164."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return ""
        return normalize_phone(value)

    def prepare_value(self, value):
        if isinstance(value, str) and value.startswith("+"):
            try:
                return display_phone(value)
            except phonenumbers.NumberParseException:  # show the stored text, not an error
                return value
        return value


class PhoneField(models.CharField):
    """A phone number stored in E.164 (+33612345678)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 20)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in (None, ""):
            return value
        return normalize_phone(value)

    def validate(self, value, model_instance):
        # Also reached for each item of an ArrayField, which does not call to_python on items.
        super().validate(value, model_instance)
        if value not in (None, ""):
            normalize_phone(value)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": PhoneFormField, **kwargs})


class SirenFormField(forms.CharField):
    """Accepts "213 401 268" as typed on paper; cleans to the 9 digits."""

    def to_python(self, value):
        return compact_siren(super().to_python(value))


class SirenField(models.CharField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 9)
        kwargs.setdefault("validators", [validate_siren])
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return compact_siren(value) if value else value

    def formfield(self, **kwargs):
        # The length is checked after spaces are removed, with the SIREN's own message.
        return super().formfield(**{"form_class": SirenFormField, "max_length": None, **kwargs})


class EncryptedTextField(models.TextField):
    """A secret the platform must use in clear (an IMAP password, a provider's token, a
    webhook's HMAC key), kept encrypted at rest with Fernet (grc.base.secrets). Reads give the
    clear text; the database, its dumps and backups hold only the token."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        from grc.base import secrets

        return secrets.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        from grc.base import secrets

        return secrets.encrypt(value)
