from ninja import Router

router = Router()


# === Plans (TGT-1..4) ===================================================================
# Reads go through ``selectors`` (a plan outside the user's department, a unit or person
# outside their sight: 404); writes through ``services`` (a role that may not: 403; a bad
# value: 400 naming the field, e.g. "values[3].realistic"; a plan that already exists or
# a revision already open: 409). Figures are decimals sent as a JSON number or as text
# ("1280.50") and answered as text, so no binary fraction creeps in.
import datetime  # noqa: E402
import re  # noqa: E402
from decimal import Decimal  # noqa: E402
from typing import Annotated, Literal  # noqa: E402

from ninja import Field, Query, Schema, Status  # noqa: E402
from ninja.pagination import paginate  # noqa: E402
from pydantic import BeforeValidator, WithJsonSchema  # noqa: E402
from pydantic_core import PydanticCustomError  # noqa: E402

from bizdept.core.api import (  # noqa: E402
    ERRORS,
    BodyId,
    BodyIn,
    Id,
    Mapped,
    ObjectId,
    Paginated,
    Text,
    filter_errors,
    json_int,
)
from bizdept.org.api import EmployeeRef, UnitRef  # noqa: E402

from . import selectors, services  # noqa: E402
from .choices import Metric, PlanStatus  # noqa: E402
from .filters import TargetPlanFilterSet  # noqa: E402

_FIGURE_TEXT = re.compile(r"\d{1,12}(\.\d{1,2})?")
MAX_VALUES = 5000


def _figure(value):
    if isinstance(value, str):
        if _FIGURE_TEXT.fullmatch(value):
            return Decimal(value)
        raise PydanticCustomError("decimal_parsing", "Input should be a number like 1280.50")
    if isinstance(value, float):
        return Decimal(repr(value))  # 0.1 is 0.1, not 0.1000000000000000055...
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value  # anything else is left to the (strict) type check, which refuses it


# -50 to 100, at most 2 decimals
_STEP_TEXT = r"(-(50(\.0{1,2})?|[1-4]?\d(\.\d{1,2})?)|100(\.0{1,2})?|\d{1,2}(\.\d{1,2})?)"


def _step(value):
    if isinstance(value, str):
        if re.fullmatch(_STEP_TEXT, value):
            return Decimal(value)
        raise PydanticCustomError("decimal_parsing", "Input should be a number like 5 or 2.5")
    return _figure(value)


Figure = Annotated[
    Decimal, BeforeValidator(_figure),
    Field(ge=0, le=services.VALUE_MAX, allow_inf_nan=False),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0,
                               "maximum": float(services.VALUE_MAX)},
                              {"type": "string", "pattern": r"^\d{1,12}(\.\d{1,2})?$"}],
                    "description": "A target ≥ 0 with at most 2 decimals (whole numbers for "
                                   "new customers and visits), as a number or as text."}),
]
MetricIn = Literal[tuple(Metric.values)]
PlanStatusIn = Literal[tuple(PlanStatus.values)]
PeriodText = Annotated[str, Field(min_length=4, max_length=7, pattern=r"^[0-9Q-]+$")]


class TargetPlanOut(Schema):
    id: int
    fiscal_year: int
    metric: str
    unit: UnitRef = Field(..., description="The department the plan covers.")
    version: int
    revision_of: int | None = Field(..., description="The approved version it revises.")
    reason: str
    status: str
    created_by: EmployeeRef
    created_at: datetime.datetime
    submitted_at: datetime.datetime | None
    approved_at: datetime.datetime | None


class TargetPlanFilterIn(Schema):
    year: int | None = Field(None, ge=2000, le=2999)
    metric: MetricIn | None = None
    status: PlanStatusIn | None = None


class TargetPlanIn(BodyIn):
    fiscal_year: Annotated[int, Field(ge=2000, le=2999), BeforeValidator(json_int)]
    metric: MetricIn
    unit: BodyId | None = Field(None, description="The department (default: yours).")


class PlanCellOut(Schema):
    period: str
    realistic: Decimal
    stretch: Decimal
    gap_realistic: Decimal | None = Field(
        None, description="Years and quarters: their child periods' sum minus the cell.")
    gap_stretch: Decimal | None = None


class PlanRowOut(Schema):
    kind: Literal["parent", "unit", "person"]
    unit: UnitRef = Field(..., description="For a person: the unit counted under.")
    employee: EmployeeRef | None
    editable: bool
    has_children: bool
    cells: list[PlanCellOut]


