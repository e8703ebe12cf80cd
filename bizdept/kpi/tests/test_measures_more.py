"""The PER-1 figures beyond the plan metrics (rates, averages, counts at a date), each
against arithmetic done here by hand: period boundaries, other people's records, empty
cases, and a constant number of queries however many people."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bizdept.customers.models import Complaint, Customer, Survey
from bizdept.kpi.measures import KPIS, MEASURES, Measure, a_year_earlier, measure
from bizdept.sales import selectors as sales_selectors
from bizdept.sales.models import ExpenseBudget, PaymentPlan
from bizdept.targets.choices import Metric

from . import records as r

D = datetime.date
OCT = {"since": D(2026, 10, 1), "until": D(2026, 10, 31)}
NEW = ("collection_rate", "avg_daily_visits", "customer_count", "satisfaction",
       "complaint_resolution", "expense_within_budget", "yoy_revenue_growth")
# Figures against entered inputs and unit figures (test_measures_inputs.py).
LATER = ("market_share", "product_mix", "staff_turnover", "team_pass_rate")


def test_the_new_figures_are_kpis_but_not_plan_metrics():
    assert set(MEASURES) == set(Metric.values)  # what plans and tracking offer
    assert set(KPIS) == set(Metric.values) | set(NEW) | set(LATER)
    for code in NEW + LATER:
        m = measure(code)
        assert isinstance(m, Measure) and m.code == code and code not in Metric.values
        assert str(m.label) and type(m).__doc__ and m.places in (0, 2)
    assert not KPIS["expense_within_budget"].higher_is_better
    assert KPIS["collection_rate"].unit == "percent"
    assert KPIS["satisfaction"].unit == "score"
    assert measure("revenue") is MEASURES["revenue"]


# --- collection rate ------------------------------------------------------------------------
def instalment(contract, due_on, amount, seq):
    return PaymentPlan.objects.create(contract=contract, seq=seq, due_on=due_on,
                                      amount=Decimal(amount))


@pytest.mark.django_db
def test_collection_rate_is_collected_over_due_on_the_owners_contracts(
        sales, sales_mate, other_sales, director):
    mine = r.contract(sales, total="10000.00", signed_on=D(2026, 9, 1))
    instalment(mine, D(2026, 10, 1), "1000.00", 1)    # first day: due
    instalment(mine, D(2026, 10, 31), "500.00", 2)    # last day: due
    instalment(mine, D(2026, 9, 30), "7000.00", 3)    # day before
    instalment(mine, D(2026, 11, 1), "900.00", 4)     # day after
    draft = r.contract(sales, total="800.00", status="draft")
    instalment(draft, D(2026, 10, 15), "800.00", 1)   # not receivable: not due
    paid = r.payment(mine, "600.00", D(2026, 10, 1))
    r.payment(mine, "-100.00", D(2026, 10, 31), reverses=paid)  # reversal, net 500
    r.payment(mine, "9999.00", D(2026, 11, 1))        # after the period
    r.payment(draft, "0.01", D(2026, 10, 5))          # money received counts, any contract
    theirs = r.contract(sales_mate, total="900.00", signed_on=D(2026, 9, 1))
    instalment(theirs, D(2026, 10, 10), "300.00", 1)  # due, nothing collected
    early = r.contract(other_sales, total="100.00", signed_on=D(2026, 9, 1))
    r.payment(early, "100.00", D(2026, 10, 3))        # collected, nothing due: no rate

    rate = measure("collection_rate")
    # sales: 500.01 ÷ 1500 × 100 = 33.334 → 33.33; sales_mate 0 ÷ 300 = 0.00
    assert rate.per_person(**OCT) == {sales.pk: Decimal("33.33"),
                                      sales_mate.pk: Decimal("0.00")}
    assert rate.per_person(**OCT, employee_ids=[other_sales.pk]) == {}
    assert rate.per_person(**OCT, employee_ids=[sales_mate.pk]) == {
        sales_mate.pk: Decimal("0.00")}
    # everyone: (500.01 + 100) ÷ 1800 × 100 = 33.3338… → 33.33
    assert rate.total(**OCT) == Decimal("33.33")
    assert rate.total(**OCT, employee_ids=[other_sales.pk]) is None
    assert rate.per_person(since=D(2027, 1, 1), until=D(2027, 1, 31)) == {}

    # the receivables page reads the same figures (one implementation)
    page = sales_selectors.collection_rate(user=director.user, **OCT)
    people = {p["id"]: p for p in page["people"]}
    assert people[sales.pk]["due"] == Decimal("1500.00")
    assert people[sales.pk]["collected"] == Decimal("500.01")
    assert {pk: p["rate"] for pk, p in people.items() if p["rate"] is not None} == \
        rate.per_person(**OCT)
    assert people[other_sales.pk]["rate"] is None


def test_collection_rate_rounds_half_up():
    rate = measure("collection_rate")
    assert rate.combine(Decimal("8.00"), Decimal("0.01")) == Decimal("0.13")  # 0.125
    assert rate.combine(Decimal("0.00"), Decimal("5.00")) is None


# --- average daily visits --------------------------------------------------------------------
@pytest.mark.django_db
def test_avg_daily_visits_divides_by_the_working_days(sales, sales_mate, other_sales):
    # October 2026: 22 weekdays, less the National Day holiday on 1, 2, 5, 6, 7 October,
    # plus the make-up working Saturday 10 October = 18 working days.
    for at in (r.local(2026, 10, 1, 0, 0), r.local(2026, 10, 3, 10), r.local(2026, 10, 15, 9),
               r.local(2026, 10, 20, 9), r.local(2026, 10, 31, 23, 59)):
        r.visit(sales, at)
    r.visit(sales, r.local(2026, 9, 30, 23, 59))   # day before
    r.visit(sales, r.local(2026, 11, 1, 0, 0))     # day after
    for day in range(12, 21):
        r.visit(sales_mate, r.local(2026, 10, day, 9))
    avg = measure("avg_daily_visits")
    # 5 ÷ 18 = 0.2777… → 0.28; 9 ÷ 18 = 0.50; other_sales made none (absent: 0)
    assert avg.per_person(**OCT) == {sales.pk: Decimal("0.28"), sales_mate.pk: Decimal("0.50")}
    assert avg.per_person(**OCT, employee_ids=[other_sales.pk]) == {}
    assert avg.total(**OCT) == Decimal("0.78")  # 14 ÷ 18 = 0.777…
    # the National Day weekend has no working day: no figure at all
    holiday = {"since": D(2026, 10, 3), "until": D(2026, 10, 4)}
    assert avg.per_person(**holiday) == {}
    assert avg.total(**holiday) is None

    # Month by month (a measure without a date field: one total per month).
    months = avg.per_month(since=D(2026, 9, 15), until=D(2026, 11, 30))
    assert list(months) == ["2026-09", "2026-10", "2026-11"]
    assert months["2026-10"] == Decimal("0.78")
    assert months["2026-09"] == avg.total(since=D(2026, 9, 15), until=D(2026, 9, 30))


# --- customer count ----------------------------------------------------------------------------
@pytest.mark.django_db
def test_customer_count_is_the_customers_owned_at_the_period_end(sales, sales_mate, other_sales):
    r.customer(sales, created_at=r.local(2024, 5, 1, 9))          # long before: counts
    r.customer(sales, created_at=r.local(2026, 10, 31, 23, 59))   # last minute: counts
    r.customer(sales, created_at=r.local(2026, 11, 1, 0, 0))      # after the end
    r.customer(sales_mate, created_at=r.local(2026, 10, 5, 9))
    pooled = r.customer(sales_mate, created_at=r.local(2026, 10, 5, 9))
    pooled.owner = None
    pooled.save(update_fields=["owner"])                          # in the pool: nobody's
    count = measure("customer_count")
    assert count.per_person(**OCT) == {sales.pk: Decimal(2), sales_mate.pk: Decimal(1)}
    assert count.per_person(**OCT, employee_ids=[sales.pk, other_sales.pk]) == {
        sales.pk: Decimal(2)}
    assert count.total(**OCT) == Decimal(3)
    assert count.per_person(since=D(2020, 1, 1), until=D(2020, 12, 31)) == {}


# --- satisfaction ------------------------------------------------------------------------------
def survey(customer, on, scores, by, period):
    service, delivery, product = scores
    return Survey.objects.create(customer=customer, surveyed_on=on, period=period,
                                 service=service, delivery=delivery, product=product,
                                 surveyed_by=by)


@pytest.mark.django_db
def test_satisfaction_averages_the_overall_scores_of_the_owners_customers(
        sales, sales_mate, other_sales):
    a, b = r.customer(sales), r.customer(sales)
    survey(a, D(2026, 10, 1), (5, 4, 3), sales, "2026-Q3")     # first day: 12 points
    survey(b, D(2026, 10, 31), (2, 2, 2), sales, "2026-Q3")    # last day: 6
    survey(a, D(2026, 10, 20), (5, 5, 4), sales, "2026-10")    # 14
    survey(b, D(2026, 9, 30), (1, 1, 1), sales, "2026-09")     # day before
    survey(b, D(2026, 11, 1), (1, 1, 1), sales, "2026-11")     # day after
    theirs = r.customer(sales_mate)
    survey(theirs, D(2026, 10, 9), (4, 4, 5), sales, "2026-Q3")  # sales_mate's customer
    sat = measure("satisfaction")
    # sales: 32 points ÷ (3 × 3 surveys) = 3.555… → 3.56; sales_mate: 13 ÷ 3 = 4.33
    assert sat.per_person(**OCT) == {sales.pk: Decimal("3.56"), sales_mate.pk: Decimal("4.33")}
    assert sat.per_person(**OCT, employee_ids=[other_sales.pk]) == {}
    assert sat.total(**OCT) == Decimal("3.75")  # 45 ÷ 12
    assert sat.total(**OCT, employee_ids=[other_sales.pk]) is None


# --- complaint resolution ------------------------------------------------------------------------
def complaint(handler, deadline, resolved=None, *, customer=None):
    return Complaint.objects.create(
        customer=customer or r.customer(handler), title="投诉", description="质量问题",
        handler=handler, received_at=deadline - datetime.timedelta(days=3),
        deadline_at=deadline, resolved_at=resolved,
        status="resolved" if resolved else "open")


@pytest.mark.django_db
def test_complaint_resolution_is_the_share_resolved_by_the_deadline(
        sales, sales_mate, other_sales):
    hour = datetime.timedelta(hours=1)
    first, last = r.local(2026, 10, 1, 0, 0), r.local(2026, 10, 31, 23, 59)
    complaint(sales, first, first - hour)                     # in time
    complaint(sales, last, last)                              # exactly at the deadline
    complaint(sales, r.local(2026, 10, 9, 18), r.local(2026, 10, 9, 19))  # late
    complaint(sales, r.local(2026, 10, 20, 18))               # not resolved
    complaint(sales, r.local(2026, 9, 30, 23, 59), first - 48 * hour)   # due before
    complaint(sales, r.local(2026, 11, 1, 0, 0), first)       # due after
    # handled by sales_mate although the customer is other_sales's: sales_mate's
    complaint(sales_mate, r.local(2026, 10, 9, 18), r.local(2026, 10, 8, 9),
              customer=r.customer(other_sales))
    complaint(sales_mate, r.local(2026, 10, 9, 18))
    complaint(sales_mate, r.local(2026, 10, 9, 18), r.local(2026, 10, 12, 9))
    res = measure("complaint_resolution")
    # sales: 2 of 4 = 50.00; sales_mate: 1 of 3 = 33.33
    assert res.per_person(**OCT) == {sales.pk: Decimal("50.00"),
                                     sales_mate.pk: Decimal("33.33")}
    assert res.per_person(**OCT, employee_ids=[other_sales.pk]) == {}
    assert res.total(**OCT) == Decimal("42.86")  # 3 of 7
    assert res.total(since=D(2027, 1, 1), until=D(2027, 1, 31)) is None


# --- expenses against budget -------------------------------------------------------------------
def budget(employee, period, amount, by):
    return ExpenseBudget.objects.create(employee=employee, period=period,
                                        amount=Decimal(amount), set_by=by)


@pytest.mark.django_db
def test_expense_within_budget_is_spent_over_the_periods_budget(
        sales, sales_mate, other_sales, manager):
    budget(sales, "2026-07", "1000.00", manager)
    budget(sales, "2026-08", "1000.00", manager)
    budget(sales, "2026-Q3", "2400.00", manager)    # the quarter's stands for Q3
    budget(sales_mate, "2026-07", "500.00", manager)
    budget(sales_mate, "2026-08", "500.00", manager)
    r.claim(sales, "250.50", D(2026, 7, 1))
    r.claim(sales, "100.00", D(2026, 7, 31), status="submitted")  # not approved
    r.claim(sales, "50.00", D(2026, 9, 30))
    r.claim(sales, "70.00", D(2026, 10, 1))                       # after Q3
    r.claim(other_sales, "80.00", D(2026, 7, 2))                  # no budget: no figure
    within = measure("expense_within_budget")
    july = {"since": D(2026, 7, 1), "until": D(2026, 7, 31)}
    q3 = {"since": D(2026, 7, 1), "until": D(2026, 9, 30)}
    # July: 250.50 ÷ 1000 = 25.05 %; sales_mate spent nothing of 500
    assert within.per_person(**july) == {sales.pk: Decimal("25.05"),
                                         sales_mate.pk: Decimal("0.00")}
    # Q3: 300.50 ÷ 2400 = 12.5208… → 12.52; sales_mate 0 of 500 + 500 (no quarter budget)
    assert within.per_person(**q3) == {sales.pk: Decimal("12.52"),
                                       sales_mate.pk: Decimal("0.00")}
    assert within.budgets(**q3) == {sales.pk: Decimal("2400.00"),
                                    sales_mate.pk: Decimal("1000.00")}
    assert within.per_person(**q3, employee_ids=[other_sales.pk]) == {}
    assert within.total(**q3) == Decimal("8.84")  # 300.50 ÷ 3400 = 8.838…
    # half a month lies inside no budget period: no budget, no figure
    assert within.per_person(since=D(2026, 7, 1), until=D(2026, 7, 15)) == {}
    assert within.total(since=D(2026, 7, 1), until=D(2026, 7, 15)) is None


# --- revenue growth year on year ---------------------------------------------------------------
@pytest.mark.django_db
def test_yoy_revenue_growth_compares_with_the_same_period_a_year_earlier(
        sales, sales_mate, other_sales):
    r.contract(sales, total="1000.00", signed_on=D(2026, 10, 1))
    r.contract(sales, total="500.00", signed_on=D(2026, 10, 31))
    r.contract(sales, total="9999.00", signed_on=D(2026, 11, 1))     # after
    r.contract(sales, total="1000.00", signed_on=D(2025, 10, 1))     # a year earlier
    r.contract(sales, total="9999.00", signed_on=D(2025, 9, 30))     # before that period
    r.contract(sales, total="9999.00", signed_on=D(2025, 10, 5), status="terminated")
    r.contract(sales_mate, total="200.00", signed_on=D(2025, 10, 31))  # then, none now
    r.contract(other_sales, total="300.00", signed_on=D(2026, 10, 9))  # now, none then
    growth = measure("yoy_revenue_growth")
    # sales: (1500 − 1000) ÷ 1000 = 50.00 %; sales_mate: −100.00; other_sales: no base
    assert growth.per_person(**OCT) == {sales.pk: Decimal("50.00"),
                                        sales_mate.pk: Decimal("-100.00")}
    assert growth.per_person(**OCT, employee_ids=[other_sales.pk]) == {}
    assert growth.total(**OCT) == Decimal("50.00")  # (1800 − 1200) ÷ 1200
    assert a_year_earlier(D(2028, 2, 29)) == D(2027, 2, 28)
    assert a_year_earlier(D(2026, 3, 31)) == D(2025, 3, 31)


# --- cost ----------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("code", NEW)
def test_per_person_costs_the_same_for_2_and_10_people(code, sales, sales_mate, other_sales,
                                                       manager):
    people = (sales, sales_mate, other_sales)
    for n, person in enumerate(people, start=1):
        c = r.contract(person, total="10.00", signed_on=D(2026, 10, 5))
        r.contract(person, total="5.00", signed_on=D(2025, 10, 5))
        instalment(c, D(2026, 10, 6), "10.00", 1)
        Customer.objects.filter(pk=c.customer_id).update(created_at=r.local(2026, 10, 1, 9))
        r.payment(c, "4.00", D(2026, 10, 7))
        r.visit(person, r.local(2026, 10, 8, 9))
        r.claim(person, "1.00", D(2026, 10, 8))
        budget(person, "2026-10", "100.00", manager)
        survey(c.customer, D(2026, 10, 9), (n, n, n), person, "2026-10")
        complaint(person, r.local(2026, 10, 9, 18), r.local(2026, 10, 9, 9),
                  customer=c.customer)
    two = [sales.pk, other_sales.pk]
    ten = [p.pk for p in people] + list(range(10**6, 10**6 + 7))
    m = KPIS[code]

    def cost(ids):
        with CaptureQueriesContext(connection) as captured:
            found = m.per_person(**OCT, employee_ids=ids)
        return len(captured), found

    (small, few), (large, many) = cost(two), cost(ten)
    assert small == large and 1 <= small <= 3
    assert set(few) == set(two) and set(many) == {p.pk for p in people}
    assert cost(None)[0] == small
