"""Satisfaction surveys (CUS-10): one per customer and period, scores 1–5 per dimension,
the averages in one aggregate; the API and the page."""

import datetime
import itertools
import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bizdept.core.errors import Conflict, DomainError
from bizdept.customers import selectors, services
from bizdept.customers.models import Survey

API = "/api/v1"
_n = itertools.count(1)


def customer_of(owner):
    return services.customer_create(by=owner.user, name=f"满意度测试客户{next(_n)}号有限公司")


def survey(customer, by, period="2026-Q1", **scores):
    values = {"service": 5, "delivery": 4, "product": 3, **scores}
    return services.survey_record(customer=customer, by=by.user, period=period,
                                  surveyed_on=timezone.localdate(), **values)


def post(client, path, body):
    return client.post(API + path, data=json.dumps(body), content_type="application/json")


def assert_error(response, status, field=None):
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["detail"]
    if field is not None:
        assert body["errors"].get(field) or body["errors"].get(f"payload.{field}"), body


# --- services ---------------------------------------------------------------------------
@pytest.mark.parametrize("period", ["2026-Q3", "2026-07", "2025-12", "2026-q2"])
def test_period_is_a_quarter_or_a_month(dept, period):
    assert survey(customer_of(dept.sales), dept.sales, period=period).period == period.upper()


@pytest.mark.parametrize("period", ["2026", "2026-Q5", "2026-13", "26-Q1", "2026/07", ""])
def test_bad_period_is_named(dept, period):
    with pytest.raises(DomainError) as caught:
        survey(customer_of(dept.sales), dept.sales, period=period)
    assert "period" in caught.value.errors


@pytest.mark.parametrize("score", [0, 6, -1, True, "5"])
def test_scores_are_one_to_five(dept, score):
    with pytest.raises(DomainError) as caught:
        survey(customer_of(dept.sales), dept.sales, delivery=score)
    assert "delivery" in caught.value.errors


def test_second_survey_for_the_period_is_a_conflict_naming_period(dept):
    customer = customer_of(dept.sales)
    survey(customer, dept.sales)
    with pytest.raises(Conflict) as caught:
        survey(customer, dept.lead)
    assert "period" in caught.value.errors and caught.value.status == 409
    assert Survey.objects.count() == 1
    survey(customer, dept.sales, period="2026-Q2")  # another period is fine


def test_survey_cannot_be_in_the_future(dept):
    with pytest.raises(DomainError) as caught:
        services.survey_record(customer=customer_of(dept.sales), by=dept.sales.user,
                               period="2026-Q1", service=5, delivery=5, product=5,
                               surveyed_on=timezone.localdate() + datetime.timedelta(days=1))
    assert "surveyed_on" in caught.value.errors


def test_only_who_may_edit_the_customer_records_a_survey(dept):
    with pytest.raises(PermissionDenied):
        survey(customer_of(dept.other_sales), dept.sales)


def test_update_checks_the_same_rules(dept):
    customer = customer_of(dept.sales)
    first = survey(customer, dept.sales, period="2026-Q1")
    second = survey(customer, dept.sales, period="2026-Q2")
    with pytest.raises(Conflict):
        services.survey_update(survey=second, by=dept.sales.user, period="2026-Q1")
    services.survey_update(survey=first, by=dept.lead.user, service=1, comment=" 慢 ")
    first.refresh_from_db()
    assert first.service == 1 and first.comment == "慢"
    with pytest.raises(PermissionDenied):
        services.survey_update(survey=first, by=dept.sales_mate.user, service=2)


def test_averages_in_one_query_rounded_to_cents(dept):
    for service in (5, 4, 4):
        survey(customer_of(dept.sales), dept.sales, service=service, delivery=3, product=1)
    rows = selectors.survey_list(user=dept.lead.user)  # resolving the scope is not counted
    with CaptureQueriesContext(connection) as ctx:
        averages = selectors.survey_averages(rows)
    assert len(ctx) == 1
    assert averages == {"service": Decimal("4.33"), "delivery": Decimal("3.00"),
                        "product": Decimal("1.00"), "count": 3}
    empty = selectors.survey_averages(selectors.survey_list(user=dept.other_sales.user))
    assert empty == {"service": None, "delivery": None, "product": None, "count": 0}


