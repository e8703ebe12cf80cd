"""Appraisals for the demo and the scale departments (PER-2..5).

* ``build_demo``: scorecard templates (quarterly and annual) for the salespeople, the
  team leads and the division managers; then, through the services as the people would
  do it, a **completed last quarter** — opened by HR, self-assessed, reviewed by each
  person's head with varied marks (a seeded random), calibrated by the director against
  the forced distribution (20/70/10 per division; every change of grade with its
  reason), submitted and approved by the director in the approval engine; review
  interviews recorded (most signed by both, a few waiting for the employee) and an
  improvement plan for each bottom performer — and the **current quarter**, opened and
  moved to self-assessment with a few self-assessments done (some only saved). The
  login ``sales`` has last quarter's interview to sign and this quarter's
  self-assessment to do, in the browser.
* ``build_scale`` / ``build_scale_templates``: the same templates for a scale department
  (the benchmarks open a cycle of 2,000 people on them, ``bench/appraisal.py``).

The KPI items name measures of ``bizdept.kpi.measures.KPIS``; a team figure (staff
turnover, team pass rate) is used only when the library has it.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction

from bizdept.core.periods import quarter_of

from .choices import DEFAULT_DISTRIBUTION, PeriodKind
from .models import Appraisal, ScorecardTemplate

# --- scorecard templates ------------------------------------------------------------------
# (position key of bizdept.org.demo.POSITIONS, name of the quarterly template, of the annual)
TEMPLATE_NAMES = {
    "sales": ("业务员季度考核", "业务员年度考核"),
    "lead": ("业务所长季度考核", "业务所长年度考核"),
    "manager": ("分管经理季度考核", "分管经理年度考核"),
}
CAP = "120"  # achievement counted up to 120 % of the target


def _plan(code, weight, name) -> dict:
    """Achievement of the person's target in the approved plan, linear, capped."""
    return {"kind": "kpi", "kpi_code": code, "name": name, "weight": str(weight),
            "target_source": "plan", "rule_kind": "linear",
            "rule_params": {"full_points": "100", "cap_percent": CAP}}


def _fixed_linear(code, weight, name, target) -> dict:
    return {"kind": "kpi", "kpi_code": code, "name": name, "weight": str(weight),
            "target_source": "fixed", "fixed_target": str(target), "rule_kind": "linear",
            "rule_params": {"full_points": "100", "cap_percent": CAP}}


def _fixed_steps(code, weight, name, target, steps, higher_is_better=True) -> dict:
    return {"kind": "kpi", "kpi_code": code, "name": name, "weight": str(weight),
            "target_source": "fixed", "fixed_target": str(target),
            "rule_kind": "threshold",
            "rule_params": {"steps": [[str(t), str(p)] for t, p in steps],
                            "higher_is_better": higher_is_better}}


def _manual(name, weight) -> dict:
    """Marked 0–100 by the reviewer; the points are the mark."""
    return {"kind": "manual", "name": name, "weight": str(weight), "rule_kind": "linear",
            "rule_params": {"full_points": "100"}}


DEMO_GRADE_BANDS = {"S": "95", "A": "85", "B": "65", "C": "45"}
COLLECTION_STEPS = [(60, 40), (75, 60), (90, 85), (100, 100)]  # collection rate, %
TURNOVER_STEPS = [(5, 100), (10, 80), (20, 50)]  # staff turnover, %, lower is better
PASS_STEPS = [(60, 50), (80, 80), (90, 100)]  # team pass rate, %
MANUAL = [("工作态度", 10), ("团队协作", 10), ("业务能力", 10)]  # weights total 30


