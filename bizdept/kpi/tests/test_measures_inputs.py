"""The PER-1 figures measured against entered inputs (market share against market sizes,
product mix against the planned mix) and the unit figures of heads (staff turnover, team
pass rate), each against arithmetic done here by hand, in a constant number of queries
however many people."""

import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bizdept.customers.models import Customer
from bizdept.kpi.measures import KPIS, MEASURES, Measure, measure
from bizdept.kpi.models import MarketSize, PlannedMix
from bizdept.org.models import Employee
from bizdept.org.tests.factories import make_employee
from bizdept.sales.models import ContractLine, Product, ProductCategory
from bizdept.targets.choices import Metric

from . import records as r

D = datetime.date
OCT = {"since": D(2026, 10, 1), "until": D(2026, 10, 31)}
Q3 = {"since": D(2026, 7, 1), "until": D(2026, 9, 30)}
CODES = ("market_share", "product_mix", "staff_turnover", "team_pass_rate")


def pct(fraction: Fraction) -> Decimal:
    """An exact fraction as a percent figure: 2 places, half up."""
    return (Decimal(fraction.numerator) / Decimal(fraction.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_the_four_figures_are_in_the_library_not_plan_metrics():
    for code in CODES:
        m = measure(code)
        assert isinstance(m, Measure) and m.code == code and code not in Metric.values
        assert code not in MEASURES and KPIS[code] is m
        assert m.unit == "percent" and m.places == 2 and str(m.label)
        assert type(m).__doc__ and f"**{code}**" in type(m).__doc__
    assert not measure("staff_turnover").higher_is_better
    assert all(measure(c).higher_is_better for c in ("market_share", "product_mix",
                                                      "team_pass_rate"))


# --- market share ------------------------------------------------------------------------
def sold(owner, region, total, signed_on, status="signed"):
    contract = r.contract(owner, total=total, signed_on=signed_on, status=status)
    Customer.objects.filter(pk=contract.customer_id).update(region=region)
    return contract


def size(region, year, amount):
    return MarketSize.objects.create(region=region, year=year, size=Decimal(amount))


@pytest.mark.django_db
def test_market_share_is_revenue_in_sized_regions_over_their_prorated_size(
        sales, sales_mate, other_sales):
    size("上海", 2026, "1000000.00")
    size("杭州", 2026, "500000.00")
    size("上海", 2025, "800000.00")
    a = sold(sales, "上海", "10000.00", D(2026, 10, 5))
    b = sold(sales, "杭州", "2000.00", D(2026, 10, 31))         # last day
    sold(sales, "苏州", "5000.00", D(2026, 10, 6))               # no market size
    sold(sales, "", "700.00", D(2026, 10, 6))                    # no region
    sold(sales, "上海", "9999.00", None, status="draft")          # not revenue
    sold(sales, "上海", "9999.00", D(2026, 11, 1))                # after the period
    c = sold(sales_mate, "上海", "3000.00", D(2026, 10, 1))      # first day
    sold(other_sales, "苏州", "800.00", D(2026, 10, 9))          # only unsized: no value
    share = measure("market_share")
    # Oct 2026 is 31 of 365 days: sales 12 000 ÷ (1 500 000 × 31/365), sales_mate 3 000 ÷
    # (1 000 000 × 31/365) — the region where one sold nothing adds nothing.
    mine = pct(Fraction(12000 * 100 * 365, 1500000 * 31))
    mates = pct(Fraction(3000 * 100 * 365, 1000000 * 31))
    assert (mine, mates) == (Decimal("9.42"), Decimal("3.53"))
    assert share.per_person(**OCT) == {sales.pk: mine, sales_mate.pk: mates}
    assert share.per_person(**OCT, employee_ids=[other_sales.pk, sales_mate.pk]) == {
        sales_mate.pk: mates}
    # the department: 15 000 ÷ (1 500 000 × 31/365), each region's size once
    assert share.total(**OCT) == pct(Fraction(15000 * 100 * 365, 1500000 * 31))
    assert share.total(**OCT, employee_ids=[other_sales.pk]) is None
    assert set(share.records(**OCT).values_list("pk", flat=True)) == {a.pk, b.pk, c.pk}
    assert share.records(**OCT, employee_ids=[sales_mate.pk]).get() == c
    # no market size for the year: no value at all
    assert share.per_person(since=D(2024, 1, 1), until=D(2024, 12, 31)) == {}


@pytest.mark.django_db
def test_market_share_over_two_years_prorates_each_year(sales):
    size("上海", 2025, "800000.00")
    size("上海", 2026, "1000000.00")
    sold(sales, "上海", "4000.00", D(2025, 12, 10))
    sold(sales, "上海", "6000.00", D(2026, 1, 10))
    share = measure("market_share")
    period = {"since": D(2025, 12, 1), "until": D(2026, 1, 31)}
    # 10 000 ÷ (800 000 × 31/365 + 1 000 000 × 31/365)
    expected = pct(Fraction(10000 * 100 * 365, (800000 + 1000000) * 31))
    assert expected == Decimal("6.54")
    assert share.per_person(**period) == {sales.pk: expected}
    assert share.year_fractions(D(2028, 2, 1), D(2028, 2, 29)) == {
        2028: Decimal(29) / Decimal(366)}


# --- product mix ------------------------------------------------------------------------------
@pytest.fixture
def catalogue(db):
    """电气 (with 变频器 under it) and 服务 are planned for 2026 (60 / 40); 软件 is not."""
    electric = ProductCategory.objects.create(name="电气")
    drives = ProductCategory.objects.create(name="变频器", parent=electric)
    service = ProductCategory.objects.create(name="服务")
    software = ProductCategory.objects.create(name="软件")
    PlannedMix.objects.create(year=2026, category=electric, percent=Decimal("60.00"))
    PlannedMix.objects.create(year=2026, category=service, percent=Decimal("40.00"))

    def product(category):
        return Product.objects.create(code=f"MIX-{category.pk}", name=category.name,
                                      category=category, unit="台",
                                      list_price=Decimal("1.00"), standard_cost=Decimal("0"))

    return {"electric": product(electric), "drives": product(drives),
            "service": product(service), "software": product(software)}


def lines(owner, signed_on, *amounts, status="signed"):
    contract = r.contract(owner, signed_on=signed_on, status=status)
    for product, amount in amounts:
        ContractLine.objects.create(contract=contract, product=product, quantity=Decimal(1),
                                    unit_price=Decimal(amount), unit_cost=Decimal(0),
                                    amount=Decimal(amount))
    return contract


def fit(amounts: dict, plan: dict) -> Decimal:
    whole = sum(amounts.values())
    gap = sum(abs(Fraction(amounts.get(c, 0) * 100, whole) - plan.get(c, 0))
              for c in {*amounts, *plan})
    return pct(100 - gap / 2)


@pytest.mark.django_db
def test_product_mix_is_100_less_half_the_gap_to_the_plan(catalogue, sales, sales_mate,
                                                          other_sales):
    p = catalogue
    lines(sales, D(2026, 10, 1), (p["drives"], "600.00"))        # 电气 by its root
    lines(sales, D(2026, 10, 31), (p["service"], "300.00"), (p["software"], "100.00"))
    lines(sales, D(2026, 11, 1), (p["software"], "5000.00"))      # after the period
    lines(sales, None, (p["software"], "5000.00"), status="draft")
    lines(sales_mate, D(2026, 10, 9), (p["electric"], "100.00"), (p["service"], "200.00"))
    lines(other_sales, None, (p["service"], "50.00"), status="draft")
    plan = {"电气": 60, "服务": 40}
    mix = measure("product_mix")
    # sales: 电气 60 %, 服务 30 %, 软件 10 % → gap 0 + 10 + 10 → 90.00
    mine = fit({"电气": 600, "服务": 300, "软件": 100}, plan)
    # sales_mate: 电气 ⅓, 服务 ⅔ → gap 26.67 + 26.67 → 73.33
    mates = fit({"电气": 100, "服务": 200}, plan)
    assert (mine, mates) == (Decimal("90.00"), Decimal("73.33"))
    assert mix.per_person(**OCT) == {sales.pk: mine, sales_mate.pk: mates}
    assert mix.per_person(**OCT, employee_ids=[other_sales.pk]) == {}
    assert mix.total(**OCT) == fit({"电气": 700, "服务": 500, "软件": 100}, plan) \
        == Decimal("92.31")
    assert mix.records(**OCT, employee_ids=[sales_mate.pk]).count() == 2
    # no plan for 2025, a period across two years: no value
    assert mix.per_person(since=D(2025, 10, 1), until=D(2025, 10, 31)) == {}
    assert mix.per_person(since=D(2025, 12, 1), until=D(2026, 10, 31)) == {}
    assert mix.total(since=D(2025, 10, 1), until=D(2025, 10, 31)) is None


@pytest.mark.django_db
def test_product_mix_exactly_on_plan_is_100(catalogue, sales):
    lines(sales, D(2026, 10, 2), (catalogue["drives"], "30.00"),
          (catalogue["electric"], "30.00"), (catalogue["service"], "40.00"))
    assert measure("product_mix").per_person(**OCT) == {sales.pk: Decimal("100.00")}


# --- staff turnover ---------------------------------------------------------------------------
def left(employee, on):
    Employee.objects.filter(pk=employee.pk).update(status="left", leave_date=on)


@pytest.fixture
def movements(dept):
    """Q3 2026 in the persona department (everyone hired 2024-01-01)."""
    ns = dept
    ns.leaver = make_employee(dept.team)
    left(ns.leaver, D(2026, 8, 15))                              # left in Q3
    ns.gone_before = make_employee(dept.team)
    left(ns.gone_before, D(2026, 6, 30))                         # left before: neither
    ns.brief = make_employee(dept.team, hire_date=D(2026, 7, 10))
    left(ns.brief, D(2026, 9, 1))                                # joined and left in Q3
    ns.on_notice = make_employee(dept.team)
    Employee.objects.filter(pk=ns.on_notice.pk).update(status="on_notice",
                                                       leave_date=D(2026, 10, 15))
    ns.first_day = make_employee(dept.other_team)
    left(ns.first_day, D(2026, 7, 1))                            # there at the start; left
    ns.joined_on_start = make_employee(dept.other_team, hire_date=D(2026, 7, 1))
    ns.joined_later = make_employee(dept.other_team, hire_date=D(2026, 7, 2))
    left(dept.lead, D(2026, 9, 30))                              # a head who left
    return ns


@pytest.mark.django_db
def test_staff_turnover_is_leavers_over_the_headcount_at_the_start(movements):
    d = movements
    turnover = measure("staff_turnover")
    # 上海一所 (lead left out): at the start sales, sales_mate, leaver, on_notice = 4;
    # leavers: leaver, brief = 2
    team = pct(Fraction(2 * 100, 4))
    # 杭州所: other_sales, first_day, joined_on_start = 3; leavers: first_day
    other_team = pct(Fraction(100, 3))
    # 华东事业部: both teams and both leads (the lead left: a leaver) = 4 + 3 + 2 = 9;
    # leavers: leaver, brief, first_day, lead = 4
    division = pct(Fraction(4 * 100, 9))
    # 经营部: + manager, finance, hr, admin = 13; leavers 4
    department = pct(Fraction(4 * 100, 13))
    assert turnover.per_person(**Q3) == {
        d.lead.pk: team, d.other_lead.pk: other_team, d.manager.pk: division,
        d.director.pk: department}
    assert (team, other_team, division, department) == (
        Decimal("50.00"), Decimal("33.33"), Decimal("44.44"), Decimal("30.77"))
    assert turnover.per_person(**Q3, employee_ids=[d.sales.pk, d.other_lead.pk]) == {
        d.other_lead.pk: other_team}
    assert turnover.per_person(**Q3, employee_ids=[d.sales.pk]) == {}
    assert set(turnover.records(**Q3, employee_ids=[d.lead.pk])) == {d.leaver, d.brief}
    assert turnover.total(**Q3, employee_ids=[d.lead.pk]) == team
    # everyone, nobody left out: 13 + director + outsider (研发部) = 15; leavers 4
    assert turnover.total(**Q3) == pct(Fraction(4 * 100, 15))
    assert turnover.total(**Q3, employee_ids=[d.sales.pk]) is None


# --- team pass rate ---------------------------------------------------------------------------
@pytest.fixture
def appraisals(dept):
    from bizdept.appraisal.models import Appraisal, AppraisalCycle
    from bizdept.appraisal.tests.factories import make_template

    template = make_template(dept.director)

    def cycle(unit, kind, period, since, until, status):
        return AppraisalCycle.objects.create(
            name=f"{period} {unit}", kind=kind, period=period, since=since, until=until,
            unit=unit, status=status, created_by=dept.director)

    def graded(c, employee, grade, unit=None):
        return Appraisal.objects.create(cycle=c, employee=employee, unit=unit or employee.unit,
                                        template=template, template_version=1, grade=grade)

    q3 = cycle(dept.department, "quarterly", "2026-Q3", D(2026, 7, 1), D(2026, 9, 30),
               "approved")
    moved = make_employee(dept.other_team)  # in 上海一所 when Q3 opened
    graded(q3, dept.sales, "A")
    graded(q3, dept.sales_mate, "D")
    graded(q3, moved, "B", unit=dept.team)
    graded(q3, dept.lead, "B")
    graded(q3, dept.other_sales, "C")
    graded(q3, dept.other_lead, "")                    # no grade: neither side
    graded(q3, dept.manager, "S")
    calibrating = cycle(dept.division, "quarterly", "2026-Q3", D(2026, 7, 1),
                        D(2026, 9, 30), "calibration")
    graded(calibrating, dept.sales, "D")               # not approved: not counted
    year = cycle(dept.department, "annual", "2026", D(2026, 1, 1), D(2026, 12, 31),
                 "approved")
    graded(year, dept.sales, "D")
    graded(year, dept.sales_mate, "D")
    dept.moved = moved
    return dept


@pytest.mark.django_db
def test_team_pass_rate_is_the_share_graded_c_or_better_under_the_head(appraisals):
    d = appraisals
    rate = measure("team_pass_rate")
    # Q3 (the annual cycle does not lie within it):
    # lead: sales A, sales_mate D, moved B (上海一所 at the opening) → 2 of 3
    # other_lead: other_sales C → 1 of 1 (their own has no grade, and is theirs)
    # manager: + lead B, other_sales C → 4 of 5; director: + manager S → 5 of 6
    assert rate.per_person(**Q3) == {
        d.lead.pk: pct(Fraction(200, 3)), d.other_lead.pk: Decimal("100.00"),
        d.manager.pk: Decimal("80.00"), d.director.pk: pct(Fraction(500, 6))}
    assert rate.per_person(**Q3, employee_ids=[d.lead.pk, d.sales.pk]) == {
        d.lead.pk: Decimal("66.67")}
    # the whole year: both approved cycles; lead: A, D, B, D, D → 2 of 5
    year = {"since": D(2026, 1, 1), "until": D(2026, 12, 31)}
    assert rate.per_person(**year, employee_ids=[d.lead.pk]) == {d.lead.pk: Decimal("40.00")}
    assert rate.total(**Q3, employee_ids=[d.lead.pk]) == Decimal("66.67")
    assert rate.records(**Q3, employee_ids=[d.lead.pk]).count() == 3
    assert rate.total(**Q3) == pct(Fraction(5 * 100, 6))  # every graded appraisal
    assert rate.per_person(since=D(2025, 1, 1), until=D(2025, 12, 31)) == {}


# --- cost -------------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("code", CODES)
def test_per_person_costs_the_same_for_few_and_many_people(code, appraisals, catalogue):
    d = appraisals
    size("上海", 2026, "1000000.00")
    for person in (d.sales, d.sales_mate, d.other_sales):
        contract = lines(person, D(2026, 8, 5), (catalogue["drives"], "10.00"))
        Customer.objects.filter(pk=contract.customer_id).update(region="上海")
    left(make_employee(d.team), D(2026, 8, 1))
    left(make_employee(d.other_team), D(2026, 8, 1))
    heads = [d.lead.pk, d.other_lead.pk, d.manager.pk, d.director.pk]
    people = [d.sales.pk, d.sales_mate.pk, d.other_sales.pk]
    ids = people if code in ("market_share", "product_mix") else heads
    m = measure(code)

    def cost(who):
        with CaptureQueriesContext(connection) as captured:
            found = m.per_person(**Q3, employee_ids=who)
        return len(captured), found

    (small, few) = cost(ids[:1])
    (large, many) = cost(ids + list(range(10**6, 10**6 + 50)))
    assert small == large and 1 <= small <= 3
    assert set(few) == set(ids[:1]) and set(many) == set(ids)
    assert cost(None)[0] == small


# --- explain links ----------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("code", CODES)
def test_explain_links_open_a_list_page(code, as_user, dept):
    url = measure(code).explain_url(**Q3, employee=dept.lead)
    assert as_user(dept.director).get(url).status_code == 200
    if code in ("staff_turnover", "team_pass_rate"):
        # the people of the head's subtree (the leavers for the turnover)
        assert f"unit={dept.team.pk}" in url
        assert ("status=left" in url) == (code == "staff_turnover")
