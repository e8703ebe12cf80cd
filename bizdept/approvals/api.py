"""SAL-3 API: what waits for me, my requests, one request with its steps, deciding a step,
cancelling a request, and my delegations.

Reads go through ``selectors`` (a request outside one's involvement and scope answers 404);
writes through ``services``: deciding someone else's step is 403, a step already decided or
not yet at its turn 409 (two approvers racing: one wins, the other gets 409), a reject or
return without a comment 400 naming ``comment``.
"""

import datetime
from decimal import Decimal
from typing import Literal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

# The input conventions every router shares (strict bodies, ISO dates, bounded ids).
from bizdept.core.api import (
    ERRORS,
    BodyId,
    BodyIn,
    IsoDate,
    Mapped,
    ObjectId,
    Paginated,
    Text,
    filter_errors,
)
from bizdept.core.errors import DomainError
from bizdept.org.api import EmployeeRef
from bizdept.org.models import Employee

from . import registry, selectors, services
from .choices import Decision, RequestStatus
from .filters import ApprovalRequestFilterSet

router = Router(tags=["approvals"])

DecisionIn_ = Literal[tuple(Decision.values)]
RequestStatusIn = Literal[tuple(RequestStatus.values)]
TypeKey = Text(100)


# --- output ----------------------------------------------------------------------------
class RequestOut(Schema):
    id: int
    title: str
    document_type: str
    document_type_label: str
    object_id: int
    amount: Decimal | None
    status: str
    round: int
    requested_by: EmployeeRef
    comment: str
    created_at: datetime.datetime
    decided_at: datetime.datetime | None


class TaskOut(Schema):
    id: int
    order: int
    name: str
    approver: EmployeeRef
    status: str
    skip_reason: str
    due_at: datetime.datetime | None
    reminded_at: datetime.datetime | None
    escalated_from: EmployeeRef | None
    escalated_at: datetime.datetime | None
    decided_by: EmployeeRef | None
    acting_for: EmployeeRef | None
    decided_at: datetime.datetime | None
    comment: str


class RequestDetailOut(RequestOut):
    tasks: list[TaskOut]


class InboxItemOut(TaskOut):
    request: RequestOut
    delegated: bool = Field(description="Waiting for someone who delegated to you.")


class DelegationOut(Schema):
    id: int
    from_employee: EmployeeRef
    to_employee: EmployeeRef
    starts_on: datetime.date
    ends_on: datetime.date
    document_types: list[str]
    reason: str
    created_at: datetime.datetime
    ended_at: datetime.datetime | None
    active: bool


# --- input -----------------------------------------------------------------------------
class RequestFilterIn(Schema):
    q: Text(100) | None = None
    status: RequestStatusIn | None = None
    document_type: TypeKey | None = None


class DecisionIn(BodyIn):
    decision: DecisionIn_
    comment: Text(2000) = Field("", description="Required to reject or return.")


class DelegationIn(BodyIn):
    to: BodyId = Field(..., description="Employee id of the delegate.")
    starts_on: IsoDate
    ends_on: IsoDate
    document_types: list[TypeKey] = Field(default_factory=list, max_length=20,
                                          description="Empty: every document type.")
    reason: Text(200) = ""


# --- mapping ---------------------------------------------------------------------------
def _request_out(r) -> dict:
    return {"id": r.pk, "title": r.title, "document_type": r.document_type,
            "document_type_label": str(registry.label_of(r.document_type)),
            "object_id": r.object_id, "amount": r.amount, "status": r.status, "round": r.round,
            "requested_by": r.requested_by, "comment": r.comment, "created_at": r.created_at,
            "decided_at": r.decided_at}


def _task_out(t) -> dict:
    return {"id": t.pk, "order": t.order, "name": t.name, "approver": t.approver,
            "status": t.status, "skip_reason": t.skip_reason, "due_at": t.due_at,
            "reminded_at": t.reminded_at, "escalated_from": t.escalated_from,
            "escalated_at": t.escalated_at, "decided_by": t.decided_by,
            "acting_for": t.acting_for, "decided_at": t.decided_at, "comment": t.comment}


