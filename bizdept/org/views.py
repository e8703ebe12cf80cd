"""Org pages: home, people directory, org chart, employee and unit detail."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from bizdept.core.pages import Column, DetailPage, ListPage, is_fragment_request

from . import selectors
from .filters import EmployeeFilterSet
from .scope import employee_of, scope_for


@login_required
def home(request):
    me = employee_of(request.user)
    context = {"me": me}
    if me is not None:
        unit = me.unit
        context.update(
            unit=unit,
            head=unit.head if unit.head_id else None,
            colleagues=selectors.colleagues(user=request.user),
            headed_units=selectors.unit_list(user=request.user).filter(head=me),
            roles=list(me.roles.all()),
            mentor=me.mentor,
            visible_count=selectors.employee_list(user=request.user).active().count(),
        )
    return render(request, "org/home.html", context)


class EmployeeListPage(ListPage):
    template_name = "org/employee_list.html"
    row_template = "org/_employee_row.html"
    title = _("People")
    filterset_class = EmployeeFilterSet
    export_name = "employees"
    default_sort = "number"
    empty_text = _("No employee matches these filters.")
    columns = [
        Column("number", _("Employee number"), sort="number"),
        Column("name", _("Name"), sort="name"),
        Column("unit.name", _("Unit"), sort="unit__path"),
        Column("position.display_name", _("Position"), sort="position__name"),
        Column("get_status_display", _("Status"), sort="status"),
        Column("hire_date", _("Hire date"), sort="hire_date"),
        Column("phone", _("Phone")),
        Column("email", _("Email"), export=True),
    ]

    def rows(self):
        return selectors.employee_list(user=self.request.user)


class EmployeeDetailPage(DetailPage):
    template_name = "org/employee_detail.html"

    def get_object(self):
        return selectors.employee_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        employee = self.object
        context.update(
            breadcrumbs=selectors.unit_ancestors(employee.unit),
            roles=list(employee.roles.all()),
            mentees=selectors.employee_list(user=self.request.user).filter(mentor=employee),
            is_me=employee_of(self.request.user) == employee,
        )
        return context


class UnitDetailPage(DetailPage):
    template_name = "org/unit_detail.html"

    def get_object(self):
        return selectors.unit_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        unit = self.object
        tree = selectors.unit_tree(user=self.request.user, root=unit)
        context.update(
            breadcrumbs=selectors.unit_ancestors(unit)[:-1],
            children=tree[0].children if tree else [],
            total_headcount=tree[0].total_headcount if tree else 0,
            members=selectors.unit_members(user=self.request.user, unit=unit),
        )
        return context


@login_required
def org_chart(request):
    """The whole tree; htmx asks for one unit's children when a node is expanded."""
    roots = selectors.unit_tree(user=request.user)
    scope = scope_for(request.user, "people")
    context = {"roots": roots, "scope": scope}
    template = "org/org_chart.html"
    if is_fragment_request(request):
        template += "#tree"
    return render(request, template, context)
