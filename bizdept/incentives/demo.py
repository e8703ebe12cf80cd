"""Bonus plans and runs for the demo and the scale departments (INC-1, INC-2).

* ``build_demo`` (after the appraisal demo), through the services as the people would:
  the quarterly bonus plans of the sales positions — the salesperson's (base ¥3,000 ×
  a coefficient by grade, commission on revenue by tiers 0/80/100/120 % → 0/3/5/8 %,
  each tier's rate on the part inside it, a commission cap and a cap per person; no
  commission while the collection rate is under 60 %, nothing for grade D), the team
  lead's (a coefficient by score band, commission on collections at the reached tier's
  rate on the whole amount) and the division manager's (by grade, commission on gross
  margin, tiered) — drafted by HR and approved through the engine (finance; HR's own
  step is skipped as theirs); the **quarter before last's run**, made by HR and approved
  (finance, then the director), so frozen; **last quarter's run** left a draft; and a
  **draft v2** of the salesperson's plan (a higher top rate, drafted by the director)
  for the what-if against the one in force.
* ``build_scale`` / ``ensure_plans``: the same plans, in force, in a scale department
  (the benchmark runs the bonus of 2,000 people on them, ``bench/incentives.py``).

The demo's team leads and division managers have no personal targets (the target plans
split by what each person sold), so their lines are the base bonus only; the
explanation says why (no target).
"""

from __future__ import annotations

from django.db import transaction

from bizdept.appraisal.choices import PeriodKind

from .choices import PlanStatus
from .models import BonusPlan, BonusRun

TIERS = [{"from": "0", "rate": "0"}, {"from": "80", "rate": "3"},
         {"from": "100", "rate": "5"}, {"from": "120", "rate": "8"}]
TIERS_V2 = [*TIERS[:3], {"from": "120", "rate": "10"}]  # the draft v2: more over 120 %
NO_COMMISSION_UNDER_60 = {"kind": "kpi_below", "kpi": "collection_rate", "floor": "60",
                          "blocks": "commission"}
NOTHING_FOR_D = {"kind": "grade_in", "grades": ["D"], "blocks": "all"}

# position key of bizdept.org.demo.POSITIONS → the plan's rules
PLANS = {
    "sales": {
        "name": "业务员季度奖金方案", "base_amount": "3000", "coefficient_basis": "grade",
        "coefficients": {"S": "1.5", "A": "1.2", "B": "1.0", "C": "0.8", "D": "0"},
        "commission_measure": "revenue", "commission_mode": "tiered", "tiers": TIERS,
        "commission_cap": "20000", "total_cap": "22000",
        "gates": [NO_COMMISSION_UNDER_60, NOTHING_FOR_D],
        "notes": "基本奖金按考核等级系数；销售额提成分段累进（超额部分适用更高比例）；"
                 "回款率低于60%不发提成，D级不发奖金。"},
    "lead": {
        "name": "业务所长季度奖金方案", "base_amount": "5000", "coefficient_basis": "score",
        "coefficients": [{"from": "95", "coefficient": "1.5"},
                         {"from": "85", "coefficient": "1.2"},
                         {"from": "65", "coefficient": "1.0"},
                         {"from": "45", "coefficient": "0.8"}],
        "commission_measure": "collections", "commission_mode": "whole",
        "tiers": [{"from": "0", "rate": "0"}, {"from": "80", "rate": "1"},
                  {"from": "100", "rate": "1.5"}, {"from": "120", "rate": "2"}],
        "total_cap": "20000", "gates": [NOTHING_FOR_D],
        "notes": "基本奖金按考核总分档位系数；回款提成按达成档位比例计全额。"},
    "manager": {
        "name": "分管经理季度奖金方案", "base_amount": "8000", "coefficient_basis": "grade",
        "coefficients": {"S": "1.5", "A": "1.3", "B": "1.0", "C": "0.7", "D": "0"},
        "commission_measure": "gross_margin", "commission_mode": "tiered",
        "tiers": [{"from": "0", "rate": "0"}, {"from": "90", "rate": "2"},
                  {"from": "110", "rate": "4"}],
        "total_cap": "30000", "gates": [NOTHING_FOR_D],
        "notes": "基本奖金按考核等级系数；毛利提成分段累进。"},
}


def _approve_all(document) -> None:
    from bizdept.sales.demo import _approve_all as approve

    approve(document)
    document.refresh_from_db()


def ensure_plans(by, *, approve: bool = True) -> dict[str, BonusPlan]:
    """The quarterly plan in force of each sales position; one without is given the
    demo's, drafted by ``by`` and, with ``approve``, submitted and approved through the
    engine. Answers {position key: the plan}."""
    from bizdept.org.demo import POSITIONS
    from bizdept.org.models import Position

    from . import services

    plans = {}
    for key, rules in PLANS.items():
        position = Position.objects.filter(name=POSITIONS[key][0]).first()
        if position is None:
            continue
        plan = BonusPlan.objects.filter(position=position, period_kind=PeriodKind.QUARTERLY,
                                        status=PlanStatus.APPROVED).first()
        if plan is None:
            plan = services.plan_create(by=by, position=position.pk,
                                        period_kind=PeriodKind.QUARTERLY, **rules)
        if approve and plan.status == PlanStatus.DRAFT:
            plan = services.plan_submit(plan=plan, by=by, comment="季度奖金方案，请审批")
            _approve_all(plan)
        plans[key] = plan
    return plans


@transaction.atomic
def build_demo(ctx) -> None:
    from bizdept.appraisal.demo import previous_quarter
    from bizdept.appraisal.models import AppraisalCycle
    from bizdept.approvals.demo import ensure_default_policies

    from . import services

    hr, director = ctx.by_username.get("hr"), ctx.by_username.get("director")
    if hr is None or director is None:
        return
    ensure_default_policies()
    # HR drafts and submits them: the engine finds no finance approver for the director
    # (finance sits in the unit the director heads, and that unit is skipped).
    plans = ensure_plans(hr.user)

    # The appraisal demo approved the quarter before last and last quarter.
    cycles = list(AppraisalCycle.objects.filter(kind=PeriodKind.QUARTERLY,
                                                status="approved").order_by("since"))
    last = previous_quarter(ctx.today)
    before = [c for c in cycles if c.period < last]
    if before:
        run = services.run_create(by=hr.user, cycle=before[-1])
        run = services.run_submit(run=run, by=hr.user, comment="上季度奖金核算，请审批")
        _approve_all(run)
    for cycle in cycles:
        if cycle.period == last and not BonusRun.objects.filter(cycle=cycle).exists():
            services.run_create(by=hr.user, cycle=cycle)  # a draft: checked, then submitted

    # A new version of the salesperson's plan to try on last quarter before approving it.
    if "sales" in plans:
        draft = services.plan_new_version(plan=plans["sales"], by=director.user)
        services.plan_update(plan=draft, by=director.user, tiers=TIERS_V2,
                             notes="v2 草案：超额120%以上部分提成比例由8%提高到10%。")


def build_scale(ctx, size: str) -> None:
    """The plans, in force, of a scale department (its HR drafts them)."""
    from django.contrib.auth import get_user_model

    from bizdept.approvals.demo import ensure_default_policies

    by = get_user_model().objects.filter(username="hr").first()
    if by is None:
        return
    with transaction.atomic():
        ensure_default_policies()
        ensure_plans(by)
