"""One FilterSet per model, used by the pages and the API alike."""

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bizdept.core.filters import YesNoFilter
from bizdept.org.filters import UnitFilter
from bizdept.org.models import Employee, Unit

from .choices import (
    COMPLAINT_PENDING,
    ComplaintStatus,
    Grade,
    ReportKind,
    Severity,
    Stage,
    VisitKind,
)
from .models import Complaint, Customer, MarketReport, Survey, Visit


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
    overdue = YesNoFilter(label=_("Revisit overdue"), method="is_overdue")
    pool = YesNoFilter(label=_("In the public pool"), method="in_pool")
    # Local dates (settings.TIME_ZONE), as the new-customers figure counts them (TGT-5).
    created_from = django_filters.DateFilter(label=_("Created from"), field_name="created_at",
                                             lookup_expr="date__gte")
    created_to = django_filters.DateFilter(label=_("Created until"), field_name="created_at",
                                           lookup_expr="date__lte")

    class Meta:
        model = Customer
        fields = ["q", "stage", "grade", "owner", "unit", "region", "overdue", "pool",
                  "created_from", "created_to"]

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


# --- complaints, surveys, market intelligence (CUS-9..11) ----------------------------
class _PeopleInScope:
    """Offer only the people the user may see (as handlers, reporters...)."""

    people_filters: tuple[str, ...] = ()

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        if request is not None:
            from bizdept.org.selectors import employee_list

            for name in self.people_filters:
                self.filters[name].queryset = employee_list(user=request.user).order_by("number")


class ComplaintFilterSet(_PeopleInScope, django_filters.FilterSet):
    people_filters = ("handler",)

    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  help_text=_("Title, description or customer"))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ComplaintStatus.choices,
                                         empty_label=_("All"))
    severity = django_filters.ChoiceFilter(label=_("Severity"), choices=Severity.choices,
                                           empty_label=_("All"))
    overdue = YesNoFilter(label=_("Overdue"), method="is_overdue")
    handler = django_filters.ModelChoiceFilter(label=_("Handler"), empty_label=_("All"),
                                               queryset=Employee.objects.all())
    unit = UnitFilter(label=_("Unit"), queryset=Unit.objects.order_by("path"),
                      method="in_unit", empty_label=_("All"))
    escalated_to_me = YesNoFilter(label=_("Escalated to me"),
                                                   method="is_escalated_to_me")

    class Meta:
        model = Complaint
        fields = ["q", "status", "severity", "overdue", "handler", "unit", "escalated_to_me"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value)
                               | Q(customer__name__icontains=value))

    def is_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        late = Q(status__in=COMPLAINT_PENDING, deadline_at__lt=timezone.now())
        return queryset.filter(late) if value else queryset.exclude(late)

    def in_unit(self, queryset, name, value):
        return queryset.filter(handler__unit__path__startswith=value.path) if value else queryset

    def is_escalated_to_me(self, queryset, name, value):
        if value is None:
            return queryset
        from bizdept.org.scope import employee_of

        me = employee_of(getattr(self.request, "user", None))
        mine = Q(escalated_to=me) if me is not None else Q(pk__in=[])
        return queryset.filter(mine) if value else queryset.exclude(mine)


class SurveyFilterSet(django_filters.FilterSet):
    period = django_filters.CharFilter(label=_("Period"), method="in_period",
                                       help_text=_("2026-Q3 or 2026-07"))
    q = django_filters.CharFilter(label=_("Customer"), method="search",
                                  help_text=_("Customer name"))
    unit = UnitFilter(label=_("Unit"), queryset=Unit.objects.order_by("path"),
                      method="in_unit", empty_label=_("All"),
                      help_text=_("Customers owned, or surveys made, in this unit"))

    class Meta:
        model = Survey
        fields = ["period", "q", "unit"]

    def in_period(self, queryset, name, value):
        value = value.strip().upper()
        return queryset.filter(period=value) if value else queryset

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(customer__name__icontains=value) if value else queryset

    def in_unit(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(Q(customer__owner__unit__path__startswith=value.path)
                               | Q(surveyed_by__unit__path__startswith=value.path))


class MarketReportFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  help_text=_("Title or text"))
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=ReportKind.choices,
                                       empty_label=_("All"))
    region = django_filters.CharFilter(label=_("Region"), lookup_expr="icontains")
    since = django_filters.DateFilter(label=_("From"), field_name="reported_on",
                                      lookup_expr="gte")
    until = django_filters.DateFilter(label=_("To"), field_name="reported_on",
                                      lookup_expr="lte")

    class Meta:
        model = MarketReport
        fields = ["q", "kind", "region", "since", "until"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(text__icontains=value))
