"""Target pages (TGT), one section per part of the app. Parse, call a service or selector,
render."""

# === Plans (TGT-1..4) ===================================================================
import re
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from bizdept.approvals.selectors import document_history
from bizdept.core.errors import DomainError
from bizdept.core.pages import (
    Column,
    DetailPage,
    ListPage,
    form_page,
    is_fragment_request,
    post_action,
    posted,
)
from bizdept.core.periods import period_kind, year_periods
from bizdept.org.choices import Capability, EmployeeStatus, UnitKind
from bizdept.org.models import Employee, Unit
from bizdept.org.scope import capabilities_of, employee_of

from . import selectors, services
from .choices import Metric, PlanStatus
from .filters import TargetPlanFilterSet
from .forms import (
    HOW_CHILDREN,
    HOW_PERIODS,
    PlanCreateForm,
    ReassignForm,
    ReviseForm,
    SplitForm,
    period_split_choices,
)

COUNT_METRICS = selectors.COUNT_METRICS  # whole numbers, not money
VALUES = ("realistic", "stretch")

PLAN_COLUMNS = [
    Column("fiscal_year", gettext_lazy("Fiscal year"), sort="fiscal_year"),
    Column("get_metric_display", gettext_lazy("Metric"), sort="metric"),
    Column("version", gettext_lazy("Version"), sort="version"),
    Column("get_status_display", gettext_lazy("Status"), sort="status"),
    Column("unit.name", gettext_lazy("Department"), sort="unit__name"),
    Column("approved_at", gettext_lazy("Approved at"), sort="approved_at"),
]


class PlanListPage(ListPage):
    """Target plans of the user's department(s): every version, newest year first."""

    template_name = "targets/plan_list.html"
    row_template = "targets/_plan_row.html"
    title = gettext_lazy("Target plans")
    filterset_class = TargetPlanFilterSet
    export_name = "target-plans"
    default_sort = "-fiscal_year"
    empty_text = gettext_lazy("No target plan matches these filters.")
    create = ("targets:plan_create", gettext_lazy("New plan"), None)
    create_needs_employee = True
    columns = PLAN_COLUMNS
    tab = "plans"

    def rows(self):
        return selectors.plan_list(user=self.request.user)

    def _create_button(self):
        return super()._create_button() if _may_create_plan(self.request.user) else {}


def _may_create_plan(user) -> bool:
    """Whether to offer "New plan": the head of the user's department, a director over it,
    or an administrator (``selectors.can_manage_plan``; the service decides again)."""
    me = employee_of(user)
    if me is None:
        return False
    department = (Unit.objects.filter(pk__in=me.unit.ancestor_ids(), kind=UnitKind.DEPARTMENT)
                  .order_by("-depth").first())
    return department is not None and selectors.can_manage_plan(department, user)


@login_required
def plan_create(request):
    if not _may_create_plan(request.user):
        raise PermissionDenied
    form = PlanCreateForm(posted(request))

    def save():
        plan = services.plan_create(by=request.user, **form.cleaned_data)
        return (reverse("targets:plan_grid", args=[plan.pk]),
                _("The %(year)s %(metric)s plan is created: enter the department's figures.")
                % {"year": plan.fiscal_year, "metric": plan.get_metric_display()})

    return form_page(request, form, save=save, title=_("New target plan"),
                     cancel_url=reverse("targets:plan_list"))


def _plan(request, pk):
    return selectors.plan_get(user=request.user, pk=pk)


def _plan_url(plan) -> str:
    return reverse("targets:plan_detail", args=[plan.pk])


def _grid_url(plan, unit_id=None, value="realistic", anchor="") -> str:
    query = {}
    if unit_id is not None:
        query["unit"] = unit_id
    if value != "realistic":
        query["value"] = value
    url = reverse("targets:plan_grid", args=[plan.pk])
    if query:
        url += "?" + urlencode(query)
    return url + (f"#{anchor}" if anchor else "")


