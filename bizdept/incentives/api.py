"""The incentives API (INC-1..3)."""

import datetime
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from bizdept.appraisal.choices import GRADES, PeriodKind
from bizdept.core.api import (
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
from bizdept.core.errors import DomainError
from bizdept.core.money import to_cents
from bizdept.kpi.measures import KPIS
from bizdept.org.api import EmployeeRef, PositionRef, UnitRef

from . import selectors, services
from .choices import (
    AwardKind,
    AwardStatus,
    CoefficientBasis,
    CommissionMeasure,
    CommissionMode,
    GateBlocks,
    GateKind,
    PlanStatus,
    RankingUnit,
    RunStatus,
)
from .filters import AwardFilterSet, BonusLineFilterSet, PlanFilterSet, RunFilterSet
from .models import Award

router = Router()

# === Bonus plans, what-if and runs (INC-1, INC-2) ==========================================
# Plans (INC-1): everyone in the department reads the versions in force and superseded;
# drafts and plans in approval are read by HR and the director, who alone write (403;
# a draft another reads: 404). A bad rule answers 400 naming it as the service does
# (``tiers[2].rate``, ``gates[0].floor``, ``coefficients.S``); a change made on an older
# version answers 409. Runs and lines (INC-2): the department's runs; their lines are pay
# (the person, the heads above, finance; HR and the director, who make the runs, all of
# their department's). Decimals are sent as a JSON
# number or as text ("12.5") and answered as text.




_TAGS = ["incentives"]
_NUMBER_TEXT = re.compile(r"\d{1,14}(\.\d{1,2})?")
_NUMBER_PATTERN = r"^\d{1,14}(\.\d{1,2})?$"


def _number(value):
    """A decimal sent as a JSON number or as text; anything else is refused (422)."""
    if isinstance(value, str):
        if _NUMBER_TEXT.fullmatch(value):
            return Decimal(value)
        raise PydanticCustomError("decimal_parsing", "Input should be a number like 12.5")
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value  # anything else is left to the (strict) type check, which refuses it


def _decimal_in(description: str, maximum):
    # Bounds and decimals are the service's to check (400 naming the field, as a page
    # shows it): text such as "0.001" or "999" matches a pattern, so a schema cannot.
    return Annotated[
        Decimal, BeforeValidator(_number), Field(allow_inf_nan=False),
        WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0,
                                   "maximum": float(maximum)},
                                  {"type": "string", "pattern": _NUMBER_PATTERN}],
                        "description": description})]


_Money = _decimal_in("An amount in yuan, at least 0, at most 2 decimals.", services.MONEY_MAX)
_Coefficient = _decimal_in("A coefficient, 0 to 100, at most 2 decimals.",
                           services.COEFFICIENT_MAX)
_Score = _decimal_in("A total score, 0 to 1000, at most 2 decimals.", services.SCORE_MAX)
_Rate = _decimal_in("A rate in %, 0 to 100, at most 2 decimals.", services.RATE_MAX)
_Achievement = _decimal_in("Achievement in % where the tier starts (the first: 0), at most "
                           "2 decimals.", services.ACHIEVEMENT_MAX)
_Floor = _decimal_in("The KPI's floor: under it the gate closes.", services.MONEY_MAX)
_Version = Annotated[int, Field(ge=1, le=2**31 - 1), BeforeValidator(json_int)]
_GradeIn = Literal[GRADES]


class BonusTierIn(BodyIn):
    start: _Achievement = Field(..., alias="from")
    rate: _Rate


class ScoreBandIn(BodyIn):
    start: _Score = Field(..., alias="from")
    coefficient: _Coefficient


class GradeCoefficientsIn(BodyIn):
    S: _Coefficient | None = None
    A: _Coefficient | None = None
    B: _Coefficient | None = None
    C: _Coefficient | None = None
    D: _Coefficient | None = None


class BonusGateIn(BodyIn):
    kind: Literal[tuple(GateKind.values)]
    blocks: Literal[tuple(GateBlocks.values)] = Field(
        ..., description="What a closed gate takes away: base, commission or all.")
    kpi: Literal[tuple(sorted(KPIS))] | None = Field(None, description="kpi_below: the "
                                                     "KPI's code.")
    floor: _Floor | None = Field(None, description="kpi_below: the floor.")
    grades: list[_GradeIn] | None = Field(None, min_length=1, max_length=len(GRADES),
                                          description="grade_in: the grades it closes for.")


