"""Rendering a Django form field the accessible way: its hint and its errors are tied to the
input (aria-describedby), and an input with an error says so (aria-invalid)."""

from django import template

register = template.Library()


@register.filter
def accessible_widget(field):
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}-hint")
    if field.errors:
        described.append(f"{field.auto_id}-error")
    attrs = {}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.filter
def is_checkbox(field) -> bool:
    return getattr(field.field.widget, "input_type", "") == "checkbox"
