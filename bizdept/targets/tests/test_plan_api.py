"""The plans' API (TGT-1..4): status codes, the error body naming fields, scope, query
counts."""

from decimal import Decimal

import pytest
from django.utils import translation

from bizdept.targets.models import TargetCell, TargetPlan

from .factories import YEAR, approved_plan, fill_plan, make_plan, plan_policy

pytestmark = pytest.mark.django_db

BASE = "/api/v1/targets/plans"


def put(client, url, body):
    return client.put(url, body, content_type="application/json")


def post(client, url, body=None):
    return client.post(url, body or {}, content_type="application/json")


def test_create_and_read(as_user, dept):
    client = as_user(dept.director)
    response = post(client, BASE, {"fiscal_year": YEAR, "metric": "revenue"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["unit"]["id"], body["status"], body["version"]) == (dept.department.pk,
                                                                      "draft", 1)
    assert client.get(f"{BASE}/{body['id']}").json()["id"] == body["id"]
    again = post(client, BASE, {"fiscal_year": YEAR, "metric": "revenue"})
    assert again.status_code == 409 and "fiscal_year" in again.json()["errors"]


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"fiscal_year": 1999, "metric": "revenue"}, 422, "fiscal_year"),
    ({"fiscal_year": "2026", "metric": "revenue"}, 422, "fiscal_year"),
    ({"fiscal_year": YEAR, "metric": "profit"}, 422, "metric"),
    ({"fiscal_year": YEAR, "metric": "revenue", "unit": 10**9}, 400, "unit"),
    ({"fiscal_year": YEAR, "metric": "revenue", "extra": 1}, 422, "extra"),
])
def test_create_refuses_bad_input(as_user, dept, body, status, field):
    response = post(as_user(dept.director), BASE, body)
    assert response.status_code == status
    assert field in response.json()["errors"]


def test_create_forbidden_for_a_salesperson(as_user, dept):
    response = post(as_user(dept.sales), BASE, {"fiscal_year": YEAR, "metric": "revenue"})
    assert response.status_code == 403


def test_list_filters_and_counts_queries(as_user, dept, django_assert_max_num_queries):
    make_plan(dept.director)
    make_plan(dept.director, metric="visits")
    make_plan(dept.director, year=YEAR + 1)
    client = as_user(dept.sales)
    with django_assert_max_num_queries(8):
        response = client.get(BASE)
    assert response.json()["count"] == 3
    assert client.get(BASE + f"?year={YEAR}&metric=visits").json()["count"] == 1
    assert client.get(BASE + "?status=approved").json()["count"] == 0
    assert client.get(BASE + "?metric=profit").status_code == 422
    assert client.get(BASE + "?year=20260").status_code == 422
    assert as_user(dept.outsider).get(BASE).json()["count"] == 0


def test_values_grid_check_submit(as_user, dept, django_assert_max_num_queries):
    plan_policy(dept.admin)
    plan = make_plan(dept.director)
    client = as_user(dept.director)
    url = f"{BASE}/{plan.pk}"
    response = put(client, f"{url}/values", {"values": [
        {"unit": dept.department.pk, "period": "2026", "realistic": "1200", "stretch": 1500},
        {"unit": dept.team.pk, "employee": dept.sales.pk, "period": "2026-01",
         "realistic": 10.5, "stretch": "12"},
    ]})
    assert response.status_code == 200, response.json()
    assert response.json() == {"written": 2}
    check = client.get(f"{url}/check").json()
    assert not check["ok"] and check["count"] > 0
    response = post(client, f"{url}/submit")
    assert response.status_code == 400 and "values" in response.json()["errors"]
    with django_assert_max_num_queries(12):
        grid = client.get(f"{url}/grid?unit={dept.team.pk}")
    assert grid.status_code == 200
    rows = grid.json()["rows"]
    assert [r["kind"] for r in rows] == ["parent", "person", "person", "person"]
    sales_row = next(r for r in rows if r["employee"] and r["employee"]["id"] == dept.sales.pk)
    january = next(c for c in sales_row["cells"] if c["period"] == "2026-01")
    assert (january["realistic"], january["stretch"]) == ("10.50", "12.00")
    TargetCell.objects.filter(plan=plan).delete()
    fill_plan(plan, dept.director)
    assert client.get(f"{url}/check").json() == {"ok": True, "count": 0, "mismatches": []}
    response = post(client, f"{url}/submit", {"comment": "请审批"})
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    frozen = put(client, f"{url}/values", {"values": [
        {"unit": dept.team.pk, "period": "2026", "realistic": 1}]})
    assert frozen.status_code == 400 and "status" in frozen.json()["errors"]


