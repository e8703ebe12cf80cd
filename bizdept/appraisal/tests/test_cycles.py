"""Appraisal cycles (PER-3), results (PER-4) and bottom performers (PER-5): the services
on the database, every figure checked against arithmetic done here."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation

from bizdept.appraisal import selectors, services
from bizdept.appraisal.models import (
    Appraisal,
    AppraisalCycle,
    AppraisalLine,
    ScorecardTemplate,
)
from bizdept.core.errors import Conflict, DomainError
from bizdept.kpi.tests import records
from bizdept.org.tests.factories import make_employee

from .cycles import (
    INTERVIEW_DAY,
    PERIOD,
    appraisal_of,
    cycle_policy,
    open_cycle,
    review_all,
    sales_items,
    sales_template,
    to_stage,
)

pytestmark = pytest.mark.django_db
Q3 = datetime.date(2026, 8, 10)


def line(appraisal, code_or_name):
    return next(x for x in appraisal.lines.all()
                if code_or_name in (x.kpi_code, x.name))


@pytest.fixture
def setup(dept):
    sales_template(dept.hr)
    cycle_policy(dept.admin)
    return dept


# --- opening ------------------------------------------------------------------------------
def test_opening_appraises_everyone_whose_position_has_a_template(setup):
    dept = setup
    cycle = open_cycle(dept)
    people = set(cycle.appraisals.values_list("employee_id", flat=True))
    assert people == {dept.sales.pk, dept.sales_mate.pk, dept.other_sales.pk}
    mine = appraisal_of(cycle, dept.sales)
    assert (mine.unit, mine.division, mine.reviewer) == (dept.team, dept.division, dept.lead)
    assert appraisal_of(cycle, dept.other_sales).reviewer == dept.other_lead
    assert mine.lines.count() == 3 and cycle.status == "open"
    assert (cycle.since, cycle.until) == (datetime.date(2026, 7, 1), datetime.date(2026, 9, 30))
    assert cycle.history.first().history_change_reason == "opened"


def test_only_hr_or_the_director_opens_and_moves_cycles(setup):
    dept = setup
    for person in (dept.sales, dept.lead, dept.manager, dept.finance):
        with pytest.raises(PermissionDenied):
            services.cycle_open(by=person.user, kind="quarterly", period=PERIOD)
    cycle = open_cycle(dept)
    with pytest.raises(PermissionDenied):
        services.cycle_advance(cycle=cycle, by=dept.lead.user)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"kind": "monthly"}, "kind"),
    ({"period": "2026"}, "period"),
    ({"period": "2026-Q5"}, "period"),
    ({"grade_bands": {"S": "90", "A": "95", "B": "70", "C": "60"}}, "grade_bands.A"),
    ({"grade_bands": {"S": "90"}}, "grade_bands"),
    ({"distribution": [{"grades": ["S", "A"], "percent": "20"},
                       {"grades": ["B", "C", "D"], "percent": "70"}]}, "distribution"),
    ({"distribution": [{"grades": ["S", "A"], "percent": "20"},
                       {"grades": ["B", "C"], "percent": "80"}]}, "distribution"),
    ({"distribution": [{"grades": ["X"], "percent": "100"}, {}]}, "distribution[0].grades"),
    ({"bottom_percent": "101"}, "bottom_percent"),
    ({"distribution_level": "company"}, "distribution_level"),
])
def test_bad_settings_are_refused_naming_the_field(setup, kwargs, field):
    args = {"kind": "quarterly", "period": PERIOD, **kwargs}
    with translation.override("en"), pytest.raises(DomainError) as exc:
        services.cycle_open(by=setup.hr.user, **args)
    assert field in exc.value.errors, exc.value.errors
    assert not AppraisalCycle.objects.exists() and not Appraisal.objects.exists()


def test_a_second_cycle_for_the_same_period_is_a_conflict(setup):
    open_cycle(setup)
    with pytest.raises(Conflict):
        open_cycle(setup)


# --- figures and scores -------------------------------------------------------------------
def test_kpi_lines_are_scored_from_the_records(setup):
    dept = setup
    records.contract(dept.sales, total="90000.00", signed_on=Q3)
    records.contract(dept.sales, total="30000.00", signed_on=Q3)
    records.contract(dept.sales, total="50000.00", signed_on=datetime.date(2026, 10, 2))
    for day in (1, 2):
        records.visit(dept.sales, records.local(2026, 7, day, 10))
    cycle = open_cycle(dept)
    mine = appraisal_of(cycle, dept.sales)
    revenue, visits = line(mine, "revenue"), line(mine, "visits")
    assert (revenue.actual, revenue.target) == (Decimal("120000.00"), Decimal("100000.00"))
    assert revenue.points == Decimal("120.00")  # 120 % of 100, at the 120 % cap
    assert (visits.actual, visits.points) == (Decimal(2), Decimal("50.00"))
    assert mine.total_score is None  # the manual mark is still to come
    assert selectors.line_explain_url(revenue, mine).startswith("/")


def test_total_weighs_the_lines_and_grades_by_the_bands(setup):
    dept = setup
    records.contract(dept.sales, total="80000.00", signed_on=Q3)
    for day in (1, 2, 3):
        records.visit(dept.sales, records.local(2026, 7, day, 10))
    cycle = to_stage(open_cycle(dept), dept.hr, "manager_review")
    review_all(cycle, {dept.sales.pk: "70"})
    mine = appraisal_of(cycle, dept.sales)
    # revenue 80 % → 80 points × 50 % = 40; visits 3 → 100 × 20 % = 20; attitude 70 × 30 % = 21
    assert (mine.kpi_score, mine.manual_score, mine.total_score) == (
        Decimal("60.00"), Decimal("21.00"), Decimal("81.00"))
    assert mine.score_grade == mine.grade == "A"
    weighted = sorted(AppraisalLine.objects.filter(appraisal=mine)
                      .values_list("weighted", flat=True))
    assert sum(weighted) == mine.total_score


def test_a_kpi_without_a_target_is_not_applicable_and_its_weight_is_shared(setup):
    """No plan cell for revenue: the other lines' weights (20 + 30) are scaled to 100."""
    dept = setup
    services.template_update(template=ScorecardTemplate.objects.get(), by=dept.hr.user,
                             items=sales_items(revenue_source="plan"))
    cycle = to_stage(open_cycle(dept), dept.hr, "manager_review")
    review_all(cycle, {dept.sales.pk: "90"})
    mine = appraisal_of(cycle, dept.sales)
    assert line(mine, "revenue").target is None and line(mine, "revenue").points is None
    # visits 0 → 0 points (weight 20 of 50); attitude 90 (weight 30 of 50) → 54
    assert line(mine, "工作态度").weighted == Decimal("54.00")
    assert mine.total_score == Decimal("54.00") and mine.grade == "D"


