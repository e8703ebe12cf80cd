"""RPT-1 over the API: the caller's role dashboard as data (the page's tables)."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from ninja import Field, Query, Router, Schema

from bizdept.core.api import ERRORS, Text
from bizdept.targets.choices import Metric

from . import selectors

router = Router(tags=["reports"])


class ColumnOut(Schema):
    key: str
    label: str
    kind: Literal["text", "money", "count", "figure", "percent", "date", "pace"] = Field(
        description="How the values read: money (2 places, as text), count, figure (money "
        "or count: see the row's places), percent, date, pace (ahead, on_track, behind), "
        "text.")


class PanelOut(Schema):
    key: str
    title: str
    columns: list[ColumnOut]
    rows: list[dict[str, Any]] = Field(description="One object per row, keyed by the "
                                       "columns' keys; ``places`` tells a figure's decimals.")
    total: int | None = Field(None, description="Rows in all, when a list shows only the "
                              "first ones (its ``more_url`` has everything).")
    more_url: str
    note: str


class DashboardOut(Schema):
    kind: Literal["director", "team", "sales", "finance", "none"]
    title: str
    as_of: datetime.date
    period: str
    metric: str
    unit_id: int | None
    panels: list[PanelOut]


class DashboardIn(Schema):
    period: Text(7) | None = Field(None, description="2026, 2026-Q3 or 2026-07 (default: "
                                   "this quarter): what the ranking and the divisions cover.")
    metric: Literal[tuple(Metric.values)] | None = Field(  # type: ignore[valid-type]
        None, description="The metric of the department charts (default: revenue).")


def _row_out(row: dict, columns) -> dict:
    out = {c.key: row.get(c.key) for c in columns}
    if "_places" in row:
        out["places"] = row["_places"]
    if row.get("_flag"):
        out["flagged"] = True
    if row.get("_url"):
        out["url"] = row["_url"]
    return out


@router.get("/reports/dashboard", response={200: DashboardOut, **ERRORS},
            summary="The dashboard of your role")
def dashboard(request, filters: Query[DashboardIn]):
    """What the home page shows you, as data: a director the department against target by
    month, the divisions side by side and the trend against last year; a team lead or
    manager the team's ranking, funnel, overdue revisits and receivables and the approvals
    waiting; a salesperson their targets and pace, revisits due, pending requests and
    overdue receivables; finance the receivables and collection rates. HR and logins
    without an employee get ``kind: none`` and no panels. Bad period or metric: 400."""
    board = selectors.dashboard(user=request.user, period=filters.period,
                                metric=filters.metric)
    frame = board.frame
    return {
        "kind": board.kind, "title": str(board.title), "as_of": frame.as_of,
        "period": frame.period, "metric": frame.metric,
        "unit_id": frame.unit.pk if frame.unit is not None else None,
        "panels": [{"key": p.key, "title": str(p.title),
                    "columns": [{"key": c.key, "label": str(c.label), "kind": c.kind}
                                for c in p.columns],
                    "rows": [_row_out(r, p.columns) for r in p.rows], "total": p.total,
                    "more_url": p.more_url, "note": str(p.note)} for p in board.panels],
    }
