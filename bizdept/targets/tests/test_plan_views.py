"""Target plan pages (TGT-2..4 in the browser): the list, a new plan, the plan's page, the
grid that edits it, the split helpers and the buttons that move it along.

The rules themselves (who may set which cell, what adds up) are the services' and are
tested there (test_plans.py); here: each page shows what the scope allows, errors land
next to the cell they name, nothing half-saves, and the pages cost a constant number of
queries however many people the department has."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from bizdept.org.choices import RoleCode
from bizdept.org.tests.factories import make_employee, make_unit
from bizdept.targets import services
from bizdept.targets.choices import Metric, PlanStatus
from bizdept.targets.models import TargetCell, TargetPlan

YEAR = 2031


@pytest.fixture
def plan(dept):
    return services.plan_create(by=dept.director.user, fiscal_year=YEAR, metric=Metric.REVENUE)


def in_english(employee):
    """Pages speak the user's own language (zh-Hans by default): tests reading English
    text ask for English."""
    employee.user.language = "en"
    employee.user.save(update_fields=["language"])
    return employee


def grid_url(plan, unit=None, value=None):
    url = reverse("targets:plan_grid", args=[plan.pk])
    query = []
    if unit is not None:
        query.append(f"unit={unit.pk}")
    if value:
        query.append(f"value={value}")
    return url + ("?" + "&".join(query) if query else "")


def cell(unit, period, employee=None):
    return f"c-{unit.pk}-{employee.pk if employee else ''}-{period}"


def stored(plan, unit, period, employee=None):
    row = TargetCell.objects.filter(plan=plan, unit=unit, employee=employee,
                                    period=period).first()
    return None if row is None else (row.realistic, row.stretch)


# --- list and new plan ---------------------------------------------------------------------
def test_plan_list_shows_the_department_plans_and_new_plan_to_the_director(as_user, dept, plan):
    response = as_user(dept.director).get(reverse("targets:plan_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("targets:plan_detail", args=[plan.pk]) in body
    assert reverse("targets:plan_create") in body


def test_salesperson_sees_the_plan_in_the_list_but_no_new_plan_button(as_user, dept, plan):
    response = as_user(dept.sales).get(reverse("targets:plan_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("targets:plan_detail", args=[plan.pk]) in body
    assert reverse("targets:plan_create") not in body
    assert as_user(dept.sales).get(reverse("targets:plan_create")).status_code == 403


def test_another_department_sees_no_plan_and_gets_404_on_its_pages(client, dept, plan):
    client.force_login(dept.outsider.user)
    body = client.get(reverse("targets:plan_list")).content.decode()
    assert reverse("targets:plan_detail", args=[plan.pk]) not in body
    for name in ("plan_detail", "plan_grid", "plan_revise", "plan_reassign"):
        assert client.get(reverse(f"targets:{name}", args=[plan.pk])).status_code == 404, name
    assert client.post(reverse("targets:plan_submit", args=[plan.pk])).status_code == 404


def test_pages_need_a_login(client, dept, plan):
    for url in (reverse("targets:plan_list"), reverse("targets:plan_create"),
                reverse("targets:plan_detail", args=[plan.pk]), grid_url(plan)):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_plan_list_filters_and_exports(as_user, dept, plan):
    client = as_user(dept.director)
    response = client.get(reverse("targets:plan_list"), {"year": YEAR + 1})
    assert reverse("targets:plan_detail", args=[plan.pk]) not in response.content.decode()
    response = client.get(reverse("targets:plan_list"), {"export": "xlsx"})
    assert response.status_code == 200
    assert "spreadsheetml" in response["Content-Type"]


def test_new_plan_defaults_to_next_year_and_opens_its_grid(as_user, dept):
    from django.utils import timezone

    client = as_user(dept.director)
    response = client.get(reverse("targets:plan_create"))
    assert response.status_code == 200
    next_year = timezone.localdate().year + 1
    assert f'value="{next_year}"' in response.content.decode()
    response = client.post(reverse("targets:plan_create"),
                           {"fiscal_year": next_year, "metric": Metric.VISITS})
    plan = TargetPlan.objects.get(fiscal_year=next_year, metric=Metric.VISITS)
    assert response.status_code == 302
    assert response["Location"] == reverse("targets:plan_grid", args=[plan.pk])


def test_new_plan_refusal_shows_on_the_form(as_user, dept, plan):
    with translation.override("en"):
        response = as_user(dept.director).post(
            reverse("targets:plan_create"), {"fiscal_year": YEAR, "metric": Metric.REVENUE})
    assert response.status_code == 200
    assert TargetPlan.objects.filter(fiscal_year=YEAR, metric=Metric.REVENUE).count() == 1
    assert "invalid-feedback" in response.content.decode() \
        or "alert-danger" in response.content.decode()


# --- detail ---------------------------------------------------------------------------------
def test_detail_lists_mismatches_with_links_and_blocks_submit(as_user, dept, plan):
    services.plan_set_values(plan=plan, by=dept.director.user, values=[
        {"unit": dept.department.pk, "employee": None, "period": str(YEAR),
         "realistic": Decimal("1000"), "stretch": Decimal("1200")}])
    response = as_user(in_english(dept.director)).get(
        reverse("targets:plan_detail", args=[plan.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="mismatches"' in body
    assert f"unit={dept.department.pk}" in body  # each mismatch links to its grid row
    assert 'id="submit-plan" disabled' in body
    assert "cannot be submitted" in body


def test_salesperson_sees_that_sums_are_off_but_not_colleagues_figures(as_user, dept, plan):
    _set_year(plan, dept, dept.team, "1000", employee=dept.sales_mate)
    body = as_user(dept.sales).get(reverse("targets:plan_detail", args=[plan.pk])).content
    body = body.decode()
    assert 'id="mismatch-count"' in body
    assert dept.sales_mate.name not in body
    body = as_user(dept.lead).get(reverse("targets:plan_detail", args=[plan.pk])).content
    assert dept.sales_mate.name in body.decode()


def test_detail_of_a_plan_that_adds_up_offers_submit(as_user, dept, plan):
    response = as_user(dept.director).get(reverse("targets:plan_detail", args=[plan.pk]))
    body = response.content.decode()
    assert 'id="no-mismatch"' in body
    assert 'id="submit-plan" >' in body or 'id="submit-plan">' in body


def test_salesperson_reads_the_plan_page_without_its_buttons(as_user, dept, plan):
    response = as_user(dept.sales).get(reverse("targets:plan_detail", args=[plan.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="submit-plan"' not in body
    assert 'id="reassign-plan"' not in body
    assert as_user(dept.sales).get(
        reverse("targets:plan_reassign", args=[plan.pk])).status_code == 403


def test_history_tab_renders(as_user, dept, plan):
    response = as_user(dept.director).get(reverse("targets:plan_detail", args=[plan.pk]),
                                          {"tab": "history"})
    assert response.status_code == 200


# --- grid -----------------------------------------------------------------------------------
def test_director_grid_shows_the_department_and_its_division(as_user, dept, plan):
    response = as_user(dept.director).get(grid_url(plan))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="u{dept.department.pk}"' in body
    assert f'id="u{dept.division.pk}"' in body
    assert f'name="{cell(dept.department, YEAR)}"' in body  # editable
    assert 'id="grid-sum"' in body and 'id="grid-diff"' in body
    assert grid_url(plan, dept.division) in body  # drill down


def test_team_grid_shows_people_and_salesperson_sees_only_own_row_read_only(as_user, dept, plan):
    response = as_user(dept.director).get(grid_url(plan, dept.team))
    body = response.content.decode()
    for person in (dept.lead, dept.sales, dept.sales_mate):
        assert f'id="e{person.pk}"' in body
    response = as_user(dept.sales).get(grid_url(plan))  # no unit: their own team
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="e{dept.sales.pk}"' in body
    assert f'id="e{dept.sales_mate.pk}"' not in body
    assert 'class="form-control form-control-sm grid-input' not in body  # nothing to edit
    assert as_user(dept.sales).get(grid_url(plan, dept.other_team)).status_code == 404


def test_grid_of_a_unit_outside_the_plan_is_404(as_user, dept, plan):
    client = as_user(dept.director)
    assert client.get(grid_url(plan, dept.other_department)).status_code == 404
    assert client.get(grid_url(plan) + "?unit=abc").status_code == 404


def test_grid_htmx_fragment_is_the_table_only(as_user, dept, plan):
    response = as_user(dept.director).get(grid_url(plan, dept.team), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'id="plan-grid"' in body
    assert "<html" not in body


def test_grid_shows_stretch_values_when_toggled(as_user, dept, plan):
    services.plan_set_values(plan=plan, by=dept.director.user, values=[
        {"unit": dept.department.pk, "employee": None, "period": str(YEAR),
         "realistic": Decimal("1000"), "stretch": Decimal("1234567.5")}])
    body = as_user(dept.director).get(grid_url(plan, value="stretch")).content.decode()
    assert 'value="1,234,567.50"' in body  # thousands separators, in the input too
    assert 'data-saved="1234567.50"' in body


def test_count_metric_grid_shows_whole_numbers(as_user, dept):
    plan = services.plan_create(by=dept.director.user, fiscal_year=YEAR, metric=Metric.VISITS)
    services.plan_set_values(plan=plan, by=dept.director.user, values=[
        {"unit": dept.department.pk, "employee": None, "period": str(YEAR),
         "realistic": Decimal("1200"), "stretch": Decimal("1500")}])
    body = as_user(dept.director).get(grid_url(plan)).content.decode()
    assert 'data-places="0"' in body
    assert 'value="1,200"' in body and 'data-saved="1200"' in body
    with translation.override("en"):
        response = as_user(dept.director).post(grid_url(plan), {
            cell(dept.division, YEAR): "2.5"})
    assert f'id="err-{cell(dept.division, YEAR)}"' in response.content.decode()


def test_saving_the_grid_stores_only_changed_cells(as_user, dept, plan):
    client = as_user(in_english(dept.director))
    response = client.post(grid_url(plan), {
        cell(dept.department, YEAR): "1,200,000.10",
        cell(dept.department, f"{YEAR}-Q1"): "0.00",  # unchanged
        cell(dept.division, YEAR): "  ",  # empty: zero, unchanged
    })
    assert response.status_code == 302
    # The stretch target was still 0: it follows the realistic one (else out of order).
    amount = Decimal("1200000.10")
    assert stored(plan, dept.department, str(YEAR)) == (amount, amount)
    assert stored(plan, dept.department, f"{YEAR}-Q1") is None
    response = client.get(response["Location"])
    assert "1 figure saved." in response.content.decode()


def test_realistic_above_a_set_stretch_is_refused_next_to_the_cell(as_user, dept, plan):
    services.plan_set_values(plan=plan, by=dept.director.user, values=[
        {"unit": dept.department.pk, "employee": None, "period": str(YEAR),
         "realistic": Decimal("100"), "stretch": Decimal("120")}])
    response = as_user(in_english(dept.director)).post(grid_url(plan), {
        cell(dept.department, YEAR): "130"})
    body = response.content.decode()
    assert f'id="err-{cell(dept.department, YEAR)}"' in body
    assert "stretch" in body.split(f'id="err-{cell(dept.department, YEAR)}"')[1][:200]
    assert stored(plan, dept.department, str(YEAR)) == (Decimal("100"), Decimal("120"))


def test_saving_stretch_keeps_realistic(as_user, dept, plan):
    services.plan_set_values(plan=plan, by=dept.director.user, values=[
        {"unit": dept.department.pk, "employee": None, "period": str(YEAR),
         "realistic": Decimal("100"), "stretch": Decimal("100")}])
    response = as_user(dept.director).post(grid_url(plan, value="stretch"), {
        "value": "stretch", cell(dept.department, YEAR): "150"})
    assert response.status_code == 302
    assert stored(plan, dept.department, str(YEAR)) == (Decimal("100"), Decimal("150"))


def test_invalid_cell_shows_its_error_and_nothing_is_saved(as_user, dept, plan):
    client = as_user(dept.director)
    with translation.override("en"):
        response = client.post(grid_url(plan), {
            cell(dept.department, YEAR): "500",
            cell(dept.division, YEAR): "abc",
        })
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="err-{cell(dept.division, YEAR)}"' in body
    assert 'value="abc"' in body  # what was typed stays for correcting
    assert TargetCell.objects.filter(plan=plan).count() == 0


def test_service_refusal_lands_next_to_the_cell_it_names(as_user, dept, plan):
    client = as_user(dept.director)
    with translation.override("en"):
        response = client.post(grid_url(plan), {
            cell(dept.department, YEAR): "500",
            cell(dept.division, YEAR): "1.234",  # three decimals: the service refuses
        })
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="err-{cell(dept.division, YEAR)}"' in body
    assert f'id="err-{cell(dept.department, YEAR)}"' not in body
    assert TargetCell.objects.filter(plan=plan).count() == 0


def test_salesperson_cannot_save_the_grid(as_user, dept, plan):
    response = as_user(dept.sales).post(grid_url(plan, dept.team), {
        cell(dept.team, YEAR, dept.sales): "99999"})
    # Their cell is not an input on their page: nothing to change, nothing saved.
    assert response.status_code in (200, 302, 403)
    assert TargetCell.objects.filter(plan=plan).count() == 0


def test_lead_saves_people_of_the_team(as_user, dept, plan):
    response = as_user(dept.lead).post(grid_url(plan, dept.team), {
        cell(dept.team, YEAR, dept.sales): "300"})
    assert response.status_code == 302
    assert stored(plan, dept.team, str(YEAR), dept.sales)[0] == Decimal("300")


def test_approved_plan_grid_is_read_only(as_user, dept, plan):
    TargetPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.APPROVED)
    body = as_user(dept.director).get(grid_url(plan)).content.decode()
    assert 'id="save-grid"' not in body
    assert "grid-input" not in body.split('id="plan-grid"')[1]


# --- split helpers --------------------------------------------------------------------------
def _set_year(plan, dept, unit, amount, employee=None):
    services.plan_set_values(plan=plan, by=dept.director.user, values=[
        {"unit": unit.pk, "employee": employee.pk if employee else None, "period": str(YEAR),
         "realistic": Decimal(amount), "stretch": Decimal(amount)}])


def test_split_form_renders_as_page_and_fragment(as_user, dept, plan):
    client = as_user(dept.director)
    url = reverse("targets:plan_split", args=[plan.pk]) + f"?unit={dept.department.pk}"
    response = client.get(url)
    assert response.status_code == 200
    assert 'id="split-children-form"' in response.content.decode()
    response = client.get(url, HTTP_HX_REQUEST="true")
    assert "<html" not in response.content.decode()
    person = reverse("targets:plan_split", args=[plan.pk]) \
        + f"?unit={dept.team.pk}&employee={dept.sales.pk}"
    body = client.get(person).content.decode()
    assert 'id="split-periods-form"' in body and 'id="split-children-form"' not in body
    assert client.get(reverse("targets:plan_split", args=[plan.pk])
                      + f"?unit={dept.other_department.pk}").status_code == 404


def test_split_year_into_quarters_progressively_then_months(as_user, dept, plan):
    _set_year(plan, dept, dept.department, "1000")
    client = as_user(dept.director)
    response = client.post(reverse("targets:plan_split", args=[plan.pk]), {
        "unit": dept.department.pk, "employee": "", "across": "periods", "period": str(YEAR),
        "how": "progressive", "step_percent": "10", "remainder_to": "last",
        "unit_view": dept.department.pk})
    assert response.status_code == 302
    assert grid_url(plan, dept.department) in response["Location"]
    quarters = [stored(plan, dept.department, f"{YEAR}-Q{q}")[0] for q in range(1, 5)]
    assert sum(quarters) == Decimal("1000")
    assert quarters == sorted(quarters) and quarters[0] < quarters[3]
    for q in range(1, 5):
        client.post(reverse("targets:plan_split", args=[plan.pk]), {
            "unit": dept.department.pk, "across": "periods", "period": f"{YEAR}-Q{q}",
            "how": "even", "remainder_to": "last"})
    months = [stored(plan, dept.department, f"{YEAR}-{m:02d}")[0] for m in range(1, 13)]
    assert sum(months) == Decimal("1000")


def test_split_among_children_evenly(as_user, dept, plan):
    _set_year(plan, dept, dept.team, "1000")
    client = as_user(dept.director)
    response = client.post(reverse("targets:plan_split", args=[plan.pk]), {
        "unit": dept.team.pk, "across": "children", "period": str(YEAR), "how": "even",
        "remainder_to": "first", "unit_view": dept.team.pk})
    assert response.status_code == 302
    parts = [stored(plan, dept.team, str(YEAR), p)[0]
             for p in (dept.lead, dept.sales, dept.sales_mate)]
    assert sum(parts) == Decimal("1000")
    assert parts[0] == Decimal("333.34")


def test_split_refused_shows_a_message_and_changes_nothing(as_user, dept, plan):
    client = as_user(dept.director)
    with translation.override("en"):
        response = client.post(reverse("targets:plan_split", args=[plan.pk]), {
            "unit": dept.department.pk, "across": "periods", "period": str(YEAR),
            "how": "sideways", "remainder_to": "last"}, follow=True)
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode() or "error" in response.content.decode()
    assert TargetCell.objects.filter(plan=plan).count() == 0


# --- submit, revise, reassign -----------------------------------------------------------------
def test_submit_refused_while_sums_do_not_add_up(as_user, dept, plan):
    _set_year(plan, dept, dept.department, "1000")
    with translation.override("en"):
        response = as_user(dept.director).post(
            reverse("targets:plan_submit", args=[plan.pk]), follow=True)
    assert response.status_code == 200
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    assert "alert-danger" in response.content.decode()


def test_revise_and_reassign_forms_render(as_user, dept, plan):
    client = as_user(dept.director)
    assert client.get(reverse("targets:plan_revise", args=[plan.pk])).status_code == 200
    response = client.get(reverse("targets:plan_reassign", args=[plan.pk]))
    assert response.status_code == 200
    assert dept.sales.name in response.content.decode()


def test_revise_a_draft_is_refused_on_the_form(as_user, dept, plan):
    response = as_user(dept.director).post(reverse("targets:plan_revise", args=[plan.pk]),
                                           {"reason": "more"})
    assert response.status_code == 200
    assert TargetPlan.objects.count() == 1


# --- query counts -----------------------------------------------------------------------------
def _grow(dept, n):
    for _ in range(n):
        make_employee(dept.team, role=RoleCode.SALES)
    make_unit(f"新所{TargetPlan.objects.count()}{n}", parent=dept.division)


def _cost(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx)


@pytest.mark.parametrize("page", ["list", "detail", "grid", "team_grid"])
def test_pages_cost_constant_queries(as_user, dept, plan, page):
    client = as_user(dept.director)
    url = {"list": reverse("targets:plan_list"),
           "detail": reverse("targets:plan_detail", args=[plan.pk]),
           "grid": grid_url(plan),
           "team_grid": grid_url(plan, dept.team)}[page]
    _grow(dept, 2)
    small = _cost(client, url)
    _grow(dept, 6)
    assert _cost(client, url) == small


# --- whole flows through the pages --------------------------------------------------------------
def _complete(plan, dept, amount="1200000"):
    """A plan whose every sum holds: the department's year split down to every person."""
    by = dept.director.user
    _set_year(plan, dept, dept.department, amount)
    services.plan_split(plan=plan, by=by, unit=dept.department, period=str(YEAR),
                        across="periods_all", how="even")
    for unit in (dept.department, dept.division, dept.team, dept.other_team):
        services.plan_split(plan=plan, by=by, unit=unit, period="all", across="children",
                            how="even")


