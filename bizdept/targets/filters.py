"""One FilterSet per model of the targets app, used by the pages and the API alike."""

import django_filters
from django.utils.translation import gettext_lazy as _

from .choices import Metric, PlanStatus
from .models import TargetPlan


# === Plans (TGT-1..4) ===================================================================
class TargetPlanFilterSet(django_filters.FilterSet):
    year = django_filters.NumberFilter(label=_("Fiscal year"), field_name="fiscal_year",
                                       min_value=2000, max_value=2999)
    metric = django_filters.ChoiceFilter(label=_("Metric"), choices=Metric.choices,
                                         empty_label=_("All"))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=PlanStatus.choices,
                                         empty_label=_("All"))

    class Meta:
        model = TargetPlan
        fields = ["year", "metric", "status"]
# === end of Plans (TGT-1..4) ============================================================
