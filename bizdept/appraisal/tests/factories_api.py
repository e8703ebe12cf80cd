"""Cycles for the API tests, the scope matrix and the fuzzer, made through the services
as HR and the heads would: templates for the persona department's positions, a cycle
opened on them, moved to any stage (reviews given on the way)."""

from __future__ import annotations

from decimal import Decimal

from bizdept.appraisal import services
from bizdept.appraisal.choices import CycleStatus
from bizdept.appraisal.models import Appraisal
from bizdept.org.models import Position

from .factories import make_template, threshold_item

PERIOD = "2026-Q2"
STAGES = ("open", "self_assessment", "manager_review", "calibration", "submitted",
          "approved")


def manual(weight, name) -> dict:
    """A manual item whose points are the reviewer's mark (0–100)."""
    return {"kind": "manual", "name": name, "weight": weight, "rule_kind": "linear",
            "rule_params": {"full_points": "100", "cap_percent": "100"}}


def cycle_items() -> list[dict]:
    """Visits against a fixed 60 (sort order 0, KPI), attitude (1) and teamwork (2)."""
    return [threshold_item("40"), manual("30", "工作态度"), manual("30", "团队合作")]


def cycle_templates(by, *, kind="quarterly") -> list:
    """An active template of ``kind`` for the salespeople's and the leads' positions of
    the persona department (the positions ``make_employee`` gives them)."""
    made = []
    for name in ("岗位-sales", "岗位-lead"):
        position = Position.objects.get_or_create(name=name)[0]
        made.append(make_template(by, name=f"{name}{kind}", position_=position,
                                  period_kind=kind, items=cycle_items()))
    return made


def open_cycle(dept, *, period=PERIOD, kind="quarterly", by=None, templates=True, **options):
    """A cycle opened by HR on the persona department."""
    by = by or dept.hr
    if templates:
        cycle_templates(by, kind=kind)
    return services.cycle_open(by=by.user, kind=kind, period=period, **options)


def marks_for(appraisal, default="80") -> dict[int, Decimal]:
    from bizdept.appraisal.choices import ItemKind

    return {line.sort_order: Decimal(default)
            for line in appraisal.lines.filter(kind=ItemKind.MANUAL)}


def review_all(cycle, dept, marks: dict | None = None) -> None:
    """Every appraisal reviewed by the director (who may review anyone): ``marks`` maps an
    employee to their mark of every manual item (default 80)."""
    marks = marks or {}
    for appraisal in Appraisal.objects.filter(cycle=cycle).select_related("employee"):
        mark = marks.get(appraisal.employee_id, "80")
        services.appraisal_review(appraisal=appraisal, by=dept.director.user,
                                  points=marks_for(appraisal, mark), comment="好")


def advance_to(cycle, dept, stage: str, *, marks: dict | None = None):
    """Move ``cycle`` forward to ``stage`` (reviews before calibration; the director
    approves a submitted cycle)."""
    target = STAGES.index(stage)
    while STAGES.index(cycle.status) < target:
        if cycle.status == CycleStatus.MANAGER_REVIEW:
            review_all(cycle, dept, marks)
        if cycle.status == CycleStatus.CALIBRATION:
            from bizdept.approvals.demo import ensure_default_policies

            ensure_default_policies()
            cycle = services.cycle_submit(cycle=cycle, by=dept.hr.user, comment="请审批")
        elif cycle.status == CycleStatus.SUBMITTED:
            from bizdept.sales.tests.factories import decide

            decide(cycle)
        else:
            cycle = services.cycle_advance(cycle=cycle, by=dept.hr.user)
        cycle.refresh_from_db()
    return cycle


def cycle_at(dept, stage: str = "open", *, marks: dict | None = None, **kwargs):
    """A cycle opened on the persona department and moved to ``stage``."""
    return advance_to(open_cycle(dept, **kwargs), dept, stage, marks=marks)


def appraisal_of(cycle, employee) -> Appraisal:
    return Appraisal.objects.get(cycle=cycle, employee=employee)
