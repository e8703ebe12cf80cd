"""Receivables (SAL-6): the payment plan never above the contract amount; payments by
finance only, partial, never above the amount, corrected by reversal entries; aging with
FIFO allocation and the collection rate against hand arithmetic; the customer's grade and
revisit date moving with the money; scope, the API, the pages and their query counts."""

import datetime
import json
import random
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bizdept.approvals.demo import ensure_default_policies
from bizdept.core.errors import Conflict, DomainError
from bizdept.customers.models import Customer
from bizdept.sales import selectors, services
from bizdept.sales.models import Payment

from .contract_factories import make_contract, make_customer, plan, signed_contract

API = "/api/v1"
D = Decimal


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def policies(db):
    ensure_default_policies()


def today():
    return timezone.localdate()


def days(n):
    return today() + datetime.timedelta(days=n)


def pay(contract, amount, finance, on=None, **kw):
    return services.payment_record(contract=contract, by=finance.user,
                                   received_on=on or today(), amount=D(amount), **kw)


# --- the plan ---------------------------------------------------------------------------------
def test_plan_never_exceeds_the_contract_amount(dept):
    contract = signed_contract(dept.sales, amount="100000.00")
    with pytest.raises(DomainError) as refused:
        plan(contract, dept.sales, (30, "60000"), (60, "40000.01"))
    assert "instalments" in refused.value.errors
    rows = plan(contract, dept.sales, (30, "60000"), (60, "30000"))
    assert sum(r.amount for r in rows) == D("90000.00")
    assert selectors.contract_figures(contract)["plan_total"] == D("90000.00")  # incomplete
    rows = plan(contract, dept.finance, (30, "60000"), (60, "40000"))
    assert sum(r.amount for r in rows) == contract.total  # complete
    with pytest.raises(PermissionDenied):
        plan(contract, dept.other_sales, (30, "1"))


def test_lines_cannot_drop_below_the_plan(dept):
    contract = make_contract(dept.sales, amount="1000.00")
    plan(contract, dept.sales, (30, "1000"))
    with pytest.raises(DomainError) as refused:
        services.contract_lines_set(contract=contract, by=dept.sales.user, lines=[
            {"product": contract.lines.first().product, "quantity": 1, "unit_price": "999"}])
    assert refused.value.code == "plan_exceeds"


# --- payments ---------------------------------------------------------------------------------
def test_partial_payments_and_no_over_payment(dept):
    contract = signed_contract(dept.sales, amount="100000.00")
    pay(contract, "30000", dept.finance)
    pay(contract, "69999.99", dept.finance)
    with pytest.raises(DomainError) as refused:
        pay(contract, "0.02", dept.finance)
    assert "amount" in refused.value.errors and refused.value.code == "over_contract"
    pay(contract, "0.01", dept.finance)
    assert selectors.contract_figures(contract)["balance"] == D("0.00")


def test_only_finance_records_payments(dept):
    contract = signed_contract(dept.sales)
    for person in (dept.sales, dept.lead, dept.director):
        with pytest.raises(PermissionDenied):
            pay(contract, "1", person)
    with pytest.raises(DomainError) as refused:  # not signed yet
        pay(make_contract(dept.sales), "1", dept.finance)
    assert "contract" in refused.value.errors
    with pytest.raises(DomainError) as refused:
        pay(contract, "1", dept.finance, on=days(1))
    assert "received_on" in refused.value.errors


def test_a_correction_is_a_reversal_entry(dept):
    contract = signed_contract(dept.sales, amount="100000.00")
    wrong = pay(contract, "80000", dept.finance, on=days(-3))
    with pytest.raises(PermissionDenied):
        services.payment_reverse(payment=wrong, by=dept.sales.user, reason="录错")
    reversal = services.payment_reverse(payment=wrong, by=dept.finance.user, reason="录错金额")
    assert (reversal.amount, reversal.reverses, reversal.received_on) == (
        D("-80000.00"), wrong, wrong.received_on)
    assert Payment.objects.filter(contract=contract).count() == 2  # nothing deleted
    with pytest.raises(Conflict):
        services.payment_reverse(payment=wrong, by=dept.finance.user, reason="再次")
    with pytest.raises(DomainError):
        services.payment_reverse(payment=reversal, by=dept.finance.user, reason="冲回")
    assert selectors.contract_figures(contract)["received"] == D("0.00")
    pay(contract, "100000", dept.finance)  # the room is back


