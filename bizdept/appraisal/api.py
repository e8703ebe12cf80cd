"""The appraisal API (PER-2..5).

Scorecard templates (PER-2): everyone in the department reads them; HR or a director
writes them (403 otherwise). A bad value answers 400 naming the field, an item's with its
index (``items[2].rule_params.steps[1].points``; weights not totalling 100: ``items``);
a change made on an older version answers 409. Decimals are sent as a JSON number or as
text ("12.5") and answered as text.

Cycles and appraisals (PER-3..5): see the section's header below.
"""

import datetime
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.db.models import F
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from bizdept.core.api import (
    ERRORS,
    BodyId,
    BodyIn,
    Id,
    IsoDate,
    Mapped,
    ObjectId,
    Paginated,
    Text,
    body_ref,
    filter_errors,
    json_int,
)
from bizdept.org.api import EmployeeRef, PositionRef, UnitRef
from bizdept.org.models import Employee, Position, Unit

from . import selectors, services
from .choices import (
    GRADES,
    CycleStatus,
    ImprovementStatus,
    ItemKind,
    PeriodKind,
    RuleKind,
    TargetSource,
)
from .filters import AppraisalFilterSet, CycleFilterSet
from .models import Appraisal, ImprovementItem

router = Router()

_NUMBER_TEXT = re.compile(r"\d{1,14}(\.\d{1,2})?")


def _number(value):
    if isinstance(value, str):
        if _NUMBER_TEXT.fullmatch(value):
            return Decimal(value)
        raise PydanticCustomError("decimal_parsing", "Input should be a number like 12.5")
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value  # anything else is left to the (strict) type check, which refuses it


# Bounds (above 0, at most 100) are the service's to check (400 naming the item): text
# like "0" matches the documented pattern, so the schema alone cannot refuse it.
Weight = Annotated[
    Decimal, BeforeValidator(_number), Field(allow_inf_nan=False),
    WithJsonSchema({"anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 100},
                              {"type": "string", "pattern": r"^\d{1,3}(\.\d{1,2})?$"}],
                    "description": "The item's weight, above 0 and at most 100, at most 2 "
                                   "decimals; a template's weights total exactly 100."}),
]
FixedTarget = Annotated[
    Decimal, BeforeValidator(_number),
    Field(ge=0, le=services.TARGET_MAX, allow_inf_nan=False),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0,
                               "maximum": float(services.TARGET_MAX)},
                              {"type": "string", "pattern": r"^\d{1,14}(\.\d{1,2})?$"}],
                    "description": "The target when target_source is fixed (≥ 0, at most 2 "
                                   "decimals)."}),
]


class ScorecardItemIn(BodyIn):
    kind: Literal[tuple(ItemKind.values)]
    kpi_code: Text(40) | None = Field(None, description="KPI items: the measure's code.")
    name: Text(100) | None = Field(None, description="Required for manual items; KPI items "
                                                     "default to the measure's name.")
    weight: Weight
    target_source: Literal[tuple(TargetSource.values)] | None = Field(
        None, description="KPI items only.")
    fixed_target: FixedTarget | None = None
    rule_kind: Literal[tuple(RuleKind.values)]
    rule_params: dict[str, Any] = Field(
        default_factory=dict,
        description="linear: full_points, cap_percent, higher_is_better; threshold: steps "
                    "[{threshold, points}], higher_is_better; table: rows [{from, to, "
                    "points}] (half-open ranges).")


class ScorecardTemplateIn(BodyIn):
    name: Text(100, 1)
    position: BodyId
    period_kind: Literal[tuple(PeriodKind.values)]
    notes: Text(services.NOTES_MAX) = ""
    items: list[ScorecardItemIn] = Field(..., min_length=1, max_length=services.MAX_ITEMS)