class PlanGridOut(Schema):
    plan: int
    unit: UnitRef
    periods: list[str]
    editable: bool
    rows: list[PlanRowOut] = Field(..., description="The unit, its child units, its people.")
    children_sum: list[PlanCellOut] = Field(..., description="What all its children add up to.")
    children_gap: list[PlanCellOut] = Field(..., description="children_sum − the unit's value.")


class PlanGridIn(Schema):
    unit: Id | None = Field(None, description="The parent unit (default: the department).")


class PlanValueIn(BodyIn):
    unit: BodyId
    employee: BodyId | None = None
    period: PeriodText
    realistic: Figure | None = None
    stretch: Figure | None = None


class PlanValuesIn(BodyIn):
    values: list[PlanValueIn] = Field(..., max_length=MAX_VALUES)


class PlanWrittenOut(Schema):
    written: int = Field(..., description="How many cells were written.")


class PlanSplitIn(BodyIn):
    unit: BodyId
    employee: BodyId | None = None
    period: Annotated[str, Field(min_length=3, max_length=7, pattern=r"^([0-9Q-]+|all)$")]
    across: Literal[tuple(services.SPLIT_ACROSS)]
    how: Literal[tuple(services.SPLIT_HOW)]
    step_percent: Annotated[
        Decimal, BeforeValidator(_step), Field(ge=-50, le=100, allow_inf_nan=False),
        WithJsonSchema({"anyOf": [{"type": "number", "minimum": -50, "maximum": 100},
                                  {"type": "string", "pattern": "^" + _STEP_TEXT + "$"}],
                        "description": "Each part this many percent above the one before "
                                       "(progressive splits), -50 to 100."}),
    ] | None = None
    remainder_to: Literal["first", "last", "largest"] = "last"


class PlanCommentIn(BodyIn):
    comment: Text(500) = ""


class PlanReviseIn(BodyIn):
    reason: Text(200)


class PlanReassignIn(BodyIn):
    from_employee: BodyId
    to_employee: BodyId
    from_month: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class PlanMismatchOut(Schema):
    unit: UnitRef
    employee: EmployeeRef | None
    period: str
    kind: Literal["periods", "children"]
    field: Literal["realistic", "stretch"]
    value: Decimal
    sum: Decimal
    difference: Decimal = Field(..., description="sum − value.")


class PlanCheckOut(Schema):
    ok: bool
    count: int = Field(..., description="Mismatches in the part of the plan you see.")
    mismatches: list[PlanMismatchOut] = Field(..., description="The first 500.")


def _plan_out(p) -> dict:
    return {"id": p.pk, "fiscal_year": p.fiscal_year, "metric": p.metric, "unit": p.unit,
            "version": p.version, "revision_of": p.revision_of_id, "reason": p.reason,
            "status": p.status, "created_by": p.created_by, "created_at": p.created_at,
            "submitted_at": p.submitted_at, "approved_at": p.approved_at}


def _plan(request, plan_id):
    return selectors.plan_get(user=request.user, pk=plan_id)


def _acted_on(request, plan_id):
    return selectors.plan_find(user=request.user, pk=plan_id)


def _plan_cell_out(c) -> dict:
    return {"period": c.period, "realistic": c.value.realistic, "stretch": c.value.stretch,
            "gap_realistic": c.gap.realistic if c.gap is not None else None,
            "gap_stretch": c.gap.stretch if c.gap is not None else None}


def _plan_row_out(r) -> dict:
    return {"kind": r.kind, "unit": r.unit, "employee": r.employee, "editable": r.editable,
            "has_children": r.has_children, "cells": [_plan_cell_out(c) for c in r.cells]}


@router.get("/targets/plans", response={200: list[TargetPlanOut], **ERRORS},
            summary="List target plans", tags=["targets"])
@paginate(Paginated)
def plan_list(request, filters: Query[TargetPlanFilterIn]):
    """Plans of your department(s), newest year first, every version."""
    filterset = TargetPlanFilterSet(filters.dict(exclude_none=True),
                                    queryset=selectors.plan_list(user=request.user))
    if not filterset.is_valid():
        raise filter_errors(filterset)
    return Mapped(filterset.qs.order_by("-fiscal_year", "metric", "-version", "-pk"), _plan_out)


@router.post("/targets/plans", response={201: TargetPlanOut, **ERRORS}, summary="Start a plan",
             tags=["targets"])
