"""Incentives (INC-1, INC-2): bonus plans per position and period, and the bonus runs
that pay an approved appraisal cycle by them, one explained line per person.

A plan's rules are kept as checked JSON (``services`` normalizes them, decimals as text):

* ``coefficients`` — by grade: ``{"S": "1.5", "A": "1.2", …}``; by score: bands
  ``[{"from": "90", "coefficient": "1.5"}, …]`` (the highest band reached).
* ``tiers`` — ``[{"from": "0", "rate": "0"}, {"from": "80", "rate": "3"}, …]``:
  achievement % where each tier starts (the first at 0) and its rate in %.
* ``gates`` — ``[{"kind": "kpi_below", "kpi": "collection_rate", "floor": "60",
  "blocks": "commission"}, {"kind": "grade_in", "grades": ["D"], "blocks": "all"}]``.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from bizdept.appraisal.choices import PeriodKind
from bizdept.appraisal.models import Appraisal, AppraisalCycle
from bizdept.org.models import Employee, Position, Unit
from bizdept.org.scope import Domain, ScopedQuerySet

from .choices import (
    APPRAISAL_SCORE,
    AwardKind,
    AwardStatus,
    CoefficientBasis,
    CommissionMeasure,
    CommissionMode,
    PlanStatus,
    RankingUnit,
    RunStatus,
)

MONEY = {"max_digits": 16, "decimal_places": 2}


class BonusPlan(models.Model):
    """One version of the bonus plan (奖金方案) of a position for quarterly or annual
    appraisals: base × coefficient, commission by tiers, caps and gates."""

    name = models.CharField(_("name"), max_length=100)
    position = models.ForeignKey(Position, on_delete=models.PROTECT,
                                 related_name="bonus_plans", verbose_name=_("position"))
    period_kind = models.CharField(_("period"), max_length=20, choices=PeriodKind.choices)
    number = models.PositiveIntegerField(_("version"))  # 1, 2, … per position and period
    status = models.CharField(_("status"), max_length=20, choices=PlanStatus.choices,
                              default=PlanStatus.DRAFT, db_index=True)
    base_amount = models.DecimalField(_("base amount"), **MONEY)
    coefficient_basis = models.CharField(_("coefficient by"), max_length=10,
                                         choices=CoefficientBasis.choices,
                                         default=CoefficientBasis.GRADE)
    coefficients = models.JSONField(_("coefficients"), default=dict)
    commission_measure = models.CharField(_("commission on"), max_length=20, blank=True,
                                          choices=CommissionMeasure.choices)
    commission_mode = models.CharField(_("commission tiers"), max_length=10,
                                       choices=CommissionMode.choices,
                                       default=CommissionMode.TIERED)
    tiers = models.JSONField(_("tiers"), default=list, blank=True)
    commission_cap = models.DecimalField(_("commission cap"), null=True, blank=True, **MONEY)
    total_cap = models.DecimalField(_("cap per person"), null=True, blank=True, **MONEY)
    gates = models.JSONField(_("gates"), default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    # Raised by every change; a write naming an older version answers 409.
    version = models.PositiveIntegerField(_("edit count"), default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position__name", "period_kind", "-number", "pk"]
        verbose_name = _("bonus plan")
        verbose_name_plural = _("bonus plans")
        constraints = [
            models.UniqueConstraint(fields=["position", "period_kind", "number"],
                                    name="bonusplan_unique_number"),
            # one version in force per position and period
            models.UniqueConstraint(fields=["position", "period_kind"],
                                    condition=Q(status=PlanStatus.APPROVED),
                                    name="bonusplan_one_in_force"),
            models.CheckConstraint(condition=Q(base_amount__gte=0),
                                   name="bonusplan_base_not_negative"),
            models.CheckConstraint(condition=Q(commission_cap__isnull=True)
                                   | Q(commission_cap__gte=0),
                                   name="bonusplan_commission_cap"),
            models.CheckConstraint(condition=Q(total_cap__isnull=True) | Q(total_cap__gte=0),
                                   name="bonusplan_total_cap"),
            models.CheckConstraint(condition=Q(status__in=PlanStatus.values),
                                   name="bonusplan_status"),
            models.CheckConstraint(condition=Q(commission_measure__in=CommissionMeasure.values),
                                   name="bonusplan_commission_measure"),
        ]

    def __str__(self):
        return f"{self.name} v{self.number}"

    @property
    def is_editable(self) -> bool:
        return self.status == PlanStatus.DRAFT


class BonusRun(models.Model):
    """The bonus of an approved appraisal cycle (奖金核算): one line per appraised person
    whose position has a plan in force, worked out while a draft, frozen once approved."""

    cycle = models.OneToOneField(AppraisalCycle, on_delete=models.PROTECT,
                                 related_name="bonus_run", verbose_name=_("appraisal cycle"))
    name = models.CharField(_("name"), max_length=100)
    status = models.CharField(_("status"), max_length=20, choices=RunStatus.choices,
                              default=RunStatus.DRAFT, db_index=True)
    total = models.DecimalField(_("total"), default=0, **MONEY)
    people = models.PositiveIntegerField(_("people"), default=0)
    created_by = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    computed_at = models.DateTimeField(_("worked out at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("edit count"), default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-cycle__since", "pk"]
        verbose_name = _("bonus run")
        verbose_name_plural = _("bonus runs")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RunStatus.values),
                                   name="bonusrun_status"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_frozen(self) -> bool:
        return self.status in (RunStatus.SUBMITTED, RunStatus.APPROVED)


class BonusLineQuerySet(ScopedQuerySet):
    # Pay is money: the person, the heads above them, finance and the director see it.
    scope_owner_fields = ("employee",)
    scope_domain = Domain.MONEY


class BonusLine(models.Model):
    """One person's bonus in a run, with everything it was worked out from: the plan
    version, each input and its source, each tier's arithmetic, the gates hit and the
    caps applied (``explanation``), and the amounts (Decimal, 2 places, half up)."""

    run = models.ForeignKey(BonusRun, on_delete=models.CASCADE, related_name="lines",
                            verbose_name=_("bonus run"))
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="bonus_lines",
                                 verbose_name=_("employee"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("unit"))
    appraisal = models.ForeignKey(Appraisal, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("appraisal"))
    plan = models.ForeignKey(BonusPlan, on_delete=models.PROTECT, related_name="lines",
                             verbose_name=_("bonus plan"))
    grade = models.CharField(_("grade"), max_length=1, blank=True)
    score = models.DecimalField(_("total score"), max_digits=8, decimal_places=2, null=True,
                                blank=True)
    coefficient = models.DecimalField(_("coefficient"), max_digits=8, decimal_places=4)
    base_bonus = models.DecimalField(_("base bonus"), **MONEY)
    actual = models.DecimalField(_("actual"), max_digits=18, decimal_places=2, null=True,
                                 blank=True)
    target = models.DecimalField(_("target"), max_digits=18, decimal_places=2, null=True,
                                 blank=True)
    achievement = models.DecimalField(_("achievement (%)"), max_digits=10, decimal_places=2,
                                      null=True, blank=True)
    commission = models.DecimalField(_("commission"), **MONEY)
    capped_by = models.DecimalField(_("cut by caps"), default=0, **MONEY)
    total = models.DecimalField(_("bonus"), **MONEY)
    explanation = models.JSONField(_("explanation"), default=dict)

    objects = BonusLineQuerySet.as_manager()

    class Meta:
        ordering = ["run", "unit__path", "employee__name", "pk"]
        verbose_name = _("bonus line")
        verbose_name_plural = _("bonus lines")
        constraints = [
            models.UniqueConstraint(fields=["run", "employee"], name="bonusline_unique_person"),
        ]
        indexes = [models.Index(fields=["employee", "run"], name="bonusline_employee_run")]

    def __str__(self):
        return f"{self.run} · {self.employee}"


# === Awards (INC-3) =======================================================================


class HonorTitle(models.Model):
    """An honor title (荣誉称号) the department gives, configurable: what people are ranked
    by (the appraisal's total score or a KPI), per which unit, how many per unit, for which
    position (blank: everyone) and from which cycles (quarterly or annual)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    name_en = models.CharField(_("name in English"), max_length=100, blank=True)
    basis = models.CharField(_("ranked by"), max_length=40, default=APPRAISAL_SCORE)
    per = models.CharField(_("ranked per"), max_length=20, choices=RankingUnit.choices,
                           default=RankingUnit.DEPARTMENT)
    top = models.PositiveSmallIntegerField(_("how many per unit"), default=1)
    position = models.ForeignKey(Position, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("position"))
    period_kind = models.CharField(_("period"), max_length=20, choices=PeriodKind.choices,
                                   default=PeriodKind.QUARTERLY)
    is_active = models.BooleanField(_("active"), default=True, db_index=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    version = models.PositiveIntegerField(_("edit count"), default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-is_active", "name", "pk"]
        verbose_name = _("honor title")
        verbose_name_plural = _("honor titles")
        constraints = [
            models.CheckConstraint(condition=Q(top__gte=1), name="honortitle_top_positive"),
            models.CheckConstraint(condition=Q(per__in=RankingUnit.values),
                                   name="honortitle_per"),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        from django.utils.translation import get_language

        english = (get_language() or "").startswith("en")
        return self.name_en if english and self.name_en else self.name


class AwardQuerySet(ScopedQuerySet):
    # Kept on the person's record: the person, the heads above them, HR and the director.
    scope_owner_fields = ("employee",)
    scope_domain = Domain.PEOPLE


class Award(models.Model):
    """One award on a person's record (INC-3): a year-end special award (an amount), an
    honor title proposed from a cycle's ranking, or a promotion recommendation from
    consecutive top grades. Proposed, then confirmed or declined by the director.

    ``evidence`` says why, for the page to put in words: an honor title's
    ``{"basis", "value", "rank", "unit": {"id", "name"}, "per", "of", "tied"}``; a
    promotion's ``{"streak": [{"cycle", "period", "grade"}, …]}``."""

    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="awards",
                                 verbose_name=_("employee"))
    kind = models.CharField(_("kind"), max_length=20, choices=AwardKind.choices, db_index=True)
    title = models.ForeignKey(HonorTitle, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="awards", verbose_name=_("honor title"))
    cycle = models.ForeignKey(AppraisalCycle, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="awards", verbose_name=_("appraisal cycle"))
    period = models.CharField(_("period"), max_length=7, db_index=True)  # "2026", "2026-Q3"
    amount = models.DecimalField(_("amount"), null=True, blank=True, **MONEY)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=AwardStatus.choices,
                              default=AwardStatus.PROPOSED, db_index=True)
    proposed_by = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("proposed by"))
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    decided_by = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="+",
                                   null=True, blank=True, verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    objects = AwardQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-period", "kind", "employee__name", "pk"]
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        constraints = [
            # proposing from a cycle twice does not duplicate
            models.UniqueConstraint(fields=["kind", "title", "cycle", "employee"],
                                    condition=Q(kind=AwardKind.HONOR_TITLE),
                                    name="award_unique_title"),
            models.UniqueConstraint(fields=["kind", "cycle", "employee"],
                                    condition=Q(kind=AwardKind.PROMOTION),
                                    name="award_unique_promotion"),
            models.CheckConstraint(condition=Q(kind__in=AwardKind.values), name="award_kind"),
            models.CheckConstraint(condition=Q(status__in=AwardStatus.values),
                                   name="award_status"),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gt=0),
                                   name="award_amount_positive"),
        ]
        indexes = [models.Index(fields=["employee", "status"], name="award_employee_status")]

    def __str__(self):
        return f"{self.employee} · {self.label}"

    @property
    def label(self) -> str:
        if self.kind == AwardKind.HONOR_TITLE and self.title_id:
            return self.title.display_name
        return str(self.get_kind_display())

    @property
    def is_decided(self) -> bool:
        return self.status != AwardStatus.PROPOSED
