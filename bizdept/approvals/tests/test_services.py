"""The approval flow (SAL-3): submit, decide in turn, return and resubmit, reject, cancel,
delegation, reminders and escalation, and the races that must end with one decision."""

import datetime
import threading
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bizdept.approvals import selectors, services
from bizdept.approvals.choices import RequestStatus, SkipReason, TaskStatus
from bizdept.approvals.models import ApprovalRequest, ApprovalTask
from bizdept.core.errors import Conflict, DomainError
from bizdept.org import services as org_services

from .factories import CALLS, TEST_TYPE, amount_policy, document, head_policy, submit


def tasks(request):
    return list(ApprovalTask.objects.filter(request=request).order_by("order"))


def waiting(request):
    return ApprovalTask.objects.get(request=request, status=TaskStatus.WAITING)


def decide(task, who, decision="approve", comment=""):
    return services.approval_decide(task=task, by=who.user, decision=decision, comment=comment)


# --- submit -------------------------------------------------------------------------------
def test_submitting_resolves_the_whole_route_now(dept):
    amount_policy()
    request = submit(dept.sales, "500000", comment="老客户")
    assert request.status == RequestStatus.PENDING and request.round == 1
    assert request.amount == Decimal("500000.00") and request.requested_by == dept.sales
    assert [(t.name, t.approver, t.status) for t in tasks(request)] == [
        ("Team lead", dept.lead, TaskStatus.WAITING),
        ("Division manager", dept.manager, TaskStatus.QUEUED),
    ]
    first = tasks(request)[0]
    assert first.due_at > first.started_at and first.escalate_at > first.due_at


def test_no_active_policy_is_a_clear_refusal(dept):
    with pytest.raises(DomainError) as refused:
        submit(dept.sales, "1000")
    assert refused.value.code == "no_policy"
    assert "Customer discount" in refused.value.message
    assert not ApprovalRequest.objects.exists()


def test_a_pending_document_cannot_be_submitted_again(dept):
    head_policy()
    doc = document(dept.sales)
    services.approval_submit(document=doc, by=dept.sales.user)
    with pytest.raises(Conflict):
        services.approval_submit(document=doc, by=dept.sales.user)
    assert ApprovalRequest.objects.count() == 1


def test_someone_else_cannot_submit_for_the_requester_unless_their_head(dept):
    head_policy()
    doc = document(dept.sales)
    with pytest.raises(PermissionDenied):
        services.approval_submit(document=doc, by=dept.other_sales.user)
    request = services.approval_submit(document=doc, by=dept.lead.user)
    assert request.requested_by == dept.sales


def test_a_route_of_skipped_steps_only_is_approved_at_once(dept):
    amount_policy()
    request = submit(dept.director, "5000000")
    assert request.status == RequestStatus.APPROVED
    assert {t.status for t in tasks(request)} == {TaskStatus.SKIPPED}
    assert CALLS == [("approved", request.object_id)]


def test_a_lead_requesting_has_their_step_recorded_as_skipped(dept):
    amount_policy()
    request = submit(dept.lead, "500000")
    assert [(t.approver, t.status, t.skip_reason) for t in tasks(request)] == [
        (dept.lead, TaskStatus.SKIPPED, SkipReason.REQUESTER),
        (dept.manager, TaskStatus.WAITING, ""),
    ]


# --- decide -------------------------------------------------------------------------------
def test_the_whole_flow_approves_and_calls_back_once(dept):
    amount_policy()
    request = submit(dept.sales, "5000000")
    decide(waiting(request), dept.lead)
    assert CALLS == []
    decide(waiting(request), dept.manager)
    decide(waiting(request), dept.director, comment="同意")
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED and request.decided_at
    assert [t.status for t in tasks(request)] == [TaskStatus.APPROVED] * 3
    assert tasks(request)[2].comment == "同意" and tasks(request)[2].decided_by == dept.director
    assert CALLS == [("approved", request.object_id)]
    assert selectors.approval_status(request.document) == RequestStatus.APPROVED
    assert services.require_approved(request.document) == request