def _row_key(unit_id, employee_id) -> str:
    return f"e{employee_id}" if employee_id else f"u{unit_id}"


class PlanDetailPage(DetailPage):
    template_name = "targets/plan_detail.html"

    def get_object(self):
        return _plan(self.request, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        plan, user = self.object, self.request.user
        mismatches = selectors.plan_check(plan)
        # Everyone reading the plan learns whether it adds up; the figures of the places
        # that do not are listed only where the reader's scope reaches (ORG-4).
        viewer = selectors.plan_viewer(plan, user)
        shown = [m for m in mismatches if (viewer.sees_person(m.employee, m.unit)
                                           if m.employee is not None
                                           else viewer.sees_unit(m.unit))]
        may_manage = selectors.can_manage_plan(plan, user)
        draft = plan.status == PlanStatus.DRAFT
        context.update(
            title=str(plan),
            plan=plan,
            mismatches=[_mismatch_view(plan, m) for m in shown[:200]],
            mismatch_count=len(mismatches),
            versions=selectors.plan_history(plan),
            approval_history=document_history(plan),
            is_count=plan.metric in COUNT_METRICS,
            may_edit=draft and (may_manage
                                or Capability.MANAGE_TEAM in capabilities_of(user)),
            may_submit=draft and may_manage,
            may_revise=plan.status == PlanStatus.APPROVED and may_manage,
            may_reassign=draft and may_manage,
            grid_url=_grid_url(plan),
        )
        return context


def _mismatch_view(plan, m) -> dict:
    """One mismatch of plan_check, with the grid row it is about: a unit's children are
    in that unit's grid; a node's own periods in the grid where the node is a row."""
    employee = getattr(m, "employee", None)
    unit = m.unit
    if employee is not None:
        url = _grid_url(plan, unit.pk, m.field, anchor=_row_key(unit.pk, employee.pk))
    else:
        url = _grid_url(plan, unit.pk, m.field, anchor=_row_key(unit.pk, None))
    if m.kind == "children":
        what = _("its units and people")
    else:
        what = _("its quarters") if period_kind(m.period) == "year" else _("its months")
    return {"m": m, "node": employee.name if employee is not None else unit.name,
            "url": url, "what": what}


@login_required
@require_POST
def plan_submit(request, pk):
    plan = _plan(request, pk)
    return post_action(request, lambda: services.plan_submit(plan=plan, by=request.user),
                       success=_("The plan is submitted for approval."), url=_plan_url(plan))


@login_required
def plan_revise(request, pk):
    plan = _plan(request, pk)
    if not selectors.can_manage_plan(plan, request.user):
        raise PermissionDenied
    form = ReviseForm(posted(request))

    def save():
        revision = services.plan_revise(plan=plan, by=request.user, **form.cleaned_data)
        return (_grid_url(revision),
                _("Version %(version)s is a draft: change the figures, then submit it.")
                % {"version": revision.version})

    return form_page(request, form, save=save,
                     title=_("Revise the plan %s") % plan, cancel_url=_plan_url(plan))


@login_required
def plan_reassign(request, pk):
    plan = _plan(request, pk)
    if not selectors.can_manage_plan(plan, request.user):
        raise PermissionDenied
    counted = (Employee.objects.filter(pk__in=list(selectors.plan_nodes(plan).employees))
               .select_related("unit").order_by("unit__path", "number"))
    takers = (Employee.objects.filter(unit__path__startswith=plan.unit.path)
              .exclude(status=EmployeeStatus.LEFT).select_related("unit")
              .order_by("unit__path", "number"))
    form = ReassignForm(posted(request), year=plan.fiscal_year, people=counted,
                        takers=takers)

    def save():
        data = form.cleaned_data
        people = Employee.objects.in_bulk([data["from_employee"], data["to_employee"]])
        source, target = people[data["from_employee"]], people[data["to_employee"]]
        services.plan_reassign(plan=plan, by=request.user, from_employee=source,
                               to_employee=target, from_month=data["from_month"])
        return (_plan_url(plan),
                _("%(from)s's targets from %(month)s on now belong to %(to)s.")
                % {"from": source.name, "to": target.name, "month": data["from_month"]})

    return form_page(request, form, save=save,
                     title=_("Hand over a person's targets in %s") % plan,
                     cancel_url=_plan_url(plan))


# --- The grid (TGT-2, TGT-3) ------------------------------------------------------------
CELL_NAME = re.compile(r"c-(\d+)-(\d*)-(\d{4}(?:-Q[1-4]|-\d{2})?)")
NUMBER = re.compile(r"\d+(\.\d*)?|\.\d+")


def _value_of(request) -> str:
    value = request.GET.get("value") or request.POST.get("value") or "realistic"
    return value if value in VALUES else "realistic"


def _unit_id(request):
    raw = request.GET.get("unit") or request.POST.get("unit_view") or ""
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise Http404 from None


def _format(amount: Decimal, *, count: bool) -> str:
    if count and amount == amount.to_integral_value():
        return f"{amount:,.0f}"
    return f"{amount:,.2f}"


def _plain(amount: Decimal, *, count: bool) -> str:
    if count and amount == amount.to_integral_value():
        return f"{amount:.0f}"
    return f"{amount:.2f}"


def _parse_amount(text: str):
    """A typed figure as Decimal; thousands separators and spaces are ignored; None when
    it is not a number at all (the service judges the rest: sign, decimals, order)."""
    cleaned = (text or "").replace(",", "").replace(" ", "").replace("，", "").strip()
    if cleaned == "":
        return Decimal(0)
    if not NUMBER.fullmatch(cleaned):
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the pattern already refused it
        return None


def _grid_context(request, plan, grid, value, *, posted_cells=None, cell_errors=None):
    """Everything the grid template needs, in rows and cells ready to render."""
    count = plan.metric in COUNT_METRICS
    posted_cells = posted_cells or {}
    cell_errors = cell_errors or {}
    rows = []
    for row in grid.rows:
        unit_id = row.unit.pk
        employee_id = row.employee.pk if row.employee is not None else None
        cells = []
        for cell in row.cells:
            amount = getattr(cell.value, value)
            name = _cell_name(unit_id, employee_id, cell.period)
            shown = posted_cells.get(name)
            gap = getattr(cell.gap, value) if cell.gap is not None else None
            cells.append({
                "period": cell.period, "kind": cell.kind, "name": name,
                "saved": _plain(amount, count=count),
                "raw": shown if shown is not None else _format(amount, count=count),
                "text": _format(amount, count=count),
                "error": cell_errors.get(name),
                "mismatch": _format(gap, count=count) if gap else "",
            })
        rows.append({
            "key": _row_key(unit_id, employee_id), "kind": row.kind, "label": row.label,
            "unit_id": unit_id, "employee_id": employee_id or "", "editable": row.editable,
            "cells": cells,
            "url": (_grid_url(plan, unit_id, value)
                    if row.kind == "unit" and row.has_children else ""),
        })
    # The children's sum counts rows the viewer may not see; the part they do not see is
    # handed to the page so its live sums stay right (``data-hidden``).
    shown = {p: Decimal(0) for p in grid.periods}
    for row in grid.rows[1:]:
        for cell in row.cells:
            shown[cell.period] += getattr(cell.value, value)
    totals = []
    for total, gap in zip(grid.children_sum, grid.children_gap, strict=True):
        difference = getattr(gap.value, value)
        hidden = getattr(total.value, value) - shown[total.period]
        totals.append({"period": total.period, "kind": total.kind,
                       "sum": _format(getattr(total.value, value), count=count),
                       "hidden": _plain(hidden, count=count) if hidden else "",
                       "difference": _format(difference, count=count),
                       "off": difference != 0})
    periods = grid.periods
    groups = [{"label": _("Year"), "span": 1, "kind": "year"},
              {"label": _("Quarters"), "span": 4, "kind": "quarter"}]
    groups += [{"label": _("Months of %(quarter)s") % {"quarter": q}, "span": 3,
                "kind": "month"} for q in periods[1:5]]
    return {
        "plan": plan, "grid": grid, "unit": grid.unit, "value": value,
        "value_label": _("Realistic target") if value == "realistic" else _("Stretch target"),
        "periods": [{"period": p, "kind": period_kind(p),
                     "label": p if period_kind(p) != "month" else p[-2:]} for p in periods],
        "groups": groups, "rows": rows, "totals": totals,
        "is_count": count, "places": 0 if count else 2,
        "editable": any(r["editable"] for r in rows),
        "crumbs": [u for u in grid.breadcrumbs if u.pk != grid.unit.pk],
        "realistic_url": _grid_url(plan, grid.unit.pk, "realistic"),
        "stretch_url": _grid_url(plan, grid.unit.pk, "stretch"),
        "split_url": reverse("targets:plan_split", args=[plan.pk]),
        "title": _("%(plan)s · %(unit)s") % {"plan": plan, "unit": grid.unit.name},
        "period_children": _period_children_json(plan.fiscal_year),
    }


def _cell_name(unit_id, employee_id, period) -> str:
    return f"c-{unit_id}-{employee_id or ''}-{period}"


def _children_split_choices(plan):
    return [("all", _("every period (the year, its quarters and months)"))] + [
        (p, p) for p in year_periods(plan.fiscal_year)]


def _period_children_json(year: int) -> dict:
    from bizdept.core.periods import period_children

    return {p: period_children(p) for p in year_periods(year) if period_children(p)}


def _grid(request, plan, unit_id):
    """The grid of ``unit_id``; without one, the department's, or for those who do not see
    the whole department their own unit's (a lead's team, a salesperson's own row)."""
    if unit_id is not None:
        return selectors.plan_grid(plan=plan, user=request.user, unit=unit_id)
    try:
        return selectors.plan_grid(plan=plan, user=request.user, unit=plan.unit_id)
    except Http404:
        me = employee_of(request.user)
        if me is None:
            raise
        for unit in Unit.objects.filter(head=me).order_by("depth"):
            try:
                return selectors.plan_grid(plan=plan, user=request.user, unit=unit.pk)
            except Http404:
                continue
        return selectors.plan_grid(plan=plan, user=request.user, unit=me.unit_id)


@login_required
def plan_grid(request, pk):
    """The plan's figures for one parent unit: the unit, its child units and its people as
    rows, the year's 17 periods as columns. POST saves the changed cells (all or none)."""
    plan = _plan(request, pk)
    value = _value_of(request)
    grid = _grid(request, plan, _unit_id(request))
    if request.method == "POST":
        return _grid_save(request, plan, grid, value)
    context = _grid_context(request, plan, grid, value)
    if is_fragment_request(request):
        return render(request, "targets/plan_grid.html#grid", context)
    return render(request, "targets/plan_grid.html", context)


def _grid_save(request, plan, grid, value):
    """The changed cells go to ``plan_set_values`` in one call; an error names the cell
    (``values[i].realistic``), lands next to it, and nothing is saved.

    One figure is edited at a time (realistic or stretch). Where the cell's other figure
    is still 0 and would otherwise be out of order with the typed one (a stretch below the
    realistic target; for the expense budget, above it), it takes the typed figure too,
    so a new plan can be filled in one view; the other view adjusts it."""
    other = "stretch" if value == "realistic" else "realistic"
    expenses = plan.metric == Metric.EXPENSES
    current = {}
    for row in grid.rows:
        if not row.editable:
            continue
        employee_id = row.employee.pk if row.employee is not None else None
        for cell in row.cells:
            current[_cell_name(row.unit.pk, employee_id, cell.period)] = (
                row.unit.pk, employee_id, cell.value)
    posted_cells, cell_errors, values, names = {}, {}, [], []
    for name, text in request.POST.items():
        match = CELL_NAME.fullmatch(name)
        if not match or name not in current:
            continue
        posted_cells[name] = text
        amount = _parse_amount(text)
        if amount is None:
            cell_errors[name] = _("Enter a number.")
            continue
        unit_id, employee_id, saved = current[name]
        if amount == getattr(saved, value):
            continue
        item = {"unit": unit_id, "employee": employee_id, "period": match[3], value: amount}
        stretch, realistic = (amount, saved.realistic) if value == "stretch" \
            else (saved.stretch, amount)
        out_of_order = stretch > realistic if expenses else realistic > stretch
        if getattr(saved, other) == 0 and out_of_order:
            item[other] = amount
        values.append(item)
        names.append(name)
    general = []
    if not cell_errors and values:
        try:
            services.plan_set_values(plan=plan, by=request.user, values=values)
        except DomainError as exc:
            for field, field_messages in exc.error_dict().items():
                index = re.fullmatch(r"values\[(\d+)\](?:\.\w+)?", field)
                if index and int(index[1]) < len(names):
                    cell_errors[names[int(index[1])]] = " ".join(field_messages)
                else:
                    general.extend(field_messages)
            if not exc.errors:
                general.append(str(exc.message))
    if cell_errors or general:
        if cell_errors and not general:
            general.append(_("Nothing was saved: correct the marked cells."))
        context = _grid_context(request, plan, grid, value, posted_cells=posted_cells,
                                cell_errors=cell_errors)
        context["errors"] = general
        return render(request, "targets/plan_grid.html", context)
    if values:
        messages.success(request, ngettext("%(count)s figure saved.", "%(count)s figures saved.",
                                           len(values)) % {"count": len(values)})
    else:
        messages.info(request, _("Nothing changed."))
    return redirect(_grid_url(plan, grid.unit.pk, value))


@login_required
def plan_split(request, pk):
    """A split helper (TGT-4) on one row: GET shows its forms (the grid loads them into a
    dialog), POST runs ``plan_split`` and goes back to the grid."""
    plan = _plan(request, pk)
    value = _value_of(request)
    if request.method != "POST":
        return _split_page(request, plan, value)
    form = SplitForm(request.POST)
    back_unit = request.POST.get("unit_view") or None
    if not form.is_valid():
        messages.error(request, _("The split was not done: %s")
                       % "; ".join(f"{form.fields[f].label or f}: {' '.join(e)}"
                                   for f, e in form.errors.items()))
        return redirect(_grid_url(plan, back_unit, value))
    data = form.cleaned_data
    unit = Unit.objects.filter(pk=data["unit"]).first()
    if unit is None:
        raise Http404
    employee = None
    if data.get("employee"):
        employee = Employee.objects.filter(pk=data["employee"]).first()
        if employee is None:
            raise Http404
    kwargs = {"plan": plan, "by": request.user, "unit": unit, "employee": employee,
              "across": data["across"], "how": data["how"],
              "remainder_to": data["remainder_to"]}
    if data["how"] == "progressive":
        kwargs["step_percent"] = data["step_percent"]
    period = data["period"]
    if data["across"] == "periods" and period == "all":  # year → quarters → months at once
        kwargs["across"], period = "periods_all", str(plan.fiscal_year)
    success = _("Split done: the parts add up to the figure split.")
    return post_action(request,
                       lambda: services.plan_split(period=period, **kwargs),
                       success=success, url=_grid_url(plan, back_unit, value,
                                                      anchor=_row_key(unit.pk, getattr(
                                                          employee, "pk", None))))


def _split_page(request, plan, value):
    try:
        unit_id = int(request.GET.get("unit", ""))
        employee_id = int(request.GET["employee"]) if request.GET.get("employee") else None
    except ValueError:
        raise Http404 from None
    grid = selectors.plan_grid(plan=plan, user=request.user, unit=unit_id)
    row = next((r for r in grid.rows if r.unit.pk == unit_id and (
        (r.employee.pk if r.employee is not None else None) == employee_id)), None)
    if row is None:
        raise Http404
    context = {
        "plan": plan, "row": row, "value": value,
        "unit_view": request.GET.get("back") or unit_id,
        "period_split_choices": period_split_choices(plan.fiscal_year),
        "children_split_choices": _children_split_choices(plan),
        "how_periods": HOW_PERIODS, "how_children": HOW_CHILDREN,
        "can_split_children": row.employee is None and len(grid.rows) > 1,
        "title": _("Split %(node)s") % {"node": row.label},
        "back_url": _grid_url(plan, request.GET.get("back") or unit_id, value),
    }
    if is_fragment_request(request):
        return render(request, "targets/plan_split.html#forms", context)
    return render(request, "targets/plan_split.html", context)


# === Tracking (TGT-5) and rankings (TGT-6) ===============================================
# Owned by the tracking pages (Engineer C): the tracking table, my targets, the rankings
# and the records behind a figure. Parse, call the selector, render or export.
from django import forms as _forms  # noqa: E402 - this section's own imports
from django.utils import timezone as _timezone  # noqa: E402

from bizdept.core.excel import xlsx_response as _xlsx_response  # noqa: E402
from bizdept.core.forms import BootstrapForm as _BootstrapForm  # noqa: E402
from bizdept.core.pages import add_domain_errors as _add_domain_errors  # noqa: E402
from bizdept.core.periods import quarter_of as _quarter_of  # noqa: E402
from bizdept.kpi.measures import MEASURES as _MEASURES  # noqa: E402

from .choices import Metric as _Metric  # noqa: E402


def _unit_choices(units) -> list[tuple[str, str]]:
    return [("", gettext_lazy("My widest unit"))] + [
        (str(u.pk), "\u2003" * max(u.depth - units[0].depth, 0) + u.name) for u in units]


class TrackingForm(_BootstrapForm):
    metric = _forms.ChoiceField(label=gettext_lazy("Metric"), choices=_Metric.choices)
    period = _forms.CharField(label=gettext_lazy("Period"), max_length=7,
                              help_text=gettext_lazy("2026, 2026-Q3 or 2026-07"))
    unit = _forms.ChoiceField(label=gettext_lazy("Unit"), required=False)

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        units = list(units)
        self.fields["unit"].choices = _unit_choices(units) if units else [
            ("", gettext_lazy("Only me"))]


class RankingForm(TrackingForm):
    by = _forms.ChoiceField(label=gettext_lazy("Rank by"), choices=[
        ("achievement", gettext_lazy("Achievement %")), ("actual", gettext_lazy("Actual"))])


def _tracking_params(request, form_class):
    """The bound form (defaults: revenue, this quarter, the widest unit) and its values,
    or None when they are not valid (the form then shows why)."""
    today = _timezone.localdate()
    data = {"metric": _Metric.REVENUE, "period": _quarter_of(today), "unit": "",
            "by": "achievement"}
    data.update({k: v for k, v in request.GET.items() if k in data})
    units = selectors.tracking_units(user=request.user,
                                     metric=data["metric"] if data["metric"] in _MEASURES
                                     else _Metric.REVENUE)
    form = form_class(data, units=units)
    if not form.is_valid():
        return form, None
    return form, form.cleaned_data


def _figures_headers():
    return [_("Realistic target"), _("Stretch target"), _("Actual"), _("Achievement %"),
            _("Achievement of stretch %"), _("Gap"), _("Expected by now"), _("Pace"),
            _("Forecast for the period"), _("Needed per working day")]


def _figures(row):
    return [row.realistic, row.stretch, row.actual, row.achievement, row.achievement_stretch,
            row.gap, row.expected, row.pace_label, row.forecast, row.daily_needed]


@login_required
def tracking(request):
    """TGT-5: the unit tree with targets, actuals, pace and forecast; every figure links to
    its records; exportable."""
    form, params = _tracking_params(request, TrackingForm)
    report = None
    if params is not None:
        try:
            report = selectors.tracking(user=request.user, metric=params["metric"],
                                        period=params["period"], unit=params["unit"] or None)
        except DomainError as exc:
            _add_domain_errors(form, exc)
    if report is not None and request.GET.get("export") == "xlsx":
        rows = ([("\u3000" * r.depth) + r.name, _("Unit") if r.kind == "unit" else _("Person"),
                 *_figures(r)] for r in report.rows)
        return _xlsx_response(filename=f"tracking-{report.metric}-{report.period}",
                              sheet=str(_("Tracking")),
                              headers=[_("Unit or person"), _("Kind"), *_figures_headers()],
                              rows=rows)
    context = {"title": _("Target tracking"), "form": form, "report": report,
               "querystring": request.GET.urlencode(), "tab": "tracking"}
    if is_fragment_request(request):
        return render(request, "targets/tracking.html#report", context)
    return render(request, "targets/tracking.html", context)


@login_required
def my_targets(request):
    """My targets, pace and daily amount needed, for the year, this quarter and month."""
    today = _timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
    except ValueError:
        year = today.year
    year = min(max(year, 2000), 2999)
    result = selectors.my_targets(user=request.user, year=year)
    context = {"title": _("My targets"), "result": result, "year": year,
               "years": range(today.year - 2, today.year + 2), "tab": "mine"}
    return render(request, "targets/my_targets.html", context)


@login_required
def rankings(request):
    """TGT-6: people (and sub-units) of a unit ranked; who is behind pace is marked."""
    form, params = _tracking_params(request, RankingForm)
    result = None
    if params is not None:
        try:
            result = selectors.ranking(user=request.user, metric=params["metric"],
                                       period=params["period"], unit=params["unit"] or None,
                                       by=params["by"])
        except DomainError as exc:
            _add_domain_errors(form, exc)
    if result is not None and request.GET.get("export") == "xlsx":
        rows = ([r.rank, r.row.name, r.row.unit.name, _("Yes") if r.behind else "",
                 *_figures(r.row)] for r in [*result.people, *result.units])
        return _xlsx_response(filename=f"ranking-{result.report.metric}-{result.report.period}",
                              sheet=str(_("Ranking")),
                              headers=[_("Rank"), _("Name"), _("Unit"), _("Behind pace"),
                                       *_figures_headers()], rows=rows)
    context = {"title": _("Rankings"), "form": form, "result": result,
               "querystring": request.GET.urlencode(), "tab": "rankings"}
    if is_fragment_request(request):
        return render(request, "targets/ranking.html#report", context)
    return render(request, "targets/ranking.html", context)


_RECORD_COLUMNS = {
    _Metric.REVENUE: ("signed_on", [
        Column("number.number", gettext_lazy("Contract number"), sort="number__number"),
        Column("title", gettext_lazy("Contract title")),
        Column("customer.name", gettext_lazy("Customer"), sort="customer__name"),
        Column("owner.name", gettext_lazy("Owner"), sort="owner__name"),
        Column("signed_on", gettext_lazy("Signed on"), sort="signed_on"),
        Column("get_status_display", gettext_lazy("Status"), sort="status"),
        Column("total", gettext_lazy("Contract amount"), sort="total")]),
    _Metric.GROSS_MARGIN: ("contract__signed_on", [
        Column("contract.number.number", gettext_lazy("Contract number"),
               sort="contract__number__number"),
        Column("contract.owner.name", gettext_lazy("Owner"), sort="contract__owner__name"),
        Column("contract.signed_on", gettext_lazy("Signed on"), sort="contract__signed_on"),
        Column("product.name", gettext_lazy("Product")),
        Column("quantity", gettext_lazy("Quantity"), sort="quantity"),
        Column("unit_price", gettext_lazy("Unit price"), sort="unit_price"),
        Column("unit_cost", gettext_lazy("Unit cost"), sort="unit_cost"),
        Column("amount", gettext_lazy("Amount"), sort="amount")]),
    _Metric.COLLECTIONS: ("received_on", [
        Column("received_on", gettext_lazy("Received on"), sort="received_on"),
        Column("contract.number.number", gettext_lazy("Contract number"),
               sort="contract__number__number"),
        Column("contract.customer.name", gettext_lazy("Customer")),
        Column("contract.owner.name", gettext_lazy("Owner"), sort="contract__owner__name"),
        Column("get_method_display", gettext_lazy("Payment method")),
        Column("amount", gettext_lazy("Amount"), sort="amount")]),
    _Metric.NEW_CUSTOMERS: ("created_at", [
        Column("name", gettext_lazy("Customer"), sort="name"),
        Column("owner.name", gettext_lazy("Owner"), sort="owner__name"),
        Column("created_at", gettext_lazy("Created at"), sort="created_at")]),
    _Metric.VISITS: ("visited_at", [
        Column("visited_at", gettext_lazy("When"), sort="visited_at"),
        Column("employee.name", gettext_lazy("By"), sort="employee__name"),
        Column("customer.name", gettext_lazy("Customer"), sort="customer__name"),
        Column("get_kind_display", gettext_lazy("Kind"), sort="kind"),
        Column("summary", gettext_lazy("Summary"))]),
    _Metric.EXPENSES: ("spent_on", [
        Column("spent_on", gettext_lazy("Spent on"), sort="spent_on"),
        Column("employee.name", gettext_lazy("Claimant"), sort="employee__name"),
        Column("get_category_display", gettext_lazy("Expense category")),
        Column("get_status_display", gettext_lazy("Claim status"), sort="status"),
        Column("amount", gettext_lazy("Claimed amount"), sort="amount")]),
}
_RECORD_RELATED = {
    _Metric.REVENUE: ("number", "customer", "owner"),
    _Metric.GROSS_MARGIN: ("contract__number", "contract__owner", "product"),
    _Metric.COLLECTIONS: ("contract__number", "contract__customer", "contract__owner"),
    _Metric.NEW_CUSTOMERS: ("owner",), _Metric.VISITS: ("employee", "customer"),
    _Metric.EXPENSES: ("employee",),
}


class RecordsFilterForm(_forms.Form):
    since = _forms.DateField()
    until = _forms.DateField()
    employee = _forms.IntegerField(required=False, min_value=1)
    unit = _forms.IntegerField(required=False, min_value=1)


class TrackingRecordsPage(ListPage):
    """The records behind one figure of the tracking ("explain this number"): those of the
    measure for the period and the person or unit, within the user's scope, with their
    total (which is the figure)."""

    template_name = "targets/tracking_records.html"
    row_template = "targets/_tracking_record_row.html"
    export_name = "figure-records"
    empty_text = gettext_lazy("No record counts in this figure.")

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.measure = _MEASURES.get(kwargs.get("metric"))
        if self.measure is None:
            raise Http404
        self.default_sort, self.columns = _RECORD_COLUMNS[self.measure.code]
        self.default_sort = "-" + next(c.key for c in self.columns
                                       if c.sort == self.default_sort)
        self.title = self.measure.label
        form = RecordsFilterForm(request.GET)
        if not form.is_valid():
            raise Http404
        self.params = form.cleaned_data
        if self.params["until"] < self.params["since"]:
            raise Http404

    def rows(self):
        p = self.params
        person = self.measure.person_field.removesuffix("_id")
        rows = self.measure.records(
            since=p["since"], until=p["until"],
            employee_ids=[p["employee"]] if p["employee"] else None)
        if p["unit"]:
            unit = Unit.objects.filter(pk=p["unit"]).first()
            if unit is None:
                raise Http404
            rows = rows.filter(**{f"{person}__unit__path__startswith": unit.path})
        return rows.visible_to(self.request.user).select_related(
            *_RECORD_RELATED[self.measure.code])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        total = self.queryset.order_by().aggregate(total=self.measure.total_expression())
        context.update(
            total=self.measure.to_value(total["total"]), measure=self.measure,
            since=self.params["since"], until=self.params["until"],
            rows=[[c.read(r) for c in self.columns] for r in context["rows"]])
        return context
# === end of Tracking (TGT-5) and rankings (TGT-6) ========================================
