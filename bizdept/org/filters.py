"""One FilterSet per model, used by the page and the API alike."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import EmployeeStatus, RoleCode
from .forms import UnitChoiceField
from .models import Employee, Position, Unit


class UnitFilter(django_filters.ModelChoiceFilter):
    field_class = UnitChoiceField


class EmployeeFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  help_text=_("Name, employee number, phone or email"))
    unit = UnitFilter(
        label=_("Unit"), queryset=Unit.objects.order_by("path"), method="in_unit",
        empty_label=_("All"),
        help_text=_("The unit and every unit under it"),
    )
    position = django_filters.ModelChoiceFilter(label=_("Position"),
                                                queryset=Position.objects.all(),
                                                empty_label=_("All"))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=EmployeeStatus.choices,
                                         empty_label=_("All"))
    role = django_filters.ChoiceFilter(label=_("Role"), choices=RoleCode.choices,
                                       field_name="roles__code", distinct=True,
                                       empty_label=_("All"))

    class Meta:
        model = Employee
        fields = ["q", "unit", "position", "status", "role"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(number__icontains=value)
            | Q(phone__icontains=value) | Q(email__icontains=value)
        )

    def in_unit(self, queryset, name, value):
        return queryset.filter(unit__path__startswith=value.path) if value else queryset
