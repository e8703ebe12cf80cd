"""Figures of the tracking pages (TGT-5, 6): money to the cent, counts as whole numbers."""

from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

from bizdept.core.money import to_cents

register = template.Library()


@register.filter
def figure(value, places=2) -> str:
    """A figure as its measure shows it: 12345.6 → "12,345.60" (money), 12 → "12" (a
    count); a derived count (expected, forecast, daily) keeps one decimal. None → "—"."""
    if value is None or value == "":
        return "—"
    if int(places or 0) == 0:
        value = Decimal(value)
        if value == value.to_integral_value():
            return f"{int(value):,}"
        return f"{value:,.1f}"
    return f"{to_cents(value):,.2f}"


@register.filter
def percent(value) -> str:
    return "—" if value is None else f"{value}%"


@register.simple_tag
def pace_badge(row) -> str:
    from django.utils.html import format_html

    if not row.pace:
        return format_html('<span class="text-body-secondary">{}</span>', _("No target"))
    css = {"ahead": "text-bg-success", "on_track": "text-bg-primary",
           "behind": "text-bg-danger"}[row.pace]
    return format_html('<span class="badge {} pace-{}">{}</span>', css, row.pace,
                       row.pace_label)
