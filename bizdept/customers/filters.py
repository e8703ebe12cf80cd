"""One FilterSet per model, used by the pages and the API alike."""

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bizdept.org.filters import UnitFilter
from bizdept.org.models import Employee, Unit

from .choices import Grade, Stage, VisitKind
from .models import Customer, Visit


class CustomerFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  help_text=_("Name, credit code or phone"))
    stage = django_filters.ChoiceFilter(label=_("Stage"), choices=Stage.choices,
                                        empty_label=_("All"))
    grade = django_filters.ChoiceFilter(label=_("Grade"), choices=Grade.choices,
                                        empty_label=_("All"))
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), empty_label=_("All"),
                                             queryset=Employee.objects.all())
    unit = UnitFilter(label=_("Unit"), queryset=Unit.objects.order_by("path"),
                      method="in_unit", empty_label=_("All"))
    region = django_filters.CharFilter(label=_("Region"), lookup_expr="icontains")
    overdue = django_filters.BooleanFilter(label=_("Revisit overdue"), method="is_overdue")
    pool = django_filters.BooleanFilter(label=_("In the public pool"), method="in_pool")

    class Meta:
        model = Customer
        fields = ["q", "stage", "grade", "owner", "unit", "region", "overdue", "pool"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        if request is not None:
            # Only people the user may see are offered as owners.
            from bizdept.org.selectors import employee_list

            self.filters["owner"].queryset = employee_list(user=request.user).order_by("number")

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(credit_code__iexact=value)
                               | Q(phone__contains=value))

    def in_unit(self, queryset, name, value):
        return queryset.filter(owner__unit__path__startswith=value.path) if value else queryset

    def is_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        due = Q(owner__isnull=False, next_revisit_on__lte=timezone.localdate())
        return queryset.filter(due) if value else queryset.exclude(due)

    def in_pool(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(owner__isnull=value)


class VisitFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=VisitKind.choices,
                                       empty_label=_("All"))
    since = django_filters.DateFilter(label=_("From"), field_name="visited_at",
                                      lookup_expr="date__gte")
    until = django_filters.DateFilter(label=_("To"), field_name="visited_at",
                                      lookup_expr="date__lte")

    class Meta:
        model = Visit
        fields = ["kind", "since", "until"]
