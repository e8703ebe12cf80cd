"""Every write of the approval engine (SAL-3). One transaction each.

``by`` is always the acting login (``request.user``). The request row is the lock: a
decision, a cancellation and the reminder sweep all take it first (``select_for_update``),
so two approvers, two clicks or a click racing the sweep end with exactly one outcome; the
loser is told with a ``Conflict`` (409).

Owning apps call ``approval_submit`` from their own services (after their own permission
checks) and guard what must not happen before approval with ``require_approved``: a
contract is not signed, a quote not sent, while its latest request is not approved.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Iterable
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from bizdept.core import calendar
from bizdept.core.errors import Conflict, DomainError
from bizdept.core.services import audited_save
from bizdept.org.choices import Capability, EmployeeStatus
from bizdept.org.models import Employee, Unit
from bizdept.org.scope import Domain, capabilities_of, employee_of, scope_for

from . import registry
from .choices import (
    DECISION_REQUEST_STATUS,
    DECISION_TASK_STATUS,
    TASK_OPEN,
    Decision,
    RequestStatus,
    TaskStatus,
)
from .models import (
    ApprovalPolicy,
    ApprovalRequest,
    ApprovalTask,
    Delegation,
    PolicyStep,
    active_delegation_q,
)
from .resolution import org_view_for, resolve_route

log = logging.getLogger(__name__)

COMMENT_MAX = 2000
REASON_MAX = 200
DELEGATION_MAX_DAYS = 366
_TYPE_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")


# --- who ------------------------------------------------------------------------------
def _actor(by) -> Employee:
    me = employee_of(by)
    if me is None or me.status == EmployeeStatus.LEFT or not getattr(by, "is_active", False):
        raise PermissionDenied
    return me


def _is_admin(by) -> bool:
    return Capability.ADMINISTER in capabilities_of(by)


def _comment(comment: str, *, required_message=None) -> str:
    comment = (comment or "").strip()
    if required_message is not None and not comment:
        raise DomainError(required_message, field="comment", code="required")
    if len(comment) > COMMENT_MAX:
        raise DomainError(_("The comment is too long (%d characters at most).") % COMMENT_MAX,
                          field="comment", code="too_long")
    return comment


def delegations_from_to(approver_id: int, delegate_id: int, document_type: str,
                        today: datetime.date | None = None) -> bool:
    """Does ``delegate_id`` stand in for ``approver_id`` today, for this document type?"""
    rows = Delegation.objects.filter(active_delegation_q(today=today),
                                     from_employee_id=approver_id, to_employee_id=delegate_id)
    return any(not d.type_list or document_type in d.type_list for d in rows)


def acting_as(by, task: ApprovalTask, request: ApprovalRequest) -> Employee | None:
    """Who ``by`` decides this task for: None for themselves (they are its approver), the
    approver when ``by`` is their active delegate. Anybody else is refused (403)."""
    me = _actor(by)
    if task.approver_id == me.pk:
        return None
    if delegations_from_to(task.approver_id, me.pk, request.document_type):
        return task.approver
    raise PermissionDenied


def can_decide(by, task: ApprovalTask) -> bool:
    """For pages: may ``by`` decide this task now (waiting, theirs or delegated to them)?"""
    if task.status != TaskStatus.WAITING:
        return False
    try:
        acting_as(by, task, task.request)
    except PermissionDenied:
        return False
    return task.request.requested_by_id != employee_of(by).pk


def can_cancel(by, request: ApprovalRequest) -> bool:
    me = employee_of(by)
    return request.is_pending and me is not None and (request.requested_by_id == me.pk
                                                       or _is_admin(by))


# --- deadlines: working days (bizdept.core.calendar) ----------------------------------
def working_calendar(since: datetime.date, days_needed: int) -> list[datetime.date]:
    """Working days after ``since``, at least ``days_needed`` of them; one query (two in
    a year that is mostly holidays)."""
    span = days_needed * 2 + 30
    while True:
        days = calendar.working_days(since + datetime.timedelta(days=1),
                                     since + datetime.timedelta(days=span))
        if len(days) >= days_needed or span > 3660:
            return days
        span *= 2


def add_working_days(start: datetime.datetime, n: int,
                     working: list[datetime.date] | None = None) -> datetime.datetime:
    """The same local time on the n-th working day after ``start``'s day."""
    local = timezone.localtime(start)
    if n <= 0:
        return start
    days = working if working is not None else working_calendar(local.date(), n)
    days = [d for d in days if d > local.date()]
    if len(days) < n:  # pragma: no cover - a calendar of nothing but holidays
        day = local.date() + datetime.timedelta(days=n)
    else:
        day = days[n - 1]
    return local.replace(year=day.year, month=day.month, day=day.day)