def test_a_document_is_not_approved_before_its_last_step(dept):
    """The anchors' pain point: nothing goes out before it is approved."""
    amount_policy()
    request = submit(dept.sales, "500000")
    with pytest.raises(DomainError) as refused:
        services.require_approved(request.document)
    assert refused.value.code == "not_approved"
    decide(waiting(request), dept.lead)
    with pytest.raises(DomainError):
        services.require_approved(request.document)


def test_approving_twice_is_a_conflict(dept):
    head_policy()
    request = submit(dept.sales)
    task = waiting(request)
    decide(task, dept.lead)
    with pytest.raises(Conflict) as refused:
        decide(task, dept.lead)
    assert refused.value.status == 409
    assert CALLS == [("approved", request.object_id)]


def test_approving_out_of_turn_is_refused(dept):
    amount_policy()
    request = submit(dept.sales, "500000")
    managers = tasks(request)[1]
    with pytest.raises(Conflict) as refused:
        decide(managers, dept.manager)
    assert refused.value.code == "out_of_turn"
    assert ApprovalTask.objects.get(pk=managers.pk).status == TaskStatus.QUEUED


@pytest.mark.parametrize("stranger", ["other_lead", "sales_mate", "director", "admin"])
def test_nobody_but_the_approver_decides(dept, stranger):
    head_policy()
    request = submit(dept.sales)
    with pytest.raises(PermissionDenied):
        decide(waiting(request), getattr(dept, stranger))
    assert waiting(request).approver == dept.lead


def test_reject_needs_a_comment_and_ends_the_request(dept):
    amount_policy()
    request = submit(dept.sales, "500000")
    with pytest.raises(DomainError) as refused:
        decide(waiting(request), dept.lead, "reject")
    assert refused.value.errors == {"comment": [refused.value.message]}
    decide(waiting(request), dept.lead, "reject", "价格太低")
    request.refresh_from_db()
    assert request.status == RequestStatus.REJECTED
    assert [t.status for t in tasks(request)] == [TaskStatus.REJECTED, TaskStatus.CANCELLED]
    assert CALLS == [("rejected", request.object_id)]


def test_return_and_resubmit_keeps_every_round(dept):
    head_policy()
    doc = document(dept.sales)
    first = services.approval_submit(document=doc, by=dept.sales.user)
    decide(waiting(first), dept.lead, "return", "补充附件")
    assert CALLS == [("returned", doc.pk)]
    second = services.approval_submit(document=doc, by=dept.sales.user, comment="已补充")
    assert second.round == 2
    decide(waiting(second), dept.lead)
    history = selectors.document_history(doc)
    assert [r.round for r in history.requests] == [2, 1]
    assert [r.status for r in history.requests] == [RequestStatus.APPROVED,
                                                    RequestStatus.RETURNED]
    assert history.requests[1].tasks.all()[0].comment == "补充附件"
    assert history.is_approved


def test_the_requester_cancels_while_pending(dept):
    head_policy()
    request = submit(dept.sales)
    with pytest.raises(PermissionDenied):
        services.approval_cancel(request=request, by=dept.lead.user)
    services.approval_cancel(request=request, by=dept.sales.user)
    request.refresh_from_db()
    assert request.status == RequestStatus.CANCELLED
    assert [t.status for t in tasks(request)] == [TaskStatus.CANCELLED]
    with pytest.raises(Conflict):
        services.approval_cancel(request=request, by=dept.sales.user)
    with pytest.raises(Conflict):
        decide(tasks(request)[0], dept.lead)
    assert CALLS == [("cancelled", request.object_id)]


# --- delegation ---------------------------------------------------------------------------
def delegate(frm, to, days=5, **kwargs):
    today = timezone.localdate()
    return services.delegation_create(by=frm.user, to=to, starts_on=today,
                                      ends_on=today + datetime.timedelta(days=days), **kwargs)