_Coefficients = Annotated[
    GradeCoefficientsIn | list[ScoreBandIn],
    Field(description='By grade: {"S": 1.5, "A": 1.2, …} (a grade left out: 0); by score: '
          'bands [{"from": 90, "coefficient": 1.5}, …] (the highest reached).')]
_Tiers = Annotated[list[BonusTierIn], Field(
    max_length=services.MAX_TIERS,
    description="Tiers by achievement: the first from 0, each later one higher, rates never "
                "falling; none without a commission measure.")]
_Gates = Annotated[list[BonusGateIn], Field(max_length=services.MAX_GATES)]


class BonusPlanIn(BodyIn):
    name: Text(100, 1)
    position: BodyId
    period_kind: Literal[tuple(PeriodKind.values)]
    base_amount: _Money
    coefficient_basis: Literal[tuple(CoefficientBasis.values)] = "grade"
    coefficients: _Coefficients
    commission_measure: Literal[tuple(CommissionMeasure.values)] = Field(
        "", description="Empty: no commission.")
    commission_mode: Literal[tuple(CommissionMode.values)] = "tiered"
    tiers: _Tiers = Field(default_factory=list)
    commission_cap: _Money | None = None
    total_cap: _Money | None = Field(None, description="The cap per person.")
    gates: _Gates = Field(default_factory=list)
    notes: Text(services.NOTES_MAX) = ""


class BonusPlanUpdateIn(BodyIn):
    name: Text(100, 1) | None = None
    position: BodyId | None = None
    period_kind: Literal[tuple(PeriodKind.values)] | None = None
    base_amount: _Money | None = None
    coefficient_basis: Literal[tuple(CoefficientBasis.values)] | None = None
    coefficients: _Coefficients | None = None
    commission_measure: Literal[tuple(CommissionMeasure.values)] | None = None
    commission_mode: Literal[tuple(CommissionMode.values)] | None = None
    tiers: _Tiers | None = None
    commission_cap: _Money | None = Field(None, description="null: no cap.")
    total_cap: _Money | None = Field(None, description="null: no cap.")
    gates: _Gates | None = None
    notes: Text(services.NOTES_MAX) | None = None
    version: _Version | None = Field(
        None, description="The version the change was made on (409 when it is not current).")


class BonusCommentIn(BodyIn):
    comment: Text(500) = ""


class BonusPlanFilterIn(Schema):
    q: Text(100) | None = Field(None, description="Part of the plan's name.")
    position: Id | None = None
    period_kind: Literal[tuple(PeriodKind.values)] | None = None
    status: Literal[tuple(PlanStatus.values)] | None = None


class WhatIfIn(Schema):
    cycle: Id = Field(..., description="An approved appraisal cycle of your department.")


class BonusRunIn(BodyIn):
    cycle: BodyId = Field(..., description="An approved appraisal cycle of your department "
                          "without a run.")
    name: Text(100) = Field("", description="Default: from the cycle.")


class BonusRunFilterIn(Schema):
    status: Literal[tuple(RunStatus.values)] | None = None


class BonusLineFilterIn(Schema):
    q: Text(100) | None = Field(None, description="Part of the person's name.")
    unit: Id | None = Field(None, description="People of this unit or any unit under it.")
    employee: Id | None = None
    grade: _GradeIn | None = None
    plan: Id | None = Field(None, description="Lines paid by this plan version.")
    gates: Literal["hit", "clear"] | None = Field(None, description="A gate hit or none.")


class BonusLinesFilterIn(BonusLineFilterIn):
    run: Id | None = Field(None, description="Only this run's lines.")


# --- output -------------------------------------------------------------------------------
class BonusPlanRef(Schema):
    id: int
    name: str
    number: int
    status: str


class BonusPlanOut(Schema):
    id: int
    name: str
    position: PositionRef
    period_kind: str
    number: int = Field(..., description="The position's version number for the period.")
    status: str
    is_editable: bool
    base_amount: Decimal
    coefficient_basis: str
    coefficients: dict[str, str] | list[dict[str, str]]
    commission_measure: str
    commission_mode: str
    tiers: list[dict[str, str]]
    commission_cap: Decimal | None
    total_cap: Decimal | None
    gates: list[dict[str, Any]]
    notes: str
    created_by: EmployeeRef
    created_at: datetime.datetime
    submitted_at: datetime.datetime | None
    approved_at: datetime.datetime | None
    version: int = Field(..., description="Send it back with a change (409 when stale).")


