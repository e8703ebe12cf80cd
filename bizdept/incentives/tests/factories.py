"""Plans, approved cycles and runs for the incentives tests (INC-1..3), made through the
services as users would."""

from __future__ import annotations

import datetime
from decimal import Decimal

from bizdept.appraisal.choices import CycleStatus
from bizdept.appraisal.models import Appraisal
from bizdept.appraisal.tests.cycles import PERIOD, open_cycle, review_all, sales_template
from bizdept.approvals.services import approval_policy_create
from bizdept.incentives import services
from bizdept.org.models import Position
from bizdept.sales.tests.factories import decide

SALES_POSITION = "岗位-sales"
Q3_DAY = datetime.date(2026, 8, 10)

TIERS = [{"from": "0", "rate": "0"}, {"from": "80", "rate": "3"},
         {"from": "100", "rate": "5"}, {"from": "120", "rate": "8"}]
GRADE_COEFFICIENTS = {"S": "1.5", "A": "1.2", "B": "1.0", "C": "0.8", "D": "0"}


def policies(approver) -> None:
    """Plans and runs are approved by one named person (not the director, who drafts)."""
    for kind, name in ((services.PLAN_TYPE, "奖金方案审批"), (services.RUN_TYPE, "奖金核算审批")):
        approval_policy_create(document_type=kind, name=name,
                               steps=[{"name": "审批", "approver_kind": "employee",
                                       "employee": approver}])


def draft_plan(by, **overrides):
    values = {"name": "业务员季度奖金", "position": Position.objects.get(name=SALES_POSITION).pk,
              "period_kind": "quarterly", "base_amount": "5000",
              "coefficients": GRADE_COEFFICIENTS, "commission_measure": "revenue",
              "tiers": TIERS}
    values.update(overrides)
    return services.plan_create(by=by.user, **values)


def plan_in_force(dept, **overrides):
    """A plan drafted by the director and approved (policies must exist)."""
    plan = draft_plan(dept.director, **overrides)
    plan = services.plan_submit(plan=plan, by=dept.director.user)
    decide(plan)
    plan.refresh_from_db()
    return plan


def approved_cycle(dept, *, grades: dict | None = None, **template):
    """The persona department's Q3 cycle, reviewed, graded (``grades``: {employee: grade})
    and approved; the cycle policy must exist."""
    from bizdept.appraisal import services as appraisal_services

    sales_template(dept.hr, **template)
    cycle = open_cycle(dept)
    while cycle.status != CycleStatus.MANAGER_REVIEW:
        cycle = appraisal_services.cycle_advance(cycle=cycle, by=dept.hr.user)
    review_all(cycle)
    cycle = appraisal_services.cycle_advance(cycle=cycle, by=dept.hr.user)
    for employee, grade in (grades or {}).items():
        appraisal = Appraisal.objects.get(cycle=cycle, employee=employee)
        if appraisal.grade != grade:
            appraisal_services.appraisal_calibrate(appraisal=appraisal, by=dept.director.user,
                                                   grade=grade, reason="校准")
    cycle = appraisal_services.cycle_submit(cycle=cycle, by=dept.hr.user)
    decide(cycle)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.APPROVED
    return cycle


def money(text) -> Decimal:
    return Decimal(text).quantize(Decimal("0.01"))


__all__ = ["PERIOD", "TIERS", "approved_cycle", "draft_plan", "plan_in_force", "policies",
           "money", "review_all"]
