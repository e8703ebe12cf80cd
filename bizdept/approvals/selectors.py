"""Every read of the approval engine (SAL-3).

Requests are read through ``ApprovalRequest.objects.visible_to(user)``: the requester and
the heads above them (the scope rule), plus everyone involved in the request (approvers,
delegates, whoever an escalated step left); anybody else gets 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils import timezone

from bizdept.org.choices import Capability
from bizdept.org.scope import capabilities_of, employee_of

from .choices import RequestStatus, TaskStatus
from .models import (
    ApprovalPolicy,
    ApprovalRequest,
    ApprovalTask,
    Delegation,
    PolicyStep,
    active_delegation_q,
    delegated_to,
)

_TASK_PEOPLE = ("approver", "decided_by", "acting_for", "escalated_from")


def _tasks_prefetch() -> Prefetch:
    return Prefetch("tasks", queryset=ApprovalTask.objects.select_related(*_TASK_PEOPLE)
                    .order_by("order"))


def inbox(user):
    """Tasks waiting for me: mine, and those of whoever delegated to me today (for the
    document types they delegated). Oldest due first. One query."""
    me = employee_of(user)
    if me is None or me.is_left:
        return ApprovalTask.objects.none()
    return (ApprovalTask.objects.filter(status=TaskStatus.WAITING,
                                        request__status=RequestStatus.PENDING)
            .filter(Q(approver=me) | delegated_to(me.pk))
            .select_related("approver", "escalated_from", "request__requested_by__unit")
            .order_by("due_at", "pk"))


def inbox_count(user) -> int:
    """The navigation badge: one COUNT query."""
    me = employee_of(user)
    if me is None or me.is_left:
        return 0
    return (ApprovalTask.objects.filter(status=TaskStatus.WAITING)
            .filter(Q(approver=me) | delegated_to(me.pk)).count())


def my_requests(user):
    """What I asked for, newest first."""
    me = employee_of(user)
    if me is None:
        return ApprovalRequest.objects.none()
    return (ApprovalRequest.objects.filter(requested_by=me)
            .select_related("requested_by", "policy")
            .prefetch_related(_current_task_prefetch()))


def _current_task_prefetch() -> Prefetch:
    return Prefetch("tasks", to_attr="waiting_tasks",
                    queryset=ApprovalTask.objects.filter(status=TaskStatus.WAITING)
                    .select_related("approver"))


def request_list(user):
    """Requests the user may see (the scope rule plus involvement)."""
    return ApprovalRequest.objects.visible_to(user).select_related("requested_by", "policy")


def request_get(user, pk) -> ApprovalRequest:
    """One request with its steps, or 404 when it is missing or not the user's business."""
    try:
        return (request_list(user).select_related("requested_by__unit", "content_type")
                .prefetch_related(_tasks_prefetch()).get(pk=pk))
    except (ApprovalRequest.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def request_find(user, pk) -> ApprovalRequest:
    """The bare request row (no steps), or 404: what a write starts from."""
    try:
        return request_list(user).get(pk=pk)
    except (ApprovalRequest.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def task_get(user, pk) -> ApprovalTask:
    """A task of a request the user may see (else 404); deciding checks more."""
    try:
        return (ApprovalTask.objects.select_related("approver", "request__requested_by")
                .get(pk=pk, request__in=request_list(user).values("pk")))
    except (ApprovalTask.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


# --- a document's approvals (the History panel other apps embed) -----------------------
@dataclass
class DocumentHistory:
    requests: list  # every round, newest first, each with ``.tasks.all()`` in order
    latest: ApprovalRequest | None

    @property
    def status(self) -> str | None:
        return self.latest.status if self.latest is not None else None

    @property
    def is_pending(self) -> bool:
        return self.status == RequestStatus.PENDING

    @property
    def is_approved(self) -> bool:
        return self.status == RequestStatus.APPROVED


def document_requests(document):
    return ApprovalRequest.objects.filter(
        content_type=ContentType.objects.get_for_model(document), object_id=document.pk)


def document_history(document) -> DocumentHistory:
    """Every request and task of one document, newest round first; two queries. Whoever
    may see the document sees its approvals (the owning app checks the document)."""
    return document_history_of(ContentType.objects.get_for_model(document).pk, document.pk)


def document_history_of(content_type_id: int, object_id: int) -> DocumentHistory:
    requests = list(ApprovalRequest.objects.filter(content_type_id=content_type_id,
                                                   object_id=object_id)
                    .select_related("requested_by")
                    .prefetch_related(_tasks_prefetch()).order_by("-round", "-pk"))
    return DocumentHistory(requests=requests, latest=requests[0] if requests else None)


def approval_status(document) -> str | None:
    """The status of the document's latest request (None: never submitted); one query."""
    return (document_requests(document).order_by("-round", "-pk")
            .values_list("status", flat=True).first())


# --- delegations and policies ---------------------------------------------------------
def delegation_list(user):
    """Delegations I gave or received (an administrator: all)."""
    rows = Delegation.objects.select_related("from_employee", "to_employee")
    if Capability.ADMINISTER in capabilities_of(user):
        return rows
    me = employee_of(user)
    if me is None:
        return rows.none()
    return rows.filter(Q(from_employee=me) | Q(to_employee=me))


def delegation_get(user, pk) -> Delegation:
    try:
        return delegation_list(user).get(pk=pk)
    except (Delegation.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def active_delegations_to(user):
    """Who I stand in for today."""
    me = employee_of(user)
    if me is None:
        return Delegation.objects.none()
    return (Delegation.objects.filter(active_delegation_q(today=timezone.localdate()),
                                      to_employee=me).select_related("from_employee"))


def policy_list():
    """Active policies with their steps, readable by everyone."""
    steps = Prefetch("steps", queryset=PolicyStep.objects.select_related("employee")
                     .order_by("order"))
    return ApprovalPolicy.objects.filter(active=True).prefetch_related(steps).order_by(
        "document_type")
