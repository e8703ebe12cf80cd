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


# === Opportunities (SAL-2) · Expenses (SAL-7) ===========================================
# The threshold of the discount approval is set here; opportunities and expenses are kept
# in the pages (through the services and the approval engine), so they are read-only here.
from .models import (  # noqa: E402
    ExpenseBudget,
    ExpenseClaim,
    Opportunity,
    OpportunitySettings,
)


@admin.register(OpportunitySettings)
class OpportunitySettingsAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "discount_approval_threshold")

    def has_add_permission(self, request):
        return not OpportunitySettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Opportunity)
class OpportunityAdmin(ReadOnlyAdmin):
    list_display = ("title", "customer", "owner", "stage", "expected_amount", "created_at")
    list_filter = ("stage",)
    search_fields = ("title",)
    list_select_related = ("customer", "owner")


@admin.register(ExpenseClaim)
class ExpenseClaimAdmin(ReadOnlyAdmin):
    list_display = ("employee", "category", "amount", "spent_on", "status")
    list_filter = ("status", "category")
    list_select_related = ("employee",)


@admin.register(ExpenseBudget)
class ExpenseBudgetAdmin(ReadOnlyAdmin):
    list_display = ("employee", "period", "amount")
    search_fields = ("period",)
    list_select_related = ("employee",)


# === Contracts (SAL-5) and receivables (SAL-6) ==========================================
# Kept in the pages (through the services and the approval engine): read-only here; a
# payment is never edited nor deleted (a correction is a reversal entry).
from .models import Contract, ContractAmendment, Payment, PaymentPlan  # noqa: E402


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdmin):
    list_display = ("number", "title", "customer", "owner", "status", "total", "signed_on",
                    "archived")
    list_filter = ("status", "archived")
    search_fields = ("number__number", "title", "customer__name")
    list_select_related = ("number", "customer", "owner")


@admin.register(ContractAmendment)
class ContractAmendmentAdmin(ReadOnlyAdmin):
    list_display = ("contract", "seq", "status", "old_total", "new_total", "created_at")
    list_filter = ("status",)
    list_select_related = ("contract__number",)


@admin.register(PaymentPlan)
class PaymentPlanAdmin(ReadOnlyAdmin):
    list_display = ("contract", "seq", "due_on", "amount")
    list_select_related = ("contract__number",)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("contract", "received_on", "amount", "method", "reference", "reverses",
                    "entered_by")
    list_filter = ("method",)
    search_fields = ("contract__number__number", "reference")
    list_select_related = ("contract__number", "entered_by", "reverses")
