"""A bonus run (INC-2) at scale: every person of an approved quarterly appraisal cycle
whose position has a bonus plan in force (size L: 2,000 people), through the services:

    run_create           ``run_create``: every input read (appraisal lines, KPI measures,
                         target cells), each line worked out with its explanation and
                         written (bulk), the totals
    run_recompute        ``run_recompute``: the same again, the old lines replaced
    run page, reads      what the run page reads: lines page 1 (50, sorted), the totals,
                         the people without a plan (``selectors``)
    run page, rendered   GET the run page through ``RunDetailPage`` (the director)
    payroll export       GET the payroll workbook through ``run_export`` (the director)
    what-if              ``selectors.what_if``: a v2 draft of the salesperson's plan
                         against the plan in force, on the same cycle (nothing written)

The approved cycle comes from bench/appraisal.py's machinery (open, advance, a review per
person, submit, approve: untimed), the plans from ``bizdept.incentives.demo.ensure_plans``
(drafted by HR, approved through the engine), all in one transaction rolled back at the
end, so the database is left as it was. Each repetition of the steps runs in a savepoint
rolled back after it. Seconds, SQL statements (an execute wrapper: no ceiling), the peak
of Python allocations (tracemalloc, a first repetition with it on) and the process's peak
RSS, as in bench/appraisal.py.

    python -m bench.incentives [--size L] [--runs 1] [--no-memory] [--database-url URL]
                               [--markdown]
"""

from __future__ import annotations

import random
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from decimal import Decimal

from .report import Row, percentile

STEPS = ("run_create", "run_recompute", "run page, reads", "run page, rendered",
         "payroll export", "what-if")
RUNNER, VIEWER = "hr", "director"  # HR makes the run; the director reads it


@dataclass
class Step:
    seconds: list = field(default_factory=list)
    queries: int | None = None
    traced_mb: float | None = None
    rss_mb: float | None = None


class _Rollback(Exception):
    pass


def approved_cycle(period: str, seed: int = 7):
    """A quarterly cycle of everyone with a scorecard, brought to approved through the
    services (inside the caller's transaction)."""
    from bizdept.appraisal import services

    from . import appraisal

    runner, _approver = appraisal._users()
    cycle = services.cycle_open(by=runner, kind="quarterly", period=period, distribution=[],
                                distribution_level="division", bottom_percent=Decimal(10))
    for _ in range(2):  # → self-assessment → manager review
        cycle = services.cycle_advance(cycle=cycle, by=runner)
    appraisal._reviews(cycle, random.Random(seed))
    cycle = services.cycle_advance(cycle=cycle, by=runner)  # → calibration
    cycle = services.cycle_submit(cycle=cycle, by=runner)
    appraisal._approve(cycle)
    cycle.refresh_from_db()
    assert cycle.status == "approved", cycle.status
    return cycle


def plans(runner) -> tuple[dict, object]:
    """The demo's plans in force, and a v2 draft of the salesperson's for the what-if."""
    from bizdept.incentives import demo, services

    found = demo.ensure_plans(runner)
    draft = services.plan_new_version(plan=found["sales"], by=runner)
    draft = services.plan_update(plan=draft, by=runner, tiers=demo.TIERS_V2)
    return found, draft


def _request(view, user, path, **kwargs):
    """GET ``path`` as ``user`` through ``view`` (session and messages in memory only;
    static URLs unhashed: the bench has no collectstatic manifest, as bench/reports.py)."""
    from django.conf import settings
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.signed_cookies import SessionStore
    from django.test import RequestFactory, override_settings

    request = RequestFactory().get(path, HTTP_HOST="127.0.0.1")
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    plain = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(STORAGES=plain):
        response = view(request, **kwargs)
        assert response.status_code == 200, response.status_code
        if getattr(response, "streaming", False):
            return b"".join(response.streaming_content)
        if hasattr(response, "render"):
            response.render()
        return response.content


def _page_reads(user, run) -> int:
    from bizdept.incentives import selectors

    page = list(selectors.line_list(user=user, run=run)
                .order_by("unit__name", "employee__name", "pk")[:50])
    selectors.run_totals(user=user, run=run)
    selectors.unpaid_count(run)
    return len(page)


