"""Bonus plan pages (INC-1 in the browser) and the what-if comparison: the plans, one
version's rules in words, the plan form, the actions, what-if on an approved cycle.

The rules are the services' (test_plans.py); here: each page renders for the right
people and answers 404/403 to the others, the form posts through the services and shows
their errors on the row they name, the what-if figures are the selector's, and the pages
cost the same number of queries for more plans or people."""

import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bizdept.appraisal.models import Appraisal, AppraisalLine
from bizdept.appraisal.tests.cycles import cycle_policy
from bizdept.incentives import selectors, services
from bizdept.incentives.choices import PlanStatus
from bizdept.incentives.models import BonusPlan
from bizdept.kpi.tests import records
from bizdept.org.models import Position
from bizdept.targets.models import TargetCell

from .factories import (
    PERIOD,
    Q3_DAY,
    SALES_POSITION,
    approved_cycle,
    draft_plan,
    plan_in_force,
    policies,
)

pytestmark = pytest.mark.django_db

GATES = [{"kind": "kpi_below", "kpi": "collection_rate", "floor": "60", "blocks": "commission"},
         {"kind": "grade_in", "grades": ["D"], "blocks": "all"}]


def url(name, *args):
    return reverse(f"incentives:{name}", args=args)


def body(response) -> str:
    return response.content.decode()