class ScorecardTemplateUpdateIn(BodyIn):
    name: Text(100, 1) | None = None
    position: BodyId | None = None
    period_kind: Literal[tuple(PeriodKind.values)] | None = None
    notes: Text(services.NOTES_MAX) | None = None
    items: list[ScorecardItemIn] | None = Field(
        None, min_length=1, max_length=services.MAX_ITEMS,
        description="The whole new list of items (replaces the old one).")
    version: Annotated[int, Field(ge=1, le=2**31 - 1), BeforeValidator(json_int)] | None = Field(
        None, description="The version the change was made on (409 when it is not current).")


class ScorecardItemOut(Schema):
    id: int
    sort_order: int
    kind: str
    kpi_code: str
    name: str
    weight: Decimal
    target_source: str
    fixed_target: Decimal | None
    rule_kind: str
    rule_params: dict[str, Any]


class ScorecardTemplateOut(Schema):
    id: int
    name: str
    position: PositionRef
    period_kind: str
    is_active: bool
    version: int
    notes: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    items: list[ScorecardItemOut]


def _template_out(t) -> dict:
    return {"id": t.pk, "name": t.name,
            "position": {"id": t.position_id, "name": t.position.display_name},
            "period_kind": t.period_kind, "is_active": t.is_active, "version": t.version,
            "notes": t.notes, "created_at": t.created_at, "updated_at": t.updated_at,
            "items": [{"id": i.pk, "sort_order": i.sort_order, "kind": i.kind,
                       "kpi_code": i.kpi_code, "name": i.name, "weight": i.weight,
                       "target_source": i.target_source, "fixed_target": i.fixed_target,
                       "rule_kind": i.rule_kind, "rule_params": i.rule_params}
                      for i in t.items.all()]}


def _position(pk):
    return body_ref(Position.objects.all(), pk, "position",
                    _("This position does not exist."))


def _items(items) -> list[dict] | None:
    return None if items is None else [item.dict(exclude_none=True) for item in items]


@router.get("/appraisal/templates", response={200: list[ScorecardTemplateOut], **ERRORS},
            summary="List scorecard templates", tags=["appraisal"])
@paginate(Paginated)
def template_list(request):
    """Every position's templates with their items, active and not."""
    return Mapped(selectors.template_list(user=request.user), _template_out)


@router.post("/appraisal/templates", response={201: ScorecardTemplateOut, **ERRORS},
             summary="Create a scorecard template", tags=["appraisal"])
def template_create(request, payload: ScorecardTemplateIn):
    """HR or a director; the items' weights total exactly 100."""
    template = services.template_create(
        by=request.user, name=payload.name, position=_position(payload.position),
        period_kind=payload.period_kind, notes=payload.notes, items=_items(payload.items))
    return Status(201, _template_out(selectors.template_detail(user=request.user,
                                                               pk=template.pk)))


@router.get("/appraisal/templates/{template_id}",
            response={200: ScorecardTemplateOut, **ERRORS},
            summary="One scorecard template", tags=["appraisal"])
def template_detail(request, template_id: ObjectId):
    return _template_out(selectors.template_detail(user=request.user, pk=template_id))


@router.put("/appraisal/templates/{template_id}",
            response={200: ScorecardTemplateOut, **ERRORS},
            summary="Change a scorecard template", tags=["appraisal"])
def template_update(request, template_id: ObjectId, payload: ScorecardTemplateUpdateIn):
    """Fields left out stay as they are; ``items``, when sent, replaces the whole list."""
    template = selectors.template_find(user=request.user, pk=template_id)
    changes = payload.dict(exclude_unset=True, exclude={"items", "version"})
    changes = {k: v for k, v in changes.items() if v is not None}
    if "position" in changes:
        changes["position"] = _position(changes["position"])
    services.template_update(template=template, by=request.user,
                             items=_items(payload.items), version=payload.version, **changes)
    return _template_out(selectors.template_detail(user=request.user, pk=template_id))


# === Cycles and appraisals (PER-3..5) =====================================================
# Reads through ``selectors`` (a cycle of another department, an appraisal outside the
# user's scope: 404); writes through ``services`` (a role or person that may not: 403; a
# bad value: 400 naming the field, e.g. "points.2" or "grade_bands.A"; the wrong stage,
# a signature already given, a cycle already opened for the period: 409). Scores and
# percentages are decimals sent as a JSON number or as text and answered as text.
_SCORE_TEXT = r"^\d{1,4}(\.\d{1,2})?$"


