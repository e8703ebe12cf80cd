"""Administrators keep the approval policies here (SAL-3): per document type, ordered steps
with the approver kind, amount threshold, deadline and escalation. Everyone can read the
active policies at /approvals/policies/. Requests, tasks and delegations are read-only
here: they change only through the engine's services."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import ApprovalPolicy, ApprovalRequest, ApprovalTask, Delegation, PolicyStep


class PolicyStepInline(admin.TabularInline):
    model = PolicyStep
    extra = 0
    fields = ("order", "name", "approver_kind", "levels", "role_code", "employee", "min_amount",
              "deadline_days", "escalate_after_days")
    autocomplete_fields = ()
    raw_id_fields = ("employee",)


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(SimpleHistoryAdmin):
    list_display = ("document_type", "name", "active")
    list_filter = ("active",)
    search_fields = ("document_type", "name")
    inlines = [PolicyStepInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ApprovalTaskInline(admin.TabularInline):
    model = ApprovalTask
    extra = 0
    fields = ("order", "name", "approver", "status", "due_at", "decided_by", "acting_for",
              "decided_at", "comment")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = ("title", "document_type", "requested_by", "status", "round", "created_at")
    list_filter = ("status", "document_type")
    search_fields = ("title",)
    list_select_related = ("requested_by",)
    inlines = [ApprovalTaskInline]


@admin.register(Delegation)
class DelegationAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ("from_employee", "to_employee", "starts_on", "ends_on", "ended_at")
    list_select_related = ("from_employee", "to_employee")
