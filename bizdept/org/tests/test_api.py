"""ORG API: units (list, tree, detail) and employees (list, detail, me).

Status codes, the scope rule (out of scope reads answer 404), the one error body, and a
constant number of queries per list however many rows there are.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bizdept.org import services
from bizdept.org.tests.factories import PositionFactory, make_employee, make_unit

API = "/api/v1"


def get(client, path, **params):
    return client.get(API + path, params)


def ok(client, path, **params):
    response = get(client, path, **params)
    assert response.status_code == 200, (response.status_code, response.content[:500])
    return response.json()


def names(client, **params):
    return {row["name"] for row in ok(client, "/employees", page_size=200, **params)["items"]}


def assert_error(response, status, field=None):
    """Every 4xx has the one error body; ``field`` is named in its errors."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], dict)
    if field is not None:
        assert field in body["errors"], body
        assert all(isinstance(m, str) and m for m in body["errors"][field])
    return body


DEPARTMENT = {"总监", "经理", "所长", "业务员甲", "业务员乙", "另一所长", "业务员丙", "财务",
              "人事", "管理员"}


# --- employees: list -----------------------------------------------------------------
def test_employee_list_is_paginated_with_the_total_count(as_user, director):
    body = ok(as_user(director), "/employees", page_size=3, page=2)
    assert set(body) == {"items", "count", "page", "page_size"}
    assert body["count"] == len(DEPARTMENT)
    assert body["page"] == 2 and body["page_size"] == 3
    assert len(body["items"]) == 3


def test_employee_list_past_the_last_page_is_empty_not_an_error(as_user, director):
    body = ok(as_user(director), "/employees", page=99)
    assert body["items"] == [] and body["count"] == len(DEPARTMENT)


def test_employee_list_default_page_size(as_user, director, settings):
    body = ok(as_user(director), "/employees")
    assert body["page"] == 1 and body["page_size"] == settings.BIZDEPT_PAGE_SIZE


def test_employee_list_row_shape(as_user, dept):
    body = ok(as_user(dept.sales), "/employees")
    assert body["count"] == 1
    row = body["items"][0]
    assert row == {
        "id": dept.sales.pk, "number": dept.sales.number, "name": "业务员甲",
        "unit": {"id": dept.team.pk, "name": "上海一所"},
        "position": {"id": dept.sales.position_id, "name": dept.sales.position.name},
        "status": "active", "hire_date": "2024-01-01", "leave_date": None,
        "phone": "", "email": "",
    }


def test_position_name_follows_the_language(as_user, dept):
    client = as_user(dept.sales)
    row = ok(client, "/employees")["items"][0]
    assert row["position"]["name"] == dept.sales.position.name
    dept.sales.user.language = "en"
    dept.sales.user.save()
    row = ok(client, "/employees")["items"][0]
    assert row["position"]["name"] == dept.sales.position.name_en
    detail = ok(client, "/employees/me")
    assert detail["position"]["responsibilities"] == "Develops customers."


@pytest.mark.parametrize(("persona", "expected"), [
    ("sales", {"业务员甲"}),
    ("lead", {"所长", "业务员甲", "业务员乙"}),
    ("manager", {"经理", "所长", "业务员甲", "业务员乙", "另一所长", "业务员丙"}),
    ("director", DEPARTMENT),
    ("hr", DEPARTMENT),
    ("finance", {"财务"}),
    ("other_sales", {"业务员丙"}),
])
def test_employee_list_follows_the_scope_rule(as_user, dept, persona, expected):
    assert names(as_user(getattr(dept, persona))) == expected


def test_admin_lists_everyone_in_the_company(as_user, dept):
    assert names(as_user(dept.admin)) == DEPARTMENT | {"研发员"}


def test_filter_q_searches_name_number_phone_and_email(as_user, dept):
    services.employee_update(employee=dept.sales_mate, phone="13800138000",
                             email="mate@example.com")
    client = as_user(dept.director)
    assert names(client, q="业务员") == {"业务员甲", "业务员乙", "业务员丙"}
    assert names(client, q=dept.sales.number) == {"业务员甲"}
    assert names(client, q="138001") == {"业务员乙"}
    assert names(client, q="MATE@example") == {"业务员乙"}
    assert names(client, q="   ") == DEPARTMENT
    assert names(client, q="没有这个人") == set()


