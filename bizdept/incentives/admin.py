"""Admin of the incentives app (read mostly: writes go through the services)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Award, BonusPlan, BonusRun, HonorTitle


class ReadOnly:
    """Plans, runs and lines are written by the services only (rules checked across
    fields, approval through the engine, frozen runs): the admin shows them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BonusPlan)
class BonusPlanAdmin(ReadOnly, SimpleHistoryAdmin):
    list_display = ("name", "position", "period_kind", "number", "status", "base_amount",
                    "commission_measure", "approved_at")
    list_filter = ("status", "period_kind", "position")
    search_fields = ("name", "position__name")
    list_select_related = ("position",)


@admin.register(BonusRun)
class BonusRunAdmin(ReadOnly, SimpleHistoryAdmin):
    list_display = ("name", "cycle", "status", "people", "total", "approved_at")
    list_filter = ("status",)
    list_select_related = ("cycle",)


# === Awards (INC-3) =======================================================================


@admin.register(HonorTitle)
class HonorTitleAdmin(ReadOnly, SimpleHistoryAdmin):
    list_display = ("name", "basis", "per", "top", "position", "period_kind", "is_active")
    list_filter = ("is_active", "period_kind", "per")
    list_select_related = ("position",)


@admin.register(Award)
class AwardAdmin(ReadOnly, SimpleHistoryAdmin):
    list_display = ("employee", "kind", "title", "period", "amount", "status", "decided_at")
    list_filter = ("kind", "status")
    search_fields = ("employee__name", "period")
    list_select_related = ("employee", "title")
# === end of Awards (INC-3) =================================================================