class CycleBrief(Schema):
    id: int
    name: str
    kind: str
    period: str


class WhatIfRowOut(Schema):
    employee: EmployeeRef
    unit: UnitRef
    grade: str
    current: Decimal | None = Field(..., description="By the plan in force (null: none).")
    draft: Decimal
    change: Decimal


class WhatIfTotalsOut(Schema):
    people: int
    current: Decimal
    draft: Decimal
    change: Decimal
    raised: int
    lowered: int


class WhatIfOut(Schema):
    plan: BonusPlanRef
    current_plan: BonusPlanRef | None
    cycle: CycleBrief
    totals: WhatIfTotalsOut
    rows: list[WhatIfRowOut]


class BonusRunOut(Schema):
    id: int
    name: str
    cycle: CycleBrief
    status: str
    people: int = Field(..., description="People whose line you may see.")
    total: Decimal = Field(..., description="The total of the lines you may see.")
    created_by: EmployeeRef
    created_at: datetime.datetime
    computed_at: datetime.datetime | None
    submitted_at: datetime.datetime | None
    approved_at: datetime.datetime | None
    version: int


class BonusRunTotalsOut(Schema):
    people: int
    base: Decimal
    commission: Decimal
    cut: Decimal
    total: Decimal


class BonusRunDetailOut(BonusRunOut):
    totals: BonusRunTotalsOut = Field(..., description="The lines you may see, added up.")
    unpaid: int | None = Field(..., description="People appraised without a line (no plan "
                               "in force); for HR and the director.")


class BonusRunRef(Schema):
    id: int
    name: str
    status: str


class BonusLineOut(Schema):
    id: int
    run: BonusRunRef
    employee: EmployeeRef
    unit: UnitRef
    plan: BonusPlanRef
    grade: str
    score: Decimal | None
    coefficient: Decimal
    base_bonus: Decimal
    actual: Decimal | None
    target: Decimal | None
    achievement: Decimal | None = Field(..., description="In %.")
    commission: Decimal
    capped_by: Decimal
    total: Decimal


class BonusLineDetailOut(BonusLineOut):
    appraisal: int
    explanation: dict[str, Any] = Field(
        ..., description="How the line was worked out: plan, rounding, period, inputs (each "
                         "with its source), base, commission steps, gates, caps, total.")


# --- mapping ------------------------------------------------------------------------------
def _plan_ref(p) -> dict | None:
    if p is None:
        return None
    return {"id": p.pk, "name": p.name, "number": p.number, "status": p.status}


def _plan_out(p) -> dict:
    return {"id": p.pk, "name": p.name,
            "position": {"id": p.position_id, "name": p.position.display_name},
            "period_kind": p.period_kind, "number": p.number, "status": p.status,
            "is_editable": p.is_editable, "base_amount": p.base_amount,
            "coefficient_basis": p.coefficient_basis, "coefficients": p.coefficients,
            "commission_measure": p.commission_measure, "commission_mode": p.commission_mode,
            "tiers": p.tiers, "commission_cap": p.commission_cap, "total_cap": p.total_cap,
            "gates": p.gates, "notes": p.notes, "created_by": p.created_by,
            "created_at": p.created_at, "submitted_at": p.submitted_at,
            "approved_at": p.approved_at, "version": p.version}


def _cycle_brief(c) -> dict:
    return {"id": c.pk, "name": c.name, "kind": c.kind, "period": c.period}


def _what_if_out(w) -> dict:
    return {"plan": _plan_ref(w.plan), "current_plan": _plan_ref(w.current_plan),
            "cycle": _cycle_brief(w.cycle),
            "totals": {"people": len(w.rows), "current": w.current_total,
                       "draft": w.draft_total, "change": w.change, "raised": w.raised,
                       "lowered": w.lowered},
            "rows": [{"employee": r.employee, "unit": r.unit, "grade": r.grade,
                      "current": r.current, "draft": r.draft, "change": r.change}
                     for r in w.rows]}


def _run_out(r, *, people, total) -> dict:
    return {"id": r.pk, "name": r.name, "cycle": _cycle_brief(r.cycle), "status": r.status,
            "people": people or 0, "total": to_cents(total or 0),
            "created_by": r.created_by, "created_at": r.created_at,
            "computed_at": r.computed_at, "submitted_at": r.submitted_at,
            "approved_at": r.approved_at, "version": r.version}


