"""Cycles for the page tests (PER-3..5), made through the services as users would: a
quarterly scorecard for the salespeople of the persona department, a cycle opened on it,
moved along its stages."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from bizdept.appraisal import services
from bizdept.appraisal.choices import CycleStatus
from bizdept.appraisal.models import Appraisal
from bizdept.approvals.services import approval_policy_create
from bizdept.core.periods import quarter_of
from bizdept.org.models import Position

SALES_POSITION = "岗位-sales"  # the position make_employee gives a salesperson


def last_quarter(today: datetime.date | None = None) -> str:
    """The quarter before this one ("2026-Q3" in October 2026): its records are in."""
    today = today or timezone.localdate()
    first = datetime.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    return quarter_of(first - datetime.timedelta(days=1))


def sales_items() -> list[dict]:
    """Revenue against a fixed target (50, linear capped at 120 %), visits by steps (20)
    and a manual attitude mark (30)."""
    return [
        {"kind": "kpi", "kpi_code": "revenue", "weight": "50", "target_source": "fixed",
         "fixed_target": "100000", "rule_kind": "linear",
         "rule_params": {"full_points": "100", "cap_percent": "120"}},
        {"kind": "kpi", "kpi_code": "visits", "weight": "20", "target_source": "fixed",
         "fixed_target": "10", "rule_kind": "threshold",
         "rule_params": {"steps": [[1, 50], [3, 100]]}},
        {"kind": "manual", "name": "工作态度", "weight": "30", "rule_kind": "linear",
         "rule_params": {"full_points": "100"}},
    ]


def sales_template(by, *, name="业务员季度考核", period_kind="quarterly"):
    position = Position.objects.get_or_create(name=SALES_POSITION)[0]
    return services.template_create(by=by.user, name=name, position=position,
                                    period_kind=period_kind, items=sales_items())


def cycle_policy(approver):
    """Cycles are approved by one named person."""
    return approval_policy_create(document_type=services.CYCLE_TYPE, name="考核结果审批",
                                  steps=[{"name": "审批", "approver_kind": "employee",
                                          "employee": approver}])


def open_cycle(dept, *, period=None, template=True, **kwargs):
    if template:
        sales_template(dept.hr)
    return services.cycle_open(by=dept.hr.user, kind="quarterly",
                               period=period or last_quarter(), **kwargs)


def appraisal_of(cycle, employee) -> Appraisal:
    return Appraisal.objects.select_related("cycle").get(cycle=cycle, employee=employee)


def to_stage(cycle, by, stage):
    while cycle.status != stage:
        cycle = services.cycle_advance(cycle=cycle, by=by.user)
    return cycle


def manual_orders(appraisal) -> list[int]:
    return list(appraisal.lines.filter(kind="manual").values_list("sort_order", flat=True))


def review_all(cycle, default="80", marks: dict | None = None):
    """Every appraisal not reviewed yet, reviewed by its reviewer."""
    marks = marks or {}
    for appraisal in (Appraisal.objects.filter(cycle=cycle, reviewed_at__isnull=True)
                      .select_related("reviewer__user", "cycle")):
        mark = Decimal(marks.get(appraisal.employee_id, default))
        services.appraisal_review(appraisal=appraisal, by=appraisal.reviewer.user,
                                  points={o: mark for o in manual_orders(appraisal)},
                                  comment="好")


def calibrating_cycle(dept, **kwargs):
    """A cycle in calibration: everyone reviewed."""
    cycle = open_cycle(dept, **kwargs)
    cycle = to_stage(cycle, dept.hr, CycleStatus.MANAGER_REVIEW)
    review_all(cycle)
    return to_stage(cycle, dept.hr, CycleStatus.CALIBRATION)