def test_values_errors_name_the_item(as_user, dept):
    plan = make_plan(dept.director)
    client = as_user(dept.director)
    good = {"unit": dept.team.pk, "period": "2026", "realistic": 1, "stretch": 2}
    with translation.override("en"):
        cases = [
            ({"realistic": 3}, 400, "values.1.stretch", "values[1].stretch"),
            ({"period": "2025"}, 400, None, "values[1].period"),
            ({"unit": 10**9}, 400, None, "values[1].unit"),
            ({"realistic": -1}, 422, "values.1.realistic", None),
            ({"realistic": "1.234"}, 422, "values.1.realistic", None),
            ({"realistic": 0.001}, 400, None, "values[1].realistic"),
            ({"owner": 1}, 422, "values.1.owner", None),
        ]
        for change, status, field422, field400 in cases:
            response = put(client, f"{BASE}/{plan.pk}/values",
                           {"values": [good, {**good, "period": "2026-01", **change}]})
            assert response.status_code == status, (change, response.json())
            errors = response.json()["errors"]
            assert (field400 or field422) in errors, (change, errors)
    assert not TargetCell.objects.filter(plan=plan).exists()
    assert put(client, f"{BASE}/{plan.pk}/values", {"values": "x"}).status_code == 422
    assert put(client, f"{BASE}/{plan.pk}/values", [1]).status_code == 422


def test_heads_set_below_them_others_are_refused(as_user, dept):
    plan = make_plan(dept.director)
    body = {"values": [{"unit": dept.team.pk, "employee": dept.sales.pk, "period": "2026",
                        "realistic": 5, "stretch": 6}]}
    assert put(as_user(dept.lead), f"{BASE}/{plan.pk}/values", body).status_code == 200
    assert put(as_user(dept.sales), f"{BASE}/{plan.pk}/values", body).status_code == 403
    assert put(as_user(dept.outsider), f"{BASE}/{plan.pk}/values", body).status_code == 404


def test_split_and_reassign(as_user, dept):
    plan = make_plan(dept.director)
    client = as_user(dept.director)
    url = f"{BASE}/{plan.pk}"
    put(client, f"{url}/values", {"values": [
        {"unit": dept.department.pk, "period": "2026", "realistic": "1000000",
         "stretch": "1200000"}]})
    response = post(client, f"{url}/split", {"unit": dept.department.pk, "period": "2026",
                                             "across": "periods_all", "how": "progressive",
                                             "step_percent": 5})
    assert response.status_code == 200 and response.json()["written"] == 16
    for unit in (dept.department, dept.division, dept.team, dept.other_team):
        response = post(client, f"{url}/split", {"unit": unit.pk, "period": "all",
                                                 "across": "children", "how": "even"})
        assert response.status_code == 200, response.json()
    assert client.get(f"{url}/check").json()["ok"]
    bad = post(client, f"{url}/split", {"unit": dept.department.pk, "period": "2026",
                                        "across": "periods", "how": "progressive"})
    assert bad.status_code == 400 and "step_percent" in bad.json()["errors"]
    response = post(client, f"{url}/reassign", {"from_employee": dept.sales.pk,
                                                "to_employee": dept.other_sales.pk,
                                                "from_month": "2026-07"})
    assert response.status_code == 200 and response.json()["written"] > 0
    assert client.get(f"{url}/check").json()["ok"]
    bad = post(client, f"{url}/reassign", {"from_employee": dept.sales.pk,
                                           "to_employee": 10**9, "from_month": "2026-07"})
    assert bad.status_code == 400 and "to_employee" in bad.json()["errors"]


def test_revise_an_approved_plan(as_user, dept):
    plan = approved_plan(dept)
    client = as_user(dept.director)
    response = post(client, f"{BASE}/{plan.pk}/revise", {"reason": "市场变化"})
    assert response.status_code == 201
    body = response.json()
    assert (body["version"], body["revision_of"], body["status"]) == (2, plan.pk, "draft")
    assert post(client, f"{BASE}/{plan.pk}/revise", {"reason": "x"}).status_code == 409
    assert post(client, f"{BASE}/{plan.pk}/revise", {}).status_code == 422
    assert client.delete(f"{BASE}/{body['id']}").status_code == 204
    assert client.delete(f"{BASE}/{plan.pk}").status_code == 400
    assert TargetPlan.objects.filter(pk=plan.pk, status="approved").exists()


def test_person_row_and_grid_scope(as_user, dept):
    plan = make_plan(dept.director)
    fill_plan(plan, dept.director, total=Decimal("1000.00"))
    url = f"{BASE}/{plan.pk}"
    sales = as_user(dept.sales)
    assert sales.get(f"{url}/people/{dept.sales.pk}").status_code == 200
    assert sales.get(f"{url}/people/{dept.sales_mate.pk}").status_code == 404
    assert sales.get(f"{url}/grid").status_code == 404  # the department's grid
    assert sales.get(f"{url}/grid?unit={dept.team.pk}").status_code == 200
    assert sales.get(f"{url}/grid?unit={dept.outsider.unit_id}").status_code == 404
    check = sales.get(f"{url}/check").json()
    assert check["ok"]
