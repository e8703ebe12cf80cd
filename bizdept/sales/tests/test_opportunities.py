"""Opportunities (SAL-2, 客户需求/商机): the seed's flow with the manager's approval through
the engine, the transition table, priced solution lines and their margins, the discount
approval, evaluation, scope and the funnel in a constant number of queries."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from bizdept.approvals.demo import ensure_default_policies
from bizdept.approvals.selectors import approval_status, document_history
from bizdept.core.errors import DomainError
from bizdept.sales import selectors, services
from bizdept.sales.choices import OPPORTUNITY_TRANSITIONS, OpportunityStage
from bizdept.sales.models import Opportunity, OpportunitySettings, OpportunityStageChange
from bizdept.sales.pricing import discounted_amount, line_amount

from .factories import decide, make_customer, make_opportunity, make_product, to_solution

S = OpportunityStage


@pytest.fixture(autouse=True)
def policies(db):
    ensure_default_policies()


def stages(opportunity):
    return list(OpportunityStageChange.objects.filter(opportunity=opportunity)
                .order_by("at", "pk").values_list("old_stage", "new_stage"))


# --- creation ----------------------------------------------------------------------------
def test_a_need_is_collected_owned_by_the_customers_owner(dept):
    customer = make_customer(dept.sales)
    opportunity = services.opportunity_create(by=dept.lead.user, customer=customer,
                                              title="产线改造", expected_amount="80000")
    assert opportunity.owner == dept.sales and opportunity.created_by == dept.lead
    assert opportunity.stage == S.NEED
    assert stages(opportunity) == [("", S.NEED)]


def test_a_customer_out_of_scope_is_refused_naming_customer(dept):
    customer = make_customer(dept.other_sales)
    with pytest.raises(DomainError) as exc:
        services.opportunity_create(by=dept.sales.user, customer=customer, title="x")
    assert "customer" in exc.value.errors
    with pytest.raises(DomainError) as exc:
        services.opportunity_create(by=dept.sales.user, customer=make_customer(dept.sales),
                                    title="x", owner=dept.other_sales)
    assert "owner" in exc.value.errors
    assert not Opportunity.objects.exists()


# --- the flow with the engine ------------------------------------------------------------
def test_the_whole_flow_with_the_managers_approval(dept):
    product = make_product(dept.director, price="1000.00", cost="600.00")
    opportunity = make_opportunity(dept.sales)
    services.opportunity_submit(opportunity=opportunity, by=dept.sales.user, comment="请审批")
    opportunity.refresh_from_db()
    assert opportunity.stage == S.APPROVAL and approval_status(opportunity) == "pending"
    with pytest.raises(DomainError) as exc:  # what is approved must not move
        services.opportunity_update(opportunity=opportunity, by=dept.sales.user, title="改")
    assert "stage" in exc.value.errors
    decide(opportunity, "approve", "同意")
    opportunity.refresh_from_db()
    assert opportunity.stage == S.SOLUTION
    last = OpportunityStageChange.objects.filter(opportunity=opportunity).last()
    assert (last.by, last.comment) == (dept.lead, "同意")
    services.solution_line_add(opportunity=opportunity, by=dept.sales.user, product=product,
                               quantity=3, discount_percent=10)
    for _ in range(2):
        services.opportunity_advance(opportunity=opportunity, by=dept.sales.user)
    opportunity.refresh_from_db()
    assert opportunity.stage == S.FOLLOW_UP
    services.opportunity_evaluate(opportunity=opportunity, by=dept.sales.user, score=4,
                                  lessons="提前确认安装条件")
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.evaluation_score) == (S.EVALUATED, 4)
    services.opportunity_win(opportunity=opportunity, by=dept.sales.user, reason="签约")
    opportunity.refresh_from_db()
    assert opportunity.stage == S.WON and opportunity.closed_at is not None
    assert [new for _old, new in stages(opportunity)] == [
        S.NEED, S.APPROVAL, S.SOLUTION, S.IMPLEMENTING, S.FOLLOW_UP, S.EVALUATED, S.WON]
    assert len(document_history(opportunity).requests) == 1


def test_returned_goes_back_to_need_collected_and_may_be_submitted_again(dept):
    opportunity = make_opportunity(dept.sales)
    services.opportunity_submit(opportunity=opportunity, by=dept.sales.user)
    decide(opportunity, "return", "补充需求细节")
    opportunity.refresh_from_db()
    assert opportunity.stage == S.NEED
    services.opportunity_update(opportunity=opportunity, by=dept.sales.user, need="更详细")
    services.opportunity_submit(opportunity=opportunity, by=dept.sales.user)
    decide(opportunity)
    opportunity.refresh_from_db()
    assert opportunity.stage == S.SOLUTION
    assert [r.round for r in document_history(opportunity).requests] == [2, 1]


def test_rejected_is_lost_with_the_comment_as_reason(dept):
    opportunity = make_opportunity(dept.sales)
    services.opportunity_submit(opportunity=opportunity, by=dept.sales.user)
    decide(opportunity, "reject", "客户无预算")
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.close_reason) == (S.LOST, "客户无预算")
    with pytest.raises(DomainError) as exc:
        services.opportunity_submit(opportunity=opportunity, by=dept.sales.user)
    assert "stage" in exc.value.errors


def test_no_policy_means_nothing_moves(dept):
    from bizdept.approvals.models import ApprovalPolicy

    ApprovalPolicy.objects.filter(document_type="sales.opportunity").update(active=False)
    opportunity = make_opportunity(dept.sales)
    with pytest.raises(DomainError):
        services.opportunity_submit(opportunity=opportunity, by=dept.sales.user)
    opportunity.refresh_from_db()
    assert opportunity.stage == S.NEED and len(stages(opportunity)) == 1


@pytest.mark.parametrize(("stage", "action"), [
    (S.NEED, "advance"), (S.NEED, "evaluate"), (S.APPROVAL, "advance"), (S.APPROVAL, "win"),
    (S.APPROVAL, "lose"), (S.SOLUTION, "submit"), (S.SOLUTION, "evaluate"),
    (S.WON, "lose"), (S.WON, "advance"), (S.LOST, "win"), (S.EVALUATED, "advance"),
])
def test_illegal_moves_are_refused_naming_stage(dept, stage, action):
    opportunity = make_opportunity(dept.sales)
    Opportunity.objects.filter(pk=opportunity.pk).update(stage=stage)
    opportunity.refresh_from_db()
    before = OpportunityStageChange.objects.count()
    kwargs = {"reason": "x"} if action in ("win", "lose") else \
        {"score": 3} if action == "evaluate" else {}
    with pytest.raises(DomainError) as exc:
        getattr(services, f"opportunity_{action}")(opportunity=opportunity, by=dept.sales.user,
                                                   **kwargs)
    assert "stage" in exc.value.errors
    assert OpportunityStageChange.objects.count() == before
    assert Opportunity.objects.get(pk=opportunity.pk).stage == stage


def test_the_transition_table_ends_at_won_and_lost():
    assert OPPORTUNITY_TRANSITIONS[S.WON] == OPPORTUNITY_TRANSITIONS[S.LOST] == frozenset()
    for stage in (S.NEED, S.SOLUTION, S.IMPLEMENTING, S.FOLLOW_UP, S.EVALUATED):
        assert {S.WON, S.LOST} <= OPPORTUNITY_TRANSITIONS[stage]


def test_won_or_lost_at_any_open_point_needs_a_reason(dept):
    opportunity = make_opportunity(dept.sales)
    with pytest.raises(DomainError) as exc:
        services.opportunity_lose(opportunity=opportunity, by=dept.sales.user, reason=" ")
    assert "reason" in exc.value.errors
    services.opportunity_lose(opportunity=opportunity, by=dept.sales.user, reason="价格太高")
    services.opportunity_evaluate(opportunity=opportunity, by=dept.sales.user, score=2,
                                  lessons="报价前先了解预算")
    opportunity.refresh_from_db()
    assert opportunity.stage == S.LOST and opportunity.evaluation_score == 2
    with pytest.raises(DomainError) as exc:
        services.opportunity_evaluate(opportunity=opportunity, by=dept.sales.user, score=6)
    assert "score" in exc.value.errors


def test_only_the_owner_and_heads_above_work_on_it(dept):
    opportunity = make_opportunity(dept.sales)
    for outsider in (dept.sales_mate, dept.other_sales, dept.finance):
        with pytest.raises(PermissionDenied):
            services.opportunity_lose(opportunity=opportunity, by=outsider.user, reason="x")
    services.opportunity_update(opportunity=opportunity, by=dept.manager.user, title="经理改")


# --- solution lines, margins, discount ---------------------------------------------------
def test_lines_snapshot_the_cost_and_compute_margins(dept):
    product = make_product(dept.director, price="4680.00", cost="3120.00")
    opportunity = to_solution(dept.sales)
    line = services.solution_line_add(opportunity=opportunity, by=dept.sales.user,
                                      product=product, quantity="2.5", discount_percent="7.5")
    services.product_update(product=product, by=dept.director.user, standard_cost="9999")
    line.refresh_from_db()
    assert line.standard_cost == Decimal("3120.00") and line.unit_price == Decimal("4680.00")
    assert line.amount == Decimal("10822.50")   # 4680 × 2.5 × 0.925
    assert line.cost == Decimal("7800.00")
    assert line.margin == Decimal("3022.50")
    assert line.margin_rate == Decimal("27.93")
    totals = selectors.solution_totals([line])
    assert (totals.amount, totals.margin) == (line.amount, line.margin)


def test_lines_are_edited_only_in_the_solution_stage(dept):
    product = make_product(dept.director)
    opportunity = make_opportunity(dept.sales)
    with pytest.raises(DomainError) as exc:
        services.solution_line_add(opportunity=opportunity, by=dept.sales.user,
                                   product=product, quantity=1)
    assert "stage" in exc.value.errors
    opportunity = to_solution(dept.sales)
    line = services.solution_line_add(opportunity=opportunity, by=dept.sales.user,
                                      product=product, quantity=1)
    services.opportunity_advance(opportunity=opportunity, by=dept.sales.user)
    for call, kwargs in ((services.solution_line_update, {"quantity": 2}),
                         (services.solution_line_remove, {})):
        with pytest.raises(DomainError) as exc:
            call(line=line, by=dept.sales.user, **kwargs)
        assert "stage" in exc.value.errors
    with pytest.raises(DomainError) as exc:
        services.solution_line_add(opportunity=opportunity, by=dept.sales.user,
                                   product=product, quantity=0)


@pytest.mark.parametrize(("field", "value"), [
    ("quantity", 0), ("quantity", "-1"), ("quantity", "1.001"), ("discount_percent", "100.01"),
    ("discount_percent", -1), ("unit_price", "-3"), ("unit_price", "abc"),
])
def test_bad_line_values_name_their_field(dept, field, value):
    product = make_product(dept.director)
    opportunity = to_solution(dept.sales)
    kwargs = {"quantity": 1, field: value}
    with pytest.raises(DomainError) as exc:
        services.solution_line_add(opportunity=opportunity, by=dept.sales.user,
                                   product=product, **kwargs)
    assert field in exc.value.errors


def test_a_discount_above_the_threshold_needs_its_approval(dept):
    product = make_product(dept.director, price="1000.00", cost="500.00")
    opportunity = to_solution(dept.sales)
    line = services.solution_line_add(opportunity=opportunity, by=dept.sales.user,
                                      product=product, quantity=10, discount_percent=20)
    with pytest.raises(DomainError) as exc:
        services.opportunity_advance(opportunity=opportunity, by=dept.sales.user)
    assert exc.value.code == "not_approved" and "discount_percent" in exc.value.errors
    services.opportunity_request_discount(opportunity=opportunity, by=dept.sales.user)
    with pytest.raises(DomainError):  # locked while the discount waits
        services.solution_line_update(line=line, by=dept.sales.user, discount_percent=25)
    history = document_history(opportunity)
    assert history.latest.document_type == "sales.discount"
    assert history.latest.amount == Decimal("2000.00")
    decide(opportunity)
    services.solution_line_update(line=line, by=dept.sales.user, discount_percent=30)
    with pytest.raises(DomainError):  # the approval covered the lines as they were
        services.opportunity_advance(opportunity=opportunity, by=dept.sales.user)
    services.solution_line_update(line=line, by=dept.sales.user, discount_percent=15)
    services.opportunity_advance(opportunity=opportunity, by=dept.sales.user)  # 15 is not above
    opportunity.refresh_from_db()
    assert opportunity.stage == S.IMPLEMENTING


def test_the_threshold_is_a_setting(dept):
    settings_row = OpportunitySettings.current()
    settings_row.discount_approval_threshold = Decimal("30")
    settings_row.save()
    product = make_product(dept.director)
    opportunity = to_solution(dept.sales)
    services.solution_line_add(opportunity=opportunity, by=dept.sales.user, product=product,
                               quantity=1, discount_percent=25)
    services.opportunity_advance(opportunity=opportunity, by=dept.sales.user)
    with pytest.raises(PermissionDenied):
        services.opportunity_settings_update(by=dept.sales.user, discount_approval_threshold=5)


def test_an_empty_solution_does_not_move_on(dept):
    opportunity = to_solution(dept.sales)
    with pytest.raises(DomainError) as exc:
        services.opportunity_advance(opportunity=opportunity, by=dept.sales.user)
    assert "lines" in exc.value.errors


CENT = Decimal("0.01")
prices = st.decimals(min_value=0, max_value=Decimal("999999.99"), places=2)
quantities = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2)
discounts = st.decimals(min_value=0, max_value=100, places=2)


@settings(max_examples=300, deadline=None)
@given(price=prices, qty=quantities, discount=discounts, cost=prices)
def test_a_lines_amount_and_margin_are_off_by_rounding_at_most(price, qty, discount, cost):
    exact = price * qty * (100 - discount) / 100
    amount = discounted_amount(price, qty, discount)
    assert abs(amount - exact) <= Decimal("0.005")
    assert amount == exact.quantize(CENT, rounding=ROUND_HALF_UP)
    exact_margin = exact - cost * qty
    margin = amount - line_amount(cost, qty)
    assert abs(margin - exact_margin) <= CENT  # two roundings at most


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(prices, quantities, discounts, prices), min_size=1, max_size=8))
def test_totals_are_the_sums_of_the_rounded_lines(rows):
    from bizdept.sales.models import SolutionLine

    lines = [SolutionLine(unit_price=p, quantity=q, discount_percent=d, standard_cost=c)
             for p, q, d, c in rows]
    totals = selectors.solution_totals(lines)
    assert totals.amount == sum(line.amount for line in lines)
    assert totals.cost == sum(line.cost for line in lines)
    assert totals.margin == totals.amount - totals.cost


# --- scope -------------------------------------------------------------------------------
def test_scope_a_salesperson_sees_their_own_a_head_the_subtree_finance_none(dept):
    mine = make_opportunity(dept.sales)
    mates = make_opportunity(dept.sales_mate)
    other = make_opportunity(dept.other_sales)

    def seen(who):
        return set(selectors.opportunity_list(user=who.user).values_list("pk", flat=True))

    assert seen(dept.sales) == {mine.pk}
    assert seen(dept.lead) == {mine.pk, mates.pk}
    assert seen(dept.manager) == seen(dept.director) == {mine.pk, mates.pk, other.pk}
    assert seen(dept.finance) == seen(dept.hr) == set()


# --- the funnel --------------------------------------------------------------------------
def _funnel_world(dept, product):
    """Hand-counted: 5 opportunities of 上海一所, 1 of 杭州所."""
    a = make_opportunity(dept.sales, amount="100")            # need
    b = make_opportunity(dept.sales, amount="200")            # lost at need
    services.opportunity_lose(opportunity=b, by=dept.sales.user, reason="无预算")
    c = to_solution(dept.sales, amount="300")                 # solution
    d = to_solution(dept.sales_mate, amount="400")            # won from implementing
    services.solution_line_add(opportunity=d, by=dept.sales_mate.user, product=product,
                               quantity=1)
    services.opportunity_advance(opportunity=d, by=dept.sales_mate.user)
    services.opportunity_win(opportunity=d, by=dept.sales_mate.user, reason="签约")
    e = make_opportunity(dept.sales, amount="500")            # approval
    services.opportunity_submit(opportunity=e, by=dept.sales.user)
    f = make_opportunity(dept.other_sales, amount="600")      # other team
    return a, b, c, d, e, f


def test_funnel_numbers_match_a_hand_count(dept):
    product = make_product(dept.director)
    _funnel_world(dept, product)
    funnel = selectors.opportunity_funnel(user=dept.lead.user, unit=dept.team)
    rows = {r.stage: r for r in funnel.rows}
    assert {s: (r.count, r.reached) for s, r in rows.items()} == {
        S.NEED: (1, 5), S.APPROVAL: (1, 3), S.SOLUTION: (1, 2), S.IMPLEMENTING: (0, 1),
        S.FOLLOW_UP: (0, 0), S.EVALUATED: (0, 0)}
    assert rows[S.NEED].amount == Decimal("100.00")
    assert rows[S.APPROVAL].conversion == Decimal("60.00")
    assert rows[S.SOLUTION].conversion == Decimal("66.67")
    assert rows[S.FOLLOW_UP].conversion == Decimal("0.00")
    assert rows[S.EVALUATED].conversion is None
    assert (funnel.total, funnel.won, funnel.lost) == (5, 1, 1)
    assert funnel.won_amount == Decimal("400.00") and funnel.win_rate == Decimal("50.00")
    whole = selectors.opportunity_funnel(user=dept.director.user, unit=dept.division)
    assert whole.total == 6
    assert selectors.opportunity_funnel(user=dept.sales.user).total == 4  # own only
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    assert selectors.opportunity_funnel(user=dept.director.user, since=tomorrow).total == 0


def test_funnel_costs_the_same_queries_for_small_and_grown_data(dept):
    product = make_product(dept.director)
    make_opportunity(dept.sales)

    def count():
        user = dept.director.user
        with CaptureQueriesContext(connection) as ctx:
            selectors.opportunity_funnel(user=user, unit=dept.division)
        return len(ctx)

    count()  # resolves and caches the user's scope
    small = count()
    _funnel_world(dept, product)
    for _ in range(5):
        to_solution(dept.other_sales)
    assert count() == small == 2
