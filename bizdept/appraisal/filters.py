"""One FilterSet per model of the appraisal app, used by the pages and the API alike."""

import django_filters
from django.utils.translation import gettext_lazy as _

from bizdept.org.filters import UnitFilter
from bizdept.org.models import Employee, Unit

from .choices import Grade
from .models import Appraisal, AppraisalCycle


# === Appraisals (PER-3..5) ================================================================
class AppraisalFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  help_text=_("Part of the person's name"))
    cycle = django_filters.ModelChoiceFilter(label=_("Appraisal cycle"), empty_label=_("All"),
                                             queryset=AppraisalCycle.objects.all())
    unit = UnitFilter(label=_("Unit"), queryset=Unit.objects.order_by("path"),
                      method="in_unit", empty_label=_("All"),
                      help_text=_("The unit and every unit under it"))
    employee = django_filters.ModelChoiceFilter(label=_("Employee"), empty_label=_("All"),
                                                queryset=Employee.objects.all())
    grade = django_filters.ChoiceFilter(label=_("Grade"), choices=Grade.choices,
                                        empty_label=_("All"))
    flagged = django_filters.ChoiceFilter(
        label=_("Flagged"), method="is_flagged", empty_label=_("All"),
        choices=[("bottom", _("Bottom performers")),
                 ("elimination", _("Elimination candidates"))])

    class Meta:
        model = Appraisal
        fields = ["q", "cycle", "unit", "employee", "grade", "flagged"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(employee__name__icontains=value) if value else queryset

    def in_unit(self, queryset, name, value):
        return queryset.filter(unit__path__startswith=value.path) if value else queryset

    def is_flagged(self, queryset, name, value):
        if value == "bottom":
            return queryset.filter(is_bottom=True)
        if value == "elimination":
            return queryset.filter(is_elimination_candidate=True)
        return queryset
# === end of Appraisals (PER-3..5) =========================================================


# === Pages: scorecard templates, cycles and a cycle's results (PER-2..5) ===============
from django.db.models import Q  # noqa: E402 - this section's own imports

from bizdept.org.models import Position  # noqa: E402

from .choices import CycleStatus, PeriodKind  # noqa: E402
from .models import ScorecardTemplate  # noqa: E402


class ScorecardTemplateFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  help_text=_("Part of the name or the position"))
    position = django_filters.ModelChoiceFilter(label=_("Position"), empty_label=_("All"),
                                                queryset=Position.objects.order_by("name"))
    period_kind = django_filters.ChoiceFilter(label=_("Period"), choices=PeriodKind.choices,
                                              empty_label=_("All"))
    is_active = django_filters.ChoiceFilter(
        label=_("Active"), method="active", empty_label=_("All"),
        choices=[("yes", _("Active")), ("no", _("Inactive"))])

    class Meta:
        model = ScorecardTemplate
        fields = ["q", "position", "period_kind", "is_active"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(position__name__icontains=value))

    def active(self, queryset, name, value):
        if value in ("yes", "no"):
            return queryset.filter(is_active=value == "yes")
        return queryset


class CycleFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Period"), choices=PeriodKind.choices,
                                       empty_label=_("All"))
    status = django_filters.ChoiceFilter(label=_("Stage"), choices=CycleStatus.choices,
                                         empty_label=_("All"))

    class Meta:
        model = AppraisalCycle
        fields = ["kind", "status"]


class CycleResultFilterSet(AppraisalFilterSet):
    """A cycle's results table: the appraisals filters without the cycle and the person."""

    class Meta(AppraisalFilterSet.Meta):
        fields = ["q", "unit", "grade", "flagged"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("cycle", "employee"):
            self.filters.pop(name, None)  # before the form is built from them
# === end of Pages (PER-2..5) ============================================================