def test_the_plan_target_is_the_persons_realistic_cell_for_the_period(setup):
    from bizdept.targets.models import TargetCell
    from bizdept.targets.tests.factories import approved_plan

    dept = setup
    plan = approved_plan(dept)
    services.template_update(template=ScorecardTemplate.objects.get(), by=dept.hr.user,
                             items=sales_items(revenue_source="plan"))
    records.contract(dept.sales, total="12345.67", signed_on=Q3)
    cycle = open_cycle(dept)
    target = TargetCell.objects.get(plan=plan, employee=dept.sales, period=PERIOD).realistic
    revenue = line(appraisal_of(cycle, dept.sales), "revenue")
    assert revenue.target == target
    expected = min(Decimal("12345.67") * 100 / target, Decimal(120))
    assert revenue.points == expected.quantize(Decimal("0.01"))


# --- stages -------------------------------------------------------------------------------
def test_self_assessment_by_the_employee_only_in_its_stage(setup):
    dept = setup
    cycle = open_cycle(dept)
    mine = appraisal_of(cycle, dept.sales)
    with pytest.raises(Conflict):
        services.appraisal_self_assess(appraisal=mine, by=dept.sales.user, points={2: 90})
    cycle = to_stage(cycle, dept.hr, "self_assessment")
    mine = appraisal_of(cycle, dept.sales)
    with pytest.raises(PermissionDenied):
        services.appraisal_self_assess(appraisal=mine, by=dept.sales_mate.user, points={2: 90})
    with translation.override("en"), pytest.raises(DomainError) as exc:
        services.appraisal_self_assess(appraisal=mine, by=dept.sales.user, points={0: 90})
    assert "points.0" in exc.value.errors  # a KPI line is not marked by hand
    with pytest.raises(DomainError) as exc:
        services.appraisal_self_assess(appraisal=mine, by=dept.sales.user, points={2: 101})
    assert "points.2" in exc.value.errors
    with pytest.raises(DomainError):
        services.appraisal_self_assess(appraisal=mine, by=dept.sales.user, points={},
                                       submit=True)
    done = services.appraisal_self_assess(appraisal=mine, by=dept.sales.user,
                                          points={"2": "95"}, comment="尽力了", submit=True)
    assert done.self_submitted_at and line(done, "工作态度").self_points == Decimal(95)
    assert line(done, "工作态度").points is None  # a self mark does not count