# --- grading (CUS-3) --------------------------------------------------------------------------
def test_payments_regrade_the_customer_and_move_the_revisit(dept):
    customer = make_customer(dept.sales)
    assert customer.grade == "D"
    contract = signed_contract(dept.sales, amount="500000.00", customer=customer)
    pay(contract, "200000", dept.finance, on=days(-400))  # outside the 12 months
    customer.refresh_from_db()
    assert customer.grade == "D"
    payment = pay(contract, "300000", dept.finance, on=days(-10))
    customer.refresh_from_db()
    last = timezone.localdate(customer.last_followup_at or customer.created_at)
    assert customer.grade == "B"
    assert customer.next_revisit_on == last + datetime.timedelta(days=14)
    services.payment_reverse(payment=payment, by=dept.finance.user, reason="退票")
    customer.refresh_from_db()
    assert customer.grade == "D"
    assert customer.next_revisit_on == last + datetime.timedelta(days=90)


def test_inflow_source_sums_per_customer_in_one_query(dept):
    a, b = make_customer(dept.sales), make_customer(dept.sales)
    for customer, amount in ((a, "1000.10"), (a, "2000.20"), (b, "5.55")):
        contract = signed_contract(dept.sales, amount="10000", customer=customer)
        pay(contract, amount, dept.finance, on=days(-5))
    with CaptureQueriesContext(connection) as ctx:
        got = selectors.payments_by_customer([a.pk, b.pk], days(-30), today())
    assert len(ctx) == 1 and got == {a.pk: D("3000.30"), b.pk: D("5.55")}


def test_many_awkward_amounts_sum_exactly(dept):
    """SQLite sums decimals as REAL: every figure read back is rounded to the cent and
    equals the exact Decimal sum."""
    rng = random.Random(7)
    amounts = [D(rng.choice(["0.10", "0.20", "0.30", "33.33", "66.67", "0.01", "999999.99",
                             "1234.56", "0.07"])) for _ in range(300)]
    total = sum(amounts, D("0"))
    customer = make_customer(dept.sales)
    contract = signed_contract(dept.sales, amount=str(total), customer=customer)
    Payment.objects.bulk_create([Payment(contract=contract, received_on=today(), amount=a,
                                         entered_by=dept.finance) for a in amounts])
    assert selectors.contract_figures(contract)["received"] == total
    assert selectors.payments_by_customer([customer.pk], days(-1), today())[customer.pk] == total
    rows = selectors.receivable_contracts(user=dept.finance.user)
    assert [(r["received"], r["balance"]) for r in rows] == [(total, D("0.00"))]
    person = selectors.receivable_balances(user=dept.director.user, by="person")
    assert person[0]["received"] == total


# --- aging and collection rate against hand arithmetic ----------------------------------------
def _aging_world(dept):
    """sales: 500,000 in five instalments, 150,000 paid; other_sales: 80,000 due long ago,
    unpaid."""
    one = signed_contract(dept.sales, amount="500000.00")
    plan(one, dept.sales, (-200, "50000"), (-100, "100000"), (-45, "100000"), (-10, "100000"),
         (20, "150000"))
    pay(one, "150000", dept.finance, on=days(-50))
    two = signed_contract(dept.other_sales, amount="80000.00")
    plan(two, dept.other_sales, (-75, "80000"))
    return one, two


def test_aging_by_hand(dept):
    _aging_world(dept)
    report = selectors.receivables_aging(user=dept.director.user)
    # FIFO: 150,000 pays the instalment of -200 days (50,000) and that of -100 (100,000).
    assert report.buckets == {"d0_30": D("100000.00"), "d31_60": D("100000.00"),
                              "d61_90": D("80000.00"), "d91_180": D("0.00"),
                              "d180_plus": D("0.00")}
    assert report.not_due == D("150000.00") and report.overdue_total == D("280000.00")
    assert [(r["name"], r["total"]) for r in report.rows] == [
        (dept.sales.name, D("200000.00")), (dept.other_sales.name, D("80000.00"))]
    assert [(o["days_overdue"], o["unpaid"]) for o in report.overdue] == [
        (75, D("80000.00")), (45, D("100000.00")), (10, D("100000.00"))]
    # as of 60 days ago: the -50 payment does not count yet
    earlier = selectors.receivables_aging(user=dept.director.user, as_of=days(-60))
    assert earlier.buckets["d0_30"] == D("80000.00")  # other_sales' instalment, 15 days late
    assert earlier.buckets["d91_180"] == D("50000.00")  # -200 is 140 days past due then
    assert earlier.buckets["d31_60"] == D("100000.00")  # -100 is 40 days past due


def test_aging_scope(dept):
    _aging_world(dept)
    mine = selectors.receivables_aging(user=dept.sales.user)
    assert mine.overdue_total == D("200000.00")
    lead = selectors.receivables_aging(user=dept.lead.user)
    assert lead.overdue_total == D("200000.00")
    finance = selectors.receivables_aging(user=dept.finance.user)
    assert finance.overdue_total == D("280000.00")
    unit = selectors.receivables_aging(user=dept.director.user, unit=dept.other_sales.unit_id)
    assert unit.overdue_total == D("80000.00")
    assert selectors.receivables_aging(user=dept.hr.user).overdue_total == D("0.00")


