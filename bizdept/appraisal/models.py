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

from bizdept.org.models import Position

from .choices import ItemKind, PeriodKind, RuleKind, TargetSource

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
