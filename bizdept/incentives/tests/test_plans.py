"""Bonus plans (INC-1): rules checked naming the part, versions, approval through the
engine (one version in force per position and period), and who may keep them."""

import pytest
from django.core.exceptions import PermissionDenied

from bizdept.core.errors import Conflict, DomainError
from bizdept.incentives import selectors, services
from bizdept.incentives.models import BonusPlan
from bizdept.sales.tests.factories import decide

from .factories import TIERS, draft_plan, plan_in_force, policies

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(dept):
    policies(dept.finance)
    return dept


def test_a_draft_is_numbered_and_stored_normalized(setup):
    plan = draft_plan(setup.director, tiers=[{"from": 0, "rate": 0}, {"from": "80", "rate": 3}],
                      gates=[{"kind": "grade_in", "grades": ["D"], "blocks": "all"},
                             {"kind": "kpi_below", "kpi": "collection_rate", "floor": 60,
                              "blocks": "commission"}])
    assert plan.number == 1 and plan.status == "draft"
    assert plan.tiers == [{"from": "0.00", "rate": "0.00"}, {"from": "80.00", "rate": "3.00"}]
    assert plan.gates[1] == {"kind": "kpi_below", "kpi": "collection_rate", "floor": "60.00",
                             "blocks": "commission"}
    assert draft_plan(setup.director).number == 2


@pytest.mark.parametrize(("overrides", "field"), [
    ({"tiers": [{"from": "10", "rate": "1"}]}, "tiers[0].from"),
    ({"tiers": [{"from": "0", "rate": "3"}, {"from": "80", "rate": "2"}]}, "tiers[1].rate"),
    ({"tiers": [{"from": "0", "rate": "0"}, {"from": "0", "rate": "2"}]}, "tiers[1].from"),
    ({"tiers": [{"from": "0", "rate": "101"}]}, "tiers[0].rate"),
    ({"tiers": "many"}, "tiers"),
    ({"tiers": []}, "tiers"),
    ({"commission_measure": "", "tiers": TIERS}, "commission_measure"),
    ({"commission_measure": "visits"}, "commission_measure"),
    ({"coefficients": {"X": "1"}}, "coefficients"),
    ({"coefficients": {"A": "-1"}}, "coefficients.A"),
    ({"coefficient_basis": "score", "coefficients": [{"from": "90"}]},
     "coefficients[0].coefficient"),
    ({"coefficient_basis": "score", "coefficients": [{"from": "90", "coefficient": "1"},
                                                     {"from": "70", "coefficient": "2"}]},
     "coefficients"),
    ({"gates": [{"kind": "kpi_below", "kpi": "nope", "floor": "1", "blocks": "all"}]},
     "gates[0].kpi"),
    ({"gates": [{"kind": "grade_in", "grades": [], "blocks": "all"}]}, "gates[0].grades"),
    ({"gates": [{"kind": "grade_in", "grades": ["D"], "blocks": "x"}]}, "gates[0].blocks"),
    ({"base_amount": "-1"}, "base_amount"),
    ({"base_amount": "1.234"}, "base_amount"),
    ({"total_cap": "abc"}, "total_cap"),
    ({"position": 999999}, "position"),
    ({"period_kind": "monthly"}, "period_kind"),
    ({"name": " "}, "name"),
])
def test_bad_rules_are_refused_naming_the_part_and_nothing_is_written(setup, overrides,
                                                                      field):
    with pytest.raises(DomainError) as caught:
        draft_plan(setup.director, **overrides)
    assert field in caught.value.errors
    assert not BonusPlan.objects.exists()


def test_only_hr_or_the_director_keeps_plans(setup):
    with pytest.raises(PermissionDenied):
        draft_plan(setup.lead)
    with pytest.raises(PermissionDenied):
        draft_plan(setup.finance)
    assert draft_plan(setup.hr).created_by == setup.hr


def test_a_change_on_an_older_version_is_a_conflict(setup):
    plan = draft_plan(setup.director)
    services.plan_update(plan=plan, by=setup.director.user, version=plan.version,
                         base_amount="6000")
    with pytest.raises(Conflict):
        services.plan_update(plan=plan, by=setup.director.user, version=plan.version,
                             base_amount="7000")
    plan.refresh_from_db()
    assert str(plan.base_amount) == "6000.00"


def test_approval_puts_a_version_in_force_and_supersedes_the_one_before(setup):
    dept = setup
    first = plan_in_force(dept)
    assert first.status == "approved"
    second = services.plan_new_version(plan=first, by=dept.director.user)
    assert (second.number, second.status, second.tiers) == (2, "draft", first.tiers)
    services.plan_update(plan=second, by=dept.director.user, base_amount="8000")
    with pytest.raises(Conflict):
        services.plan_update(plan=first, by=dept.director.user, base_amount="1")
    services.plan_submit(plan=second, by=dept.director.user)
    assert selectors.plan_in_force(second) == first  # still in approval
    decide(second)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("superseded", "approved")
    assert selectors.plans_in_force("quarterly")[second.position_id] == second


def test_a_returned_plan_is_a_draft_again(setup):
    dept = setup
    plan = services.plan_submit(plan=draft_plan(dept.director), by=dept.director.user)
    decide(plan, "return", comment="费率太高")
    plan.refresh_from_db()
    assert plan.status == "draft"
    services.plan_update(plan=plan, by=dept.director.user, name="改后")


def test_drafts_are_read_by_those_who_keep_them_only(setup):
    dept = setup
    draft = draft_plan(dept.director)
    in_force = plan_in_force(dept)
    assert set(selectors.plan_list(user=dept.sales.user)) == {in_force}
    assert set(selectors.plan_list(user=dept.hr.user)) == {draft, in_force}
    assert not selectors.plan_list(user=dept.outsider.user).filter(pk=draft.pk).exists()


def test_a_draft_can_be_thrown_away_but_not_a_plan_in_force(setup):
    dept = setup
    draft = draft_plan(dept.director)
    services.plan_delete(plan=draft, by=dept.director.user)
    assert not BonusPlan.objects.filter(pk=draft.pk).exists()
    with pytest.raises(Conflict):
        services.plan_delete(plan=plan_in_force(dept), by=dept.director.user)