def _decimal_text(description: str, maximum: int):
    # Bounds are the service's to check (400 naming the field): text such as "999"
    # matches the documented pattern, so the schema alone cannot refuse it.
    return Annotated[
        Decimal, BeforeValidator(_number), Field(allow_inf_nan=False),
        WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0, "maximum": maximum},
                                  {"type": "string", "pattern": _SCORE_TEXT}],
                        "description": description}),
    ]


Mark = _decimal_text("Points of a manual item, 0 to 100, at most 2 decimals.", 100)
BandScore = _decimal_text("The lowest total score of the grade (0–1000, at most 2 "
                          "decimals).", 1000)
Percent = _decimal_text("A share in percent, 0 to 100, at most 2 decimals.", 100)
GradeIn = Literal[GRADES]
SortOrder = Annotated[str, Field(pattern=r"^([0-9]|[1-4][0-9])$")]
Points = Annotated[dict[SortOrder, Mark], Field(
    max_length=services.MAX_ITEMS, json_schema_extra={"additionalProperties": False},
    description='{"<sort_order of a manual line>": points 0–100}.')]


# --- output -------------------------------------------------------------------------------
class DistributionGroupOut(Schema):
    grades: list[str]
    percent: Decimal


class CycleOut(Schema):
    id: int
    name: str
    kind: str
    period: str
    since: datetime.date
    until: datetime.date
    unit: UnitRef = Field(..., description="The department appraised.")
    status: str
    grade_bands: dict[str, Decimal] = Field(
        ..., description="The lowest total score of S, A, B and C (below C: D).")
    distribution: list[DistributionGroupOut] = Field(
        ..., description="The forced distribution per unit, best grades first (empty: none).")
    distribution_level: str
    bottom_percent: Decimal
    created_by: EmployeeRef
    created_at: datetime.datetime
    computed_at: datetime.datetime | None = Field(..., description="When the figures were "
                                                                   "last read.")
    submitted_at: datetime.datetime | None
    approved_at: datetime.datetime | None
    reopen_reason: str
    version: int


class CycleRef(Schema):
    id: int
    name: str
    kind: str
    period: str
    status: str


class AppraisalOut(Schema):
    id: int
    cycle: CycleRef
    employee: EmployeeRef
    unit: UnitRef = Field(..., description="The person's unit when the cycle opened.")
    division: UnitRef | None
    reviewer: EmployeeRef | None
    self_submitted_at: datetime.datetime | None
    reviewed_at: datetime.datetime | None
    kpi_score: Decimal | None
    manual_score: Decimal | None
    total_score: Decimal | None
    score_grade: str = Field(..., description="The grade the total earns by the bands.")
    grade: str = Field(..., description="The final grade (after calibration).")
    grade_reason: str
    rank_unit: int | None
    rank_division: int | None
    rank_department: int | None
    is_bottom: bool
    is_elimination_candidate: bool
    interview_on: datetime.date | None
    employee_signed_at: datetime.datetime | None
    reviewer_signed_at: datetime.datetime | None


class AppraisalLineOut(Schema):
    id: int
    sort_order: int
    kind: str
    kpi_code: str
    name: str
    weight: Decimal
    target_source: str
    target: Decimal | None
    actual: Decimal | None = Field(..., description="KPI lines: the measured value; manual "
                                                    "lines: the reviewer's points.")
    inputs: dict[str, Any]
    rule_kind: str
    rule_params: dict[str, Any]
    self_points: Decimal | None
    points: Decimal | None
    weighted: Decimal | None
    explain_url: str | None = Field(..., description="The records behind a KPI line's value.")


class ImprovementOut(Schema):
    id: int
    appraisal: int
    action: str
    owner: EmployeeRef
    due_on: datetime.date
    status: str
    note: str
    done_on: datetime.date | None
    created_by: int = Field(..., description="The employee id of who added it.")
    created_at: datetime.datetime


