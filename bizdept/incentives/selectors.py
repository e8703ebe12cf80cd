"""Every read of the incentives app (INC-1..3), starting from the acting user.

Bonus plans are the department's rules: everyone working in it reads the versions in
force and superseded (a salesperson sees how they are paid); drafts and plans in
approval are read by those who keep them (``services.can_manage``). Runs are the
department's; their lines are pay, read by the money scope rule: the person, the heads
above them, finance and the director (``BonusLine.objects.visible_to``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.http import Http404

from bizdept.appraisal.choices import CycleStatus, ItemKind, TargetSource
from bizdept.appraisal.selectors import _may_read
from bizdept.core.money import to_cents
from bizdept.org.choices import Capability
from bizdept.org.scope import capabilities_of, employee_of

from . import formulas
from .choices import PlanStatus
from .models import Award, BonusLine, BonusPlan, BonusRun, HonorTitle

PUBLISHED = (PlanStatus.APPROVED, PlanStatus.SUPERSEDED)


def _department_ids(user) -> list[int] | None:
    """The units above the user (their department among them); None: every one."""
    if Capability.ADMINISTER in capabilities_of(user):
        return None
    return employee_of(user).unit.ancestor_ids()


# --- plans ------------------------------------------------------------------------------
def plan_list(*, user):
    """The plans the user may read, with their position."""
    from . import services

    rows = BonusPlan.objects.select_related("position", "created_by")
    if not _may_read(user):
        return rows.none()
    return rows if services.can_manage(user) else rows.filter(status__in=PUBLISHED)


def plan_detail(*, user, pk) -> BonusPlan:
    try:
        return plan_list(user=user).get(pk=pk)
    except (BonusPlan.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def plans_in_force(period_kind: str) -> dict[int, BonusPlan]:
    """{position id: the plan in force} for quarterly or annual cycles."""
    return {plan.position_id: plan for plan in BonusPlan.objects.filter(
        status=PlanStatus.APPROVED, period_kind=period_kind)}


def plan_in_force(plan: BonusPlan) -> BonusPlan | None:
    """The version in force of ``plan``'s position and period (maybe ``plan`` itself)."""
    return BonusPlan.objects.filter(position_id=plan.position_id, period_kind=plan.period_kind,
                                    status=PlanStatus.APPROVED).first()


# --- working a bonus out ------------------------------------------------------------------
def _text(value) -> str | None:
    return None if value is None else str(value)


@dataclass
class _Person:
    appraisal_id: int
    employee_id: int
    unit_id: int
    position_id: int
    grade: str
    score: Decimal | None


def _people(cycle, position_ids) -> list[_Person]:
    from bizdept.appraisal.models import Appraisal

    rows = (Appraisal.objects.filter(cycle=cycle, template__position_id__in=position_ids)
            .order_by("pk").values_list("pk", "employee_id", "unit_id",
                                        "template__position_id", "grade", "total_score"))
    return [_Person(*row) for row in rows]


def _figures(cycle, people: list[_Person], codes: set[str]):
    """{(employee id, code): (value, source)} and {(employee id, code): (target, source,
    ref)}: the appraisal's frozen line when it has one for the KPI, else the records (and
    the approved target plan) over the cycle's period. A few queries per code."""
    from bizdept.appraisal.models import AppraisalLine
    from bizdept.kpi import measures
    from bizdept.targets.choices import PlanStatus as TargetPlanStatus
    from bizdept.targets.models import TargetCell

    by_appraisal = {p.appraisal_id: p.employee_id for p in people}
    values, targets = {}, {}
    for appraisal_id, code, actual, target, source in (
            AppraisalLine.objects.filter(appraisal__cycle=cycle, kind=ItemKind.KPI,
                                         kpi_code__in=codes)
            .order_by("sort_order").values_list("appraisal_id", "kpi_code", "actual",
                                                "target", "target_source")):
        person = by_appraisal.get(appraisal_id)
        if person is None or (person, code) in values:
            continue
        values[(person, code)] = (actual, "appraisal", appraisal_id)
        if source == TargetSource.PLAN:
            targets[(person, code)] = (target, "appraisal", appraisal_id)
    everyone = [p.employee_id for p in people]
    for code in sorted(codes):
        missing = [e for e in everyone if (e, code) not in values]
        measure = measures.KPIS.get(code)
        if not missing or measure is None:
            continue
        if isinstance(measure, measures._Derived):
            found = measure.parts(since=cycle.since, until=cycle.until, employee_ids=missing)
            read = {p: measure.combine(*row) for p, row in found.items() if p is not None}
            for person in missing:
                values[(person, code)] = (read.get(person), "records", None)
        else:
            read = measure.per_person(since=cycle.since, until=cycle.until,
                                      employee_ids=missing)
            for person in missing:
                values[(person, code)] = (read.get(person, measure.zero), "records", None)
    planned = {code for code in codes if code in measures.MEASURES}
    wanted = [e for e in everyone for code in planned if (e, code) not in targets]
    if wanted:
        for code, person, realistic, plan_id in TargetCell.objects.filter(
                plan__status=TargetPlanStatus.APPROVED, plan__unit=cycle.unit,
                plan__fiscal_year=cycle.since.year, plan__metric__in=planned,
                period=cycle.period, employee_id__in=set(wanted)
        ).values_list("plan__metric", "employee_id", "realistic", "plan_id"):
            targets.setdefault((person, code), (realistic, "plan", plan_id))
    return values, targets


