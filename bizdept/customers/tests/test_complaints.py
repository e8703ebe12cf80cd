"""Complaints (CUS-9): deadlines by severity, the workflow, who may do what, escalation of
overdue complaints to the head above the handler; the API and the pages."""

import datetime
import itertools
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bizdept.core.errors import DomainError
from bizdept.customers import selectors, services
from bizdept.customers.choices import COMPLAINT_DEADLINES, ComplaintStatus, Severity
from bizdept.customers.models import Complaint
from bizdept.org import services as org_services
from bizdept.org.choices import EmployeeStatus, RoleCode
from bizdept.org.tests.factories import make_employee

API = "/api/v1"
_n = itertools.count(1)


def customer_of(owner):
    return services.customer_create(by=owner.user, name=f"投诉测试客户{next(_n)}号有限公司")


def complain(customer, by, *, severity=Severity.MEDIUM, **extra):
    return services.complaint_create(customer=customer, by=by.user, title="交货延迟",
                                     description="设备晚到两周。", severity=severity, **extra)


def overdue(complaint, hours=1):
    Complaint.objects.filter(pk=complaint.pk).update(
        deadline_at=timezone.now() - datetime.timedelta(hours=hours))


def post(client, path, body=None):
    return client.post(API + path, data=json.dumps({} if body is None else body),
                       content_type="application/json")


def patch(client, path, body):
    return client.patch(API + path, data=json.dumps(body), content_type="application/json")


def assert_error(response, status, field=None):
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["detail"]
    if field is not None:
        assert body["errors"].get(field) or body["errors"].get(f"payload.{field}"), body
    return body


# --- services: logging a complaint ----------------------------------------------------
@pytest.mark.parametrize("severity", list(Severity))
def test_deadline_follows_the_severity(dept, severity):
    received = timezone.now() - datetime.timedelta(hours=3)
    complaint = complain(customer_of(dept.sales), dept.sales, severity=severity,
                         received_at=received)
    assert complaint.deadline_at == received + COMPLAINT_DEADLINES[severity]
    assert complaint.status == ComplaintStatus.OPEN


def test_handler_defaults_to_the_customers_owner(dept):
    customer = customer_of(dept.sales)
    assert complain(customer, dept.lead).handler == dept.sales


def test_pool_customers_complaint_is_handled_by_whoever_logs_it(dept, admin_employee):
    customer = customer_of(dept.sales)
    services.customer_release(customer=customer, by=dept.sales.user, reason="不再跟进")
    customer.refresh_from_db()
    assert complain(customer, admin_employee).handler == admin_employee


def test_salesperson_cannot_log_a_complaint_for_another_teams_customer(dept):
    with pytest.raises(PermissionDenied):
        complain(customer_of(dept.other_sales), dept.sales)


def test_handler_must_be_in_the_loggers_scope(dept):
    with pytest.raises(DomainError) as caught:
        complain(customer_of(dept.sales), dept.sales, handler=dept.sales_mate)
    assert "handler" in caught.value.errors
    # the lead may give it to anyone in the team
    assert complain(customer_of(dept.sales), dept.lead, handler=dept.sales_mate).handler \
        == dept.sales_mate


def test_handler_who_has_left_is_refused(dept):
    leaver = make_employee(dept.team)
    Employee = type(leaver)
    Employee.objects.filter(pk=leaver.pk).update(status=EmployeeStatus.LEFT)
    leaver.refresh_from_db()
    with pytest.raises(DomainError) as caught:
        complain(customer_of(dept.sales), dept.lead, handler=leaver)
    assert "handler" in caught.value.errors


def test_complaint_cannot_be_received_in_the_future(dept):
    with pytest.raises(DomainError) as caught:
        complain(customer_of(dept.sales), dept.sales,
                 received_at=timezone.now() + datetime.timedelta(days=1))
    assert "received_at" in caught.value.errors


def test_blank_title_is_named(dept):
    with pytest.raises(DomainError) as caught:
        services.complaint_create(customer=customer_of(dept.sales), by=dept.sales.user,
                                  title="  ", description="x")
    assert "title" in caught.value.errors


