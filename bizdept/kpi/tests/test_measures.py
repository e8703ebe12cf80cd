"""Each measure against arithmetic done here by hand: boundary dates, reversals, other
people's records, drafts and terminated contracts, time zones, awkward amounts."""

import datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bizdept.kpi.measures import MEASURES, measure
from bizdept.targets.choices import Metric

from . import records as r

D = datetime.date
Q1 = {"since": D(2026, 1, 1), "until": D(2026, 3, 31)}


def test_every_metric_has_exactly_one_measure():
    assert set(MEASURES) == set(Metric.values)
    assert measure("revenue") is MEASURES["revenue"]
    assert not MEASURES["expenses"].higher_is_better
    assert all(m.higher_is_better for code, m in MEASURES.items() if code != "expenses")
    assert {m.unit for m in MEASURES.values()} == {"money", "count"}


@pytest.mark.django_db
def test_revenue_counts_signed_contracts_of_the_period_by_owner(sales, sales_mate, other_sales):
    r.contract(sales, total="1000.10", signed_on=D(2026, 1, 1))             # first day
    r.contract(sales, total="2000.20", signed_on=D(2026, 3, 31), status="executing")  # last
    r.contract(sales, total="300.03", signed_on=D(2026, 2, 1), status="completed")
    r.contract(sales, total="9999.00", signed_on=D(2025, 12, 31))           # day before
    r.contract(sales, total="9999.00", signed_on=D(2026, 4, 1))             # day after
    r.contract(sales, total="9999.00", signed_on=None, status="draft")      # draft
    r.contract(sales, total="9999.00", signed_on=None, status="reported")   # in approval
    r.contract(sales, total="9999.00", signed_on=None, status="approved")   # not signed
    r.contract(sales, total="9999.00", signed_on=D(2026, 2, 2), status="terminated")
    r.contract(sales_mate, total="50.00", signed_on=D(2026, 2, 2))
    rev = measure("revenue")
    values = rev.per_person(**Q1)
    assert values == {sales.pk: Decimal("3300.33"), sales_mate.pk: Decimal("50.00")}
    assert rev.per_person(**Q1, employee_ids=[sales_mate.pk, other_sales.pk]) == {
        sales_mate.pk: Decimal("50.00")}
    assert rev.total(**Q1) == Decimal("3350.33")
    assert rev.records(**Q1, employee_ids=[sales.pk]).count() == 3


@pytest.mark.django_db
def test_gross_margin_is_amount_less_cost_rounded_per_line(sales, sales_mate):
    # 3 × 33.33 = 99.99; cost 1.5 × 10.005 → 15.01 (15.0075 half up); etc.
    r.contract(sales, signed_on=D(2026, 2, 1), lines=[
        ("3", "33.33", "20.00"),     # 99.99 − 60.00 = 39.99
        ("1.5", "20.00", "10.01"),   # 30.00 − 15.015 → 15.02 = 14.98
        ("0.5", "0.01", "0.01"),     # 0.01 (0.005 half up) − 0.01 (0.005 half up) = 0.00
        ("2", "50.00", "80.00"),     # 100.00 − 160.00 = −60.00 (below cost)
    ])
    r.contract(sales, signed_on=D(2026, 2, 1), status="draft", lines=[("1", "999", "0")])
    r.contract(sales, signed_on=D(2026, 2, 1), status="terminated", lines=[("1", "999", "0")])
    r.contract(sales, signed_on=D(2026, 4, 1), lines=[("1", "999", "0")])
    r.contract(sales_mate, signed_on=D(2026, 3, 31), lines=[("7", "0.07", "0.03")])  # 0.28
    gm = measure("gross_margin")
    assert gm.per_person(**Q1) == {sales.pk: Decimal("-5.03"), sales_mate.pk: Decimal("0.28")}
    assert gm.total(**Q1) == Decimal("-4.75")
    assert gm.records(**Q1, employee_ids=[sales.pk]).count() == 4


