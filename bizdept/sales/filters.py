"""One FilterSet per model of the sales app, used by the pages and the API alike."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bizdept.core.filters import YesNoFilter
from bizdept.org.models import Employee

from .choices import ContractNumberStatus
from .models import ContractNumber, Product, ProductCategory


# === Products (SAL-1) ==================================================================
class CategoryFilter(django_filters.ModelChoiceFilter):
    """A category with everything under it (two levels are the usual depth)."""

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(Q(category=value) | Q(category__parent=value)
                         | Q(category__parent__parent=value))


class ProductFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  help_text=_("Code or name"))
    category = CategoryFilter(label=_("Category"), empty_label=_("All"),
                              queryset=ProductCategory.objects.order_by("sort_order", "name"))
    active = YesNoFilter(label=_("On sale"), field_name="is_active")

    class Meta:
        model = Product
        fields = ["q", "category", "active"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))


# === Contract number register (SAL-4) ==================================================
class ContractNumberFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  help_text=_("Number, holder or reason"))
    year = django_filters.NumberFilter(label=_("Year"), field_name="year", min_value=2000,
                                       max_value=9999)
    status = django_filters.ChoiceFilter(label=_("Status"),
                                         choices=ContractNumberStatus.choices,
                                         empty_label=_("All"))
    person = django_filters.ModelChoiceFilter(label=_("Issued to"), field_name="issued_to",
                                              empty_label=_("All"),
                                              queryset=Employee.objects.all())

    class Meta:
        model = ContractNumber
        fields = ["q", "year", "status", "person"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        if request is not None:
            # Only people whose numbers the user may see are offered.
            from bizdept.org.scope import Domain, scope_for

            scope = scope_for(request.user, Domain.MONEY)
            self.filters["person"].queryset = Employee.objects.filter(
                scope.q("")).order_by("number")

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(number__icontains=value) | Q(issued_to__name__icontains=value)
                               | Q(reason__icontains=value))
