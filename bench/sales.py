"""Receivables aging (SAL-6) and the opportunity funnel (SAL-2) measured in-process, on
the scale data of ``bizdept.sales.demo.build_scale_deals`` (size L: 400,000 contracts,
about 1,000,000 payments, 100,000 opportunities).

Timed like the scope rows: each run loads the user fresh (nothing cached on it); the
query count comes from one extra, untimed run with CaptureQueriesContext (which turns on
the debug cursor and would add its own cost to the timings).
"""

from __future__ import annotations

from .report import Row, time_as

DIRECTOR = "director"
DIVISION_HEAD = "manager1"  # the head of the first division (bizdept.org.demo.build_scale)


def aging_row(size: str, iterations: int = 5, warmup: int = 1) -> Row:
    from bizdept.sales import selectors
    from bizdept.sales.models import PaymentPlan

    m = time_as(DIRECTOR, lambda user: selectors.receivables_aging(user=user), iterations,
                warmup)
    report = m["result"]
    instalments = PaymentPlan.objects.filter(
        contract__status__in=selectors.RECEIVABLE).count()
    return Row(
        name=f"receivables aging, director, size {size}",
        median_ms=m["median_ms"], p95_ms=m["p95_ms"], queries=m["queries"],
        visible=instalments,
        notes=(f"{instalments:,} instalments, FIFO in SQL; {report.overdue.count():,} overdue, "
               f"{len(report.rows):,} people; overdue {report.overdue_total:,.0f}; "
               f"{iterations} runs, cold user"),
    )


def funnel_row(size: str, iterations: int = 20, warmup: int = 2) -> Row | None:
    import datetime

    from django.utils import timezone

    from bizdept.org.models import Employee
    from bizdept.sales import selectors

    head = Employee.objects.filter(user__username=DIVISION_HEAD).select_related("unit").first()
    if head is None:  # no such login at this size: no funnel row
        return None
    unit = head.unit
    since = datetime.date(timezone.localdate().year, 1, 1)

    def call(user):
        return selectors.opportunity_funnel(user=user, unit=unit, since=since)

    m = time_as(DIVISION_HEAD, call, iterations, warmup)
    funnel = m["result"]
    return Row(
        name=f"opportunity funnel, division, size {size}",
        median_ms=m["median_ms"], p95_ms=m["p95_ms"], queries=m["queries"],
        visible=funnel.total,
        notes=(f"{DIVISION_HEAD} on {unit.name}, since {since}: {funnel.total:,} "
               f"opportunities, {funnel.won:,} won; {iterations} runs, cold user"),
    )


def sales_rows(size: str, aging_runs: int = 5, funnel_runs: int = 20) -> list[Row]:
    rows = [aging_row(size, aging_runs)]
    funnel = funnel_row(size, funnel_runs)
    if funnel is not None:
        rows.append(funnel)
    return rows