def test_review_by_the_reviewer_or_a_head_above_never_by_a_peer(setup):
    dept = setup
    cycle = to_stage(open_cycle(dept), dept.hr, "manager_review")
    mine = appraisal_of(cycle, dept.sales)
    for person in (dept.sales, dept.sales_mate, dept.other_lead, dept.finance):
        with pytest.raises(PermissionDenied):
            services.appraisal_review(appraisal=mine, by=person.user, points={2: 80})
    with pytest.raises(DomainError) as exc:
        services.appraisal_review(appraisal=mine, by=dept.lead.user, points={})
    assert "points.2" in exc.value.errors
    services.appraisal_review(appraisal=mine, by=dept.manager.user, points={2: 80})
    assert appraisal_of(cycle, dept.sales).reviewed_at is not None


def test_calibration_waits_for_every_review(setup):
    dept = setup
    cycle = to_stage(open_cycle(dept), dept.hr, "manager_review")
    services.appraisal_review(appraisal=appraisal_of(cycle, dept.sales), by=dept.lead.user,
                              points={2: 80})
    with translation.override("en"), pytest.raises(DomainError) as exc:
        services.cycle_advance(cycle=cycle, by=dept.hr.user)
    assert "2 appraisals are not reviewed" in exc.value.message
    review_all(cycle)
    assert services.cycle_advance(cycle=cycle, by=dept.hr.user).status == "calibration"


def test_ranks_share_ties_and_count_per_team_division_and_department(setup):
    dept = setup
    cycle = to_stage(open_cycle(dept), dept.hr, "manager_review")
    review_all(cycle, {dept.sales.pk: "90", dept.sales_mate.pk: "90", dept.other_sales.pk: "95"})
    cycle = services.cycle_advance(cycle=cycle, by=dept.hr.user)
    ranks = {a.employee_id: (a.rank_unit, a.rank_division, a.rank_department)
             for a in cycle.appraisals.all()}
    assert ranks == {dept.sales.pk: (1, 2, 2), dept.sales_mate.pk: (1, 2, 2),
                     dept.other_sales.pk: (1, 1, 1)}


def test_calibration_changes_a_grade_with_a_reason(setup):
    dept = setup
    cycle = to_stage(open_cycle(dept), dept.hr, "manager_review")
    review_all(cycle, {dept.sales.pk: "100"})
    cycle = services.cycle_advance(cycle=cycle, by=dept.hr.user)
    mine = appraisal_of(cycle, dept.sales)
    assert mine.score_grade == "D"  # 0 revenue, 0 visits: 30 points
    with pytest.raises(PermissionDenied):
        services.appraisal_calibrate(appraisal=mine, by=dept.sales.user, grade="C", reason="x")
    with pytest.raises(PermissionDenied):  # a lead of another team
        services.appraisal_calibrate(appraisal=mine, by=dept.other_lead.user, grade="C",
                                     reason="x")
    with pytest.raises(DomainError) as exc:
        services.appraisal_calibrate(appraisal=mine, by=dept.manager.user, grade="C")
    assert "reason" in exc.value.errors
    with pytest.raises(DomainError) as exc:
        services.appraisal_calibrate(appraisal=mine, by=dept.manager.user, grade="E")
    assert "grade" in exc.value.errors
    done = services.appraisal_calibrate(appraisal=mine, by=dept.director.user, grade="C",
                                        reason="新客户开拓期")
    assert (done.grade, done.score_grade, done.grade_reason) == ("C", "D", "新客户开拓期")
    back = services.appraisal_calibrate(appraisal=done, by=dept.director.user, grade="D")
    assert (back.grade, back.grade_reason) == ("D", "")


# --- bottom performers --------------------------------------------------------------------
def _bigger_division(dept, count=7):
    from bizdept.org.models import Position

    position = Position.objects.get(name="岗位-sales")
    return [make_employee(dept.team, position=position, name=f"业务员{i}") for i in range(count)]


