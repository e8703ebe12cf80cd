"""Target plans for the demo and the scale departments (TGT-1..4).

Both build every cell top-down, the way a department decomposes its targets: the
department's year, split into quarters progressively (each quarter 5% above the one
before) and each quarter evenly into months; then, month by month, each unit's value
among its child units and people in proportion to what they achieved (the last 12
months' actuals; nobody achieved anything: evenly); each node's quarters and year are
the sums of its months. Every sum of the plan holds by construction. The stretch target
is the realistic one plus a margin split the same way (expenses: minus), so stretch ≥
realistic (expenses ≤) holds in every cell.

* ``build_demo``: for the current year an approved plan of each metric (through the
  approval engine), sized on the demo records' last 12 months × 1.1–1.2; and a draft
  revenue plan for next year, split over its periods at the department's level.
* ``build_scale`` / ``build_scale_plans``: the same six approved plans for a scale
  department (size L: 2,000 people, 34,000 cells per plan), written with multi-row
  INSERTs; ``build_scale_plans`` also works on an existing scale database.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from bizdept.core.periods import quarter_months, year_quarters

from . import selectors, splits
from .choices import Metric, PlanStatus
from .models import TargetCell, TargetPlan

QUARTER_STEP = Decimal(5)  # percent, each quarter above the one before
GROWTH = (Decimal("1.10"), Decimal("1.20"))
STRETCH = {Metric.EXPENSES: Decimal("0.90")}  # the others: × 1.2
STRETCH_DEFAULT = Decimal("1.20")
# A year's figure per person when the records say nothing (a fresh department).
PER_PERSON = {Metric.REVENUE: Decimal(1_200_000), Metric.GROSS_MARGIN: Decimal(300_000),
              Metric.COLLECTIONS: Decimal(1_000_000), Metric.NEW_CUSTOMERS: Decimal(12),
              Metric.VISITS: Decimal(240), Metric.EXPENSES: Decimal(36_000)}
ROUND_TO = {Metric.REVENUE: 10_000, Metric.GROSS_MARGIN: 10_000, Metric.COLLECTIONS: 10_000,
            Metric.EXPENSES: 1_000, Metric.NEW_CUSTOMERS: 1, Metric.VISITS: 10}


def _places(metric) -> int:
    return 0 if metric in selectors.COUNT_METRICS else 2


def _months(year: int) -> list[str]:
    return [m for q in year_quarters(year) for m in quarter_months(q)]


def _department_months(total: Decimal, year: int, places: int) -> dict[str, Decimal]:
    quarters = splits.split_progressive(total, 4, step_percent=QUARTER_STEP, places=places)
    months = {}
    for quarter, value in zip(year_quarters(year), quarters, strict=True):
        months.update(zip(quarter_months(quarter),
                          splits.split_even(value, 3, places=places, remainder_to="first"),
                          strict=True))
    return months


def plan_cells(tree: selectors.PlanTree, *, year: int, total: Decimal, places: int,
               weights: dict[int, Decimal]) -> dict[tuple, Decimal]:
    """{(unit id, employee id or None, period): value} for the whole tree, every sum
    holding (see the module's docstring). ``weights``: a person's share (e.g. their
    actual); a unit weighs what the people counted under it do."""
    months = _months(year)
    top_down = sorted(tree.units, key=lambda uid: tree.units[uid].depth)
    unit_weight: dict[int, Decimal] = {}
    headcount: dict[int, int] = {}
    for uid in reversed(top_down):  # children first
        unit_weight[uid] = (sum((unit_weight[c.pk] for c in tree.child_units[uid]), Decimal(0))
                            + sum((max(weights.get(p.pk, Decimal(0)), Decimal(0))
                                   for p in tree.people[uid]), Decimal(0)))
        headcount[uid] = (sum(headcount[c.pk] for c in tree.child_units[uid])
                          + len(tree.people[uid]))
    cells: dict[tuple, Decimal] = {}
    for month, value in _department_months(total, year, places).items():
        cells[(tree.root.pk, None, month)] = value
    for uid in top_down:  # parents before children
        kids = [(c.pk, None, unit_weight[c.pk], headcount[c.pk])
                for c in tree.child_units[uid]]
        kids += [(uid, p.pk, max(weights.get(p.pk, Decimal(0)), Decimal(0)), 1)
                 for p in tree.people[uid]]
        if not kids:
            continue
        shares = [k[2] for k in kids]
        if not any(shares):  # nobody achieved anything: by headcount (empty units: none)
            shares = [k[3] for k in kids]
        for month in months:
            value = cells.get((uid, None, month), Decimal(0))
            parts = splits.split_weighted(value, shares, places=places,
                                          remainder_to="largest")
            for (kid_unit, kid_employee, *_w), part in zip(kids, parts, strict=True):
                cells[(kid_unit, kid_employee, month)] = part
    for unit_id, employee_id in list(tree.nodes()):
        year_total = Decimal(0)
        for quarter in year_quarters(year):
            q_total = sum((cells.get((unit_id, employee_id, m), Decimal(0))
                           for m in quarter_months(quarter)), Decimal(0))
            cells[(unit_id, employee_id, quarter)] = q_total
            year_total += q_total
        cells[(unit_id, employee_id, str(year))] = year_total
        for m in months:
            cells.setdefault((unit_id, employee_id, m), Decimal(0))
    return cells


def plan_pairs(tree, *, metric: str, year: int, realistic: Decimal, weights
               ) -> dict[tuple, tuple[Decimal, Decimal]]:
    """{node-period: (realistic, stretch)}: the lower figure and the margin to the higher
    one decomposed alike, so every cell keeps their order."""
    places = _places(metric)
    factor = STRETCH.get(metric, STRETCH_DEFAULT)
    quantum = Decimal(1).scaleb(-places)
    stretch = (realistic * factor).quantize(quantum)
    low, high = (stretch, realistic) if metric == Metric.EXPENSES else (realistic, stretch)
    lows = plan_cells(tree, year=year, total=low, places=places, weights=weights)
    extras = plan_cells(tree, year=year, total=high - low, places=places, weights=weights)
    out = {}
    for key, lo in lows.items():
        hi = lo + extras[key]
        out[key] = (hi, lo) if metric == Metric.EXPENSES else (lo, hi)
    return out


def _year_total(metric: str, actual: Decimal, people: int, rng) -> Decimal:
    growth = GROWTH[0] + (GROWTH[1] - GROWTH[0]) * Decimal(rng.randint(0, 100)) / 100
    base = actual if actual > 0 else PER_PERSON[metric] * max(people, 1)
    step = ROUND_TO[metric]
    value = (base * growth / step).to_integral_value() * step
    return Decimal(max(value, step)).quantize(Decimal(1).scaleb(-_places(metric)))


def _actuals(metric: str, today: datetime.date) -> dict[int, Decimal]:
    from bizdept.kpi.measures import measure

    try:
        return measure(metric).per_person(since=today - datetime.timedelta(days=364),
                                          until=today)
    except Exception:  # pragma: no cover - an app of the records missing: plan evenly
        return {}


# --- demo -----------------------------------------------------------------------------
def _approve_all(plan) -> None:
    from bizdept.sales.demo import _approve_all as approve

    approve(plan)


@transaction.atomic
def build_demo(ctx) -> None:
    from bizdept.approvals.demo import ensure_default_policies

    from . import services

    director = ctx.by_username.get("director")
    if director is None:
        return
    ensure_default_policies()
    year = ctx.today.year
    by = director.user
    for metric in Metric.values:
        plan = services.plan_create(by=by, fiscal_year=year, metric=metric)
        tree = selectors.plan_nodes(plan)
        weights = _actuals(metric, ctx.today)
        counted = set(tree.person_unit)
        total = _year_total(metric, sum((v for pk, v in weights.items() if pk in counted),
                                        Decimal(0)), len(counted), ctx.rng)
        pairs = plan_pairs(tree, metric=metric, year=year, realistic=total, weights=weights)
        services.plan_set_values(plan=plan, by=by, values=[
            {"unit": u, "employee": e, "period": p, "realistic": r, "stretch": s}
            for (u, e, p), (r, s) in pairs.items()])
        services.plan_submit(plan=plan, by=by, comment="年度目标")
        _approve_all(plan)
    # Next year's revenue plan, started: the department's year split over its periods.
    plan = services.plan_create(by=by, fiscal_year=year + 1, metric=Metric.REVENUE)
    current = selectors.plan_in_force(unit=plan.unit, year=year, metric=Metric.REVENUE)
    last = (TargetCell.objects.filter(plan=current, unit=plan.unit, employee__isnull=True,
                                      period=str(year)).values_list("realistic", flat=True)
            .first() if current else None) or Decimal(10_000_000)
    total = (last * Decimal("1.15") / 10_000).to_integral_value() * 10_000
    services.plan_set_values(plan=plan, by=by, values=[
        {"unit": plan.unit_id, "employee": None, "period": str(year + 1),
         "realistic": total, "stretch": (total * STRETCH_DEFAULT).quantize(Decimal("0.01"))}])
    services.plan_split(plan=plan, by=by, unit=plan.unit_id, period=str(year + 1),
                        across="periods_all", how="progressive", step_percent=QUARTER_STEP)


# --- scale ----------------------------------------------------------------------------
def build_scale(ctx, size: str) -> None:
    build_scale_plans(size, today=ctx.today, rng=ctx.rng)


def build_scale_plans(size: str | None = None, *, today: datetime.date | None = None,
                      rng=None) -> dict:
    """An approved plan of every metric for the current year of the scale department
    (the department the director heads, else the first department), with every unit's and
    person's 17 cells, written with multi-row INSERTs (no services, no history rows).
    Metrics that already have a plan that year are left alone. Returns {metric: cells}."""
    import random

    from bizdept.customers.demo import _insert_rows
    from bizdept.org.choices import UnitKind
    from bizdept.org.models import Employee, Unit

    today = today or timezone.localdate()
    rng = rng or random.Random(20260101)
    year = today.year
    director = (Employee.objects.filter(user__username="director").select_related("unit")
                .first())
    department = (Unit.objects.filter(head=director, kind=UnitKind.DEPARTMENT).first()
                  if director else None) or Unit.objects.filter(
        kind=UnitKind.DEPARTMENT).order_by("path").first()
    if department is None:
        return {}
    creator = director or department.head or Employee.objects.order_by("pk").first()
    if creator is None:
        return {}
    sqlite = connection.vendor == "sqlite"
    written = {}
    for metric in Metric.values:
        with transaction.atomic():
            if TargetPlan.objects.filter(unit=department, fiscal_year=year,
                                         metric=metric).exists():
                continue
            now = timezone.now()
            plan = TargetPlan.objects.create(
                fiscal_year=year, metric=metric, unit=department, version=1,
                status=PlanStatus.APPROVED, created_by=creator, submitted_at=now,
                approved_at=now)
            tree = selectors.plan_nodes(plan)
            weights = {pk: Decimal(rng.randint(60, 140)) for pk in tree.person_unit}
            total = _year_total(metric, Decimal(0), len(tree.person_unit), rng)
            pairs = plan_pairs(tree, metric=metric, year=year, realistic=total,
                               weights=weights)
            rows = [(plan.pk, u, e, p, str(r) if sqlite else r, str(s) if sqlite else s)
                    for (u, e, p), (r, s) in pairs.items()]
            _insert_rows(TargetCell, ["plan", "unit", "employee", "period", "realistic",
                                      "stretch"], rows)
            written[metric] = len(rows)
    return written
