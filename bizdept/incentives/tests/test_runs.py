"""Bonus runs (INC-2) on the database: lines checked against arithmetic done here, the
approval, the freeze, and who sees which line."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from bizdept.appraisal.tests.cycles import cycle_policy
from bizdept.core.errors import Conflict, DomainError
from bizdept.incentives import selectors, services
from bizdept.incentives.models import BonusLine
from bizdept.kpi.tests import records
from bizdept.sales.tests.factories import decide
from bizdept.targets.models import TargetCell

from .factories import PERIOD, Q3_DAY, approved_cycle, money, plan_in_force, policies

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(dept):
    cycle_policy(dept.director)
    policies(dept.finance)
    return dept


def _target_plan(dept):
    from bizdept.targets.tests.factories import approved_plan

    return approved_plan(dept)


def test_a_line_is_base_times_coefficient_plus_tiered_commission(setup):
    dept = setup
    _target_plan(dept)
    target = TargetCell.objects.get(plan__metric="revenue", employee=dept.sales,
                                    period=PERIOD).realistic
    actual = (target * Decimal("1.3")).quantize(Decimal("0.01"))
    records.contract(dept.sales, total=str(actual), signed_on=Q3_DAY)
    cycle = approved_cycle(dept, grades={dept.sales: "A"}, revenue_source="plan")
    plan = plan_in_force(dept)
    run = services.run_create(by=dept.director.user, cycle=cycle)
    line = BonusLine.objects.get(run=run, employee=dept.sales)
    commission = (money(target * Decimal("0.2") * Decimal("0.03"))
                  + money(target * Decimal("0.2") * Decimal("0.05"))
                  + money((actual - target * Decimal("1.2")) * Decimal("0.08")))
    assert line.plan == plan
    assert line.base_bonus == Decimal("6000.00")
    assert line.commission == commission
    assert line.total == Decimal("6000.00") + commission
    assert line.explanation["inputs"]["target"]["source"] == "appraisal"
    steps = line.explanation["commission"]["steps"]
    assert [s["rate"] for s in steps] == ["0.00", "3.00", "5.00", "8.00"]


def test_only_hr_or_the_director_runs_and_only_an_approved_cycle(setup):
    dept = setup
    cycle = approved_cycle(dept)
    with pytest.raises(PermissionDenied):
        services.run_create(by=dept.lead.user, cycle=cycle)
    run = services.run_create(by=dept.hr.user, cycle=cycle)
    with pytest.raises(Conflict):
        services.run_create(by=dept.hr.user, cycle=cycle)
    assert run.people == 0


def test_an_approved_run_is_frozen(setup):
    dept = setup
    cycle = approved_cycle(dept)
    plan_in_force(dept)
    run = services.run_create(by=dept.director.user, cycle=cycle)
    before = list(BonusLine.objects.filter(run=run).values_list("employee", "total"))
    run = services.run_submit(run=run, by=dept.director.user)
    decide(run)
    run.refresh_from_db()
    assert run.status == "approved"
    records.contract(dept.sales, total="999999", signed_on=Q3_DAY)
    with pytest.raises(Conflict):
        services.run_recompute(run=run, by=dept.director.user)
    assert list(BonusLine.objects.filter(run=run).values_list("employee", "total")) == before


def test_a_person_sees_their_own_line_and_heads_their_subtree(setup):
    dept = setup
    cycle = approved_cycle(dept)
    plan_in_force(dept)
    run = services.run_create(by=dept.director.user, cycle=cycle)
    assert set(selectors.line_list(user=dept.sales.user, run=run)
               .values_list("employee", flat=True)) == {dept.sales.pk}
    seen = set(selectors.line_list(user=dept.lead.user, run=run)
               .values_list("employee", flat=True))
    assert dept.sales.pk in seen and dept.other_sales.pk not in seen
    assert selectors.line_list(user=dept.outsider.user, run=run).count() == 0


def test_a_run_paying_nobody_cannot_be_submitted(setup):
    dept = setup
    run = services.run_create(by=dept.director.user, cycle=approved_cycle(dept))
    with pytest.raises(DomainError) as caught:
        services.run_submit(run=run, by=dept.director.user)
    assert "lines" in caught.value.errors


def test_gates_and_caps_are_applied_and_explained(setup):
    dept = setup
    _target_plan(dept)
    target = TargetCell.objects.get(plan__metric="revenue", employee=dept.sales,
                                    period=PERIOD).realistic
    from bizdept.sales.models import PaymentPlan

    due = records.contract(dept.sales, total=str(target * 2), signed_on=Q3_DAY)
    PaymentPlan.objects.create(contract=due, seq=1, due_on=Q3_DAY, amount=target * 2)
    records.payment(due, str(target / 2), Q3_DAY)  # collection rate 25 %
    records.contract(dept.sales_mate, total=str(target * 2), signed_on=Q3_DAY)
    cycle = approved_cycle(dept, grades={dept.sales: "B", dept.sales_mate: "B"},
                           revenue_source="plan")
    plan_in_force(dept, gates=[{"kind": "kpi_below", "kpi": "collection_rate", "floor": "60",
                                "blocks": "commission"}],
                  commission_cap="1000", total_cap="5500")
    run = services.run_create(by=dept.director.user, cycle=cycle)
    gated = BonusLine.objects.get(run=run, employee=dept.sales)
    assert gated.commission == 0 and gated.total == Decimal("5000.00")
    gate = gated.explanation["gates"][0]
    assert gate["hit"] and gate["value"] == "25.00" and gate["blocks"] == "commission"
    mate = BonusLine.objects.get(run=run, employee=dept.sales_mate)
    # nothing fell due for the mate: no collection rate, the gate stays open
    assert mate.explanation["gates"][0]["value"] is None
    assert mate.commission == Decimal("1000.00")  # the commission cap
    assert mate.total == Decimal("5500.00")  # the cap per person
    assert [c["which"] for c in mate.explanation["caps"]] == ["commission", "total"]
    assert mate.capped_by == mate.base_bonus + Decimal(
        mate.explanation["commission"]["sum"]) - mate.total


def test_grade_d_gate_pays_nothing(setup):
    dept = setup
    cycle = approved_cycle(dept, grades={dept.sales: "D"})
    plan_in_force(dept, coefficients={"A": "1.2", "B": "1", "C": "0.8", "D": "0.5"},
                  gates=[{"kind": "grade_in", "grades": ["D"], "blocks": "all"}])
    run = services.run_create(by=dept.director.user, cycle=cycle)
    line = BonusLine.objects.get(run=run, employee=dept.sales)
    assert line.total == 0 and line.explanation["gates"][0]["hit"]


def test_a_draft_run_follows_the_plan_in_force_when_worked_out_again(setup):
    dept = setup
    cycle = approved_cycle(dept, grades={dept.sales: "B"})
    first = plan_in_force(dept)
    run = services.run_create(by=dept.director.user, cycle=cycle)
    assert BonusLine.objects.get(run=run, employee=dept.sales).total == Decimal("5000.00")
    second = services.plan_new_version(plan=first, by=dept.director.user)
    services.plan_update(plan=second, by=dept.director.user, base_amount="6000")
    services.plan_submit(plan=second, by=dept.director.user)
    decide(second)
    run = services.run_recompute(run=run, by=dept.director.user)
    line = BonusLine.objects.get(run=run, employee=dept.sales)
    assert (line.total, line.plan_id) == (Decimal("6000.00"), second.pk)
    assert run.total == sum(BonusLine.objects.filter(run=run).values_list("total", flat=True))


def test_what_if_compares_a_draft_with_the_plan_in_force_and_writes_nothing(setup):
    dept = setup
    cycle = approved_cycle(dept, grades={dept.sales: "A", dept.sales_mate: "B"})
    first = plan_in_force(dept)
    draft = services.plan_new_version(plan=first, by=dept.director.user)
    draft = services.plan_update(plan=draft, by=dept.director.user, base_amount="6000")
    found = selectors.what_if(user=dept.director.user, plan=draft, cycle=cycle)
    rows = {row.employee.pk: row for row in found.rows}
    assert (rows[dept.sales.pk].current, rows[dept.sales.pk].draft) == (
        Decimal("6000.00"), Decimal("7200.00"))
    assert rows[dept.sales_mate.pk].change == Decimal("1000.00")
    assert found.change == found.draft_total - found.current_total
    assert found.raised == len(found.rows) - found.lowered - sum(
        1 for r in found.rows if r.change == 0)
    assert not BonusLine.objects.exists()
    from django.http import Http404

    with pytest.raises(Http404):
        selectors.what_if(user=dept.sales.user, plan=draft, cycle=cycle)


def test_working_a_run_out_takes_the_same_queries_for_more_people(setup):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bizdept.org.tests.factories import make_employee

    dept = setup
    cycle = approved_cycle(dept)
    plan_in_force(dept, gates=[{"kind": "kpi_below", "kpi": "collection_rate",
                                "floor": "60", "blocks": "commission"}])
    with CaptureQueriesContext(connection) as few:
        run = services.run_create(by=dept.director.user, cycle=cycle)
    small = run.people
    from bizdept.appraisal.models import Appraisal

    # more people in the same cycle: copies of an appraisal for new colleagues
    template = Appraisal.objects.filter(cycle=cycle).first()
    for i in range(6):
        person = make_employee(dept.team, username=f"more{i}", name=f"新人{i}")
        Appraisal.objects.create(cycle=cycle, employee=person, unit=dept.team,
                                 template=template.template, template_version=1,
                                 grade="B", total_score=Decimal("75"))
    with CaptureQueriesContext(connection) as many:
        run = services.run_recompute(run=run, by=dept.director.user)
    assert run.people == small + 6
    assert len(many) <= len(few) + 2
