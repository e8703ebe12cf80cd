"""HR and administrators maintain the org in the browser (ORG-1..3); others may not."""

import pytest
from django.urls import reverse

from bizdept.org.models import Employee, Unit


def new_employee_data(dept, **over):
    data = {"number": "N0001", "name": "新同事", "unit": dept.team.pk,
            "position": dept.sales.position.pk, "hire_date": "2026-11-01",
            "username": "newbie", "password": "Welcome-2026", "roles": ["sales"],
            "phone": "", "email": ""}
    data.update(over)
    return data


def test_hr_creates_an_employee_with_a_login(as_user, dept):
    response = as_user(dept.hr).post(reverse("org:employee_create"), new_employee_data(dept))
    employee = Employee.objects.get(number="N0001")
    assert response.status_code == 302
    assert response["Location"] == reverse("org:employee_detail", args=[employee.pk])
    assert employee.user.username == "newbie" and employee.user.check_password("Welcome-2026")
    assert [r.code for r in employee.roles.all()] == ["sales"]
    assert employee.history.first().history_user == dept.hr.user


def test_a_taken_login_name_is_shown_under_its_field_and_nothing_is_written(as_user, dept):
    before = Employee.objects.count()
    response = as_user(dept.hr).post(reverse("org:employee_create"),
                                     new_employee_data(dept, username="sales"))
    assert response.status_code == 200
    assert "sales" in str(response.context["form"].errors["username"])
    assert Employee.objects.count() == before


def test_missing_fields_are_named(as_user, dept):
    response = as_user(dept.hr).post(reverse("org:employee_create"), {})
    errors = response.context["form"].errors
    assert {"number", "name", "unit", "position", "hire_date", "username"} <= set(errors)


@pytest.mark.parametrize("persona", ["sales", "lead", "manager", "finance"])
def test_only_hr_and_admin_may_maintain_the_org(as_user, dept, persona):
    client = as_user(getattr(dept, persona))
    assert client.get(reverse("org:employee_create")).status_code == 403
    assert client.post(reverse("org:unit_create"), {"name": "x", "kind": "team"}).status_code == 403
    own = getattr(dept, persona)
    assert client.get(reverse("org:employee_edit", args=[own.pk])).status_code == 403


def test_editing_someone_out_of_scope_is_404_even_for_hr(as_user, dept):
    response = as_user(dept.hr).get(reverse("org:employee_edit", args=[dept.outsider.pk]))
    assert response.status_code == 404


def test_hr_edits_an_employee_and_their_roles(as_user, dept):
    url = reverse("org:employee_edit", args=[dept.sales.pk])
    client = as_user(dept.hr)
    assert client.get(url).status_code == 200
    response = client.post(url, {
        "number": "ignored", "name": "业务员甲", "unit": dept.other_team.pk,
        "position": dept.sales.position.pk, "hire_date": "2024-01-01", "mentor": dept.lead.pk,
        "phone": "13900000000", "email": "", "r-roles": ["sales", "lead"]})
    assert response.status_code == 302
    dept.sales.refresh_from_db()
    assert dept.sales.unit == dept.other_team and dept.sales.mentor == dept.lead
    assert dept.sales.number != "ignored"
    assert sorted(r.code for r in dept.sales.roles.all()) == ["lead", "sales"]


def test_marking_someone_left_closes_their_login(as_user, dept):
    response = as_user(dept.hr).post(reverse("org:employee_status", args=[dept.sales.pk]),
                                     {"status": "left", "leave_date": "2026-11-20"})
    assert response.status_code == 302
    dept.sales.user.refresh_from_db()
    assert dept.sales.user.is_active is False


def test_hr_creates_a_unit_and_moves_it(as_user, dept):
    client = as_user(dept.hr)
    response = client.post(reverse("org:unit_create"), {
        "name": "苏州所", "kind": "team", "parent": dept.division.pk, "head": "",
        "sort_order": "3"})
    unit = Unit.objects.get(name="苏州所")
    assert response.status_code == 302 and unit.path.startswith(dept.division.path)
    response = client.post(reverse("org:unit_edit", args=[unit.pk]), {
        "name": "苏州所", "kind": "team", "parent": dept.other_team.pk,
        "head": dept.other_sales.pk, "sort_order": "0"})
    unit.refresh_from_db()
    assert response.status_code == 302
    assert unit.path == f"{dept.other_team.path}{unit.pk}/" and unit.head == dept.other_sales


def test_moving_a_unit_under_itself_is_refused_on_the_form(as_user, dept):
    response = as_user(dept.hr).post(reverse("org:unit_edit", args=[dept.division.pk]), {
        "name": dept.division.name, "kind": "division", "parent": dept.team.pk,
        "head": "", "sort_order": "0"})
    assert response.status_code == 200
    assert response.context["form"].errors["parent"]
    dept.division.refresh_from_db()
    assert dept.division.parent == dept.department


def test_edit_buttons_show_only_to_those_who_may_edit(as_user, dept):
    url = reverse("org:employee_detail", args=[dept.sales.pk])
    edit = reverse("org:employee_edit", args=[dept.sales.pk])
    assert edit in as_user(dept.hr).get(url).content.decode()
    assert edit not in as_user(dept.lead).get(url).content.decode()