def plan_create(request, payload: TargetPlanIn):
    """A draft (version 1) for a department's year and metric: the head of the department
    or a director. 409 when the department already has one (revise the approved one)."""
    unit = None
    if payload.unit is not None:
        from bizdept.core.api import body_ref
        from bizdept.org.models import Unit

        unit = body_ref(Unit.objects.all(), payload.unit, "unit",
                        "This unit does not exist.")
    plan = services.plan_create(by=request.user, fiscal_year=payload.fiscal_year,
                                metric=payload.metric, unit=unit)
    return Status(201, _plan_out(_plan(request, plan.pk)))


@router.get("/targets/plans/{plan_id}", response={200: TargetPlanOut, **ERRORS},
            summary="One target plan", tags=["targets"])
def plan_detail(request, plan_id: ObjectId):
    return _plan_out(_plan(request, plan_id))


@router.delete("/targets/plans/{plan_id}", response={204: None, **ERRORS},
               summary="Delete a draft that was never submitted", tags=["targets"])
def plan_delete(request, plan_id: ObjectId):
    services.plan_delete(plan=_acted_on(request, plan_id), by=request.user)
    return Status(204, None)


@router.get("/targets/plans/{plan_id}/grid", response={200: PlanGridOut, **ERRORS},
            summary="The grid of one unit of a plan", tags=["targets"])
def plan_grid(request, plan_id: ObjectId, filters: Query[PlanGridIn]):
    """The unit, its child units and its people (those you see), the 17 periods of the
    year, each row's period gaps, the children's sums and their gap to the unit."""
    plan = _plan(request, plan_id)
    grid = selectors.plan_grid(plan=plan, user=request.user,
                               unit=filters.unit or plan.unit_id)
    return {"plan": plan.pk, "unit": grid.unit, "periods": grid.periods,
            "editable": grid.editable, "rows": [_plan_row_out(r) for r in grid.rows],
            "children_sum": [_plan_cell_out(c) for c in grid.children_sum],
            "children_gap": [_plan_cell_out(c) for c in grid.children_gap]}


@router.get("/targets/plans/{plan_id}/people/{employee_id}", response={200: PlanRowOut, **ERRORS},
            summary="One person's targets in a plan", tags=["targets"])
def plan_person(request, plan_id: ObjectId, employee_id: ObjectId):
    """Their 17 periods; 404 when they are not counted in the plan or not in your sight."""
    plan = _plan(request, plan_id)
    return _plan_row_out(selectors.plan_person(plan=plan, user=request.user,
                                          employee_id=employee_id))


@router.put("/targets/plans/{plan_id}/values", response={200: PlanWrittenOut, **ERRORS},
            summary="Set targets of a draft plan", tags=["targets"])
def plan_values(request, plan_id: ObjectId, payload: PlanValuesIn):
    """Upsert cells (either figure may be left out); all or nothing."""
    values = [item.dict(exclude_unset=True) for item in payload.values]
    written = services.plan_set_values(plan=_acted_on(request, plan_id), by=request.user,
                                       values=values)
    return {"written": written}


@router.post("/targets/plans/{plan_id}/split", response={200: PlanWrittenOut, **ERRORS},
             summary="Split a target into periods or among units and people",
             tags=["targets"])
def plan_split(request, plan_id: ObjectId, payload: PlanSplitIn):
    written = services.plan_split(plan=_acted_on(request, plan_id), by=request.user,
                                  **payload.dict())
    return {"written": written}


@router.post("/targets/plans/{plan_id}/submit", response={200: TargetPlanOut, **ERRORS},
             summary="Submit a plan for approval", tags=["targets"])
def plan_submit(request, plan_id: ObjectId, payload: PlanCommentIn):
    """Refused (400, naming the sums that are off) while children or periods do not add up."""
    services.plan_submit(plan=_acted_on(request, plan_id), by=request.user,
                         comment=payload.comment)
    return _plan_out(_plan(request, plan_id))


@router.post("/targets/plans/{plan_id}/revise", response={201: TargetPlanOut, **ERRORS},
             summary="Start a revision of an approved plan", tags=["targets"])
def plan_revise(request, plan_id: ObjectId, payload: PlanReviseIn):
    revision = services.plan_revise(plan=_acted_on(request, plan_id), by=request.user,
                                    reason=payload.reason)
    return Status(201, _plan_out(_plan(request, revision.pk)))


@router.post("/targets/plans/{plan_id}/reassign", response={200: PlanWrittenOut, **ERRORS},
             summary="Move a person's remaining months to someone else", tags=["targets"])
def plan_reassign(request, plan_id: ObjectId, payload: PlanReassignIn):
    written = services.plan_reassign(plan=_acted_on(request, plan_id), by=request.user,
                                     **payload.dict())
    return {"written": written}


