"""Scope resolution (ORG-4) measured in-process: what every page and endpoint pays first.

Each iteration loads the user fresh from the database, so neither the scope nor the
capabilities cached on the user object help: this is the cost of a request's first
``visible_to(user)``. Timed: resolving the scope, counting the visible employees and
fetching the first page of 25, the way the employees list does.
"""

from __future__ import annotations

from time import perf_counter

from .report import Row, percentile

PERSONAS = [("director", "director"), ("lead", "lead1"), ("salesperson", "sales")]
PAGE_SIZE = 25


def measure(username: str, iterations: int = 200, warmup: int = 10) -> dict:
    """Median and p95 milliseconds of resolve + count + first page, and its query count.

    Queries are counted in one extra, untimed pass: CaptureQueriesContext turns on the
    debug cursor, which would add its own cost to the timings.
    """
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bizdept.org.models import Employee
    from bizdept.org.scope import scope_for

    User = get_user_model()
    domain = Employee.objects.all().scope_domain  # people records: Domain.PEOPLE

    def once():
        user = User.objects.get(username=username)  # cold: nothing cached on it
        start = perf_counter()
        scope_for(user, domain)
        qs = Employee.objects.visible_to(user)
        seen = qs.count()
        page = list(qs.with_card().order_by("number", "pk")[:PAGE_SIZE])
        return (perf_counter() - start) * 1000, seen, len(page)

    for _ in range(warmup):
        once()
    timings = []
    for _ in range(iterations):
        ms, seen, shown = once()
        timings.append(ms)

    user = User.objects.get(username=username)
    with CaptureQueriesContext(connection) as everything:
        with CaptureQueriesContext(connection) as resolving:
            scope_for(user, domain)
        qs = Employee.objects.visible_to(user)
        qs.count()
        list(qs.with_card().order_by("number", "pk")[:PAGE_SIZE])
    return {"median_ms": percentile(timings, 50), "p95_ms": percentile(timings, 95),
            "queries": len(everything), "scope_queries": len(resolving),
            "visible": seen, "page": shown, "iterations": iterations}


def scope_rows(size: str, iterations: int = 200) -> list[Row]:
    rows = []
    for label, username in PERSONAS:
        m = measure(username, iterations)
        rows.append(Row(
            name=f"scope resolution, {label}, size {size}",
            median_ms=m["median_ms"], p95_ms=m["p95_ms"], queries=m["queries"],
            visible=m["visible"],
            notes=(f"sees {m['visible']:,}; {m['scope_queries']} scope queries + count + "
                   f"page of {m['page']}; {iterations} runs, cold user"),
        ))
    return rows
