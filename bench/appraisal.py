"""A full quarterly appraisal cycle (PER-3..5) at scale: every person of the department
with a scorecard (size L: 2,000 people), through the services, step by step:

    open                 ``cycle_open``: one appraisal per person, the template's items
                         copied as lines, every KPI figure read (measures + plan targets)
    → self-assessment    ``cycle_advance`` (figures read again)
    → manager review     ``cycle_advance`` (figures read again)
    reviews              ``appraisal_review`` once per person, by their reviewer (there is
                         no bulk review service: a loop, as the reviewers would do it)
    → calibration        ``cycle_advance``: figures, totals, grades, ranks (team, division,
                         department), bottom performers, elimination candidates
    calibrate one        ``appraisal_calibrate``: one grade changed (ranks/flags redone)
    submit               ``cycle_submit`` (forced-distribution check, approval request)
    approve              the director decides the approval task (``approval_decide``);
                         the engine's callback approves the cycle (freezes it)

Each step is reported with its seconds, the SQL statements it ran (counted with an
execute wrapper: no ceiling, no SQL text kept) and its memory: the peak of Python
allocations during the step (tracemalloc) and the process's peak RSS after it
(``resource.getrusage``). The traced peaks come from a first run with tracemalloc on (it
slows a run down), the seconds from ``runs`` further runs without it (median; p95 is the
slowest). Every run happens in one transaction rolled back at its end, so the database
is left as it was and each run opens the same cycle again (the commit itself is not
timed).

The scorecard templates are ``bizdept.appraisal.demo.build_scale_templates`` (added when
missing), the targets the approved plans of ``targets.demo.build_scale_plans``; the
cycle is the last complete quarter of this year (this quarter in the first one: the
plans are this year's), with no forced distribution (a random set of marks breaks it, and
fixing it through ``appraisal_calibrate`` would be hundreds of calibrations); the bottom
10 % per division is flagged as usual.

    python -m bench.appraisal [--size L] [--runs 1] [--no-memory] [--database-url URL]
                              [--markdown]
"""

from __future__ import annotations

import datetime
import random
import resource
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from decimal import Decimal

from .report import Row, percentile

STEPS = ("open", "to self-assessment", "to manager review", "reviews", "to calibration",
         "calibrate one", "submit", "approve")
RUNNER, APPROVER = "hr", "director"


@dataclass
class Step:
    seconds: list = field(default_factory=list)
    queries: int | None = None
    traced_mb: float | None = None
    rss_mb: float | None = None


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def bench_period(today: datetime.date) -> str:
    from bizdept.appraisal.demo import previous_quarter
    from bizdept.core.periods import quarter_of

    last = previous_quarter(today)
    return last if last.startswith(str(today.year)) else quarter_of(today)


def ensure_setup(size: str) -> dict:
    """Templates, plans and the approval policies the cycle needs (each only when
    missing); answers what the database holds."""
    from bizdept.appraisal.demo import build_scale_templates
    from bizdept.appraisal.models import ScorecardTemplate
    from bizdept.approvals.demo import ensure_default_policies

    from .targets import ensure_plans

    plans = ensure_plans(size)
    build_scale_templates(size)
    ensure_default_policies()
    return {"plans": plans, "templates": ScorecardTemplate.objects.filter(
        is_active=True, period_kind="quarterly").count()}


class _Rollback(Exception):
    pass