def test_filter_unit_includes_its_whole_subtree(as_user, dept):
    client = as_user(dept.director)
    assert names(client, unit=dept.division.pk) == {
        "经理", "所长", "业务员甲", "业务员乙", "另一所长", "业务员丙"}
    assert names(client, unit=dept.team.pk) == {"所长", "业务员甲", "业务员乙"}
    deep = make_unit("上海一所一组", parent=dept.team)
    make_employee(deep, name="组员")
    assert "组员" in names(client, unit=dept.division.pk)


def test_filter_unit_does_not_widen_the_scope(as_user, dept):
    assert names(as_user(dept.sales), unit=dept.division.pk) == {"业务员甲"}
    assert names(as_user(dept.director), unit=dept.other_department.pk) == set()


def test_filter_status(as_user, dept):
    services.employee_set_status(employee=dept.sales_mate, status="on_notice")
    services.employee_set_status(employee=dept.other_sales, status="left")
    client = as_user(dept.director)
    assert names(client, status="on_notice") == {"业务员乙"}
    assert names(client, status="left") == {"业务员丙"}
    assert "业务员丙" not in names(client, status="active")
    left = ok(client, "/employees", status="left")["items"][0]
    assert left["status"] == "left" and left["leave_date"] == datetime.date.today().isoformat()


def test_filter_role(as_user, dept):
    client = as_user(dept.director)
    assert names(client, role="lead") == {"所长", "另一所长"}
    assert names(client, role="finance") == {"财务"}
    services.employee_set_roles(employee=dept.lead, roles=["lead", "sales"])
    # An employee with two matching rows in the join is listed once.
    body = ok(client, "/employees", role="lead")
    assert body["count"] == 2 and len(body["items"]) == 2


def test_filter_position(as_user, dept):
    position = PositionFactory(name="大客户经理")
    services.employee_update(employee=dept.sales_mate, position=position)
    assert names(as_user(dept.director), position=position.pk) == {"业务员乙"}


def test_filters_combine(as_user, dept):
    client = as_user(dept.director)
    assert names(client, unit=dept.division.pk, role="sales", q="丙") == {"业务员丙"}


def test_ordering_by_number_is_the_default_and_can_be_reversed(as_user, director):
    client = as_user(director)
    numbers = [row["number"] for row in ok(client, "/employees", page_size=200)["items"]]
    assert numbers == sorted(numbers)
    reverse = [row["number"] for row in
               ok(client, "/employees", page_size=200, ordering="-number")["items"]]
    assert reverse == numbers[::-1]


def test_ordering_by_name_and_hire_date(as_user, dept):
    team = make_unit("排序组", parent=dept.department)
    for name, hired in (("Carol", datetime.date(2020, 5, 1)), ("Alice", datetime.date(2022, 1, 1)),
                        ("Bob", datetime.date(2021, 3, 1))):
        make_employee(team, name=name, hire_date=hired)
    client = as_user(dept.director)

    def order(ordering):
        rows = ok(client, "/employees", unit=team.pk, ordering=ordering)["items"]
        return [row["name"] for row in rows]

    assert order("name") == ["Alice", "Bob", "Carol"]
    assert order("-name") == ["Carol", "Bob", "Alice"]
    assert order("hire_date") == ["Carol", "Bob", "Alice"]
    assert order("-hire_date") == ["Alice", "Bob", "Carol"]


def test_ordering_by_unit_follows_the_tree(as_user, dept):
    client = as_user(dept.director)
    rows = ok(client, "/employees", page_size=200, ordering="unit")["items"]
    assert rows[0]["unit"]["id"] == dept.department.pk  # the department's path is a prefix
    rows = ok(client, "/employees", page_size=200, ordering="-unit")["items"]
    assert rows[-1]["unit"]["id"] == dept.department.pk


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "retired"}, "status"),
    ({"role": "ceo"}, "role"),
    ({"unit": "abc"}, "unit"),
    ({"unit": "0"}, "unit"),
    ({"position": "-3"}, "position"),
    ({"ordering": "user__password"}, "ordering"),
    ({"q": "x" * 101}, "q"),
    ({"q": "a\x00b"}, "q"),
    ({"page": "0"}, "page"),
    ({"page": "one"}, "page"),
    ({"page_size": "0"}, "page_size"),
    ({"page_size": "100000"}, "page_size"),
])
def test_invalid_filter_values_answer_422_naming_the_field(as_user, director, params, field):
    assert_error(get(as_user(director), "/employees", **params), 422, field)