def template_items(position: str, kpis=None) -> list[dict]:
    """The items of a position's scorecard (weights total 100). ``kpis``: the KPI codes
    the library has (default: ``kpi.measures.KPIS`` now); a missing team figure gives
    its weight to revenue."""
    if kpis is None:
        from bizdept.kpi.measures import KPIS as kpis
    manual = [_manual(name, weight) for name, weight in MANUAL]
    if position == "sales":
        return [
            _plan("revenue", 25, "销售额目标达成"),
            _plan("collections", 10, "回款目标达成"),
            _fixed_steps("collection_rate", 10, "回款率", 90, COLLECTION_STEPS),
            _fixed_linear("avg_daily_visits", 15, "日均拜访", 1),
            _plan("new_customers", 10, "新增客户"),
            *manual,
        ]
    # a team lead or a division manager: their own book plus their team's figures
    team = [("staff_turnover", 10, lambda w: _fixed_steps(
                "staff_turnover", w, "团队人员流失率", 10, TURNOVER_STEPS,
                higher_is_better=False)),
            ("team_pass_rate", 10, lambda w: _fixed_steps(
                "team_pass_rate", w, "团队考核合格率", 90, PASS_STEPS))]
    missing = sum(weight for code, weight, _make in team if code not in kpis)
    revenue = 25 if position == "lead" else 30
    collections = 40 - revenue
    return [
        _plan("revenue", revenue + missing, "销售额目标达成"),
        _plan("collections", collections, "回款目标达成"),
        _fixed_steps("collection_rate", 10, "回款率", 90, COLLECTION_STEPS),
        *(make(weight) for code, weight, make in team if code in kpis),
        *manual,
    ]


def ensure_templates(by) -> list[ScorecardTemplate]:
    """The quarterly and annual templates of the sales positions (those missing), made
    through ``services.template_create`` by ``by`` (HR or the director)."""
    from bizdept.org.demo import POSITIONS
    from bizdept.org.models import Position

    from . import services

    made = []
    for key, names in TEMPLATE_NAMES.items():
        position = Position.objects.filter(name=POSITIONS[key][0]).first()
        if position is None:
            continue
        for name, kind in zip(names, (PeriodKind.QUARTERLY, PeriodKind.ANNUAL), strict=True):
            if ScorecardTemplate.objects.filter(position=position, name=name).exists():
                continue
            made.append(services.template_create(
                by=by, name=name, position=position, period_kind=kind,
                items=template_items(key),
                notes="演示：KPI 70 分（目标来自已批准的目标计划或固定值）+ 主观评价 30 分。"))
    return made


# --- demo ---------------------------------------------------------------------------------
def previous_quarter(day: datetime.date) -> str:
    first = datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return quarter_of(first - datetime.timedelta(days=1))


SELF_COMMENTS = ["本季度按计划推进重点客户，回款跟进及时。", "拜访量达标，新客户开发还需加强。",
                 "配合团队完成了大客户投标，个人业绩略低于预期。",
                 "积极参加产品培训，客户反馈良好。", "回款压力较大，下季度重点催收。"]
REVIEW_COMMENTS = {
    "high": ["业绩突出，客户关系维护到位，继续保持。", "超额完成目标，能主动带动新人。"],
    "mid": ["完成了大部分目标，工作态度认真，需提高新客户开发。",
            "表现稳定，回款跟进仍有提升空间。", "执行力较好，建议加强方案能力。"],
    "low": ["目标完成率偏低，需制定改进计划并每周跟进。", "拜访量不足，客户跟进不及时。"],
}
INTERVIEW_NOTES = [
    "回顾本季度目标完成情况，肯定了重点客户的推进；下季度目标：回款率提升到90%以上。",
    "沟通了考核结果与评分依据，员工认可；约定每周一汇报重点客户进展。",
    "讨论了新客户开发不足的原因，约定参加下月的方案培训。",
]
IMPROVEMENTS = [("每周拜访不少于8家客户，周报中列明拜访结果", "employee", 60),
                ("逾期应收逐户制定催收计划，每周跟进", "employee", 45),
                ("参加产品方案培训并完成考核", "employee", 30),
                ("所长每两周陪访一次重点客户", "reviewer", 60)]


def _mark(rng, base: Decimal) -> Decimal:
    return Decimal(max(40, min(100, int(base) + rng.randint(-6, 6))))


def _manual_orders(appraisal) -> list[int]:
    return sorted(line.sort_order for line in appraisal.lines.all() if line.kind == "manual")


def _self_assess(appraisals, rng, *, share: float, submit_share: float) -> int:
    from . import services

    done = 0
    for appraisal in appraisals:
        if rng.random() >= share:
            continue
        marks = {order: Decimal(rng.randint(75, 95)) for order in _manual_orders(appraisal)}
        services.appraisal_self_assess(
            appraisal=appraisal, by=appraisal.employee.user, points=marks,
            comment=rng.choice(SELF_COMMENTS), submit=rng.random() < submit_share)
        done += 1
    return done


