"""Market intelligence (CUS-11): who reports, who may correct or delete; API and pages."""

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bizdept.core.errors import DomainError
from bizdept.customers import services
from bizdept.customers.choices import ReportKind
from bizdept.customers.models import MarketReport

API = "/api/v1"


def report(by, **extra):
    values = {"kind": ReportKind.COMPETITOR, "title": "恒通科技降价", "text": "报价下调10%。",
              "region": "上海市", **extra}
    return services.market_report_create(by=by.user, **values)


def send(client, method, path, body):
    return getattr(client, method)(API + path, data=json.dumps(body),
                                   content_type="application/json")


def assert_error(response, status, field=None):
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["detail"]
    if field is not None:
        assert body["errors"].get(field) or body["errors"].get(f"payload.{field}"), body


# --- services ---------------------------------------------------------------------------
def test_report_defaults_to_today_and_its_reporter(dept):
    row = report(dept.sales)
    assert row.reporter == dept.sales and row.reported_on == timezone.localdate()
    assert row.history.count() == 1


@pytest.mark.parametrize("field, value", [("title", " "), ("text", ""), ("kind", "rumour"),
                                          ("region", "区" * 51)])
def test_bad_values_are_named(dept, field, value):
    with pytest.raises(DomainError) as caught:
        report(dept.sales, **{field: value})
    assert field in caught.value.errors


def test_report_cannot_be_dated_in_the_future(dept):
    with pytest.raises(DomainError) as caught:
        report(dept.sales, reported_on=timezone.localdate() + datetime.timedelta(days=1))
    assert "reported_on" in caught.value.errors


def test_reporter_or_head_above_may_change_it(dept):
    row = report(dept.sales)
    services.market_report_update(report=row, by=dept.sales.user, title="更正")
    services.market_report_update(report=row, by=dept.lead.user, kind=ReportKind.PRICE)
    row.refresh_from_db()
    assert row.title == "更正" and row.kind == ReportKind.PRICE
    for someone in (dept.sales_mate, dept.other_sales):
        with pytest.raises(PermissionDenied):
            services.market_report_update(report=row, by=someone.user, title="x")
        with pytest.raises(PermissionDenied):
            services.market_report_delete(report=row, by=someone.user)


def test_delete_is_audited(dept):
    row = report(dept.sales)
    pk = row.pk
    services.market_report_delete(report=row, by=dept.lead.user)
    assert not MarketReport.objects.filter(pk=pk).exists()
    deleted = MarketReport.history.filter(id=pk, history_type="-").get()
    assert deleted.history_user == dept.lead.user


# --- API --------------------------------------------------------------------------------
def test_api_create_with_a_customer_in_scope_only(as_user, dept):
    mine = services.customer_create(by=dept.sales.user, name="情报来源客户有限公司")
    theirs = services.customer_create(by=dept.other_sales.user, name="别人的客户有限公司")
    client = as_user(dept.sales)
    body = {"kind": "demand", "title": "需求增加", "text": "明年扩产。"}
    response = send(client, "post", "/market-reports", {**body, "customer": mine.pk})
    assert response.status_code == 201, response.content
    assert response.json()["customer"]["id"] == mine.pk
    assert_error(send(client, "post", "/market-reports", {**body, "customer": theirs.pk}),
                 400, "customer")
    assert_error(send(client, "post", "/market-reports", {**body, "kind": "x"}), 422, "kind")
    assert_error(send(client, "post", "/market-reports", {**body, "owner": 1}), 422)


def test_api_patch_delete_and_scope(as_user, dept):
    row = report(dept.sales)
    other = report(dept.other_sales)
    client = as_user(dept.sales)
    assert_error(client.get(f"{API}/market-reports/{other.pk}"), 404)
    response = send(client, "patch", f"/market-reports/{row.pk}", {"region": "江苏省"})
    assert response.status_code == 200 and response.json()["region"] == "江苏省"
    assert_error(send(as_user(dept.sales_mate), "patch", f"/market-reports/{row.pk}",
                      {"title": "x"}), 404)
    client = as_user(dept.sales)  # the one test client, signed in as sales again
    assert client.delete(f"{API}/market-reports/{row.pk}").status_code == 204
    assert_error(client.get(f"{API}/market-reports/{row.pk}"), 404)


def test_api_filters(as_user, dept):
    old = report(dept.sales, reported_on=datetime.date(2025, 3, 1), kind=ReportKind.PRICE)
    new = report(dept.sales, title="政策变化", kind=ReportKind.POLICY, region="浙江省")
    client = as_user(dept.lead)

    def ids(**params):
        return [i["id"] for i in client.get(f"{API}/market-reports", params).json()["items"]]

    assert ids(kind="price") == [old.pk]
    assert ids(region="浙江") == [new.pk]
    assert ids(q="政策") == [new.pk]
    assert ids(until="2025-12-31") == [old.pk]
    assert ids(since=timezone.localdate().isoformat()) == [new.pk]


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


@pytest.mark.parametrize("url", [f"{API}/market-reports", "page"])
def test_market_report_lists_cost_constant_queries(as_user, dept, url):
    url = reverse("customers:market_report_list") if url == "page" else url
    customer = services.customer_create(by=dept.sales.user, name="情报客户有限公司")
    client = as_user(dept.manager)

    def grow(n):
        for owner in (dept.sales, dept.sales_mate, dept.other_sales):
            for _ in range(n):
                report(owner, customer=customer if owner == dept.sales else None)

    grow(1)
    small = _queries(client, url)
    grow(4)
    assert _queries(client, url) == small


# --- pages --------------------------------------------------------------------------------
def test_report_from_the_list_page_and_from_a_customer(as_user, dept):
    customer = services.customer_create(by=dept.sales.user, name="页面情报客户有限公司",
                                        region="上海市")
    client = as_user(dept.sales)
    html = client.get(reverse("customers:market_report_list")).content.decode()
    assert reverse("customers:market_report_create") in html and "empty-state" in html
    url = reverse("customers:market_report_create") + f"?customer={customer.pk}"
    assert client.get(url).context["form"].initial["region"] == "上海市"
    response = client.post(url, {"kind": "price", "title": "原材料涨价", "text": "铜价上涨。",
                                 "region": "上海市",
                                 "reported_on": timezone.localdate().isoformat()})
    assert response.status_code == 302
    row = MarketReport.objects.get()
    assert row.customer == customer and row.reporter == dept.sales
    detail = client.get(reverse("customers:market_report_detail", args=[row.pk]))
    assert "铜价上涨" in detail.content.decode()
    assert reverse("customers:market_report_edit", args=[row.pk]) in detail.content.decode()
    list_html = client.get(reverse("customers:market_report_list"), {"kind": "price"},
                           HTTP_HX_REQUEST="true").content.decode()
    assert "原材料涨价" in list_html and "<html" not in list_html
    assert client.get(reverse("customers:market_report_list"),
                      {"export": "xlsx"}).status_code == 200


def test_delete_on_the_page(as_user, dept):
    row = report(dept.sales)
    response = as_user(dept.sales_mate).post(
        reverse("customers:market_report_delete", args=[row.pk]))
    assert response.status_code == 404
    response = as_user(dept.lead).post(reverse("customers:market_report_delete", args=[row.pk]))
    assert response.status_code == 302 and not MarketReport.objects.exists()


def test_navigation_has_complaints_and_market_intelligence(as_user, dept):
    html = as_user(dept.sales).get(reverse("customers:survey_list")).content.decode()
    assert reverse("customers:complaint_list") in html
    assert reverse("customers:market_report_list") in html