# --- services: the workflow -----------------------------------------------------------
def test_complaint_runs_open_in_progress_resolved_closed(dept):
    complaint = complain(customer_of(dept.sales), dept.sales)
    services.complaint_start(complaint=complaint, by=dept.sales.user)
    services.complaint_resolve(complaint=complaint, by=dept.sales.user, resolution="补发配件")
    assert complaint.resolved_at is not None
    services.complaint_close(complaint=complaint, by=dept.lead.user)
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.CLOSED and complaint.resolution == "补发配件"
    assert complaint.history.count() == 4


@pytest.mark.parametrize("action", ["start", "close"])
def test_illegal_moves_are_refused_naming_status(dept, action):
    complaint = complain(customer_of(dept.sales), dept.sales)
    if action == "start":
        services.complaint_start(complaint=complaint, by=dept.sales.user)
    with pytest.raises(DomainError) as caught:
        getattr(services, f"complaint_{action}")(complaint=complaint, by=dept.sales.user)
    assert "status" in caught.value.errors
    assert Complaint.objects.get(pk=complaint.pk).status != ComplaintStatus.CLOSED


def test_closed_complaint_cannot_be_resolved_again(dept):
    complaint = complain(customer_of(dept.sales), dept.sales)
    services.complaint_resolve(complaint=complaint, by=dept.sales.user, resolution="已处理")
    services.complaint_close(complaint=complaint, by=dept.sales.user)
    with pytest.raises(DomainError) as caught:
        services.complaint_resolve(complaint=complaint, by=dept.sales.user, resolution="再次")
    assert "status" in caught.value.errors


def test_resolution_is_required(dept):
    complaint = complain(customer_of(dept.sales), dept.sales)
    with pytest.raises(DomainError) as caught:
        services.complaint_resolve(complaint=complaint, by=dept.sales.user, resolution=" ")
    assert "resolution" in caught.value.errors


def test_colleague_cannot_move_someone_elses_complaint(dept):
    complaint = complain(customer_of(dept.sales), dept.sales)
    with pytest.raises(PermissionDenied):
        services.complaint_start(complaint=complaint, by=dept.sales_mate.user)
    services.complaint_start(complaint=complaint, by=dept.manager.user)  # a head above may


def test_new_severity_moves_the_deadline_from_when_it_came_in(dept):
    received = timezone.now() - datetime.timedelta(hours=5)
    complaint = complain(customer_of(dept.sales), dept.sales, severity=Severity.LOW,
                         received_at=received)
    services.complaint_update(complaint=complaint, by=dept.sales.user,
                              severity=Severity.CRITICAL, title="设备停机")
    complaint.refresh_from_db()
    assert complaint.deadline_at == received + COMPLAINT_DEADLINES[Severity.CRITICAL]
    assert complaint.title == "设备停机"


def test_resolved_complaint_is_not_edited(dept):
    complaint = complain(customer_of(dept.sales), dept.sales)
    services.complaint_resolve(complaint=complaint, by=dept.sales.user, resolution="已处理")
    with pytest.raises(DomainError) as caught:
        services.complaint_update(complaint=complaint, by=dept.sales.user, title="新标题")
    assert "status" in caught.value.errors


def test_lead_reassigns_within_the_team_only(dept):
    complaint = complain(customer_of(dept.sales), dept.sales)
    services.complaint_reassign(complaint=complaint, by=dept.lead.user, handler=dept.sales_mate)
    assert Complaint.objects.get(pk=complaint.pk).handler == dept.sales_mate
    with pytest.raises(DomainError) as caught:
        services.complaint_reassign(complaint=complaint, by=dept.lead.user,
                                    handler=dept.other_sales)
    assert "handler" in caught.value.errors


def test_salesperson_cannot_reassign(dept):
    complaint = complain(customer_of(dept.sales), dept.sales)
    with pytest.raises(PermissionDenied):
        services.complaint_reassign(complaint=complaint, by=dept.sales.user,
                                    handler=dept.sales)


