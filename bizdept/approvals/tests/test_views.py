"""SAL-3 pages: the inbox with its badge, my requests, a request with the decision form,
delegations, policies, and the History panel other apps embed."""

import datetime

from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from bizdept.approvals import selectors
from bizdept.approvals.choices import RequestStatus, TaskStatus
from bizdept.approvals.models import ApprovalRequest, ApprovalTask, Delegation

from .factories import CALLS, amount_policy, head_policy, submit


def waiting(request):
    return ApprovalTask.objects.get(request=request, status=TaskStatus.WAITING)


def test_the_inbox_lists_what_waits_and_the_nav_shows_the_count(as_user, dept):
    head_policy()
    request = submit(dept.sales)
    page = as_user(dept.lead).get(reverse("approvals:inbox"))
    html = page.content.decode()
    assert page.status_code == 200
    assert reverse("approvals:request_detail", args=[request.pk]) in html
    assert 'id="nav-badge-approvals-inbox">1<' in html
    empty = as_user(dept.sales).get(reverse("approvals:inbox")).content.decode()
    assert "nav-badge-approvals-inbox" not in empty
    assert reverse("approvals:request_detail", args=[request.pk]) not in empty


def test_the_inbox_table_answers_htmx(as_user, dept):
    head_policy()
    submit(dept.sales)
    fragment = as_user(dept.lead).get(reverse("approvals:inbox") + "?sort=-due_at",
                                      HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()


def test_deciding_from_the_request_page(as_user, dept):
    amount_policy()
    request = submit(dept.sales, "500000")
    url = reverse("approvals:request_detail", args=[request.pk])
    client = as_user(dept.lead)
    html = client.get(url).content.decode()
    assert 'id="decision-form"' in html and "Division manager" in html
    task = waiting(request)
    refused = client.post(reverse("approvals:decide", args=[task.pk]), {"decision": "return"})
    assert refused.status_code == 200 and "comment" in refused.content.decode().lower()
    done = client.post(reverse("approvals:decide", args=[task.pk]), {"decision": "approve"})
    assert done.status_code == 302 and done["Location"] == url
    # the manager now sees the form, the lead no longer does
    assert 'id="decision-form"' not in client.get(url).content.decode()
    manager = as_user(dept.manager)
    assert 'id="decision-form"' in manager.get(url).content.decode()
    manager.post(reverse("approvals:decide", args=[waiting(request).pk]),
                 {"decision": "approve", "comment": "同意"})
    assert ApprovalRequest.objects.get().status == RequestStatus.APPROVED
    assert CALLS == [("approved", request.object_id)]


def test_strangers_get_404_and_heads_read_without_a_form(as_user, dept):
    head_policy()
    request = submit(dept.sales)
    url = reverse("approvals:request_detail", args=[request.pk])
    assert as_user(dept.other_sales).get(url).status_code == 404
    assert as_user(dept.other_sales).get(
        reverse("approvals:decide", args=[waiting(request).pk])).status_code == 404
    page = as_user(dept.director).get(url)
    assert page.status_code == 200 and 'id="decision-form"' not in page.content.decode()
    assert as_user(dept.director).post(reverse("approvals:decide", args=[waiting(request).pk]),
                                       {"decision": "approve"}).status_code == 403


def test_the_history_tab_and_my_requests(as_user, dept):
    head_policy()
    request = submit(dept.sales)
    lead = as_user(dept.lead)
    lead.post(reverse("approvals:decide", args=[waiting(request).pk]),
              {"decision": "return", "comment": "请补充"})
    again = submit(dept.sales)  # another document
    client = as_user(dept.sales)
    history = client.get(reverse("approvals:request_detail", args=[request.pk]) + "?tab=history")
    assert history.status_code == 200 and "请补充" in history.content.decode()
    mine = client.get(reverse("approvals:my_requests")).content.decode()
    for r in (request, again):
        assert reverse("approvals:request_detail", args=[r.pk]) in mine
    filtered = client.get(reverse("approvals:my_requests"), {"status": "returned"}).content
    assert reverse("approvals:request_detail", args=[again.pk]).encode() not in filtered
    assert client.get(reverse("approvals:my_requests") + "?export=xlsx").status_code == 200


def test_cancelling_from_the_page(as_user, dept):
    head_policy()
    request = submit(dept.sales)
    url = reverse("approvals:request_cancel", args=[request.pk])
    assert as_user(dept.lead).get(url).status_code == 403
    client = as_user(dept.sales)
    assert client.post(url, {"comment": "不需要了"}).status_code == 302
    assert ApprovalRequest.objects.get().status == RequestStatus.CANCELLED


def test_delegation_pages(as_user, dept):
    client = as_user(dept.lead)
    today = timezone.localdate()
    created = client.post(reverse("approvals:delegation_create"), {
        "to": dept.other_lead.pk, "starts_on": today.isoformat(),
        "ends_on": (today + datetime.timedelta(days=2)).isoformat(), "reason": "出差"})
    assert created.status_code == 302, created.content.decode()[:2000]
    delegation = Delegation.objects.get()
    listed = client.get(reverse("approvals:delegation_list")).content.decode()
    assert reverse("approvals:delegation_end", args=[delegation.pk]) in listed
    overlapping = client.post(reverse("approvals:delegation_create"), {
        "to": dept.sales.pk, "starts_on": today.isoformat(), "ends_on": today.isoformat()})
    assert overlapping.status_code == 200 and Delegation.objects.count() == 1
    assert as_user(dept.other_sales).post(
        reverse("approvals:delegation_end", args=[delegation.pk])).status_code == 404
    assert as_user(dept.lead).post(
        reverse("approvals:delegation_end", args=[delegation.pk])).status_code == 302
    assert Delegation.objects.get().ended_at is not None


def test_policies_are_readable_by_everyone(as_user, dept):
    amount_policy()
    html = as_user(dept.sales).get(reverse("approvals:policies")).content.decode()
    assert "Division manager" in html and "100000" in html


def test_the_history_panel_other_apps_embed(dept):
    head_policy()
    request = submit(dept.sales)
    html = Template("{% load approvals %}{% approval_history doc %}").render(
        Context({"doc": request.document}))
    assert reverse("approvals:request_detail", args=[request.pk]) in html
    assert selectors.document_history(request.document).is_pending


def test_the_badge_costs_one_query(dept):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    head_policy()
    submit(dept.sales)
    submit(dept.sales_mate)
    with CaptureQueriesContext(connection) as ctx:
        assert selectors.inbox_count(dept.lead.user) == 2
    assert len(ctx) == 1
