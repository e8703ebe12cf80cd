"""One FilterSet per model, used by the pages and the API alike."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import RequestStatus
from .models import ApprovalRequest


class ApprovalRequestFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  help_text=_("Title"))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=RequestStatus.choices,
                                         empty_label=_("All"))
    document_type = django_filters.CharFilter(label=_("Document type"))

    class Meta:
        model = ApprovalRequest
        fields = ["q", "status", "document_type"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(title__icontains=value)) if value else queryset
