"""Every read of the KPI library's pages and API, starting from the acting user.

Market sizes and the planned product mix are the department's planning figures, not
anyone's records: everyone working in the department reads them (a salesperson sees
what their market share and mix are measured against); a visitor without an active
employee record (or the administrator's capability) reads none. The KPI catalogue
(``kpi_catalogue``) is public to the same people.
"""

from __future__ import annotations

import inspect

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from bizdept.org.choices import Capability
from bizdept.org.scope import capabilities_of, employee_of

from . import measures
from .models import MarketSize, PlannedMix


def may_read(user) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if Capability.ADMINISTER in capabilities_of(user):
        return True
    me = employee_of(user)
    return me is not None and not me.is_left


def market_sizes(*, user, year: int | None = None) -> QuerySet:
    """The market sizes (of ``year``, or every year), region by region; one query."""
    rows = MarketSize.objects.order_by("-year", "region")
    if year is not None:
        rows = rows.filter(year=year)
    return rows if may_read(user) else rows.none()


def planned_mix(*, user, year: int | None = None) -> QuerySet:
    """The planned mix (of ``year``, or every year) with its categories; one query."""
    rows = (PlannedMix.objects.select_related("category")
            .order_by("-year", "category__sort_order", "category__name"))
    if year is not None:
        rows = rows.filter(year=year)
    return rows if may_read(user) else rows.none()


def definition(measure) -> str:
    """The first paragraph of a measure's definition, without markup: its class's own
    docstring, or (the plan metrics) its bullet in the ``measures`` module docstring."""
    doc = type(measure).__dict__.get("__doc__") or ""
    if not doc:
        marker = f"* **{measure.code}**"
        text = measures.__doc__ or ""
        start = text.find(marker)
        if start >= 0:
            end = min((i for i in (text.find("\n* ", start + 1), text.find("\n\n", start))
                       if i >= 0), default=len(text))
            doc = text[start + 2:end]
    first = inspect.cleandoc(doc).split("\n\n", 1)[0]
    return " ".join(first.replace("**", "").replace("``", "").replace("*", "").split())


UNIT_LABELS = {
    measures.MONEY: _("money (yuan)"), measures.COUNT: _("count"),
    measures.PERCENT: _("percent"), measures.SCORE: _("score (1–5)"),
    measures.PER_DAY: _("per working day"),
}


def kpi_catalogue(*, user) -> list[dict]:
    """Every KPI of the library: code, name, unit, places, direction, definition (no
    query). Empty for a visitor who may not read."""
    if not may_read(user):
        return []
    return [{"code": m.code, "label": m.label, "unit": m.unit,
             "unit_label": UNIT_LABELS.get(m.unit, m.unit), "places": m.places,
             "higher_is_better": m.higher_is_better, "definition": definition(m)}
            for m in measures.KPIS.values()]