def _detail(r) -> dict:
    return {**_request_out(r), "tasks": [_task_out(t) for t in r.tasks.all()]}


def _inbox_out(me_id):
    def out(t) -> dict:
        return {**_task_out(t), "request": _request_out(t.request),
                "delegated": t.approver_id != me_id}
    return out


def _delegation_out(d) -> dict:
    return {"id": d.pk, "from_employee": d.from_employee, "to_employee": d.to_employee,
            "starts_on": d.starts_on, "ends_on": d.ends_on, "document_types": d.type_list,
            "reason": d.reason, "created_at": d.created_at, "ended_at": d.ended_at,
            "active": d.is_active()}


# --- endpoints -------------------------------------------------------------------------
@router.get("/approvals/inbox", response={200: list[InboxItemOut], **ERRORS},
            summary="Steps waiting for me")
@paginate(Paginated)
def inbox(request):
    """Mine and those of whoever delegated to me today; oldest due first."""
    from bizdept.org.scope import employee_of

    me = employee_of(request.user)
    return Mapped(selectors.inbox(request.user), _inbox_out(me.pk if me else None))


@router.get("/approvals/requests", response={200: list[RequestOut], **ERRORS},
            summary="My approval requests")
@paginate(Paginated)
def my_requests(request, filters: Query[RequestFilterIn]):
    data = filters.dict(exclude_none=True)
    filterset = ApprovalRequestFilterSet(data, queryset=selectors.my_requests(request.user),
                                         request=request)
    if not filterset.is_valid():
        raise filter_errors(filterset)
    return Mapped(filterset.qs.order_by("-created_at", "-pk"), _request_out)


@router.get("/approvals/requests/{request_id}", response={200: RequestDetailOut, **ERRORS},
            summary="One approval request with its steps")
def request_detail(request, request_id: ObjectId):
    return _detail(selectors.request_get(request.user, request_id))


@router.post("/approvals/tasks/{task_id}/decide", response={200: RequestDetailOut, **ERRORS},
             summary="Approve, reject or return a step")
def decide(request, task_id: ObjectId, payload: DecisionIn):
    """Only the step's approver or their active delegate, only when it is the step's turn;
    reject and return need a comment. Approving the last step approves the request."""
    task = selectors.task_get(request.user, task_id)
    services.approval_decide(task=task, by=request.user, decision=payload.decision,
                             comment=payload.comment)
    return _detail(selectors.request_get(request.user, task.request_id))


@router.post("/approvals/requests/{request_id}/cancel",
             response={200: RequestDetailOut, **ERRORS}, summary="Cancel my pending request")
def cancel(request, request_id: ObjectId):
    approval = selectors.request_find(request.user, request_id)
    services.approval_cancel(request=approval, by=request.user)
    return _detail(selectors.request_get(request.user, request_id))


@router.get("/approvals/delegations", response={200: list[DelegationOut], **ERRORS},
            summary="Delegations I gave or received")
@paginate(Paginated)
def delegation_list(request):
    return Mapped(selectors.delegation_list(request.user).order_by("-starts_on", "-pk"),
                  _delegation_out)


@router.post("/approvals/delegations", response={201: DelegationOut, **ERRORS},
             summary="Delegate my approvals while I am away")
def delegation_create(request, payload: DelegationIn):
    to = (Employee.objects.select_related("user").filter(pk=payload.to).first())
    if to is None:
        raise DomainError(_("There is no employee with this id."), field="to", code="unknown")
    delegation = services.delegation_create(
        by=request.user, to=to, starts_on=payload.starts_on, ends_on=payload.ends_on,
        document_types=payload.document_types, reason=payload.reason)
    return Status(201, _delegation_out(selectors.delegation_get(request.user, delegation.pk)))


@router.delete("/approvals/delegations/{delegation_id}", response={204: None, **ERRORS},
               summary="End my delegation now")
def delegation_end(request, delegation_id: ObjectId):
    delegation = selectors.delegation_get(request.user, delegation_id)
    services.delegation_end(delegation=delegation, by=request.user)
    return Status(204, None)
