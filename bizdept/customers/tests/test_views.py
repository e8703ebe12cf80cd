"""Customer pages: a salesperson's day in the browser, and what their head sees (CUS-1..8)."""

import datetime
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bizdept.customers import services
from bizdept.customers.models import Contact, Customer, Visit

_n = itertools.count(1)


def customer_of(owner, **extra):
    return services.customer_create(by=owner.user, name=f"测试客户{next(_n)}号有限公司", **extra)


def overdue(customer, days=3):
    Customer.objects.filter(pk=customer.pk).update(
        next_revisit_on=timezone.localdate() - datetime.timedelta(days=days))


def test_salesperson_sees_their_overdue_revisits(as_user, dept):
    mine, fresh = customer_of(dept.sales), customer_of(dept.sales)
    overdue(mine)
    html = as_user(dept.sales).get(reverse("customers:revisits")).content.decode()
    assert mine.name in html and fresh.name not in html


def test_head_sees_the_team_roll_up_of_overdue_revisits(as_user, dept):
    theirs, other = customer_of(dept.sales), customer_of(dept.other_sales)
    overdue(theirs)
    overdue(other)
    html = as_user(dept.lead).get(reverse("customers:revisits"), {"who": "team"}).content.decode()
    assert theirs.name in html and other.name not in html
    response = as_user(dept.manager).get(reverse("customers:revisits"), {"who": "team"})
    html = response.content.decode()
    assert theirs.name in html and other.name in html


def test_log_a_visit_with_check_in(as_user, dept):
    customer = customer_of(dept.sales)
    response = as_user(dept.sales).post(reverse("customers:visit_create", args=[customer.pk]), {
        "kind": "visit", "visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "summary": "拜访采购部，确认需求。", "next_step": "发报价", "check_in": "1",
        "latitude": "31.230416", "longitude": "121.473701", "accuracy_m": "18"})
    assert response.status_code == 302
    visit = Visit.objects.get(customer=customer)
    assert visit.checked_in_at is not None and str(visit.latitude) == "31.230416"
    customer.refresh_from_db()
    assert customer.next_revisit_on > timezone.localdate()


def test_check_in_without_a_location_is_refused_on_the_form(as_user, dept):
    customer = customer_of(dept.sales)
    response = as_user(dept.sales).post(reverse("customers:visit_create", args=[customer.pk]), {
        "kind": "visit", "visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "summary": "x", "check_in": "1"})
    assert response.status_code == 200
    assert not Visit.objects.exists()


def test_add_a_contact_with_a_chinese_mobile_number(as_user, dept):
    customer = customer_of(dept.sales)
    response = as_user(dept.sales).post(reverse("customers:contact_create", args=[customer.pk]),
                                        {"name": "王经理", "mobile": "138 0013 8000",
                                         "is_key": "on"})
    assert response.status_code == 302
    contact = Contact.objects.get(customer=customer)
    assert contact.mobile == "+8613800138000" and contact.is_key


def test_bad_phone_is_named_on_the_contact_form(as_user, dept):
    customer = customer_of(dept.sales)
    response = as_user(dept.sales).post(reverse("customers:contact_create", args=[customer.pk]),
                                        {"name": "王经理", "mobile": "12345"})
    assert response.status_code == 200
    assert response.context["form"].errors["mobile"]


def test_head_sees_the_visit_on_the_customer_timeline(as_user, dept):
    customer = customer_of(dept.sales)
    services.visit_log(customer=customer, by=dept.sales.user, summary="第一次拜访")
    html = as_user(dept.lead).get(reverse("customers:customer_detail",
                                          args=[customer.pk])).content.decode()
    assert "第一次拜访" in html


def test_duplicate_customer_is_refused_naming_only_the_owner_and_unit(as_user, dept):
    existing = customer_of(dept.other_sales)
    response = as_user(dept.sales).post(reverse("customers:customer_create"), {
        "kind": "company", "name": existing.name.replace("有限公司", " 有限责任公司 "),
        "source": "other", "stage": "prospect"})
    assert response.status_code == 200
    message = str(response.context["form"].errors["name"])
    assert dept.other_sales.name in message and "杭州所" in message
    assert Customer.objects.count() == 1


def test_bad_credit_code_is_named_on_the_form(as_user, dept):
    response = as_user(dept.sales).post(reverse("customers:customer_create"), {
        "kind": "company", "name": "校验码错误有限公司", "credit_code": "91350100M000100Y44",
        "source": "other", "stage": "prospect"})
    assert response.context["form"].errors["credit_code"]


def test_claim_from_the_pool(as_user, dept):
    customer = customer_of(dept.other_sales)
    services.customer_release(customer=customer, by=dept.other_sales.user, reason="不再跟进")
    client = as_user(dept.sales)
    assert customer.name in client.get(reverse("customers:pool")).content.decode()
    response = client.post(reverse("customers:customer_claim", args=[customer.pk]))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.owner == dept.sales


def test_lead_transfers_customers_in_bulk_with_a_reason(as_user, dept):
    a, b = customer_of(dept.sales), customer_of(dept.sales)
    response = as_user(dept.lead).post(reverse("customers:customer_transfer"), {
        "ids": [a.pk, b.pk], "to_owner": dept.sales_mate.pk, "reason": "客户区域调整"})
    assert response.status_code == 302
    assert set(Customer.objects.values_list("owner", flat=True)) == {dept.sales_mate.pk}


def test_salesperson_cannot_open_the_transfer_page(as_user, dept):
    assert as_user(dept.sales).get(reverse("customers:customer_transfer")).status_code == 403


def test_other_teams_customer_is_404(as_user, dept):
    customer = customer_of(dept.other_sales)
    client = as_user(dept.sales)
    for name in ("customer_detail", "customer_edit", "visit_create", "contact_create"):
        assert client.get(reverse(f"customers:{name}", args=[customer.pk])).status_code == 404


def test_customer_list_filters_overdue_and_exports(as_user, dept):
    late, fine = customer_of(dept.sales), customer_of(dept.sales)
    overdue(late)
    client = as_user(dept.lead)
    html = client.get(reverse("customers:customer_list"), {"overdue": "true"}).content.decode()
    assert late.name in html and fine.name not in html
    response = client.get(reverse("customers:customer_list"), {"export": "xlsx"})
    assert response.status_code == 200


# --- query counts ---------------------------------------------------------------------
def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


@pytest.mark.parametrize("url_name", ["customers:customer_list", "customers:pool",
                                      "customers:revisits"])
def test_list_pages_cost_constant_queries(as_user, dept, url_name):
    def grow(n):
        for _ in range(n):
            c = customer_of(dept.sales)
            overdue(c)
            if url_name == "customers:pool":
                services.customer_release(customer=c, by=dept.sales.user, reason="测试")

    client = as_user(dept.lead)
    grow(2)
    small = _count(client, reverse(url_name))
    grow(6)
    assert _count(client, reverse(url_name)) == small


def test_customer_page_costs_constant_queries_however_long_the_timeline(as_user, dept):
    customer = customer_of(dept.sales)
    services.contact_create(customer=customer, by=dept.sales.user, name="甲")
    services.visit_log(customer=customer, by=dept.sales.user, summary="1",
                       kind="joint", coach=dept.lead)
    client = as_user(dept.lead)
    url = reverse("customers:customer_detail", args=[customer.pk])
    small = _count(client, url)
    for i in range(5):
        services.contact_create(customer=customer, by=dept.sales.user, name=f"联系人{i}")
        services.visit_log(customer=customer, by=dept.sales.user, summary=str(i),
                           kind="joint", coach=dept.lead)
    assert _count(client, url) == small