def test_collection_rate_by_hand(dept):
    _aging_world(dept)
    one = make_contract(dept.sales)  # a draft's plan is not due
    plan(one, dept.sales, (-40, "1000"))
    result = selectors.collection_rate(user=dept.director.user, since=days(-60), until=today())
    # due in the period: sales 100,000 (-45) + 100,000 (-10); other_sales 0 (-75 is before)
    # collected: sales 150,000 (-50); other_sales 0
    people = {p["name"]: p for p in result["people"]}
    assert people[dept.sales.name]["due"] == D("200000.00")
    assert people[dept.sales.name]["collected"] == D("150000.00")
    assert people[dept.sales.name]["rate"] == D("75.00")
    assert dept.other_sales.name not in people
    assert result["rate"] == D("75.00")
    units = {u["name"]: u for u in result["units"]}
    assert units[dept.sales.unit.name]["rate"] == D("75.00")
    whole = selectors.collection_rate(user=dept.director.user, since=days(-365),
                                      until=days(365))
    # due 580,000; collected 150,000 → 25.86%
    assert (whole["due"], whole["collected"], whole["rate"]) == (
        D("580000.00"), D("150000.00"), D("25.86"))
    with pytest.raises(DomainError):
        selectors.collection_rate(user=dept.director.user, since=today(), until=days(-1))


# --- API ----------------------------------------------------------------------------------
def send(client, method, path, body=None):
    return getattr(client, method)(API + path, data=json.dumps({} if body is None else body),
                                   content_type="application/json")


def test_api_plan_payments_and_reversal(as_user, dept):
    contract = signed_contract(dept.sales, amount="100000.00")
    client = as_user(dept.sales)
    response = send(client, "put", f"/contracts/{contract.pk}/plan", {"instalments": [
        {"due_on": days(-5).isoformat(), "amount": "40000"},
        {"due_on": days(30).isoformat(), "amount": 60000.5}]})
    assert response.status_code == 400 and "instalments" in response.json()["errors"]
    response = send(client, "put", f"/contracts/{contract.pk}/plan", {"instalments": [
        {"due_on": days(-5).isoformat(), "amount": "40000"},
        {"due_on": days(30).isoformat(), "amount": "60000"}]})
    assert response.status_code == 200 and response.json()["complete"] is True
    response = send(client, "post", f"/contracts/{contract.pk}/payments",
                    {"received_on": today().isoformat(), "amount": "100"})
    assert response.status_code == 403
    finance = as_user(dept.finance)
    response = send(finance, "post", f"/contracts/{contract.pk}/payments",
                    {"received_on": today().isoformat(), "amount": "30000",
                     "method": "acceptance", "reference": "BA-1"})
    assert response.status_code == 201, response.content
    payment_id = response.json()["id"]
    response = send(finance, "post", f"/contracts/{contract.pk}/payments",
                    {"received_on": today().isoformat(), "amount": "70000.01"})
    assert response.status_code == 400 and "amount" in response.json()["errors"]
    body = finance.get(f"{API}/contracts/{contract.pk}/plan").json()
    assert [(i["paid"], i["unpaid"]) for i in body["instalments"]] == [
        ("30000.00", "10000.00"), ("0.00", "60000.00")]
    response = send(finance, "post", f"/payments/{payment_id}/reverse", {"reason": "退票"})
    assert response.status_code == 201 and response.json()["amount"] == "-30000.00"
    response = send(finance, "post", f"/payments/{payment_id}/reverse", {"reason": "退票"})
    assert response.status_code == 409
    rows = finance.get(f"{API}/contracts/{contract.pk}/payments").json()
    assert [(r["amount"], r["reversed"]) for r in rows] == [("30000.00", True),
                                                            ("-30000.00", False)]
    assert as_user(dept.other_sales).get(
        f"{API}/contracts/{contract.pk}/payments").status_code == 404


def test_api_receivables_reports(as_user, dept):
    _aging_world(dept)
    client = as_user(dept.finance)
    body = client.get(f"{API}/receivables/aging").json()
    assert body["buckets"]["d31_60"] == "100000.00" and body["overdue_total"] == "280000.00"
    body = client.get(f"{API}/receivables/aging", {"unit": dept.sales.unit_id}).json()
    assert body["overdue_total"] == "200000.00"
    body = client.get(f"{API}/receivables/overdue").json()
    assert body["count"] == 3 and body["items"][0]["days_overdue"] == 75
    assert body["items"][0]["owner"]["id"] == dept.other_sales.pk
    body = client.get(f"{API}/receivables/collection",
                      {"since": days(-60).isoformat(), "until": today().isoformat()}).json()
    assert body["rate"] == "75.00" and body["people"][0]["rate"] == "75.00"
    response = client.get(f"{API}/receivables/collection",
                          {"since": today().isoformat(), "until": days(-1).isoformat()})
    assert response.status_code == 400
    response = client.get(f"{API}/receivables/aging", {"unit": 999999})
    assert response.status_code == 400 and "unit" in response.json()["errors"]
    mine = as_user(dept.sales).get(f"{API}/receivables/aging").json()
    assert mine["overdue_total"] == "200000.00"


