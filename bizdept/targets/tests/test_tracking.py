"""TGT-5 tracking: targets from the plan in force, actuals from the measures, pace,
forecast and daily amount needed on a known calendar (with National Day holidays and a
make-up Saturday), units adding up to their people, scope, constant queries."""

import datetime
from decimal import Decimal

import pytest
from django.http import Http404

from bizdept.core.models import CalendarDay
from bizdept.kpi.tests import records as r
from bizdept.org.tests.factories import make_employee
from bizdept.targets import selectors
from bizdept.targets.models import TargetCell, TargetPlan

D = datetime.date
OCT = "2026-10"
AS_OF = D(2026, 10, 14)  # Wednesday: Oct 8, 9, 10 (make-up Saturday), 12, 13, 14 → 6 days


@pytest.fixture
def october(db):
    october_calendar()


def october_calendar():
    """October 2026: 22 weekdays, Oct 1–7 off (5 of them weekdays), Saturday Oct 10 worked:
    18 working days."""
    CalendarDay.objects.filter(day__gte=D(2026, 9, 1), day__lte=D(2026, 12, 31)).delete()
    for day in range(1, 8):
        CalendarDay.objects.create(day=D(2026, 10, day), is_working=False, name="国庆节")
    CalendarDay.objects.create(day=D(2026, 10, 10), is_working=True, name="国庆节调休上班")


def plan(dept, metric, status="approved", year=2026) -> TargetPlan:
    return TargetPlan.objects.create(fiscal_year=year, metric=metric, unit=dept.department,
                                     status=status, created_by=dept.director)


def cell(plan_, unit, employee, realistic, stretch=None, period=OCT):
    return TargetCell.objects.create(plan=plan_, unit=unit, employee=employee, period=period,
                                     realistic=Decimal(realistic),
                                     stretch=Decimal(stretch or realistic))


@pytest.fixture
def revenue_plan(dept, october):
    return revenue_setup(dept)


def revenue_setup(dept) -> TargetPlan:
    """The department's approved revenue plan for October and the contracts behind it."""
    p = plan(dept, "revenue")
    cell(p, dept.department, None, "33000", "44000")
    cell(p, dept.division, None, "33000", "44000")
    cell(p, dept.team, None, "27000", "36000")
    cell(p, dept.team, dept.sales, "18000", "24000")
    cell(p, dept.team, dept.sales_mate, "9000", "12000")
    cell(p, dept.other_team, None, "6000", "8000")
    cell(p, dept.other_team, dept.other_sales, "6000", "8000")
    r.contract(dept.sales, total="5000.00", signed_on=D(2026, 10, 9))
    r.contract(dept.sales, total="7000.00", signed_on=D(2026, 10, 9), status="draft")
    r.contract(dept.sales_mate, total="3100.00", signed_on=D(2026, 10, 1))
    r.contract(dept.other_sales, total="4000.00", signed_on=D(2026, 10, 31))
    r.contract(dept.other_sales, total="999.00", signed_on=D(2026, 11, 1))
    return p


def by_name(report):
    return {row.name: row for row in report.rows}


def test_pace_forecast_and_daily_needed_on_the_working_calendar(revenue_plan, director):
    report = selectors.tracking(user=director.user, metric="revenue", period=OCT,
                                as_of=AS_OF)
    assert (report.working_days, report.elapsed_days, report.remaining_days) == (18, 6, 12)
    rows = by_name(report)
    me = rows["业务员甲"]
    assert (me.realistic, me.stretch, me.actual) == (Decimal("18000"), Decimal("24000"),
                                                     Decimal("5000.00"))
    assert me.achievement == Decimal("27.78")          # 5000 / 18000
    assert me.achievement_stretch == Decimal("20.83")  # 5000 / 24000
    assert me.gap == Decimal("13000.00")
    assert me.expected == Decimal("6000.00")           # 18000 × 6 / 18
    assert me.pace == "behind"                         # below 6000 × 0.95
    assert me.forecast == Decimal("15000.00")          # 5000 / 6 × 18
    assert me.daily_needed == Decimal("1083.33")       # 13000 / 12
    mate = rows["业务员乙"]
    assert (mate.expected, mate.pace) == (Decimal("3000.00"), "on_track")  # 3100 within 5%
    other = rows["业务员丙"]
    assert (other.expected, other.pace) == (Decimal("2000.00"), "ahead")
    assert other.achievement == Decimal("66.67")