def _explain(plan: BonusPlan, rules: formulas.Rules, person: _Person, inputs, actual_src,
             target_src, kpi_srcs, outcome: formulas.Outcome, cycle) -> dict:
    hit = set(map(id, outcome.gates_hit))
    blocked = {g.blocks for g in outcome.gates_hit}
    return {
        "plan": {"id": plan.pk, "name": plan.name, "number": plan.number},
        "rounding": "ROUND_HALF_UP 0.01",
        "period": {"since": cycle.since.isoformat(), "until": cycle.until.isoformat()},
        "inputs": {
            "grade": {"value": person.grade, "source": "appraisal",
                      "ref": person.appraisal_id},
            "score": {"value": _text(person.score), "source": "appraisal",
                      "ref": person.appraisal_id},
            "actual": {"code": rules.commission_measure, "value": _text(inputs.actual),
                       "source": actual_src[0], "ref": actual_src[1]},
            "target": {"code": rules.commission_measure, "value": _text(inputs.target),
                       "source": target_src[0], "ref": target_src[1]},
            "kpis": [{"code": code, "value": _text(inputs.kpis.get(code)),
                      "source": src[0], "ref": src[1]} for code, src in kpi_srcs.items()],
        },
        "base": {"amount": str(rules.base_amount), "basis": rules.coefficient_basis,
                 "looked_up": outcome.coefficient_rule, "coefficient": str(outcome.coefficient),
                 "result": str(formulas.cents(rules.base_amount * outcome.coefficient)),
                 "blocked": bool(blocked & {"base", "all"})},
        "commission": {
            "measure": rules.commission_measure, "mode": rules.commission_mode,
            "achievement": _text(outcome.achievement), "reason": outcome.no_commission_reason,
            "steps": [{"from": str(s.start), "to": _text(s.end), "rate": str(s.rate),
                       "lower": str(s.lower), "upper": _text(s.upper), "part": str(s.part),
                       "commission": str(s.commission)} for s in outcome.steps],
            "sum": str(sum((s.commission for s in outcome.steps), formulas.ZERO)),
            "blocked": bool(blocked & {"commission", "all"})},
        "gates": [{"kind": g.kind, "kpi": g.kpi, "floor": _text(g.floor),
                   "grades": list(g.grades), "blocks": g.blocks, "hit": id(g) in hit,
                   "value": (person.grade if g.kind == "grade_in"
                             else _text(inputs.kpis.get(g.kpi)))}
                  for g in rules.gates],
        "caps": [{"which": which, "cap": str(cap), "cut": str(cut)}
                 for which, cap, cut in outcome.cuts],
        "total": str(outcome.total),
    }


def bonus_lines_for(cycle, plans: dict[int, BonusPlan] | None = None) -> list[BonusLine]:
    """Unsaved lines of everyone in ``cycle`` whose position has a plan in ``plans``
    ({position id: plan}; default: the plans in force), each with its explanation, in a
    constant number of queries (a few per KPI the plans read)."""
    if plans is None:
        plans = plans_in_force(cycle.kind)
    if not plans:
        return []
    rules = {position: formulas.Rules.of(plan) for position, plan in plans.items()}
    people = _people(cycle, list(plans))
    codes = set()
    for rule in rules.values():
        codes |= rule.gate_kpis
        if rule.commission_measure:
            codes.add(rule.commission_measure)
    values, targets = _figures(cycle, people, codes)
    lines = []
    for person in people:
        plan, rule = plans[person.position_id], rules[person.position_id]
        code = rule.commission_measure
        actual_src = values.get((person.employee_id, code), (None, "", None))
        target_src = targets.get((person.employee_id, code), (None, "", None))
        kpi_srcs = {c: values.get((person.employee_id, c), (None, "", None))[1:]
                    for c in sorted(rule.gate_kpis)}
        inputs = formulas.Inputs(
            grade=person.grade, score=person.score,
            actual=actual_src[0] if code else None, target=target_src[0] if code else None,
            kpis={c: values.get((person.employee_id, c), (None,))[0] for c in rule.gate_kpis})
        outcome = formulas.work_out(rule, inputs)
        lines.append(BonusLine(
            employee_id=person.employee_id, unit_id=person.unit_id,
            appraisal_id=person.appraisal_id, plan=plan, grade=person.grade,
            score=person.score, coefficient=outcome.coefficient,
            base_bonus=outcome.base_bonus, actual=inputs.actual, target=inputs.target,
            achievement=outcome.achievement, commission=outcome.commission,
            capped_by=outcome.capped_by, total=outcome.total,
            explanation=_explain(plan, rule, person, inputs, actual_src[1:], target_src[1:],
                                 kpi_srcs, outcome, cycle)))
    return lines