@pytest.mark.django_db
def test_collections_are_net_of_reversals_by_the_contract_owner(sales, sales_mate):
    mine = r.contract(sales, total="10000.00", signed_on=D(2025, 6, 1))
    ended = r.contract(sales, total="5000.00", signed_on=D(2025, 6, 1), status="terminated")
    theirs = r.contract(sales_mate, total="800.00", signed_on=D(2026, 1, 5))
    first = r.payment(mine, "1000.01", D(2026, 1, 1))
    r.payment(mine, "-1000.01", D(2026, 1, 20), reverses=first)   # reversed in the period
    late = r.payment(mine, "500.50", D(2026, 3, 31))
    r.payment(mine, "-500.50", D(2026, 4, 1), reverses=late)       # reversed after it
    r.payment(mine, "7.00", D(2025, 12, 31))
    r.payment(ended, "250.25", D(2026, 2, 14))                      # money is money
    r.payment(theirs, "800.00", D(2026, 2, 1))
    col = measure("collections")
    assert col.per_person(**Q1) == {sales.pk: Decimal("750.75"), sales_mate.pk: Decimal("800.00")}
    # The reversal counts in its own period: April is net −500.50.
    april = {"since": D(2026, 4, 1), "until": D(2026, 4, 30)}
    assert col.per_person(**april) == {sales.pk: Decimal("-500.50")}


@pytest.mark.django_db
def test_new_customers_count_local_days_for_the_current_owner(sales, sales_mate):
    r.customer(sales, created_at=r.local(2026, 1, 1, 0, 0))       # local midnight: in
    r.customer(sales, created_at=r.local(2026, 3, 31, 23, 59))    # last minute: in
    r.customer(sales, created_at=r.local(2025, 12, 31, 23, 59))   # the day before (UTC+8!)
    r.customer(sales, created_at=r.local(2026, 4, 1, 0, 0))       # the day after
    moved = r.customer(sales_mate, created_at=r.local(2026, 2, 1, 12))
    pooled = r.customer(sales, created_at=r.local(2026, 2, 1, 12))
    pooled.owner = None
    pooled.save(update_fields=["owner"])
    moved.owner = sales
    moved.save(update_fields=["owner"])
    assert measure("new_customers").per_person(**Q1) == {sales.pk: Decimal(3)}


@pytest.mark.django_db
def test_visits_count_local_days_by_the_visitor(sales, sales_mate):
    r.visit(sales, r.local(2026, 1, 1, 0, 0))
    r.visit(sales, r.local(2026, 3, 31, 23, 59))
    r.visit(sales, r.local(2026, 1, 1, 7, 59))   # 2025-12-31 23:59 UTC: still Jan 1 here
    r.visit(sales, r.local(2025, 12, 31, 23, 59))
    r.visit(sales, r.local(2026, 4, 1, 0, 0))
    r.visit(sales_mate, r.local(2026, 2, 2, 10))
    assert measure("visits").per_person(**Q1) == {sales.pk: Decimal(3), sales_mate.pk: Decimal(1)}


@pytest.mark.django_db
def test_expenses_count_approved_and_paid_claims_by_the_claimant(sales, sales_mate):
    r.claim(sales, "100.10", D(2026, 1, 1))
    r.claim(sales, "200.20", D(2026, 3, 31), status="paid")
    for status in ("draft", "submitted", "rejected", "returned"):
        r.claim(sales, "999.00", D(2026, 2, 1), status=status)
    r.claim(sales, "999.00", D(2025, 12, 31))
    r.claim(sales_mate, "0.07", D(2026, 2, 1))
    assert measure("expenses").per_person(**Q1) == {sales.pk: Decimal("300.30"),
                                                   sales_mate.pk: Decimal("0.07")}


@pytest.mark.django_db
def test_sums_of_awkward_amounts_are_exact(sales):
    amounts = [Decimal("0.01"), Decimal("0.1"), Decimal("0.07"), Decimal("0.29"),
               Decimal("1234567.89")]
    contract = r.contract(sales, total="1.00", signed_on=D(2026, 1, 2))
    expected = Decimal(0)
    for n in range(300):
        amount = amounts[n % len(amounts)]
        r.payment(contract, amount, D(2026, 1, 2))
        r.claim(sales, amount, D(2026, 1, 2))
        expected += amount
    assert measure("collections").per_person(**Q1)[sales.pk] == expected
    assert measure("expenses").per_person(**Q1)[sales.pk] == expected
    assert str(expected) == str(measure("expenses").total(**Q1))