def _schedule(task: ApprovalTask, now: datetime.datetime,
              working: list[datetime.date] | None = None) -> None:
    """Set the deadline and the escalation time of a task whose turn starts now."""
    needed = task.deadline_days + task.escalate_after_days
    working = working if working is not None else working_calendar(
        timezone.localtime(now).date(), needed)
    task.due_at = add_working_days(now, task.deadline_days, working)
    task.escalate_at = (add_working_days(now, needed, working)
                        if task.escalate_after_days else None)


def _activate(task: ApprovalTask, now: datetime.datetime) -> None:
    task.status = TaskStatus.WAITING
    task.started_at = now
    _schedule(task, now)
    task.save(update_fields=["status", "started_at", "due_at", "escalate_at"])


# --- the document's type and callbacks ------------------------------------------------
def _document_type(request_or_key) -> registry.DocumentType:
    key = getattr(request_or_key, "document_type", request_or_key)
    entry = registry.get(key)
    if entry is None:
        raise DomainError(_("Documents of type %s can no longer be approved here (the app "
                            "that owns them is not installed).") % key, code="unknown_type")
    return entry


def _callback(request: ApprovalRequest, name: str) -> None:
    entry = _document_type(request)
    getattr(entry, name)(request.document)


def _finish(request: ApprovalRequest, status: str, now: datetime.datetime, callback: str):
    request.status = status
    request.decided_at = now
    request.save(update_fields=["status", "decided_at"])
    _callback(request, callback)


def _advance(request: ApprovalRequest, now: datetime.datetime) -> None:
    """Give the next step its turn, or approve the request when none is left."""
    following = (ApprovalTask.objects.filter(request=request, status=TaskStatus.QUEUED)
                 .order_by("order").first())
    if following is not None:
        _activate(following, now)
        return
    _finish(request, RequestStatus.APPROVED, now, "on_approved")


# --- submit ---------------------------------------------------------------------------
@transaction.atomic
def approval_submit(*, document, by, comment: str = "",
                    document_type: str | None = None) -> ApprovalRequest:
    """Ask for approval of ``document`` under its type's active policy.

    The route is fixed now: every applicable step's approver is resolved from the org
    tree of the requester (the type's ``requester(document)``, else ``by``). ``by`` is the
    requester or a head above them. A document with a pending request cannot be submitted
    again (409); one that was returned or rejected may be, as the next round.
    """
    entry = registry.get(document_type) if document_type else registry.for_document(document)
    if entry is None:
        raise DomainError(_("Unknown document type %s.") % document_type, code="unknown_type",
                          field="document_type")
    me = _actor(by)
    requester = entry.requester(document) if entry.requester is not None else me
    if requester is None:
        raise DomainError(_("This document has nobody to request its approval."),
                          code="no_requester")
    if requester.pk != me.pk and not scope_for(by, Domain.SALES).covers(requester):
        raise PermissionDenied
    if requester.status == EmployeeStatus.LEFT:
        raise DomainError(_("%s has left and cannot request approvals.") % requester.name,
                          code="left")
    comment = _comment(comment)
    content_type = ContentType.objects.get_for_model(document)
    same_document = ApprovalRequest.objects.filter(content_type=content_type,
                                                   object_id=document.pk)
    if same_document.filter(status=RequestStatus.PENDING).exists():
        raise Conflict(_("This document is already waiting for approval."),
                       code="already_pending")
    policy = (ApprovalPolicy.objects.filter(document_type=entry.key, active=True)
              .prefetch_related("steps__employee").first())
    steps = list(policy.steps.all()) if policy is not None else []
    if not steps:
        raise DomainError(
            _("There is no active approval policy for %s; ask an administrator to set one "
              "up.") % entry.label, code="no_policy")
    amount = entry.amount_of(document)
    route = resolve_route(steps, org=org_view_for(requester, steps), amount=amount)
    now = timezone.now()
    previous = same_document.aggregate(last=Max("round"))["last"] or 0
    request = ApprovalRequest(
        content_type=content_type, object_id=document.pk, document_type=entry.key,
        title=str(entry.title(document))[:200] or str(document)[:200],
        amount=None if amount is None else amount.quantize(Decimal("0.01")),
        policy=policy, requested_by=requester, comment=comment, round=previous + 1,
        created_at=now)
    request.document = document  # the callbacks get this instance, without a query
    try:
        with transaction.atomic():
            audited_save(request, by=by, validate_constraints=False)
    except IntegrityError as exc:  # a racing submission of the same document won
        raise Conflict(_("This document is already waiting for approval."),
                       code="already_pending") from exc
    ApprovalTask.objects.bulk_create([
        ApprovalTask(request=request, order=n, name=r.step.name, approver=r.approver,
                     status=TaskStatus.SKIPPED if r.skip_reason else TaskStatus.QUEUED,
                     skip_reason=r.skip_reason, deadline_days=r.step.deadline_days,
                     escalate_after_days=r.step.escalate_after_days,
                     decided_at=now if r.skip_reason else None)
        for n, r in enumerate(route, start=1)
    ])
    _advance(request, now)
    return request