# --- pages ----------------------------------------------------------------------------------
def test_pages(as_user, dept):
    contract, _two = _aging_world(dept)
    client = as_user(dept.finance)
    html = client.get(reverse("sales:receivables")).content.decode()
    assert 'data-chart="aging-data"' in html and "280,000.00" in html
    fragment = client.get(reverse("sales:receivables"), {"unit": dept.sales.unit_id},
                          HTTP_HX_REQUEST="true")
    assert b"<html" not in fragment.content and b"200,000.00" in fragment.content
    for name in ("sales:receivables", "sales:receivables_overdue",
                 "sales:receivables_collection"):
        response = client.get(reverse(name), {"export": "xlsx"})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    html = client.get(reverse("sales:receivables_overdue")).content.decode()
    assert contract.number.number in html
    html = client.get(reverse("sales:receivables_collection"),
                      {"since": days(-60).isoformat(), "until": today().isoformat()}
                      ).content.decode()
    assert "75.00" in html
    detail = client.get(reverse("sales:contract_detail", args=[contract.pk])).content.decode()
    assert 'id="record-payment"' in detail
    assert reverse("sales:payment_reverse", args=[contract.payments.first().pk]) in detail
    response = client.post(reverse("sales:payment_record", args=[contract.pk]), {
        "received_on": today().isoformat(), "amount": "1000", "method": "transfer"})
    assert response.status_code == 302
    payment = Payment.objects.filter(contract=contract).latest("pk")
    response = client.post(reverse("sales:payment_reverse", args=[payment.pk]),
                           {"reason": "录错"})
    assert response.status_code == 302 and payment.reversal.amount == D("-1000.00")
    sales = as_user(dept.sales)
    assert sales.get(reverse("sales:payment_record", args=[contract.pk])).status_code == 403
    response = sales.post(reverse("sales:contract_plan", args=[contract.pk]), {
        "plan-TOTAL_FORMS": "2", "plan-INITIAL_FORMS": "0",
        "plan-0-due_on": days(10).isoformat(), "plan-0-amount": "600000",
        "plan-1-due_on": "", "plan-1-amount": ""})
    assert response.status_code == 200 and b"plan-errors" in response.content
    response = sales.post(reverse("sales:contract_plan", args=[contract.pk]), {
        "plan-TOTAL_FORMS": "2", "plan-INITIAL_FORMS": "0",
        "plan-0-due_on": days(10).isoformat(), "plan-0-amount": "500000",
        "plan-1-due_on": "", "plan-1-amount": ""})
    assert response.status_code == 302 and contract.instalments.count() == 1


def _grow(dept, n):
    for _ in range(n):
        for person in (dept.sales, dept.sales_mate, dept.other_sales):
            contract = signed_contract(person, amount="90000")
            plan(contract, person, (-100, "30000"), (-20, "30000"), (40, "30000"))
            pay(contract, "35000", dept.finance, on=days(-30))


def test_receivables_cost_constant_queries(as_user, dept):
    client = as_user(dept.director)
    since, until = days(-365).isoformat(), today().isoformat()
    urls = [(reverse("sales:receivables"), {}), (reverse("sales:receivables_overdue"), {}),
            (reverse("sales:receivables_collection"), {"since": since, "until": until}),
            (f"{API}/receivables/aging", {}), (f"{API}/receivables/overdue", {"page_size": 100}),
            (f"{API}/receivables/collection", {"since": since, "until": until})]

    def cost():
        counts = []
        for url, params in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url, params).status_code == 200, url
            counts.append(len(ctx))
        return counts

    _grow(dept, 1)
    small = cost()
    _grow(dept, 3)
    assert cost() == small
    contract = Customer.objects.first().contracts.first()
    detail = [reverse("sales:contract_detail", args=[contract.pk]),
              f"{API}/contracts/{contract.pk}/payments", f"{API}/contracts/{contract.pk}/plan"]

    def detail_cost():
        out = []
        for url in detail:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            out.append(len(ctx))
        return out

    before = detail_cost()
    for _ in range(3):
        pay(contract, "100", dept.finance)
    assert detail_cost() == before
