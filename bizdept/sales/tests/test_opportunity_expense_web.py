"""Opportunities (SAL-2) and expenses (SAL-7) over the API and in the pages: status codes
and bodies, scope (404 outside it), htmx fragments, and a constant number of queries."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bizdept.approvals.demo import ensure_default_policies
from bizdept.sales import services

from .factories import (
    decide,
    make_claim,
    make_customer,
    make_opportunity,
    make_product,
    to_solution,
)

API = "/api/v1"
HTMX = {"HTTP_HX_REQUEST": "true"}
TODAY = timezone.localdate()
MONTH = f"{TODAY.year}-{TODAY.month:02d}"


@pytest.fixture(autouse=True)
def policies(db):
    ensure_default_policies()


def send(client, method, path, body=None):
    return getattr(client, method)(API + path, data=json.dumps({} if body is None else body),
                                   content_type="application/json")


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.content[:800])
    return response.json() if response.content else None


def error(response, status, field=None):
    assert response.status_code == status, (response.status_code, response.content[:800])
    body = response.json()
    assert set(body) == {"detail", "errors"}
    if field:
        assert field in body["errors"] or f"payload.{field}" in body["errors"], body
    return body


# === Opportunities API ==================================================================
def test_api_opportunity_flow(as_user, dept):
    customer = make_customer(dept.sales)
    product = make_product(dept.director, price="1000.00", cost="700.00")
    client = as_user(dept.sales)
    body = ok(send(client, "post", "/opportunities",
                   {"customer": customer.pk, "title": "节能改造", "expected_amount": "50000",
                    "expected_close_on": "2030-01-31"}), 201)
    pk = body["id"]
    assert body["stage"] == "need" and body["owner"]["id"] == dept.sales.pk
    assert body["stage_changes"][0]["new_stage"] == "need"
    error(send(client, "post", f"/opportunities/{pk}/lines",
               {"product": product.pk, "quantity": 1}), 400, "stage")
    body = ok(send(client, "post", f"/opportunities/{pk}/submit", {"comment": "请审批"}))
    assert body["stage"] == "approval" and body["approval_status"] == "pending"
    error(send(client, "post", f"/opportunities/{pk}/submit"), 400, "stage")
    decide(services.Opportunity.objects.get(pk=pk))
    line = ok(send(client, "post", f"/opportunities/{pk}/lines",
                   {"product": product.pk, "quantity": "2", "discount_percent": 20}), 201)
    assert (line["amount"], line["cost"], line["margin"], line["margin_rate"]) == \
        ("1600.00", "1400.00", "200.00", "12.50")
    error(send(client, "post", f"/opportunities/{pk}/advance"), 400, "discount_percent")
    ok(send(client, "post", f"/opportunities/{pk}/discount-approval"))
    decide(services.Opportunity.objects.get(pk=pk))
    body = ok(send(client, "post", f"/opportunities/{pk}/advance"))
    assert body["stage"] == "implementing" and body["totals"]["amount"] == "1600.00"
    error(send(client, "patch", f"/opportunity-lines/{line['id']}", {"quantity": 3}), 400,
          "stage")
    error(send(client, "post", f"/opportunities/{pk}/evaluate", {"score": 4}), 400, "stage")
    error(send(client, "post", f"/opportunities/{pk}/evaluate", {"score": 9}), 422, "score")
    ok(send(client, "post", f"/opportunities/{pk}/advance"))
    body = ok(send(client, "post", f"/opportunities/{pk}/evaluate",
                   {"score": 5, "lessons": "好"}))
    assert body["stage"] == "evaluated" and body["evaluation_score"] == 5
    body = ok(send(client, "post", f"/opportunities/{pk}/win", {"reason": "签约"}))
    assert body["stage"] == "won" and body["close_reason"] == "签约"
    error(send(client, "post", f"/opportunities/{pk}/lose", {"reason": "x"}), 400, "stage")
    error(send(client, "post", f"/opportunities/{pk}/lose", {}), 422, "reason")


def test_api_lines_patch_and_delete(as_user, dept):
    opportunity = to_solution(dept.sales)
    product = make_product(dept.director, price="100.00", cost="40.00")
    client = as_user(dept.sales)
    line = ok(send(client, "post", f"/opportunities/{opportunity.pk}/lines",
                   {"product": product.pk, "quantity": 1}), 201)
    assert line["unit_price"] == "100.00" and line["standard_cost"] == "40.00"
    body = ok(send(client, "patch", f"/opportunity-lines/{line['id']}",
                   {"quantity": 3, "unit_price": "90"}))
    assert body["amount"] == "270.00"
    error(send(client, "patch", f"/opportunity-lines/{line['id']}", {"discount_percent": 101}),
          422, "discount_percent")
    error(send(client, "post", f"/opportunities/{opportunity.pk}/lines",
               {"product": 999999, "quantity": 1}), 400, "product")
    assert as_user(dept.other_sales).delete(f"{API}/opportunity-lines/{line['id']}") \
        .status_code == 404
    assert as_user(dept.sales).delete(f"{API}/opportunity-lines/{line['id']}") \
        .status_code == 204


def test_api_scope_and_filters(as_user, dept):
    mine = make_opportunity(dept.sales, title="甲的商机")
    other = make_opportunity(dept.other_sales, title="丙的商机")
    client = as_user(dept.sales)
    rows = ok(client.get(f"{API}/opportunities"))["items"]
    assert [r["id"] for r in rows] == [mine.pk]
    error(client.get(f"{API}/opportunities/{other.pk}"), 404)
    error(send(client, "patch", f"/opportunities/{other.pk}", {"title": "x"}), 404)
    assert ok(as_user(dept.finance).get(f"{API}/opportunities"))["items"] == []
    manager = as_user(dept.manager)
    assert {r["id"] for r in ok(manager.get(f"{API}/opportunities",
                                            {"unit": dept.other_team.pk}))["items"]} \
        == {other.pk}
    assert {r["id"] for r in ok(manager.get(f"{API}/opportunities", {"q": "甲的"}))["items"]} \
        == {mine.pk}


def test_api_funnel(as_user, dept):
    make_opportunity(dept.sales, amount="100")
    body = ok(as_user(dept.lead).get(f"{API}/opportunities/funnel", {"unit": dept.team.pk}))
    assert body["stages"][0] == {"stage": "need", "label": "需求收集", "count": 1,
                                 "amount": "100.00", "reached": 1, "conversion": None}
    assert body["unit"]["id"] == dept.team.pk
    error(as_user(dept.sales).get(f"{API}/opportunities/funnel",
                                  {"unit": dept.other_team.pk}), 400, "unit")
    error(as_user(dept.lead).get(f"{API}/opportunities/funnel",
                                 {"since": "2030-01-02", "until": "2030-01-01"}), 400, "since")


def test_api_opportunity_list_queries_do_not_grow(as_user, dept):
    client = as_user(dept.director)
    make_opportunity(dept.sales)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            ok(client.get(f"{API}/opportunities"))
        return len(ctx)

    count()
    small = count()
    for owner in (dept.sales, dept.sales_mate, dept.other_sales) * 3:
        make_opportunity(owner)
    assert count() == small


# === Expenses API =======================================================================
def test_api_expense_flow(as_user, dept):
    lead = as_user(dept.lead)  # one test client: each as_user signs it in again
    ok(send(lead, "post", "/expense-budgets",
            {"employee": dept.sales.pk, "period": MONTH, "amount": 100}), 201)
    ok(send(lead, "post", "/expense-budgets",
            {"employee": dept.sales.pk, "period": MONTH, "amount": "200"}), 200)
    client = as_user(dept.sales)
    error(send(client, "post", "/expense-budgets",
               {"employee": dept.sales.pk, "period": MONTH, "amount": 1}), 403)
    error(send(client, "post", "/expense-budgets",
               {"employee": dept.sales.pk, "period": "2026-13", "amount": 1}), 422, "period")
    client = as_user(dept.sales)
    body = ok(send(client, "post", "/expenses",
                   {"category": "entertainment", "amount": "250.00",
                    "spent_on": TODAY.isoformat(), "description": "客户午餐"}), 201)
    pk = body["id"]
    assert body["status"] == "draft"
    ok(send(client, "patch", f"/expenses/{pk}", {"amount": 260}))
    error(send(client, "post", "/expenses", {"category": "travel", "amount": 0,
                                             "spent_on": TODAY.isoformat()}), 400, "amount")
    body = ok(send(client, "post", f"/expenses/{pk}/submit"))
    assert body["status"] == "submitted" and body["over_budget_by"] == "60.00"
    error(send(client, "patch", f"/expenses/{pk}", {"amount": 1}), 400, "status")
    use = ok(client.get(f"{API}/expense-budgets/use", {"period": MONTH}))
    assert use["rows"] == [{"employee": use["rows"][0]["employee"], "budget": "200.00",
                            "approved": "0.00", "pending": "260.00", "remaining": "-60.00",
                            "over": "60.00"}]
    decide(services.ExpenseClaim.objects.get(pk=pk))
    error(send(client, "post", f"/expenses/{pk}/pay"), 403)
    body = ok(send(as_user(dept.finance), "post", f"/expenses/{pk}/pay"))
    assert body["status"] == "paid" and body["paid_by"]["id"] == dept.finance.pk
    assert ok(as_user(dept.finance).get(f"{API}/expenses"))["count"] == 1
    error(as_user(dept.other_sales).get(f"{API}/expenses/{pk}"), 404)
    budgets = ok(as_user(dept.finance).get(f"{API}/expense-budgets", {"period": MONTH}))
    assert budgets["count"] == 1 and budgets["items"][0]["amount"] == "200.00"


def test_api_expense_list_queries_do_not_grow(as_user, dept):
    client = as_user(dept.finance)
    make_claim(dept.sales)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            ok(client.get(f"{API}/expenses"))
        return len(ctx)

    count()
    small = count()
    for e in (dept.sales, dept.sales_mate, dept.other_sales) * 3:
        make_claim(e)
    assert count() == small


# === Pages ==============================================================================
def test_opportunity_pages(as_user, dept):
    product = make_product(dept.director, price="1000.00", cost="600.00")
    opportunity = to_solution(dept.sales, title="改造项目")
    services.solution_line_add(opportunity=opportunity, by=dept.sales.user, product=product,
                               quantity=2, discount_percent=20)
    client = as_user(dept.sales)
    html = client.get(reverse("sales:opportunity_list")).content.decode()
    assert "改造项目" in html and reverse("sales:opportunity_create") in html
    fragment = client.get(reverse("sales:opportunity_list"), {"stage": "need"}, **HTMX)
    assert "<html" not in fragment.content.decode() and "改造项目" not in \
        fragment.content.decode()
    html = client.get(reverse("sales:opportunity_detail", args=[opportunity.pk])) \
        .content.decode()
    assert "1,600.00" in html and "25.00%" in html and 'id="ask-discount"' in html
    assert 'id="stage-bar"' in html and "approval-history" in html
    assert client.get(reverse("sales:opportunity_detail", args=[opportunity.pk]),
                      {"tab": "history"}).status_code == 200
    xlsx = client.get(reverse("sales:opportunity_list"), {"export": "xlsx"})
    assert xlsx.status_code == 200 and "spreadsheet" in xlsx["Content-Type"]
    assert as_user(dept.other_sales).get(
        reverse("sales:opportunity_detail", args=[opportunity.pk])).status_code == 404


def test_create_from_the_customer_page(as_user, dept):
    customer = make_customer(dept.sales)
    client = as_user(dept.sales)
    html = client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    assert f"{reverse('sales:opportunity_create')}?customer={customer.pk}" in html
    response = client.post(reverse("sales:opportunity_create") + f"?customer={customer.pk}",
                           {"customer": customer.pk, "title": "新需求", "expected_amount": "10"})
    assert response.status_code == 302
    opportunity = services.Opportunity.objects.get(title="新需求")
    assert opportunity.owner == dept.sales
    response = client.post(reverse("sales:opportunity_submit", args=[opportunity.pk]),
                           {"comment": ""})
    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.stage == "approval"


def test_funnel_page_and_export(as_user, dept):
    make_opportunity(dept.sales)
    client = as_user(dept.lead)
    html = client.get(reverse("sales:opportunity_funnel"), {"unit": dept.team.pk}) \
        .content.decode()
    assert 'data-chart="funnel-data"' in html and 'id="funnel-table"' in html
    assert "echarts.min.js" in html
    xlsx = client.get(reverse("sales:opportunity_funnel"), {"export": "xlsx"})
    assert xlsx.status_code == 200
    assert as_user(dept.sales).get(reverse("sales:opportunity_funnel"),
                                   {"unit": dept.other_team.pk}).status_code == 404


def test_list_pages_cost_the_same_queries(as_user, dept):
    client = as_user(dept.director)
    make_opportunity(dept.sales)
    make_claim(dept.sales)

    def count(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    urls = [reverse("sales:opportunity_list"), reverse("sales:expense_team"),
            reverse("sales:expense_budgets"), reverse("sales:opportunity_funnel")]
    small = [count(u) for u in urls]
    for e in (dept.sales, dept.sales_mate, dept.other_sales) * 3:
        make_opportunity(e)
        make_claim(e)
    assert [count(u) for u in urls] == small


def test_expense_pages(as_user, dept):
    claim = make_claim(dept.sales, amount="300")
    client = as_user(dept.sales)
    html = client.get(reverse("sales:expense_mine")).content.decode()
    assert reverse("sales:expense_detail", args=[claim.pk]) in html
    html = client.get(reverse("sales:expense_detail", args=[claim.pk])).content.decode()
    assert 'id="submit-claim"' in html
    assert client.post(reverse("sales:expense_submit", args=[claim.pk])).status_code == 302
    claim.refresh_from_db()
    assert claim.status == "submitted"
    html = client.get(reverse("sales:expense_detail", args=[claim.pk])).content.decode()
    assert 'id="over-budget"' in html and "300.00" in html
    decide(claim)
    html = as_user(dept.finance).get(reverse("sales:expense_detail", args=[claim.pk])) \
        .content.decode()
    assert 'id="pay-claim"' in html
    client = as_user(dept.sales)
    assert client.post(reverse("sales:expense_pay", args=[claim.pk])).status_code == 403
    claim.refresh_from_db()
    assert claim.status == "approved"  # the salesperson may not pay
    html = client.get(reverse("sales:expense_detail", args=[claim.pk])).content.decode()
    assert 'id="pay-claim"' not in html
    response = client.post(reverse("sales:expense_create"),
                           {"category": "travel", "amount": "12.5",
                            "spent_on": TODAY.isoformat()})
    assert response.status_code == 302


def test_budget_page_sets_budgets_for_people_in_scope(as_user, dept):
    client = as_user(dept.lead)
    html = client.get(reverse("sales:expense_budgets"), {"period": MONTH}).content.decode()
    assert 'id="budget-form"' in html and dept.sales.name in html
    response = client.post(reverse("sales:expense_budgets") + f"?period={MONTH}",
                           {"employee": dept.sales.pk, "period": MONTH, "amount": "900"})
    assert response.status_code == 302
    html = client.get(reverse("sales:expense_budgets"), {"period": MONTH}).content.decode()
    assert "900.00" in html
    assert as_user(dept.sales).post(reverse("sales:expense_budgets"),
                                    {"employee": dept.sales.pk, "period": MONTH,
                                     "amount": "1"}).status_code == 403


def test_api_a_customer_out_of_scope_is_unknown_not_forbidden(as_user, dept):
    """Naming another team's customer by id tells nothing about it (ORG-4)."""
    theirs = make_customer(dept.other_sales)
    client = as_user(dept.sales)
    body = error(send(client, "post", "/opportunities",
                      {"customer": theirs.pk, "title": "越界", "expected_amount": "1000",
                       "expected_close_on": TODAY.isoformat()}), 400, "customer")
    assert theirs.name not in json.dumps(body, ensure_ascii=False)
    mine = make_customer(dept.sales)
    ok(send(client, "post", "/opportunities",
            {"customer": mine.pk, "title": "节能改造", "expected_amount": "1000",
             "expected_close_on": TODAY.isoformat()}), 201)