def test_bottom_performers_and_elimination_candidates_over_two_cycles(setup):
    dept = setup
    extra = _bigger_division(dept)  # 10 salespeople in the division
    marks = {p.pk: str(60 + 4 * i) for i, p in enumerate(extra)}
    marks |= {dept.sales.pk: "10", dept.sales_mate.pk: "95", dept.other_sales.pk: "20"}
    for person in [dept.sales, dept.sales_mate, dept.other_sales, *extra]:
        for month in (5, 8):  # target met, every visit step reached: 70 + 30 % of the mark
            records.contract(person, total="100000.00", signed_on=datetime.date(2026, month, 3))
            for day in (4, 5, 6):
                records.visit(person, records.local(2026, month, day, 10))
    first = services.cycle_open(by=dept.hr.user, kind="quarterly", period="2026-Q2")
    first = to_stage(first, dept.hr, "manager_review")
    review_all(first, marks)
    first = services.cycle_advance(cycle=first, by=dept.hr.user)
    flagged = set(first.appraisals.filter(is_bottom=True).values_list("employee_id", flat=True))
    assert flagged == {dept.sales.pk}  # 10 % of 10 rounded up: the lowest one (73 points)
    assert not first.appraisals.filter(is_elimination_candidate=True).exists()
    services.cycle_submit(cycle=first, by=dept.hr.user)
    from bizdept.sales.tests.factories import decide

    decide(first)
    first.refresh_from_db()
    assert first.status == "approved"

    second = to_stage(open_cycle(dept), dept.hr, "manager_review")
    review_all(second, marks | {dept.other_sales.pk: "99"})
    second = services.cycle_advance(cycle=second, by=dept.hr.user)
    candidates = set(second.appraisals.filter(is_elimination_candidate=True)
                     .values_list("employee_id", flat=True))
    assert dept.sales.pk in candidates and dept.other_sales.pk not in candidates


def test_forced_distribution_blocks_submission_until_calibrated(setup):
    dept = setup
    extra = _bigger_division(dept, 2)  # 5 people in the division
    cycle = services.cycle_open(
        by=dept.hr.user, kind="quarterly", period=PERIOD, bottom_percent="0",
        distribution=[{"grades": ["S", "A"], "percent": "20"},
                      {"grades": ["B"], "percent": "60"},
                      {"grades": ["C", "D"], "percent": "20"}])
    for day in (1, 2, 3):
        for person in [dept.sales, dept.sales_mate, dept.other_sales, *extra]:
            records.visit(person, records.local(2026, 7, day, 10))
    records.contract(dept.sales, total="100000.00", signed_on=Q3)
    records.contract(dept.sales_mate, total="100000.00", signed_on=Q3)
    cycle = to_stage(cycle, dept.hr, "manager_review")
    review_all(cycle, {dept.sales.pk: "90", dept.sales_mate.pk: "90"}, default="100")
    cycle = services.cycle_advance(cycle=cycle, by=dept.hr.user)
    [standing] = selectors.calibration(user=dept.director.user, cycle=cycle)
    assert standing.size == 5 and standing.grade_counts["S"] == 2
    top, _, bottom = standing.groups
    assert (top.count, top.limit, top.ok) == (2, 1, False)  # 20 % of 5 = 1 at most
    assert (bottom.count, bottom.limit, bottom.ok) == (3, 1, True)  # 50 points each: D
    with translation.override("en"), pytest.raises(DomainError) as exc:
        services.cycle_submit(cycle=cycle, by=dept.hr.user)
    assert "distribution" in exc.value.errors and "华东事业部" in exc.value.message
    services.appraisal_calibrate(appraisal=appraisal_of(cycle, dept.sales_mate),
                                 by=dept.director.user, grade="B", reason="名额")
    assert services.cycle_submit(cycle=cycle, by=dept.hr.user).status == "submitted"


# --- approval, the frozen snapshot, reopening ---------------------------------------------
def _approved(dept):
    from bizdept.sales.tests.factories import decide

    records.contract(dept.sales, total="50000.00", signed_on=Q3)
    cycle = to_stage(open_cycle(dept), dept.hr, "manager_review")
    review_all(cycle)
    cycle = services.cycle_advance(cycle=cycle, by=dept.hr.user)
    cycle = services.cycle_submit(cycle=cycle, by=dept.hr.user, comment="请审批")
    decide(cycle)
    cycle.refresh_from_db()
    return cycle


