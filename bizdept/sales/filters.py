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


# === Opportunities (SAL-2) ==============================================================
from bizdept.org.models import Unit  # noqa: E402 - this section's own imports

from .choices import ExpenseCategory, ExpenseStatus, OpportunityStage  # noqa: E402
from .models import ExpenseBudget, ExpenseClaim, Opportunity  # noqa: E402


class UnitSubtreeFilter(django_filters.ModelChoiceFilter):
    """Owned by someone in this unit or under it."""

    def __init__(self, *args, owner_path: str = "owner", **kwargs):
        self.owner_path = owner_path
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.owner_path}__unit__path__startswith": value.path})


def _scoped_people(request, domain):
    from bizdept.org.scope import scope_for

    scope = scope_for(request.user, domain)
    return Employee.objects.filter(scope.q("")).order_by("number")


class OpportunityFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  help_text=_("Customer or subject"))
    stage = django_filters.ChoiceFilter(label=_("Opportunity stage"),
                                        choices=OpportunityStage.choices, empty_label=_("All"))
    owner = django_filters.ModelChoiceFilter(label=_("Opportunity owner"), empty_label=_("All"),
                                             queryset=Employee.objects.all())
    unit = UnitSubtreeFilter(label=_("Unit"), empty_label=_("All"),
                             queryset=Unit.objects.order_by("path"))
    close_from = django_filters.DateFilter(label=_("Expected close from"),
                                           field_name="expected_close_on", lookup_expr="gte")
    close_to = django_filters.DateFilter(label=_("Expected close until"),
                                         field_name="expected_close_on", lookup_expr="lte")

    class Meta:
        model = Opportunity
        fields = ["q", "stage", "owner", "unit", "close_from", "close_to"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        if request is not None:
            from bizdept.org.scope import Domain

            self.filters["owner"].queryset = _scoped_people(request, Domain.SALES)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(customer__name__icontains=value))


# === Expenses (SAL-7) ===================================================================
class ExpenseFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  help_text=_("Description, claimant or customer"))
    status = django_filters.ChoiceFilter(label=_("Claim status"), choices=ExpenseStatus.choices,
                                         empty_label=_("All"))
    category = django_filters.ChoiceFilter(label=_("Expense category"),
                                           choices=ExpenseCategory.choices,
                                           empty_label=_("All"))
    employee = django_filters.ModelChoiceFilter(label=_("Claimant"), empty_label=_("All"),
                                                queryset=Employee.objects.all())
    unit = UnitSubtreeFilter(label=_("Unit"), empty_label=_("All"), owner_path="employee",
                             queryset=Unit.objects.order_by("path"))
    spent_from = django_filters.DateFilter(label=_("Spent from"), field_name="spent_on",
                                           lookup_expr="gte")
    spent_to = django_filters.DateFilter(label=_("Spent until"), field_name="spent_on",
                                         lookup_expr="lte")
    # Approved or paid: what counts as spent against a budget or an expense target.
    spent = YesNoFilter(label=_("Counted as spent"), method="is_spent")

    class Meta:
        model = ExpenseClaim
        fields = ["q", "status", "category", "employee", "unit", "spent_from", "spent_to",
                  "spent"]

    def is_spent(self, queryset, name, value):
        from .choices import EXPENSE_SPENT

        if value is None:
            return queryset
        spent = Q(status__in=EXPENSE_SPENT)
        return queryset.filter(spent) if value else queryset.exclude(spent)

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        if request is not None:
            from bizdept.org.scope import Domain

            self.filters["employee"].queryset = _scoped_people(request, Domain.MONEY)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(description__icontains=value)
                               | Q(employee__name__icontains=value)
                               | Q(customer__name__icontains=value))


class ExpenseBudgetFilterSet(django_filters.FilterSet):
    period = django_filters.CharFilter(label=_("Budget period"), field_name="period")
    employee = django_filters.ModelChoiceFilter(label=_("Employee"), empty_label=_("All"),
                                                queryset=Employee.objects.all())

    class Meta:
        model = ExpenseBudget
        fields = ["period", "employee"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        if request is not None:
            from bizdept.org.scope import Domain

            self.filters["employee"].queryset = _scoped_people(request, Domain.MONEY)
# === end of SAL-2 / SAL-7 filters =======================================================


# === Contracts (SAL-5) ==================================================================
# (UnitSubtreeFilter and _scoped_people come from the opportunities' section above)
from django import forms as django_forms  # noqa: E402

from bizdept.customers.models import Customer  # noqa: E402

from .choices import ContractStatus  # noqa: E402
from .models import Contract  # noqa: E402


class ContractFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  help_text=_("Number, title or customer"))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ContractStatus.choices,
                                         empty_label=_("All"))
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), empty_label=_("All"),
                                             queryset=Employee.objects.all())
    unit = UnitSubtreeFilter(label=_("Unit"), empty_label=_("All"),
                             queryset=Unit.objects.order_by("path"))
    customer = django_filters.ModelChoiceFilter(label=_("Customer"), empty_label=_("All"),
                                                queryset=Customer.objects.all(),
                                                widget=django_forms.NumberInput)
    signed_from = django_filters.DateFilter(label=_("Signed from"), field_name="signed_on",
                                            lookup_expr="gte")
    signed_to = django_filters.DateFilter(label=_("Signed until"), field_name="signed_on",
                                          lookup_expr="lte")
    # Signed and not terminated: the contracts revenue and gross margin count (TGT-5).
    counted = YesNoFilter(label=_("Counted as revenue"), method="is_counted")

    class Meta:
        model = Contract
        fields = ["q", "status", "owner", "unit", "customer", "signed_from", "signed_to",
                  "counted"]

    def is_counted(self, queryset, name, value):
        from .choices import CONTRACT_COUNTED

        if value is None:
            return queryset
        counted = Q(status__in=CONTRACT_COUNTED)
        return queryset.filter(counted) if value else queryset.exclude(counted)

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        if request is not None:
            from bizdept.org.scope import Domain

            self.filters["owner"].queryset = _scoped_people(request, Domain.MONEY)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(number__number__icontains=value) | Q(title__icontains=value)
                               | Q(customer__name__icontains=value))
# === end of Contracts (SAL-5) filters ===================================================
