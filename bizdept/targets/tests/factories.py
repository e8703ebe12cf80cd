"""Plans of the targets app (TGT-1..4), made through the services as a user would."""

from decimal import Decimal

from bizdept.approvals.services import approval_policy_create
from bizdept.targets import demo, selectors, services
from bizdept.targets.models import TargetCell, TargetPlan

YEAR = 2026


def plan_policy(approver):
    """``targets.plan`` approved by one named person (the default policy's director step
    would be skipped for plans the director creates)."""
    return approval_policy_create(document_type=services.PLAN_TYPE, name="目标计划审批",
                                  steps=[{"name": "审批", "approver_kind": "employee",
                                          "employee": approver}])


def make_plan(by, *, year=YEAR, metric="revenue", unit=None) -> TargetPlan:
    return services.plan_create(by=by.user, fiscal_year=year, metric=metric, unit=unit)


def fill_plan(plan, by, *, total=Decimal("1200000.00"), weights=None) -> int:
    """Every cell of the plan, every sum holding (the demo's decomposition)."""
    tree = selectors.plan_nodes(plan)
    pairs = demo.plan_pairs(tree, metric=plan.metric, year=plan.fiscal_year,
                            realistic=Decimal(total), weights=weights or {})
    return services.plan_set_values(plan=plan, by=by.user, values=[
        {"unit": u, "employee": e, "period": p, "realistic": r, "stretch": s}
        for (u, e, p), (r, s) in pairs.items()])


def decide_plan(plan, decision="approve", comment="ok"):
    from bizdept.sales.tests.factories import decide

    decide(plan, decision=decision, comment=comment)
    plan.refresh_from_db()
    return plan


def approved_plan(dept, *, year=YEAR, metric="revenue", total=Decimal("1200000.00"),
                  approver=None) -> TargetPlan:
    """A plan of the persona department filled and approved through the engine."""
    from bizdept.approvals.models import ApprovalPolicy

    if not ApprovalPolicy.objects.filter(document_type=services.PLAN_TYPE,
                                         active=True).exists():
        plan_policy(approver or dept.admin)
    plan = make_plan(dept.director, year=year, metric=metric)
    fill_plan(plan, dept.director, total=total)
    plan = services.plan_submit(plan=plan, by=dept.director.user)
    if plan.status == "submitted":  # the default policy skips a director's own plan
        decide_plan(plan)
    return plan


def cell(plan, unit, period, employee=None) -> TargetCell | None:
    return TargetCell.objects.filter(plan=plan, unit=unit, employee=employee,
                                     period=period).first()


def raw_plan(unit, creator, *, year=YEAR, metric="revenue", status="draft") -> TargetPlan:
    """A plan row written directly (another department's, for the scope matrix)."""
    plan, _ = TargetPlan.objects.get_or_create(
        unit=unit, fiscal_year=year, metric=metric, version=1,
        defaults={"created_by": creator, "status": status})
    return plan
