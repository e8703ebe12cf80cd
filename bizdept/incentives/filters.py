
# === Bonus runs and lines (INC-2): runs/lines =============================================
import django_filters  # noqa: E402 - this section's own imports
from django.utils.translation import gettext_lazy as _  # noqa: E402

from bizdept.appraisal.choices import Grade  # noqa: E402
from bizdept.org.filters import UnitFilter  # noqa: E402
from bizdept.org.models import Unit  # noqa: E402

from .choices import PlanStatus as _PlanStatus  # noqa: E402
from .choices import RunStatus as _RunStatus  # noqa: E402
from .models import BonusLine as _BonusLine  # noqa: E402
from .models import BonusPlan as _BonusPlan  # noqa: E402
from .models import BonusRun as _BonusRun  # noqa: E402


class RunFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=_RunStatus.choices,
                                         empty_label=_("All"))

    class Meta:
        model = _BonusRun
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
        queryset=_BonusPlan.objects.exclude(status=_PlanStatus.DRAFT))
    grade = django_filters.ChoiceFilter(label=_("Grade"), choices=Grade.choices,
                                        empty_label=_("All"))
    gates = django_filters.ChoiceFilter(
        label=_("Gates"), method="gates_hit", empty_label=_("All"),
        choices=[("hit", _("A gate is hit")), ("clear", _("No gate hit"))])

    class Meta:
        model = _BonusLine
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
from bizdept.appraisal.choices import PeriodKind as _PeriodKind  # noqa: E402
from bizdept.org.models import Position as _Position  # noqa: E402


class PlanFilterSet(django_filters.FilterSet):
    """Plans by name, position, period and status (the rows are the user's already)."""

    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  help_text=_("Part of the plan's name"))
    position = django_filters.ModelChoiceFilter(
        label=_("Position"), empty_label=_("All"), queryset=_Position.objects.all())
    period_kind = django_filters.ChoiceFilter(label=_("Period"), choices=_PeriodKind.choices,
                                              empty_label=_("All"))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=_PlanStatus.choices,
                                         empty_label=_("All"))

    class Meta:
        model = _BonusPlan
        fields = ["q", "position", "period_kind", "status"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(name__icontains=value) if value else queryset
# === end of Bonus plans (INC-1): plans =====================================================

# === Awards (INC-3) ========================================================================
from .choices import AwardKind as _AwardKind  # noqa: E402 - this section's own imports
from .choices import AwardStatus as _AwardStatus  # noqa: E402
from .models import Award as _Award  # noqa: E402
from .models import HonorTitle as _HonorTitle  # noqa: E402


class AwardFilterSet(django_filters.FilterSet):
    """Awards: kind, status, period ("2026", "2026-Q3"), honor title, the person's unit
    (and below), part of the person's name."""

    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  help_text=_("Part of the person's name"))
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=_AwardKind.choices,
                                       empty_label=_("All"))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=_AwardStatus.choices,
                                         empty_label=_("All"))
    period = django_filters.CharFilter(label=_("Period"), method="in_period", max_length=7,
                                       help_text=_("A year (2026) or a quarter (2026-Q3)"))
    title = django_filters.ModelChoiceFilter(label=_("Honor title"), empty_label=_("All"),
                                             queryset=_HonorTitle.objects.all())
    unit = UnitFilter(label=_("Unit"), queryset=Unit.objects.order_by("path"),
                      method="in_unit", empty_label=_("All"),
                      help_text=_("The unit and every unit under it"))

    class Meta:
        model = _Award
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
        model = _HonorTitle
        fields = ["is_active"]
# === end of Awards (INC-3) =================================================================
