"""TGT-6 rankings: people within a unit ranked by achievement or actual, ties sharing a
rank, who is behind pace marked; expenses rank lower first."""

import datetime
from decimal import Decimal

import pytest

from bizdept.core.errors import DomainError
from bizdept.kpi.tests import records as r
from bizdept.targets import selectors

from . import test_tracking as tracking_tests
from .test_tracking import AS_OF, OCT, cell, plan

D = datetime.date


@pytest.fixture
def october(db):
    tracking_tests.october_calendar()


@pytest.fixture
def revenue_plan(dept, october):
    return tracking_tests.revenue_setup(dept)


def test_people_ranked_by_achievement_with_who_is_behind(revenue_plan, director):
    result = selectors.ranking(user=director.user, metric="revenue", period=OCT, as_of=AS_OF)
    ranked = [(x.rank, x.row.name, x.value, x.behind) for x in result.people]
    assert ranked == [
        (1, "业务员丙", Decimal("66.67"), False),
        (2, "业务员乙", Decimal("34.44"), False),
        (3, "业务员甲", Decimal("27.78"), True),
        (4, "另一所长", None, False),  # no target: last
        (4, "所长", None, False),
    ]
    assert [(x.rank, x.row.name) for x in result.units] == [(1, "华东事业部")]


def test_ties_share_a_rank_by_actual(revenue_plan, dept, manager):
    r.contract(dept.other_sales, total="1100.00", signed_on=D(2026, 10, 12))  # 5100
    r.contract(dept.sales, total="100.00", signed_on=D(2026, 10, 12))        # 5100
    result = selectors.ranking(user=manager.user, metric="revenue", period=OCT, by="actual",
                               as_of=AS_OF)
    ranked = [(x.rank, x.row.name, x.value) for x in result.people]
    assert ranked[:3] == [(1, "业务员丙", Decimal("5100.00")),
                          (1, "业务员甲", Decimal("5100.00")),
                          (3, "业务员乙", Decimal("3100.00"))]
    assert [x.row.name for x in result.units] == ["上海一所", "杭州所"]
    assert [x.value for x in result.units] == [Decimal("8200.00"), Decimal("5100.00")]


def test_expenses_rank_the_lowest_spender_first(dept, october, lead):
    p = plan(dept, "expenses")
    cell(p, dept.team, dept.sales, "1000.00")
    cell(p, dept.team, dept.sales_mate, "1000.00")
    r.claim(dept.sales, "700.00", D(2026, 10, 9))
    r.claim(dept.sales_mate, "100.00", D(2026, 10, 9))
    result = selectors.ranking(user=lead.user, metric="expenses", period=OCT, as_of=AS_OF)
    assert [x.row.name for x in result.people][:2] == ["业务员乙", "业务员甲"]
    assert result.people[1].behind


def test_a_salesperson_ranks_only_themselves_and_bad_input_names_the_field(revenue_plan,
                                                                          sales):
    result = selectors.ranking(user=sales.user, metric="revenue", period=OCT, as_of=AS_OF)
    assert [x.row.name for x in result.people] == ["业务员甲"] and result.units == []
    with pytest.raises(DomainError) as bad:
        selectors.ranking(user=sales.user, metric="revenue", period=OCT, by="luck")
    assert "by" in bad.value.errors