def test_units_add_up_to_the_people_shown_under_them(revenue_plan, director):
    report = selectors.tracking(user=director.user, metric="revenue", period=OCT,
                                as_of=AS_OF)
    for row in report.rows:
        if row.kind == "unit":
            below = [x for x in report.rows if x.parent_id == row.unit.pk]
            assert row.actual == sum((x.actual for x in below), Decimal(0)), row.name
    rows = by_name(report)
    assert rows["上海一所"].actual == Decimal("8100.00")
    assert rows["华东事业部"].actual == Decimal("12100.00")
    assert rows["经营部"].actual == Decimal("12100.00")
    assert rows["上海一所"].realistic == Decimal("27000")   # the unit's own cell
    assert report.total is rows["经营部"]
    # Depth-first: the department, its people, the division, the team and its people...
    kinds = [(x.kind, x.name) for x in report.rows]
    assert kinds.index(("unit", "上海一所")) < kinds.index(("person", "业务员甲")) \
        < kinds.index(("unit", "杭州所"))
    # Only quota holders (sales, lead) and people with cells: not finance nor hr.
    assert "财务" not in rows and "人事" not in rows
    assert rows["所长"].has_target is False and rows["所长"].pace is None


def test_a_head_who_sells_is_shown_with_their_figure(revenue_plan, director, manager):
    r.contract(manager, total="100.00", signed_on=D(2026, 10, 12))
    rows = by_name(selectors.tracking(user=director.user, metric="revenue", period=OCT,
                                      as_of=AS_OF))
    assert rows["经理"].actual == Decimal("100.00")
    assert rows["华东事业部"].actual == Decimal("12200.00")


def test_someone_who_moved_stays_where_the_plan_counts_them(revenue_plan, dept, director):
    from bizdept.org.models import Employee

    Employee.objects.filter(pk=dept.sales.pk).update(unit=dept.other_team)
    report = selectors.tracking(user=director.user, metric="revenue", period=OCT,
                                as_of=AS_OF)
    me = by_name(report)["业务员甲"]
    assert me.unit == dept.team and me.parent_id == dept.team.pk
    assert len([x for x in report.rows if x.name == "业务员甲"]) == 1


def test_someone_who_left_is_still_shown_for_their_cell(revenue_plan, dept, director):
    from bizdept.org.models import Employee

    Employee.objects.filter(pk=dept.sales_mate.pk).update(status="left")
    rows = by_name(selectors.tracking(user=director.user, metric="revenue", period=OCT,
                                      as_of=AS_OF))
    assert rows["业务员乙"].left and rows["业务员乙"].actual == Decimal("3100.00")
    assert rows["上海一所"].actual == Decimal("8100.00")


def test_past_and_future_periods(revenue_plan, director):
    past = by_name(selectors.tracking(user=director.user, metric="revenue", period=OCT,
                                      as_of=D(2026, 12, 1)))["业务员甲"]
    assert past.forecast == past.actual == Decimal("5000.00")
    assert past.expected == Decimal("18000.00") and past.pace == "behind"
    assert past.daily_needed is None  # no working day remains
    future = selectors.tracking(user=director.user, metric="revenue", period=OCT,
                                as_of=D(2026, 9, 30))
    assert future.elapsed_days == 0
    row = by_name(future)["业务员甲"]
    assert (row.forecast, row.pace, row.expected) == (None, "on_track", Decimal("0.00"))
    assert row.daily_needed == Decimal("722.22")  # (18000 − 5000) / 18