def _review(appraisals, rng) -> None:
    from . import services

    for appraisal in appraisals:
        # the reviewer's view follows the figures somewhat (the KPI lines' mean points)
        kpi = [line.points for line in appraisal.lines.all()
               if line.kind == "kpi" and line.points is not None]
        mean = float(sum(kpi) / len(kpi)) if kpi else 75.0
        base = Decimal(max(50, min(97, round(rng.gauss(72 + 0.15 * (mean - 70), 8)))))
        marks = {order: _mark(rng, base) for order in _manual_orders(appraisal)}
        level = "high" if base >= 88 else "low" if base < 70 else "mid"
        services.appraisal_review(appraisal=appraisal, by=appraisal.reviewer.user,
                                  points=marks, comment=rng.choice(REVIEW_COMMENTS[level]))


def _calibrate(cycle, by, rng) -> int:
    """The director keeps each division within the forced distribution: the lowest of
    too many S/A go down to B, the lowest B go to C while too few are C/D; and one person
    just below A's band in a division with room goes up. Every change gives its reason."""
    from . import selectors, services

    changed = set()
    bands = {g: Decimal(v) for g, v in cycle.grade_bands.items()}
    for standing in selectors.distribution_standing(cycle):
        if standing.exempt or not standing.groups:
            continue
        best, worst = standing.groups[0], standing.groups[-1]
        people = sorted(standing.appraisals, key=lambda a: (a.total_score, a.pk))  # worst 1st
        over = best.count - best.limit
        for a in [a for a in people if a.grade in best.grades][:max(over, 0)]:
            services.appraisal_calibrate(appraisal=a, by=by, grade="B",
                                         reason="强制分布：本事业部S/A名额已满，按总分排序调整")
            changed.add(a.pk)
        short = worst.limit - worst.count
        for a in [a for a in people if a.grade == "B"][:max(short, 0)]:
            services.appraisal_calibrate(appraisal=a, by=by, grade="C",
                                         reason="强制分布：事业部末档比例不足，按总分排序调整")
            changed.add(a.pk)
        if over < 0:  # room in the best group: the best B close to A's band goes up
            near = [a for a in reversed(people) if a.grade == "B" and a.pk not in changed
                    and a.total_score >= bands["A"] - 3]
            if near:
                services.appraisal_calibrate(
                    appraisal=near[0], by=by, grade="A",
                    reason="季度内拿下重点客户，贡献未完全体现在本季度数据中，经理提议上调")
                changed.add(near[0].pk)
        if worst.count + max(short, 0) > worst.limit:  # the floor holds without one C
            near = [a for a in reversed(people) if a.grade == "C" and a.pk not in changed
                    and a.total_score >= bands["B"] - 3]
            if near:
                services.appraisal_calibrate(
                    appraisal=near[0], by=by, grade="B",
                    reason="新调入团队，客户交接期业绩偏低，经理说明后上调")
                changed.add(near[0].pk)
    return len(changed)


def _interviews(cycle, today, rng) -> int:
    """Review interviews after the results: most signed by both, some by the reviewer
    only (the employee signs in the browser); the demo's salesperson ``sales`` waits."""
    from . import services

    done = 0
    first_day = cycle.until + datetime.timedelta(days=3)
    for appraisal in (Appraisal.objects.filter(cycle=cycle).select_related(
            "cycle", "employee__user", "reviewer__user").order_by("pk")):
        mine = appraisal.employee.user.username == "sales"
        if appraisal.reviewer is None or (rng.random() > 0.75 and not mine):
            continue
        on = min(first_day + datetime.timedelta(days=rng.randint(0, 12)), today)
        services.appraisal_interview(appraisal=appraisal, by=appraisal.reviewer.user, on=on,
                                     notes=rng.choice(INTERVIEW_NOTES))
        services.appraisal_sign(appraisal=appraisal, by=appraisal.reviewer.user)
        if not mine and rng.random() < 0.8:
            services.appraisal_sign(appraisal=appraisal, by=appraisal.employee.user)
        done += 1
    return done