class AppraisalMayOut(Schema):
    self_assess: bool
    review: bool
    calibrate: bool
    interview: bool
    sign: bool
    plan_improvement: bool


class AppraisalDetailOut(AppraisalOut):
    template: int
    template_version: int
    self_comment: str
    review_comment: str
    interview_notes: str
    lines: list[AppraisalLineOut]
    improvements: list[ImprovementOut]
    may: AppraisalMayOut = Field(..., description="What you may do on it now.")


class GroupStandingOut(Schema):
    grades: list[str]
    percent: Decimal
    count: int
    limit: int | None = Field(..., description="None: no limit (a middle group, or a unit "
                                               "too small for the distribution).")
    kind: Literal["max", "min", "free"]
    ok: bool


class CalibrationUnitOut(Schema):
    unit: UnitRef | None = Field(..., description="None: people outside any such unit.")
    size: int
    exempt: bool = Field(..., description="Too few people for the forced distribution.")
    grade_counts: dict[str, int]
    groups: list[GroupStandingOut]
    ok: bool
    appraisals: list[AppraisalOut] = Field(..., description="Best total first.")


# --- input --------------------------------------------------------------------------------
class CycleFilterIn(Schema):
    kind: Literal[tuple(PeriodKind.values)] | None = None
    status: Literal[tuple(CycleStatus.values)] | None = None
    period: Annotated[str, Field(pattern=r"^\d{4}(-Q[1-4])?$")] | None = None


class GradeBandsIn(BodyIn):
    S: BandScore
    A: BandScore
    B: BandScore
    C: BandScore


class DistributionGroupIn(BodyIn):
    grades: list[GradeIn] = Field(..., min_length=1, max_length=len(GRADES))
    percent: Percent


class CycleOpenIn(BodyIn):
    kind: Literal[tuple(PeriodKind.values)]
    period: Annotated[str, Field(pattern=r"^\d{4}(-Q[1-4])?$",
                                 description="2026-Q3 (quarterly) or 2026 (annual).")]
    name: Text(services.CYCLE_NAME_MAX) = Field("", description="Default: from the period.")
    grade_bands: GradeBandsIn | None = Field(None, description="Default: S 90, A 80, B 70, "
                                                               "C 60.")
    distribution: list[DistributionGroupIn] | None = Field(
        None, max_length=len(GRADES),
        description="Groups of grades with their share, best first, totalling 100 "
                    "(e.g. S+A 20, B 70, C+D 10); empty or left out: none.")
    distribution_level: Literal[tuple(services.DISTRIBUTION_LEVELS)] = "division"
    bottom_percent: Percent | None = Field(None, description="Default 10.")


class CycleCommentIn(BodyIn):
    comment: Text(500) = ""


class CycleReasonIn(BodyIn):
    reason: Text(services.REASON_MAX)


class CalibrationFilterIn(Schema):
    unit: Id | None = Field(None, description="Only the people in this unit or under it.")


_APPRAISAL_ORDERING = {"total_score": "total_score", "employee": "employee__name",
                       "grade": "grade", "rank_department": "rank_department",
                       "unit": "unit__path", "cycle": "cycle__since"}


class AppraisalFilterIn(Schema):
    q: Text(100) | None = Field(None, description="Part of the person's name.")
    cycle: Id | None = None
    unit: Id | None = Field(None, description="People of this unit or any unit under it.")
    employee: Id | None = None
    grade: GradeIn | None = None
    flagged: Literal["bottom", "elimination"] | None = Field(
        None, description="Bottom performers (末位) or elimination candidates.")
    ordering: Literal[tuple(f"{sign}{name}" for name in _APPRAISAL_ORDERING
                            for sign in ("", "-"))] = "-total_score"


class SelfAssessmentIn(BodyIn):
    points: Points = Field(default_factory=dict)
    comment: Text(services.TEXT_MAX) = ""
    submit: bool = Field(False, description="Hand it to the reviewer (every manual item "
                                            "then needs points).")


class AppraisalReviewIn(BodyIn):
    points: Points
    comment: Text(services.TEXT_MAX) = ""


