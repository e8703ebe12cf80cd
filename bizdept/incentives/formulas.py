"""The arithmetic of a bonus (INC-1): pure functions on Decimal, no database.

* **Base bonus** = base amount × coefficient, the coefficient looked up from the
  appraisal grade (``{"S": "1.5", …}``; a grade not listed: 0) or score (bands
  ``[{"from": "90", "coefficient": "1.5"}, …]``: the highest band reached; below all: 0).
* **Commission** on a measure's actual against its target, by tiers of achievement
  (``[{"from": "0", "rate": "0"}, {"from": "80", "rate": "3"}, …]``, rates in %, never
  falling from one tier to the next: 超额越多奖励越多). Tier *i* covers the amounts from
  ``target × from_i ÷ 100`` up to the next tier's start.

  - ``tiered``: each tier's rate on the part of the actual inside it (a marginal
    schedule, like income tax);
  - ``whole``: the rate of the tier the achievement reached, on the whole actual.

  No target (none in the plan, or 0) or an actual ≤ 0 earns no commission.
* **Gates** take away the base bonus, the commission or both: a KPI under a floor (a
  KPI without a value does not close its gate), or one of the listed grades.
* **Caps**: the commission cap, then the cap on the whole bonus.

Rounding: ROUND_HALF_UP to 0.01 on the base bonus and on each tier's commission; every
other figure is an exact sum of those, so a printed line adds up to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal("0.00")


def cents(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Tier:
    start: Decimal  # achievement % where the tier starts
    rate: Decimal  # % of the part inside it (tiered) or of the whole (whole)


@dataclass(frozen=True)
class Gate:
    kind: str  # "kpi_below" or "grade_in"
    blocks: str  # "base", "commission" or "all"
    kpi: str = ""
    floor: Decimal | None = None
    grades: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rules:
    """A plan's rules, read from its stored JSON (``Rules.of(plan)``)."""

    base_amount: Decimal
    coefficient_basis: str  # "grade" or "score"
    coefficients: dict | list
    commission_measure: str = ""
    commission_mode: str = "tiered"
    tiers: tuple[Tier, ...] = ()
    commission_cap: Decimal | None = None
    total_cap: Decimal | None = None
    gates: tuple[Gate, ...] = ()

    @classmethod
    def of(cls, plan) -> Rules:
        return cls(
            base_amount=Decimal(plan.base_amount),
            coefficient_basis=plan.coefficient_basis,
            coefficients=plan.coefficients,
            commission_measure=plan.commission_measure or "",
            commission_mode=plan.commission_mode,
            tiers=tuple(Tier(Decimal(t["from"]), Decimal(t["rate"])) for t in plan.tiers),
            commission_cap=None if plan.commission_cap is None else Decimal(plan.commission_cap),
            total_cap=None if plan.total_cap is None else Decimal(plan.total_cap),
            gates=tuple(Gate(kind=g["kind"], blocks=g["blocks"], kpi=g.get("kpi", ""),
                             floor=None if g.get("floor") is None else Decimal(g["floor"]),
                             grades=tuple(g.get("grades", ())))
                        for g in plan.gates))

    @property
    def gate_kpis(self) -> set[str]:
        return {g.kpi for g in self.gates if g.kind == "kpi_below"}


@dataclass(frozen=True)
class Inputs:
    grade: str = ""
    score: Decimal | None = None
    actual: Decimal | None = None  # the commission measure's figure for the period
    target: Decimal | None = None  # the person's realistic target for the period
    kpis: dict = field(default_factory=dict)  # gate KPI code → value (None: no value)


@dataclass
class TierStep:
    start: Decimal
    end: Decimal | None  # achievement % where the next tier starts (None: open)
    rate: Decimal
    lower: Decimal  # amounts: target × start ÷ 100
    upper: Decimal | None
    part: Decimal  # the part of the actual inside the tier (tiered) or the whole (whole)
    commission: Decimal


@dataclass
class Outcome:
    coefficient: Decimal
    coefficient_rule: str  # what was looked up: "A" or "≥ 90"
    base_bonus: Decimal
    achievement: Decimal | None
    steps: list[TierStep]
    commission: Decimal  # after gates and the commission cap
    gates_hit: list[Gate]
    cuts: list[tuple[str, Decimal, Decimal]]  # (which cap, the cap, the amount cut)
    total: Decimal
    no_commission_reason: str = ""  # "no_target", "no_actual", "none" (no measure)

    @property
    def capped_by(self) -> Decimal:
        return sum((cut for _, _, cut in self.cuts), ZERO)


