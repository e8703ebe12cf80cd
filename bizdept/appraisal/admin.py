"""Administration of the appraisal app. Templates are kept through the services (their
weights must total 100, checked across the items), so the admin only shows them."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import ScorecardItem, ScorecardTemplate


class ScorecardItemInline(admin.TabularInline):
    model = ScorecardItem
    extra = 0
    fields = ("sort_order", "kind", "kpi_code", "name", "weight", "target_source",
              "fixed_target", "rule_kind", "rule_params")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ScorecardTemplate)
class ScorecardTemplateAdmin(SimpleHistoryAdmin):
    list_display = ("name", "position", "period_kind", "is_active", "version", "updated_at")
    list_filter = ("is_active", "period_kind", "position")
    search_fields = ("name", "position__name")
    list_select_related = ("position",)
    inlines = [ScorecardItemInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