# --- what-if ----------------------------------------------------------------------------
@dataclass
class WhatIfRow:
    employee: object
    unit: object
    grade: str
    current: Decimal | None  # by the plan in force (None: no plan in force)
    draft: Decimal
    line: BonusLine  # the draft's line, with its explanation

    @property
    def change(self) -> Decimal:
        return self.draft - (self.current or Decimal("0.00"))


@dataclass
class WhatIf:
    plan: BonusPlan
    current_plan: BonusPlan | None
    cycle: object
    rows: list[WhatIfRow]

    @property
    def current_total(self) -> Decimal:
        return sum((r.current or Decimal("0.00") for r in self.rows), Decimal("0.00"))

    @property
    def draft_total(self) -> Decimal:
        return sum((r.draft for r in self.rows), Decimal("0.00"))

    @property
    def change(self) -> Decimal:
        return self.draft_total - self.current_total

    @property
    def raised(self) -> int:
        return sum(1 for r in self.rows if r.change > 0)

    @property
    def lowered(self) -> int:
        return sum(1 for r in self.rows if r.change < 0)


def what_if_cycles(*, user):
    """The approved cycles of the user's department a plan can be tried on."""
    from bizdept.appraisal.selectors import cycle_list

    return cycle_list(user=user).filter(status=CycleStatus.APPROVED)


def what_if(*, user, plan: BonusPlan, cycle) -> WhatIf:
    """``plan`` (any version, usually a draft) worked out on ``cycle``'s people of its
    position, beside the plan in force: each person's bonus, the change and the totals.
    Nothing is written. For those who keep the plans only (404 otherwise)."""
    from bizdept.org.models import Employee, Unit

    from . import services

    if not services.can_manage(user):
        raise Http404
    current = plan_in_force(plan)
    drafted = {line.employee_id: line
               for line in bonus_lines_for(cycle, {plan.position_id: plan})}
    now = ({} if current is None else
           {line.employee_id: line.total
            for line in bonus_lines_for(cycle, {current.position_id: current})})
    people = Employee.objects.in_bulk(list(drafted))
    units = Unit.objects.in_bulk({line.unit_id for line in drafted.values()})
    rows = [WhatIfRow(employee=people[e], unit=units[line.unit_id], grade=line.grade,
                      current=now.get(e), draft=line.total, line=line)
            for e, line in drafted.items()]
    rows.sort(key=lambda r: (r.unit.path, r.employee.name, r.employee.pk))
    return WhatIf(plan=plan, current_plan=current, cycle=cycle, rows=rows)


# --- runs --------------------------------------------------------------------------------
def run_list(*, user):
    """The runs of the user's department (an administrator: all), with their cycle."""
    rows = BonusRun.objects.select_related("cycle", "cycle__unit", "created_by")
    if not _may_read(user):
        return rows.none()
    units = _department_ids(user)
    return rows if units is None else rows.filter(cycle__unit_id__in=units)


def with_seen_totals(runs, *, user):
    """``runs`` with ``seen_people`` and ``seen_total``: the count and total of the lines
    ``user`` may see in each (a head sees their subtree's share of a run, not all of it)."""
    seen = line_list(user=user).filter(run=OuterRef("pk")).order_by().values("run")
    return runs.annotate(seen_people=Subquery(seen.annotate(n=Count("pk")).values("n")),
                         seen_total=Subquery(seen.annotate(s=Sum("total")).values("s")))


