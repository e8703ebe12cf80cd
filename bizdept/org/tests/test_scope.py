"""ORG-4: the scope rule itself, and its cost."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bizdept.org.models import Employee
from bizdept.org.scope import scope_for
from bizdept.org.tests.factories import make_employee, make_unit


def visible(employee):
    return set(Employee.objects.visible_to(employee.user).values_list("name", flat=True))


def test_sales_sees_only_themselves(sales):
    assert visible(sales) == {"业务员甲"}


def test_lead_sees_their_team(dept):
    assert visible(dept.lead) == {"所长", "业务员甲", "业务员乙"}


def test_manager_sees_the_division_subtree(dept):
    assert visible(dept.manager) == {"经理", "所长", "业务员甲", "业务员乙", "另一所长", "业务员丙"}


def test_director_sees_the_department_but_not_other_departments(dept):
    names = visible(dept.director)
    assert "业务员丙" in names and "财务" in names
    assert "研发员" not in names


def test_hr_sees_people_department_wide(dept):
    assert "业务员丙" in visible(dept.hr)
    assert "研发员" not in visible(dept.hr)


def test_finance_sees_money_department_wide_but_people_only_their_own(dept):
    assert visible(dept.finance) == {"财务"}
    money = scope_for(dept.finance.user, "money")
    assert money.unit_paths == (dept.department.path,)


def test_admin_sees_everything(dept):
    assert "研发员" in visible(dept.admin)


def test_left_employee_sees_nothing(dept):
    from bizdept.org import services

    services.employee_set_status(employee=dept.lead, status="left")
    dept.lead.refresh_from_db()
    assert visible(dept.lead) == set()


def _scope_cost(user):
    user = type(user).objects.select_related("employee__unit").get(pk=user.pk)
    with CaptureQueriesContext(connection) as ctx:
        names = set(Employee.objects.visible_to(user).values_list("name", flat=True))
    return len(ctx), names


def test_scope_costs_the_same_queries_however_deep_the_tree(dept):
    """The director's scope costs the same before and after the tree grows 12 levels deeper."""
    before, _ = _scope_cost(dept.director.user)
    parent = dept.team
    for level in range(12):
        parent = make_unit(f"层{level}", parent=parent)
    make_employee(parent, name="深处的人")
    after, names = _scope_cost(dept.director.user)
    assert "深处的人" in names
    assert before == after <= 5