@router.get("/targets/plans/{plan_id}/check", response={200: PlanCheckOut, **ERRORS},
            summary="Where a plan's sums do not hold", tags=["targets"])
def plan_check(request, plan_id: ObjectId):
    plan = _plan(request, plan_id)
    tree = selectors.plan_nodes(plan)
    viewer = selectors.plan_viewer(plan, request.user)
    found = [m for m in selectors.plan_check(plan, tree)
             if (viewer.sees_person(m.employee, m.unit) if m.employee is not None
                 else viewer.sees_unit(m.unit))]
    return {"ok": not found, "count": len(found), "mismatches": [
        {"unit": m.unit, "employee": m.employee, "period": m.period, "kind": m.kind,
         "field": m.field, "value": m.value, "sum": m.sum, "difference": m.difference}
        for m in found[:500]]}
# === end of Plans (TGT-1..4) ============================================================


# === Tracking (TGT-5) and rankings (TGT-6) ===============================================
# Owned by the tracking API (Engineer C). Every figure is the selectors' (bizdept.kpi
# measures for actuals); money as decimal strings to the cent, counts as whole numbers.
import datetime as _dt  # noqa: E402 - this section's own imports
from decimal import Decimal as _Decimal  # noqa: E402
from typing import Annotated as _Annotated  # noqa: E402
from typing import Literal as _Literal  # noqa: E402

from django.utils import timezone as _timezone  # noqa: E402
from ninja import Field as _Field  # noqa: E402
from ninja import Query as _Query  # noqa: E402
from ninja import Schema as _Schema  # noqa: E402

from bizdept.core.api import ERRORS as _ERRORS  # noqa: E402
from bizdept.core.api import Id as _Id  # noqa: E402
from bizdept.core.api import IsoDate as _IsoDate  # noqa: E402

from . import selectors as _selectors  # noqa: E402
from .choices import Metric as _Metric  # noqa: E402

_Period = _Annotated[str, _Field(pattern=r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$",
                                 description="A year (2026), a quarter (2026-Q3) or a month "
                                             "(2026-07).")]


class _UnitRef(_Schema):
    id: int
    name: str


class _PersonRef(_Schema):
    id: int
    number: str
    name: str


class TrackingRowOut(_Schema):
    kind: _Literal["unit", "person"]
    unit: _UnitRef = _Field(..., description="The unit (for a person: the unit the plan "
                                             "counts them under).")
    employee: _PersonRef | None
    depth: int = _Field(..., description="0 for the top unit of the table.")
    parent_id: int | None = _Field(..., description="The unit row this row sits under.")
    left: bool
    has_target: bool = _Field(..., description="A cell of the approved plan sets the target.")
    realistic: _Decimal
    stretch: _Decimal
    actual: _Decimal
    achievement: _Decimal | None = _Field(..., description="% of the realistic target.")
    achievement_stretch: _Decimal | None = _Field(..., description="% of the stretch target.")
    gap: _Decimal = _Field(..., description="Realistic − actual (expenses: actual − budget).")
    expected: _Decimal | None = _Field(..., description="Expected by now: realistic × elapsed "
                                                        "÷ working days of the period.")
    pace: _Literal["ahead", "on_track", "behind"] | None = _Field(
        ..., description="Within 5% of expected-by-now is on track; none without a target.")
    forecast: _Decimal | None = _Field(..., description="Actual ÷ elapsed × working days.")
    daily_needed: _Decimal | None = _Field(
        ..., description="Still needed per remaining working day (expenses: still allowed).")
    explain_url: str = _Field(..., description="The page listing the records behind actual.")


class TrackingOut(_Schema):
    metric: str
    period: str
    since: _dt.date
    until: _dt.date
    as_of: _dt.date
    measure_unit: _Literal["money", "count"]
    higher_is_better: bool
    unit: _UnitRef | None = _Field(..., description="The top unit; null: the user alone.")
    working_days: int
    elapsed_days: int
    remaining_days: int
    has_plan: bool
    rows: list[TrackingRowOut]


class TrackingIn(_Schema):
    metric: _Metric = _Metric.REVENUE
    period: _Period
    unit: _Id | None = _Field(None, description="The top unit (default: the widest the user "
                                                "sees); one outside the scope is not found.")
    as_of: _IsoDate | None = _Field(None, description="Default: today.")


class RankingIn(TrackingIn):
    by: _Literal["achievement", "actual"] = "achievement"


class RankOut(_Schema):
    rank: int = _Field(..., description="Ties share a rank (1, 1, 3).")
    behind: bool = _Field(..., description="Behind pace (highlighted for the head).")
    value: _Decimal | None
    row: TrackingRowOut


