"""Receivables aging computed in SQL (SAL-6) against the Python FIFO reference: random
plans and payments (partial, over time, reversed, after the day, instalments due the same
day ordered by number) give the same buckets, people, not-yet-due money and overdue rows
as ``allocate_fifo`` applied to the same rows; sums of awkward amounts are exact to the
cent; the overdue list is read a page at a time with a constant number of queries."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from bizdept.org.tests.factories import DepartmentFactory
from bizdept.sales import selectors
from bizdept.sales.choices import AGING_BUCKETS, ContractStatus
from bizdept.sales.models import Contract, Payment, PaymentPlan

from .contract_factories import make_contract

D = Decimal
ZERO = D("0.00")
AS_OF = datetime.date(2025, 6, 30)


def reference(user, as_of, unit=None):
    """The aging as the Python FIFO makes it from the rows: each contract's payments by
    ``as_of`` applied to its instalments in (due date, number) order by ``allocate_fifo``."""
    contracts = Contract.objects.visible_to(user).filter(status__in=selectors.RECEIVABLE)
    if unit is not None:
        contracts = contracts.filter(owner__unit__path__startswith=unit.path)
    plans = list(PaymentPlan.objects.filter(contract__in=contracts)
                 .select_related("contract__number", "contract__customer", "contract__owner__unit")
                 .order_by("contract_id", "due_on", "seq"))
    paid: dict[int, Decimal] = {}
    for payment in Payment.objects.filter(contract__in=contracts, received_on__lte=as_of):
        paid[payment.contract_id] = paid.get(payment.contract_id, ZERO) + payment.amount
    buckets = {key: ZERO for key, _a, _b in AGING_BUCKETS}
    not_due, people, overdue = ZERO, {}, []
    by_contract: dict[int, list] = {}
    for plan in plans:
        by_contract.setdefault(plan.contract_id, []).append(plan)
    for contract_id, group in by_contract.items():
        unpaid = selectors.allocate_fifo([(p.due_on, p.amount) for p in group],
                                         paid.get(contract_id, ZERO))
        for plan, rest in zip(group, unpaid, strict=True):
            if rest <= 0:
                continue
            if plan.due_on > as_of:
                not_due += rest
                continue
            days = (as_of - plan.due_on).days
            key = selectors.bucket_of(days)
            buckets[key] += rest
            owner = plan.contract.owner
            person = people.setdefault(owner.pk, {
                "id": owner.pk, "name": owner.name, "unit": owner.unit.name,
                "buckets": {k: ZERO for k, _a, _b in AGING_BUCKETS}, "total": ZERO})
            person["buckets"][key] += rest
            person["total"] += rest
            if days > 0:
                overdue.append({
                    "contract_id": contract_id, "number": plan.contract.number.number,
                    "customer_id": plan.contract.customer_id,
                    "customer": plan.contract.customer.name, "owner_id": owner.pk,
                    "owner": owner.name, "owner_number": owner.number,
                    "unit": owner.unit.name, "seq": plan.seq, "due_on": plan.due_on,
                    "amount": plan.amount, "unpaid": rest, "days_overdue": days,
                    "bucket": key})
    overdue.sort(key=lambda r: (-r["days_overdue"], r["contract_id"], r["seq"]))
    return {"buckets": buckets, "not_due": not_due,
            "overdue_total": sum(buckets.values(), ZERO),
            "rows": sorted(people.values(), key=lambda p: (-p["total"], p["name"])),
            "overdue": overdue}


def assert_same_as_reference(user, as_of, unit=None):
    report = selectors.receivables_aging(user=user, unit=unit, as_of=as_of)
    expected = reference(user, as_of, unit)
    got = {"buckets": report.buckets, "not_due": report.not_due,
           "overdue_total": report.overdue_total, "rows": report.rows,
           "overdue": list(report.overdue)}
    assert got == expected
    overdue = selectors.overdue_instalments(user=user, unit=unit, as_of=as_of)
    assert overdue.count() == len(expected["overdue"])
    assert overdue[1:4] == expected["overdue"][1:4]
    return report


def add_rows(contract, instalments, payments, by):
    """Instalments as (days from AS_OF, cents), numbered in the order given (so the same
    day or an earlier day can have a later number); payments as (days, cents, reversed
    how many days later or None)."""
    first = (contract.instalments.aggregate(last=Max("seq"))["last"] or 0) + 1
    PaymentPlan.objects.bulk_create(
        PaymentPlan(contract=contract, seq=n, due_on=AS_OF + datetime.timedelta(days=day),
                    amount=D(cents).scaleb(-2))
        for n, (day, cents) in enumerate(instalments, start=first))
    made = Payment.objects.bulk_create(
        Payment(contract=contract, received_on=AS_OF + datetime.timedelta(days=day),
                amount=D(cents).scaleb(-2), entered_by=by)
        for day, cents, _later in payments)
    Payment.objects.bulk_create(
        Payment(contract=contract, reverses=payment, amount=-payment.amount, entered_by=by,
                received_on=payment.received_on + datetime.timedelta(days=later))
        for payment, (_day, _cents, later) in zip(made, payments, strict=True)
        if later is not None)


# Days around every bucket edge, and anywhere in a year and a half.
days = st.one_of(st.sampled_from([0, -1, 1, -30, -31, -60, -61, -90, -91, -180, -181]),
                 st.integers(min_value=-500, max_value=200))
cents = st.one_of(st.sampled_from([1, 10, 20, 30, 33, 70, 99_999_999_999]),
                  st.integers(min_value=1, max_value=10**10))
contract_rows = st.tuples(
    st.lists(st.tuples(st.one_of(st.sampled_from([-45, -45, 10]), days), cents), max_size=6),
    st.lists(st.tuples(st.integers(min_value=-500, max_value=60), cents,
                       st.one_of(st.none(), st.integers(min_value=0, max_value=90))),
             max_size=5))


class AgingMatchesTheFifoReference(HypothesisTestCase):
    """Six contracts (four receivable for three people in two teams, a terminated one and a
    draft); each example gives them new instalments and payments."""

    @classmethod
    def setUpTestData(cls):
        cls.dept = dept = DepartmentFactory.build_department()
        owners = [dept.sales, dept.sales, dept.sales_mate, dept.other_sales, dept.sales,
                  dept.other_sales]
        statuses = [ContractStatus.EXECUTING, ContractStatus.COMPLETED, ContractStatus.SIGNED,
                    ContractStatus.SIGNED, ContractStatus.TERMINATED, ContractStatus.DRAFT]
        cls.contracts = []
        for owner, status in zip(owners, statuses, strict=True):
            contract = make_contract(owner, amount="100000000.00", director=dept.director)
            Contract.objects.filter(pk=contract.pk).update(status=status)
            cls.contracts.append(contract)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(world=st.lists(contract_rows, min_size=6, max_size=6),
           shift=st.sampled_from([0, 0, -1, 31, -200]))
    def test_sql_aging_is_the_fifo_of_the_same_rows(self, world, shift):
        for contract, (instalments, payments) in zip(self.contracts, world, strict=True):
            add_rows(contract, instalments, payments, self.dept.finance)
        as_of = AS_OF + datetime.timedelta(days=shift)
        assert_same_as_reference(self.dept.director.user, as_of)
        assert_same_as_reference(self.dept.sales.user, as_of)
        assert_same_as_reference(self.dept.manager.user, as_of, unit=self.dept.other_team)


# --- by hand ---------------------------------------------------------------------------------
@pytest.fixture
def contracts(dept):
    made = [make_contract(owner, amount="100000000.00", director=dept.director)
            for owner in (dept.sales, dept.sales_mate, dept.other_sales)]
    Contract.objects.filter(pk__in=[c.pk for c in made]).update(status=ContractStatus.EXECUTING)
    return made


def test_same_day_instalments_are_paid_in_number_order(dept, contracts):
    one = contracts[0]
    # numbers 1 and 2 fall due the same day, 3 earlier: FIFO pays 3, then 1, then 2
    add_rows(one, [(-40, 10_000), (-40, 20_000), (-50, 5_000)], [(-10, 12_000, None)],
             dept.finance)
    report = assert_same_as_reference(dept.director.user, AS_OF)
    assert [(r["seq"], r["unpaid"]) for r in report.overdue] == [(1, D("30.00")),
                                                               (2, D("200.00"))]


def test_reversal_and_payments_after_the_day(dept, contracts):
    one = contracts[0]
    add_rows(one, [(-100, 50_000), (-10, 50_000)],
             [(-90, 50_000, 5), (-80, 30_000, None), (5, 70_000, None), (-5, 10_000, 20)],
             dept.finance)
    report = assert_same_as_reference(dept.director.user, AS_OF)
    # by the day: 500 paid and reversed; 300 and 100 stand (100's reversal comes after
    # the day) and the 700 after the day does not count: 400 paid of 1,000
    assert report.overdue_total == D("600.00")
    assert report.buckets["d91_180"] == D("100.00") and report.buckets["d0_30"] == D("500.00")
    later = assert_same_as_reference(dept.director.user, AS_OF + datetime.timedelta(days=30))
    assert later.overdue_total == D("0.00")  # 300 + 700 = 1,000 by then


def test_money_reversed_below_nothing_pays_nothing(dept, contracts):
    one = contracts[0]
    add_rows(one, [(-100, 50_000)], [(-50, 20_000, -60)], dept.finance)  # reversal dated first
    report = assert_same_as_reference(dept.director.user, AS_OF - datetime.timedelta(days=55))
    assert report.overdue_total == D("500.00")


def test_awkward_amounts_add_up_to_the_cent(dept, contracts):
    """Many amounts a binary float cannot hold (0.1, 0.2, 0.7, 1234567.89 …), summed per
    contract and per person: SQLite keeps them as REAL, the report is still exact."""
    awkward = [10, 20, 70, 1, 33, 123_456_789, 99_999_999_999, 3, 7, 40]
    for n, contract in enumerate(contracts):
        add_rows(contract,
                 [(-(i * 7 % 300), awkward[(i + n) % len(awkward)]) for i in range(60)]
                 + [(i, awkward[i % len(awkward)]) for i in range(1, 20)],
                 [(-(i * 11 % 200), awkward[(i * 3 + n) % len(awkward)], None)
                  for i in range(25)],
                 dept.finance)
    report = assert_same_as_reference(dept.director.user, AS_OF)
    exact = ZERO
    for contract in contracts:
        plan = sum((p.amount for p in contract.instalments.all()), ZERO)
        paid = sum((p.amount for p in contract.payments.filter(received_on__lte=AS_OF)), ZERO)
        exact += max(plan - max(paid, ZERO), ZERO)
    assert report.overdue_total + report.not_due == exact
    assert sum((p["total"] for p in report.rows), ZERO) == report.overdue_total


def test_huge_sums_of_many_amounts_stay_exact(dept, contracts):
    """800 instalments of 999,999,999.99 add up, in binary floats, to a cent less than
    they are; summed as integer cents they are exact."""
    add_rows(contracts[0], [(-day, 99_999_999_999) for day in range(1, 801)],
             [(-day, 99_999_999_999, None) for day in range(1, 401)], dept.finance)
    report = assert_same_as_reference(dept.director.user, AS_OF)
    assert report.overdue_total == D("399999999996.00") and report.not_due == ZERO


def plan_queries(ctx) -> int:
    """Queries that read instalments (the scope's own are counted apart)."""
    return sum("sales_paymentplan" in q["sql"] for q in ctx.captured_queries)


def test_overdue_pages_count_and_export(as_user, dept, contracts):
    for contract in contracts:
        add_rows(contract, [(-day, 1_000 + day) for day in range(1, 31)], [], dept.finance)
    overdue = selectors.overdue_instalments(user=dept.director.user, as_of=AS_OF)
    everything = list(overdue)
    assert len(everything) == overdue.count() == 90
    assert [r["days_overdue"] for r in everything] == sorted(
        (r["days_overdue"] for r in everything), reverse=True)
    with CaptureQueriesContext(connection) as ctx:
        fresh = selectors.overdue_instalments(user=dept.director.user, as_of=AS_OF)
        page = fresh[25:50]
        assert fresh.count() == 90  # the page's query brought the count
    assert page == everything[25:50] and plan_queries(ctx) == len(ctx) == 1
    assert fresh[89] == everything[89] and fresh[90:100] == []
    with pytest.raises(IndexError):
        fresh[90]
    client = as_user(dept.finance)
    url = reverse("sales:receivables_overdue")
    row = '<td><a class="font-monospace"'
    html = client.get(url, {"as_of": AS_OF.isoformat(), "page": 2}).content.decode()
    assert html.count(row) == 25 and 'id="list-table"' in html
    fragment = client.get(url, {"as_of": AS_OF.isoformat(), "page": 4},
                          HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list-table").content.decode()
    assert 'id="report"' not in fragment and fragment.count(row) == 15
    fragment = client.get(url, {"as_of": AS_OF.isoformat()}, HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="report").content.decode()
    assert 'id="report"' in fragment and fragment.count(row) == 25
    body = client.get("/api/v1/receivables/overdue",
                      {"as_of": AS_OF.isoformat(), "page": 3, "page_size": 40}).json()
    assert body["count"] == 90 and len(body["items"]) == 10
    assert D(body["items"][0]["unpaid"]) == everything[80]["unpaid"]
    response = client.get(url, {"as_of": AS_OF.isoformat(), "export": "xlsx"})
    assert response.status_code == 200


def test_aging_is_one_query_whatever_the_data(dept, contracts):
    def cost():
        user = dept.director.user.__class__.objects.get(pk=dept.director.user.pk)
        with CaptureQueriesContext(connection) as ctx:
            selectors.receivables_aging(user=user, as_of=AS_OF)
        assert plan_queries(ctx) == 1  # the overdue list is not read
        return len(ctx)

    add_rows(contracts[0], [(-40, 1_000)], [(-10, 500, None)], dept.finance)
    small = cost()
    for contract in contracts:
        add_rows(contract, [(-day, 1_000) for day in range(100, 140)],
                 [(-day, 700, None) for day in range(1, 20)], dept.finance)
    assert cost() == small