@pytest.mark.parametrize("field", ["unit", "position"])
def test_unknown_unit_or_position_answers_400_naming_the_field(as_user, director, field):
    assert_error(get(as_user(director), "/employees", **{field: 999_999}), 400, field)


# --- employees: detail and me --------------------------------------------------------
@pytest.mark.parametrize(("persona", "target", "status"), [
    ("sales", "sales", 200),
    ("sales", "sales_mate", 404),
    ("sales", "lead", 404),
    ("lead", "sales", 200),
    ("lead", "other_sales", 404),
    ("lead", "manager", 404),
    ("manager", "other_sales", 200),
    ("manager", "director", 404),
    ("director", "other_sales", 200),
    ("director", "finance", 200),
    ("director", "outsider", 404),
    ("other_sales", "sales", 404),
    ("hr", "other_sales", 200),
    ("hr", "outsider", 404),
    ("finance", "sales", 404),
    ("finance", "finance", 200),
    ("admin", "outsider", 200),
])
def test_employee_detail_by_scope(as_user, dept, persona, target, status):
    response = get(as_user(getattr(dept, persona)), f"/employees/{getattr(dept, target).pk}")
    if status == 200:
        assert response.status_code == 200
        assert response.json()["id"] == getattr(dept, target).pk
    else:
        assert_error(response, 404)


def test_out_of_scope_and_missing_employees_answer_the_same_404(as_user, dept):
    client = as_user(dept.sales)
    hidden = get(client, f"/employees/{dept.other_sales.pk}")
    missing = get(client, "/employees/999999")
    assert_error(hidden, 404)
    assert hidden.json() == missing.json()


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "1.5", str(2**70)])
def test_employee_detail_with_a_bad_id_answers_422(as_user, director, bad):
    assert_error(get(as_user(director), f"/employees/{bad}"), 422, "employee_id")


def test_employee_detail_shows_mentor_and_roles(as_user, dept):
    services.employee_update(employee=dept.sales, mentor=dept.sales_mate)
    body = ok(as_user(dept.lead), f"/employees/{dept.sales.pk}")
    assert body["mentor"] == {"id": dept.sales_mate.pk, "number": dept.sales_mate.number,
                              "name": "业务员乙"}
    assert body["roles"] == ["sales"]
    assert body["unit"] == {"id": dept.team.pk, "name": "上海一所"}


def test_me_is_my_own_record(as_user, dept):
    body = ok(as_user(dept.lead), "/employees/me")
    assert body["id"] == dept.lead.pk and body["name"] == "所长"
    assert body["roles"] == ["lead"] and body["mentor"] is None


def test_me_without_an_employee_record_answers_404(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="x-pass-123"))
    assert_error(get(client, "/employees/me"), 404)


def test_employee_endpoints_need_authentication(client, dept):
    for path in ("/employees", "/employees/me", f"/employees/{dept.sales.pk}"):
        assert_error(get(client, path), 401)


# --- units ---------------------------------------------------------------------------
def test_unit_list_is_the_whole_tree_in_path_order(as_user, dept):
    body = ok(as_user(dept.sales), "/units", page_size=200)
    assert body["count"] == 6 and body["page"] == 1
    by_name = {row["name"]: row for row in body["items"]}
    assert set(by_name) == {"华远科技", "经营部", "研发部", "华东事业部", "上海一所", "杭州所"}
    assert body["items"][0]["name"] == "华远科技"
    team = by_name["上海一所"]
    assert team == {"id": dept.team.pk, "name": "上海一所", "kind": "team",
                    "parent_id": dept.division.pk, "depth": 3, "headcount": 3,
                    "head": {"id": dept.lead.pk, "number": dept.lead.number, "name": "所长"}}
    assert by_name["华远科技"]["parent_id"] is None and by_name["华远科技"]["head"] is None


def test_unit_list_is_paginated(as_user, dept):
    body = ok(as_user(dept.sales), "/units", page_size=4, page=2)
    assert body["count"] == 6 and len(body["items"]) == 2 and body["page_size"] == 4