def test_approval_freezes_every_figure_later_records_change_nothing(setup):
    dept = setup
    cycle = _approved(dept)
    assert cycle.status == "approved" and cycle.approved_at
    before = list(AppraisalLine.objects.filter(appraisal__cycle=cycle)
                  .order_by("pk").values_list("actual", "target", "points", "weighted"))
    totals = list(cycle.appraisals.order_by("pk").values_list("total_score", "grade",
                                                                "rank_department"))
    records.contract(dept.sales, total="900000.00", signed_on=Q3)  # a late, big contract
    records.visit(dept.sales, records.local(2026, 7, 9, 10))
    with pytest.raises(Conflict):
        services.cycle_refresh(cycle=cycle, by=dept.hr.user)
    with pytest.raises(Conflict):
        services.appraisal_calibrate(appraisal=appraisal_of(cycle, dept.sales),
                                     by=dept.director.user, grade="S", reason="x")
    after = list(AppraisalLine.objects.filter(appraisal__cycle=cycle)
                 .order_by("pk").values_list("actual", "target", "points", "weighted"))
    assert after == before
    assert list(cycle.appraisals.order_by("pk").values_list(
        "total_score", "grade", "rank_department")) == totals
    revenue = line(appraisal_of(cycle, dept.sales), "revenue")
    assert revenue.actual == Decimal("50000.00")


def test_before_calibration_the_figures_follow_the_records(setup):
    dept = setup
    cycle = open_cycle(dept)
    records.contract(dept.sales, total="10000.00", signed_on=Q3)
    services.cycle_refresh(cycle=cycle, by=dept.hr.user)
    assert line(appraisal_of(cycle, dept.sales), "revenue").actual == Decimal("10000.00")


def test_reopening_is_audited_with_a_reason_and_keeps_the_figures(setup):
    dept = setup
    cycle = _approved(dept)
    records.contract(dept.sales, total="900000.00", signed_on=Q3)
    with pytest.raises(PermissionDenied):
        services.cycle_reopen(cycle=cycle, by=dept.lead.user, reason="x")
    with pytest.raises(DomainError) as exc:
        services.cycle_reopen(cycle=cycle, by=dept.director.user, reason=" ")
    assert "reason" in exc.value.errors
    reopened = services.cycle_reopen(cycle=cycle, by=dept.director.user, reason="申诉复核")
    assert reopened.status == "calibration" and reopened.reopen_reason == "申诉复核"
    entry = reopened.history.first()
    assert entry.history_change_reason == "reopened: 申诉复核"
    assert entry.history_user == dept.director.user
    assert line(appraisal_of(cycle, dept.sales), "revenue").actual == Decimal("50000.00")


def test_a_returned_cycle_goes_back_to_calibration(setup):
    from bizdept.sales.tests.factories import decide

    dept = setup
    cycle = to_stage(open_cycle(dept), dept.hr, "manager_review")
    review_all(cycle)
    cycle = services.cycle_advance(cycle=cycle, by=dept.hr.user)
    cycle = services.cycle_submit(cycle=cycle, by=dept.hr.user)
    decide(cycle, decision="return", comment="再看看")
    cycle.refresh_from_db()
    assert cycle.status == "calibration"


# --- interview and improvement plan -------------------------------------------------------
def test_interview_is_signed_by_both_and_a_change_asks_again(setup):
    dept = setup
    cycle = _approved(dept)
    mine = appraisal_of(cycle, dept.sales)
    with pytest.raises(DomainError):
        services.appraisal_sign(appraisal=mine, by=dept.sales.user)
    with pytest.raises(PermissionDenied):
        services.appraisal_interview(appraisal=mine, by=dept.sales.user, on=INTERVIEW_DAY,
                                     notes="x")
    with pytest.raises(DomainError) as exc:
        services.appraisal_interview(appraisal=mine, by=dept.lead.user,
                                     on=datetime.date(2999, 1, 1), notes="x")
    assert "on" in exc.value.errors
    mine = services.appraisal_interview(appraisal=mine, by=dept.lead.user, on=INTERVIEW_DAY,
                                        notes="回款需加强")
    with pytest.raises(PermissionDenied):
        services.appraisal_sign(appraisal=mine, by=dept.sales_mate.user)
    services.appraisal_sign(appraisal=mine, by=dept.sales.user)
    mine = services.appraisal_sign(appraisal=mine, by=dept.lead.user)
    assert mine.employee_signed_at and mine.reviewer_signed_at
    with pytest.raises(Conflict):
        services.appraisal_sign(appraisal=mine, by=dept.sales.user)
    mine = services.appraisal_interview(appraisal=mine, by=dept.lead.user, on=INTERVIEW_DAY,
                                        notes="回款需加强,拜访量需提升")
    assert mine.employee_signed_at is None and mine.reviewer_signed_at is None


