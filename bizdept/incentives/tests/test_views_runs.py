"""Bonus run pages (INC-2 in the browser): the runs, one run's lines, the payroll
workbook, one line's arithmetic in words, my bonus and the dashboard panel.

The rules are the services' (test_runs.py); here: each page renders for the right people
and answers 404/403 to the others, the actions post through the services, the workbook's
totals are the lines', and the pages cost the same number of queries for more people."""

import io
from decimal import Decimal

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from bizdept.appraisal.tests.cycles import cycle_policy
from bizdept.incentives import selectors, services
from bizdept.incentives.models import BonusLine, BonusRun
from bizdept.kpi.tests import records
from bizdept.sales.tests.factories import decide
from bizdept.targets.models import TargetCell

from .factories import PERIOD, Q3_DAY, approved_cycle, plan_in_force, policies

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"incentives:{name}", args=args)


def body(response) -> str:
    return response.content.decode()


def in_english(employee):
    employee.user.language = "en"
    employee.user.save(update_fields=["language"])
    return employee


@pytest.fixture
def setup(dept):
    cycle_policy(dept.director)
    policies(dept.finance)
    return dept


def _make_run(dept, **plan):
    from bizdept.targets.tests.factories import approved_plan

    approved_plan(dept)
    target = TargetCell.objects.get(plan__metric="revenue", employee=dept.sales,
                                    period=PERIOD).realistic
    records.contract(dept.sales, total=str((target * Decimal("1.3")).quantize(
        Decimal("0.01"))), signed_on=Q3_DAY)
    cycle = approved_cycle(dept, grades={dept.sales: "A", dept.sales_mate: "B"},
                           revenue_source="plan")
    plan_in_force(dept, **plan)
    return services.run_create(by=dept.director.user, cycle=cycle)


@pytest.fixture
def run(setup):
    """A draft run of the persona department's approved Q3 cycle, with commission."""
    return _make_run(setup)


def _line(run, employee) -> BonusLine:
    return BonusLine.objects.get(run=run, employee=employee)


def _money(value) -> str:
    return f"¥{value:,.2f}"


def text(html) -> str:
    """The words of a page: tags out, spaces collapsed."""
    import re

    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- the explanation partial -------------------------------------------------------------
def test_the_explanation_of_an_unsaved_line_renders_without_a_query(run, dept):
    lines = [line for line in selectors.bonus_lines_for(run.cycle)
             if line.employee_id == dept.sales.pk]
    assert lines and lines[0].pk is None
    line = lines[0]
    with translation.override("en"), CaptureQueriesContext(connection) as ctx:
        html = render_to_string("incentives/_explanation.html", {"line": line})
    assert len(ctx) == 0
    steps = line.explanation["commission"]["steps"]
    words = text(html)
    assert "from 80% to 100%" in words
    assert f"part {_money(Decimal(steps[1]['part']))} × 3% = " \
           f"{_money(Decimal(steps[1]['commission']))}" in words
    assert "Base amount ¥5,000.00 × coefficient 1.2 (looked up from the grade: A) = " \
           "¥6,000.00" in words
    assert f'<span class="ex-total">{_money(line.total)}</span>' in html
    assert reverse("appraisal:appraisal_detail", args=[line.appraisal_id]) in html
    assert "half up to the cent" in html


def test_the_explanation_says_which_gates_are_hit_and_what_the_caps_cut(setup, as_user):
    dept = setup
    run = _make_run(dept, gates=[{"kind": "grade_in", "grades": ["B"], "blocks": "all"}],
                    commission_cap="1000", total_cap="6500")
    mine, mate = _line(run, dept.sales), _line(run, dept.sales_mate)
    client = as_user(in_english(dept.director))
    words = text(body(client.get(url("line_detail", mate.pk))))
    assert "Grade is one of B (value: B): hit — no bonus at all" in words
    assert "Base bonus ¥0.00 + commission ¥0.00 = ¥0.00" in words
    words = text(body(client.get(url("line_detail", mine.pk))))
    assert "Grade is one of B (value: A): not hit (would mean no bonus at all)" in words
    assert "Commission cap ¥1,000.00: ¥473.36 cut" in words
    assert "Cap per person ¥6,500.00: ¥500.00 cut" in words
    assert "Base bonus ¥6,000.00 + commission ¥1,000.00 − cut by the cap per person " \
           "¥500.00 = ¥6,500.00" in words
    assert mine.total == Decimal("6500.00")


