from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

_FRENCH_POSTCODE = re.compile(r"^\d{5}$")


class PostalAddress(models.Model):
    """A structured postal address (French layout, foreign addresses allowed)."""

    address_line1 = models.CharField(_("numéro et voie"), max_length=200, blank=True)
    address_line2 = models.CharField(
        _("complément d'adresse"),
        max_length=200,
        blank=True,
        help_text=_("Bâtiment, appartement, lieu-dit, boîte postale…"),
    )
    postal_code = models.CharField(_("code postal"), max_length=10, blank=True)
    city = models.CharField(_("commune"), max_length=100, blank=True)
    country = models.CharField(
        _("pays"), max_length=2, default="FR", help_text=_("Code ISO à deux lettres (FR).")
    )

    ADDRESS_FIELDS = ("address_line1", "address_line2", "postal_code", "city", "country")

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        self.country = (self.country or "FR").upper()
        if (
            self.country == "FR"
            and self.postal_code
            and not _FRENCH_POSTCODE.match(self.postal_code)
        ):
            raise ValidationError(
                {"postal_code": _("Un code postal français compte 5 chiffres (ex. 75001).")}
            )

    @property
    def address(self) -> Address:
        return Address(**{name: getattr(self, name) for name in self.ADDRESS_FIELDS})

    @property
    def address_text(self) -> str:
        return self.address.as_text()


@dataclass(frozen=True)
class Address:
    """An address passed around between services (intake, mail, API)."""

    address_line1: str = ""
    address_line2: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "FR"

    def as_text(self) -> str:
        town = " ".join(p for p in (self.postal_code, self.city) if p)
        lines = [self.address_line1, self.address_line2, town]
        if self.country and self.country != "FR":
            lines.append(self.country)
        return "\n".join(line for line in lines if line)

    def is_empty(self) -> bool:
        return not (self.address_line1 or self.postal_code or self.city)
