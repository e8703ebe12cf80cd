"""Who approves each step (SAL-3): each approver kind, the amount thresholds, skipping."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bizdept.approvals.choices import ApproverKind, SkipReason
from bizdept.approvals.resolution import (
    OrgView,
    applies,
    approver_for,
    org_view_for,
    resolve_route,
)
from bizdept.core.errors import DomainError
from bizdept.org import services as org_services
from bizdept.org.choices import EmployeeStatus, RoleCode
from bizdept.org.tests.factories import make_employee


def step(order=1, kind=ApproverKind.DIRECT_HEAD, *, min_amount="0", levels=1, role_code="",
         employee=None, name=None):
    return SimpleNamespace(order=order, approver_kind=kind, levels=levels, role_code=role_code,
                           employee=employee, min_amount=Decimal(min_amount),
                           name=name or f"Step {order}")


CONTRACT = [
    step(1, ApproverKind.ROLE, role_code=RoleCode.LEAD, name="Team lead"),
    step(2, ApproverKind.ROLE, role_code=RoleCode.MANAGER, min_amount="100000",
         name="Division manager"),
    step(3, ApproverKind.ROLE, role_code=RoleCode.DIRECTOR, min_amount="1000000",
         name="Director"),
]


def route(requester, steps, amount=None):
    org = org_view_for(requester, steps)
    return [(r.step.name, r.approver, r.skip_reason)
            for r in resolve_route(steps, org=org, amount=amount and Decimal(amount))]


def deciding(requester, steps, amount=None):
    return [approver for _n, approver, skip in route(requester, steps, amount) if not skip]


# --- thresholds -------------------------------------------------------------------------
def test_a_step_applies_above_its_amount_and_a_zero_step_always():
    assert applies(step(min_amount="0"), None)
    assert applies(step(min_amount="0"), Decimal("0"))
    assert not applies(step(min_amount="100000"), Decimal("100000"))
    assert applies(step(min_amount="100000"), Decimal("100000.01"))
    assert not applies(step(min_amount="100000"), None)


@pytest.mark.parametrize(("amount", "who"), [
    ("50000", ["lead"]),
    ("100000", ["lead"]),
    ("500000", ["lead", "manager"]),
    ("1000000", ["lead", "manager"]),
    ("5000000", ["lead", "manager", "director"]),
])
def test_amount_thresholds_pick_the_approvers(dept, amount, who):
    assert deciding(dept.sales, CONTRACT, amount) == [getattr(dept, w) for w in who]


def test_a_lead_requesting_skips_their_own_step(dept):
    assert route(dept.lead, CONTRACT, "500000") == [
        ("Team lead", dept.lead, SkipReason.REQUESTER),
        ("Division manager", dept.manager, ""),
    ]


def test_a_higher_line_role_covers_the_lower_steps(dept):
    """A manager's own 50,000 contract needs no lead; the director's needs nobody."""
    assert route(dept.manager, CONTRACT, "50000") == [
        ("Team lead", dept.manager, SkipReason.REQUESTER)]
    assert deciding(dept.director, CONTRACT, "5000000") == []


# --- each approver kind -------------------------------------------------------------------
def test_direct_head_is_the_unit_head_or_the_head_above_for_the_head(dept):
    assert deciding(dept.sales, [step()]) == [dept.lead]
    assert deciding(dept.lead, [step()]) == [dept.manager]
    assert deciding(dept.manager, [step()]) == [dept.director]
    assert deciding(dept.finance, [step()]) == [dept.director]


def test_levels_up_counts_heads_above(dept):
    assert deciding(dept.sales, [step(kind=ApproverKind.LEVELS_UP, levels=1)]) == [dept.lead]
    assert deciding(dept.sales, [step(kind=ApproverKind.LEVELS_UP, levels=2)]) == [dept.manager]
    assert deciding(dept.sales, [step(kind=ApproverKind.LEVELS_UP, levels=3)]) == [dept.director]
    assert deciding(dept.lead, [step(kind=ApproverKind.LEVELS_UP, levels=2)]) == [dept.director]


def test_role_is_the_nearest_holder_above(dept):
    assert deciding(dept.sales, [step(kind=ApproverKind.ROLE, role_code=RoleCode.DIRECTOR)]) \
        == [dept.director]
    assert deciding(dept.sales, [step(kind=ApproverKind.ROLE, role_code=RoleCode.FINANCE)]) \
        == [dept.finance]
    assert deciding(dept.other_sales, [step(kind=ApproverKind.ROLE, role_code=RoleCode.LEAD)]) \
        == [dept.other_lead]


def test_a_role_nobody_holds_above_falls_back_to_the_next_head(dept):
    from bizdept.org.tests.factories import make_unit

    leaderless = make_unit("南京所", parent=dept.division)
    newcomer = make_employee(leaderless)
    assert deciding(newcomer, [step(kind=ApproverKind.ROLE, role_code=RoleCode.LEAD)]) \
        == [dept.manager]
    # the members of the team a lead heads are below the lead, not above
    assert deciding(dept.lead, [step(kind=ApproverKind.ROLE, role_code=RoleCode.SALES)]) \
        == [dept.manager]


def test_a_named_employee(dept):
    assert deciding(dept.sales, [step(kind=ApproverKind.EMPLOYEE, employee=dept.finance)]) \
        == [dept.finance]


def test_a_named_employee_who_left_refuses_the_submission(dept):
    org_services.employee_set_status(employee=dept.finance, status=EmployeeStatus.LEFT,
                                     leave_date=dept.finance.hire_date)
    dept.finance.refresh_from_db()
    with pytest.raises(DomainError) as refused:
        route(dept.sales, [step(kind=ApproverKind.EMPLOYEE, employee=dept.finance,
                                name="Finance check")])
    assert "Finance check" in refused.value.message
    assert refused.value.code == "no_approver"


# --- vacancies and skipping ---------------------------------------------------------------
def test_a_vacant_head_falls_back_to_the_next_head_up(dept):
    org_services.unit_update(unit=dept.team, head=None)
    assert deciding(dept.sales, [step()]) == [dept.manager]
    # the role rule looks for who holds the role, head or not
    assert deciding(dept.sales, CONTRACT, "50000") == [dept.lead]


def test_nobody_above_refuses_naming_the_step(dept):
    """The outsider's department has no head, nor has the company."""
    with pytest.raises(DomainError) as refused:
        route(dept.outsider, [step(name="Direct head")])
    assert "Direct head" in refused.value.message
    with pytest.raises(DomainError):
        route(dept.sales, [step(kind=ApproverKind.LEVELS_UP, levels=4, name="Far up")])


