"""Grading by money received in the last 12 months (CUS-3), the revisit interval each grade
sets (CUS-4), and the rule arithmetic checked with hypothesis, duplicate names included."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from bizdept.core.errors import DomainError
from bizdept.customers import selectors, services
from bizdept.customers.models import Customer, GradeRule
from bizdept.customers.services import DuplicateCustomer, grade_for
from bizdept.org.tests.factories import DepartmentFactory

from .factories import FakeInflow, make_customer, reload

DEFAULTS = {"A": (Decimal("1000000"), 7), "B": (Decimal("300000"), 14),
            "C": (Decimal("50000"), 30), "D": (Decimal("0"), 90)}
ORDER = "DCBA"  # low to high


@pytest.fixture
def payments():
    with FakeInflow() as source:
        yield source


def rules_from(thresholds) -> list[GradeRule]:
    return [GradeRule(grade=g, min_received=t, revisit_days=1) for g, t in zip("ABCD", thresholds,
                                                                               strict=True)]


# --- the rule arithmetic ----------------------------------------------------------------
def test_the_default_rules_are_the_departments(db):
    assert {r.grade: (r.min_received, r.revisit_days) for r in GradeRule.objects.all()} == DEFAULTS


money = st.decimals(min_value=0, max_value=10**10, places=2, allow_nan=False,
                    allow_infinity=False)
thresholds = st.lists(money, min_size=4, max_size=4, unique=True).map(
    lambda values: sorted(values, reverse=True))


@given(thresholds=thresholds, less=money, more=money)
def test_more_money_never_gives_a_lower_grade(thresholds, less, more):
    less, more = sorted((less, more))
    rules = rules_from(thresholds)
    low, high = grade_for(less, rules), grade_for(more, rules)
    rank = {None: -1, **{g: i for i, g in enumerate(ORDER)}}
    assert rank[getattr(high, "grade", None)] >= rank[getattr(low, "grade", None)]


@given(thresholds=thresholds, pick=st.integers(min_value=0, max_value=3))
def test_a_threshold_reached_exactly_earns_its_grade_a_cent_less_does_not(thresholds, pick):
    rules = rules_from(thresholds)
    rule = rules[pick]
    assert grade_for(rule.min_received, rules) == rule
    below = grade_for(rule.min_received - Decimal("0.01"), rules)
    assert below != rule
    assert below is None or below.min_received < rule.min_received


@given(amount=money)
def test_with_a_zero_threshold_every_amount_has_a_grade(amount):
    rules = rules_from([Decimal(1000000), Decimal(300000), Decimal(50000), Decimal(0)])
    assert grade_for(amount, rules) is not None


def test_the_order_of_the_rules_does_not_matter():
    rules = rules_from([Decimal(1000000), Decimal(300000), Decimal(50000), Decimal(0)])
    assert grade_for(Decimal("300000"), list(reversed(rules))).grade == "B"


# --- the 12-month window ------------------------------------------------------------------
@pytest.mark.parametrize("as_of, since", [
    (datetime.date(2026, 6, 30), datetime.date(2025, 7, 1)),
    (datetime.date(2026, 1, 1), datetime.date(2025, 1, 2)),
    (datetime.date(2024, 2, 29), datetime.date(2023, 3, 1)),  # leap day: from 1 March
    (datetime.date(2025, 2, 28), datetime.date(2024, 2, 29)),
    (datetime.date(2025, 3, 1), datetime.date(2024, 3, 2)),
])
def test_the_grading_window_is_the_twelve_months_up_to_and_including_the_day(as_of, since):
    assert selectors.grading_window(as_of) == (since, as_of)


@given(as_of=st.dates(min_value=datetime.date(1901, 1, 1), max_value=datetime.date(2999, 12, 31)))
def test_the_grading_window_is_365_or_366_days_and_ends_on_the_day(as_of):
    since, until = selectors.grading_window(as_of)
    assert until == as_of
    assert (until - since).days + 1 in (365, 366)


def test_grade_follows_money_received_in_12_months(dept, payments):
    today = datetime.date(2026, 6, 30)
    big, mid, small, none = (make_customer(dept.sales) for _ in range(4))
    payments.pay(big, "600000", on=today)
    payments.pay(big, "400000", on=datetime.date(2025, 7, 1))   # first day of the window
    payments.pay(mid, "299999.99", on=today)
    payments.pay(mid, "0.01", on=datetime.date(2026, 1, 15))
    payments.pay(small, "900000", on=datetime.date(2025, 6, 30))  # a day too early
    payments.pay(small, "50000", on=datetime.date(2026, 3, 1))
    payments.pay(none, "1000000", on=datetime.date(2026, 7, 1))   # after as_of
    changed = services.customer_grade_recompute(as_of=today)
    assert [reload(c).grade for c in (big, mid, small, none)] == ["A", "B", "C", "D"]
    assert changed == 3


def test_a_payment_from_the_leap_day_a_year_before_does_not_count(dept, payments):
    customer = make_customer(dept.sales)
    payments.pay(customer, "50000", on=datetime.date(2023, 2, 28))
    services.customer_grade_recompute(as_of=datetime.date(2024, 2, 29))
    assert reload(customer).grade == "D"
    payments.pay(customer, "50000", on=datetime.date(2023, 3, 1))
    services.customer_grade_recompute(as_of=datetime.date(2024, 2, 29))
    assert reload(customer).grade == "C"


def test_money_from_every_registered_source_adds_up_to_the_cent(dept, payments):
    customer = make_customer(dept.sales)
    payments.pay(customer, "200000.004")

    def sqlite_like(ids, since, until):  # a REAL sum, off by a hair
        return {customer.pk: 99999.99999997} if customer.pk in ids else {}

    selectors.register_inflow_source(sqlite_like)
    try:
        today = timezone.localdate()
        total = selectors.money_received([customer.pk], since=today, until=today)
        assert total == {customer.pk: Decimal("300000.00")}
        services.customer_grade_recompute(customers=[customer])
        assert reload(customer).grade == "B"
    finally:
        selectors.unregister_inflow_source(sqlite_like)


def test_changed_thresholds_apply_at_the_next_recompute(dept, payments):
    customer = make_customer(dept.sales)
    payments.pay(customer, "100000")
    services.customer_grade_recompute()
    assert reload(customer).grade == "C"
    GradeRule.objects.filter(grade="B").update(min_received=Decimal("80000"))
    services.customer_grade_recompute()
    assert reload(customer).grade == "B"


def test_recompute_one_or_all(dept, payments):
    one, other = make_customer(dept.sales), make_customer(dept.other_sales)
    payments.pay(one, "2000000")
    payments.pay(other, "2000000")
    assert services.customer_grade_recompute(customers=[one]) == 1
    assert (reload(one).grade, reload(other).grade) == ("A", "D")
    assert services.customer_grade_recompute() == 1
    assert reload(other).grade == "A"
    assert services.customer_grade_recompute() == 0  # nothing new


def test_a_regrade_is_in_the_history_as_the_rules_doing(dept, payments):
    customer = make_customer(dept.sales)
    payments.pay(customer, "60000")
    services.customer_grade_recompute()
    latest = reload(customer).history.first()
    assert latest.grade == "C" and latest.history_user is None
    assert latest.history_change_reason
    before = customer.history.count()
    services.customer_grade_recompute()
    assert customer.history.count() == before  # no change, no history row


def test_the_revisit_interval_follows_the_grade(dept, payments):
    customer = make_customer(dept.sales)
    visited = timezone.now() - datetime.timedelta(days=1)
    services.visit_log(customer=customer, by=dept.sales.user, summary="拜访", visited_at=visited)
    for amount, days in (("0", 90), ("50000", 30), ("250000", 14), ("700000", 7)):
        payments.pay(customer, amount)
        services.customer_grade_recompute(customers=[customer])
        expected = timezone.localdate(visited) + datetime.timedelta(days=days)
        assert reload(customer).next_revisit_on == expected, amount


def test_a_changed_interval_moves_the_next_revisit_at_the_next_recompute(dept):
    customer = make_customer(dept.sales)
    GradeRule.objects.filter(grade="D").update(revisit_days=60)
    services.customer_grade_recompute()
    assert reload(customer).next_revisit_on == timezone.localdate() + datetime.timedelta(days=60)


# --- manual grades ------------------------------------------------------------------------
def test_manual_grade_survives_recompute(dept, payments):
    customer = make_customer(dept.sales)
    services.customer_grade_override(customer=customer, by=dept.lead.user, grade="A",
                                     reason="集团战略客户")
    payments.pay(customer, "1000")
    assert services.customer_grade_recompute() == 0
    customer = reload(customer)
    assert (customer.grade, customer.grade_is_manual, customer.grade_reason) == (
        "A", True, "集团战略客户")
    assert customer.next_revisit_on == timezone.localdate() + datetime.timedelta(days=7)
    assert customer.history.first().history_change_reason == "集团战略客户"


def test_manual_grade_needs_a_reason_and_a_known_grade(dept):
    customer = make_customer(dept.sales)
    for grade, reason, field in (("A", "", "reason"), ("A", " ", "reason"), ("E", "原因", "grade"),
                                 ("", "原因", "grade"), ("A", "很" * 201, "reason")):
        with pytest.raises(DomainError) as refused:
            services.customer_grade_override(customer=customer, by=dept.lead.user, grade=grade,
                                             reason=reason)
        assert field in refused.value.errors
    assert not reload(customer).grade_is_manual


def test_sales_cannot_set_a_grade_by_hand_nor_a_head_of_another_team(dept):
    customer = make_customer(dept.sales)
    for by in (dept.sales, dept.other_lead, dept.finance):
        with pytest.raises(PermissionDenied):
            services.customer_grade_override(customer=customer, by=by.user, grade="A",
                                             reason="想要")
    services.customer_grade_override(customer=customer, by=dept.manager.user, grade="B",
                                     reason="经理判断")


def test_the_rules_take_over_again_when_the_manual_grade_is_dropped(dept, payments):
    customer = make_customer(dept.sales)
    services.customer_grade_override(customer=customer, by=dept.lead.user, grade="A",
                                     reason="战略")
    payments.pay(customer, "60000")
    customer = services.customer_grade_automatic(customer=reload(customer), by=dept.lead.user)
    customer = reload(customer)
    assert (customer.grade, customer.grade_is_manual, customer.grade_reason) == ("C", False, "")
    assert customer.next_revisit_on == timezone.localdate() + datetime.timedelta(days=30)
    with pytest.raises(PermissionDenied):
        services.customer_grade_automatic(customer=customer, by=dept.sales.user)


# --- cost --------------------------------------------------------------------------------
def _recompute_cost(dept, payments, n: int) -> int:
    """Queries of one recompute over ``n`` customers. The same five change grade each time
    (history rows are written in bulk, and SQLite splits big inserts by its parameter
    limit); every customer is read, graded and rescheduled."""
    Customer.objects.all().delete()
    customers = [make_customer(dept.sales) for _ in range(n)]
    for index, customer in enumerate(customers):
        if index < 5:
            payments.pay(customer, 60000 + index * 300000)
        if index % 3 == 0:
            services.visit_log(customer=customer, by=dept.sales.user, summary="拜访",
                               next_on=timezone.localdate() + datetime.timedelta(days=2))
        if index in (1, 3, 7):
            services.customer_set_collaborators(customer=customer, by=dept.sales.user,
                                                collaborators=[dept.sales_mate])
    calls = payments.calls
    with CaptureQueriesContext(connection) as queries:
        assert services.customer_grade_recompute() == 5
    assert payments.calls == calls + 1  # one call per source and batch, not per customer
    return len(queries)


def test_recompute_costs_a_constant_number_of_queries(dept, payments):
    assert _recompute_cost(dept, payments, 10) == _recompute_cost(dept, payments, 40)


def test_recompute_in_batches_costs_the_same_per_batch(dept, payments):
    for _ in range(7):
        make_customer(dept.sales)

    def cost(batch):
        with CaptureQueriesContext(connection) as queries:
            services.customer_grade_recompute(batch=batch)
        return len(queries)

    one, three, seven = cost(10), cost(3), cost(1)  # 1, 3 and 7 batches
    assert seven - one == 3 * (three - one) > 0


# --- duplicate names, every way they are typed (CUS-5) -------------------------------------
FULLWIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}
SPACES = ["", " ", "  ", "\u3000", "\t", "\u00a0", "\u200b"]
EXISTING = "上海Huayuan科技(集团)有限公司"


@st.composite
def spelled_differently(draw, name=EXISTING):
    """The same company typed another way: spaces anywhere, full or half width, any case,
    another legal form."""
    core = name.removesuffix("有限公司")
    out = []
    for char in core:
        out.append(draw(st.sampled_from(SPACES)))
        if char.isascii() and char.isalpha():
            char = draw(st.sampled_from([char.lower(), char.upper()]))
        if char in FULLWIDTH and draw(st.booleans()):
            char = FULLWIDTH[char]
        elif char == "(" and draw(st.booleans()):
            char = "（"
        elif char == ")" and draw(st.booleans()):
            char = "）"
        out.append(char)
    out.append(draw(st.sampled_from(SPACES)))
    out.append(draw(st.sampled_from(["有限公司", "有限责任公司", "股份有限公司", "公司", "",
                                     " Co., Ltd.", "CO.,LTD", "Ｃｏ．，Ｌｔｄ．"])))
    out.append(draw(st.sampled_from(SPACES)))
    return "".join(out)


class DuplicateNameVariants(HypothesisTestCase):
    """One department and one existing customer; each example tries to create another."""

    @classmethod
    def setUpTestData(cls):
        cls.dept = DepartmentFactory.build_department()
        cls.existing = make_customer(cls.dept.other_sales, name=EXISTING)

    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(typed=spelled_differently())
    def test_any_spacing_width_or_case_variant_of_an_existing_name_is_refused(self, typed):
        with pytest.raises(DuplicateCustomer) as refused:
            services.customer_create(by=self.dept.sales.user, name=typed)
        assert refused.value.status == 409
        message = str(refused.value.message)
        assert self.dept.other_sales.name in message and "杭州所" in message
        assert Customer.objects.count() == 1

    def test_a_really_different_name_is_not_a_duplicate(self):
        services.customer_create(by=self.dept.sales.user, name="上海Huayuan科技有限公司")
        services.customer_create(by=self.dept.sales.user, name="北京Huayuan科技(集团)有限公司")
        assert Customer.objects.count() == 3
