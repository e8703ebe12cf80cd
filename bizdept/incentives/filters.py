"""Filters of the incentives app, shared by the pages and the API (INC-1..3)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from bizdept.appraisal.choices import Grade, PeriodKind
from bizdept.org.filters import UnitFilter
from bizdept.org.models import Position, Unit

from .choices import AwardKind, AwardStatus, PlanStatus, RunStatus
from .models import Award, BonusLine, BonusPlan, BonusRun, HonorTitle


# === Bonus runs and lines (INC-2) =========================================================
class RunFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=RunStatus.choices,
                                         empty_label=_("All"))

    class Meta:
        model = BonusRun
        fields = ["status"]


class BonusLineFilterSet(django_filters.FilterSet):
    """A run's lines: the person's name, their unit (and below), plan, grade, gates hit."""

    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  help_text=_("Part of the person's name"))
    unit = UnitFilter(label=_("Unit"), queryset=Unit.objects.order_by("path"),
                      method="in_unit", empty_label=_("All"),
                      help_text=_("The unit and every unit under it"))
    plan = django_filters.ModelChoiceFilter(
        label=_("Bonus plan"), empty_label=_("All"),
        queryset=BonusPlan.objects.exclude(status=PlanStatus.DRAFT))
    grade = django_filters.ChoiceFilter(label=_("Grade"), choices=Grade.choices,
                                        empty_label=_("All"))
    gates = django_filters.ChoiceFilter(
        label=_("Gates"), method="gates_hit", empty_label=_("All"),
        choices=[("hit", _("A gate is hit")), ("clear", _("No gate hit"))])

    class Meta:
        model = BonusLine
        fields = ["q", "unit", "plan", "grade", "gates"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(employee__name__icontains=value) if value else queryset

    def in_unit(self, queryset, name, value):
        return queryset.filter(unit__path__startswith=value.path) if value else queryset

    def gates_hit(self, queryset, name, value):
        # the explanation keeps each gate with "hit": true/false (JSON text, any backend)
        hit = '"hit": true'
        if value == "hit":
            return queryset.filter(explanation__icontains=hit)
        if value == "clear":
            return queryset.exclude(explanation__icontains=hit)
        return queryset
# === end of Bonus runs and lines (INC-2) ===================================================

# === Bonus plans (INC-1): plans (shared by the plan pages and the API) =====================


class PlanFilterSet(django_filters.FilterSet):
    """Plans by name, position, period and status (the rows are the user's already)."""

    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  help_text=_("Part of the plan's name"))
    position = django_filters.ModelChoiceFilter(
        label=_("Position"), empty_label=_("All"), queryset=Position.objects.all())
    period_kind = django_filters.ChoiceFilter(label=_("Period"), choices=PeriodKind.choices,
                                              empty_label=_("All"))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=PlanStatus.choices,
                                         empty_label=_("All"))

    class Meta:
        model = BonusPlan
        fields = ["q", "position", "period_kind", "status"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(name__icontains=value) if value else queryset
# === end of Bonus plans (INC-1): plans =====================================================

# === Awards (INC-3) ========================================================================


class AwardFilterSet(django_filters.FilterSet):
    """Awards: kind, status, period ("2026", "2026-Q3"), honor title, the person's unit
    (and below), part of the person's name."""

    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  help_text=_("Part of the person's name"))
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=AwardKind.choices,
                                       empty_label=_("All"))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=AwardStatus.choices,
                                         empty_label=_("All"))
    period = django_filters.CharFilter(label=_("Period"), method="in_period", max_length=7,
                                       help_text=_("A year (2026) or a quarter (2026-Q3)"))
    title = django_filters.ModelChoiceFilter(label=_("Honor title"), empty_label=_("All"),
                                             queryset=HonorTitle.objects.all())
    unit = UnitFilter(label=_("Unit"), queryset=Unit.objects.order_by("path"),
                      method="in_unit", empty_label=_("All"),
                      help_text=_("The unit and every unit under it"))

    class Meta:
        model = Award
        fields = ["q", "kind", "status", "period", "title", "unit"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(employee__name__icontains=value) if value else queryset

    def in_period(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(period__startswith=value) if value else queryset

    def in_unit(self, queryset, name, value):
        return queryset.filter(employee__unit__path__startswith=value.path) if value \
            else queryset


class HonorTitleFilterSet(django_filters.FilterSet):
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = HonorTitle
        fields = ["is_active"]
# === end of Awards (INC-3) =================================================================
