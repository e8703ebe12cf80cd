"""Money as the sales pages show it: to the cent, with thousands separators."""

from django import template

from bizdept.core.money import to_cents
from bizdept.sales.pricing import margin_rate as _margin_rate

register = template.Library()


@register.filter
def money(value) -> str:
    """12345.6 → "12,345.60"; None → "—"."""
    if value is None or value == "":
        return "—"
    return f"{to_cents(value):,.2f}"


@register.simple_tag
def margin_rate(price, cost) -> str:
    rate = _margin_rate(price, cost)
    return "—" if rate is None else f"{rate}%"
