"""Scorecard templates (PER-2): per position, a list of weighted items — KPI items scored
by a rule (``scoring``) against a target, and manual items (attitude, teamwork, ability…)
scored by the reviewer. The weights of a template's items total exactly 100; that sum is
checked by ``services`` (it spans rows), the rest of an item's shape by its constraints.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from bizdept.org.models import Employee, Position, Unit
from bizdept.org.scope import Domain, ScopedQuerySet

from .choices import (
    CycleStatus,
    ImprovementStatus,
    ItemKind,
    PeriodKind,
    RuleKind,
    TargetSource,
)

WEIGHT_TOTAL = 100


class ScorecardTemplate(models.Model):
    name = models.CharField(_("name"), max_length=100)
    position = models.ForeignKey(Position, on_delete=models.PROTECT,
                                 related_name="scorecard_templates",
                                 verbose_name=_("position"))
    period_kind = models.CharField(_("period"), max_length=20, choices=PeriodKind.choices)
    is_active = models.BooleanField(_("active"), default=True, db_index=True)
    # Raised by every change; a write naming an older version answers 409.
    version = models.PositiveIntegerField(_("version"), default=1)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["position__name", "name", "pk"]
        verbose_name = _("scorecard template")
        verbose_name_plural = _("scorecard templates")
        constraints = [
            models.UniqueConstraint(fields=["position", "name"],
                                    name="scorecardtemplate_unique_name"),
            models.CheckConstraint(condition=Q(version__gte=1),
                                   name="scorecardtemplate_version"),
        ]

    def __str__(self):
        return self.name


class ScorecardItem(models.Model):
    template = models.ForeignKey(ScorecardTemplate, on_delete=models.CASCADE,
                                 related_name="items", verbose_name=_("scorecard template"))
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=ItemKind.choices)
    kpi_code = models.CharField(_("KPI"), max_length=40, blank=True)
    name = models.CharField(_("name"), max_length=100)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2)
    target_source = models.CharField(_("target source"), max_length=10, blank=True,
                                     choices=TargetSource.choices)
    fixed_target = models.DecimalField(_("fixed target"), max_digits=16, decimal_places=2,
                                       null=True, blank=True)
    rule_kind = models.CharField(_("scoring rule"), max_length=10, choices=RuleKind.choices)
    rule_params = models.JSONField(_("rule parameters"), default=dict, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["template", "sort_order", "pk"]
        verbose_name = _("scorecard item")
        verbose_name_plural = _("scorecard items")
        constraints = [
            models.UniqueConstraint(fields=["template", "sort_order"],
                                    name="scorecarditem_unique_order"),
            models.CheckConstraint(condition=Q(weight__gt=0, weight__lte=WEIGHT_TOTAL),
                                   name="scorecarditem_weight_range"),
            # a KPI item names its measure and where its target comes from; a manual one
            # has neither
            models.CheckConstraint(
                condition=(Q(kind=ItemKind.KPI) & ~Q(kpi_code="")
                           & Q(target_source__in=TargetSource.values))
                | (Q(kind=ItemKind.MANUAL) & Q(kpi_code="") & Q(target_source="")
                   & Q(fixed_target__isnull=True)),
                name="scorecarditem_kind_shape"),
            models.CheckConstraint(
                condition=~Q(target_source=TargetSource.FIXED) | Q(fixed_target__isnull=False),
                name="scorecarditem_fixed_target"),
            models.CheckConstraint(condition=Q(fixed_target__isnull=True)
                                   | Q(fixed_target__gte=0),
                                   name="scorecarditem_target_not_negative"),
            models.CheckConstraint(condition=Q(rule_kind__in=RuleKind.values),
                                   name="scorecarditem_rule_kind"),
        ]

    def __str__(self):
        return f"{self.template} · {self.name}"


# === Cycles and results (PER-3..5) ======================================================
class AppraisalCycle(models.Model):
    """A quarterly or annual appraisal of a department (季度考核 / 年度考核).

    Its settings say how results are read: ``grade_bands`` (the lowest total score of S,
    A, B and C; below C is D), the optional forced ``distribution`` per unit of
    ``distribution_level`` (groups of grades with a share: the best group is a ceiling,
    the worst a floor) and ``bottom_percent`` (the share of each such unit flagged as
    bottom performers, 末位).
    """

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("period"), max_length=20, choices=PeriodKind.choices)
    period = models.CharField(_("period"), max_length=7)  # "2026" or "2026-Q3"
    since = models.DateField(_("from"))
    until = models.DateField(_("to"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="appraisal_cycles",
                             verbose_name=_("department"))
    status = models.CharField(_("status"), max_length=20, choices=CycleStatus.choices,
                              default=CycleStatus.OPEN, db_index=True)
    grade_bands = models.JSONField(_("grade bands"), default=dict)
    distribution = models.JSONField(_("forced distribution"), default=list, blank=True)
    distribution_level = models.CharField(_("distribution per"), max_length=20,
                                          default="division")
    bottom_percent = models.DecimalField(_("bottom performers (%)"), max_digits=5,
                                         decimal_places=2, default=10)
    created_by = models.ForeignKey(Employee, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    computed_at = models.DateTimeField(_("figures read at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    reopen_reason = models.CharField(_("reason for reopening"), max_length=200, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-since", "kind", "pk"]
        verbose_name = _("appraisal cycle")
        verbose_name_plural = _("appraisal cycles")
        constraints = [
            models.UniqueConstraint(fields=["unit", "kind", "period"],
                                    name="appraisalcycle_unique_period"),
            models.CheckConstraint(condition=Q(until__gte=models.F("since")),
                                   name="appraisalcycle_dates"),
            models.CheckConstraint(condition=Q(bottom_percent__gte=0, bottom_percent__lte=100),
                                   name="appraisalcycle_bottom_percent"),
            models.CheckConstraint(condition=Q(status__in=CycleStatus.values),
                                   name="appraisalcycle_status"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_frozen(self) -> bool:
        return self.status in (CycleStatus.SUBMITTED, CycleStatus.APPROVED)


class AppraisalQuerySet(ScopedQuerySet):
    scope_owner_fields = ("employee",)
    scope_domain = Domain.PEOPLE


class Appraisal(models.Model):
    """One person's appraisal in a cycle: the scorecard as it was at the opening, its
    lines' figures and points, the result (total, grade, ranks, flags), the review
    interview signed by both, and the improvement plan."""

    cycle = models.ForeignKey(AppraisalCycle, on_delete=models.CASCADE,
                              related_name="appraisals", verbose_name=_("appraisal cycle"))
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="appraisals",
                                 verbose_name=_("employee"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("unit"))
    division = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", null=True,
                                 blank=True, verbose_name=_("division"))
    reviewer = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="+",
                                 null=True, blank=True, verbose_name=_("reviewer"))
    template = models.ForeignKey(ScorecardTemplate, on_delete=models.PROTECT,
                                 related_name="appraisals", verbose_name=_("scorecard template"))
    template_version = models.PositiveIntegerField(_("template version"))
    self_comment = models.TextField(_("self-assessment"), blank=True)
    self_submitted_at = models.DateTimeField(_("self-assessed at"), null=True, blank=True)
    review_comment = models.TextField(_("reviewer's comment"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    kpi_score = models.DecimalField(_("KPI score"), max_digits=8, decimal_places=2,
                                    null=True, blank=True)
    manual_score = models.DecimalField(_("manual score"), max_digits=8, decimal_places=2,
                                       null=True, blank=True)
    total_score = models.DecimalField(_("total score"), max_digits=8, decimal_places=2,
                                      null=True, blank=True, db_index=True)
    score_grade = models.CharField(_("grade by score"), max_length=1, blank=True)
    grade = models.CharField(_("grade"), max_length=1, blank=True, db_index=True)
    grade_reason = models.CharField(_("calibration reason"), max_length=200, blank=True)
    rank_unit = models.PositiveIntegerField(_("rank in team"), null=True, blank=True)
    rank_division = models.PositiveIntegerField(_("rank in division"), null=True, blank=True)
    rank_department = models.PositiveIntegerField(_("rank in department"), null=True,
                                                  blank=True)
    is_bottom = models.BooleanField(_("bottom performer"), default=False)
    is_elimination_candidate = models.BooleanField(_("elimination candidate"), default=False)
    interview_on = models.DateField(_("interview date"), null=True, blank=True)
    interview_notes = models.TextField(_("interview notes"), blank=True)
    employee_signed_at = models.DateTimeField(_("signed by the employee"), null=True,
                                              blank=True)
    reviewer_signed_at = models.DateTimeField(_("signed by the reviewer"), null=True,
                                              blank=True)

    objects = AppraisalQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["cycle", "-total_score", "employee__name", "pk"]
        verbose_name = _("appraisal")
        verbose_name_plural = _("appraisals")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "employee"],
                                    name="appraisal_unique_person"),
        ]
        indexes = [models.Index(fields=["employee", "cycle"], name="appraisal_employee_cycle")]

    def __str__(self):
        return f"{self.cycle} · {self.employee}"


class AppraisalLine(models.Model):
    """One scorecard item of one appraisal, with every input it was scored from: the
    item as it was (weight, rule), the target and where it came from, the measured value
    and its parts (e.g. due and collected of a collection rate), the points."""

    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="lines",
                                  verbose_name=_("appraisal"))
    sort_order = models.PositiveSmallIntegerField(_("order"))
    kind = models.CharField(_("kind"), max_length=10, choices=ItemKind.choices)
    kpi_code = models.CharField(_("KPI"), max_length=40, blank=True)
    name = models.CharField(_("name"), max_length=100)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2)
    target_source = models.CharField(_("target source"), max_length=10, blank=True,
                                     choices=TargetSource.choices)
    target = models.DecimalField(_("target"), max_digits=18, decimal_places=2, null=True,
                                 blank=True)
    actual = models.DecimalField(_("actual"), max_digits=18, decimal_places=2, null=True,
                                 blank=True)
    inputs = models.JSONField(_("inputs"), default=dict, blank=True)
    rule_kind = models.CharField(_("scoring rule"), max_length=10, choices=RuleKind.choices)
    rule_params = models.JSONField(_("rule parameters"), default=dict, blank=True)
    self_points = models.DecimalField(_("self-assessed points"), max_digits=8,
                                      decimal_places=2, null=True, blank=True)
    points = models.DecimalField(_("points"), max_digits=8, decimal_places=2, null=True,
                                 blank=True)
    weighted = models.DecimalField(_("weighted points"), max_digits=8, decimal_places=2,
                                   null=True, blank=True)

    class Meta:
        ordering = ["appraisal", "sort_order"]
        verbose_name = _("appraisal line")
        verbose_name_plural = _("appraisal lines")
        constraints = [
            models.UniqueConstraint(fields=["appraisal", "sort_order"],
                                    name="appraisalline_unique_order"),
        ]

    def __str__(self):
        return self.name

    @property
    def achievement(self):
        """% of the target reached (a KPI line with a target), as tracking shows it."""
        from bizdept.kpi.measures import achievement

        if self.kind != ItemKind.KPI or self.actual is None:
            return None
        return achievement(self.actual, self.target)


class ImprovementItem(models.Model):
    """One action of an appraisal's improvement plan (改进计划), tracked to its end."""

    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE,
                                  related_name="improvements", verbose_name=_("appraisal"))
    action = models.CharField(_("action"), max_length=300)
    owner = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("owner"))
    due_on = models.DateField(_("due on"))
    status = models.CharField(_("status"), max_length=10, choices=ImprovementStatus.choices,
                              default=ImprovementStatus.OPEN)
    note = models.CharField(_("note"), max_length=300, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    created_by = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("improvement item")
        verbose_name_plural = _("improvement items")

    def __str__(self):
        return self.action
