"""ORG-1..3 and ORG-5: the rules of the org tree and its people."""

import datetime

import pytest

from bizdept.core.errors import DomainError
from bizdept.org import services
from bizdept.org.models import Employee, Unit
from bizdept.org.tests.factories import make_employee, make_unit


def test_unit_path_follows_the_tree(dept):
    assert dept.team.path == f"{dept.division.path}{dept.team.pk}/"
    assert dept.team.depth == dept.division.depth + 1 == 3


def test_moving_a_unit_moves_its_whole_subtree(dept):
    """ORG-1: 上海一所 and a sub-team under it move from 华东 to a new division."""
    sub = make_unit("上海一所-一组", parent=dept.team)
    south = make_unit("华南事业部", "division", dept.department)
    services.unit_move(unit=dept.team, new_parent=south)
    team = Unit.objects.get(pk=dept.team.pk)
    sub.refresh_from_db()
    assert team.parent_id == south.pk
    assert team.path == f"{south.path}{team.pk}/"
    assert sub.path == f"{team.path}{sub.pk}/"
    assert sub.depth == team.depth + 1
    # The scope follows the move: 华东's manager no longer sees the team, 华南's head would.
    names = set(Employee.objects.visible_to(dept.manager.user).values_list("name", flat=True))
    assert "业务员甲" not in names and "业务员丙" in names


def test_a_unit_cannot_move_under_its_own_subtree(dept):
    with pytest.raises(DomainError) as exc:
        services.unit_move(unit=dept.division, new_parent=dept.team)
    assert "parent" in exc.value.errors
    dept.division.refresh_from_db()
    assert dept.division.parent_id == dept.department.pk


def test_each_unit_has_one_head(dept):
    services.unit_update(unit=dept.team, head=dept.sales)
    dept.team.refresh_from_db()
    assert dept.team.head == dept.sales


def test_unit_update_refuses_unknown_fields(dept):
    with pytest.raises(DomainError):
        services.unit_update(unit=dept.team, path="/1/")


def test_employee_gets_one_login(dept):
    assert dept.sales.user.employee == dept.sales


def test_employee_login_name_must_be_free(dept):
    with pytest.raises(DomainError) as exc:
        make_employee(dept.team, username="sales")
    assert "username" in exc.value.errors


def test_leave_date_cannot_precede_hire_date(dept):
    employee = dept.sales
    employee.leave_date = datetime.date(2020, 1, 1)
    with pytest.raises(DomainError) as exc:
        services.employee_update(employee=employee, hire_date=datetime.date(2024, 1, 1))
    assert "leave date" in str(exc.value.message).lower() or exc.value.errors


def test_leaving_closes_the_login_and_sets_the_leave_date(dept):
    services.employee_set_status(employee=dept.sales, status="left",
                                 leave_date=datetime.date(2026, 6, 30))
    dept.sales.refresh_from_db()
    dept.sales.user.refresh_from_db()
    assert dept.sales.status == "left"
    assert dept.sales.leave_date == datetime.date(2026, 6, 30)
    assert dept.sales.user.is_active is False


def test_coming_back_reopens_the_login(dept):
    services.employee_set_status(employee=dept.sales, status="left")
    services.employee_set_status(employee=dept.sales, status="active")
    dept.sales.refresh_from_db()
    assert dept.sales.user.is_active and dept.sales.leave_date is None


def test_an_employee_cannot_mentor_themselves(dept):
    with pytest.raises(DomainError) as exc:
        services.employee_update(employee=dept.sales, mentor=dept.sales)
    assert "mentor" in exc.value.errors


def test_roles_must_exist(dept):
    with pytest.raises(DomainError):
        services.employee_set_roles(employee=dept.sales, roles=["emperor"])


def test_changes_are_audited_with_who_before_and_after(dept):
    """ORG-5: the history names the actor and both values."""
    services.employee_update(employee=dept.sales, phone="13800000000", by=dept.hr)
    record = dept.sales.history.first()
    assert record.history_type == "~"
    assert record.history_user == dept.hr.user
    delta = record.diff_against(record.prev_record)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [("phone", "", "13800000000")]


def test_position_responsibilities_are_kept_in_both_languages(dept):
    from django.utils import translation

    position = dept.sales.position
    with translation.override("en"):
        assert position.display_responsibilities == "Develops customers."
    with translation.override("zh-hans"):
        assert position.display_responsibilities == "负责客户开发。"