def run_detail(*, user, pk) -> BonusRun:
    try:
        return run_list(user=user).get(pk=pk)
    except (BonusRun.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def line_list(*, user, run=None):
    """The bonus lines the user may see, with what a table shows: pay is money, so the
    person, the heads above them, finance and the director (the money scope); and those
    who make the runs (HR) the lines of their department's runs."""
    from . import services

    if not _may_read(user):
        return BonusLine.objects.none()
    if services.can_manage(user):
        rows = BonusLine.objects.filter(run__in=run_list(user=user).values("pk"))
    else:
        rows = BonusLine.objects.visible_to(user)
    rows = rows.select_related("employee", "unit", "plan", "run", "run__cycle")
    return rows if run is None else rows.filter(run=run)


def line_detail(*, user, pk) -> BonusLine:
    try:
        return line_list(user=user).select_related("appraisal").get(pk=pk)
    except (BonusLine.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def my_lines(*, user):
    """The user's own bonus lines, newest run first."""
    me = employee_of(user)
    if me is None:
        return BonusLine.objects.none()
    return line_list(user=user).filter(employee=me).order_by("-run__cycle__since", "-pk")


def run_totals(*, user, run) -> dict:
    """What the user sees of a run added up: people, base, commission, cuts, total."""
    found = line_list(user=user, run=run).order_by().aggregate(
        base=Sum("base_bonus"), commission=Sum("commission"), cut=Sum("capped_by"),
        total=Sum("total"))
    return {"people": line_list(user=user, run=run).count(),
            **{k: to_cents(v) for k, v in found.items()}}  # SQLite sums as REAL


def unpaid_count(run) -> int:
    """People appraised in the run's cycle without a line (no plan in force then)."""
    from bizdept.appraisal.models import Appraisal

    return (Appraisal.objects.filter(cycle_id=run.cycle_id)
            .exclude(Q(pk__in=BonusLine.objects.filter(run=run).values("appraisal_id")))
            .count())


# === Awards (INC-3) =======================================================================
# Awards are people records (``Award.objects.visible_to``: the person, the heads above
# them, HR and the director). One's own record shows one's awards once confirmed;
# proposals and declined ones are read by those above and by HR and the director.


def title_list(*, user):
    """The honor titles (everyone working in the department reads them)."""
    rows = HonorTitle.objects.select_related("position")
    return rows if _may_read(user) else rows.none()


def title_detail(*, user, pk) -> HonorTitle:
    try:
        return title_list(user=user).get(pk=pk)
    except (HonorTitle.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def award_list(*, user):
    """The awards the user may see, with what a table shows."""
    from .choices import AwardStatus

    rows = (Award.objects.visible_to(user)
            .select_related("employee", "employee__unit", "title", "cycle", "proposed_by",
                            "decided_by"))
    if not _may_read(user):
        return rows.none()
    me = employee_of(user)
    if me is not None:
        rows = rows.exclude(Q(employee=me) & ~Q(status=AwardStatus.CONFIRMED))
    return rows


def award_detail(*, user, pk) -> Award:
    try:
        return award_list(user=user).get(pk=pk)
    except (Award.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def awards_of(*, user, employee):
    """One person's awards as the user may see them, newest first (their record's panel)."""
    return award_list(user=user).filter(employee=employee).order_by("-period", "-proposed_at",
                                                                    "-pk")


def award_cycles(*, user):
    """The approved cycles of the user's department awards may be proposed from."""
    return what_if_cycles(user=user).order_by("-since", "-pk")


def evidence_text(award) -> str:
    """Why an award was proposed, in words: "第 1 名 / 上海一所, 营收 ¥123,456.00" or
    "连续 3 个季度 S/A: 2026-Q1 A, 2026-Q2 S, 2026-Q3 A"."""
    from django.utils.translation import gettext as _

    from bizdept.kpi import measures

    from .choices import APPRAISAL_SCORE, RankingUnit

    evidence = award.evidence or {}
    if "streak" in evidence:
        cycles = ", ".join(f"{c['period']} {c['grade']}" for c in evidence["streak"])
        kind = (_("quarters") if award.cycle and award.cycle.kind == "quarterly"
                else _("years"))
        return _("%(n)s %(kind)s in a row graded S or A: %(cycles)s") % {
            "n": len(evidence["streak"]), "kind": kind, "cycles": cycles}
    if "rank" in evidence:
        basis = evidence.get("basis")
        value = evidence.get("value")
        if basis == APPRAISAL_SCORE:
            label, shown = _("appraisal total score"), value
        else:
            measure = measures.KPIS.get(basis)
            label = str(measure.label) if measure else basis
            unit_of = getattr(measure, "unit", None)
            shown = (f"¥{to_cents(value):,.2f}" if unit_of == measures.MONEY
                     else f"{value} %" if unit_of == measures.PERCENT else value)
        unit = (evidence.get("unit") or {}).get("name", "")
        per = RankingUnit(evidence["per"]).label if evidence.get("per") in RankingUnit.values \
            else ""
        text = _("No. %(rank)s of %(of)s in %(unit)s (%(per)s), %(label)s %(value)s") % {
            "rank": evidence["rank"], "of": evidence.get("of", "?"), "unit": unit,
            "per": per, "label": label, "value": shown}
        if evidence.get("tied", 1) > 1:
            text += _("; tied with %s others") % (evidence["tied"] - 1)
        if evidence.get("beyond_top"):
            text += _("; tied at the boundary, so more than the top %s are proposed") % (
                evidence.get("top"))
        return text
    return ""