class CalibrateIn(BodyIn):
    grade: GradeIn
    reason: Text(services.REASON_MAX) = Field(
        "", description="Required when the grade differs from the grade by score.")


class InterviewIn(BodyIn):
    on: IsoDate
    notes: Text(services.TEXT_MAX, 1)


class ImprovementIn(BodyIn):
    action: Text(services.REASON_MAX, 1)
    owner: BodyId = Field(..., description="The employee, the reviewer or you.")
    due_on: IsoDate


class ImprovementUpdateIn(BodyIn):
    status: Literal[tuple(ImprovementStatus.values)]
    note: Text(services.REASON_MAX) = Field("", description="Required when dropped.")


# --- mapping ------------------------------------------------------------------------------
def _cycle_out(c) -> dict:
    return {"id": c.pk, "name": c.name, "kind": c.kind, "period": c.period,
            "since": c.since, "until": c.until, "unit": c.unit, "status": c.status,
            "grade_bands": c.grade_bands, "distribution": c.distribution,
            "distribution_level": c.distribution_level, "bottom_percent": c.bottom_percent,
            "created_by": c.created_by, "created_at": c.created_at,
            "computed_at": c.computed_at, "submitted_at": c.submitted_at,
            "approved_at": c.approved_at, "reopen_reason": c.reopen_reason,
            "version": c.version}


def _appraisal_out(a) -> dict:
    c = a.cycle
    return {"id": a.pk, "cycle": {"id": c.pk, "name": c.name, "kind": c.kind,
                                  "period": c.period, "status": c.status},
            "employee": a.employee, "unit": a.unit, "division": a.division,
            "reviewer": a.reviewer, "self_submitted_at": a.self_submitted_at,
            "reviewed_at": a.reviewed_at, "kpi_score": a.kpi_score,
            "manual_score": a.manual_score, "total_score": a.total_score,
            "score_grade": a.score_grade, "grade": a.grade, "grade_reason": a.grade_reason,
            "rank_unit": a.rank_unit, "rank_division": a.rank_division,
            "rank_department": a.rank_department, "is_bottom": a.is_bottom,
            "is_elimination_candidate": a.is_elimination_candidate,
            "interview_on": a.interview_on, "employee_signed_at": a.employee_signed_at,
            "reviewer_signed_at": a.reviewer_signed_at}


def _improvement_out(i) -> dict:
    return {"id": i.pk, "appraisal": i.appraisal_id, "action": i.action, "owner": i.owner,
            "due_on": i.due_on, "status": i.status, "note": i.note, "done_on": i.done_on,
            "created_by": i.created_by_id, "created_at": i.created_at}


def _appraisal_detail_out(a, user) -> dict:
    lines = [{"id": line.pk, "sort_order": line.sort_order, "kind": line.kind,
              "kpi_code": line.kpi_code, "name": line.name, "weight": line.weight,
              "target_source": line.target_source, "target": line.target,
              "actual": line.actual, "inputs": line.inputs, "rule_kind": line.rule_kind,
              "rule_params": line.rule_params, "self_points": line.self_points,
              "points": line.points, "weighted": line.weighted,
              "explain_url": selectors.line_explain_url(line, a) or None}
             for line in a.lines.all()]
    return {**_appraisal_out(a), "template": a.template_id,
            "template_version": a.template_version, "self_comment": a.self_comment,
            "review_comment": a.review_comment, "interview_notes": a.interview_notes,
            "lines": lines,
            "improvements": [_improvement_out(i) for i in a.improvements.all()],
            "may": {"self_assess": services.may_self_assess(a, user),
                    "review": services.may_review(a, user),
                    "calibrate": services.may_calibrate(a, user),
                    "interview": services.may_interview(a, user),
                    "sign": services.may_sign(a, user),
                    "plan_improvement": services.may_plan_improvement(a, user)}}


def _calibration_out(s) -> dict:
    return {"unit": s.unit, "size": s.size, "exempt": s.exempt,
            "grade_counts": s.grade_counts,
            "groups": [{"grades": g.grades, "percent": g.percent, "count": g.count,
                        "limit": g.limit, "kind": g.kind, "ok": g.ok} for g in s.groups],
            "ok": s.ok, "appraisals": [_appraisal_out(a) for a in s.appraisals]}