def test_the_same_approver_twice_is_skipped_the_second_time(dept):
    steps = [step(1), step(2, ApproverKind.ROLE, role_code=RoleCode.LEAD)]
    assert route(dept.sales, steps) == [("Step 1", dept.lead, ""),
                                        ("Step 2", dept.lead, SkipReason.DUPLICATE)]


def test_a_head_who_left_is_passed_over(dept):
    stand_in = make_employee(dept.team, role=RoleCode.SALES)
    org_services.employee_set_status(employee=dept.lead, status=EmployeeStatus.LEFT,
                                     leave_date=dept.lead.hire_date)
    assert deciding(stand_in, [step()]) == [dept.manager]


def test_the_pure_function_needs_no_database():
    head = SimpleNamespace(pk=2, status="active", name="Head")
    me = SimpleNamespace(pk=1, status="active", name="Me")
    org = OrgView(requester=me, units=[SimpleNamespace(pk=10, head=head),
                                       SimpleNamespace(pk=1, head=None)])
    assert approver_for(step(), org) is head
    assert approver_for(step(kind=ApproverKind.LEVELS_UP, levels=2), org) is None


def test_loading_the_org_costs_the_same_for_any_depth(dept):
    with CaptureQueriesContext(connection) as ctx:
        org_view_for(dept.sales, CONTRACT)
    assert len(ctx) <= 3


def test_finance_and_hr_in_the_directors_own_unit_review_the_directors_documents(dept):
    assert deciding(dept.director, [step(kind=ApproverKind.ROLE,
                                         role_code=RoleCode.FINANCE)]) == [dept.finance]
    assert deciding(dept.director, [step(kind=ApproverKind.ROLE, role_code=RoleCode.HR)]) \
        == [dept.hr]
