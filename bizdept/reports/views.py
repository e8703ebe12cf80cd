"""Dashboard pages (RPT-1). The home page IS the dashboard of the user's role
(``dashboard_context`` is what ``org.views.home`` adds); each panel's table downloads as
Excel from ``/reports/dashboard/<panel>.xlsx`` with the same figures."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse

from bizdept.core.errors import DomainError
from bizdept.core.excel import xlsx_response
from bizdept.targets.choices import Metric

from . import selectors
from .charts import chart_height, chart_option
from .templatetags.reports import export_value

# Panels whose table is wide: the whole row on large screens (the others: half).
WIDE = {"my_targets", "department_monthly", "divisions", "team_receivables"}


def dashboard_context(request) -> dict:
    """What the home page needs to show the role's dashboard: ``dashboard`` (None for a
    role without one) and the period and metric pickers."""
    user = request.user
    if selectors.dashboard_kind(user) == selectors.Kind.NONE:
        return {"dashboard": None}
    period, metric = request.GET.get("period"), request.GET.get("metric")
    try:
        board = selectors.dashboard(user=user, period=period, metric=metric)
    except DomainError:  # a hand-edited address: the defaults instead of an error page
        board = selectors.dashboard(user=user)
    frame = board.frame
    panels = []
    for panel in board.panels:
        option = chart_option(panel)
        panels.append({"panel": panel, "chart": option, "height": chart_height(panel),
                       "wide": panel.key in WIDE,
                       "chart_id": f"chart-{panel.key}",
                       "export_url": _export_url(panel.key, frame)})
    return {
        "dashboard": board, "dashboard_panels": panels,
        "period_choices": selectors.period_choices(frame.as_of),
        "metric_choices": Metric.choices,
        "shows_metric": board.kind == selectors.Kind.DIRECTOR,
        "shows_period": board.kind in (selectors.Kind.DIRECTOR, selectors.Kind.TEAM),
    }


def _export_url(key: str, frame) -> str:
    return (reverse("reports:export", args=[key])
            + f"?period={frame.period}&metric={frame.metric}")


@login_required
def dashboard_page(request):
    """``/reports/dashboard/``: the dashboard lives on the home page."""
    query = request.GET.urlencode()
    return redirect(reverse("home") + (f"?{query}" if query else ""))


@login_required
def export(request, key):
    """One panel of the user's own dashboard as an Excel sheet (its table, every row)."""
    if key not in selectors.PANELS:
        raise Http404
    try:
        panel = selectors.dashboard_panel(user=request.user, key=key,
                                          period=request.GET.get("period"),
                                          metric=request.GET.get("metric"))
    except DomainError:
        panel = selectors.dashboard_panel(user=request.user, key=key)
    return xlsx_response(filename=f"dashboard-{key}", sheet=_sheet_name(panel.title),
                         headers=[str(c.label) for c in panel.columns],
                         rows=([export_value(row, c) for c in panel.columns] for row in panel.rows))


def _sheet_name(title) -> str:
    """Excel refuses : \\ / ? * [ ] in a sheet's name and more than 31 characters."""
    name = "".join(" " if ch in ':\\/?*[]' else ch for ch in str(title)).strip()
    return name[:31] or "Sheet"