# --- escalation ----------------------------------------------------------------------
def test_overdue_complaint_goes_to_the_head_of_the_handlers_unit(dept):
    late = complain(customer_of(dept.sales), dept.sales)
    on_time = complain(customer_of(dept.sales), dept.sales)
    overdue(late)
    now = timezone.now()
    assert services.complaints_escalate_overdue(now=now) == 1
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert late.escalated_to == dept.lead and late.escalated_at == now
    assert on_time.escalated_to is None
    assert late.history.first().history_change_reason
    # the escalation target sees it, and running again changes nothing
    assert selectors.complaint_list(user=dept.lead.user).filter(pk=late.pk).exists()
    assert services.complaints_escalate_overdue() == 0


def test_heads_own_overdue_complaint_goes_one_level_up(dept):
    complaint = complain(customer_of(dept.sales), dept.lead, handler=dept.lead)
    overdue(complaint)
    services.complaints_escalate_overdue()
    complaint.refresh_from_db()
    assert complaint.escalated_to == dept.manager


def test_complaint_with_nobody_above_is_left_alone(dept):
    top = make_employee(dept.company, role=RoleCode.DIRECTOR, name="董事长")
    org_services.unit_update(unit=dept.company, head=top)
    complaint = complain(customer_of(top), top)
    overdue(complaint)
    assert services.complaints_escalate_overdue() == 0


def test_resolved_complaints_are_not_escalated(dept):
    complaint = complain(customer_of(dept.sales), dept.sales)
    services.complaint_resolve(complaint=complaint, by=dept.sales.user, resolution="已处理")
    overdue(complaint)
    assert services.complaints_escalate_overdue() == 0


def test_escalation_costs_constant_queries(dept):
    def grow(n):
        for owner in (dept.sales, dept.other_sales, dept.lead):
            for _ in range(n):
                overdue(complain(customer_of(owner), owner))

    def cost():
        with CaptureQueriesContext(connection) as ctx:
            count = services.complaints_escalate_overdue()
        return len(ctx), count

    grow(1)
    small, escalated = cost()
    assert escalated == 3
    grow(5)
    grown, escalated = cost()
    assert escalated == 15 and grown == small


def test_escalate_command(dept):
    from io import StringIO

    overdue(complain(customer_of(dept.sales), dept.sales))
    out = StringIO()
    call_command("escalate_overdue_complaints", "--dry-run", stdout=out)
    assert "1" in out.getvalue()
    assert not Complaint.objects.filter(escalated_to__isnull=False).exists()
    call_command("escalate_overdue_complaints", stdout=StringIO())
    assert Complaint.objects.get().escalated_to == dept.lead


def test_complaints_overdue_selector(dept):
    late = complain(customer_of(dept.sales), dept.sales)
    complain(customer_of(dept.sales), dept.sales)
    overdue(late)
    assert list(selectors.complaints_overdue(dept.lead.user)) == [late]
    assert list(selectors.complaints_overdue(dept.other_sales.user)) == []


