"""Role dashboards (RPT-1): each role sees its own dashboard on the home page, with the
figures of records built here; what lies outside the scope is absent; every panel exports
to Excel; the page, the export and the API cost a constant number of queries."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from bizdept.customers.models import Customer
from bizdept.customers.tests.factories import make_customer
from bizdept.org.tests.factories import make_employee, make_unit
from bizdept.reports import selectors
from bizdept.reports.selectors import Kind
from bizdept.sales.choices import ContractStatus
from bizdept.sales.models import Contract
from bizdept.sales.tests.contract_factories import make_contract, plan, signed_contract
from bizdept.targets.choices import Metric, PlanStatus
from bizdept.targets.models import TargetCell, TargetPlan

TODAY = timezone.localdate()
THIS_MONTH = TODAY.replace(day=1)
LAST_YEAR_MONTH = THIS_MONTH.replace(year=TODAY.year - 1)


def home(client, **params):
    response = client.get(reverse("home"), params)
    assert response.status_code == 200
    return response.content.decode()


def count_queries(client, url, **params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return len(ctx)


def sign(owner, amount, on):
    """A contract of ``owner`` signed on ``on`` (backdated: signing is today's act)."""
    contract = signed_contract(owner, amount=amount)
    Contract.objects.filter(pk=contract.pk).update(signed_on=on)
    contract.refresh_from_db()
    return contract


def revenue_plan(dept, by_month: dict[str, tuple[str, str]]) -> TargetPlan:
    """An approved revenue plan of the department with its own monthly cells."""
    target = TargetPlan.objects.create(fiscal_year=TODAY.year, metric=Metric.REVENUE,
                                       unit=dept.department, created_by=dept.director,
                                       status=PlanStatus.APPROVED)
    TargetCell.objects.bulk_create(
        TargetCell(plan=target, unit=dept.department, period=period,
                   realistic=Decimal(realistic), stretch=Decimal(stretch))
        for period, (realistic, stretch) in by_month.items())
    return target


def overdue_revisit(owner, days=3, **fields):
    customer = make_customer(owner, **fields)
    Customer.objects.filter(pk=customer.pk).update(
        next_revisit_on=TODAY - datetime.timedelta(days=days))
    return customer


def panel(board, key):
    return next(p for p in board.panels if p.key == key)


# --- which dashboard ---------------------------------------------------------------------
def test_each_role_gets_its_dashboard(dept, django_user_model):
    expected = {"director": Kind.DIRECTOR, "manager": Kind.TEAM, "lead": Kind.TEAM,
                "sales": Kind.SALES, "finance": Kind.FINANCE, "hr": Kind.NONE}
    for persona, kind in expected.items():
        assert selectors.dashboard_kind(getattr(dept, persona).user) == kind, persona
    bare = django_user_model.objects.create_user("bare", password="x-pass-123")
    assert selectors.dashboard_kind(bare) == Kind.NONE


def test_home_shows_the_dashboard_then_the_org_card(as_user, dept):
    html = home(as_user(dept.sales))
    assert 'id="dashboard"' in html and 'data-kind="sales"' in html
    assert html.index('id="dashboard"') < html.index('id="my-unit"')
    assert "echarts.min.js" in html


def test_hr_keeps_the_org_home(as_user, dept):
    html = home(as_user(dept.hr))
    assert 'id="dashboard"' not in html and "echarts" not in html
    assert 'id="my-unit"' in html


# --- director ----------------------------------------------------------------------------
@pytest.fixture
def department_book(dept):
    """Revenue this month and the same month last year; the outsider's (another
    department) too, which must not count."""
    sign(dept.sales, "120000.00", THIS_MONTH)
    sign(dept.other_sales, "30000.50", THIS_MONTH)
    sign(dept.sales_mate, "45000.25", LAST_YEAR_MONTH)
    # Nobody heads the outsider's department to approve it: signed by hand.
    theirs = make_contract(dept.outsider, amount="999999.00")
    Contract.objects.filter(pk=theirs.pk).update(status=ContractStatus.SIGNED,
                                                 signed_on=THIS_MONTH)
    revenue_plan(dept, {f"{TODAY.year}-{m:02d}": ("100000.00", "150000.00")
                        for m in range(1, 13)})
    return dept


def test_director_sees_the_department_against_target_by_month(as_user, department_book):
    dept = department_book
    board = selectors.dashboard(user=dept.director.user)
    assert board.kind == Kind.DIRECTOR
    rows = {r["month"]: r for r in panel(board, "department_monthly").rows}
    month = f"{TODAY.year}-{TODAY.month:02d}"
    assert rows[month]["actual"] == Decimal("150000.50")  # the outsider's is not ours
    assert rows[month]["realistic"] == Decimal("100000.00")
    assert rows[month]["stretch"] == Decimal("150000.00")
    assert rows[month]["cum_realistic"] == Decimal("100000.00") * TODAY.month
    assert rows[month]["cum_actual"] == Decimal("150000.50")
    if TODAY.month < 12:  # months to come have no actual yet
        assert rows[f"{TODAY.year}-{TODAY.month + 1:02d}"]["actual"] is None
    html = home(as_user(dept.director))
    assert 'id="panel-department_monthly"' in html and "150,000.50" in html
    assert "999,999.00" not in html


def test_director_sees_the_trend_against_last_year(department_book):
    dept = department_book
    board = selectors.dashboard(user=dept.director.user)
    rows = {r["month"]: r for r in panel(board, "trend").rows}
    here = rows[f"{TODAY.month:02d}"]
    assert here["last"] == Decimal("45000.25") and here["this"] == Decimal("150000.50")
    assert here["change"] == ((Decimal("150000.50") - Decimal("45000.25")) * 100
                              / Decimal("45000.25")).quantize(Decimal("0.01"))


@pytest.mark.parametrize("metric", Metric.values)
def test_monthly_figures_are_the_measures_own(department_book, metric):
    """``Measure.per_month`` groups the measure's own records and aggregate: each month equals
    the measure's total for that month (and the months add up to the year)."""
    from bizdept.customers import services as customer_services
    from bizdept.kpi.measures import measure

    dept = department_book
    customer = Customer.objects.filter(owner=dept.sales).first()
    customer_services.visit_log(customer=customer, by=dept.sales.user, summary="回访")
    m = measure(metric)
    months = m.per_month(since=datetime.date(TODAY.year, 1, 1),
                                 until=datetime.date(TODAY.year, 12, 31))
    for month in selectors.months_of(TODAY.year):
        first, last = selectors.period_bounds(month)
        assert months.get(month, m.zero) == m.total(since=first, until=last), month
    assert sum(months.values(), m.zero) == m.total(since=datetime.date(TODAY.year, 1, 1),
                                                   until=datetime.date(TODAY.year, 12, 31))


def test_director_metric_picker_changes_the_department_charts(department_book):
    dept = department_book
    board = selectors.dashboard(user=dept.director.user, metric=Metric.NEW_CUSTOMERS)
    rows = panel(board, "department_monthly").rows
    month = f"{TODAY.year}-{TODAY.month:02d}"
    # the contracts' customers were created today, by their owners (the outsider's not ours)
    assert next(r for r in rows if r["month"] == month)["actual"] == 3


# --- figures from the tracking (TGT-5, TGT-6) --------------------------------------------
QUARTER = f"{TODAY.year}-Q{(TODAY.month - 1) // 3 + 1}"


@pytest.fixture
def quarter_plan(dept):
    """An approved revenue plan with this quarter's cells: the division 200,000, the
    salesperson and their mate 100,000 each; the salesperson signed 60,000 today."""
    target = TargetPlan.objects.create(fiscal_year=TODAY.year, metric=Metric.REVENUE,
                                       unit=dept.department, created_by=dept.director,
                                       status=PlanStatus.APPROVED)
    cells = [(dept.division, None, "200000.00"), (dept.team, None, "200000.00"),
             (dept.team, dept.sales, "100000.00"), (dept.team, dept.sales_mate, "100000.00")]
    TargetCell.objects.bulk_create(
        TargetCell(plan=target, unit=unit, employee=person, period=QUARTER,
                   realistic=Decimal(value), stretch=Decimal(value) * 2)
        for unit, person, value in cells)
    sign(dept.sales, "60000.00", TODAY)
    return dept


def test_salesperson_sees_own_targets_and_pace(as_user, quarter_plan):
    dept = quarter_plan
    rows = panel(selectors.dashboard(user=dept.sales.user), "my_targets").rows
    with translation.override("zh-hans"):  # the page speaks the user's language
        revenue = str(Metric.REVENUE.label)
    quarter = next(r for r in rows if r["period"] == QUARTER and r["_places"] == 2
                   and r["realistic"] == Decimal("100000.00"))
    assert quarter["actual"] == Decimal("60000.00") and quarter["achievement"] == Decimal("60.00")
    assert {r["period"] for r in rows} == {f"{TODAY.year}-{TODAY.month:02d}", QUARTER,
                                          str(TODAY.year)}
    assert len(rows) == 3 * len(Metric.values)
    with translation.override("en"):
        html = home(as_user(dept.sales))
    assert revenue in html and "60.00%" in html and 'id="chart-my_targets"' in html


def test_lead_sees_the_team_ranked_by_revenue_achievement(as_user, quarter_plan):
    dept = quarter_plan
    board = selectors.dashboard(user=dept.lead.user)
    ranked = panel(board, "team_ranking").rows
    assert [(r["rank"], r["name"], r["achievement"]) for r in ranked][:2] == [
        (1, dept.sales.name, Decimal("60.00")), (2, dept.sales_mate.name, Decimal("0.00"))]
    assert all(r["_flag"] == (r["pace"] == "behind") for r in ranked)
    assert dept.other_sales.name not in {r["name"] for r in ranked}
    html = home(as_user(dept.lead))
    assert 'id="table-team_ranking"' in html


def test_director_sees_the_divisions_side_by_side(quarter_plan):
    dept = quarter_plan
    rows = panel(selectors.dashboard(user=dept.director.user), "divisions").rows
    assert [(r["name"], r[Metric.REVENUE]) for r in rows] == [(dept.division.name,
                                                               Decimal("30.00"))]
    assert rows[0][Metric.VISITS] is None  # no target: no achievement


# --- salesperson --------------------------------------------------------------------------
def test_salesperson_sees_own_revisits_requests_and_receivables(as_user, dept):
    from bizdept.approvals.demo import ensure_default_policies
    from bizdept.sales import services
    from bizdept.sales.tests.factories import make_claim

    ensure_default_policies()
    mine = overdue_revisit(dept.sales, days=5, name="我的逾期客户")
    overdue_revisit(dept.sales_mate, name="同事的逾期客户")
    claim = make_claim(dept.sales, amount="321.00")
    services.expense_claim_submit(claim=claim, by=dept.sales.user)
    contract = signed_contract(dept.sales, amount="50000.00")
    plan(contract, dept.sales, (-40, "20000"), (30, "30000"))
    theirs = signed_contract(dept.sales_mate, amount="70000.00")
    plan(theirs, dept.sales_mate, (-10, "70000"))

    board = selectors.dashboard(user=dept.sales.user)
    assert [p.key for p in board.panels] == ["my_targets", "my_revisits", "my_requests",
                                             "my_receivables", "my_appraisals",
                                             "my_bonus"]
    revisits = panel(board, "my_revisits")
    assert [r["customer"] for r in revisits.rows] == [mine.name] and revisits.total == 1
    assert revisits.rows[0]["days"] == 5
    requests = panel(board, "my_requests")
    assert requests.total == 1 and requests.rows[0]["amount"] == Decimal("321.00")
    assert requests.rows[0]["waiting_for"] == dept.lead.name
    receivables = panel(board, "my_receivables")
    assert sum(r["amount"] for r in receivables.rows) == Decimal("20000.00")  # not the mate's

    html = home(as_user(dept.sales))
    assert "我的逾期客户" in html and "同事的逾期客户" not in html
    assert "20,000.00" in html and "70,000.00" not in html


# --- team lead and manager ---------------------------------------------------------------
def test_lead_sees_the_team_and_nothing_of_the_other_team(as_user, dept):
    from bizdept.sales.tests.factories import make_opportunity

    overdue_revisit(dept.sales, days=2)
    overdue_revisit(dept.sales, days=9)
    overdue_revisit(dept.sales_mate, days=1)
    overdue_revisit(dept.other_sales, days=4, name="另一所的客户")
    make_opportunity(dept.sales, title="本所商机")
    make_opportunity(dept.other_sales, title="另一所商机")
    contract = signed_contract(dept.sales_mate, amount="80000.00")
    plan(contract, dept.sales_mate, (-100, "80000"))
    theirs = signed_contract(dept.other_sales, amount="60000.00")
    plan(theirs, dept.other_sales, (-100, "60000"))

    board = selectors.dashboard(user=dept.lead.user)
    assert board.kind == Kind.TEAM and board.frame.unit == dept.team
    revisits = panel(board, "team_revisits")
    assert [(r["name"], r["count"]) for r in revisits.rows] == [(dept.sales.name, 2),
                                                                (dept.sales_mate.name, 1)]
    assert revisits.rows[0]["days"] == 9 and revisits.total == 3
    funnel = panel(board, "team_funnel")
    assert sum(r["count"] for r in funnel.rows) == 1  # the other team's is not counted
    receivables = panel(board, "team_receivables")
    assert [(r["name"], r["total"]) for r in receivables.rows] == [
        (dept.sales_mate.name, Decimal("80000.00"))]

    manager = selectors.dashboard(user=dept.manager.user)
    assert manager.frame.unit == dept.division  # the division: both teams
    names = {r["name"] for r in panel(manager, "team_receivables").rows}
    assert names == {dept.sales_mate.name, dept.other_sales.name}

    html = home(as_user(dept.lead))
    assert 'data-kind="team"' in html and "另一所的客户" not in html


def test_approvals_waiting_for_the_head_are_on_the_dashboard(as_user, dept):
    from bizdept.approvals.demo import ensure_default_policies
    from bizdept.sales import services
    from bizdept.sales.tests.factories import make_claim

    ensure_default_policies()
    claim = make_claim(dept.sales, amount="456.00", description="客户拜访差旅")
    services.expense_claim_submit(claim=claim, by=dept.sales.user)
    inbox = panel(selectors.dashboard(user=dept.lead.user), "inbox")
    assert inbox.total == 1 and inbox.rows[0]["requested_by"] == dept.sales.name
    assert panel(selectors.dashboard(user=dept.manager.user), "inbox").total == 0


# --- finance -------------------------------------------------------------------------------
def test_finance_sees_receivables_and_collections_of_the_department(dept):
    from bizdept.sales import services

    contract = signed_contract(dept.sales, amount="50000.00")
    plan(contract, dept.sales, (-40, "20000"), (-5, "30000"))
    services.payment_record(contract=contract, by=dept.finance.user, received_on=TODAY,
                            amount="25000")
    board = selectors.dashboard(user=dept.finance.user)
    aging = panel(board, "department_aging")
    assert sum(r["amount"] for r in aging.rows) == Decimal("25000.00")
    rates = panel(board, "collection_units")
    assert [(r["name"], r["collected"]) for r in rates.rows] == [
        (dept.team.name, Decimal("25000.00"))]


# --- Excel export ----------------------------------------------------------------------------
def read_xlsx(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_each_panel_exports_its_table(as_user, department_book):
    dept = department_book
    client = as_user(dept.director)
    rows = read_xlsx(client.get(reverse("reports:export", args=["department_monthly"])))
    # In the user's language (zh-Hans by default), like the page.
    assert rows[0][:4] == ["月份", "现实目标", "理想目标", "实际完成"]
    month = next(r for r in rows if r[0] == f"{TODAY.year}-{TODAY.month:02d}")
    assert month[3] == "150000.50" or Decimal(str(month[3])) == Decimal("150000.50")
    for key in ("divisions", "trend", "inbox"):
        assert client.get(reverse("reports:export", args=[key])).status_code == 200


def test_export_of_a_list_has_every_row(as_user, dept):
    for n in range(selectors.LIST_LIMIT + 2):
        overdue_revisit(dept.sales, days=n + 1)
    client = as_user(dept.sales)
    assert len(panel(selectors.dashboard(user=dept.sales.user), "my_revisits").rows) == \
        selectors.LIST_LIMIT
    rows = read_xlsx(client.get(reverse("reports:export", args=["my_revisits"])))
    assert len(rows) == selectors.LIST_LIMIT + 2 + 1  # and the header


def test_another_roles_panel_is_not_exported(as_user, dept):
    client = as_user(dept.sales)
    for key in ("department_monthly", "team_receivables", "nonsense"):
        assert client.get(reverse("reports:export", args=[key])).status_code == 404
    assert as_user(dept.hr).get(reverse("reports:export", args=["inbox"])).status_code == 404


# --- API -------------------------------------------------------------------------------------
def test_api_gives_the_dashboard_of_the_caller(as_user, department_book):
    dept = department_book
    body = as_user(dept.director).get("/api/v1/reports/dashboard").json()
    assert body["kind"] == "director" and body["unit_id"] == dept.department.pk
    monthly = next(p for p in body["panels"] if p["key"] == "department_monthly")
    month = next(r for r in monthly["rows"] if r["month"] == f"{TODAY.year}-{TODAY.month:02d}")
    assert Decimal(month["actual"]) == Decimal("150000.50") and month["places"] == 2
    assert as_user(dept.hr).get("/api/v1/reports/dashboard").json()["panels"] == []


def test_api_refuses_a_bad_period_or_metric_naming_the_field(as_user, dept):
    client = as_user(dept.director)
    with translation.override("en"):
        bad = client.get("/api/v1/reports/dashboard", {"period": "2026-13"})
        assert bad.status_code == 400 and "period" in bad.json()["errors"]
        bad = client.get("/api/v1/reports/dashboard", {"metric": "profit"})
        assert bad.status_code == 422 and "metric" in bad.json()["errors"]


def test_bad_picker_values_fall_back_to_the_defaults_on_the_page(as_user, dept):
    html = home(as_user(dept.director), period="nonsense", metric="nonsense")
    assert 'data-kind="director"' in html


# --- query counts: constant however many people and records ------------------------------
def _grow(dept, teams=2, per_team=4, name="扩展所"):
    """More people, each with an overdue revisit and a signed contract with an overdue
    instalment; the personas get one more of each and a pending request."""
    from bizdept.approvals.demo import ensure_default_policies
    from bizdept.sales import services
    from bizdept.sales.tests.factories import make_claim

    ensure_default_policies()
    for t in range(teams):
        team = make_unit(f"{name}{t}", parent=dept.division)
        for _ in range(per_team):
            person = make_employee(team)
            overdue_revisit(person)
            contract = signed_contract(person, amount="10000.00")
            plan(contract, person, (-20, "10000"))
    for person in (dept.sales, dept.sales_mate, dept.other_sales):
        overdue_revisit(person)
        contract = signed_contract(person, amount="5000.00")
        plan(contract, person, (-20, "5000"))
        services.expense_claim_submit(claim=make_claim(person), by=person.user)


@pytest.mark.parametrize("persona", ["director", "manager", "lead", "sales", "finance"])
def test_dashboard_query_count_does_not_grow(as_user, dept, persona):
    client = as_user(getattr(dept, persona))
    urls = [reverse("home"), "/api/v1/reports/dashboard"]
    _grow(dept, teams=1, per_team=1, name="起步所")  # every list has a row to show
    small = [count_queries(client, url) for url in urls]
    _grow(dept)
    assert [count_queries(client, url) for url in urls] == small


@pytest.mark.parametrize("key", ["department_monthly", "divisions", "trend"])
def test_director_export_query_count_does_not_grow(as_user, dept, key):
    client = as_user(dept.director)
    url = reverse("reports:export", args=[key])
    _grow(dept, teams=1, per_team=1, name="起步所")
    small = count_queries(client, url)
    _grow(dept)
    assert count_queries(client, url) == small


def test_reports_dashboard_address_leads_home(as_user, dept):
    response = as_user(dept.sales).get(reverse("reports:dashboard") + "?period=2026-Q1")
    assert response.status_code == 302 and response["Location"] == "/?period=2026-Q1"


def test_a_head_who_carries_a_quota_also_sees_own_targets(quarter_plan):
    dept = quarter_plan
    assert "my_targets" not in [p.key for p in selectors.dashboard(user=dept.lead.user).panels]
    target = TargetPlan.objects.get(metric=Metric.REVENUE)
    TargetCell.objects.create(plan=target, unit=dept.team, employee=dept.lead, period=QUARTER,
                              realistic=Decimal("50000.00"), stretch=Decimal("80000.00"))
    keys = [p.key for p in selectors.dashboard(user=dept.lead.user).panels]
    assert keys[:2] == ["team_ranking", "my_targets"]


@pytest.mark.parametrize("persona", ["director", "manager", "lead", "sales", "finance"])
def test_every_see_all_link_opens(as_user, quarter_plan, persona):
    dept = quarter_plan
    client = as_user(getattr(dept, persona))
    for item in selectors.dashboard(user=getattr(dept, persona).user).panels:
        if item.more_url:
            assert client.get(item.more_url).status_code == 200, (item.key, item.more_url)


def test_appraisal_to_dos_reach_the_salesperson_and_the_lead(as_user, dept):
    """PER-3: the open cycle's steps waiting for someone are on their dashboards; the
    grade shows once the results are approved."""
    from bizdept.appraisal import services as appraisal_services
    from bizdept.appraisal.tests.cycles import cycle_policy, open_cycle, sales_template, to_stage

    sales_template(dept.hr)
    cycle_policy(dept.admin)
    cycle = to_stage(open_cycle(dept), dept.hr, "self_assessment")
    mine = panel(selectors.dashboard(user=dept.sales.user), "my_appraisals")
    assert [r["todo"] for r in mine.rows] == ["待提交自评"]
    team = panel(selectors.dashboard(user=dept.lead.user), "team_appraisals")
    assert {r["name"] for r in team.rows} == {dept.sales.name, dept.sales_mate.name}
    assert panel(selectors.dashboard(user=dept.other_lead.user),
                 "team_appraisals").total == 1  # their own team only
    cycle = appraisal_services.cycle_advance(cycle=cycle, by=dept.hr.user)
    team = panel(selectors.dashboard(user=dept.lead.user), "team_appraisals")
    assert {r["todo"] for r in team.rows} == {"待评价"}
    assert "我的考核" in home(as_user(dept.sales))
