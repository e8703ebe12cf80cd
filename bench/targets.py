"""Target tracking (TGT-5) at scale: every person and unit of the department, one quarter,
all six metrics, as the director opens it — against the same figures computed the naive
way in the same run (one ORM query per person per metric), with the ratio of the two and
a check that both give identical numbers.

The tracking reads each metric with one grouped aggregate (``bizdept.kpi.measures``), so
its query count does not grow with the people; the naive way makes 6 × people queries.
Timed like the other in-process rows (a cold user per run); queries counted in one extra,
untimed run.
"""

from __future__ import annotations

from decimal import Decimal
from time import perf_counter

from .report import Row, percentile

DIRECTOR = "director"


def ensure_plans(size: str) -> int:
    """The approved plans of the current year (``targets.demo.build_scale_plans``) when the
    database has none yet (an L database built before the targets app); returns the plans."""
    from bizdept.targets.models import TargetPlan

    if not TargetPlan.objects.exists():
        try:
            from bizdept.targets.demo import build_scale_plans
        except ImportError:  # the plans part is not there: actuals only
            return 0
        build_scale_plans(size)
    return TargetPlan.objects.count()


def _all_metrics(user, period):
    from bizdept.targets import selectors
    from bizdept.targets.choices import Metric

    return {metric: selectors.tracking(user=user, metric=metric, period=period)
            for metric in Metric.values}


def naive_figures(people: list[int], since, until) -> dict[str, dict[int, Decimal]]:
    """The six figures per person, one ORM query per person per metric (the way a page
    without the measures would compute them), exact (Decimal, rounded to the cent)."""
    from django.db.models import Sum

    from bizdept.core.money import to_cents
    from bizdept.customers.models import Customer, Visit
    from bizdept.kpi.measures import local_range
    from bizdept.sales.choices import CONTRACT_COUNTED, EXPENSE_SPENT
    from bizdept.sales.models import Contract, ContractLine, ExpenseClaim, Payment
    from bizdept.sales.pricing import line_amount

    start, end = local_range(since, until)
    out: dict[str, dict[int, Decimal]] = {m: {} for m in (
        "revenue", "gross_margin", "collections", "new_customers", "visits", "expenses")}
    for pk in people:
        out["revenue"][pk] = to_cents(Contract.objects.filter(
            owner_id=pk, status__in=CONTRACT_COUNTED, signed_on__range=(since, until))
            .aggregate(t=Sum("total"))["t"])
        lines = ContractLine.objects.filter(
            contract__owner_id=pk, contract__status__in=CONTRACT_COUNTED,
            contract__signed_on__range=(since, until)).values_list(
            "amount", "quantity", "unit_cost")
        out["gross_margin"][pk] = sum((to_cents(a) - line_amount(c, q) for a, q, c in lines),
                                      Decimal("0.00"))
        out["collections"][pk] = to_cents(Payment.objects.filter(
            contract__owner_id=pk, received_on__range=(since, until))
            .aggregate(t=Sum("amount"))["t"])
        out["new_customers"][pk] = Decimal(Customer.objects.filter(
            owner_id=pk, created_at__gte=start, created_at__lt=end).count())
        out["visits"][pk] = Decimal(Visit.objects.filter(
            employee_id=pk, visited_at__gte=start, visited_at__lt=end).count())
        out["expenses"][pk] = to_cents(ExpenseClaim.objects.filter(
            employee_id=pk, status__in=EXPENSE_SPENT, spent_on__range=(since, until))
            .aggregate(t=Sum("amount"))["t"])
    return out


def tracking_rows(size: str, iterations: int = 3, naive_runs: int = 1) -> list[Row]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bizdept.core.periods import quarter_of

    User = get_user_model()
    if not User.objects.filter(username=DIRECTOR).exists():
        return []
    plans = ensure_plans(size)
    period = quarter_of(timezone.localdate())

    _all_metrics(User.objects.get(username=DIRECTOR), period)  # warm up
    timings, reports = [], {}
    for _ in range(iterations):
        user = User.objects.get(username=DIRECTOR)
        start = perf_counter()
        reports = _all_metrics(user, period)
        timings.append((perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as captured:
        _all_metrics(User.objects.get(username=DIRECTOR), period)
    queries = len(captured)

    first = next(iter(reports.values()))
    people = [row.employee.pk for row in first.people]
    units = sum(1 for row in first.rows if row.kind == "unit")
    naive_ms, naive = [], {}
    for _ in range(naive_runs):
        start = perf_counter()
        naive = naive_figures(people, first.since, first.until)
        naive_ms.append((perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as captured:
        naive_figures(people[:10], first.since, first.until)
    naive_queries = len(captured) * len(people) // max(len(people[:10]), 1)

    mismatches = 0
    for metric, report in reports.items():
        for row in report.people:
            if row.actual != naive[metric].get(row.employee.pk, row.actual.__class__(0)):
                mismatches += 1
    same = "identical figures" if mismatches == 0 else f"{mismatches} FIGURES DIFFER"
    median, naive_median = percentile(timings, 50), percentile(naive_ms, 50)
    ratio = naive_median / median if median else float("inf")
    cells = sum(1 for report in reports.values() for row in report.rows if row.has_target)
    return [
        Row(name=f"tracking, {len(people):,} people + {units} units, {period}, 6 metrics",
            median_ms=median, p95_ms=percentile(timings, 95), queries=queries,
            visible=len(people),
            notes=(f"director; one grouped aggregate per metric; {plans} plans, {cells:,} "
                   f"rows with a target; {iterations} runs, cold user; {ratio:,.0f}× faster "
                   f"than naive; {same}")),
        Row(name=f"same figures naive (1 query per person per metric), {period}",
            median_ms=naive_median, p95_ms=max(naive_ms), queries=naive_queries,
            visible=len(people),
            notes=f"{len(people):,} people × 6 metrics; {naive_runs} run(s); {same}"),
    ]