# --- API ------------------------------------------------------------------------------
def test_api_logs_a_complaint_with_its_deadline(as_user, dept):
    customer = customer_of(dept.sales)
    response = post(as_user(dept.sales), f"/customers/{customer.pk}/complaints",
                    {"title": "噪音大", "description": "设备运行噪音超标", "severity": "high"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["handler"]["id"] == dept.sales.pk and body["status"] == "open"
    received = datetime.datetime.fromisoformat(body["received_at"])
    deadline = datetime.datetime.fromisoformat(body["deadline_at"])
    assert deadline - received == datetime.timedelta(days=2)


def test_api_refuses_unknown_handler_and_bad_values(as_user, dept):
    customer = customer_of(dept.sales)
    client = as_user(dept.sales)
    url = f"/customers/{customer.pk}/complaints"
    assert_error(post(client, url, {"title": "x", "description": "y", "handler": 999999}),
                 400, "handler")
    assert_error(post(client, url, {"title": "x", "description": "y",
                                    "severity": "urgent"}), 422, "severity")
    assert_error(post(client, url, {"title": "x", "description": "y",
                                    "received_at": "1999-01-01T00:00:00+08:00"}),
                 400, "received_at")


def test_api_workflow_and_illegal_move(as_user, dept):
    complaint = complain(customer_of(dept.sales), dept.sales)
    client = as_user(dept.sales)
    assert post(client, f"/complaints/{complaint.pk}/start").json()["status"] == "in_progress"
    assert_error(post(client, f"/complaints/{complaint.pk}/start"), 400, "status")
    assert_error(post(client, f"/complaints/{complaint.pk}/resolve", {"resolution": ""}),
                 422, "resolution")
    body = post(client, f"/complaints/{complaint.pk}/resolve", {"resolution": "已更换"}).json()
    assert body["status"] == "resolved" and body["resolution"] == "已更换"
    assert post(client, f"/complaints/{complaint.pk}/close").json()["status"] == "closed"
    assert_error(patch(client, f"/complaints/{complaint.pk}", {"title": "新"}), 400, "status")


def test_api_reassign_is_for_heads(as_user, dept):
    complaint = complain(customer_of(dept.sales), dept.sales)
    assert_error(post(as_user(dept.sales), f"/complaints/{complaint.pk}/reassign",
                      {"handler": dept.sales.pk}), 403)
    body = post(as_user(dept.lead), f"/complaints/{complaint.pk}/reassign",
                {"handler": dept.sales_mate.pk}).json()
    assert body["handler"]["id"] == dept.sales_mate.pk


def test_api_other_teams_complaint_is_404(as_user, dept):
    complaint = complain(customer_of(dept.other_sales), dept.other_sales)
    client = as_user(dept.sales)
    assert_error(client.get(f"{API}/complaints/{complaint.pk}"), 404)
    assert_error(post(client, f"/complaints/{complaint.pk}/start"), 404)


def test_api_lists_filter_overdue_and_escalated_to_me(as_user, dept):
    late = complain(customer_of(dept.sales), dept.sales)
    complain(customer_of(dept.sales), dept.sales)
    overdue(late)
    services.complaints_escalate_overdue()
    client = as_user(dept.lead)
    ids = [i["id"] for i in client.get(f"{API}/complaints", {"overdue": "true"}).json()["items"]]
    assert ids == [late.pk]
    mine = client.get(f"{API}/complaints", {"escalated_to_me": "true"}).json()
    assert [i["id"] for i in mine["items"]] == [late.pk] and mine["items"][0]["overdue"]
    assert_error(client.get(f"{API}/complaints", {"unit": 999999}), 400, "unit")
    listed = client.get(f"{API}/customers/{late.customer_id}/complaints").json()
    assert [i["id"] for i in listed["items"]] == [late.pk]


def _queries(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content[:500]
    return len(ctx)


def _grow(dept, n):
    for owner in (dept.sales, dept.sales_mate, dept.other_sales):
        for _ in range(n):
            complaint = complain(customer_of(owner), owner)
            overdue(complaint)
    services.complaints_escalate_overdue()


@pytest.mark.parametrize("url", [f"{API}/complaints", "page:customers:complaint_list"])
def test_complaint_lists_cost_constant_queries(as_user, dept, url):
    if url.startswith("page:"):
        url = reverse(url.removeprefix("page:"))
    client = as_user(dept.manager)
    _grow(dept, 1)
    small = _queries(client, url)
    _grow(dept, 4)
    assert _queries(client, url) == small
    assert _queries(client, url, {"escalated_to_me": "true"}) == \
        _queries(client, url, {"escalated_to_me": "true"})


def test_customer_complaints_endpoint_costs_constant_queries(as_user, dept):
    customer = customer_of(dept.sales)
    client = as_user(dept.lead)
    complain(customer, dept.sales)
    url = f"{API}/customers/{customer.pk}/complaints"
    small = _queries(client, url)
    for _ in range(4):
        complain(customer, dept.sales)
    assert _queries(client, url) == small


# --- pages ----------------------------------------------------------------------------
def test_log_a_complaint_from_the_customer_page(as_user, dept):
    customer = customer_of(dept.sales)
    client = as_user(dept.sales)
    html = client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    assert reverse("customers:complaint_create", args=[customer.pk]) in html
    response = client.post(reverse("customers:complaint_create", args=[customer.pk]), {
        "title": "包装破损", "description": "外箱破损", "severity": "low",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302, response.content[:2000]
    complaint = Complaint.objects.get(customer=customer)
    assert response["Location"] == reverse("customers:complaint_detail", args=[complaint.pk])
    html = client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    assert reverse("customers:complaint_detail", args=[complaint.pk]) in html


def test_complaint_page_actions(as_user, dept):
    complaint = complain(customer_of(dept.sales), dept.sales)
    client = as_user(dept.sales)
    url = reverse("customers:complaint_detail", args=[complaint.pk])
    html = client.get(url).content.decode()
    assert reverse("customers:complaint_start", args=[complaint.pk]) in html
    assert reverse("customers:complaint_reassign", args=[complaint.pk]) not in html
    assert client.post(reverse("customers:complaint_start", args=[complaint.pk])).status_code \
        == 302
    response = client.post(reverse("customers:complaint_resolve", args=[complaint.pk]),
                           {"resolution": ""})
    assert response.status_code == 200 and response.context["form"].errors["resolution"]
    client.post(reverse("customers:complaint_resolve", args=[complaint.pk]),
                {"resolution": "上门处理"})
    client.post(reverse("customers:complaint_close", args=[complaint.pk]))
    assert Complaint.objects.get(pk=complaint.pk).status == ComplaintStatus.CLOSED
    # an illegal move lands as a message, not an error page
    response = client.post(reverse("customers:complaint_close", args=[complaint.pk]),
                           follow=True)
    assert response.status_code == 200
    assert client.get(url, {"tab": "history"}).status_code == 200


def test_head_reassigns_on_the_page(as_user, dept):
    complaint = complain(customer_of(dept.sales), dept.sales)
    client = as_user(dept.lead)
    html = client.get(reverse("customers:complaint_detail", args=[complaint.pk])).content.decode()
    assert reverse("customers:complaint_reassign", args=[complaint.pk]) in html
    response = client.post(reverse("customers:complaint_reassign", args=[complaint.pk]),
                           {"handler": dept.sales_mate.pk})
    assert response.status_code == 302
    assert Complaint.objects.get(pk=complaint.pk).handler == dept.sales_mate
    assert as_user(dept.sales).get(
        reverse("customers:complaint_reassign", args=[complaint.pk])).status_code == 403


def test_complaint_list_views_and_fragment(as_user, dept):
    late = complain(customer_of(dept.sales), dept.sales)
    fine = complain(customer_of(dept.sales), dept.sales)
    Complaint.objects.filter(pk=fine.pk).update(title="按时处理")
    overdue(late)
    services.complaints_escalate_overdue()
    client = as_user(dept.lead)
    url = reverse("customers:complaint_list")
    html = client.get(url).content.decode()
    assert "Escalated to me" in html or "升级给我" in html or "escalated_to_me=true" in html
    html = client.get(url, {"escalated_to_me": "true"}).content.decode()
    assert reverse("customers:complaint_detail", args=[late.pk]) in html
    assert reverse("customers:complaint_detail", args=[fine.pk]) not in html
    fragment = client.get(url, {"overdue": "true"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    assert client.get(url, {"export": "xlsx"}).status_code == 200
    empty = client.get(url, {"q": "不存在的投诉"}).content.decode()
    assert "empty-state" in empty
    # sales does not get the escalated view
    html = as_user(dept.sales).get(url).content.decode()
    assert "escalated_to_me=true" not in html


def test_other_teams_complaint_page_is_404(as_user, dept):
    complaint = complain(customer_of(dept.other_sales), dept.other_sales)
    client = as_user(dept.sales)
    for name in ("complaint_detail", "complaint_edit", "complaint_resolve"):
        assert client.get(reverse(f"customers:{name}", args=[complaint.pk])).status_code == 404