def coefficient(rules: Rules, *, grade: str, score: Decimal | None) -> tuple[Decimal, str]:
    if rules.coefficient_basis == "grade":
        raw = rules.coefficients.get(grade) if grade else None
        return (Decimal(raw) if raw is not None else Decimal(0)), grade or "—"
    reached = None
    if score is not None:
        for band in rules.coefficients:  # stored highest first
            if score >= Decimal(band["from"]):
                reached = band
                break
    if reached is None:
        return Decimal(0), "—"
    return Decimal(reached["coefficient"]), f"≥ {reached['from']}"


def achievement(actual: Decimal | None, target: Decimal | None) -> Decimal | None:
    """actual ÷ target × 100, 2 places (the one definition, ``kpi.measures``)."""
    from bizdept.kpi.measures import achievement as measured

    return measured(actual, target)


def commission_steps(tiers: tuple[Tier, ...], mode: str, *, actual: Decimal,
                     target: Decimal) -> list[TierStep]:
    """Each tier with its bounds in money, the part of ``actual`` it pays on and what it
    pays (``target`` > 0, tiers starting at 0 with rates never falling)."""
    steps = []
    for i, tier in enumerate(tiers):
        end = tiers[i + 1].start if i + 1 < len(tiers) else None
        lower = target * tier.start / HUNDRED
        upper = None if end is None else target * end / HUNDRED
        if mode == "tiered":
            top = actual if upper is None else min(actual, upper)
            part = max(top - lower, Decimal(0))
        else:  # whole: only the tier the actual reached pays, on all of it
            reached = actual >= lower and (upper is None or actual < upper)
            part = actual if reached and actual > 0 else Decimal(0)
        steps.append(TierStep(start=tier.start, end=end, rate=tier.rate, lower=cents(lower),
                              upper=None if upper is None else cents(upper), part=cents(part),
                              commission=cents(part * tier.rate / HUNDRED)))
    return steps


def work_out(rules: Rules, inputs: Inputs) -> Outcome:
    """One person's bonus by ``rules`` from ``inputs``, with every step kept."""
    coef, looked_up = coefficient(rules, grade=inputs.grade, score=inputs.score)
    base = cents(rules.base_amount * coef)
    steps, reason = [], ""
    rate_of = None
    if not rules.commission_measure:
        reason = "none"
    elif inputs.target is None or inputs.target <= 0:
        reason = "no_target"
    elif inputs.actual is None or inputs.actual <= 0:
        reason = "no_actual"
    else:
        steps = commission_steps(rules.tiers, rules.commission_mode, actual=inputs.actual,
                                 target=inputs.target)
        rate_of = achievement(inputs.actual, inputs.target)
    commission = sum((s.commission for s in steps), ZERO)
    hit = [g for g in rules.gates if gate_hit(g, inputs)]
    blocked = {g.blocks for g in hit}
    if blocked & {"base", "all"}:
        base = ZERO
    if blocked & {"commission", "all"}:
        commission = ZERO
    cuts = []
    if rules.commission_cap is not None and commission > rules.commission_cap:
        cuts.append(("commission", rules.commission_cap, commission - rules.commission_cap))
        commission = rules.commission_cap
    total = base + commission
    if rules.total_cap is not None and total > rules.total_cap:
        cuts.append(("total", rules.total_cap, total - rules.total_cap))
        total = rules.total_cap
    return Outcome(coefficient=coef, coefficient_rule=looked_up, base_bonus=base,
                   achievement=rate_of, steps=steps, commission=commission, gates_hit=hit,
                   cuts=cuts, total=cents(total), no_commission_reason=reason)


def gate_hit(gate: Gate, inputs: Inputs) -> bool:
    if gate.kind == "grade_in":
        return bool(inputs.grade) and inputs.grade in gate.grades
    value = inputs.kpis.get(gate.kpi)
    return value is not None and gate.floor is not None and Decimal(value) < gate.floor