# --- run list and detail -------------------------------------------------------------------
def test_run_list_shows_totals_the_user_may_see_and_the_new_run_form_to_managers(
        run, as_user, dept):
    page = body(as_user(dept.director).get(url("run_list")))
    assert url("run_detail", run.pk) in page and 'id="run-create-form"' not in page
    assert 'id="no-open-cycle"' in page  # the only approved cycle has its run
    run.refresh_from_db()
    assert f"{run.total:,.2f}" in page
    mine = _line(run, dept.sales).total
    page = body(as_user(dept.sales).get(url("run_list")))
    assert url("run_detail", run.pk) in page and 'id="new-run"' not in page
    assert f"{mine:,.2f}" in page and f"{run.total:,.2f}" not in page
    assert as_user(dept.outsider).get(url("run_detail", run.pk)).status_code == 404


def test_run_detail_lines_per_role(run, as_user, dept):
    director = body(as_user(dept.director).get(url("run_detail", run.pk)))
    for person in (dept.sales, dept.sales_mate, dept.other_sales):
        assert url("line_detail", _line(run, person).pk) in director
    assert 'id="submit-run"' in director and 'id="recompute-run"' in director
    assert 'id="export-payroll"' in director
    lead = body(as_user(dept.lead).get(url("run_detail", run.pk)))
    assert url("line_detail", _line(run, dept.sales).pk) in lead
    assert url("line_detail", _line(run, dept.sales_mate).pk) in lead
    assert url("line_detail", _line(run, dept.other_sales).pk) not in lead
    assert 'id="submit-run"' not in lead and 'id="export-payroll"' not in lead
    sales = body(as_user(dept.sales).get(url("run_detail", run.pk)))
    assert url("line_detail", _line(run, dept.sales).pk) in sales
    assert url("line_detail", _line(run, dept.sales_mate).pk) not in sales


def test_run_detail_filters(run, as_user, dept):
    client = as_user(dept.director)
    page = body(client.get(url("run_detail", run.pk) + f"?q={dept.sales.name}"))
    assert url("line_detail", _line(run, dept.sales).pk) in page
    # the list's filter bar, open (not folded behind a button as on a list page)
    assert 'id="filter-form"' in page and "collapse d-md-flex" not in page
    assert url("line_detail", _line(run, dept.other_sales).pk) not in page
    page = body(client.get(url("run_detail", run.pk) + "?grade=A&sort=-total"))
    assert url("line_detail", _line(run, dept.sales).pk) in page
    page = body(client.get(url("run_detail", run.pk) + f"?unit={dept.team.pk}&gates=clear"))
    assert url("line_detail", _line(run, dept.sales).pk) in page
    assert url("line_detail", _line(run, dept.other_sales).pk) not in page
    page = body(client.get(url("run_detail", run.pk) + "?gates=hit"))
    assert url("line_detail", _line(run, dept.sales).pk) not in page


# --- actions through the pages -------------------------------------------------------------
def test_create_recompute_and_submit_through_the_pages(setup, as_user, dept):
    cycle = approved_cycle(dept)
    plan_in_force(dept)
    assert as_user(dept.lead).post(url("run_create"), {"cycle": cycle.pk}).status_code == 403
    client = as_user(in_english(dept.director))
    page = body(client.get(url("run_list")))
    assert 'id="run-create-form"' in page and f'value="{cycle.pk}"' in page
    response = client.post(url("run_create"), {"cycle": cycle.pk, "name": ""})
    run = BonusRun.objects.get(cycle=cycle)
    assert response.status_code == 302 and response["Location"] == url("run_detail", run.pk)
    assert run.people > 0
    response = client.post(url("run_recompute", run.pk), follow=True)
    assert "worked out again" in body(response)
    assert as_user(dept.lead).post(url("run_submit", run.pk)).status_code == 403
    run.refresh_from_db()
    assert run.status == "draft"
    client = as_user(dept.director)
    response = client.post(url("run_submit", run.pk), {"comment": "请审批"}, follow=True)
    run.refresh_from_db()
    assert run.status == "submitted"
    page = body(response)
    assert "submitted for approval" in page and 'id="submit-run"' not in page
    assert "请审批" in page  # the approval history
    response = client.post(url("run_recompute", run.pk), follow=True)
    assert "does not change" in body(response)
    decide(run)
    run.refresh_from_db()
    assert run.status == "approved"


def test_creating_a_second_run_of_a_cycle_is_refused_with_a_message(run, as_user, dept):
    client = as_user(dept.director)
    response = client.post(url("run_create"), {"cycle": run.cycle_id}, follow=True)
    assert BonusRun.objects.count() == 1
    assert response.status_code == 200


# --- payroll export ------------------------------------------------------------------------
def _sheet(response):
    from openpyxl import load_workbook

    content = b"".join(response.streaming_content)
    return load_workbook(io.BytesIO(content)).active