# --- decide ---------------------------------------------------------------------------
@transaction.atomic
def approval_decide(*, task: ApprovalTask, by, decision: str, comment: str = "") -> ApprovalTask:
    """Approve, reject or return one step. Reject and return need a comment and end the
    request (the remaining steps are cancelled); approving the last step approves it. The
    document type's callback runs in this transaction."""
    me = _actor(by)
    if decision not in Decision.values:
        raise DomainError(_("Choose approve, reject or return."), field="decision",
                          code="invalid")
    comment = _comment(comment, required_message=(
        None if decision == Decision.APPROVE
        else _("Say why: a comment is required to reject or return.")))
    request = ApprovalRequest.objects.select_for_update().get(pk=task.request_id)
    task = ApprovalTask.objects.select_related("approver").get(pk=task.pk)
    acting_for = acting_as(by, task, request)
    if request.requested_by_id == me.pk:
        raise PermissionDenied
    if not request.is_pending or task.status not in TASK_OPEN:
        raise Conflict(_("This step has already been decided."), code="decided")
    if task.status == TaskStatus.QUEUED:
        raise Conflict(_("It is not this step's turn yet: an earlier step is still waiting."),
                       code="out_of_turn")
    now = timezone.now()
    task.status = DECISION_TASK_STATUS[decision]
    task.decided_by, task.acting_for, task.decided_at, task.comment = me, acting_for, now, comment
    task.save(update_fields=["status", "decided_by", "acting_for", "decided_at", "comment"])
    if decision == Decision.APPROVE:
        _advance(request, now)
    else:
        request.tasks.filter(status__in=TASK_OPEN).update(status=TaskStatus.CANCELLED)
        _finish(request, DECISION_REQUEST_STATUS[decision], now,
                "on_rejected" if decision == Decision.REJECT else "on_returned")
    task.request = request
    return task


@transaction.atomic
def approval_cancel(*, request: ApprovalRequest, by, comment: str = "") -> ApprovalRequest:
    """The requester (or an administrator) withdraws a pending request."""
    me = _actor(by)
    comment = _comment(comment)
    locked = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
    if locked.requested_by_id != me.pk and not _is_admin(by):
        raise PermissionDenied
    if not locked.is_pending:
        raise Conflict(_("Only a pending request can be cancelled; this one is %s.")
                       % locked.get_status_display(), code="not_pending", field="status")
    now = timezone.now()
    locked.tasks.filter(status__in=TASK_OPEN).update(status=TaskStatus.CANCELLED, decided_at=now,
                                                     comment=comment)
    _finish(locked, RequestStatus.CANCELLED, now, "on_cancelled")
    return locked


def require_approved(document) -> ApprovalRequest:
    """Refuse (400, code ``not_approved``) unless the document's latest request is approved:
    what an owning app calls before the step that must follow approval (sign, send)."""
    latest = (ApprovalRequest.objects
              .filter(content_type=ContentType.objects.get_for_model(document),
                      object_id=document.pk).order_by("-round", "-pk").first())
    if latest is None or latest.status != RequestStatus.APPROVED:
        raise DomainError(_("This document has not been approved yet."), code="not_approved")
    return latest


