"""Showing stored values the way people read them."""

import phonenumbers
from django import template

from grc.base.validators import display_phone

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """+33241001020 → 02 41 00 10 20 (foreign numbers in the international format); a value
    that is not a number is shown as stored."""
    try:
        return display_phone(value)
    except phonenumbers.NumberParseException:
        return value