def test_payroll_export_totals_are_the_lines(run, as_user, dept):
    response = as_user(in_english(dept.director)).get(url("run_export", run.pk))
    assert response.status_code == 200
    ws = _sheet(response)
    rows = list(ws.iter_rows(values_only=True))
    assert "draft / not approved" in rows[0][0]
    assert rows[3][1] == "half up to the cent"
    header = rows[5]
    assert header[0] == "Employee number" and header[-2] == "Bonus"
    people = rows[6:-1]
    lines = BonusLine.objects.filter(run=run)
    assert len(people) == lines.count()
    by_number = {r[0]: r for r in people}
    sales = _line(run, dept.sales)
    assert Decimal(str(by_number[dept.sales.number][12])) == sales.total
    assert Decimal(str(by_number[dept.sales.number][10])) == sales.commission
    total = rows[-1]
    assert total[0] == "Total"
    assert Decimal(str(total[12])).quantize(Decimal("0.01")) == sum(
        lines.values_list("total", flat=True))
    assert Decimal(str(total[10])).quantize(Decimal("0.01")) == sum(
        lines.values_list("commission", flat=True))
    assert ws.cell(row=7, column=13).number_format == "#,##0.00"


def test_payroll_export_is_for_managers_and_finance_only(run, as_user, dept):
    assert as_user(dept.finance).get(url("run_export", run.pk)).status_code == 200
    assert as_user(dept.sales).get(url("run_export", run.pk)).status_code == 403
    assert as_user(dept.lead).get(url("run_export", run.pk)).status_code == 403
    assert as_user(dept.outsider).get(url("run_export", run.pk)).status_code == 404
    assert as_user(dept.lead).get(url("run_detail", run.pk) + "?export=xlsx").status_code \
        == 403


def test_an_approved_run_export_is_not_marked_draft(run, as_user, dept):
    services.run_submit(run=run, by=dept.director.user)
    decide(run)
    ws = _sheet(as_user(in_english(dept.director)).get(url("run_export", run.pk)))
    assert "draft" not in ws.cell(row=1, column=1).value


# --- one line ---------------------------------------------------------------------------
def test_sales_opens_their_own_line_but_not_a_teammates(run, as_user, dept):
    client = as_user(in_english(dept.sales))
    line = _line(run, dept.sales)
    page = body(client.get(url("line_detail", line.pk)))
    assert f'<span class="ex-total">{_money(line.total)}</span>' in page
    assert f'<span class="ex-commission">{_money(line.commission)}</span>' in page
    assert "from 100% to 120%" in page
    assert client.get(url("line_detail", _line(run, dept.sales_mate).pk)).status_code == 404
    assert client.get(url("line_detail", 999999)).status_code == 404
    printed = client.get(url("line_detail", line.pk) + "?print=1")
    assert printed.status_code == 200 and 'id="bonus-report"' in body(printed)


def test_a_lead_opens_the_lines_of_their_team_only(run, as_user, dept):
    client = as_user(dept.lead)
    assert client.get(url("line_detail", _line(run, dept.sales).pk)).status_code == 200
    assert client.get(url("line_detail", _line(run, dept.other_sales).pk)).status_code == 404
    assert as_user(dept.finance).get(
        url("line_detail", _line(run, dept.other_sales).pk)).status_code == 200


def test_a_frozen_line_page_is_unchanged_by_later_records(run, as_user, dept):
    services.run_submit(run=run, by=dept.director.user)
    decide(run)
    line = _line(run, dept.sales)
    before = body(as_user(dept.sales).get(url("line_detail", line.pk)))
    records.contract(dept.sales, total="999999", signed_on=Q3_DAY)
    after = body(as_user(dept.sales).get(url("line_detail", line.pk)))
    assert f'<span class="ex-total">{_money(line.total)}</span>' in after
    assert before.count("ex-tier-commission") == after.count("ex-tier-commission")


# --- my bonus and the dashboard --------------------------------------------------------
def test_my_bonus_lists_my_lines_and_has_an_empty_state(run, as_user, dept):
    page = body(as_user(dept.sales).get(url("my_bonus")))
    assert url("line_detail", _line(run, dept.sales).pk) in page
    assert url("line_detail", _line(run, dept.sales_mate).pk) not in page
    empty = as_user(in_english(dept.director)).get(url("my_bonus"))
    assert "No bonus has been worked out for you yet." in body(empty)


def test_pages_need_a_login(run, client, dept):
    line = _line(run, dept.sales)
    for address in (url("run_list"), url("run_detail", run.pk), url("run_export", run.pk),
                    url("line_detail", line.pk), url("my_bonus")):
        response = client.get(address)
        assert response.status_code == 302 and "/login/" in response["Location"], address


# --- query counts -------------------------------------------------------------------------
def _cost(client, address) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(address)
    assert response.status_code == 200, address
    return len(ctx)


