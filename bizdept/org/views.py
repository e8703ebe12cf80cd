"""Org pages: home, people directory, org chart, employee and unit detail."""

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bizdept.core.errors import DomainError
from bizdept.core.pages import Column, DetailPage, ListPage, form_page, is_fragment_request, posted

from . import selectors, services
from .choices import Capability
from .filters import EmployeeFilterSet
from .forms import EmployeeCreateForm, EmployeeForm, EmployeeRolesForm, EmployeeStatusForm, UnitForm
from .scope import employee_of, require_capability, scope_for


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
        # RPT-1: the home page is the dashboard of the user's role; the org card follows.
        from bizdept.reports.views import dashboard_context

        context.update(dashboard_context(request))
    return render(request, "org/home.html", context)


class EmployeeListPage(ListPage):
    template_name = "org/employee_list.html"
    row_template = "org/_employee_row.html"
    title = gettext_lazy("People")
    filterset_class = EmployeeFilterSet
    export_name = "employees"
    default_sort = "number"
    empty_text = gettext_lazy("No employee matches these filters.")
    create = ("org:employee_create", gettext_lazy("New employee"), Capability.MANAGE_ORG)
    columns = [
        Column("number", gettext_lazy("Employee number"), sort="number"),
        Column("name", gettext_lazy("Name"), sort="name"),
        Column("unit.name", gettext_lazy("Unit"), sort="unit__path"),
        Column("position.display_name", gettext_lazy("Position"), sort="position__name"),
        Column("get_status_display", gettext_lazy("Status"), sort="status"),
        Column("hire_date", gettext_lazy("Hire date"), sort="hire_date"),
        Column("phone", gettext_lazy("Phone")),
        Column("email", gettext_lazy("Email"), export=True),
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
            awards=_awards_of(self.request.user, employee),
        )
        return context


def _awards_of(user, employee) -> list:
    """The "Awards and honors" panel (INC-3): one query, from the incentives selector."""
    from bizdept.incentives.selectors import awards_of

    return list(awards_of(user=user, employee=employee)[:20])


class UnitDetailPage(DetailPage):
    template_name = "org/unit_detail.html"

    def get_object(self):
        return selectors.unit_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        unit = self.object
        tree = selectors.unit_tree(user=self.request.user, root=unit)
        children = tree[0].children if tree else []
        context.update(
            breadcrumbs=selectors.unit_ancestors(unit)[:-1],
            children=children,
            headcount_chart=_headcount_chart(children) if children else None,
            total_headcount=tree[0].total_headcount if tree else 0,
            members=selectors.unit_members(user=self.request.user, unit=unit),
        )
        return context


def _headcount_chart(children) -> dict:
    """ECharts option: headcount of each sub-unit (the same figures as the table beside)."""
    names = [child.unit.name for child in children]
    return {
        "grid": {"left": 8, "right": 16, "top": 8, "bottom": 8, "containLabel": True},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "data": names[::-1]},
        "series": [{"type": "bar", "name": str(gettext_lazy("People")),
                    "data": [child.total_headcount for child in children][::-1]}],
    }


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


# --- maintaining the org: HR and administrators (capability manage_org) ----------------
def _mentor_choices(user):
    return selectors.employee_list(user=user).active().order_by("number")


@login_required
def employee_create(request):
    require_capability(request.user, Capability.MANAGE_ORG)
    form = EmployeeCreateForm(posted(request), mentors=_mentor_choices(request.user))

    def save():
        employee = services.employee_create(**form.cleaned_data, by=request.user)
        return (reverse("org:employee_detail", args=[employee.pk]),
                _("Employee %s created.") % employee.name)

    return form_page(request, form, save=save, title=_("New employee"),
                     cancel_url=reverse("org:employee_list"))


@login_required
def employee_edit(request, pk):
    employee = selectors.employee_get(user=request.user, pk=pk)
    require_capability(request.user, Capability.MANAGE_ORG)
    initial = {"number": employee.number, "name": employee.name, "unit": employee.unit,
               "position": employee.position, "hire_date": employee.hire_date,
               "mentor": employee.mentor, "phone": employee.phone, "email": employee.email}
    form = EmployeeForm(posted(request), initial=initial,
                        mentors=_mentor_choices(request.user).exclude(pk=employee.pk))
    form.fields["number"].disabled = True  # the employee number is the record's key
    roles_form = EmployeeRolesForm(posted(request), prefix="r",
                                   initial={"roles": [r.code for r in employee.roles.all()]})
    url = reverse("org:employee_detail", args=[employee.pk])

    def save():
        data = dict(form.cleaned_data)
        data.pop("number")
        with transaction.atomic():
            services.employee_update(employee=employee, by=request.user, **data)
            services.employee_set_roles(employee=employee, by=request.user,
                                        roles=roles_form.cleaned_data["roles"])
        return url, _("Changes saved.")

    return form_page(request, form, save=save, extra_forms=[roles_form],
                     title=_("Edit %s") % employee.name, cancel_url=url)


@login_required
def employee_status(request, pk):
    employee = selectors.employee_get(user=request.user, pk=pk)
    require_capability(request.user, Capability.MANAGE_ORG)
    form = EmployeeStatusForm(posted(request), initial={
        "status": employee.status, "leave_date": employee.leave_date})
    url = reverse("org:employee_detail", args=[employee.pk])

    def save():
        services.employee_set_status(employee=employee, by=request.user, **form.cleaned_data)
        return url, _("Status changed.")

    return form_page(request, form, save=save, title=_("Status of %s") % employee.name,
                     cancel_url=url)


@login_required
def unit_create(request):
    require_capability(request.user, Capability.MANAGE_ORG)
    parent = selectors.unit_list(user=request.user).filter(pk=request.GET.get("parent") or 0)
    form = UnitForm(posted(request), heads=_mentor_choices(request.user),
                    initial={"parent": parent.first()})

    def save():
        unit = services.unit_create(**_unit_fields(form), by=request.user)
        return reverse("org:unit_detail", args=[unit.pk]), _("Unit %s created.") % unit.name

    return form_page(request, form, save=save, title=_("New unit"),
                     cancel_url=reverse("org:org_chart"))


@login_required
def unit_edit(request, pk):
    unit = selectors.unit_get(user=request.user, pk=pk)
    require_capability(request.user, Capability.MANAGE_ORG)
    form = UnitForm(posted(request), heads=_mentor_choices(request.user), initial={
        "name": unit.name, "kind": unit.kind, "parent": unit.parent, "head": unit.head,
        "sort_order": unit.sort_order})
    url = reverse("org:unit_detail", args=[unit.pk])

    def save():
        fields = _unit_fields(form)
        new_parent = fields.pop("parent")
        with transaction.atomic():
            moved = unit
            if new_parent is not None and new_parent.pk != unit.parent_id:
                moved = services.unit_move(unit=unit, new_parent=new_parent, by=request.user)
            elif new_parent is None and unit.parent_id is not None:
                raise DomainError(_("Only the company at the top has no parent unit."),
                                  field="parent")
            services.unit_update(unit=moved, by=request.user, **fields)
        return url, _("Changes saved.")

    return form_page(request, form, save=save, title=_("Edit %s") % unit.name, cancel_url=url)


def _unit_fields(form) -> dict:
    data = dict(form.cleaned_data)
    data["sort_order"] = data.get("sort_order") or 0
    return data