@pytest.mark.django_db
@pytest.mark.parametrize("code", Metric.values)
def test_per_person_is_one_query_however_many_people(code, sales, sales_mate, other_sales):
    for person in (sales, sales_mate, other_sales):
        r.contract(person, total="1.00", signed_on=D(2026, 1, 5), lines=[("1", "1", "0")])
        r.visit(person, r.local(2026, 1, 5, 9))
        r.claim(person, "1.00", D(2026, 1, 5))
    with CaptureQueriesContext(connection) as captured:
        MEASURES[code].per_person(**Q1)
        MEASURES[code].per_person(**Q1, employee_ids=[sales.pk, other_sales.pk])
    assert len(captured) == 2


@pytest.mark.django_db
def test_explain_links_open_the_list_pages_filtered_to_the_records(sales, client):
    links = {code: m.explain_url(**Q1, employee=sales) for code, m in MEASURES.items()}
    revenue = urlsplit(links["revenue"])
    assert revenue.path == reverse("sales:contract_list")
    assert parse_qs(revenue.query) == {"signed_from": ["2026-01-01"], "signed_to": ["2026-03-31"],
                                       "counted": ["true"], "owner": [str(sales.pk)]}
    assert parse_qs(urlsplit(links["expenses"]).query)["employee"] == [str(sales.pk)]
    assert parse_qs(urlsplit(links["new_customers"]).query)["created_from"] == ["2026-01-01"]
    unit_link = MEASURES["revenue"].explain_url(**Q1, unit=sales.unit)
    assert parse_qs(urlsplit(unit_link).query)["unit"] == [str(sales.unit_id)]


@pytest.mark.django_db
def test_explain_pages_show_exactly_the_counted_records(sales, as_user):
    counted = r.contract(sales, total="10.00", signed_on=D(2026, 1, 5))
    r.contract(sales, total="20.00", signed_on=D(2026, 1, 6), status="terminated")
    r.contract(sales, total="30.00", signed_on=D(2026, 4, 6))
    r.claim(sales, "5.00", D(2026, 1, 5))
    r.claim(sales, "6.00", D(2026, 1, 5), status="submitted")
    fresh = r.customer(sales, created_at=r.local(2026, 1, 1, 0, 0))
    r.customer(sales, created_at=r.local(2025, 12, 31, 23, 0))
    client = as_user(sales)
    page = client.get(MEASURES["revenue"].explain_url(**Q1, employee=sales))
    assert page.status_code == 200
    assert list(page.context["page_obj"].object_list) == [counted]
    page = client.get(MEASURES["expenses"].explain_url(**Q1, employee=sales))
    assert [c.amount for c in page.context["page_obj"].object_list] == [Decimal("5.00")]
    page = client.get(MEASURES["new_customers"].explain_url(**Q1, employee=sales))
    # (the contracts' customers above were created today, not in the first quarter)
    assert set(page.context["page_obj"].object_list) == {fresh}


@pytest.mark.django_db
@pytest.mark.parametrize("code", Metric.values)
def test_many_people_give_the_same_figures_as_few(code, sales, sales_mate, other_sales):
    """Above MANY_PEOPLE some measures read the whole period and keep the people asked
    for: the same answer, one query."""
    from bizdept.kpi.measures import MANY_PEOPLE

    for person in (sales, sales_mate, other_sales):
        c = r.contract(person, total="2.00", signed_on=D(2026, 1, 5), lines=[("2", "1", "0.5")])
        r.payment(c, "1.50", D(2026, 1, 6))
        r.visit(person, r.local(2026, 1, 5, 9))
        r.claim(person, "1.00", D(2026, 1, 5))
        r.customer(person, created_at=r.local(2026, 1, 7, 9))
    few = [sales.pk, other_sales.pk]
    many = few + list(range(10**6, 10**6 + MANY_PEOPLE + 5))
    m = MEASURES[code]
    with CaptureQueriesContext(connection) as captured:
        got = m.per_person(**Q1, employee_ids=many)
    assert len(captured) == 1
    assert got == m.per_person(**Q1, employee_ids=few) and set(got) == set(few)