def test_improvement_items_are_tracked_to_their_end(setup):
    dept = setup
    cycle = _approved(dept)
    mine = appraisal_of(cycle, dept.sales)
    with pytest.raises(PermissionDenied):
        services.improvement_add(appraisal=mine, by=dept.sales.user, action="x",
                                 owner=dept.sales, due_on=INTERVIEW_DAY)
    with pytest.raises(DomainError) as exc:
        services.improvement_add(appraisal=mine, by=dept.lead.user, action="每周拜访10家",
                                 owner=dept.other_sales, due_on=INTERVIEW_DAY)
    assert "owner" in exc.value.errors
    item = services.improvement_add(appraisal=mine, by=dept.lead.user, action="每周拜访10家",
                                    owner=dept.sales, due_on=datetime.date(2026, 12, 31))
    with pytest.raises(PermissionDenied):
        services.improvement_update(item=item, by=dept.sales_mate.user, status="done")
    with pytest.raises(DomainError) as exc:
        services.improvement_update(item=item, by=dept.sales.user, status="dropped")
    assert "note" in exc.value.errors
    done = services.improvement_update(item=item, by=dept.sales.user, status="done",
                                       note="已完成")
    assert done.status == "done" and done.done_on is not None


# --- reads --------------------------------------------------------------------------------
def test_who_sees_which_appraisals(setup):
    dept = setup
    cycle = open_cycle(dept)
    seen = {p: set(selectors.appraisal_list(user=p.user, cycle=cycle)
                   .values_list("employee_id", flat=True))
            for p in (dept.sales, dept.lead, dept.manager, dept.director, dept.hr,
                      dept.other_lead, dept.outsider)}
    everyone = {dept.sales.pk, dept.sales_mate.pk, dept.other_sales.pk}
    assert seen[dept.sales] == {dept.sales.pk}
    assert seen[dept.lead] == {dept.sales.pk, dept.sales_mate.pk}
    assert seen[dept.other_lead] == {dept.other_sales.pk}
    assert seen[dept.manager] == seen[dept.director] == seen[dept.hr] == everyone
    assert seen[dept.outsider] == set()
    team = set(selectors.team_appraisals(user=dept.lead.user, cycle=cycle)
               .values_list("employee_id", flat=True))
    assert team == {dept.sales.pk, dept.sales_mate.pk}


def test_opening_and_results_cost_the_same_queries_however_many_people(setup):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    dept = setup

    def cost(period):
        with CaptureQueriesContext(connection) as ctx:
            cycle = services.cycle_open(by=dept.hr.user, kind="quarterly", period=period)
        opened = len(ctx)
        cycle = to_stage(cycle, dept.hr, "manager_review")
        review_all(cycle)
        with CaptureQueriesContext(connection) as ctx:
            services.cycle_advance(cycle=cycle, by=dept.hr.user)
        return opened, len(ctx)

    small = cost("2026-Q1")
    _bigger_division(dept, 12)
    big = cost("2026-Q2")
    assert big == small, (small, big)


def test_a_stage_move_writes_only_what_moved(setup):
    """Reading the figures again when no record changed rewrites no line and no result
    (at 2,000 people, rewriting everything was most of a stage move's time)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    dept = setup
    records.contract(dept.sales, total="10000.00", signed_on=Q3)
    cycle = open_cycle(dept)
    with CaptureQueriesContext(connection) as ctx:
        services.cycle_refresh(cycle=cycle, by=dept.hr.user)
    writes = [q["sql"] for q in ctx.captured_queries
              if q["sql"].startswith(('UPDATE "appraisal_appraisal"',
                                      'UPDATE "appraisal_appraisalline"'))]
    assert writes == []
    records.contract(dept.sales_mate, total="20000.00", signed_on=Q3)
    with CaptureQueriesContext(connection) as ctx:
        services.cycle_refresh(cycle=cycle, by=dept.hr.user)
    writes = [q["sql"] for q in ctx.captured_queries
              if q["sql"].startswith('UPDATE "appraisal_appraisalline"')]
    # the one line that moved: its figures, then its weighted points
    moved = line(appraisal_of(cycle, dept.sales_mate), "revenue").pk
    assert len(writes) == 2 and all(f"IN ({moved})" in sql for sql in writes)
    assert line(appraisal_of(cycle, dept.sales_mate), "revenue").actual == Decimal("20000.00")