def _improvements(cycle, today, rng) -> int:
    from bizdept.appraisal.choices import ImprovementStatus

    from . import services

    items = 0
    for appraisal in (Appraisal.objects.filter(cycle=cycle, is_bottom=True)
                      .select_related("cycle", "employee__user", "reviewer__user")
                      .order_by("total_score", "pk")):
        if appraisal.reviewer is None:
            continue
        for action, owner, days in rng.sample(IMPROVEMENTS, 2):
            item = services.improvement_add(
                appraisal=appraisal, by=appraisal.reviewer.user, action=action,
                owner=appraisal.employee if owner == "employee" else appraisal.reviewer,
                due_on=cycle.until + datetime.timedelta(days=days))
            items += 1
            if item.due_on <= today and rng.random() < 0.6:
                services.improvement_update(item=item, by=appraisal.employee.user,
                                            status=ImprovementStatus.DONE,
                                            note="已完成，见周报")
    return items


def _people_of(cycle):
    return list(Appraisal.objects.filter(cycle=cycle).select_related(
        "cycle", "employee__user", "reviewer__user").prefetch_related("lines")
        .order_by("pk"))


@transaction.atomic
def build_demo(ctx) -> None:
    from bizdept.approvals.demo import ensure_default_policies

    from . import services

    hr, director = ctx.by_username.get("hr"), ctx.by_username.get("director")
    if hr is None or director is None:
        return
    ensure_default_policies()
    ensure_templates(hr.user)
    rng, today = ctx.rng, ctx.today
    # The demo's records are thin (a salesperson signs a contract or two a quarter, many
    # none), so its bands are wider at the bottom and narrower at the top than the
    # defaults (90/80/70/60): S from 95, A from 85, B from 65, C from 45.
    bands = dict(DEMO_GRADE_BANDS)

    # The quarter before last and last quarter: whole cycles, approved (two, so that who
    # was a bottom performer in both is an elimination candidate, PER-5).
    last = previous_quarter(today)
    year, q = int(last[:4]), int(last[-1])
    before_last = f"{year}-Q{q - 1}" if q > 1 else f"{year - 1}-Q4"
    for period in (before_last, last):
        cycle = _completed_cycle(period, hr, director, bands, rng)
    _interviews(cycle, today, rng)
    _improvements(cycle, today, rng)

    # This quarter: open, in self-assessment, a few done.
    current = services.cycle_open(by=hr.user, kind=PeriodKind.QUARTERLY,
                                  period=quarter_of(today), grade_bands=bands,
                                  distribution=DEFAULT_DISTRIBUTION,
                                  distribution_level="division", bottom_percent=Decimal(10))
    current = services.cycle_advance(cycle=current, by=hr.user)  # → self-assessment
    _self_assess([a for a in _people_of(current) if a.employee.user.username != "sales"],
                 rng, share=0.3, submit_share=0.6)


def _completed_cycle(period, hr, director, bands, rng):
    """A quarter's whole cycle through the services, approved through the engine."""
    from bizdept.sales.demo import _approve_all

    from . import services

    cycle = services.cycle_open(by=hr.user, kind=PeriodKind.QUARTERLY, period=period,
                                grade_bands=bands, distribution=DEFAULT_DISTRIBUTION,
                                distribution_level="division", bottom_percent=Decimal(10))
    cycle = services.cycle_advance(cycle=cycle, by=hr.user)  # → self-assessment
    _self_assess(_people_of(cycle), rng, share=0.9, submit_share=1.0)
    cycle = services.cycle_advance(cycle=cycle, by=hr.user)  # → manager review
    _review(_people_of(cycle), rng)
    cycle = services.cycle_advance(cycle=cycle, by=hr.user)  # → calibration
    _calibrate(cycle, director.user, rng)
    cycle = services.cycle_submit(cycle=cycle, by=hr.user, comment="季度考核结果，请审批")
    _approve_all(cycle)
    cycle.refresh_from_db()
    return cycle


# --- scale --------------------------------------------------------------------------------
def build_scale(ctx, size: str) -> None:
    build_scale_templates(size)


def build_scale_templates(size: str | None = None) -> list[ScorecardTemplate]:
    """The demo's templates (quarterly and annual, sales/lead/manager) in a scale
    department, made through the services by its HR login (else the director); those
    already there are left alone. Returns the templates made."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    by = (User.objects.filter(username="hr").first()
          or User.objects.filter(username="director").first())
    if by is None:
        return []
    with transaction.atomic():
        return ensure_templates(by)