def _cycle(request, cycle_id):
    return selectors.cycle_detail(user=request.user, pk=cycle_id)


def _cycle_found(request, cycle_id):
    """The cycle a write acts on, or 404 when the user may not read it; whether they may
    act on it is the service's question (403)."""
    found = selectors.cycle_list(user=request.user).filter(pk=cycle_id).first()
    if found is None:
        raise Http404
    return found


def _appraisal(request, appraisal_id):
    return selectors.appraisal_detail(user=request.user, pk=appraisal_id)


def _appraisal_found(request, appraisal_id):
    """The appraisal a write acts on, or 404 outside the user's scope; whether they may
    act on it is the service's question (403)."""
    found = Appraisal.objects.visible_to(request.user).filter(pk=appraisal_id).first()
    if found is None:
        raise Http404
    return found


def _answer(request, appraisal_id) -> dict:
    return _appraisal_detail_out(_appraisal(request, appraisal_id), request.user)


def _points(points) -> dict[int, Decimal]:
    return {int(key): value for key, value in points.items()}


# --- cycles -------------------------------------------------------------------------------
@router.get("/appraisal/cycles", response={200: list[CycleOut], **ERRORS},
            summary="List appraisal cycles", tags=["appraisal"])
@paginate(Paginated)
def cycle_list(request, filters: Query[CycleFilterIn]):
    """The cycles of your department, newest first."""
    data = filters.dict(exclude_none=True)
    period = data.pop("period", None)
    filterset = CycleFilterSet(data, queryset=selectors.cycle_list(user=request.user))
    if not filterset.is_valid():
        raise filter_errors(filterset)
    rows = filterset.qs if period is None else filterset.qs.filter(period=period)
    return Mapped(rows.order_by("-since", "kind", "-pk"), _cycle_out)


@router.post("/appraisal/cycles", response={201: CycleOut, **ERRORS},
             summary="Open an appraisal cycle", tags=["appraisal"])
def cycle_open(request, payload: CycleOpenIn):
    """HR or a director: one appraisal per active person of the department whose position
    has an active scorecard template of that kind; the figures are read at once. 409 when
    the department already has a cycle for the period."""
    options = {}
    if payload.grade_bands is not None:
        options["grade_bands"] = payload.grade_bands.dict()
    if payload.distribution is not None:
        options["distribution"] = [group.dict() for group in payload.distribution]
    if payload.bottom_percent is not None:
        options["bottom_percent"] = payload.bottom_percent
    cycle = services.cycle_open(by=request.user, kind=payload.kind, period=payload.period,
                                name=payload.name, distribution_level=payload.distribution_level,
                                **options)
    return Status(201, _cycle_out(_cycle(request, cycle.pk)))


@router.get("/appraisal/cycles/{cycle_id}", response={200: CycleOut, **ERRORS},
            summary="One appraisal cycle", tags=["appraisal"])
def cycle_detail(request, cycle_id: ObjectId):
    return _cycle_out(_cycle(request, cycle_id))


@router.post("/appraisal/cycles/{cycle_id}/advance", response={200: CycleOut, **ERRORS},
             summary="Move a cycle to its next stage", tags=["appraisal"])
def cycle_advance(request, cycle_id: ObjectId):
    """open → self-assessment → manager review → calibration (once every appraisal is
    reviewed; 400 naming ``status`` otherwise). The figures are read again on the way."""
    services.cycle_advance(cycle=_cycle_found(request, cycle_id), by=request.user)
    return _cycle_out(_cycle(request, cycle_id))


@router.post("/appraisal/cycles/{cycle_id}/refresh", response={200: CycleOut, **ERRORS},
             summary="Read a cycle's figures again", tags=["appraisal"])
def cycle_refresh(request, cycle_id: ObjectId):
    """Before calibration only (409 later): the KPI figures follow the records until then."""
    services.cycle_refresh(cycle=_cycle_found(request, cycle_id), by=request.user)
    return _cycle_out(_cycle(request, cycle_id))


