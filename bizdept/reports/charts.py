"""ECharts options of the dashboard panels, drawn from the panel's own rows: a chart shows
exactly the figures of the table beside it (which is also its accessible fallback and
its Excel export). Labels are translated here, in the request's language; values become
floats only for drawing."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from bizdept.core.periods import period_kind

from .selectors import Panel

BEHIND = "#dc3545"
SCROLL_LEGEND = {"type": "scroll", "top": 0}


def _num(value):
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value


def _grid(**extra) -> dict:
    return {"left": 8, "right": 16, "top": 36, "bottom": 8, "containLabel": True, **extra}


def _percent_axis() -> dict:
    return {"type": "value", "axisLabel": {"formatter": "{value}%"}}


def _hundred() -> dict:
    return {"silent": True, "symbol": "none", "lineStyle": {"type": "dashed"},
            "data": [{"xAxis": 100}], "label": {"formatter": "100%"}}


def chart_targets(panel: Panel) -> dict:
    """Achievement % of each metric, one bar per period (month, quarter, year)."""
    metrics = list(dict.fromkeys(row["metric"] for row in panel.rows))
    names = {"month": _("This month"), "quarter": _("This quarter"), "year": _("This year")}
    series = []
    for kind, name in names.items():
        values = {row["metric"]: row["achievement"] for row in panel.rows
                  if period_kind(row["period"]) == kind}
        series.append({"type": "bar", "name": str(name),
                       "data": [_num(values.get(m)) for m in metrics[::-1]]})
    if series:
        series[0]["markLine"] = _hundred()
    return {"tooltip": {"trigger": "axis", "valueFormatter": None}, "legend": SCROLL_LEGEND,
            "grid": _grid(), "xAxis": _percent_axis(),
            "yAxis": {"type": "category", "data": metrics[::-1]}, "series": series}


def chart_aging(panel: Panel) -> dict:
    return {"tooltip": {"trigger": "axis"}, "grid": _grid(top=16),
            "xAxis": {"type": "category", "data": [str(r["bucket"]) for r in panel.rows],
                      "axisLabel": {"interval": 0, "hideOverlap": True}},
            "yAxis": {"type": "value"},
            "series": [{"type": "bar", "name": _("Due and unpaid"),
                        "data": [_num(r["amount"]) for r in panel.rows]}]}


def chart_ranking(panel: Panel) -> dict:
    """Achievement % per person, best on top; those behind pace in red."""
    rows = panel.rows[::-1]
    return {"tooltip": {"trigger": "axis"}, "grid": _grid(top=16),
            "xAxis": _percent_axis(),
            "yAxis": {"type": "category", "data": [r["name"] for r in rows]},
            "series": [{"type": "bar", "name": _("Achievement %"), "markLine": _hundred(),
                        "data": [{"value": _num(r["achievement"]),
                                  **({"itemStyle": {"color": BEHIND}} if r.get("_flag") else {})}
                                 for r in rows]}]}


def chart_funnel(panel: Panel) -> dict:
    return {"tooltip": {"trigger": "item", "formatter": "{b}: {c}"},
            "series": [{"type": "funnel", "name": _("Opportunities"), "sort": "none",
                        "left": "10%", "width": "80%", "minSize": "8%",
                        "label": {"show": True, "position": "inside", "formatter": "{b} {c}"},
                        "data": [{"name": r["stage"], "value": r["reached"]}
                                 for r in panel.rows]}]}


def chart_people_counts(panel: Panel) -> dict:
    rows = panel.rows[::-1]
    return {"tooltip": {"trigger": "axis"}, "grid": _grid(top=16),
            "xAxis": {"type": "value", "minInterval": 1},
            "yAxis": {"type": "category", "data": [r["name"] for r in rows]},
            "series": [{"type": "bar", "name": _("Revisits due"),
                        "data": [r["count"] for r in rows]}]}


def chart_aging_people(panel: Panel) -> dict:
    rows = panel.rows[::-1]
    return {"tooltip": {"trigger": "axis"}, "legend": SCROLL_LEGEND, "grid": _grid(),
            "xAxis": {"type": "value"},
            "yAxis": {"type": "category", "data": [r["name"] for r in rows]},
            "series": [{"type": "bar", "stack": "aging", "name": str(label),
                        "data": [_num(r[key]) for r in rows]}
                       for key, label in panel.extra["buckets"]]}


def chart_monthly(panel: Panel) -> dict:
    """Targets and actual per month (bars), their running totals (lines, right axis)."""
    months = [r["month"][5:] for r in panel.rows]
    bars = (("realistic", _("Realistic target")), ("stretch", _("Stretch target")),
            ("actual", _("Actual")))
    lines = (("cum_realistic", _("Realistic, cumulative")),
             ("cum_stretch", _("Stretch, cumulative")), ("cum_actual", _("Actual, cumulative")))
    series = [{"type": "bar", "name": name, "data": [_num(r[key]) for r in panel.rows]}
              for key, name in bars]
    series += [{"type": "line", "name": name, "yAxisIndex": 1, "smooth": False,
                "data": [_num(r[key]) for r in panel.rows]} for key, name in lines]
    # room under the legend for the two axes' names
    return {"tooltip": {"trigger": "axis"}, "legend": SCROLL_LEGEND, "grid": _grid(top=64),
            "xAxis": {"type": "category", "data": months},
            "yAxis": [{"type": "value", "name": _("Per month")},
                      {"type": "value", "name": _("Cumulative"), "splitLine": {"show": False}}],
            "series": series}


def chart_divisions(panel: Panel) -> dict:
    metrics = [c for c in panel.columns if c.kind == "percent"]
    names = [r["name"] for r in panel.rows]
    return {"tooltip": {"trigger": "axis"}, "legend": SCROLL_LEGEND, "grid": _grid(),
            "xAxis": {"type": "category", "data": names,
                      "axisLabel": {"interval": 0, "hideOverlap": True}},
            "yAxis": _percent_axis(),
            "series": [{"type": "bar", "name": str(c.label),
                        "data": [_num(r.get(c.key)) for r in panel.rows]} for c in metrics]}


def chart_trend(panel: Panel) -> dict:
    last, this = panel.columns[1], panel.columns[2]
    return {"tooltip": {"trigger": "axis"}, "legend": SCROLL_LEGEND, "grid": _grid(),
            "xAxis": {"type": "category", "data": [r["month"] for r in panel.rows]},
            "yAxis": {"type": "value"},
            "series": [{"type": "line", "name": str(last.label), "lineStyle": {"type": "dashed"},
                        "data": [_num(r["last"]) for r in panel.rows]},
                       {"type": "line", "name": str(this.label),
                        "data": [_num(r["this"]) for r in panel.rows]}]}


def chart_rates(panel: Panel) -> dict:
    rows = panel.rows[::-1]
    return {"tooltip": {"trigger": "axis"}, "grid": _grid(top=16), "xAxis": _percent_axis(),
            "yAxis": {"type": "category", "data": [r["name"] for r in rows]},
            "series": [{"type": "bar", "name": _("Collection rate %"), "markLine": _hundred(),
                        "data": [_num(r["rate"]) for r in rows]}]}


CHARTS = {
    "targets": chart_targets, "aging": chart_aging, "ranking": chart_ranking,
    "funnel": chart_funnel, "people_counts": chart_people_counts,
    "aging_people": chart_aging_people, "monthly": chart_monthly,
    "divisions": chart_divisions, "trend": chart_trend, "rates": chart_rates,
}


def chart_option(panel: Panel) -> dict | None:
    """The panel's ECharts option (None for a table-only panel or one with no rows)."""
    if not panel.chart or not panel.rows:
        return None
    if panel.chart == "funnel" and not any(r["reached"] for r in panel.rows):
        return None  # nothing reached any stage: the table says so
    option = CHARTS[panel.chart](panel)
    return _plain(option)


def _plain(value):
    """Lazy translations as text, Decimals as floats: what json_script can write."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None or k == "value"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "_proxy____cast"):
        return str(value)
    return value


def chart_height(panel: Panel) -> int:
    """Horizontal bar charts grow with their rows; the rest are a fixed height (px)."""
    if panel.chart in ("ranking", "people_counts", "aging_people", "rates"):
        return max(160, 28 * len(panel.rows) + 60)
    if panel.chart == "targets":
        return max(200, 60 * len({r["metric"] for r in panel.rows}) + 60)
    return 300