def test_a_delegate_sees_and_decides_the_waiting_tasks_until_it_ends(dept):
    head_policy()
    request = submit(dept.sales)
    delegation = delegate(dept.lead, dept.other_lead, reason="出差")
    assert list(selectors.inbox(dept.other_lead.user)) == [waiting(request)]
    assert selectors.request_get(dept.other_lead.user, request.pk) == request
    task = decide(waiting(request), dept.other_lead)
    assert (task.decided_by, task.acting_for) == (dept.other_lead, dept.lead)
    # after it ends, the delegate has nothing waiting any more
    second = submit(dept.sales_mate)
    services.delegation_end(delegation=delegation, by=dept.lead.user)
    assert list(selectors.inbox(dept.other_lead.user)) == []
    with pytest.raises(PermissionDenied):
        decide(waiting(second), dept.other_lead)


def test_a_delegation_for_some_document_types_only(dept):
    head_policy()
    services.approval_policy_create(document_type="sales.contract", name="合同审批",
                                    steps=[{"name": "Head", "approver_kind": "direct_head"}])
    request = submit(dept.sales)
    delegate(dept.lead, dept.other_lead, document_types=["sales.contract"])
    assert list(selectors.inbox(dept.other_lead.user)) == []
    with pytest.raises(PermissionDenied):
        decide(waiting(request), dept.other_lead)
    # a delegation naming this type (among others) covers it
    delegate(dept.manager, dept.other_lead, document_types=["sales.contract", TEST_TYPE])
    manager_request = submit(dept.lead)
    assert list(selectors.inbox(dept.other_lead.user)) == [waiting(manager_request)]
    assert decide(waiting(manager_request), dept.other_lead).acting_for == dept.manager


def test_delegation_rules(dept):
    with pytest.raises(DomainError) as refused:
        delegate(dept.lead, dept.lead)
    assert refused.value.errors.keys() == {"to"}
    org_services.employee_set_status(employee=dept.sales_mate, status="left")
    dept.sales_mate.refresh_from_db()
    with pytest.raises(DomainError):
        delegate(dept.lead, dept.sales_mate)
    delegate(dept.lead, dept.other_lead)
    with pytest.raises(DomainError) as overlapping:
        delegate(dept.lead, dept.sales, days=2)
    assert overlapping.value.code == "overlap"
    with pytest.raises(DomainError) as unknown:
        delegate(dept.manager, dept.lead, document_types=["no.such_type"])
    assert unknown.value.errors.keys() == {"document_types"}


def test_a_delegate_cannot_approve_their_own_request(dept):
    head_policy()
    request = submit(dept.sales)
    delegate(dept.lead, dept.sales)
    with pytest.raises(PermissionDenied):
        decide(waiting(request), dept.sales)