def test_quarter_and_year_periods_use_their_own_cells(revenue_plan, dept, director):
    cell(revenue_plan, dept.team, dept.sales, "50000", period="2026-Q4")
    report = selectors.tracking(user=director.user, metric="revenue", period="2026-Q4",
                                as_of=AS_OF)
    me = by_name(report)["业务员甲"]
    assert me.realistic == Decimal("50000") and me.actual == Decimal("5000.00")
    year = selectors.tracking(user=director.user, metric="revenue", period="2026",
                              as_of=AS_OF)
    assert by_name(year)["业务员甲"].has_target is False  # no year cell in this plan


def test_only_the_approved_plan_counts(dept, october, director):
    draft = plan(dept, "visits", status="draft")
    cell(draft, dept.team, dept.sales, "40")
    report = selectors.tracking(user=director.user, metric="visits", period=OCT, as_of=AS_OF)
    assert not report.has_plan
    assert by_name(report)["业务员甲"].realistic == Decimal(0)


def test_expenses_lower_is_better(dept, october, director):
    p = plan(dept, "expenses")
    cell(p, dept.team, dept.sales, "1000.00")
    cell(p, dept.team, dept.sales_mate, "1800.00")
    r.claim(dept.sales, "500.00", D(2026, 10, 9))
    r.claim(dept.sales, "900.00", D(2026, 10, 9), status="submitted")  # not spent yet
    r.claim(dept.sales_mate, "100.00", D(2026, 10, 9))
    rows = by_name(selectors.tracking(user=director.user, metric="expenses", period=OCT,
                                      as_of=AS_OF))
    me = rows["业务员甲"]
    assert me.actual == Decimal("500.00") and me.expected == Decimal("333.33")
    assert me.pace == "behind"  # spending faster than the calendar allows
    assert me.gap == Decimal("-500.00")  # over the budget by −500: 500 still unspent
    assert me.daily_needed == Decimal("41.67")  # allowed per remaining day: 500 / 12
    assert rows["业务员乙"].pace == "ahead"  # 100 spent, 600 expected


def test_visits_count_on_local_days(dept, october, director):
    p = plan(dept, "visits")
    cell(p, dept.team, dept.sales, "36")
    r.visit(dept.sales, r.local(2026, 10, 1, 0, 0))
    r.visit(dept.sales, r.local(2026, 9, 30, 23, 59))
    r.visit(dept.sales, r.local(2026, 10, 13, 9))
    me = by_name(selectors.tracking(user=director.user, metric="visits", period=OCT,
                                    as_of=AS_OF))["业务员甲"]
    assert me.actual == Decimal(2) and me.expected == Decimal("12.00")
    assert me.daily_needed == Decimal("2.83")  # 34 / 12


# --- scope ---------------------------------------------------------------------------------
def _names(report):
    return {row.name for row in report.rows}


def test_each_role_sees_its_own_subtree(revenue_plan, dept):
    def seen(person, **kw):
        return selectors.tracking(user=person.user, metric="revenue", period=OCT,
                                  as_of=AS_OF, **kw)

    assert seen(dept.director).unit == dept.department
    assert seen(dept.manager).unit == dept.division
    lead = seen(dept.lead)
    assert lead.unit == dept.team and "业务员丙" not in _names(lead)
    mine = seen(dept.sales)
    assert mine.unit is None and _names(mine) == {"业务员甲"}
    assert mine.rows[0].realistic == Decimal("18000")
    # finance sees money metrics department-wide, visits only for themselves
    assert seen(dept.finance).unit == dept.department
    visits = selectors.tracking(user=dept.finance.user, metric="visits", period=OCT,
                                as_of=AS_OF)
    assert visits.unit is None and _names(visits) == {"财务"}
    assert seen(dept.hr).unit is None


