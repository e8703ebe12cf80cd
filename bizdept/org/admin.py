"""Admin screens for HR and administrators. Unit writes go through the services so the
materialized path and the subtree stay right (ORG-1)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .models import Employee, Position, Role, Unit


@admin.register(Unit)
class UnitAdmin(SimpleHistoryAdmin):
    list_display = ("name", "kind", "parent", "head", "depth")
    list_filter = ("kind",)
    search_fields = ("name",)
    list_select_related = ("parent", "head")
    raw_id_fields = ("head",)

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.unit_create(name=obj.name, kind=obj.kind, parent=obj.parent,
                                           head=obj.head, sort_order=obj.sort_order,
                                           by=request.user)
            obj.pk, obj.path, obj.depth = created.pk, created.path, created.depth
            return
        if "parent" in form.changed_data and obj.parent is not None:
            services.unit_move(unit=obj, new_parent=obj.parent, by=request.user)
        services.unit_update(unit=Unit.objects.get(pk=obj.pk), name=obj.name, kind=obj.kind,
                             head=obj.head, sort_order=obj.sort_order, by=request.user)


@admin.register(Position)
class PositionAdmin(SimpleHistoryAdmin):
    list_display = ("name", "name_en")
    search_fields = ("name", "name_en")


@admin.register(Employee)
class EmployeeAdmin(SimpleHistoryAdmin):
    list_display = ("number", "name", "unit", "position", "status", "hire_date")
    list_filter = ("status", "position", "roles")
    search_fields = ("number", "name", "phone", "email")
    list_select_related = ("unit", "position")
    raw_id_fields = ("user", "mentor", "unit")
    filter_horizontal = ("roles",)

    def save_model(self, request, obj, form, change):
        status_changed = change and "status" in form.changed_data
        super().save_model(request, obj, form, change)
        if status_changed:
            services.employee_set_status(employee=obj, status=obj.status,
                                         leave_date=obj.leave_date, by=request.user)


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("code",)