class RankingOut(_Schema):
    metric: str
    period: str
    by: str
    unit: _UnitRef | None
    people: list[RankOut]
    units: list[RankOut] = _Field(..., description="The top unit's direct sub-units.")


class MyPeriodOut(TrackingRowOut):
    period: str


class MyMetricOut(_Schema):
    metric: str
    label: str
    measure_unit: _Literal["money", "count"]
    higher_is_better: bool
    periods: list[MyPeriodOut]


class MyTargetsOut(_Schema):
    year: int
    as_of: _dt.date
    periods: list[str]
    metrics: list[MyMetricOut]


class MyTargetsIn(_Schema):
    year: int | None = _Field(None, ge=2000, le=2999, description="Default: this year.")
    as_of: _IsoDate | None = _Field(None, description="Default: today.")


def _row_out(row) -> dict:
    employee = row.employee
    return {
        "kind": row.kind, "unit": {"id": row.unit.pk, "name": row.unit.name},
        "employee": None if employee is None else {"id": employee.pk,
                                                   "number": employee.number,
                                                   "name": employee.name},
        "depth": row.depth, "parent_id": row.parent_id, "left": row.left,
        "has_target": row.has_target, "realistic": row.realistic, "stretch": row.stretch,
        "actual": row.actual, "achievement": row.achievement,
        "achievement_stretch": row.achievement_stretch, "gap": row.gap,
        "expected": row.expected, "pace": row.pace, "forecast": row.forecast,
        "daily_needed": row.daily_needed, "explain_url": row.explain_url,
    }


def _unit_ref(unit):
    return None if unit is None else {"id": unit.pk, "name": unit.name}


@router.get("/targets/tracking", response={200: TrackingOut, **_ERRORS},
            summary="Target tracking of a unit's tree")
def targets_tracking(request, filters: _Query[TrackingIn]):
    """Targets (the approved plan's cells), actuals (``bizdept.kpi.measures``), achievement,
    gap, expected by now, pace, run-rate forecast and the daily amount still needed, for
    every unit (depth first) and person under ``unit`` within the user's scope; a
    salesperson gets their own row only. A unit's actual is the sum of the rows under it."""
    report = _selectors.tracking(user=request.user, metric=filters.metric,
                                 period=filters.period, unit=filters.unit,
                                 as_of=filters.as_of)
    return {"metric": report.metric, "period": report.period, "since": report.since,
            "until": report.until, "as_of": report.as_of,
            "measure_unit": report.measure.unit,
            "higher_is_better": report.measure.higher_is_better,
            "unit": _unit_ref(report.unit), "working_days": report.working_days,
            "elapsed_days": report.elapsed_days, "remaining_days": report.remaining_days,
            "has_plan": report.has_plan, "rows": [_row_out(r) for r in report.rows]}


@router.get("/targets/my", response={200: MyTargetsOut, **_ERRORS},
            summary="My targets, pace and daily amount needed")
def targets_my(request, filters: _Query[MyTargetsIn]):
    """The user's own tracking for every metric: the year, its current quarter and month."""
    year = filters.year or (filters.as_of or _timezone.localdate()).year
    result = _selectors.my_targets(user=request.user, year=year, as_of=filters.as_of)
    return {"year": result.year, "as_of": result.as_of, "periods": result.periods,
            "metrics": [{"metric": line.metric, "label": str(line.label),
                         "measure_unit": line.measure.unit,
                         "higher_is_better": line.measure.higher_is_better,
                         "periods": [{**_row_out(row), "period": period}
                                     for period, row in line.periods.items()]}
                        for line in result.lines]}


@router.get("/targets/rankings", response={200: RankingOut, **_ERRORS},
            summary="Ranking of the people (and sub-units) of a unit")
def targets_rankings(request, filters: _Query[RankingIn]):
    """People within the unit ranked by achievement of the realistic target (those without
    one last) or by the actual; ties share a rank; ``behind`` marks who is behind pace.
    For expenses lower is better."""
    result = _selectors.ranking(user=request.user, metric=filters.metric,
                                period=filters.period, unit=filters.unit, by=filters.by,
                                as_of=filters.as_of)

    def ranks(rows):
        return [{"rank": r.rank, "behind": r.behind, "value": r.value, "row": _row_out(r.row)}
                for r in rows]

    return {"metric": result.report.metric, "period": result.report.period, "by": result.by,
            "unit": _unit_ref(result.report.unit), "people": ranks(result.people),
            "units": ranks(result.units)}
# === end of Tracking (TGT-5) and rankings (TGT-6) ========================================
