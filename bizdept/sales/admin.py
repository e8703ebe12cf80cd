"""Administration of the sales app: the number pattern (SAL-4) is set here; the catalogue
and the register are kept in the pages (through the services), so they are read-only here
(a product is never deleted, a contract number never removed from the register)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import ContractNumber, ContractNumberSetting, Product, ProductCategory


class ReadOnlyAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# === Products (SAL-1) ==================================================================
@admin.register(ProductCategory)
class ProductCategoryAdmin(ReadOnlyAdmin):
    list_display = ("name", "parent", "sort_order")


@admin.register(Product)
class ProductAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "category", "unit", "list_price", "standard_cost",
                    "is_active")
    list_filter = ("is_active", "category")
    search_fields = ("code", "name")


# === Contract number register (SAL-4) ==================================================
@admin.register(ContractNumberSetting)
class ContractNumberSettingAdmin(SimpleHistoryAdmin):
    """The pattern is validated by the model (only {year} and {seq}, a test render);
    every change is kept in its history."""

    list_display = ("pattern",)

    def has_add_permission(self, request):
        return not ContractNumberSetting.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ContractNumber)
class ContractNumberAdmin(ReadOnlyAdmin):
    list_display = ("number", "status", "issued_to", "issued_at", "contract_id")
    list_filter = ("status", "year")
    search_fields = ("number",)