@router.post("/appraisal/cycles/{cycle_id}/submit", response={200: CycleOut, **ERRORS},
             summary="Submit a calibrated cycle for approval", tags=["appraisal"])
def cycle_submit(request, cycle_id: ObjectId, payload: CycleCommentIn):
    """Refused (400) while an appraisal has no grade or a unit breaks the forced
    distribution; approving it in the approvals inbox approves (and freezes) the cycle."""
    services.cycle_submit(cycle=_cycle_found(request, cycle_id), by=request.user,
                          comment=payload.comment)
    return _cycle_out(_cycle(request, cycle_id))


@router.post("/appraisal/cycles/{cycle_id}/reopen", response={200: CycleOut, **ERRORS},
             summary="Reopen an approved cycle", tags=["appraisal"])
def cycle_reopen(request, cycle_id: ObjectId, payload: CycleReasonIn):
    """Back to calibration with the reason kept in its history (director or HR); the
    figures stay as approved."""
    services.cycle_reopen(cycle=_cycle_found(request, cycle_id), by=request.user,
                          reason=payload.reason)
    return _cycle_out(_cycle(request, cycle_id))


@router.get("/appraisal/cycles/{cycle_id}/calibration",
            response={200: list[CalibrationUnitOut], **ERRORS},
            summary="Where each unit stands against the forced distribution",
            tags=["appraisal"])
def cycle_calibration(request, cycle_id: ObjectId, filters: Query[CalibrationFilterIn]):
    """Per unit of the distribution (division or team) that you see: its people by total,
    the count of each grade and each group of the distribution against its limit."""
    cycle = _cycle(request, cycle_id)
    unit = body_ref(Unit.objects.all(), filters.unit, "unit", _("This unit does not exist."))
    return [_calibration_out(s)
            for s in selectors.calibration(user=request.user, cycle=cycle, unit=unit)]


# --- appraisals ---------------------------------------------------------------------------
def _ordered(rows, ordering: str):
    field = _APPRAISAL_ORDERING[ordering.lstrip("-")]
    if ordering.startswith("-"):
        return rows.order_by(F(field).desc(nulls_last=True), "employee__name", "-pk")
    return rows.order_by(F(field).asc(nulls_last=True), "employee__name", "pk")


@router.get("/appraisal/appraisals", response={200: list[AppraisalOut], **ERRORS},
            summary="List appraisals", tags=["appraisal"])
@paginate(Paginated)
def appraisal_list(request, filters: Query[AppraisalFilterIn]):
    """The appraisals you may see (yours; a head's subtree; HR and the director: the
    department), best total first by default."""
    data = filters.dict(exclude_none=True)
    ordering = data.pop("ordering")
    filterset = AppraisalFilterSet(data, queryset=selectors.appraisal_list(user=request.user))
    if not filterset.is_valid():
        raise filter_errors(filterset)
    return Mapped(_ordered(filterset.qs, ordering), _appraisal_out)


@router.get("/appraisal/my", response={200: list[AppraisalOut], **ERRORS},
            summary="My appraisals", tags=["appraisal"])
@paginate(Paginated)
def appraisal_my(request):
    """Your own appraisals, newest cycle first."""
    return Mapped(selectors.my_appraisals(user=request.user).select_related("employee"),
                  _appraisal_out)


@router.get("/appraisal/appraisals/{appraisal_id}",
            response={200: AppraisalDetailOut, **ERRORS},
            summary="One appraisal with its lines and improvement plan", tags=["appraisal"])
def appraisal_detail(request, appraisal_id: ObjectId):
    return _answer(request, appraisal_id)


@router.post("/appraisal/appraisals/{appraisal_id}/self-assessment",
             response={200: AppraisalDetailOut, **ERRORS},
             summary="Save or hand in your self-assessment", tags=["appraisal"])