def test_headcount_leaves_out_people_who_left(as_user, dept):
    services.employee_set_status(employee=dept.sales_mate, status="left")
    body = ok(as_user(dept.director), f"/units/{dept.team.pk}")
    assert body["headcount"] == 2


def test_unit_detail_has_its_path_and_children(as_user, dept):
    body = ok(as_user(dept.sales), f"/units/{dept.division.pk}")
    assert body["name"] == "华东事业部" and body["kind"] == "division"
    assert [u["name"] for u in body["path"]] == ["华远科技", "经营部", "华东事业部"]
    assert {u["name"] for u in body["children"]} == {"上海一所", "杭州所"}
    assert body["head"]["id"] == dept.manager.pk
    team = ok(as_user(dept.sales), f"/units/{dept.team.pk}")
    assert team["children"] == [] and team["path"][-1]["id"] == dept.team.pk


def test_unit_detail_missing_answers_404(as_user, director):
    assert_error(get(as_user(director), "/units/999999"), 404)


@pytest.mark.parametrize("bad", ["abc", "0", "-5", str(2**70)])
def test_unit_detail_with_a_bad_id_answers_422(as_user, director, bad):
    assert_error(get(as_user(director), f"/units/{bad}"), 422, "unit_id")


def test_unit_tree_nests_units_with_total_headcount(as_user, dept):
    roots = ok(as_user(dept.sales), "/units/tree")
    assert [r["name"] for r in roots] == ["华远科技"]
    company = roots[0]
    assert company["total_headcount"] == 11 and company["headcount"] == 0
    children = {c["name"]: c for c in company["children"]}
    assert set(children) == {"经营部", "研发部"}
    department = children["经营部"]
    assert department["headcount"] == 4 and department["total_headcount"] == 10
    assert department["head"]["id"] == dept.director.pk
    division = department["children"][0]
    assert division["name"] == "华东事业部" and division["total_headcount"] == 6
    assert {c["name"]: c["total_headcount"] for c in division["children"]} == {
        "上海一所": 3, "杭州所": 2}
    assert all(c["children"] == [] for c in division["children"])


def test_unit_endpoints_need_authentication(client, dept):
    for path in ("/units", "/units/tree", f"/units/{dept.team.pk}"):
        assert_error(get(client, path), 401)


# --- query counts ---------------------------------------------------------------------
def _queries(client, path, **params):
    with CaptureQueriesContext(connection) as ctx:
        response = get(client, path, **params)
    assert response.status_code == 200, response.content[:500]
    return len(ctx), response.json()


def _grow(dept, n):
    """n more people, n more units (each with a head and a member), a mentor for each."""
    for i in range(n):
        unit = make_unit(f"新组{dept.grown + i}", parent=dept.division)
        head = make_employee(unit, role="lead", head_of=unit)
        make_employee(unit, mentor=head)
        make_employee(dept.team, mentor=dept.sales, position=PositionFactory())
    dept.grown += n


@pytest.mark.parametrize(("path", "params", "rows"), [
    ("/employees", {"page_size": 200}, lambda body: body["count"]),
    ("/employees", {"page_size": 200, "role": "sales", "ordering": "-unit"},
     lambda body: body["count"]),
    ("/units", {"page_size": 200}, lambda body: body["count"]),
    ("/units/tree", {}, lambda body: body[0]["total_headcount"]),
])
def test_list_endpoints_cost_the_same_queries_for_n_and_3n_rows(as_user, dept, path, params,
                                                                 rows):
    client = as_user(dept.director)
    dept.grown = 0
    n = 4
    _grow(dept, n)
    small, body = _queries(client, path, **params)
    small_rows = rows(body)
    _grow(dept, 2 * n)
    large, body = _queries(client, path, **params)
    assert rows(body) > small_rows
    assert small == large, (small, large)


def test_detail_endpoints_cost_a_constant_number_of_queries(as_user, dept):
    client = as_user(dept.director)
    dept.grown = 0
    _grow(dept, 2)
    before = [_queries(client, f"/units/{dept.division.pk}")[0],
              _queries(client, f"/employees/{dept.sales.pk}")[0]]
    _grow(dept, 6)
    services.employee_set_roles(employee=dept.sales, roles=["sales", "lead", "hr"])
    after = [_queries(client, f"/units/{dept.division.pk}")[0],
             _queries(client, f"/employees/{dept.sales.pk}")[0]]
    assert before == after
