"""Cycles of the appraisal app (PER-3..5), made through the services as users would."""

from __future__ import annotations

import datetime
from decimal import Decimal

from bizdept.appraisal import services
from bizdept.appraisal.models import Appraisal
from bizdept.approvals.services import approval_policy_create
from bizdept.org.models import Position

PERIOD = "2026-Q3"
INTERVIEW_DAY = datetime.date(2026, 10, 15)


def sales_items(*, revenue_target="100000", revenue_source="fixed") -> list[dict]:
    """Revenue against a target (50, linear capped at 120 %), visits by steps (20) and a
    manual attitude mark (30, linear: the points are the mark)."""
    revenue = {"kind": "kpi", "kpi_code": "revenue", "weight": "50",
               "target_source": revenue_source, "rule_kind": "linear",
               "rule_params": {"full_points": "100", "cap_percent": "120"}}
    if revenue_source == "fixed":
        revenue["fixed_target"] = revenue_target
    return [
        revenue,
        {"kind": "kpi", "kpi_code": "visits", "weight": "20", "target_source": "fixed",
         "fixed_target": "10", "rule_kind": "threshold",
         "rule_params": {"steps": [[1, 50], [3, 100]]}},
        {"kind": "manual", "name": "工作态度", "weight": "30", "rule_kind": "linear",
         "rule_params": {"full_points": "100"}},
    ]


def sales_template(by, **kwargs):
    return services.template_create(by=by.user, name="业务员季度考核",
                                    position=Position.objects.get(name="岗位-sales"),
                                    period_kind="quarterly", items=sales_items(**kwargs))


def cycle_policy(approver):
    return approval_policy_create(document_type=services.CYCLE_TYPE, name="考核结果审批",
                                  steps=[{"name": "审批", "approver_kind": "employee",
                                          "employee": approver}])


def open_cycle(dept, **kwargs):
    return services.cycle_open(by=dept.hr.user, kind="quarterly", period=PERIOD, **kwargs)


def appraisal_of(cycle, employee) -> Appraisal:
    return Appraisal.objects.select_related("cycle").get(cycle=cycle, employee=employee)


def to_stage(cycle, by, stage):
    while cycle.status != stage:
        cycle = services.cycle_advance(cycle=cycle, by=by.user)
    return cycle


def review_all(cycle, marks: dict | None = None, default="80"):
    """Every appraisal reviewed by its reviewer: ``marks`` {employee: mark}."""
    marks = marks or {}
    for appraisal in Appraisal.objects.filter(cycle=cycle).select_related("reviewer__user",
                                                                             "cycle"):
        mark = Decimal(marks.get(appraisal.employee_id, default))
        manual = appraisal.lines.filter(kind="manual").values_list("sort_order", flat=True)
        services.appraisal_review(appraisal=appraisal, by=appraisal.reviewer.user,
                                  points={order: mark for order in manual}, comment="好")
