"""Administrators tune the customer rules here: grade thresholds and revisit intervals
(CUS-3/4), pool release days and claim limits (CUS-6). Records are kept in the pages."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import CustomerSettings, GradeRule


@admin.register(GradeRule)
class GradeRuleAdmin(SimpleHistoryAdmin):
    list_display = ("grade", "min_received", "revisit_days")


@admin.register(CustomerSettings)
class CustomerSettingsAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "pool_release_days", "daily_claim_limit", "owned_limit")

    def has_add_permission(self, request):
        return not CustomerSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
