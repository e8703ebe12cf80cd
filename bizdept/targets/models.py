"""Target plans (TGT-1..3): one plan per fiscal year, metric and department, holding a
realistic (现实目标) and a stretch (理想目标) value for every node of the department's tree
(each unit, and each person under the unit they are counted in) and every period of the
year (the year, its quarters, its months).

The sums (children add up to their parent, across units and across periods) are checked
by ``services.plan_check`` before a plan can be submitted; an approved plan is frozen and
changes only through an approved revision, a new version that points at the one it
replaces, which stays in the history as superseded.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from bizdept.org.models import Employee, Unit
from bizdept.org.scope import Domain, ScopedQuerySet

from .choices import Metric, PlanStatus

TARGET_MAX_DIGITS = 16


def target_field(label):
    return models.DecimalField(label, max_digits=TARGET_MAX_DIGITS, decimal_places=2, default=0)


class TargetPlanQuerySet(ScopedQuerySet):
    # A plan covers a whole department; who may see which of its cells is decided per
    # cell (``TargetCellQuerySet``). The plan row itself is readable by anyone whose
    # department it covers — see ``selectors.plan_list``.
    scope_owner_fields = ()
    scope_domain = Domain.SALES


class TargetPlan(models.Model):
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"))
    metric = models.CharField(_("metric"), max_length=20, choices=Metric.choices)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="target_plans",
                             verbose_name=_("department"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    # The approved plan this version revises (TGT-3); it stays, superseded, in the history.
    revision_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="revisions", verbose_name=_("revision of"))
    reason = models.CharField(_("reason for the revision"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=PlanStatus.choices,
                              default=PlanStatus.DRAFT, db_index=True)
    created_by = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = TargetPlanQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-fiscal_year", "metric", "-version"]
        verbose_name = _("target plan")
        verbose_name_plural = _("target plans")
        constraints = [
            models.UniqueConstraint(fields=["unit", "fiscal_year", "metric", "version"],
                                    name="targetplan_unique_version"),
            # At most one plan in force per department, year and metric.
            models.UniqueConstraint(fields=["unit", "fiscal_year", "metric"],
                                    condition=Q(status="approved"),
                                    name="targetplan_one_approved"),
            models.CheckConstraint(condition=Q(fiscal_year__gte=2000, fiscal_year__lte=2999),
                                   name="targetplan_year_range"),
        ]

    def __str__(self):
        return f"{self.fiscal_year} {self.get_metric_display()} v{self.version}"

    @property
    def is_editable(self) -> bool:
        return self.status == PlanStatus.DRAFT


class TargetCell(models.Model):
    """One node × one period of a plan. A unit's cell has ``employee`` empty; a person's
    cell names the unit the person is counted under in this plan (kept even if they move
    or leave, so the sums of the plan never depend on today's org chart)."""

    plan = models.ForeignKey(TargetPlan, on_delete=models.CASCADE, related_name="cells",
                             verbose_name=_("target plan"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("unit"))
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="target_cells", verbose_name=_("person"))
    period = models.CharField(_("period"), max_length=7)  # 2026, 2026-Q3, 2026-07
    realistic = target_field(_("realistic target"))
    stretch = target_field(_("stretch target"))

    class Meta:
        ordering = ["plan", "unit", "employee", "period"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.UniqueConstraint(fields=["plan", "unit", "period"],
                                    condition=Q(employee__isnull=True),
                                    name="targetcell_unique_unit"),
            models.UniqueConstraint(fields=["plan", "employee", "period"],
                                    condition=Q(employee__isnull=False),
                                    name="targetcell_unique_person"),
            models.CheckConstraint(condition=Q(realistic__gte=0) & Q(stretch__gte=0),
                                   name="targetcell_not_negative"),
        ]
        indexes = [models.Index(fields=["plan", "period"], name="targetcell_plan_period"),
                   models.Index(fields=["employee", "period"], name="targetcell_person")]

    def __str__(self):
        return f"{self.plan} {self.employee or self.unit} {self.period}"