def test_a_unit_outside_the_scope_is_not_found(revenue_plan, dept):
    for person, unit in ((dept.lead, dept.other_team), (dept.sales, dept.team),
                         (dept.manager, dept.department), (dept.director, dept.outsider.unit),
                         (dept.director, 10**9)):
        with pytest.raises(Http404):
            selectors.tracking(user=person.user, metric="revenue", period=OCT, unit=unit)
    report = selectors.tracking(user=dept.manager.user, metric="revenue", period=OCT,
                                unit=dept.other_team.pk, as_of=AS_OF)
    assert _names(report) == {"杭州所", "另一所长", "业务员丙"}


def test_bad_metric_or_period_names_the_field(director, db):
    from bizdept.core.errors import DomainError

    with pytest.raises(DomainError) as bad:
        selectors.tracking(user=director.user, metric="profit", period=OCT)
    assert "metric" in bad.value.errors
    for period in ("2026-13", "2026-Q5", "1999", "", "26-10"):
        with pytest.raises(DomainError) as bad:
            selectors.tracking(user=director.user, metric="revenue", period=period)
        assert "period" in bad.value.errors


def test_queries_do_not_grow_with_people(revenue_plan, dept, director,
                                         django_assert_num_queries):
    def run():
        user = type(director.user).objects.get(pk=director.user.pk)  # nothing cached
        return selectors.tracking(user=user, metric="revenue", period=OCT, as_of=AS_OF)

    run()
    with django_assert_num_queries(_count(run)) as small:
        run()
    for n in range(15):
        person = make_employee(dept.other_team if n % 2 else dept.team)
        cell(revenue_plan, person.unit, person, "100")
        r.contract(person, total="10.00", signed_on=D(2026, 10, 12))
    with django_assert_num_queries(len(small.captured_queries)):
        report = run()
    assert len(report.people) == 20


def _count(fn) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured)


# --- my targets ---------------------------------------------------------------------------
def test_my_targets_show_every_metric_for_year_quarter_and_month(revenue_plan, dept,
                                                                 django_assert_max_num_queries):
    cell(revenue_plan, dept.team, dept.sales, "60000", period="2026-Q4")
    cell(revenue_plan, dept.team, dept.sales, "200000", period="2026")
    user = dept.sales.user
    with django_assert_max_num_queries(25):
        mine = selectors.my_targets(user=user, year=2026, as_of=AS_OF)
    assert mine.periods == ["2026", "2026-Q4", "2026-10"]
    assert [line.metric for line in mine.lines] == ["revenue", "gross_margin", "collections",
                                                    "new_customers", "visits", "expenses"]
    revenue = mine.lines[0].periods
    assert revenue["2026-10"].daily_needed == Decimal("1083.33")
    assert revenue["2026-Q4"].realistic == Decimal("60000")
    assert revenue["2026"].actual == Decimal("5000.00")
    assert mine.lines[4].periods["2026-10"].has_target is False


def test_my_targets_outside_the_year_use_its_first_or_last_periods():
    assert selectors.current_periods(2027, D(2026, 10, 14)) == ["2027", "2027-Q1", "2027-01"]
    assert selectors.current_periods(2025, D(2026, 10, 14)) == ["2025", "2025-Q4", "2025-12"]


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_depth_keeps_the_figures_and_drops_the_rows_below(revenue_plan, director, depth):
    """``depth`` (the dashboard's divisions use 1) gives the same figures as the full
    table for the rows it keeps, and only the rows that many levels below the top."""
    full = selectors.tracking(user=director.user, metric="revenue", period=OCT, as_of=AS_OF)
    short = selectors.tracking(user=director.user, metric="revenue", period=OCT,
                               as_of=AS_OF, depth=depth)
    kept = [(r.kind, r.id) for r in full.rows if r.depth <= depth]
    assert [(r.kind, r.id) for r in short.rows] == kept
    assert any(r.depth == depth for r in short.rows)
    twins = {(r.kind, r.id): r for r in full.rows}
    for row in short.rows:
        twin = twins[(row.kind, row.id)]
        assert (row.actual, row.realistic, row.achievement, row.pace, row.explain_url) == \
            (twin.actual, twin.realistic, twin.achievement, twin.pace, twin.explain_url)
