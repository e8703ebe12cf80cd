"""Administration of the KPI inputs. They are entered through the services (a year's
planned shares must total 100, checked across the rows) on the KPI inputs page or the
API, so the admin only shows them, with their history."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import MarketSize, PlannedMix


class _ReadOnly(SimpleHistoryAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MarketSize)
class MarketSizeAdmin(_ReadOnly):
    list_display = ("year", "region", "size", "updated_at")
    list_filter = ("year",)
    search_fields = ("region",)


@admin.register(PlannedMix)
class PlannedMixAdmin(_ReadOnly):
    list_display = ("year", "category", "percent", "updated_at")
    list_filter = ("year",)
    list_select_related = ("category",)
