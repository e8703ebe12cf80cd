"""Bonus plans and runs of the demo (issue 7, INC-1/INC-2): the plans in force, the
quarter before last's run approved and last quarter's a draft, a v2 draft to try; three
lines of the approved run worked out again HERE from the records — the grade and score
from the appraisal, the actual from the appraisal line and the KPI measure, the target
from the target plan's cell, the tiers from the plan — Decimal, half up to the cent; and
the approved run unchanged by a contract signed afterwards."""

import itertools
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.utils import timezone

from bizdept.appraisal.demo import previous_quarter
from bizdept.appraisal.models import Appraisal, AppraisalLine
from bizdept.approvals.models import ApprovalRequest
from bizdept.core.errors import Conflict
from bizdept.core.management.commands.demo import DEMO_MODULES, build
from bizdept.incentives import selectors, services
from bizdept.incentives.models import BonusLine, BonusPlan, BonusRun
from bizdept.kpi import measures
from bizdept.kpi.tests import records
from bizdept.targets.models import TargetCell

CENT = Decimal("0.01")


def cents(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def by_hand(line: BonusLine) -> dict:
    """The line worked out from the records and the plan, without ``formulas``."""
    appraisal = Appraisal.objects.get(pk=line.appraisal_id)
    cycle = appraisal.cycle
    plan = BonusPlan.objects.get(pk=line.plan_id)
    assert appraisal.employee_id == line.employee_id and cycle.pk == line.run.cycle_id
    kpi = {row.kpi_code: row for row in AppraisalLine.objects.filter(
        appraisal=appraisal, kind="kpi")}
    # the actual: the appraisal's frozen line, the same as the measure over the period
    actual = kpi[plan.commission_measure].actual
    measured = measures.KPIS[plan.commission_measure].per_person(
        since=cycle.since, until=cycle.until, employee_ids=[line.employee_id])
    assert cents(measured.get(line.employee_id, 0)) == actual
    # the target: the approved target plan's cell for the person and the quarter
    target = TargetCell.objects.get(
        plan__status="approved", plan__unit=cycle.unit, plan__metric=plan.commission_measure,
        plan__fiscal_year=cycle.since.year, period=cycle.period,
        employee_id=line.employee_id).realistic
    assert kpi[plan.commission_measure].target == target
    collection_rate = kpi["collection_rate"].actual  # None: nothing fell due

    coefficient = Decimal(plan.coefficients.get(appraisal.grade, "0"))
    base = cents(plan.base_amount * coefficient)
    parts = []
    if target and actual and actual > 0:
        starts = [Decimal(t["from"]) for t in plan.tiers] + [None]
        for tier, end in zip(plan.tiers, starts[1:], strict=True):
            lower = target * Decimal(tier["from"]) / 100
            upper = actual if end is None else min(actual, target * end / 100)
            part = max(upper - lower, Decimal(0))
            parts.append(cents(part * Decimal(tier["rate"]) / 100))
    commission = sum(parts, Decimal("0.00"))
    gates = []
    for gate in plan.gates:
        if gate["kind"] == "grade_in" and appraisal.grade in gate["grades"]:
            gates.append(gate["blocks"])
        if (gate["kind"] == "kpi_below" and collection_rate is not None
                and collection_rate < Decimal(gate["floor"])):
            gates.append(gate["blocks"])
    if {"base", "all"} & set(gates):
        base = Decimal("0.00")
    if {"commission", "all"} & set(gates):
        commission = Decimal("0.00")
    cut = Decimal("0.00")
    if plan.commission_cap is not None and commission > plan.commission_cap:
        cut += commission - plan.commission_cap
        commission = plan.commission_cap
    total = base + commission
    if plan.total_cap is not None and total > plan.total_cap:
        cut += total - plan.total_cap
        total = plan.total_cap
    return {"grade": appraisal.grade, "score": appraisal.total_score,
            "coefficient": coefficient, "base_bonus": base, "actual": actual,
            "target": target, "tier_commissions": parts, "commission": commission,
            "capped_by": cut, "total": cents(total), "gates": gates}


def stored(line: BonusLine) -> dict:
    explained = line.explanation
    return {"grade": line.grade, "score": line.score, "coefficient": line.coefficient,
            "base_bonus": line.base_bonus, "actual": line.actual, "target": line.target,
            "tier_commissions": [Decimal(s["commission"])
                                 for s in explained["commission"]["steps"]],
            "commission": line.commission, "capped_by": line.capped_by, "total": line.total,
            "gates": [g["blocks"] for g in explained["gates"] if g["hit"]]}


@pytest.mark.django_db
def test_demo_runs_match_the_arithmetic_by_hand_and_the_approved_one_is_frozen(monkeypatch):
    assert DEMO_MODULES.index("bizdept.incentives.demo") > DEMO_MODULES.index(
        "bizdept.appraisal.demo")
    build("demo")
    today = timezone.localdate()

    in_force = BonusPlan.objects.filter(status="approved")
    assert {p.position.name for p in in_force} == {"业务员", "业务所长", "分管经理"}
    assert {p.commission_mode for p in in_force} == {"tiered", "whole"}
    assert {p.coefficient_basis for p in in_force} == {"grade", "score"}
    draft = BonusPlan.objects.get(status="draft")
    assert draft.number == 2 and draft.position.name == "业务员"

    approved = BonusRun.objects.get(status="approved")
    assert approved.cycle.period < previous_quarter(today)
    assert ApprovalRequest.objects.get(document_type=services.RUN_TYPE,
                                       object_id=approved.pk).status == "approved"
    last = BonusRun.objects.get(status="draft")
    assert last.cycle.period == previous_quarter(today) and last.people > 40
    assert BonusLine.objects.filter(run=last, employee__user__username="sales").exists()
    assert BonusLine.objects.filter(run=approved, employee__user__username="sales").exists()
    tried = selectors.what_if(user=draft.created_by.user, plan=draft, cycle=last.cycle)
    assert tried.rows and tried.change >= 0  # v2 only raises the top rate

    lines = list(BonusLine.objects.filter(run=approved).select_related("run", "plan"))
    assert len(lines) == approved.people > 40
    assert sum(line.total for line in lines) == approved.total
    salespeople = [line for line in lines if line.plan.commission_measure == "revenue"]
    across = [line for line in salespeople if line.commission > 0 and not line.capped_by
              and len([s for s in line.explanation["commission"]["steps"]
                       if Decimal(s["commission"]) > 0]) >= 2]
    gated = [line for line in salespeople if any(g["hit"] for g in line.explanation["gates"])]
    # first one whose tiers paid but the collection rate took the commission away
    gated.sort(key=lambda line: (not any(g["hit"] and g["kind"] == "kpi_below"
                                         for g in line.explanation["gates"]),
                                 -(line.actual or 0)))
    graded_d = [line for line in salespeople if line.grade == "D"]
    capped = [line for line in salespeople if line.capped_by > 0]
    assert across and gated
    picked = [across[0], gated[0], *graded_d[:1], *capped[:1]]
    for line in picked:
        assert stored(line) == by_hand(line), line.employee_id
    assert gated[0].commission == 0
    if capped:
        assert [c["which"] for c in capped[0].explanation["caps"]]
    if graded_d:
        assert graded_d[0].total == 0

    # Frozen: a contract signed in the run's quarter afterwards changes the records, not
    # the approved run (which cannot be worked out again either).
    person = across[0]
    cycle = approved.cycle
    before = list(BonusLine.objects.filter(run=approved).order_by("pk").values_list(
        "employee_id", "actual", "commission", "total", "explanation"))
    revenue = measures.KPIS["revenue"]
    was = revenue.per_person(since=cycle.since, until=cycle.until,
                             employee_ids=[person.employee_id])[person.employee_id]
    monkeypatch.setattr(records, "_serial", itertools.count(900_001))  # past the demo's
    records.contract(person.employee, total="500000.00", signed_on=cycle.since)
    now = revenue.per_person(since=cycle.since, until=cycle.until,
                             employee_ids=[person.employee_id])[person.employee_id]
    assert cents(now) == cents(was) + Decimal("500000.00")
    with pytest.raises(Conflict):
        services.run_recompute(run=approved, by=approved.created_by.user)
    after = list(BonusLine.objects.filter(run=approved).order_by("pk").values_list(
        "employee_id", "actual", "commission", "total", "explanation"))
    assert after == before
    approved.refresh_from_db()
    assert approved.status == "approved" and approved.total == sum(r[3] for r in before)


@pytest.mark.django_db
def test_scale_department_gets_the_plans_in_force_once():
    from bizdept.incentives import demo
    from bizdept.org.demo import DemoContext
    from bizdept.org.demo import build_scale as org_scale

    ctx = DemoContext.new()
    org_scale(ctx, "S")
    demo.build_scale(ctx, "S")
    demo.build_scale(ctx, "S")  # already in force: left alone
    plans = BonusPlan.objects.all()
    assert plans.count() == 3 and {p.status for p in plans} == {"approved"}
    assert all(ApprovalRequest.objects.get(document_type=services.PLAN_TYPE,
                                           object_id=p.pk).status == "approved"
               for p in plans)