def appraisal_self_assess(request, appraisal_id: ObjectId, payload: SelfAssessmentIn):
    """The employee, while the cycle is at self-assessment (409 otherwise)."""
    services.appraisal_self_assess(appraisal=_appraisal_found(request, appraisal_id),
                                   by=request.user, points=_points(payload.points),
                                   comment=payload.comment, submit=payload.submit)
    return _answer(request, appraisal_id)


@router.post("/appraisal/appraisals/{appraisal_id}/review",
             response={200: AppraisalDetailOut, **ERRORS},
             summary="Review an appraisal", tags=["appraisal"])
def appraisal_review(request, appraisal_id: ObjectId, payload: AppraisalReviewIn):
    """The reviewer, a head above the person or the director, at manager review: points
    for every manual item; the total and the grade by score follow."""
    services.appraisal_review(appraisal=_appraisal_found(request, appraisal_id),
                              by=request.user, points=_points(payload.points),
                              comment=payload.comment)
    return _answer(request, appraisal_id)


@router.post("/appraisal/appraisals/{appraisal_id}/calibrate",
             response={200: AppraisalDetailOut, **ERRORS},
             summary="Set the final grade in calibration", tags=["appraisal"])
def appraisal_calibrate(request, appraisal_id: ObjectId, payload: CalibrateIn):
    """HR, the director or a head above the person; a grade other than the grade by
    score needs a reason. Ranks and flags of the cycle follow."""
    services.appraisal_calibrate(appraisal=_appraisal_found(request, appraisal_id),
                                 by=request.user, grade=payload.grade, reason=payload.reason)
    return _answer(request, appraisal_id)


@router.post("/appraisal/appraisals/{appraisal_id}/interview",
             response={200: AppraisalDetailOut, **ERRORS},
             summary="Record the review interview (绩效面谈)", tags=["appraisal"])
def appraisal_interview(request, appraisal_id: ObjectId, payload: InterviewIn):
    """The reviewer, once the review is done; changing it asks both to sign again."""
    services.appraisal_interview(appraisal=_appraisal_found(request, appraisal_id),
                                 by=request.user, on=payload.on, notes=payload.notes)
    return _answer(request, appraisal_id)


@router.post("/appraisal/appraisals/{appraisal_id}/sign",
             response={200: AppraisalDetailOut, **ERRORS},
             summary="Sign the review interview", tags=["appraisal"])
def appraisal_sign(request, appraisal_id: ObjectId):
    """The employee or the reviewer, once each (409 when already signed)."""
    services.appraisal_sign(appraisal=_appraisal_found(request, appraisal_id),
                            by=request.user)
    return _answer(request, appraisal_id)


@router.post("/appraisal/appraisals/{appraisal_id}/improvements",
             response={201: ImprovementOut, **ERRORS},
             summary="Add an action to the improvement plan (改进计划)", tags=["appraisal"])
def improvement_add(request, appraisal_id: ObjectId, payload: ImprovementIn):
    appraisal = _appraisal_found(request, appraisal_id)
    owner = body_ref(Employee.objects.visible_to(request.user), payload.owner, "owner",
                     _("This person does not exist."))
    item = services.improvement_add(appraisal=appraisal, by=request.user,
                                    action=payload.action, owner=owner, due_on=payload.due_on)
    return Status(201, _improvement_out(_improvement(request, item.pk)))


def _improvement(request, item_id) -> ImprovementItem:
    found = (ImprovementItem.objects.select_related("owner")
             .filter(appraisal__in=Appraisal.objects.visible_to(request.user), pk=item_id)
             .first())
    if found is None:
        raise Http404
    return found


@router.patch("/appraisal/improvements/{improvement_id}",
              response={200: ImprovementOut, **ERRORS},
              summary="Mark an improvement action done, dropped or open", tags=["appraisal"])
def improvement_update(request, improvement_id: ObjectId, payload: ImprovementUpdateIn):
    """Its owner, the employee or the reviewer; a dropped action needs a note."""
    services.improvement_update(item=_improvement(request, improvement_id), by=request.user,
                                status=payload.status, note=payload.note)
    return _improvement_out(_improvement(request, improvement_id))
# === end of Cycles and appraisals (PER-3..5) ==============================================