def _steps(cycle, draft, runner, viewer, *, instrument: bool) -> tuple[dict, dict]:
    """One repetition of the steps in a savepoint rolled back after it: ({step: (seconds,
    queries, traced MB, RSS MB)}, facts)."""
    from django.db import connection, transaction
    from django.urls import reverse

    from bizdept.incentives import selectors, services, views
    from bizdept.incentives.models import BonusLine

    from .appraisal import _QueryCounter, _rss_mb

    out, facts, state = {}, {}, {}

    def measure(name, call):
        counter = _QueryCounter()
        if instrument:
            tracemalloc.start()
            tracemalloc.reset_peak()
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            result = call()
            seconds = time.perf_counter() - started
        traced = None
        if instrument:
            traced = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        out[name] = (seconds, counter.count, traced, _rss_mb())
        return result

    try:
        with transaction.atomic():
            run = measure("run_create", lambda: services.run_create(by=runner, cycle=cycle))
            state["run"] = measure("run_recompute",
                                   lambda: services.run_recompute(run=run, by=runner))
            measure("run page, reads", lambda: _page_reads(viewer, state["run"]))
            path = reverse("incentives:run_detail", args=[run.pk])
            html = measure("run page, rendered", lambda: _request(
                views.RunDetailPage.as_view(), viewer, path, pk=run.pk))
            path = reverse("incentives:run_export", args=[run.pk])
            workbook = measure("payroll export",
                               lambda: _request(views.run_export, viewer, path, pk=run.pk))
            tried = measure("what-if", lambda: selectors.what_if(user=viewer, plan=draft,
                                                                 cycle=cycle))
            lines = BonusLine.objects.filter(run=run)
            run.refresh_from_db()
            facts.update(
                people=run.people, total=run.total,
                commission=lines.filter(commission__gt=0).count(),
                capped=lines.filter(capped_by__gt=0).count(),
                html_kb=len(html) / 1024, xlsx_kb=len(workbook) / 1024,
                what_if_rows=len(tried.rows), what_if_change=tried.change,
                raised=tried.raised)
            raise _Rollback
    except _Rollback:
        pass
    return out, facts


def run_rows(size: str, runs: int = 1, period: str | None = None,
             memory: bool = True) -> list[Row]:
    """The table's rows, one per step. ``runs`` timed repetitions (queries counted too);
    ``memory``: one more first with tracemalloc on, for the traced peaks (its seconds are
    used only when ``runs`` is 0)."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from .appraisal import bench_period, ensure_setup

    User = get_user_model()
    if User.objects.filter(username__in=[RUNNER, VIEWER]).count() != 2:
        return []
    ensure_setup(size)  # templates, target plans, approval policies (when missing)
    period = period or bench_period(timezone.localdate())
    steps = {name: Step() for name in STEPS}
    facts, setup = {}, {}
    try:
        with transaction.atomic():
            started = time.perf_counter()
            cycle = approved_cycle(period)
            runner, viewer = (User.objects.get(username=RUNNER),
                              User.objects.get(username=VIEWER))
            _found, draft = plans(runner)
            setup["seconds"] = time.perf_counter() - started
            if memory or not runs:
                measured, facts = _steps(cycle, draft, runner, viewer, instrument=memory)
                for name, (seconds, queries, traced, rss) in measured.items():
                    step = steps[name]
                    step.queries, step.traced_mb, step.rss_mb = queries, traced, rss
                    if not runs:
                        step.seconds.append(seconds)
            for _ in range(runs):
                timed, facts = _steps(cycle, draft, runner, viewer, instrument=False)
                for name, (seconds, queries, _t, rss) in timed.items():
                    step = steps[name]
                    step.seconds.append(seconds)
                    step.queries = queries
                    step.rss_mb = max(step.rss_mb or 0, rss)
            raise _Rollback
    except _Rollback:
        pass
    people = facts.get("people", 0)
    how = (f"median of {runs} runs" if runs > 1 else "1 run") if runs else \
        "1 run with tracemalloc on (slower)"
    rows = []
    for name in STEPS:
        step = steps[name]
        traced = "-" if step.traced_mb is None else f"{step.traced_mb:,.0f}"
        notes = [f"peak {traced} MB traced, RSS {step.rss_mb:,.0f} MB"]
        if name == "run_create":
            notes.append(f"total ¥{facts.get('total', 0):,.2f}, {facts.get('commission', 0):,}"
                         f" with commission, {facts.get('capped', 0):,} capped; cycle "
                         f"approved first in {setup.get('seconds', 0):,.0f} s (untimed)")
        if name == "run page, rendered":
            notes.append(f"{facts.get('html_kb', 0):,.0f} KiB of HTML")
        if name == "payroll export":
            notes.append(f"{facts.get('xlsx_kb', 0):,.0f} KiB xlsx")
        if name == "what-if":
            notes.append(f"{facts.get('what_if_rows', 0):,} people, change "
                         f"¥{facts.get('what_if_change', 0):,.2f}, "
                         f"{facts.get('raised', 0):,} raised")
        rows.append(Row(name=f"bonus run {period}: {name}, {people:,} people",
                        median_ms=percentile(step.seconds, 50) * 1000 if step.seconds else 0,
                        p95_ms=max(step.seconds) * 1000 if step.seconds else 0,
                        queries=step.queries, visible=people,
                        notes="; ".join(notes) + f"; {how}"))
    return rows


# --- stand-alone ------------------------------------------------------------------------
def main(argv=None) -> int:
    from .standalone import main as stand_alone

    return stand_alone(argv, prog="python -m bench.incentives",
                       description="A bonus run at scale; prints one table.",
                       what="bonus run (INC-2), after bringing a cycle to approved",
                       rows=lambda size, runs, memory: run_rows(size, runs, memory=memory))


if __name__ == "__main__":
    sys.exit(main())
