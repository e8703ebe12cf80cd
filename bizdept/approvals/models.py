"""SAL-3: the approval engine's tables.

A policy per document type lists ordered steps; submitting a document creates an
``ApprovalRequest`` whose ``ApprovalTask`` rows are resolved at once from the org tree of
the requester (one per step that applies), so the whole route is known and shown from the
start. A returned document submitted again is a new request (``round`` + 1): every round
stays in the document's history.
"""

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from bizdept.org.choices import RoleCode
from bizdept.org.models import Employee
from bizdept.org.scope import Domain, ScopedQuerySet, employee_of

from .choices import ApproverKind, RequestStatus, SkipReason, TaskStatus


class ApprovalPolicy(models.Model):
    """How documents of one type are approved; one active policy per type."""

    document_type = models.CharField(
        _("document type"), max_length=100, db_index=True,
        help_text=_("The key the owning app registers, e.g. sales.contract."))
    name = models.CharField(_("name"), max_length=200)
    active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["document_type", "-active", "name"]
        verbose_name = _("approval policy")
        verbose_name_plural = _("approval policies")
        constraints = [
            models.UniqueConstraint(
                fields=["document_type"], condition=Q(active=True),
                name="approvalpolicy_one_active_per_type",
                violation_error_message=_("This document type already has an active policy."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.document_type})"


class PolicyStep(models.Model):
    """One step of a policy. It applies when the document's amount is above ``min_amount``
    (a step with 0 always applies); its deadline counts working days (Monday–Friday and the
    calendar's holidays and make-up days) from when the step's turn comes."""

    policy = models.ForeignKey(ApprovalPolicy, on_delete=models.CASCADE, related_name="steps",
                               verbose_name=_("policy"))
    order = models.PositiveSmallIntegerField(_("order"), validators=[MinValueValidator(1)])
    name = models.CharField(_("step name"), max_length=100,
                            help_text=_("What the approver is asked as, e.g. Team lead."))
    approver_kind = models.CharField(_("approver"), max_length=20, choices=ApproverKind.choices,
                                     default=ApproverKind.DIRECT_HEAD)
    levels = models.PositiveSmallIntegerField(
        _("levels up"), default=1, validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_("For 'Head N levels up': 1 is the direct head, 2 the head above, …"))
    role_code = models.CharField(_("role"), max_length=20, choices=RoleCode.choices, blank=True)
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("employee"))
    min_amount = models.DecimalField(
        _("applies above the amount"), max_digits=16, decimal_places=2, default=0,
        validators=[MinValueValidator(0)],
        help_text=_("0: always. Otherwise only documents whose amount is above this."))
    deadline_days = models.PositiveSmallIntegerField(
        _("deadline (working days)"), default=2,
        validators=[MinValueValidator(1), MaxValueValidator(60)])
    escalate_after_days = models.PositiveSmallIntegerField(
        _("escalate after the deadline (working days)"), default=1,
        validators=[MaxValueValidator(60)], help_text=_("0: never escalate, only remind."))

    history = HistoricalRecords()

    class Meta:
        ordering = ["policy", "order"]
        verbose_name = _("policy step")
        verbose_name_plural = _("policy steps")
        constraints = [
            models.UniqueConstraint(fields=["policy", "order"], name="policystep_unique_order"),
        ]

    def __str__(self):
        return f"{self.order}. {self.name}"

    def clean(self):
        if self.approver_kind == ApproverKind.ROLE and not self.role_code:
            raise ValidationError({"role_code": _("Choose the role whose holder approves.")})
        if self.approver_kind == ApproverKind.EMPLOYEE and self.employee_id is None:
            raise ValidationError({"employee": _("Choose the employee who approves.")})


def active_delegation_q(*, today=None) -> Q:
    """Delegations in force today (started, not ended, not called off)."""
    today = today or timezone.localdate()
    return Q(starts_on__lte=today, ends_on__gte=today, ended_at__isnull=True)


def delegated_to(employee_id, *, approver_ref="approver", type_ref="request__document_type",
                 today=None):
    """``Exists``: the row's approver has an active delegation to ``employee_id`` that covers
    the row's document type. A subquery, so a list stays one query."""
    padded = Concat(models.Value(","), "document_types", models.Value(","),
                    output_field=models.CharField())
    wanted = Concat(models.Value(","), OuterRef(type_ref), models.Value(","),
                    output_field=models.CharField())
    rows = (Delegation.objects.filter(active_delegation_q(today=today),
                                      from_employee=OuterRef(approver_ref),
                                      to_employee_id=employee_id)
            .annotate(padded=padded)
            .filter(Q(document_types="") | Q(padded__contains=wanted)))
    return Exists(rows)