def text(html) -> str:
    import html as markup
    import re

    return " ".join(markup.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def numbers(rules):
    """Rules with their decimal texts as Decimals ("1.50" == "1.5")."""
    if isinstance(rules, dict):
        return {k: numbers(v) for k, v in rules.items()}
    if isinstance(rules, list):
        return [numbers(v) for v in rules]
    try:
        return Decimal(rules)
    except (ArithmeticError, TypeError, ValueError):
        return rules


def in_english(employee):
    employee.user.language = "en"
    employee.user.save(update_fields=["language"])
    return employee


@pytest.fixture
def setup(dept):
    cycle_policy(dept.director)
    policies(dept.finance)
    return dept


def _position() -> int:
    return Position.objects.get(name=SALES_POSITION).pk


def _form_data(**overrides) -> dict:
    """A whole plan as the form posts it: tiers, a KPI gate and a grade gate."""
    data = {"name": "业务员季度奖金 2027", "position": str(_position()),
            "period_kind": "quarterly", "base_amount": "5000", "coefficient_basis": "grade",
            "coef-S": "1.5", "coef-A": "1.2", "coef-B": "1", "coef-C": "0.8", "coef-D": "",
            "commission_measure": "revenue", "commission_mode": "tiered",
            "tier-0-from": "0", "tier-0-rate": "0", "tier-1-from": "80", "tier-1-rate": "3",
            "tier-5-from": "100", "tier-5-rate": "5", "tier-9-from": "", "tier-9-rate": "",
            "commission_cap": "", "total_cap": "20000",
            "gate-0-kind": "kpi_below", "gate-0-kpi": "collection_rate", "gate-0-floor": "60",
            "gate-0-blocks": "commission",
            "gate-3-kind": "grade_in", "gate-3-kpi": "", "gate-3-floor": "",
            "gate-3-grades": ["D"], "gate-3-blocks": "all", "notes": ""}
    data.update(overrides)
    return data


# --- who sees what --------------------------------------------------------------------------
def test_plan_pages_per_role(setup, as_user, dept):
    in_force = plan_in_force(dept)
    draft = services.plan_new_version(plan=in_force, by=dept.director.user)
    director = as_user(dept.director)
    page = body(director.get(url("plan_list")))
    assert url("plan_detail", in_force.pk) in page and url("plan_detail", draft.pk) in page
    assert url("plan_create") in page
    assert director.get(url("plan_create")).status_code == 200
    assert director.get(url("plan_edit", draft.pk)).status_code == 200

    sales = as_user(dept.sales)
    page = body(sales.get(url("plan_list")))
    assert url("plan_detail", in_force.pk) in page and url("plan_detail", draft.pk) not in page
    assert url("plan_create") not in page
    assert sales.get(url("plan_detail", in_force.pk)).status_code == 200
    assert sales.get(url("plan_detail", draft.pk)).status_code == 404
    assert sales.get(url("plan_what_if", in_force.pk)).status_code == 404
    assert sales.get(url("plan_create")).status_code == 403
    assert sales.post(url("plan_create"), _form_data()).status_code == 403
    assert sales.get(url("plan_edit", in_force.pk)).status_code == 403
    assert sales.post(url("plan_new_version", in_force.pk)).status_code == 403
    detail = body(sales.get(url("plan_detail", in_force.pk)))
    assert url("plan_edit", in_force.pk) not in detail
    assert 'id="what-if-form"' not in detail and 'id="new-version"' not in detail
    assert BonusPlan.objects.count() == 2


def test_pages_need_a_login(setup, client, dept):
    plan = draft_plan(dept.director)
    for address in (url("plan_list"), url("plan_detail", plan.pk), url("plan_create"),
                    url("plan_what_if", plan.pk)):
        response = client.get(address)
        assert response.status_code == 302 and "/login/" in response["Location"], address


def test_plan_list_filters_and_export(setup, as_user, dept):
    plan = plan_in_force(dept)
    other = draft_plan(dept.director, name="年度奖金", period_kind="annual")
    client = as_user(dept.director)
    page = body(client.get(url("plan_list"), {"status": "approved"}))
    assert url("plan_detail", plan.pk) in page and url("plan_detail", other.pk) not in page
    page = body(client.get(url("plan_list"), {"q": "年度"}))
    assert url("plan_detail", plan.pk) not in page and url("plan_detail", other.pk) in page
    response = client.get(url("plan_list"), {"export": "xlsx", "period_kind": "annual"})
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert len(values) == 2 and values[1][0] == "年度奖金"


# --- the detail page --------------------------------------------------------------------------
def test_plan_detail_says_every_rule_in_words(setup, as_user, dept):
    plan = plan_in_force(dept, gates=GATES, commission_cap="3000", total_cap="20000")
    words = text(body(as_user(in_english(dept.sales)).get(url("plan_detail", plan.pk))))
    assert "Base amount ¥5,000.00 × the coefficient of the appraisal grade:" in words
    assert "S × 1.5 A × 1.2 B × 1 C × 0.8 D × 0" in words
    assert "1 from 0% to 80% 0% 2 from 80% to 100% 3% 3 from 100% to 120% 5% " \
           "4 from 120% up 8%" in words
    assert "each tier's rate applies only to the part of the amount inside that tier" in words
    assert "When Collection rate is below 60%: no commission." in words
    assert "When the grade is D: no bonus at all." in words
    assert "Commission cap: ¥3,000.00" in words and "Cap per person: ¥20,000.00" in words
    assert "This version" in words  # in force


def test_plan_detail_by_score_bands_and_whole_mode(setup, as_user, dept):
    plan = draft_plan(dept.director, coefficient_basis="score",
                      coefficients=[{"from": "0", "coefficient": "0.5"},
                                    {"from": "90", "coefficient": "1.5"}],
                      commission_mode="whole")
    words = text(body(as_user(in_english(dept.director)).get(url("plan_detail", plan.pk))))
    assert "score 90 and above × 1.5" in words and "score 0 to under 90 × 0.5" in words
    assert "the rate of the highest tier reached applies to the whole amount" in words
    assert "No version is in force" in words
    assert "Never submitted for approval." in words


def test_versions_and_approval_history_are_shown(setup, as_user, dept):
    first = plan_in_force(dept)
    second = services.plan_new_version(plan=first, by=dept.director.user)
    services.plan_submit(plan=second, by=dept.director.user, comment="涨基数")
    page = body(as_user(in_english(dept.director)).get(url("plan_detail", second.pk)))
    assert url("plan_detail", first.pk) in page and "v1" in page and "v2" in page
    assert "涨基数" in page  # the approval request's comment
    assert 'id="edit-plan"' not in page and 'id="submit-plan"' not in page


# --- the form --------------------------------------------------------------------------------
def test_create_through_the_form_with_tiers_and_gates(setup, as_user, dept):
    response = as_user(dept.director).post(url("plan_create"), _form_data())
    plan = BonusPlan.objects.get(name="业务员季度奖金 2027")
    assert response.status_code == 302 and response["Location"] == url("plan_detail", plan.pk)
    assert plan.status == PlanStatus.DRAFT and plan.base_amount == Decimal("5000")
    assert numbers(plan.coefficients) == numbers({"S": "1.5", "A": "1.2", "B": "1",
                                                  "C": "0.8"})
    assert numbers(plan.tiers) == numbers([{"from": "0", "rate": "0"},
                                           {"from": "80", "rate": "3"},
                                           {"from": "100", "rate": "5"}])
    assert numbers(plan.gates) == numbers(GATES)
    assert plan.total_cap == Decimal("20000") and plan.commission_cap is None


def test_blank_rows_added_and_left_empty_are_ignored(setup, as_user, dept):
    data = _form_data(**{"gate-7-kind": "kpi_below", "gate-7-kpi": "", "gate-7-floor": "",
                         "gate-7-blocks": "commission", "gate-8-kind": "grade_in",
                         "gate-8-blocks": "all"})
    assert as_user(dept.director).post(url("plan_create"), data).status_code == 302
    assert len(BonusPlan.objects.get().gates) == 2


def test_create_by_score_bands_without_commission(setup, as_user, dept):
    data = _form_data(coefficient_basis="score", commission_measure="",
                      **{"band-0-from": "90", "band-0-coefficient": "1.5",
                         "band-1-from": "0", "band-1-coefficient": "1",
                         "band-2-from": "", "band-2-coefficient": ""})
    response = as_user(dept.director).post(url("plan_create"), data)
    assert response.status_code == 302
    plan = BonusPlan.objects.get(name="业务员季度奖金 2027")
    assert numbers(plan.coefficients) == numbers([{"from": "90", "coefficient": "1.5"},
                                                  {"from": "0", "coefficient": "1"}])
    assert plan.tiers == [] and plan.commission_measure == ""


def test_a_bad_tier_rate_is_shown_on_its_row_and_nothing_is_written(setup, as_user, dept):
    client = as_user(in_english(dept.director))
    response = client.post(url("plan_create"), _form_data(**{"tier-5-rate": "200"}))
    assert response.status_code == 200
    assert not BonusPlan.objects.exists()
    page = body(response)
    assert 'data-field="tiers[2].rate"' in page
    assert "Tier 3: Enter a number between 0 and 100." in text(page)
    # the error sits under the rate of the third row, whose input keeps what was typed
    row = page.split('name="tier-2-rate"')[1].split("</tr>")[0]
    assert "Enter a number between 0 and 100." in row
    assert 'value="200"' in page.split('name="tier-2-rate"')[1][:40]


def test_errors_of_a_gate_and_a_grade_land_on_their_inputs(setup, as_user, dept):
    client = as_user(in_english(dept.director))
    page = body(client.post(url("plan_create"), _form_data(**{"gate-0-floor": "abc"})))
    assert 'data-field="gates[0].floor"' in page and "Gate 1: Enter a number." in text(page)
    page = body(client.post(url("plan_create"), _form_data(**{"coef-S": "-1"})))
    coefficient = page.split('name="coef-S"')[1].split("</div>\n")[0]
    assert "Enter a number between 0 and 100." in coefficient
    page = body(client.post(url("plan_create"), _form_data(base_amount="")))
    assert "Enter a number." in page.split('name="base_amount"')[1][:400] or \
        "This field is required." in page.split('name="base_amount"')[1][:400]
    assert not BonusPlan.objects.exists()


def test_edit_a_draft_and_a_stale_version_is_a_conflict(setup, as_user, dept):
    plan = draft_plan(dept.director, gates=GATES)
    client = as_user(in_english(dept.director))
    page = body(client.get(url("plan_edit", plan.pk)))
    assert 'name="gate-1-grades" value="D" checked' in page
    assert 'name="tier-1-rate" value="3"' in page and 'name="coef-S" value="1.5"' in page
    assert 'name="gate-0-floor" value="60"' in page
    assert f'name="version" value="{plan.version}"' in page
    stale = plan.version
    response = client.post(url("plan_edit", plan.pk),
                           _form_data(version=str(stale), base_amount="6000"))
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.base_amount == Decimal("6000") and plan.version == stale + 1
    assert plan.number == 1  # saving keeps the version number
    response = client.post(url("plan_edit", plan.pk),
                           _form_data(version=str(stale), base_amount="7000"))
    assert response.status_code == 200
    assert "Someone else changed this in the meantime; reload and try again." in body(response)
    plan.refresh_from_db()
    assert plan.base_amount == Decimal("6000")
    # moving a draft to the annual plans numbers it there
    response = client.post(url("plan_edit", plan.pk),
                           _form_data(version=str(plan.version), period_kind="annual"))
    plan.refresh_from_db()
    assert plan.period_kind == "annual" and plan.number == 1


def test_a_plan_in_force_is_not_edited(setup, as_user, dept):
    plan = plan_in_force(dept)
    response = as_user(dept.director).get(url("plan_edit", plan.pk))
    assert response.status_code == 302 and response["Location"] == url("plan_detail", plan.pk)


# --- actions ---------------------------------------------------------------------------------
def test_new_version_submit_and_delete(setup, as_user, dept):
    first = plan_in_force(dept)
    client = as_user(dept.director)
    response = client.post(url("plan_new_version", first.pk))
    second = BonusPlan.objects.get(position=first.position, number=2)
    assert response["Location"] == url("plan_detail", second.pk)
    assert second.status == PlanStatus.DRAFT and second.tiers == first.tiers
    client.post(url("plan_submit", second.pk), {"comment": "请审批"})
    second.refresh_from_db()
    assert second.status == PlanStatus.SUBMITTED
    # a third, thrown away
    client.post(url("plan_new_version", second.pk))
    third = BonusPlan.objects.get(position=first.position, number=3)
    response = client.post(url("plan_delete", third.pk))
    assert response["Location"] == url("plan_list")
    assert not BonusPlan.objects.filter(pk=third.pk).exists()
    # a plan in force is not deleted: an error message, nothing changes
    response = client.post(url("plan_delete", first.pk), follow=True)
    assert BonusPlan.objects.filter(pk=first.pk).exists()
    assert url("plan_detail", first.pk) == response.redirect_chain[-1][0]


# --- what-if ---------------------------------------------------------------------------------
def _approved_cycle(dept):
    from bizdept.targets.tests.factories import approved_plan

    approved_plan(dept)
    target = TargetCell.objects.get(plan__metric="revenue", employee=dept.sales,
                                    period=PERIOD).realistic
    records.contract(dept.sales, total=str((target * Decimal("1.3")).quantize(
        Decimal("0.01"))), signed_on=Q3_DAY)
    return approved_cycle(dept, grades={dept.sales: "A", dept.sales_mate: "B"},
                          revenue_source="plan")


@pytest.fixture
def what_if(setup):
    """An approved Q3 cycle, the plan in force and a richer draft."""
    dept = setup
    cycle = _approved_cycle(dept)
    current = plan_in_force(dept)
    draft = draft_plan(dept.director, base_amount="6000",
                       tiers=[{"from": "0", "rate": "0"}, {"from": "80", "rate": "4"},
                              {"from": "100", "rate": "6"}])
    return cycle, current, draft


def test_what_if_totals_and_rows_are_the_selectors(what_if, as_user, dept):
    cycle, current, draft = what_if
    client = as_user(in_english(dept.director))
    response = client.get(url("plan_what_if", draft.pk), {"cycle": cycle.pk})
    assert response.status_code == 200
    expected = selectors.what_if(user=dept.director.user, plan=draft, cycle=cycle)
    shown = response.context["result"]
    assert shown.current_total == expected.current_total
    assert shown.draft_total == expected.draft_total
    assert shown.change == expected.change and expected.change > 0
    assert shown.raised == expected.raised and shown.lowered == expected.lowered
    page = body(response)
    assert f"¥{expected.current_total:,.2f}" in page and f"¥{expected.draft_total:,.2f}" in page
    assert f"+¥{expected.change:,.2f}" in page
    percent = expected.change / expected.current_total * 100
    assert f"(+{percent:.1f}%)" in page
    assert url("plan_detail", current.pk) in page
    sales = next(r for r in expected.rows if r.employee == dept.sales)
    assert f"{sales.draft:,.2f}" in page and f"+{sales.change:,.2f}" in page
    assert 'class="bonus-explanation' in page  # each draft line's arithmetic
    assert page.count('class="what-if-row"') == len(expected.rows)


def test_what_if_defaults_to_the_latest_cycle_sorts_and_exports(what_if, as_user, dept):
    cycle, _current, draft = what_if
    client = as_user(dept.director)
    response = client.get(url("plan_what_if", draft.pk))
    assert response.context["cycle"] == cycle
    rows = client.get(url("plan_what_if", draft.pk), {"sort": "-change"}).context["rows"]
    assert [r.change for r in rows] == sorted((r.change for r in rows), reverse=True)
    response = client.get(url("plan_what_if", draft.pk), {"cycle": cycle.pk, "export": "xlsx"})
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.iter_rows(values_only=True))
    expected = selectors.what_if(user=dept.director.user, plan=draft, cycle=cycle)
    assert len(values) == len(expected.rows) + 2
    assert Decimal(str(values[-1][4])) == expected.draft_total
    assert client.get(url("plan_what_if", draft.pk), {"cycle": "999999"}).status_code == 404
    assert client.get(url("plan_what_if", draft.pk), {"cycle": "x"}).status_code == 404


