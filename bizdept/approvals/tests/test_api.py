"""SAL-3 API: inbox, my requests, one request, deciding, cancelling, delegations.

Status codes (403 deciding someone else's step, 404 outside one's involvement, 409 for a
step already decided or not at its turn, 400 naming the field), the one error body, and
a constant number of queries per list however many rows there are."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bizdept.approvals import services
from bizdept.approvals.choices import TaskStatus
from bizdept.approvals.models import ApprovalTask, Delegation

from .factories import CALLS, amount_policy, head_policy, submit

API = "/api/v1/approvals"


def post(client, path, body=None):
    return client.post(path, json.dumps(body) if body is not None else "",
                       content_type="application/json")


def assert_error(response, status, field=None):
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["detail"]
    if field is not None:
        assert field in body["errors"], body
    return body


def waiting(request):
    return ApprovalTask.objects.get(request=request, status=TaskStatus.WAITING)


def test_the_flow_through_the_api(as_user, dept):
    amount_policy()
    request = submit(dept.sales, "500000")
    lead = as_user(dept.lead)
    inbox = lead.get(f"{API}/inbox").json()
    assert inbox["count"] == 1
    item = inbox["items"][0]
    assert item["request"]["id"] == request.pk and item["name"] == "Team lead"
    assert item["request"]["document_type_label"] == "Customer discount"
    assert not item["delegated"] and item["request"]["amount"] in ("500000.00", 500000.0)
    decided = post(lead, f"{API}/tasks/{item['id']}/decide", {"decision": "approve"})
    assert decided.status_code == 200, decided.content
    assert [t["status"] for t in decided.json()["tasks"]] == ["approved", "waiting"]
    # approving twice: 409
    assert_error(post(lead, f"{API}/tasks/{item['id']}/decide", {"decision": "approve"}), 409)
    manager = as_user(dept.manager)
    task = waiting(request)
    assert_error(post(manager, f"{API}/tasks/{task.pk}/decide", {"decision": "reject"}), 400,
                 "comment")
    done = post(manager, f"{API}/tasks/{task.pk}/decide",
                {"decision": "reject", "comment": "利润太低"})
    assert done.json()["status"] == "rejected"
    assert CALLS == [("rejected", request.object_id)]
    mine = as_user(dept.sales).get(f"{API}/requests").json()
    assert [r["id"] for r in mine["items"]] == [request.pk]
    assert as_user(dept.sales).get(f"{API}/requests", {"status": "pending"}).json()["count"] == 0


def test_out_of_turn_and_strangers(as_user, dept):
    amount_policy()
    request = submit(dept.sales, "500000")
    second = ApprovalTask.objects.get(request=request, order=2)
    assert_error(post(as_user(dept.manager), f"{API}/tasks/{second.pk}/decide",
                      {"decision": "approve"}), 409)
    # the director sees the request (scope) but may not decide the lead's step
    assert_error(post(as_user(dept.director), f"{API}/tasks/{waiting(request).pk}/decide",
                      {"decision": "approve"}), 403)
    # someone outside it: 404 for the request and its steps
    other = as_user(dept.other_sales)
    assert_error(other.get(f"{API}/requests/{request.pk}"), 404)
    assert_error(post(other, f"{API}/tasks/{waiting(request).pk}/decide",
                      {"decision": "approve"}), 404)


def test_bad_input_is_refused_with_the_one_body(as_user, dept):
    head_policy()
    request = submit(dept.sales)
    client = as_user(dept.lead)
    task = waiting(request)
    assert_error(post(client, f"{API}/tasks/{task.pk}/decide", {"decision": "maybe"}), 422,
                 "decision")
    assert_error(post(client, f"{API}/tasks/{task.pk}/decide",
                      {"decision": "approve", "extra": 1}), 422, "extra")
    assert_error(post(client, f"{API}/delegations", {"to": dept.lead.pk,
                                                     "starts_on": "2030-01-01",
                                                     "ends_on": "2030-01-02"}), 400, "to")
    assert_error(post(client, f"{API}/delegations", {"to": 10**12, "starts_on": "2030-01-01",
                                                     "ends_on": "2030-01-02"}), 400, "to")


def test_cancel(as_user, dept):
    head_policy()
    request = submit(dept.sales)
    assert_error(post(as_user(dept.lead), f"{API}/requests/{request.pk}/cancel"), 403)
    client = as_user(dept.sales)
    cancelled = post(client, f"{API}/requests/{request.pk}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert_error(post(client, f"{API}/requests/{request.pk}/cancel"), 409)


def test_delegations(as_user, dept):
    head_policy()
    request = submit(dept.sales)
    lead = as_user(dept.lead)
    today = timezone.localdate()
    created = post(lead, f"{API}/delegations", {
        "to": dept.other_lead.pk, "starts_on": today.isoformat(),
        "ends_on": (today + datetime.timedelta(days=3)).isoformat(), "reason": "休假"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["active"] and body["to_employee"]["id"] == dept.other_lead.pk
    assert_error(post(lead, f"{API}/delegations", {
        "to": dept.sales_mate.pk, "starts_on": today.isoformat(),
        "ends_on": today.isoformat()}), 400, "starts_on")
    delegate = as_user(dept.other_lead)
    inbox = delegate.get(f"{API}/inbox").json()["items"]
    assert [i["request"]["id"] for i in inbox] == [request.pk] and inbox[0]["delegated"]
    assert [d["id"] for d in delegate.get(f"{API}/delegations").json()["items"]] == [body["id"]]
    # only the delegator ends it
    assert delegate.delete(f"{API}/delegations/{body['id']}").status_code == 403
    lead = as_user(dept.lead)
    assert lead.delete(f"{API}/delegations/{body['id']}").status_code == 204
    assert Delegation.objects.get().ended_at is not None
    assert as_user(dept.other_lead).get(f"{API}/inbox").json()["count"] == 0
    assert as_user(dept.sales).delete(f"{API}/delegations/{body['id']}").status_code == 404


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(ctx)


def _grow(dept, n):
    for _ in range(n):
        for owner in (dept.sales, dept.sales_mate):
            request = submit(owner, "500000")
            services.approval_decide(task=waiting(request), by=dept.lead.user,
                                     decision="approve")
        submit(dept.sales, "50000")


@pytest.mark.parametrize("who,url", [
    ("manager", f"{API}/inbox"), ("sales", f"{API}/requests"), ("lead", f"{API}/delegations"),
    ("manager", "page:approvals:inbox"), ("sales", "page:approvals:my_requests"),
    ("lead", "page:approvals:delegation_list"), ("sales", "page:approvals:policies"),
])
def test_lists_cost_constant_queries(as_user, dept, who, url):
    from django.urls import reverse

    if url.startswith("page:"):
        url = reverse(url.removeprefix("page:"))
    amount_policy()
    today = timezone.localdate()
    services.delegation_create(by=dept.lead.user, to=dept.other_lead, starts_on=today,
                               ends_on=today)
    client = as_user(getattr(dept, who))
    _grow(dept, 1)
    small = _queries(client, url)
    _grow(dept, 4)
    assert _queries(client, url) == small


def test_request_detail_costs_constant_queries(as_user, dept):
    amount_policy()
    small_request = submit(dept.sales, "50000")
    big_request = submit(dept.sales, "5000000")
    client = as_user(dept.sales)
    assert _queries(client, f"{API}/requests/{small_request.pk}") == \
        _queries(client, f"{API}/requests/{big_request.pk}")
