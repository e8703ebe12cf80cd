"""Target plans (TGT-1..4): who creates and sets what, the sums, approval, revisions,
people moving during the year — the services and selectors on the database."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import translation

from bizdept.core.errors import Conflict, DomainError
from bizdept.org.choices import RoleCode, UnitKind
from bizdept.org.tests.factories import make_employee, make_unit
from bizdept.targets import selectors, services
from bizdept.targets.choices import PlanStatus
from bizdept.targets.models import TargetCell, TargetPlan

from .factories import (
    YEAR,
    approved_plan,
    cell,
    decide_plan,
    fill_plan,
    make_plan,
    plan_policy,
)

pytestmark = pytest.mark.django_db


def value(unit, period, realistic, stretch=None, employee=None):
    return {"unit": unit.pk, "employee": employee.pk if employee else None, "period": period,
            "realistic": Decimal(realistic),
            "stretch": Decimal(stretch if stretch is not None else realistic)}


# --- create -----------------------------------------------------------------------------
def test_director_creates_a_draft_for_their_department(dept):
    plan = make_plan(dept.director)
    assert (plan.unit, plan.status, plan.version) == (dept.department, "draft", 1)
    assert plan.history.first().history_change_reason == "created"


def test_department_head_or_director_only(dept):
    for person in (dept.manager, dept.lead, dept.sales, dept.finance, dept.hr):
        with pytest.raises(PermissionDenied):
            make_plan(person)


def test_a_second_plan_for_the_same_year_and_metric_is_refused(dept):
    make_plan(dept.director)
    with translation.override("en"), pytest.raises(Conflict) as exc:
        make_plan(dept.director)
    assert "fiscal_year" in exc.value.errors
    make_plan(dept.director, metric="visits")  # another metric is fine
    make_plan(dept.director, year=YEAR + 1)


def test_an_approved_plan_points_to_revising(dept):
    approved_plan(dept)
    with translation.override("en"), pytest.raises(Conflict) as exc:
        make_plan(dept.director)
    assert "revise it" in str(exc.value.message)


@pytest.mark.parametrize(("fields", "field"), [
    ({"fiscal_year": 1999}, "fiscal_year"), ({"fiscal_year": 3000}, "fiscal_year"),
    ({"fiscal_year": "2026"}, "fiscal_year"), ({"metric": "profit"}, "metric"),
])
def test_create_refuses_bad_year_and_metric(dept, fields, field):
    args = {"fiscal_year": YEAR, "metric": "revenue", **fields}
    with pytest.raises(DomainError) as exc:
        services.plan_create(by=dept.director.user, **args)
    assert field in exc.value.errors


def test_a_plan_covers_a_department(dept):
    with pytest.raises(DomainError) as exc:
        services.plan_create(by=dept.director.user, fiscal_year=YEAR, metric="revenue",
                             unit=dept.team)
    assert "unit" in exc.value.errors


# --- the tree ---------------------------------------------------------------------------
def test_tree_holds_units_and_quota_holders(dept, django_assert_num_queries):
    plan = make_plan(dept.director)
    plan = TargetPlan.objects.select_related("unit").get(pk=plan.pk)
    with django_assert_num_queries(3):
        tree = selectors.plan_nodes(plan)
    assert list(tree.units) == [dept.department.pk, dept.division.pk, dept.team.pk,
                                dept.other_team.pk]
    assert [u.pk for u in tree.child_units[dept.division.pk]] == [dept.team.pk,
                                                                  dept.other_team.pk]
    assert {p.pk for p in tree.people[dept.team.pk]} == {dept.lead.pk, dept.sales.pk,
                                                         dept.sales_mate.pk}
    assert tree.people[dept.department.pk] == []  # director, finance, hr carry no quota
    assert dept.outsider.pk not in tree.person_unit


def test_a_person_with_cells_stays_under_the_cells_unit_after_moving(dept):
    from bizdept.org import services as org_services

    plan = make_plan(dept.director)
    services.plan_set_values(plan=plan, by=dept.director.user,
                             values=[value(dept.team, "2026-01", "10", employee=dept.sales)])
    org_services.employee_update(employee=dept.sales, unit=dept.other_team)
    tree = selectors.plan_nodes(TargetPlan.objects.get(pk=plan.pk))
    assert tree.person_unit[dept.sales.pk] == dept.team.pk


# --- set values -------------------------------------------------------------------------
def test_set_values_upserts_in_constant_queries(dept, django_assert_max_num_queries):
    plan = make_plan(dept.director)
    people = [dept.lead, dept.sales, dept.sales_mate]
    few = [value(dept.team, f"2026-{m:02d}", "100", "120", employee=p)
           for p in people[:1] for m in range(1, 3)]
    many = [value(dept.team, f"2026-{m:02d}", "100", "120", employee=p)
            for p in people for m in range(1, 13)]
    with django_assert_max_num_queries(20) as small:
        services.plan_set_values(plan=plan, by=dept.director.user, values=few)
    other = make_plan(dept.director, metric="visits")
    with django_assert_max_num_queries(20) as big:
        assert services.plan_set_values(plan=other, by=dept.director.user, values=many) == 36
    assert len(big.captured_queries) == len(small.captured_queries)
    with django_assert_max_num_queries(20) as both:  # 2 updated, 34 new: one query more
        assert services.plan_set_values(plan=plan, by=dept.director.user, values=many) == 36
    assert len(both.captured_queries) == len(small.captured_queries) + 1
    assert TargetCell.objects.filter(plan=plan).count() == 36


def test_one_figure_keeps_the_other(dept):
    plan = make_plan(dept.director)
    services.plan_set_values(plan=plan, by=dept.director.user,
                             values=[value(dept.team, "2026", "100", "150")])
    services.plan_set_values(plan=plan, by=dept.director.user, values=[
        {"unit": dept.team.pk, "employee": None, "period": "2026", "stretch": "200"}])
    got = cell(plan, dept.team, "2026")
    assert (got.realistic, got.stretch) == (Decimal("100.00"), Decimal("200.00"))


@pytest.mark.parametrize(("item", "field", "message"), [
    ({"realistic": "-1"}, "values[1].realistic", "cannot be negative"),
    ({"realistic": "1.005"}, "values[1].realistic", "2 decimals"),
    ({"realistic": "abc"}, "values[1].realistic", "Enter a number"),
    ({"realistic": "300", "stretch": "200"}, "values[1].stretch", "cannot be below"),
    ({"period": "2025-01"}, "values[1].period", "period of 2026"),
    ({"period": "2026-13"}, "values[1].period", "period of 2026"),
    ({"unit": 999999}, "values[1].unit", "not in the plan"),
    ({"employee": 999999}, "values[1].employee", "not counted"),
    ({"realistic": None, "stretch": None}, "values[1].realistic", "Give the realistic"),
])
def test_bad_values_name_the_field_and_change_nothing(dept, item, field, message):
    plan = make_plan(dept.director)
    good = value(dept.team, "2026", "1")
    bad = {**value(dept.team, "2026-01", "1"), **item}
    with translation.override("en"), pytest.raises(DomainError) as exc:
        services.plan_set_values(plan=plan, by=dept.director.user, values=[good, bad])
    assert field in exc.value.errors, exc.value.errors
    assert message in exc.value.errors[field][0]
    assert not TargetCell.objects.filter(plan=plan).exists()


def test_a_person_under_the_wrong_unit_is_refused(dept):
    plan = make_plan(dept.director)
    with pytest.raises(DomainError) as exc:
        services.plan_set_values(plan=plan, by=dept.director.user, values=[
            value(dept.other_team, "2026", "1", employee=dept.sales)])
    assert "values[0].unit" in exc.value.errors


def test_counts_are_whole_numbers(dept):
    plan = make_plan(dept.director, metric="visits")
    with translation.override("en"), pytest.raises(DomainError) as exc:
        services.plan_set_values(plan=plan, by=dept.director.user,
                                 values=[value(dept.team, "2026", "10.5", "12")])
    assert "whole number" in exc.value.errors["values[0].realistic"][0]
    services.plan_set_values(plan=plan, by=dept.director.user,
                             values=[value(dept.team, "2026", "10", "12")])


def test_expense_budget_stretch_is_the_lower_figure(dept):
    plan = make_plan(dept.director, metric="expenses")
    with pytest.raises(DomainError) as exc:
        services.plan_set_values(plan=plan, by=dept.director.user,
                                 values=[value(dept.team, "2026", "100", "120")])
    assert "values[0].stretch" in exc.value.errors
    services.plan_set_values(plan=plan, by=dept.director.user,
                             values=[value(dept.team, "2026", "100", "90")])


def test_heads_set_what_is_under_them_but_not_their_own_unit(dept):
    plan = make_plan(dept.director)
    services.plan_set_values(plan=plan, by=dept.manager.user,
                             values=[value(dept.team, "2026", "10")])
    services.plan_set_values(plan=plan, by=dept.lead.user,
                             values=[value(dept.team, "2026", "5", employee=dept.sales)])
    for by, item in [(dept.manager, value(dept.division, "2026", "1")),
                     (dept.lead, value(dept.team, "2026", "1")),
                     (dept.lead, value(dept.team, "2026", "1", employee=dept.lead)),
                     (dept.lead, value(dept.other_team, "2026", "1",
                                       employee=dept.other_sales)),
                     (dept.sales, value(dept.team, "2026", "1", employee=dept.sales)),
                     (dept.finance, value(dept.team, "2026", "1"))]:
        with pytest.raises(PermissionDenied):
            services.plan_set_values(plan=plan, by=by.user, values=[item])


# --- the sums ---------------------------------------------------------------------------
def test_check_finds_periods_and_children_exactly(dept, django_assert_num_queries):
    plan = make_plan(dept.director)
    fill_plan(plan, dept.director, total=Decimal("1000000.01"))
    plan = TargetPlan.objects.select_related("unit").get(pk=plan.pk)
    with django_assert_num_queries(4):
        assert selectors.plan_check(plan) == []
    c = cell(plan, dept.team, "2026-02", employee=dept.sales)
    TargetCell.objects.filter(pk=c.pk).update(realistic=c.realistic + Decimal("0.01"),
                                              stretch=c.stretch + Decimal("0.01"))
    found = selectors.plan_check(plan)
    kinds = {(m.kind, m.period, m.field, m.employee.pk if m.employee else None, m.unit.pk)
             for m in found}
    assert kinds == {
        ("periods", "2026-Q1", f, dept.sales.pk, dept.team.pk) for f in ("realistic",
                                                                          "stretch")
    } | {("children", "2026-02", f, None, dept.team.pk) for f in ("realistic", "stretch")}
    assert all(m.difference == Decimal("0.01") for m in found)


def test_check_is_exact_with_awkward_amounts(dept):
    """Thousands of cents that a float sum would get wrong, on SQLite and PostgreSQL."""
    plan = make_plan(dept.director)
    fill_plan(plan, dept.director, total=Decimal("9876543.21"),
              weights={dept.sales.pk: Decimal(3), dept.sales_mate.pk: Decimal(7),
                       dept.other_sales.pk: Decimal("1.1")})
    assert selectors.plan_check(plan) == []


def test_submit_refused_while_sums_are_off(dept):
    plan_policy(dept.admin)
    plan = make_plan(dept.director)
    with translation.override("en"), pytest.raises(DomainError) as exc:
        services.plan_submit(plan=plan, by=dept.director.user)
    assert "no targets" in exc.value.message
    services.plan_set_values(plan=plan, by=dept.director.user, values=[
        value(dept.department, "2026", "100"), value(dept.department, "2026-Q1", "60")])
    with translation.override("en"), pytest.raises(DomainError) as exc:
        services.plan_submit(plan=plan, by=dept.director.user)
    assert "sums do not add up" in exc.value.message
    assert "经营部, 2026: off by -40.00" in exc.value.message
    assert TargetPlan.objects.get(pk=plan.pk).status == "draft"


# --- approval ---------------------------------------------------------------------------
def test_approved_through_the_engine_then_frozen(dept):
    plan_policy(dept.admin)
    plan = make_plan(dept.director)
    fill_plan(plan, dept.director)
    services.plan_submit(plan=plan, by=dept.director.user)
    plan.refresh_from_db()
    assert plan.status == "submitted" and plan.submitted_at
    from bizdept.approvals.models import ApprovalRequest

    request = ApprovalRequest.objects.get(object_id=plan.pk, document_type="targets.plan")
    assert request.amount == Decimal("1200000.00")
    assert "Revenue plan v1" in request.title or "v1" in request.title
    with pytest.raises(DomainError):
        services.plan_set_values(plan=plan, by=dept.director.user,
                                 values=[value(dept.team, "2026", "1")])
    decide_plan(plan)
    assert plan.status == "approved" and plan.approved_at
    assert selectors.plan_in_force(unit=dept.team, year=YEAR, metric="revenue") == plan
    with translation.override("en"), pytest.raises(DomainError) as exc:
        services.plan_set_values(plan=plan, by=dept.director.user,
                                 values=[value(dept.team, "2026", "1")])
    assert "only through a revision" in exc.value.message


@pytest.mark.parametrize("decision", ["return", "reject"])
def test_returned_or_rejected_goes_back_to_draft(dept, decision):
    plan_policy(dept.admin)
    plan = make_plan(dept.director)
    fill_plan(plan, dept.director)
    services.plan_submit(plan=plan, by=dept.director.user)
    decide_plan(plan, decision=decision, comment="再议")
    assert plan.status == "draft" and plan.submitted_at is None
    services.plan_set_values(plan=plan, by=dept.director.user,
                             values=[value(dept.team, "2026", "1")])


def test_revise_keeps_history_and_supersedes_on_approval(dept):
    plan = approved_plan(dept)
    with pytest.raises(DomainError) as exc:
        services.plan_revise(plan=plan, by=dept.director.user, reason=" ")
    assert "reason" in exc.value.errors
    revision = services.plan_revise(plan=plan, by=dept.director.user, reason="市场变化")
    assert (revision.version, revision.status, revision.revision_of) == (2, "draft", plan)
    assert TargetCell.objects.filter(plan=revision).count() == \
        TargetCell.objects.filter(plan=plan).count()
    with pytest.raises(Conflict):
        services.plan_revise(plan=plan, by=dept.director.user, reason="again")
    with pytest.raises(DomainError):
        services.plan_revise(plan=revision, by=dept.director.user, reason="draft")
    year = cell(revision, dept.department, "2026")
    assert selectors.plan_in_force(unit=dept.team, year=YEAR, metric="revenue") == plan
    services.plan_submit(plan=revision, by=dept.director.user)
    decide_plan(revision)
    plan.refresh_from_db()
    assert (plan.status, revision.status) == ("superseded", "approved")
    assert selectors.plan_in_force(unit=dept.team, year=YEAR, metric="revenue") == revision
    assert [p.version for p in selectors.plan_history(plan)] == [2, 1]
    assert year.realistic == cell(plan, dept.department, "2026").realistic


def test_delete_only_a_never_submitted_draft(dept):
    plan = make_plan(dept.director)
    fill_plan(plan, dept.director)
    services.plan_delete(plan=plan, by=dept.director.user)
    assert not TargetPlan.objects.filter(pk=plan.pk).exists()
    approved = approved_plan(dept)
    with pytest.raises(DomainError):
        services.plan_delete(plan=approved, by=dept.director.user)


# --- split on the database --------------------------------------------------------------
def test_split_year_into_quarters_and_months_progressively(dept):
    plan = make_plan(dept.director)
    services.plan_set_values(plan=plan, by=dept.director.user,
                             values=[value(dept.department, "2026", "1000000", "1200000")])
    services.plan_split(plan=plan, by=dept.director.user, unit=dept.department.pk,
                        period="2026", across="periods_all", how="progressive",
                        step_percent=Decimal(5))
    quarters = [cell(plan, dept.department, f"2026-Q{q}") for q in range(1, 5)]
    assert sum(q.realistic for q in quarters) == Decimal("1000000.00")
    assert [q.realistic for q in quarters] == sorted(q.realistic for q in quarters)
    assert all(q.realistic <= q.stretch for q in quarters)
    months = [cell(plan, dept.department, f"2026-{m:02d}").realistic for m in (1, 2, 3)]
    assert sum(months) == quarters[0].realistic  # evenly, within a cent
    assert max(months) - min(months) <= Decimal("0.01")
    assert not [m for m in selectors.plan_check(plan) if m.kind == "periods"]


def test_split_children_for_every_period_keeps_every_sum(dept):
    plan = make_plan(dept.director)
    services.plan_set_values(plan=plan, by=dept.director.user,
                             values=[value(dept.department, "2026", "1000000.03", "1300000")])
    by = dept.director.user
    services.plan_split(plan=plan, by=by, unit=dept.department.pk, period="2026",
                        across="periods_all", how="even")
    for unit in (dept.department, dept.division, dept.team, dept.other_team):
        services.plan_split(plan=plan, by=by, unit=unit.pk, period="all", across="children",
                            how="even", remainder_to="largest")
    assert selectors.plan_check(plan) == []
    assert cell(plan, dept.team, "2026", employee=dept.sales).realistic > 0


def test_split_by_last_year_uses_the_kpi_library(dept, monkeypatch):
    calls = []

    def fake(metric, since, until, employee_ids=None):
        calls.append((metric, since, until))
        return {dept.sales.pk: Decimal(3), dept.sales_mate.pk: Decimal(1),
                dept.other_sales.pk: Decimal(4)}

    monkeypatch.setattr(services, "_actuals", fake)
    plan = make_plan(dept.director)
    services.plan_set_values(plan=plan, by=dept.director.user,
                             values=[value(dept.division, "2026-01", "800")])
    services.plan_split(plan=plan, by=dept.director.user, unit=dept.division.pk,
                        period="2026-01", across="children", how="last_year")
    assert cell(plan, dept.team, "2026-01").realistic == Decimal("400.00")
    assert cell(plan, dept.other_team, "2026-01").realistic == Decimal("400.00")
    assert calls[0][1:] == (__import__("datetime").date(2025, 1, 1),
                            __import__("datetime").date(2025, 1, 31))
    services.plan_split(plan=plan, by=dept.director.user, unit=dept.team.pk,
                        period="2026-01", across="children", how="last_year")
    assert cell(plan, dept.team, "2026-01", employee=dept.sales).realistic == Decimal("300.00")
    assert cell(plan, dept.team, "2026-01", employee=dept.lead).realistic == Decimal("0.00")


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"across": "sideways"}, "across"), ({"how": "random"}, "how"),
    ({"how": "progressive"}, "step_percent"),
    ({"how": "progressive", "step_percent": 500}, "step_percent"),
    ({"how": "progressive", "across": "children", "step_percent": 5}, "how"),
    ({"period": "2026-01"}, "period"), ({"period": "2025"}, "period"),
    ({"remainder_to": "middle"}, "remainder_to"), ({"unit": 999999}, "unit"),
])
def test_split_refuses_bad_input_naming_the_field(dept, kwargs, field):
    plan = make_plan(dept.director)
    args = {"unit": dept.department.pk, "period": "2026", "across": "periods", "how": "even",
            **kwargs}
    with pytest.raises(DomainError) as exc:
        services.plan_split(plan=plan, by=dept.director.user, **args)
    assert field in exc.value.errors, exc.value.errors


# --- people joining and leaving ---------------------------------------------------------
def test_reassign_within_a_team_keeps_every_sum(dept):
    plan = make_plan(dept.director)
    fill_plan(plan, dept.director)
    before = cell(plan, dept.team, "2026", employee=dept.sales).realistic
    moved = sum(cell(plan, dept.team, f"2026-{m:02d}", employee=dept.sales).realistic
                for m in range(7, 13))
    services.plan_reassign(plan=plan, by=dept.director.user, from_employee=dept.sales,
                           to_employee=dept.sales_mate, from_month="2026-07")
    assert selectors.plan_check(plan) == []
    assert cell(plan, dept.team, "2026", employee=dept.sales).realistic == before - moved
    assert cell(plan, dept.team, "2026-07", employee=dept.sales).realistic == 0


def test_reassign_to_a_newcomer_in_another_division_keeps_every_sum(dept):
    south = make_unit("华南事业部", UnitKind.DIVISION, dept.department)
    canton = make_unit("广州所", UnitKind.TEAM, south)
    plan = make_plan(dept.director)
    fill_plan(plan, dept.director)
    newcomer = make_employee(canton, role=RoleCode.MANAGER, name="新人")  # no quota role
    team_year = cell(plan, dept.team, "2026").realistic
    services.plan_reassign(plan=plan, by=dept.director.user, from_employee=dept.sales,
                           to_employee=newcomer, from_month="2026-10")
    assert selectors.plan_check(plan) == []
    assert cell(plan, canton, "2026-Q4", employee=newcomer).realistic > 0
    assert cell(plan, canton, "2026-Q4").realistic == \
        cell(plan, canton, "2026-Q4", employee=newcomer).realistic
    assert cell(plan, dept.team, "2026").realistic < team_year
    assert cell(plan, dept.department, "2026").realistic == Decimal("1200000.00")


def test_reassign_refuses_bad_input(dept):
    plan = make_plan(dept.director)
    fill_plan(plan, dept.director)
    for kwargs, field in [({"from_month": "2025-07"}, "from_month"),
                          ({"to_employee": dept.outsider}, "to_employee"),
                          ({"to_employee": dept.sales}, "to_employee"),
                          ({"from_employee": dept.finance}, "from_employee")]:
        args = {"from_employee": dept.sales, "to_employee": dept.sales_mate,
                "from_month": "2026-07", **kwargs}
        with pytest.raises(DomainError) as exc:
            services.plan_reassign(plan=plan, by=dept.director.user, **args)
        assert field in exc.value.errors


# --- who reads what ---------------------------------------------------------------------
def test_plan_list_is_the_department_s(dept):
    plan = make_plan(dept.director)
    for person in (dept.director, dept.manager, dept.lead, dept.sales, dept.finance):
        assert list(selectors.plan_list(user=person.user)) == [plan]
    assert list(selectors.plan_list(user=dept.outsider.user)) == []


def test_grid_shows_a_salesperson_only_themselves(dept, django_assert_num_queries):
    plan = make_plan(dept.director)
    fill_plan(plan, dept.director)
    plan = TargetPlan.objects.select_related("unit").get(pk=plan.pk)
    grid = selectors.plan_grid(plan=plan, user=dept.sales.user, unit=dept.team)
    assert [(r.kind, r.employee) for r in grid.rows] == [("parent", None),
                                                         ("person", dept.sales)]
    assert not grid.editable
    assert all(not c.value for c in grid.children_gap)  # sums over everyone
    with pytest.raises(Http404):
        selectors.plan_grid(plan=plan, user=dept.sales.user, unit=dept.division)
    with pytest.raises(Http404):
        selectors.plan_grid(plan=plan, user=dept.lead.user, unit=dept.other_team)
    user = dept.director.user
    selectors.plan_grid(plan=plan, user=user, unit=dept.division)  # warm the scope cache
    with django_assert_num_queries(5):
        grid = selectors.plan_grid(plan=plan, user=user, unit=dept.division)
    assert [r.kind for r in grid.rows] == ["parent", "unit", "unit"]
    assert grid.editable and grid.children_ok and grid.parent.periods_ok
    assert len(grid.rows[1].cells) == 17


def test_grid_editable_flags_follow_the_rule(dept):
    plan = make_plan(dept.director)
    plan = TargetPlan.objects.select_related("unit").get(pk=plan.pk)
    grid = selectors.plan_grid(plan=plan, user=dept.lead.user, unit=dept.team)
    flags = {(r.kind, r.employee.pk if r.employee else None): r.editable for r in grid.rows}
    assert flags == {("parent", None): False, ("person", dept.lead.pk): False,
                     ("person", dept.sales.pk): True, ("person", dept.sales_mate.pk): True}


def test_plan_in_force_for_another_department_is_none(dept):
    approved_plan(dept)
    assert selectors.plan_in_force(unit=dept.outsider.unit, year=YEAR, metric="revenue") is None
    assert selectors.plan_in_force(unit=dept.team.pk, year=YEAR, metric="revenue").status == \
        PlanStatus.APPROVED
    assert selectors.plan_in_force(unit=dept.team, year=YEAR, metric="visits") is None
