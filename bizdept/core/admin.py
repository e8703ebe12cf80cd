from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import ApiToken, CalendarDay, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + ((None, {"fields": ("language",)}),)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    list_select_related = ("user",)


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """Holidays and make-up working days; every other day follows Monday–Friday."""

    list_display = ("day", "is_working", "name")
    list_filter = ("is_working",)
    date_hierarchy = "day"