def _listed_run_out(r) -> dict:
    return _run_out(r, people=r.seen_people, total=r.seen_total)


def _line_out(line) -> dict:
    return {"id": line.pk,
            "run": {"id": line.run_id, "name": line.run.name, "status": line.run.status},
            "employee": line.employee, "unit": line.unit, "plan": _plan_ref(line.plan),
            "grade": line.grade, "score": line.score, "coefficient": line.coefficient,
            "base_bonus": line.base_bonus, "actual": line.actual, "target": line.target,
            "achievement": line.achievement, "commission": line.commission,
            "capped_by": line.capped_by, "total": line.total}


def _line_detail_out(line) -> dict:
    return {**_line_out(line), "appraisal": line.appraisal_id,
            "explanation": line.explanation}


def _plan(request, pk):
    return selectors.plan_detail(user=request.user, pk=pk)


def _run(request, pk):
    return selectors.run_detail(user=request.user, pk=pk)


def _plan_found(request, pk):
    """The plan a write acts on, or 404 when the user may not read it; whether they may
    act on it is the service's question (403). (The answer reads it again, fresh.)"""
    found = selectors.plan_list(user=request.user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _run_found(request, pk):
    found = selectors.run_list(user=request.user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _run_detail_out(request, pk) -> dict:
    run = _run(request, pk)
    totals = selectors.run_totals(user=request.user, run=run)
    manage = services.can_manage(request.user)
    return {**_run_out(run, people=totals["people"], total=totals["total"]),
            "totals": {k: totals[k] if k == "people" else totals[k] or Decimal("0.00")
                       for k in ("people", "base", "commission", "cut", "total")},
            "unpaid": selectors.unpaid_count(run) if manage else None}


def _plan_changes(payload) -> dict:
    """What a body sends, as the service reads it: decimals and ids as they are, tiers,
    bands and gates as the stored shapes (``from``), grade coefficients left out: 0."""
    values = {}
    for name in payload.model_fields_set:
        value = getattr(payload, name)
        if name == "tiers" and value is not None:
            value = [{"from": t.start, "rate": t.rate} for t in value]
        elif name == "gates" and value is not None:
            value = [g.dict(exclude_none=True) for g in value]
        elif name == "coefficients" and value is not None:
            value = ([{"from": b.start, "coefficient": b.coefficient} for b in value]
                     if isinstance(value, list) else value.dict(exclude_none=True))
        values[name] = value
    return values


# --- plans --------------------------------------------------------------------------------
@router.get("/incentives/plans", response={200: list[BonusPlanOut], **ERRORS},
            summary="List bonus plans", tags=_TAGS)
@paginate(Paginated)
def bonus_plan_list(request, filters: Query[BonusPlanFilterIn]):
    """The plans in force and superseded; HR and the director also see drafts and plans
    in approval. By position, period and newest version first."""
    filterset = PlanFilterSet(filters.dict(exclude_none=True),
                              queryset=selectors.plan_list(user=request.user))
    if not filterset.is_valid():
        raise filter_errors(filterset)
    return Mapped(filterset.qs, _plan_out)


@router.post("/incentives/plans", response={201: BonusPlanOut, **ERRORS},
             summary="Draft a bonus plan", tags=_TAGS)
def bonus_plan_create(request, payload: BonusPlanIn):
    """HR or the director: a draft numbered after the position's latest version for the
    period, to try on a past cycle (what-if) and submit for approval."""
    values = _plan_changes(payload)
    values.update({name: getattr(payload, name) for name in (
        "coefficient_basis", "commission_measure", "commission_mode", "notes")})
    values.setdefault("tiers", [])
    values.setdefault("gates", [])
    plan = services.plan_create(by=request.user, **values)
    return Status(201, _plan_out(_plan(request, plan.pk)))


@router.get("/incentives/plans/{bonus_plan_id}", response={200: BonusPlanOut, **ERRORS},
            summary="One bonus plan with its rules", tags=_TAGS)
def bonus_plan_detail(request, bonus_plan_id: ObjectId):
    return _plan_out(_plan(request, bonus_plan_id))


@router.patch("/incentives/plans/{bonus_plan_id}", response={200: BonusPlanOut, **ERRORS},
              summary="Change a draft bonus plan", tags=_TAGS)
def bonus_plan_update(request, bonus_plan_id: ObjectId, payload: BonusPlanUpdateIn):
    """Fields left out stay as they are (null caps: no cap); ``tiers``, ``gates`` and
    ``coefficients``, when sent, replace the old ones. Drafts only (409 otherwise)."""
    plan = _plan_found(request, bonus_plan_id)
    changes = _plan_changes(payload)
    version = changes.pop("version", None)
    changes = {k: v for k, v in changes.items()
               if v is not None or k in ("commission_cap", "total_cap")}
    services.plan_update(plan=plan, by=request.user, version=version, **changes)
    return _plan_out(_plan(request, bonus_plan_id))


@router.delete("/incentives/plans/{bonus_plan_id}", response={204: None, **ERRORS},
               summary="Throw a draft bonus plan away", tags=_TAGS)
def bonus_plan_delete(request, bonus_plan_id: ObjectId):
    services.plan_delete(plan=_plan_found(request, bonus_plan_id), by=request.user)
    return Status(204, None)


@router.post("/incentives/plans/{bonus_plan_id}/new-version",
             response={201: BonusPlanOut, **ERRORS},
             summary="Draft the next version of a bonus plan", tags=_TAGS)
def bonus_plan_new_version(request, bonus_plan_id: ObjectId):
    """A draft copy of the plan as its position's next version."""
    plan = services.plan_new_version(plan=_plan_found(request, bonus_plan_id),
                                     by=request.user)
    return Status(201, _plan_out(_plan(request, plan.pk)))


@router.post("/incentives/plans/{bonus_plan_id}/submit",
             response={200: BonusPlanOut, **ERRORS},
             summary="Submit a draft bonus plan for approval", tags=_TAGS)
def bonus_plan_submit(request, bonus_plan_id: ObjectId, payload: BonusCommentIn):
    """Approved in the approvals inbox, it is in force and the version before it is
    superseded."""
    services.plan_submit(plan=_plan_found(request, bonus_plan_id), by=request.user,
                         comment=payload.comment)
    return _plan_out(_plan(request, bonus_plan_id))


@router.get("/incentives/plans/{bonus_plan_id}/what-if", response={200: WhatIfOut, **ERRORS},
            summary="Try a bonus plan on a past cycle", tags=_TAGS)
def bonus_plan_what_if(request, bonus_plan_id: ObjectId, filters: Query[WhatIfIn]):
    """HR and the director: the plan worked out on an approved cycle's people of its
    position, beside the plan in force, person by person, with the totals. Nothing is
    written."""
    plan = _plan(request, bonus_plan_id)
    if not services.can_manage(request.user):
        raise Http404  # the selector's rule, before the cycle is looked at
    cycle = selectors.what_if_cycles(user=request.user).filter(pk=filters.cycle).first()
    if cycle is None:
        raise DomainError(_("Choose an approved appraisal cycle of your department."),
                          field="cycle", code="invalid")
    return _what_if_out(selectors.what_if(user=request.user, plan=plan, cycle=cycle))


# --- runs and lines ---------------------------------------------------------------------
@router.get("/incentives/runs", response={200: list[BonusRunOut], **ERRORS},
            summary="List bonus runs", tags=_TAGS)
@paginate(Paginated)
def bonus_run_list(request, filters: Query[BonusRunFilterIn]):
    """The department's runs, newest cycle first, each with the people and total of the
    lines you may see."""
    filterset = RunFilterSet(filters.dict(exclude_none=True),
                             queryset=selectors.run_list(user=request.user))
    if not filterset.is_valid():
        raise filter_errors(filterset)
    rows = selectors.with_seen_totals(filterset.qs, user=request.user)
    return Mapped(rows, _listed_run_out)


@router.post("/incentives/runs", response={201: BonusRunDetailOut, **ERRORS},
             summary="Work out the bonus of an approved appraisal cycle", tags=_TAGS)
def bonus_run_create(request, payload: BonusRunIn):
    """HR or the director: one line per person appraised whose position has a plan in
    force (409 when the cycle has its run already)."""
    run = services.run_create(by=request.user, cycle=payload.cycle, name=payload.name)
    return Status(201, _run_detail_out(request, run.pk))


@router.get("/incentives/runs/{run_id}", response={200: BonusRunDetailOut, **ERRORS},
            summary="One bonus run with its totals", tags=_TAGS)
def bonus_run_detail(request, run_id: ObjectId):
    return _run_detail_out(request, run_id)


@router.post("/incentives/runs/{run_id}/recompute",
             response={200: BonusRunDetailOut, **ERRORS},
             summary="Work a draft bonus run out again", tags=_TAGS)
def bonus_run_recompute(request, run_id: ObjectId):
    """While a draft (409 later): after plans or records changed."""
    services.run_recompute(run=_run_found(request, run_id), by=request.user)
    return _run_detail_out(request, run_id)


@router.post("/incentives/runs/{run_id}/submit", response={200: BonusRunDetailOut, **ERRORS},
             summary="Submit a bonus run for approval", tags=_TAGS)
def bonus_run_submit(request, run_id: ObjectId, payload: BonusCommentIn):
    """From here on its lines do not change; approved, it is frozen for payroll."""
    services.run_submit(run=_run_found(request, run_id), by=request.user,
                        comment=payload.comment)
    return _run_detail_out(request, run_id)


@router.get("/incentives/runs/{run_id}/lines", response={200: list[BonusLineOut], **ERRORS},
            summary="A bonus run's lines", tags=_TAGS)
@paginate(Paginated)
def bonus_run_lines(request, run_id: ObjectId, filters: Query[BonusLineFilterIn]):
    """The lines you may see: yours; a head's subtree; finance: the department's; HR and
    the director, who make the runs: all of it."""
    run = _run(request, run_id)
    rows = _lines_filtered(selectors.line_list(user=request.user, run=run), filters)
    return Mapped(rows, _line_out)


def _lines_filtered(rows, filters):
    data = filters.dict(exclude_none=True)
    employee, run = data.pop("employee", None), data.pop("run", None)
    filterset = BonusLineFilterSet(data, queryset=rows)
    if not filterset.is_valid():
        raise filter_errors(filterset)
    rows = filterset.qs if employee is None else filterset.qs.filter(employee_id=employee)
    return rows if run is None else rows.filter(run_id=run)


@router.get("/incentives/lines", response={200: list[BonusLineOut], **ERRORS},
            summary="The bonus lines you may see, across runs", tags=_TAGS)
@paginate(Paginated)
def bonus_line_list(request, filters: Query[BonusLinesFilterIn]):
    """Newest run first: yours; a head's subtree; finance: the department's; HR and the
    director: their department's runs."""
    rows = _lines_filtered(selectors.line_list(user=request.user), filters)
    return Mapped(rows.order_by("-run__cycle__since", "-run_id", "unit__path",
                                "employee__name", "pk"), _line_out)


@router.get("/incentives/lines/{bonus_line_id}", response={200: BonusLineDetailOut, **ERRORS},
            summary="One bonus line with its full explanation", tags=_TAGS)
def bonus_line_detail(request, bonus_line_id: ObjectId):
    return _line_detail_out(selectors.line_detail(user=request.user, pk=bonus_line_id))


@router.get("/incentives/my-lines", response={200: list[BonusLineOut], **ERRORS},
            summary="My bonus lines", tags=_TAGS)
@paginate(Paginated)
def bonus_my_lines(request):
    """Your own lines, newest run first."""
    return Mapped(selectors.my_lines(user=request.user), _line_out)
# === end of Bonus plans, what-if and runs (INC-1, INC-2) ===================================

# === Awards (INC-3) =======================================================================
# Honor titles: everyone in the department reads them, HR or the director keeps them (403
# otherwise). Awards: read through the people scope (an award out of it: 404; one's own
# only once confirmed); proposed by HR or the director from an approved cycle, a special
# award also by a head above the person; confirmed or declined by the director alone
# (403 for anyone else, 409 when decided already). A bad value: 400 naming the field.

_AwardMoney = _decimal_in("The award in yuan, above 0, at most 2 decimals.",
                          services.MONEY_MAX)


class HonorTitleOut(Schema):
    id: int
    name: str
    name_en: str
    basis: str = Field(..., description="appraisal_score or a KPI code (GET /kpi/...).")
    per: str
    top: int
    position: PositionRef | None
    period_kind: str
    is_active: bool
    version: int


class HonorTitleIn(BodyIn):
    name: Text(100, 1)
    name_en: Text(100) = ""
    basis: Text(40, 1) = Field(..., description="appraisal_score or a KPI code.")
    per: Literal[tuple(RankingUnit.values)] = RankingUnit.DEPARTMENT
    top: Annotated[int, Field(ge=1, le=services.TITLE_TOP_MAX),
                   BeforeValidator(json_int)] = 1
    position: BodyId | None = Field(None, description="Only holders of this position.")
    period_kind: Literal[tuple(PeriodKind.values)] = PeriodKind.QUARTERLY


class HonorTitleUpdateIn(BodyIn):
    name: Text(100, 1) | None = None
    name_en: Text(100) | None = None
    basis: Text(40, 1) | None = None
    per: Literal[tuple(RankingUnit.values)] | None = None
    top: Annotated[int, Field(ge=1, le=services.TITLE_TOP_MAX),
                   BeforeValidator(json_int)] | None = None
    position: BodyId | None = None
    period_kind: Literal[tuple(PeriodKind.values)] | None = None
    version: _Version | None = Field(None, description="409 when it is not current.")


class AwardTitleRef(Schema):
    id: int
    name: str


class AwardCycleRef(Schema):
    id: int
    name: str
    period: str


class AwardOut(Schema):
    id: int
    employee: EmployeeRef
    unit: UnitRef = Field(..., description="The person's unit now.")
    kind: str
    title: AwardTitleRef | None
    cycle: AwardCycleRef | None
    period: str
    amount: Decimal | None
    evidence: dict[str, Any] = Field(..., description="Rank, value and ranking unit of a "
                                     "title; the streak of a promotion.")
    evidence_text: str = Field(..., description="The evidence in words.")
    reason: str
    status: str
    proposed_by: EmployeeRef
    proposed_at: datetime.datetime
    decided_by: EmployeeRef | None
    decided_at: datetime.datetime | None
    decision_note: str


class AwardFilterIn(Schema):
    q: Text(100) | None = None
    kind: Literal[tuple(AwardKind.values)] | None = None
    status: Literal[tuple(AwardStatus.values)] | None = None
    period: Annotated[str, Field(pattern=r"^\d{4}(-Q[1-4])?$")] | None = None
    title: Id | None = None
    unit: Id | None = None


class AwardProposeIn(BodyIn):
    cycle: BodyId


class AwardProposedOut(Schema):
    added: int = Field(..., description="How many new proposals (0 when proposed before).")


class SpecialAwardIn(BodyIn):
    employee: BodyId
    period: Annotated[str, Field(pattern=r"^\d{4}$")] = Field(
        ..., description="The year, like 2026.")
    amount: _AwardMoney
    reason: Text(services.AWARD_TEXT_MAX, 1)


class AwardDecisionIn(BodyIn):
    note: Text(services.AWARD_TEXT_MAX) = ""


def _ref(employee):
    return None if employee is None else {"id": employee.pk, "number": employee.number,
                                          "name": employee.name}


def _title_out(t) -> dict:
    return {"id": t.pk, "name": t.name, "name_en": t.name_en, "basis": t.basis, "per": t.per,
            "top": t.top, "position": None if t.position is None else {
                "id": t.position_id, "name": t.position.display_name},
            "period_kind": t.period_kind, "is_active": t.is_active, "version": t.version}


def _award_out(a) -> dict:
    return {"id": a.pk, "employee": _ref(a.employee),
            "unit": {"id": a.employee.unit_id, "name": a.employee.unit.name},
            "kind": a.kind,
            "title": None if a.title is None else {"id": a.title_id,
                                                   "name": a.title.display_name},
            "cycle": None if a.cycle is None else {"id": a.cycle_id, "name": a.cycle.name,
                                                   "period": a.cycle.period},
            "period": a.period, "amount": a.amount, "evidence": a.evidence,
            "evidence_text": selectors.evidence_text(a), "reason": a.reason,
            "status": a.status, "proposed_by": _ref(a.proposed_by),
            "proposed_at": a.proposed_at, "decided_by": _ref(a.decided_by),
            "decided_at": a.decided_at, "decision_note": a.decision_note}


def _position_ref(pk):
    from bizdept.core.api import body_ref
    from bizdept.org.models import Position

    return body_ref(Position.objects.all(), pk, "position",
                    _("This position does not exist."))


@router.get("/incentives/titles", response={200: list[HonorTitleOut], **ERRORS},
            summary="List honor titles", tags=_TAGS)
@paginate(Paginated)
def honor_title_list(request):
    """The department's honor titles, active first."""
    return Mapped(selectors.title_list(user=request.user), _title_out)


@router.post("/incentives/titles", response={201: HonorTitleOut, **ERRORS},
             summary="Create an honor title", tags=_TAGS)
def honor_title_create(request, payload: HonorTitleIn):
    """HR or the director."""
    data = payload.dict()
    if data["position"] is not None:
        data["position"] = _position_ref(data["position"])
    title = services.title_create(by=request.user, **data)
    return Status(201, _title_out(title))


@router.get("/incentives/titles/{honor_title_id}", response={200: HonorTitleOut, **ERRORS},
            summary="One honor title", tags=_TAGS)
def honor_title_detail(request, honor_title_id: ObjectId):
    return _title_out(selectors.title_detail(user=request.user, pk=honor_title_id))


@router.patch("/incentives/titles/{honor_title_id}", response={200: HonorTitleOut, **ERRORS},
              summary="Change an honor title", tags=_TAGS)
def honor_title_update(request, honor_title_id: ObjectId, payload: HonorTitleUpdateIn):
    """HR or the director; fields left out stay as they are."""
    title = selectors.title_detail(user=request.user, pk=honor_title_id)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    version = changes.pop("version", None)
    if "position" in changes:
        changes["position"] = _position_ref(changes["position"])
    title = services.title_update(title=title, by=request.user, version=version, **changes)
    return _title_out(title)


@router.post("/incentives/titles/{honor_title_id}/deactivate",
             response={200: HonorTitleOut, **ERRORS},
             summary="Stop proposing an honor title", tags=_TAGS)
def honor_title_deactivate(request, honor_title_id: ObjectId):
    title = selectors.title_detail(user=request.user, pk=honor_title_id)
    return _title_out(services.title_deactivate(title=title, by=request.user))


@router.get("/incentives/awards", response={200: list[AwardOut], **ERRORS},
            summary="List awards", tags=_TAGS)
@paginate(Paginated)
def award_list(request, filters: Query[AwardFilterIn]):
    """The awards you may see, newest proposal first."""
    data = filters.dict(exclude_none=True)
    filterset = AwardFilterSet(data, queryset=selectors.award_list(user=request.user))
    if not filterset.is_valid():
        raise filter_errors(filterset)
    return Mapped(filterset.qs.order_by("-proposed_at", "-pk"), _award_out)


@router.post("/incentives/awards/propose", response={200: AwardProposedOut, **ERRORS},
             summary="Propose awards from an approved cycle", tags=_TAGS)
def award_propose(request, payload: AwardProposeIn):
    """HR or the director: honor titles from the cycle's rankings and promotion
    recommendations from streaks of S/A grades; proposing again adds only what is new."""
    return {"added": services.awards_propose(by=request.user, cycle=payload.cycle)}


@router.post("/incentives/awards/special", response={201: AwardOut, **ERRORS},
             summary="Propose a year-end special award", tags=_TAGS)
def award_special(request, payload: SpecialAwardIn):
    """HR, the director or a head above the person; one per person and year (409)."""
    award = services.special_award_propose(
        by=request.user, employee=payload.employee, period=payload.period,
        amount=payload.amount, reason=payload.reason)
    return Status(201, _award_out(Award.objects.select_related(
        "employee__unit", "title", "cycle", "proposed_by", "decided_by").get(pk=award.pk)))


# (after "propose" and "special": a path segment is matched in the order declared)
@router.get("/incentives/awards/{award_id}", response={200: AwardOut, **ERRORS},
            summary="One award", tags=_TAGS)
def award_detail(request, award_id: ObjectId):
    return _award_out(selectors.award_detail(user=request.user, pk=award_id))


def _decided(request, award_id, service, note):
    award = selectors.award_detail(user=request.user, pk=award_id)
    decided = service(award=award, by=request.user, note=note)
    for field in ("status", "decided_by", "decided_at", "decision_note"):
        setattr(award, field, getattr(decided, field))
    return _award_out(award)


@router.post("/incentives/awards/{award_id}/confirm", response={200: AwardOut, **ERRORS},
             summary="Confirm an award (the director)", tags=_TAGS)
def award_confirm(request, award_id: ObjectId, payload: AwardDecisionIn):
    return _decided(request, award_id, services.award_confirm, payload.note)


@router.post("/incentives/awards/{award_id}/decline", response={200: AwardOut, **ERRORS},
             summary="Decline an award (the director; a note is required)", tags=_TAGS)
def award_decline(request, award_id: ObjectId, payload: AwardDecisionIn):
    return _decided(request, award_id, services.award_decline, payload.note)
# === end of Awards (INC-3) =================================================================
