"""How a dashboard table shows one value of its typed columns (reports.selectors.Col)."""

from django import template
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from bizdept.core.templatetags.figures import money

register = template.Library()

PACE = {"ahead": ("text-bg-success", _("Ahead")), "on_track": ("text-bg-secondary", _("On track")),
        "on track": ("text-bg-secondary", _("On track")), "behind": ("text-bg-danger", _("Behind"))}


def cell_text(row: dict, column) -> str:
    """One value as the table shows it: money to the cent, counts with separators,
    percentages with their sign, dates as YYYY-MM-DD, pace in words; none as a dash."""
    value = row.get(column.key)
    if value is None or value == "":
        return "—"
    kind = column.kind
    if kind == "figure":
        kind = "money" if row.get("_places", 2) else "count"
    if kind == "money":
        return money(value)
    if kind == "count":
        return f"{int(value):,}"
    if kind == "percent":
        return f"{value}%"
    if kind == "date":
        return date_format(value, "Y-m-d")
    if kind == "pace":
        return str(PACE.get(str(value), ("", value))[1])
    return str(value)


def export_value(row: dict, column):
    """One value as the Excel export writes it: numbers stay numbers, pace in words."""
    value = row.get(column.key)
    if column.kind == "pace" and value is not None:
        return str(PACE.get(str(value), ("", value))[1])
    return value


@register.simple_tag
def cell(row, column, panel=None):
    """The value of ``column`` in ``row``; the panel's link column links to the records."""
    value = row.get(column.key)
    if column.kind == "pace" and str(value) in PACE:
        css, label = PACE[str(value)]
        return format_html('<span class="badge {}">{}</span>', css, label)
    text = cell_text(row, column)
    if panel is not None and column.key == panel.link_key and row.get("_url"):
        return format_html('<a href="{}">{}</a>', row["_url"], text)
    return text


@register.filter
def flagged(row) -> bool:
    return bool(row.get("_flag"))


@register.filter
def numeric(column) -> bool:
    return column.kind in ("money", "count", "figure", "percent")