def test_what_if_without_a_plan_in_force(setup, as_user, dept):
    cycle = _approved_cycle(dept)
    draft = draft_plan(dept.director)
    page = body(as_user(in_english(dept.director)).get(url("plan_what_if", draft.pk),
                                                       {"cycle": cycle.pk}))
    assert 'id="none-in-force"' in page and "Current cost ¥0.00" in text(page)


def test_what_if_is_for_those_who_keep_the_plans(what_if, as_user, dept):
    cycle, current, draft = what_if
    for who in (dept.sales, dept.lead, dept.manager, dept.finance):
        client = as_user(who)
        assert client.get(url("plan_what_if", current.pk), {"cycle": cycle.pk}) \
            .status_code == 404, who
    detail = body(as_user(dept.director).get(url("plan_detail", draft.pk)))
    assert 'id="what-if-form"' in detail and f'value="{cycle.pk}" selected' in detail


# --- query counts ----------------------------------------------------------------------------
def _cost(client, address, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(address, params or {})
    assert response.status_code == 200, address
    return len(ctx)


def test_the_plan_list_costs_constant_queries(setup, as_user, dept):
    client = as_user(dept.director)
    plan = plan_in_force(dept)
    for _i in range(2):
        services.plan_new_version(plan=plan, by=dept.director.user)
    small = _cost(client, url("plan_list"))
    for _i in range(5):
        services.plan_new_version(plan=plan, by=dept.director.user)
    assert _cost(client, url("plan_list")) <= small
    small = _cost(client, url("plan_detail", plan.pk))
    for _i in range(3):
        services.plan_new_version(plan=plan, by=dept.director.user)
    assert _cost(client, url("plan_detail", plan.pk)) <= small


def _more_appraised(cycle, n):
    """n more salespeople appraised in the cycle: copies of the first appraisal (with its
    lines, so their figures come from the same place)."""
    from bizdept.org.choices import RoleCode
    from bizdept.org.tests.factories import make_employee

    model = Appraisal.objects.filter(cycle=cycle).order_by("pk").first()
    for _i in range(n):
        person = make_employee(model.unit, role=RoleCode.SALES)
        copy = Appraisal.objects.get(pk=model.pk)
        copy.pk = None
        copy.id = None
        copy.employee = person
        copy.save()
        for line in AppraisalLine.objects.filter(appraisal=model):
            line.pk = line.id = None
            line.appraisal = copy
            line.save()


def test_the_what_if_page_costs_constant_queries(what_if, as_user, dept):
    cycle, _current, draft = what_if
    client = as_user(dept.director)
    address = url("plan_what_if", draft.pk)
    people = len(selectors.what_if(user=dept.director.user, plan=draft, cycle=cycle).rows)
    small = _cost(client, address, {"cycle": cycle.pk})
    _more_appraised(cycle, 5)
    assert len(selectors.what_if(user=dept.director.user, plan=draft, cycle=cycle).rows) \
        == people + 5
    assert _cost(client, address, {"cycle": cycle.pk}) <= small
