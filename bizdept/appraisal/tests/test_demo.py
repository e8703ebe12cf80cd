"""Appraisals of the demo (issue 6): a completed last quarter — approved through the
engine, every appraisal graded and ranked, the forced distribution kept, calibrations
with their reasons, interviews, improvement plans — and the current quarter open in
self-assessment; scorecard templates for the scale departments."""

from decimal import Decimal

from django.utils import timezone

from bizdept.appraisal import demo, selectors
from bizdept.appraisal.models import (
    Appraisal,
    AppraisalCycle,
    ImprovementItem,
    ScorecardTemplate,
)
from bizdept.approvals.models import ApprovalRequest
from bizdept.core.management.commands.demo import DEMO_MODULES, build
from bizdept.core.periods import quarter_of
from bizdept.org.demo import DemoContext, build_scale


def test_previous_quarter_crosses_the_year():
    import datetime

    assert demo.previous_quarter(datetime.date(2026, 11, 24)) == "2026-Q3"
    assert demo.previous_quarter(datetime.date(2026, 1, 1)) == "2025-Q4"
    assert demo.previous_quarter(datetime.date(2026, 4, 1)) == "2026-Q1"


def test_template_items_total_100_with_or_without_the_team_figures():
    for position in ("sales", "lead", "manager"):
        for kpis in (None, {"revenue", "collections", "collection_rate"}):
            items = demo.template_items(position, kpis)
            assert sum(Decimal(i["weight"]) for i in items) == 100, (position, kpis)
    codes = {i.get("kpi_code") for i in demo.template_items("lead", {"revenue"})}
    assert "staff_turnover" not in codes and "team_pass_rate" not in codes


def test_demo_has_an_approved_last_quarter_and_an_open_current_one(db):
    assert DEMO_MODULES.index("bizdept.appraisal.demo") > DEMO_MODULES.index(
        "bizdept.targets.demo")
    build("demo")
    today = timezone.localdate()

    last = AppraisalCycle.objects.get(kind="quarterly", period=demo.previous_quarter(today))
    assert last.status == "approved" and last.approved_at and last.is_frozen
    request = ApprovalRequest.objects.get(document_type="appraisal.cycle",
                                          object_id=last.pk)
    assert request.status == "approved"
    rows = Appraisal.objects.filter(cycle=last)
    assert rows.count() > 40
    assert not rows.filter(grade="").exists()
    assert not rows.filter(total_score__isnull=True).exists()
    for field in ("rank_unit", "rank_division", "rank_department", "reviewed_at"):
        assert not rows.filter(**{f"{field}__isnull": True}).exists(), field
    assert rows.filter(rank_department=1).exists()
    assert len(set(rows.values_list("grade", flat=True))) >= 4  # varied
    calibrated = rows.exclude(grade_reason="")
    assert calibrated.exists()
    assert all(a.grade != a.score_grade for a in calibrated)
    assert all(s.ok for s in selectors.distribution_standing(last))
    assert rows.filter(is_bottom=True).exists()
    assert rows.filter(employee_signed_at__isnull=False,
                       reviewer_signed_at__isnull=False).exists()
    mine = rows.get(employee__user__username="sales")  # signs in the browser
    assert mine.interview_on and mine.reviewer_signed_at and mine.employee_signed_at is None
    bottom = set(rows.filter(is_bottom=True).values_list("pk", flat=True))
    planned = set(ImprovementItem.objects.filter(appraisal__cycle=last)
                  .values_list("appraisal_id", flat=True))
    assert planned == bottom

    current = AppraisalCycle.objects.get(kind="quarterly", period=quarter_of(today))
    assert current.status == "self_assessment"
    open_rows = Appraisal.objects.filter(cycle=current)
    assert open_rows.count() > 40
    assert open_rows.filter(self_submitted_at__isnull=False).exists()
    assert not open_rows.filter(reviewed_at__isnull=False).exists()
    assert AppraisalCycle.objects.count() == 3  # the quarter before last is approved too
    # bottom in both approved quarters: elimination candidates for the heads (PER-5)
    before = AppraisalCycle.objects.exclude(pk__in=[last.pk, current.pk]).get()
    assert before.status == "approved" and before.until < last.since
    twice = set(Appraisal.objects.filter(cycle=before, is_bottom=True)
                .values_list("employee_id", flat=True)) & set(
        rows.filter(is_bottom=True).values_list("employee_id", flat=True))
    assert twice
    assert set(rows.filter(is_elimination_candidate=True)
               .values_list("employee_id", flat=True)) == twice
    assert ScorecardTemplate.objects.filter(period_kind="annual").count() == 3


def test_scale_templates_for_every_sales_position(db):
    ctx = DemoContext.new()
    build_scale(ctx, "S")
    made = demo.build_scale_templates("S")
    assert len(made) == 6
    assert {t.period_kind for t in made} == {"quarterly", "annual"}
    assert demo.build_scale_templates("S") == []  # already there: left alone