# --- reminders and escalation (cron: bizdept remind_approvals) ------------------------
def _escalation_target(task: ApprovalTask, units: dict[int, Unit]) -> Employee | None:
    """The nearest head above the task's approver who is neither them nor the requester."""
    approver = task.approver
    for unit_id in reversed(approver.unit.ancestor_ids()):
        unit = units.get(unit_id)
        if unit is None or unit.head_id is None:
            continue
        if unit.head_id in (approver.pk, task.request.requested_by_id):
            continue
        if unit.head.status == EmployeeStatus.LEFT:
            continue
        return unit.head
    return None


def _mail(employee: Employee, subject: str, body: str) -> None:
    address = employee.email or getattr(employee.user, "email", "")
    if address:
        transaction.on_commit(lambda: _send(address, subject, body))


def _send(address, subject, body) -> None:
    try:
        send_mail(subject, body, None, [address])
    except Exception:  # pragma: no cover - a mail server down must not undo the sweep
        log.exception("Could not mail the approval reminder to %s", address)


def _reminder_text(task: ApprovalTask, *, escalated: bool) -> tuple[str, str]:
    with translation.override(getattr(task.approver.user, "language", None)):
        if escalated:
            subject = _("Approval escalated to you: %s") % task.request.title
        else:
            subject = _("Approval overdue: %s") % task.request.title
        body = _("“%(title)s” from %(requester)s waits for your decision on the step "
                 "“%(step)s”, due %(due)s.") % {
            "title": task.request.title, "requester": task.request.requested_by.name,
            "step": task.name,
            "due": timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M")}
    return str(subject), str(body)


@transaction.atomic
def approvals_remind_and_escalate(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """The scheduled sweep: a waiting step past its deadline is reminded once (recorded on
    the task, and mailed to the approver after commit); past its escalation time it moves
    to the head above the approver (the original approver is kept on the task and can still
    read the request), with a fresh deadline. Returns (reminded, escalated). Running it
    twice does nothing the second time; a constant number of queries however many tasks."""
    now = now or timezone.now()
    late = Q(status=TaskStatus.WAITING) & (Q(due_at__lt=now, reminded_at__isnull=True)
                                          | Q(escalate_at__lt=now))
    request_ids = list(ApprovalTask.objects.filter(late).values_list("request_id", flat=True)
                       .distinct())
    if not request_ids:
        return 0, 0
    # The same lock order as a decision: the requests first, then their tasks.
    list(ApprovalRequest.objects.select_for_update().filter(pk__in=request_ids)
         .order_by("pk").values_list("pk", flat=True))
    tasks = list(ApprovalTask.objects.filter(late, request_id__in=request_ids,
                                             request__status=RequestStatus.PENDING)
                 .select_related("approver__unit", "approver__user",
                                 "request__requested_by"))
    unit_ids = {uid for t in tasks for uid in t.approver.unit.ancestor_ids()}
    units = Unit.objects.select_related("head__user").in_bulk(unit_ids)
    longest = max(t.deadline_days + t.escalate_after_days for t in tasks)
    working = working_calendar(timezone.localtime(now).date(), longest)
    reminded, escalated, quiet = [], [], []
    for task in tasks:
        target = (_escalation_target(task, units)
                  if task.escalate_at is not None and task.escalate_at < now else None)
        if target is not None:
            task.escalated_from = task.escalated_from or task.approver
            task.approver, task.escalated_at, task.reminded_at = target, now, None
            _schedule(task, now, working)
            escalated.append(task)
            _mail(target, *_reminder_text(task, escalated=True))
        elif task.reminded_at is None:
            task.reminded_at = now
            reminded.append(task)
            _mail(task.approver, *_reminder_text(task, escalated=False))
        elif task.escalate_at is not None and task.escalate_at < now:
            # nobody above to escalate to: stop asking every run
            task.escalate_at = None
            quiet.append(task)
    ApprovalTask.objects.bulk_update(
        reminded + escalated + quiet,
        ["approver", "escalated_from", "escalated_at", "reminded_at", "due_at", "escalate_at"],
        batch_size=500)
    return len(reminded), len(escalated)


# --- delegation -----------------------------------------------------------------------
def known_document_types() -> set[str]:
    return set(registry.registered()) | set(
        ApprovalPolicy.objects.values_list("document_type", flat=True))


def _document_types(types: Iterable[str] | str) -> str:
    if isinstance(types, str):
        types = types.split(",")
    cleaned = sorted({t.strip() for t in types if t and t.strip()})
    if not cleaned:
        return ""
    known = known_document_types()
    unknown = [t for t in cleaned if t not in known or not _TYPE_KEY.match(t)]
    if unknown:
        raise DomainError(_("Unknown document type: %s") % ", ".join(unknown)[:200],
                          field="document_types", code="unknown")
    joined = ",".join(cleaned)
    if len(joined) > 500:
        raise DomainError(_("Too many document types."), field="document_types")
    return joined


@transaction.atomic
def delegation_create(*, by, to: Employee, starts_on: datetime.date, ends_on: datetime.date,
                      document_types: Iterable[str] | str = (), reason: str = "") -> Delegation:
    """While I am away, ``to`` decides my waiting approvals (those of the listed document
    types, or all). The delegate must be someone else who works here; one person's
    delegations may not overlap."""
    me = _actor(by)
    if to.pk == me.pk:
        raise DomainError(_("You cannot delegate to yourself."), field="to", code="self")
    if to.status == EmployeeStatus.LEFT or not getattr(to.user, "is_active", False):
        raise DomainError(_("%s has left and cannot stand in for you.") % to.name, field="to",
                          code="left")
    today = timezone.localdate()
    if ends_on < starts_on:
        raise DomainError(_("The end is before the start."), field="ends_on", code="order")
    if ends_on < today:
        raise DomainError(_("The delegation would already be over."), field="ends_on",
                          code="past")
    if (ends_on - starts_on).days >= DELEGATION_MAX_DAYS:
        raise DomainError(_("A delegation lasts a year at most."), field="ends_on",
                          code="too_long")
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise DomainError(_("The reason is too long (%d characters at most).") % REASON_MAX,
                          field="reason", code="too_long")
    types = _document_types(document_types)
    # Serialize one person's delegations: two at once cannot both pass the overlap check.
    Employee.objects.select_for_update().filter(pk=me.pk).values_list("pk").first()
    if Delegation.objects.filter(from_employee=me, ended_at__isnull=True,
                                 starts_on__lte=ends_on, ends_on__gte=starts_on).exists():
        raise DomainError(_("You already have a delegation in this period; end it first."),
                          field="starts_on", code="overlap")
    delegation = Delegation(from_employee=me, to_employee=to, starts_on=starts_on,
                            ends_on=ends_on, document_types=types, reason=reason)
    return audited_save(delegation, by=by)


@transaction.atomic
def delegation_end(*, delegation: Delegation, by) -> Delegation:
    """End (or call off) my delegation now; an administrator may end anyone's."""
    me = _actor(by)
    locked = Delegation.objects.select_for_update().get(pk=delegation.pk)
    if locked.from_employee_id != me.pk and not _is_admin(by):
        raise PermissionDenied
    if locked.ended_at is not None or locked.ends_on < timezone.localdate():
        raise Conflict(_("This delegation has already ended."), code="ended")
    locked.ended_at = timezone.now()
    return audited_save(locked, by=by)


# --- policies (edited in /admin/; this is for the demo, set-up scripts and tests) ------
@transaction.atomic
def approval_policy_create(*, document_type: str, name: str, steps: Iterable[dict],
                           by=None, description: str = "") -> ApprovalPolicy:
    """A new active policy for ``document_type``, replacing (deactivating) the active one.
    Each step is a dict of PolicyStep fields; ``order`` defaults to its position."""
    if not _TYPE_KEY.match(document_type or ""):
        raise DomainError(_("Write the document type as app.document, e.g. sales.contract."),
                          field="document_type")
    steps = list(steps)
    if not steps:
        raise DomainError(_("A policy needs at least one step."), field="steps")
    for old in ApprovalPolicy.objects.select_for_update().filter(document_type=document_type,
                                                                  active=True):
        old.active = False
        audited_save(old, by=by)
    policy = audited_save(ApprovalPolicy(document_type=document_type, name=name,
                                         description=description), by=by)
    for n, fields in enumerate(steps, start=1):
        audited_save(PolicyStep(policy=policy, **{"order": n, **fields}), by=by)
    return policy
