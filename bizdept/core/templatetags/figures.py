"""Figures as every page shows them, available in every template without ``{% load %}``
(registered as a builtin in settings): money to the cent with thousands separators."""

from django import template

from bizdept.core.money import to_cents

register = template.Library()


@register.filter
def money(value) -> str:
    """12345.6 → "12,345.60"; None → "—"."""
    if value is None or value == "":
        return "—"
    return f"{to_cents(value):,.2f}"