class _QueryCounter:
    """Counts the SQL statements run (``connection.execute_wrapper``): unlike
    ``CaptureQueriesContext`` it has no 9,000-query ceiling and keeps no SQL text."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _users():
    from django.contrib.auth import get_user_model

    User = get_user_model()
    return User.objects.get(username=RUNNER), User.objects.get(username=APPROVER)


def _reviews(cycle, rng) -> int:
    """Every appraisal reviewed by its reviewer (the director when it has none)."""
    from django.contrib.auth import get_user_model

    from bizdept.appraisal import services
    from bizdept.appraisal.models import Appraisal, AppraisalLine

    User = get_user_model()
    rows = list(Appraisal.objects.filter(cycle=cycle).order_by("pk")
                .values_list("pk", "reviewer_id"))
    manual: dict[int, list[int]] = {}
    for appraisal_id, order in (AppraisalLine.objects.filter(
            appraisal__cycle=cycle, kind="manual").values_list("appraisal_id", "sort_order")):
        manual.setdefault(appraisal_id, []).append(order)
    users = {u.employee.pk: u for u in User.objects.filter(
        employee__pk__in={r for _pk, r in rows if r}).select_related("employee")}
    director = User.objects.get(username=APPROVER)
    for pk, reviewer_id in rows:
        appraisal = Appraisal(pk=pk)  # the service loads and locks it
        base = rng.randint(55, 97)
        marks = {order: Decimal(max(0, min(100, base + rng.randint(-5, 5))))
                 for order in manual.get(pk, [])}
        services.appraisal_review(appraisal=appraisal, by=users.get(reviewer_id, director),
                                  points=marks, comment="")
    return len(rows)


def _calibrate_one(cycle, by):
    from bizdept.appraisal import services
    from bizdept.appraisal.models import Appraisal

    target = (Appraisal.objects.filter(cycle=cycle, total_score__isnull=False)
              .order_by("total_score", "pk")).first()
    grade = "C" if target.score_grade != "C" else "D"
    services.appraisal_calibrate(appraisal=target, by=by, grade=grade,
                                 reason="bench: calibrated")


def _approve(cycle) -> None:
    from bizdept.approvals import services as approval_services
    from bizdept.approvals.choices import TaskStatus
    from bizdept.approvals.models import ApprovalTask

    for _round in range(6):
        task = (ApprovalTask.objects.filter(request__object_id=cycle.pk,
                                            request__document_type="appraisal.cycle",
                                            status=TaskStatus.WAITING)
                .select_related("approver__user").first())
        if task is None:
            return
        approval_services.approval_decide(task=task, by=task.approver.user,
                                          decision="approve", comment="bench")


def one_cycle(period: str, *, instrument: bool, seed: int = 6) -> tuple[dict, dict]:
    """One full cycle, rolled back at its end: ({step: (seconds, queries, traced MB,
    RSS MB)}, facts about the cycle)."""
    from django.db import connection, transaction

    from bizdept.appraisal import services
    from bizdept.appraisal.models import Appraisal, AppraisalLine

    rng = random.Random(seed)
    runner, approver = _users()
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
            cycle = measure("open", lambda: services.cycle_open(
                by=runner, kind="quarterly", period=period, distribution=[],
                distribution_level="division", bottom_percent=Decimal(10)))
            state["cycle"] = cycle
            for name in ("to self-assessment", "to manager review"):
                cycle = measure(name, lambda: services.cycle_advance(cycle=state["cycle"],
                                                                     by=runner))
                state["cycle"] = cycle
            facts["reviews"] = measure("reviews", lambda: _reviews(cycle, rng))
            cycle = measure("to calibration",
                            lambda: services.cycle_advance(cycle=state["cycle"], by=runner))
            state["cycle"] = cycle
            measure("calibrate one", lambda: _calibrate_one(cycle, approver))
            cycle = measure("submit", lambda: services.cycle_submit(cycle=state["cycle"],
                                                                    by=runner))
            measure("approve", lambda: _approve(cycle))
            cycle.refresh_from_db()
            rows = Appraisal.objects.filter(cycle=cycle)
            facts.update(
                status=cycle.status, people=rows.count(),
                lines=AppraisalLine.objects.filter(appraisal__cycle=cycle).count(),
                kpi_lines=AppraisalLine.objects.filter(appraisal__cycle=cycle,
                                                       kind="kpi").count(),
                graded=rows.exclude(grade="").count(),
                ranked=rows.filter(rank_department__isnull=False).count(),
                bottom=rows.filter(is_bottom=True).count())
            raise _Rollback
    except _Rollback:
        pass
    return out, facts


def cycle_rows(size: str, runs: int = 1, period: str | None = None,
               memory: bool = True) -> list[Row]:
    """The table's rows: one per step and one for the whole cycle. ``runs`` timed runs
    (queries counted too); ``memory``: one more run first with tracemalloc on, for the
    traced peaks (its seconds are used only when ``runs`` is 0)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    User = get_user_model()
    if not User.objects.filter(username__in=[RUNNER, APPROVER]).count() == 2:
        return []
    setup = ensure_setup(size)
    period = period or bench_period(timezone.localdate())
    steps = {name: Step() for name in STEPS}
    facts = {}
    if memory or not runs:
        measured, facts = one_cycle(period, instrument=memory)
        for name, (seconds, queries, traced, rss) in measured.items():
            step = steps[name]
            step.queries, step.traced_mb, step.rss_mb = queries, traced, rss
            if not runs:
                step.seconds.append(seconds)
    for _ in range(runs):
        timed, facts = one_cycle(period, instrument=False)
        for name, (seconds, queries, _t, rss) in timed.items():
            step = steps[name]
            step.seconds.append(seconds)
            step.queries = queries
            step.rss_mb = max(step.rss_mb or 0, rss)
    people = facts.get("people", 0)
    how = (f"median of {runs} runs" if runs > 1 else "1 run") if runs else \
        "1 run with tracemalloc on (slower)"
    rows = []
    for name in STEPS:
        step = steps[name]
        traced = "-" if step.traced_mb is None else f"{step.traced_mb:,.0f}"
        notes = [f"peak {traced} MB traced, RSS {step.rss_mb:,.0f} MB"]
        if name == "reviews" and facts.get("reviews"):
            per = percentile(step.seconds, 50) * 1000 / facts["reviews"]
            notes.append(f"{facts['reviews']:,} × appraisal_review, {per:.1f} ms and "
                         f"{step.queries / facts['reviews']:.1f} queries each")
        if name == "open":
            notes.append(f"{facts.get('lines', 0):,} lines ({facts.get('kpi_lines', 0):,} "
                         f"KPI), {setup['plans']} plans, {setup['templates']} templates")
        if name == "to calibration":
            notes.append(f"{facts.get('ranked', 0):,} ranked, {facts.get('bottom', 0)} "
                         "bottom")
        if name == "approve":
            notes.append(f"cycle {facts.get('status')}, {facts.get('graded', 0):,} graded")
        rows.append(Row(name=f"appraisal {period}: {name}, {people:,} people",
                        median_ms=percentile(step.seconds, 50) * 1000,
                        p95_ms=max(step.seconds) * 1000, queries=step.queries,
                        visible=people, notes="; ".join(notes) + f"; {how}"))
    totals = [sum(run) for run in zip(*(steps[n].seconds for n in STEPS), strict=True)]
    rows.append(Row(name=f"appraisal {period}: whole cycle, {people:,} people",
                    median_ms=percentile(totals, 50) * 1000, p95_ms=max(totals) * 1000,
                    queries=sum(steps[n].queries or 0 for n in STEPS), visible=people,
                    notes=(f"peak RSS {max(steps[n].rss_mb or 0 for n in STEPS):,.0f} MB; "
                           f"{how}; each run rolled back")))
    return rows


# --- stand-alone ------------------------------------------------------------------------
def main(argv=None) -> int:
    from .standalone import main as stand_alone

    return stand_alone(argv, prog="python -m bench.appraisal",
                       description="A full appraisal cycle; prints one table.",
                       what="appraisal cycle (PER-3..5)",
                       rows=lambda size, runs, memory: cycle_rows(size, runs, memory=memory))


if __name__ == "__main__":
    sys.exit(main())