def test_reassign_a_leavers_months_through_the_page(as_user, dept, plan):
    from bizdept.targets import selectors

    _complete(plan, dept)
    client = as_user(dept.director)
    response = client.post(reverse("targets:plan_reassign", args=[plan.pk]), {
        "from_employee": dept.sales.pk, "to_employee": dept.other_sales.pk,
        "from_month": f"{YEAR}-07"})
    assert response.status_code == 302
    assert response["Location"] == reverse("targets:plan_detail", args=[plan.pk])
    assert stored(plan, dept.team, f"{YEAR}-07", dept.sales)[0] == 0
    assert selectors.plan_check(plan) == []
    body = client.get(response["Location"]).content.decode()
    assert 'id="no-mismatch"' in body


def test_submit_a_plan_that_adds_up_then_revise_it(as_user, dept, plan):
    from bizdept.approvals.services import approval_policy_create

    # Approved by the head above the director (a general manager), as a real company does.
    gm = make_employee(dept.company, role=RoleCode.DIRECTOR, name="总经理",
                       head_of=dept.company)
    approval_policy_create(document_type="targets.plan", name="目标计划审批", steps=[
        {"name": "总经理审批", "approver_kind": "direct_head", "deadline_days": 3,
         "escalate_after_days": 1}])
    _complete(plan, dept)
    client = as_user(dept.director)
    response = client.post(reverse("targets:plan_submit", args=[plan.pk]))
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED
    body = client.get(reverse("targets:plan_detail", args=[plan.pk])).content.decode()
    assert 'id="submit-plan"' not in body and "approval-history" in body
    response = as_user(gm).get(reverse("approvals:inbox"))
    assert str(YEAR) in response.content.decode()  # waiting for the general manager
    TargetPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.APPROVED)
    client = as_user(dept.director)
    body = client.get(reverse("targets:plan_detail", args=[plan.pk])).content.decode()
    assert 'id="revise-plan"' in body and 'id="submit-plan"' not in body
    response = client.post(reverse("targets:plan_revise", args=[plan.pk]),
                           {"reason": "华东事业部 takes over a key account"})
    revision = TargetPlan.objects.get(revision_of=plan)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("targets:plan_grid", args=[revision.pk]))
    body = client.get(reverse("targets:plan_detail", args=[revision.pk])).content.decode()
    assert 'id="revision-of"' in body and "takes over a key account" in body
    assert reverse("targets:plan_detail", args=[plan.pk]) in body  # in the versions


def test_director_submits_and_the_default_policy_approves_at_once(as_user, dept, plan):
    """Under the default policy the director's own step is skipped (the engine never asks
    requesters to approve themselves), so the plan is in force at once."""
    from bizdept.approvals.demo import ensure_default_policies

    ensure_default_policies()
    _complete(plan, dept)
    response = as_user(dept.director).post(reverse("targets:plan_submit", args=[plan.pk]))
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
