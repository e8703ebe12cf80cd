from django.db import models
from django.utils.translation import gettext_lazy as _


class ApproverKind(models.TextChoices):
    """Where a step's approver comes from (SAL-3): the org tree of the requester, or a name."""

    DIRECT_HEAD = "direct_head", _("Direct head")
    LEVELS_UP = "levels_up", _("Head N levels up")
    ROLE = "role", _("Nearest holder of a role")
    EMPLOYEE = "employee", _("A named employee")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for changes")
    CANCELLED = "cancelled", _("Cancelled")


class TaskStatus(models.TextChoices):
    QUEUED = "queued", _("Not yet its turn")
    WAITING = "waiting", _("Waiting")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for changes")
    SKIPPED = "skipped", _("Skipped")
    CANCELLED = "cancelled", _("Cancelled")


class Decision(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    RETURN = "return", _("Return for changes")


# What each decision does to the task and, when it ends the request, to the request.
DECISION_TASK_STATUS = {
    Decision.APPROVE: TaskStatus.APPROVED,
    Decision.REJECT: TaskStatus.REJECTED,
    Decision.RETURN: TaskStatus.RETURNED,
}
DECISION_REQUEST_STATUS = {
    Decision.REJECT: RequestStatus.REJECTED,
    Decision.RETURN: RequestStatus.RETURNED,
}

#: Tasks still open: waiting for a decision now, or later in the order.
TASK_OPEN = (TaskStatus.QUEUED, TaskStatus.WAITING)


class SkipReason(models.TextChoices):
    REQUESTER = "requester", _("The approver is the requester")
    DUPLICATE = "duplicate", _("The approver already approves an earlier step")