def _more_people(run, n):
    """n more lines in the run: copies of the sales line for new colleagues."""
    from bizdept.org.choices import RoleCode
    from bizdept.org.tests.factories import make_employee

    model = BonusLine.objects.filter(run=run).order_by("pk").first()
    for _i in range(n):
        person = make_employee(model.unit, role=RoleCode.SALES)
        BonusLine.objects.create(
            run=run, employee=person, unit=model.unit, appraisal=model.appraisal,
            plan=model.plan, grade=model.grade, score=model.score,
            coefficient=model.coefficient, base_bonus=model.base_bonus,
            commission=model.commission, capped_by=model.capped_by, total=model.total,
            explanation=model.explanation)


@pytest.mark.parametrize("page", ["runs", "run", "mine", "line"])
def test_pages_cost_constant_queries(run, as_user, dept, page):
    who = {"mine": dept.sales, "line": dept.sales}.get(page, dept.director)
    client = as_user(who)
    address = {"runs": url("run_list"), "run": url("run_detail", run.pk),
               "mine": url("my_bonus"),
               "line": url("line_detail", _line(run, dept.sales).pk)}[page]
    small = _cost(client, address)
    _more_people(run, 6)
    assert _cost(client, address) <= small


def test_the_salespersons_dashboard_shows_their_latest_bonus(run, as_user, dept):
    from bizdept.reports import selectors as reports

    board = reports.dashboard(user=dept.sales.user)
    mine = next(p for p in board.panels if p.key == "my_bonus")
    line = _line(run, dept.sales)
    assert mine.total == 1 and mine.rows[0]["total"] == line.total
    assert mine.rows[0]["_url"] == url("line_detail", line.pk)
    page = body(as_user(dept.sales).get(reverse("home")))
    assert url("line_detail", line.pk) in page and f"{line.total:,.2f}" in page


def test_hr_keeps_the_runs_and_reads_the_lines_of_the_money_scope(run, as_user, dept):
    seen = selectors.line_list(user=dept.hr.user, run=run).count()
    page = as_user(dept.hr).get(url("run_detail", run.pk))
    assert page.status_code == 200 and 'id="submit-run"' in body(page)
    assert body(page).count('class="line-row"') == seen


def test_the_run_list_and_my_bonus_export_money_as_numbers(run, as_user, dept):
    mine = _line(run, dept.sales)
    rows = list(_sheet(as_user(dept.sales).get(url("my_bonus") + "?export=xlsx"))
                .iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][-1] == float(mine.total)
    rows = list(_sheet(as_user(dept.sales).get(url("run_list") + "?export=xlsx"))
                .iter_rows(values_only=True))
    assert rows[1][3] == 1 and rows[1][4] == float(mine.total)  # only their own line


def test_records_and_target_plan_sources_link_to_their_pages_without_a_query():
    """Figures read from the records link to the records of the period (the KPI's own
    list, filtered to the person); a target from the target plan links to the plan."""
    explanation = {
        "plan": {"id": 7, "name": "方案", "number": 2}, "rounding": "ROUND_HALF_UP 0.01",
        "period": {"since": "2026-07-01", "until": "2026-09-30"},
        "inputs": {
            "grade": {"value": "B", "source": "appraisal", "ref": 3},
            "score": {"value": "75.00", "source": "appraisal", "ref": 3},
            "actual": {"code": "revenue", "value": "1000.00", "source": "records",
                       "ref": None},
            "target": {"code": "revenue", "value": "2000.00", "source": "plan", "ref": 11},
            "kpis": [{"code": "collection_rate", "value": None, "source": "records",
                      "ref": None}]},
        "base": {"amount": "5000.00", "basis": "grade", "looked_up": "B",
                 "coefficient": "1.0", "result": "5000.00", "blocked": False},
        "commission": {"measure": "revenue", "mode": "tiered", "achievement": "50.00",
                       "reason": "", "sum": "0.00", "blocked": False,
                       "steps": [{"from": "0", "to": "80", "rate": "0.00", "lower": "0.00",
                                  "upper": "1600.00", "part": "1000.00",
                                  "commission": "0.00"}]},
        "gates": [{"kind": "kpi_below", "kpi": "collection_rate", "floor": "60",
                   "grades": [], "blocks": "commission", "hit": False, "value": None}],
        "caps": [], "total": "5000.00"}
    line = BonusLine(employee_id=42, total=Decimal("5000.00"), explanation=explanation)
    with translation.override("en"), CaptureQueriesContext(connection) as ctx:
        html = render_to_string("incentives/_explanation.html", {"line": line})
    assert len(ctx) == 0
    assert reverse("sales:contract_list") + "?" in html and "owner=42" in html
    assert reverse("targets:plan_detail", args=[11]) in html
    assert reverse("incentives:plan_detail", args=[7]) in html
    words = text(html)
    assert "Achievement: ¥1,000.00 ÷ ¥2,000.00 = 50%" in words
    assert "under 60 (value: —): not hit (would mean no commission)" in words