# --- API --------------------------------------------------------------------------------
def test_api_records_a_survey(as_user, dept):
    customer = customer_of(dept.sales)
    client = as_user(dept.sales)
    url = f"/customers/{customer.pk}/surveys"
    response = post(client, url, {"period": "2026-Q1", "service": 5, "delivery": 4,
                                  "product": 4})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["surveyed_by"]["id"] == dept.sales.pk and body["surveyed_on"]
    assert_error(post(client, url, {"period": "2026-Q1", "service": 5, "delivery": 4,
                                    "product": 4}), 409, "period")
    assert_error(post(client, url, {"period": "2026-Q5", "service": 5, "delivery": 4,
                                    "product": 4}), 422, "period")
    assert_error(post(client, url, {"period": "2026-Q2", "service": 6, "delivery": 4,
                                    "product": 4}), 422, "service")
    future = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()
    assert_error(post(client, url, {"period": "2026-Q2", "service": 5, "delivery": 4,
                                    "product": 4, "surveyed_on": future}), 400, "surveyed_on")


def test_api_patch_and_scope(as_user, dept):
    theirs = survey(customer_of(dept.other_sales), dept.other_sales)
    mine = survey(customer_of(dept.sales), dept.sales)
    client = as_user(dept.sales)
    assert_error(client.get(f"{API}/surveys/{theirs.pk}"), 404)
    response = client.patch(f"{API}/surveys/{mine.pk}", data=json.dumps({"product": 1}),
                            content_type="application/json")
    assert response.status_code == 200 and response.json()["product"] == 1
    listed = client.get(f"{API}/surveys").json()
    assert [i["id"] for i in listed["items"]] == [mine.pk]
    assert client.get(f"{API}/surveys", {"period": "2026-q1"}).json()["count"] == 1


def _queries(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx)


def _grow(dept, n):
    for owner in (dept.sales, dept.sales_mate, dept.other_sales):
        for _ in range(n):
            survey(customer_of(owner), owner)


@pytest.mark.parametrize("url", [f"{API}/surveys", "page"])
def test_survey_lists_cost_constant_queries(as_user, dept, url):
    url = reverse("customers:survey_list") if url == "page" else url
    client = as_user(dept.manager)
    _grow(dept, 1)
    small = _queries(client, url)
    _grow(dept, 4)
    assert _queries(client, url) == small


# --- pages --------------------------------------------------------------------------------
def test_record_a_survey_from_the_customer_page(as_user, dept):
    customer = customer_of(dept.sales)
    client = as_user(dept.sales)
    html = client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    assert reverse("customers:survey_create", args=[customer.pk]) in html
    url = reverse("customers:survey_create", args=[customer.pk])
    data = {"period": "2026-Q1", "surveyed_on": timezone.localdate().isoformat(),
            "service": "5", "delivery": "4", "product": "2", "comment": "交期偏长"}
    assert client.post(url, data).status_code == 302
    response = client.post(url, data)
    assert response.status_code == 200 and response.context["form"].errors["period"]
    survey_row = Survey.objects.get()
    html = client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    assert reverse("customers:survey_edit", args=[survey_row.pk]) in html


def test_survey_page_shows_averages_and_filters_by_fragment(as_user, dept):
    a, b = customer_of(dept.sales), customer_of(dept.sales)
    survey(a, dept.sales, service=5)
    survey(b, dept.sales, service=2, period="2026-Q2")
    client = as_user(dept.lead)
    url = reverse("customers:survey_list")
    response = client.get(url)
    assert response.context["averages"]["service"] == Decimal("3.50")
    assert 'id="survey-averages"' in response.content.decode()
    fragment = client.get(url, {"period": "2026-Q2"}, HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert "<html" not in html and 'hx-swap-oob="true"' in html and "2.00" in html
    assert b.name in html and a.name not in html
    assert client.get(url, {"export": "xlsx"}).status_code == 200
    assert "empty-state" in client.get(url, {"q": "没有这个客户"}).content.decode()


def test_survey_edit_page_is_refused_to_colleagues(as_user, dept):
    row = survey(customer_of(dept.sales), dept.sales)
    assert as_user(dept.sales_mate).get(
        reverse("customers:survey_edit", args=[row.pk])).status_code == 404
    assert as_user(dept.lead).get(
        reverse("customers:survey_edit", args=[row.pk])).status_code == 200
