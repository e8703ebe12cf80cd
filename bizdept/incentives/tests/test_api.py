"""INC-1, INC-2 over the API: plans (create, change with the version, submit, new
version, delete, what-if), runs (create, recompute, submit) and lines (a run's, one with
its explanation, my own). 403 for a role that may not, 404 outside the scope, 400 naming
the field (nested: ``tiers[2].rate``), 409 on a stale version or the wrong stage, never a
500 for a body of the wrong shape; lists cost the same queries however many rows."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bizdept.appraisal.tests.cycles import cycle_policy
from bizdept.incentives import services
from bizdept.incentives.models import BonusLine, BonusPlan, BonusRun
from bizdept.org.models import Position

from .factories import (
    GRADE_COEFFICIENTS,
    SALES_POSITION,
    TIERS,
    approved_cycle,
    draft_plan,
    plan_in_force,
    policies,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/incentives"
JSON = "application/json"


@pytest.fixture
def as_user(db):
    """``as_user(employee)``: a client of its own signed in as them."""

    def signed_in(employee):
        client = Client()
        client.force_login(employee.user)
        return client
    return signed_in


@pytest.fixture
def setup(dept):
    policies(dept.finance)
    return dept


def body(**overrides) -> dict:
    values = {"name": "业务员季度奖金", "position": Position.objects.get(name=SALES_POSITION).pk,
              "period_kind": "quarterly", "base_amount": 5000,
              "coefficients": GRADE_COEFFICIENTS, "commission_measure": "revenue",
              "tiers": TIERS}
    values.update(overrides)
    return values


def send(client, method, url, data):
    raw = data if isinstance(data, str) else json.dumps(data)
    return getattr(client, method)(url, raw, content_type=JSON)


def errors(response, status) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.json()["errors"]


# --- plans ------------------------------------------------------------------------------
def test_the_director_drafts_changes_submits_and_versions_a_plan(setup, as_user):
    dept = setup
    director = as_user(dept.director)
    created = send(director, "post", f"{API}/plans", body(
        total_cap="9000.5", gates=[{"kind": "grade_in", "grades": ["D"], "blocks": "all"}]))
    assert created.status_code == 201, created.json()
    plan = created.json()
    assert plan["status"] == "draft" and plan["number"] == 1 and plan["is_editable"]
    assert plan["base_amount"] == "5000.00" and plan["total_cap"] == "9000.50"
    assert plan["tiers"][1] == {"from": "80.00", "rate": "3.00"}
    assert plan["coefficients"]["A"] == "1.20"
    assert plan["gates"] == [{"kind": "grade_in", "grades": ["D"], "blocks": "all"}]
    url = f"{API}/plans/{plan['id']}"
    assert director.get(url).json()["tiers"] == plan["tiers"]

    changed = send(director, "patch", url, {"base_amount": "6000", "total_cap": None,
                                            "version": plan["version"]})
    assert changed.status_code == 200, changed.json()
    assert changed.json()["base_amount"] == "6000.00" and changed.json()["total_cap"] is None
    assert changed.json()["version"] == plan["version"] + 1
    stale = send(director, "patch", url, {"notes": "旧", "version": plan["version"]})
    assert "version" in errors(stale, 409)
    falling = send(director, "patch", url, {"tiers": [{"from": 0, "rate": 5},
                                                      {"from": "80", "rate": "3"}]})
    assert list(errors(falling, 400)) == ["tiers[1].rate"]
    assert "gates[0].kpi" in errors(send(director, "patch", url, {"gates": [
        {"kind": "kpi_below", "floor": 60, "blocks": "commission"}]}), 400)

    # a salesperson: no drafts to read, no plan to write
    sales = as_user(dept.sales)
    assert send(sales, "post", f"{API}/plans", body()).status_code == 403
    assert sales.get(url).status_code == 404
    assert send(sales, "patch", url, {"notes": "x"}).status_code == 404
    assert sales.get(f"{API}/plans").json()["count"] == 0

    submitted = send(director, "post", f"{url}/submit", {"comment": "请审批"})
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["status"] == "submitted"
    assert "status" in errors(send(director, "patch", url, {"notes": "晚了"}), 409)
    assert send(director, "delete", url, {}).status_code == 409

    copy = send(director, "post", f"{url}/new-version", {})
    assert copy.status_code == 201, copy.json()
    assert (copy.json()["number"], copy.json()["status"]) == (2, "draft")
    assert copy.json()["base_amount"] == "6000.00"
    listed = director.get(f"{API}/plans", {"status": "draft"})
    assert [p["id"] for p in listed.json()["items"]] == [copy.json()["id"]]
    assert director.get(f"{API}/plans", {"q": "季度"}).json()["count"] == 2
    assert send(director, "delete", f"{API}/plans/{copy.json()['id']}", {}).status_code == 204
    assert not BonusPlan.objects.filter(pk=copy.json()["id"]).exists()


def test_a_salesperson_reads_the_plan_in_force_but_may_not_change_it(setup, as_user):
    dept = setup
    plan = plan_in_force(dept)
    sales = as_user(dept.sales)
    found = sales.get(f"{API}/plans/{plan.pk}")
    assert found.status_code == 200 and found.json()["status"] == "approved"
    assert send(sales, "patch", f"{API}/plans/{plan.pk}", {"notes": "x"}).status_code == 403
    assert send(sales, "post", f"{API}/plans/{plan.pk}/new-version", {}).status_code == 403


@pytest.mark.parametrize(("overrides", "field"), [
    ({"tiers": [{"from": 0, "rate": 0}, {"from": 80, "rate": 3}, {"from": 100, "rate": 2}]},
     "tiers[2].rate"),
    ({"tiers": [{"from": 10, "rate": 1}]}, "tiers[0].from"),
    ({"tiers": [{"from": 0, "rate": "100.5"}]}, "tiers[0].rate"),
    ({"tiers": [{"from": 0, "rate": 0.001}]}, "tiers[0].rate"),
    ({"gates": [{"kind": "kpi_below", "kpi": "collection_rate", "blocks": "commission"}]},
     "gates[0].floor"),
    ({"gates": [{"kind": "grade_in", "blocks": "all"}]}, "gates[0].grades"),
    ({"coefficients": {"S": 101}}, "coefficients.S"),
    ({"coefficients": [{"from": 90, "coefficient": 1}]}, "coefficients"),
    ({"coefficient_basis": "score", "coefficients": {"S": 1}}, "coefficients"),
    ({"coefficient_basis": "score",
      "coefficients": [{"from": 90, "coefficient": 1}, {"from": 90, "coefficient": 2}]},
     "coefficients[1].from"),
    ({"commission_measure": "", "tiers": TIERS}, "commission_measure"),
    ({"base_amount": 1e20}, "base_amount"),
    ({"base_amount": -1}, "base_amount"),
    ({"position": 10**9}, "position"),
])
def test_a_bad_rule_answers_400_naming_it(setup, as_user, overrides, field):
    response = send(as_user(setup.director), "post", f"{API}/plans", body(**overrides))
    assert field in errors(response, 400)
    assert not BonusPlan.objects.exists()


_SHAPES = [
    {"tiers": {"from": 0, "rate": 1}}, {"tiers": "0-80:3"}, {"tiers": [[0, 1]]},
    {"tiers": [{"from": True, "rate": 1}]}, {"tiers": [{"from": 0, "rate": None}]},
    {"tiers": [{"from": 0, "rate": "NaN"}]}, {"tiers": [{"from": 0, "rate": "1e999"}]},
    {"tiers": [{"from": 0, "rate": 1, "to": 5}]}, {"tiers": [{"from": 0}] * 500},
    {"coefficients": "S=1.5"}, {"coefficients": [1, 2]}, {"coefficients": {"S": [1]}},
    {"coefficients": {"Z": 1}}, {"coefficients": {"S": "-1"}}, {"coefficients": None},
    {"gates": {"kind": "grade_in"}}, {"gates": [{"kind": "nope", "blocks": "all"}]},
    {"gates": [{"kind": "grade_in", "grades": "D", "blocks": "all"}]},
    {"gates": [{"kind": "grade_in", "grades": [{"D": 1}], "blocks": "all"}]},
    {"gates": [{"kind": "kpi_below", "kpi": ["x"], "floor": 1, "blocks": "all"}]},
    {"gates": [{"kind": "kpi_below", "kpi": "collection_rate", "floor": -5,
                "blocks": "all"}]},
    {"base_amount": True}, {"base_amount": "abc"}, {"base_amount": 10**400},
    {"base_amount": 1e308}, {"base_amount": [5000]}, {"base_amount": {"v": 1}},
    {"position": "1"}, {"position": True}, {"position": 2**70}, {"position": 1.5},
    {"commission_cap": -0.01}, {"total_cap": "1,000"}, {"name": None}, {"name": 5},
    {"notes": "x" * 5000}, {"period_kind": ["quarterly"]}, {"owner": 1},
]


@pytest.mark.parametrize("overrides", _SHAPES, ids=[str(i) for i in range(len(_SHAPES))])
def test_a_body_of_the_wrong_shape_is_refused_and_never_a_500(setup, as_user, overrides):
    director = as_user(setup.director)
    response = send(director, "post", f"{API}/plans", body(**overrides))
    assert response.status_code in (400, 422), (response.status_code, response.content)
    assert response.json()["errors"]


def test_raw_bodies_of_any_kind_are_refused_and_never_a_500(setup, as_user):
    director = as_user(setup.director)
    plan = draft_plan(setup.director)
    for raw in ('{"base_amount": NaN}', '{"base_amount": Infinity}', '[1, 2]', '"text"',
                'null', '{"tiers": [{"from": -Infinity, "rate": 1}]}', '{"tiers": [',
                '{"version": "1"}', '{"version": true}', '{"version": 0}',
                '{"coefficients": {"S": 1e400}}', '{"gates": [null]}'):
        for method, url in (("post", f"{API}/plans"), ("patch", f"{API}/plans/{plan.pk}")):
            response = send(director, method, url, raw)
            assert response.status_code in (400, 422), (method, raw, response.content)
            assert response.json()["detail"]
    plan.refresh_from_db()
    assert plan.version == 1


# --- runs, lines and what-if ----------------------------------------------------------------
def test_runs_lines_and_what_if_by_role(setup, as_user):
    dept = setup
    cycle_policy(dept.director)
    cycle = approved_cycle(dept, grades={dept.sales: "A", dept.sales_mate: "B"})
    plan = plan_in_force(dept)
    director, sales = as_user(dept.director), as_user(dept.sales)

    # what-if: a draft against the plan in force on the cycle; for HR and the director only
    draft = services.plan_new_version(plan=plan, by=dept.director.user)
    services.plan_update(plan=draft, by=dept.director.user, base_amount="6000")
    found = director.get(f"{API}/plans/{draft.pk}/what-if", {"cycle": cycle.pk})
    assert found.status_code == 200, found.json()
    data = found.json()
    assert data["current_plan"]["id"] == plan.pk and data["cycle"]["id"] == cycle.pk
    rows = {row["employee"]["id"]: row for row in data["rows"]}
    assert (rows[dept.sales.pk]["current"], rows[dept.sales.pk]["draft"],
            rows[dept.sales.pk]["change"]) == ("6000.00", "7200.00", "1200.00")
    assert data["totals"]["people"] == len(rows)
    assert "cycle" in errors(director.get(f"{API}/plans/{draft.pk}/what-if",
                                          {"cycle": 10**9}), 400)
    assert "cycle" in errors(director.get(f"{API}/plans/{draft.pk}/what-if"), 422)
    assert sales.get(f"{API}/plans/{plan.pk}/what-if", {"cycle": cycle.pk}).status_code == 404
    assert not BonusLine.objects.exists()

    # runs: HR or the director only, on an approved cycle, once
    assert send(sales, "post", f"{API}/runs", {"cycle": cycle.pk}).status_code == 403
    assert "cycle" in errors(send(director, "post", f"{API}/runs", {"cycle": 10**9}), 400)
    created = send(director, "post", f"{API}/runs", {"cycle": cycle.pk})
    assert created.status_code == 201, created.json()
    run = created.json()
    assert run["status"] == "draft" and run["unpaid"] == 0
    assert run["totals"]["people"] == run["people"] == 3
    assert "cycle" in errors(send(director, "post", f"{API}/runs", {"cycle": cycle.pk}), 409)
    url = f"{API}/runs/{run['id']}"

    # a salesperson sees the run with their own line only, and follows its arithmetic
    mine = sales.get(url).json()
    assert mine["people"] == 1 and mine["unpaid"] is None
    own = BonusLine.objects.get(run_id=run["id"], employee=dept.sales)
    theirs = BonusLine.objects.get(run_id=run["id"], employee=dept.other_sales)
    assert mine["total"] == str(own.total)
    listed = sales.get(f"{url}/lines").json()
    assert [line["id"] for line in listed["items"]] == [own.pk]
    line = sales.get(f"{API}/lines/{own.pk}")
    assert line.status_code == 200
    assert line.json()["explanation"]["plan"]["id"] == plan.pk
    assert line.json()["explanation"]["base"]["coefficient"] == "1.20"
    assert line.json()["base_bonus"] == "6000.00"
    assert sales.get(f"{API}/lines/{theirs.pk}").status_code == 404
    assert [x["id"] for x in sales.get(f"{API}/my-lines").json()["items"]] == [own.pk]
    assert [x["id"] for x in sales.get(f"{API}/lines").json()["items"]] == [own.pk]
    lead_sees = {x["id"] for x in as_user(dept.lead).get(f"{API}/lines").json()["items"]}
    assert own.pk in lead_sees and theirs.pk not in lead_sees
    assert director.get(f"{API}/lines", {"run": run["id"]}).json()["count"] == 3
    assert director.get(f"{API}/lines", {"run": run["id"] + 1}).json()["count"] == 0
    assert as_user(dept.outsider).get(url).status_code == 404
    assert as_user(dept.outsider).get(f"{API}/lines/{own.pk}").status_code == 404

    # the director's filters
    assert director.get(f"{url}/lines").json()["count"] == 3
    for query, expected in (({"grade": "A"}, {own.pk}), ({"employee": dept.sales.pk}, {own.pk}),
                            ({"q": dept.other_sales.name}, {theirs.pk}),
                            ({"unit": dept.team.pk}, {own.pk, BonusLine.objects.get(
                                run_id=run["id"], employee=dept.sales_mate).pk})):
        got = director.get(f"{url}/lines", query)
        assert {x["id"] for x in got.json()["items"]} == expected, query
    assert "unit" in errors(director.get(f"{url}/lines", {"unit": 10**9}), 400)
    assert director.get(f"{API}/runs").json()["items"][0]["total"] == run["total"]

    # recompute while a draft; submitted: frozen
    assert send(sales, "post", f"{url}/recompute", {}).status_code == 403
    assert send(director, "post", f"{url}/recompute", {}).status_code == 200
    submitted = send(director, "post", f"{url}/submit", {"comment": "请审批"})
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert "status" in errors(send(director, "post", f"{url}/recompute", {}), 409)
    assert "status" in errors(send(director, "post", f"{url}/submit", {}), 409)
    assert BonusRun.objects.get(pk=run["id"]).status == "submitted"


# --- queries ------------------------------------------------------------------------------
def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.json()
    return len(captured)


def test_the_plans_list_costs_the_same_queries_for_more_plans(setup, as_user):
    dept = setup
    director = as_user(dept.director)
    draft_plan(dept.director)
    few = _queries(director, f"{API}/plans")
    for i in range(5):
        draft_plan(dept.director, name=f"方案{i}", period_kind="annual" if i % 2 else
                   "quarterly")
    assert director.get(f"{API}/plans").json()["count"] == 6
    assert _queries(director, f"{API}/plans") == few


def test_a_runs_lines_cost_the_same_queries_for_more_people(setup, as_user):
    from decimal import Decimal

    from bizdept.appraisal.models import Appraisal
    from bizdept.org.tests.factories import make_employee

    dept = setup
    cycle_policy(dept.director)
    cycle = approved_cycle(dept)
    plan_in_force(dept)
    run = services.run_create(by=dept.director.user, cycle=cycle)
    director = as_user(dept.director)
    urls = (f"{API}/runs/{run.pk}/lines", f"{API}/runs", f"{API}/runs/{run.pk}",
            f"{API}/lines")
    few = [_queries(director, url) for url in urls]
    template = Appraisal.objects.filter(cycle=cycle).first()
    for i in range(6):
        person = make_employee(dept.team, username=f"more{i}", name=f"新人{i}")
        Appraisal.objects.create(cycle=cycle, employee=person, unit=dept.team,
                                 template=template.template, template_version=1,
                                 grade="B", total_score=Decimal("75"))
    run = services.run_recompute(run=run, by=dept.director.user)
    assert director.get(urls[0]).json()["count"] == run.people >= 9
    assert [_queries(director, url) for url in urls] == few