# --- reminders and escalation -------------------------------------------------------------
def test_reminder_then_escalation_with_a_fixed_now(dept, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    head_policy(deadline_days=1, escalate_after_days=1)
    type(dept.lead).objects.filter(pk=dept.lead.pk).update(email="lead@example.com")
    type(dept.manager).objects.filter(pk=dept.manager.pk).update(email="mgr@example.com")
    request = submit(dept.sales)
    task = waiting(request)
    assert services.approvals_remind_and_escalate(now=task.due_at - datetime.timedelta(
        minutes=1)) == (0, 0)
    assert not mail.outbox
    # past the deadline: one reminder, once
    with django_capture_on_commit():
        assert services.approvals_remind_and_escalate(
            now=task.due_at + datetime.timedelta(minutes=1)) == (1, 0)
    assert services.approvals_remind_and_escalate(
        now=task.due_at + datetime.timedelta(minutes=2)) == (0, 0)
    task.refresh_from_db()
    assert task.reminded_at is not None and task.approver == dept.lead
    assert [m.to for m in mail.outbox] == [["lead@example.com"]]
    # past the escalation time: the head above takes it over
    later = task.escalate_at + datetime.timedelta(minutes=1)
    with django_capture_on_commit():
        assert services.approvals_remind_and_escalate(now=later) == (0, 1)
    task.refresh_from_db()
    assert (task.approver, task.escalated_from, task.escalated_at) == (dept.manager, dept.lead,
                                                                       later)
    assert task.due_at > later and task.reminded_at is None
    assert mail.outbox[-1].to == ["mgr@example.com"]
    # the original approver still reads it, the new one decides it
    assert selectors.request_get(dept.lead.user, request.pk) == request
    with pytest.raises(PermissionDenied):
        decide(task, dept.lead)
    decide(task, dept.manager)
    assert CALLS == [("approved", request.object_id)]


class django_capture_on_commit:  # noqa: N801 - reads like the pytest-django fixture
    """Run the on_commit callbacks of the block (the test runs in one transaction)."""

    def __enter__(self):
        from django.test import TestCase

        self._ctx = TestCase.captureOnCommitCallbacks(execute=True)
        return self._ctx.__enter__()

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def test_the_working_calendar_sets_the_deadline(db):
    from bizdept.core.models import CalendarDay

    friday = timezone.make_aware(datetime.datetime(2026, 3, 6, 10, 0))
    assert timezone.localtime(services.add_working_days(friday, 1)).date() == \
        datetime.date(2026, 3, 9)
    CalendarDay.objects.create(day=datetime.date(2026, 3, 9), is_working=False, name="假日")
    assert timezone.localtime(services.add_working_days(friday, 1)).date() == \
        datetime.date(2026, 3, 10)


def test_the_sweep_costs_the_same_queries_for_few_or_many(dept):
    head_policy(deadline_days=1, escalate_after_days=1)

    def cost(n):
        for _ in range(n):
            submit(dept.sales)
        far = timezone.now() + datetime.timedelta(days=30)
        with CaptureQueriesContext(connection) as ctx:
            reminded, escalated = services.approvals_remind_and_escalate(now=far)
        assert escalated == n
        return len(ctx)

    assert cost(2) == cost(8)


def test_the_remind_command(dept):
    head_policy(deadline_days=1)
    request = submit(dept.sales)
    out = StringIO()
    call_command("remind_approvals", "--dry-run", stdout=out)
    assert "0" in out.getvalue()
    ApprovalTask.objects.filter(request=request).update(
        due_at=timezone.now() - datetime.timedelta(hours=1))
    out = StringIO()
    call_command("remind_approvals", stdout=out)
    assert "1" in out.getvalue()
    assert ApprovalTask.objects.get(request=request).reminded_at is not None


# --- races (PostgreSQL) ---------------------------------------------------------------------
def test_a_stale_second_click_is_a_conflict(dept):
    head_policy()
    request = submit(dept.sales)
    seen_once, seen_twice = waiting(request), waiting(request)
    decide(seen_once, dept.lead, "approve")
    with pytest.raises(Conflict):
        decide(seen_twice, dept.lead, "reject", "不同意")
    assert CALLS == [("approved", request.object_id)]


@pytest.mark.skipif(connection.vendor == "sqlite",
                    reason="threads need a real server; SQLite's write lock serializes anyway")
@pytest.mark.django_db(transaction=True)
def test_two_approvers_racing_on_one_step_end_with_one_decision(dept):
    head_policy()
    request = submit(dept.sales)
    task = waiting(request)
    delegate(dept.lead, dept.other_lead)
    deciders = [(dept.lead, "approve", ""), (dept.other_lead, "reject", "不同意"),
                (dept.lead, "approve", ""), (dept.other_lead, "return", "补充")]
    barrier = threading.Barrier(len(deciders))
    outcomes = []

    def run(who, decision, comment):
        try:
            barrier.wait()
            decide(task, who, decision, comment)
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=d) for d in deciders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 3 + ["won"]
    decided = ApprovalTask.objects.get(pk=task.pk)
    assert decided.status != TaskStatus.WAITING and decided.decided_by is not None
    assert len(CALLS) == 1
