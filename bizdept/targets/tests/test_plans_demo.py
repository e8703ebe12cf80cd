"""Target plans of the demo and of the scale departments (TGT-1..4): approved, every sum
holding, stretch on the right side of realistic in every cell."""

import time

from django.db.models import Count, F
from django.utils import timezone

from bizdept.core.management.commands.demo import build
from bizdept.org import demo as org_demo
from bizdept.org.demo import DemoContext
from bizdept.targets import demo, selectors
from bizdept.targets.choices import Metric
from bizdept.targets.models import TargetCell, TargetPlan


def _ordered(plan) -> bool:
    cells = TargetCell.objects.filter(plan=plan)
    if plan.metric == Metric.EXPENSES:
        return not cells.filter(stretch__gt=F("realistic")).exists()
    return not cells.filter(realistic__gt=F("stretch")).exists()


def test_scale_plans_every_person_every_period(db):
    ctx = DemoContext.new()
    org_demo.build_scale(ctx, "S")
    started = time.monotonic()
    written = demo.build_scale_plans("S", today=ctx.today, rng=ctx.rng)
    elapsed = time.monotonic() - started
    year = ctx.today.year
    plans = list(TargetPlan.objects.filter(fiscal_year=year).select_related("unit"))
    assert {p.metric for p in plans} == set(Metric.values)
    assert all(p.status == "approved" for p in plans)
    tree = selectors.plan_nodes(plans[0])
    nodes = len(tree.units) + len(tree.person_unit)
    assert set(written.values()) == {nodes * 17}
    assert len(tree.person_unit) > 80  # everyone with a quota
    for plan in plans:
        assert selectors.plan_check(plan) == [], plan.metric
        assert _ordered(plan), plan.metric
    assert demo.build_scale_plans("S", today=ctx.today) == {}  # already there: left alone
    assert elapsed < 60


def test_demo_plans_approved_and_next_year_started(db):
    ctx = build("demo")
    year = timezone.localdate().year
    approved = TargetPlan.objects.filter(fiscal_year=year, status="approved")
    assert set(approved.values_list("metric", flat=True)) == set(Metric.values)
    for plan in approved.select_related("unit"):
        assert selectors.plan_check(plan) == [], plan.metric
        assert _ordered(plan)
        people = (TargetCell.objects.filter(plan=plan, employee__isnull=False,
                                            period=str(year)).count())
        assert people > 40
    draft = TargetPlan.objects.get(fiscal_year=year + 1)
    assert (draft.metric, draft.status) == ("revenue", "draft")
    assert TargetCell.objects.filter(plan=draft).values("unit").annotate(n=Count("pk")) \
        .get()["n"] == 17
    assert ctx.by_username["director"]