class ApprovalRequestQuerySet(ScopedQuerySet):
    """Requests are seen by the requester and the heads above them (the scope rule), and by
    everyone involved: each approver, whoever an escalated step left, who decided, and the
    active delegates of the approvers."""

    scope_owner_fields = ("requested_by",)
    scope_domain = Domain.SALES

    def also_visible(self, user):
        me = employee_of(user)
        if me is None or me.is_left:
            return None
        involved = ApprovalTask.objects.filter(
            Q(approver=me) | Q(escalated_from=me) | Q(decided_by=me)
            | delegated_to(me.pk, type_ref="request__document_type"))
        return Q(pk__in=involved.values("request_id"))


class ApprovalRequest(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    document = GenericForeignKey("content_type", "object_id")
    document_type = models.CharField(_("document type"), max_length=100, db_index=True)
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, null=True,
                                 blank=True)
    policy = models.ForeignKey(ApprovalPolicy, on_delete=models.PROTECT, related_name="requests",
                               verbose_name=_("policy"))
    requested_by = models.ForeignKey(Employee, on_delete=models.PROTECT,
                                     related_name="approval_requests",
                                     verbose_name=_("requested by"))
    comment = models.TextField(_("comment"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=RequestStatus.choices,
                              default=RequestStatus.PENDING, db_index=True)
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    created_at = models.DateTimeField(_("submitted at"), default=timezone.now, db_index=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    objects = ApprovalRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        constraints = [
            # One pending request per document, even when two submissions race.
            models.UniqueConstraint(fields=["content_type", "object_id"],
                                    condition=Q(status=RequestStatus.PENDING),
                                    name="approvalrequest_one_pending_per_document"),
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id", "round"],
                         name="approvalrequest_document"),
            models.Index(fields=["requested_by", "status"], name="approvalrequest_requester"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_pending(self) -> bool:
        return self.status == RequestStatus.PENDING


class ApprovalTask(models.Model):
    """One step of one request: who must decide, by when, and what they decided."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="tasks",
                                verbose_name=_("request"))
    order = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("step"), max_length=100)
    approver = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("approver"))
    status = models.CharField(_("status"), max_length=20, choices=TaskStatus.choices,
                              default=TaskStatus.QUEUED)
    skip_reason = models.CharField(_("skipped because"), max_length=20,
                                   choices=SkipReason.choices, blank=True)
    deadline_days = models.PositiveSmallIntegerField(_("deadline (working days)"), default=2)
    escalate_after_days = models.PositiveSmallIntegerField(
        _("escalate after the deadline (working days)"), default=1)
    started_at = models.DateTimeField(_("waiting since"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    escalate_at = models.DateTimeField(_("escalates at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    escalated_from = models.ForeignKey(Employee, on_delete=models.PROTECT, null=True,
                                       blank=True, related_name="+",
                                       verbose_name=_("escalated from"))
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    decided_by = models.ForeignKey(Employee, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("decided by"))
    acting_for = models.ForeignKey(Employee, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("acting for"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["request", "order"]
        verbose_name = _("approval task")
        verbose_name_plural = _("approval tasks")
        constraints = [
            models.UniqueConstraint(fields=["request", "order"], name="approvaltask_unique_order"),
        ]
        indexes = [
            # the inbox and its badge: my waiting tasks, oldest due first
            models.Index(fields=["approver", "status", "due_at"], name="approvaltask_inbox"),
            # the reminder sweep
            models.Index(fields=["status", "due_at"], name="approvaltask_due"),
        ]

    def __str__(self):
        return f"{self.request_id}/{self.order} {self.name}"

    @property
    def is_open(self) -> bool:
        return self.status in (TaskStatus.QUEUED, TaskStatus.WAITING)


class Delegation(models.Model):
    """While an approver is away, a colleague decides their waiting tasks (for all document
    types, or only those listed)."""

    from_employee = models.ForeignKey(Employee, on_delete=models.PROTECT,
                                      related_name="delegations_given",
                                      verbose_name=_("approver"))
    to_employee = models.ForeignKey(Employee, on_delete=models.PROTECT,
                                    related_name="delegations_received",
                                    verbose_name=_("delegate"))
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    document_types = models.CharField(
        _("document types"), max_length=500, blank=True,
        help_text=_("Comma-separated keys; empty: every document type."))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-starts_on", "-pk"]
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")),
                                   name="delegation_ends_after_start",
                                   violation_error_message=_("The end is before the start.")),
            models.CheckConstraint(condition=~Q(from_employee=models.F("to_employee")),
                                   name="delegation_not_to_oneself",
                                   violation_error_message=_("You cannot delegate to yourself.")),
        ]
        indexes = [
            models.Index(fields=["to_employee", "from_employee", "ends_on"],
                         name="delegation_to_from"),
        ]

    def __str__(self):
        return f"{self.from_employee.name} → {self.to_employee.name}"

    @property
    def type_list(self) -> list[str]:
        return [t for t in self.document_types.split(",") if t]

    def is_active(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.ended_at is None and self.starts_on <= today <= self.ends_on
