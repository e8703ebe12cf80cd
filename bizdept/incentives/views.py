"""Pages of the incentives app (INC-1..3): parse, call a service or selector, render."""

import re
import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from bizdept.appraisal.choices import GRADES
from bizdept.approvals.selectors import document_history
from bizdept.core.errors import DomainError
from bizdept.core.excel import xlsx_response
from bizdept.core.history import history_entries
from bizdept.core.money import to_cents
from bizdept.core.pages import (
    Column,
    DetailPage,
    ListPage,
    form_page,
    post_action,
    posted,
    style_form,
)
from bizdept.org.choices import Capability
from bizdept.org.scope import capabilities_of, employee_of

from . import forms, selectors, services
from .choices import (
    AwardStatus,
    CoefficientBasis,
    CommissionMode,
    GateBlocks,
    GateKind,
    PlanStatus,
    RunStatus,
)
from .filters import (
    AwardFilterSet,
    BonusLineFilterSet,
    HonorTitleFilterSet,
    PlanFilterSet,
    RunFilterSet,
)
from .forms import (
    AwardDecisionForm,
    AwardProposeForm,
    HonorTitleForm,
    RunCreateForm,
    RunSubmitForm,
    SpecialAwardForm,
)

# === Bonus plans and what-if (INC-1) =====================================================
# The plans (list, one version's rules in words, the form, the actions) and the what-if
# comparison of a plan with the one in force on an approved cycle.

def _plan_url(plan) -> str:
    return reverse("incentives:plan_detail", args=[plan.pk])


def _pplain(raw) -> str:
    """"3.00" → "3", "1.20" → "1.2" (rules are stored as text)."""
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        return str(raw)
    if value == value.to_integral_value():
        return f"{value.quantize(Decimal(1)):f}"
    return f"{value.normalize():f}"


def _pkpi(code: str):
    from bizdept.kpi import measures

    return measures.KPIS.get(code)


def _pfloor(gate: dict) -> str:
    from bizdept.kpi import measures

    measure = _pkpi(gate.get("kpi", ""))
    floor = _pplain(gate.get("floor"))
    return f"{floor}%" if measure is not None and measure.unit == measures.PERCENT else floor


def _pblocks(which: str) -> str:
    return {GateBlocks.BASE: _("no base bonus"), GateBlocks.COMMISSION:
            _("no commission"), GateBlocks.ALL: _("no bonus at all")}.get(which, which)


def gate_in_words(gate: dict) -> str:
    """"When the collection rate is below 60%: no commission." and the like."""
    if gate.get("kind") == GateKind.GRADE_IN:
        return _("When the grade is %(grades)s: %(blocks)s.") % {
            "grades": _(" or ").join(gate.get("grades", [])),
            "blocks": _pblocks(gate.get("blocks", ""))}
    measure = _pkpi(gate.get("kpi", ""))
    return _("When %(kpi)s is below %(floor)s: %(blocks)s.") % {
        "kpi": str(measure.label) if measure is not None else gate.get("kpi", ""),
        "floor": _pfloor(gate), "blocks": _pblocks(gate.get("blocks", ""))}


def plan_rules(plan) -> dict:
    """A plan's rules as the detail page says them: the coefficient table, the tiers with
    where each ends, the mode in words, the caps and the gates."""
    by_grade = plan.coefficient_basis == CoefficientBasis.GRADE
    if by_grade:
        coefficients = [{"label": g, "value": _pplain(plan.coefficients.get(g, "0"))}
                        for g in GRADES]
    else:
        bands = sorted(plan.coefficients, key=lambda b: float(b["from"]), reverse=True)
        coefficients = []
        for i, band in enumerate(bands):
            upper = bands[i - 1]["from"] if i else None
            label = (_("score %(low)s and above") % {"low": _pplain(band["from"])}
                     if upper is None else _("score %(low)s to under %(high)s")
                     % {"low": _pplain(band["from"]), "high": _pplain(upper)})
            coefficients.append({"label": label, "value": _pplain(band["coefficient"])})
    tiers = [{"n": i + 1, "from": _pplain(t["from"]),
              "to": _pplain(plan.tiers[i + 1]["from"]) if i + 1 < len(plan.tiers) else "",
              "rate": _pplain(t["rate"])} for i, t in enumerate(plan.tiers)]
    mode = (_("Tiered: each tier's rate applies only to the part of the amount inside "
              "that tier, and the parts are added up.")
            if plan.commission_mode == CommissionMode.TIERED else
            _("Whole amount: the rate of the highest tier reached applies to the whole "
                "amount."))
    return {"by_grade": by_grade, "coefficients": coefficients, "tiers": tiers,
            "mode": mode, "gates": [gate_in_words(g) for g in plan.gates]}


PLAN_COLUMNS = [
    Column("name", gettext_lazy("Name"), sort="name"),
    Column("position.name", gettext_lazy("Position"), sort="position__name"),
    Column("get_period_kind_display", gettext_lazy("Period"), sort="period_kind"),
    Column("number", gettext_lazy("Version"), sort="number"),
    Column("get_status_display", gettext_lazy("Status"), sort="status"),
    Column("base_amount", gettext_lazy("Base amount"), sort="base_amount"),
    Column("get_commission_measure_display", gettext_lazy("Commission on"),
           sort="commission_measure"),
    Column("approved_at", gettext_lazy("Approved at"), sort="approved_at"),
]


class PlanListPage(ListPage):
    """The bonus plans the user may read (drafts: those who keep them), every version."""

    template_name = "incentives/plan_list.html"
    row_template = "incentives/_plan_row.html"
    title = gettext_lazy("Bonus plans")
    filterset_class = PlanFilterSet
    export_name = "bonus-plans"
    default_sort = "position.name"
    empty_text = gettext_lazy("No bonus plan matches these filters.")
    columns = PLAN_COLUMNS
    tab = "plans"

    def rows(self):
        return selectors.plan_list(user=self.request.user)

    def _create_button(self):
        if not services.can_manage(self.request.user):
            return {}
        return {"create_url": reverse("incentives:plan_create"),
                "create_label": _("New plan")}


def _default_cycle(cycles, plan):
    """The latest approved cycle of the plan's period (else the latest of any)."""
    ordered = cycles.order_by("-since", "-pk")
    return ordered.filter(kind=plan.period_kind).first() or ordered.first()


class PlanDetailPage(DetailPage):
    """One version of a plan: its rules in words, the other versions of the position and
    period, its approval history, and the actions of those who keep the plans."""

    template_name = "incentives/plan_detail.html"

    def get_object(self):
        return selectors.plan_detail(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        plan, user = self.object, self.request.user
        manage = services.can_manage(user)
        versions = (selectors.plan_list(user=user)
                    .filter(position_id=plan.position_id, period_kind=plan.period_kind)
                    .order_by("-number", "-pk"))
        draft = plan.status == PlanStatus.DRAFT
        what_if_form = None
        if manage:
            cycles = selectors.what_if_cycles(user=user)
            default = _default_cycle(cycles, plan)
            if default is not None:
                what_if_form = forms.WhatIfForm(cycles=cycles.order_by("-since", "-pk"),
                                                initial={"cycle": default.pk})
                style_form(what_if_form)
        context.update(
            title=str(plan), plan=plan, rules=plan_rules(plan), versions=versions,
            in_force=selectors.plan_in_force(plan),
            approval_history=document_history(plan),
            may_manage=manage, may_edit=manage and draft, may_submit=manage and draft,
            may_delete=manage and draft, may_copy=manage, what_if_form=what_if_form)
        return context


# --- the plan form ------------------------------------------------------------------------
PLAN_ROW_ERROR = re.compile(r"(coefficients|tiers|gates)\[(\d+)\](?:\.(\w+))?.*")
PLAN_SECTION = {"coefficients": "bands", "tiers": "tiers", "gates": "gates"}
PLAN_SECTION_LABEL = {"bands": gettext_lazy("Score band %(n)s: %(message)s"),
                      "tiers": gettext_lazy("Tier %(n)s: %(message)s"),
                      "gates": gettext_lazy("Gate %(n)s: %(message)s")}


def _spread_plan_errors(exc, form, rows: dict, errors: dict) -> None:
    """A service error lands where it belongs: on the row and input it names
    (``tiers[2].rate``, ``gates[0].floor``), on a grade's coefficient
    (``coefficients.S``), on a form field, on a section, or above the form (naming the
    row)."""
    for field, field_messages in (exc.error_dict() or {"__all__": [str(exc.message)]}).items():
        match = PLAN_ROW_ERROR.fullmatch(field)
        grade = field.removeprefix("coefficients.") if field.startswith("coefficients.") \
            else None
        if match:
            section, index = PLAN_SECTION[match[1]], int(match[2])
            key = match[3] or "row"
            for message in field_messages:
                if index < len(rows[section]):
                    rows[section][index].setdefault("errors", {}).setdefault(key, []) \
                        .append(message)
                errors["general"].append({"field": field, "message": str(
                    PLAN_SECTION_LABEL[section] % {"n": index + 1, "message": message})})
        elif grade in GRADES:
            errors["grades"].setdefault(grade, []).extend(field_messages)
        elif field in PLAN_SECTION:
            errors["sections"].setdefault(PLAN_SECTION[field], []).extend(field_messages)
        elif field in form.fields:
            for message in field_messages:
                form.add_error(field, message)
        else:
            errors["general"].extend({"field": field, "message": m} for m in field_messages)


def _plan_initial(plan) -> dict:
    if plan is None:
        return {"period_kind": "quarterly", "coefficient_basis": CoefficientBasis.GRADE,
                "commission_mode": CommissionMode.TIERED}
    return {"name": plan.name, "position": plan.position_id, "period_kind": plan.period_kind,
            "base_amount": _pplain(plan.base_amount),
            "coefficient_basis": plan.coefficient_basis,
            "commission_measure": plan.commission_measure,
            "commission_mode": plan.commission_mode,
            "commission_cap": ("" if plan.commission_cap is None
                               else _pplain(plan.commission_cap)),
            "total_cap": "" if plan.total_cap is None else _pplain(plan.total_cap),
            "notes": plan.notes}


def _plan_form(request, plan=None):
    if not services.can_manage(request.user):
        raise PermissionDenied
    form = forms.PlanForm(posted(request), initial=_plan_initial(plan))
    if request.method == "POST":
        rows = forms.plan_rows(request.POST)
    elif plan is not None:
        rows = forms.rows_of_plan(plan)
    else:
        rows = forms.blank_plan_rows()
    errors = {"general": [], "grades": {}, "sections": {}}
    if request.method == "POST" and form.is_valid():
        values = forms.plan_payload(form.cleaned_data, rows)
        try:
            if plan is None:
                saved = services.plan_create(by=request.user, **values)
                message = _("The draft plan “%s” is created.") % saved
            else:
                version = request.POST.get("version", "")
                # naming the position or period renumbers the plan: only when it moves
                if values["position"] == plan.position_id:
                    del values["position"]
                if values["period_kind"] == plan.period_kind:
                    del values["period_kind"]
                saved = services.plan_update(
                    plan=plan, by=request.user,
                    version=int(version) if version.isdigit() else None, **values)
                message = _("The plan “%s” is saved.") % saved
        except DomainError as exc:
            _spread_plan_errors(exc, form, rows, errors)
        else:
            messages.success(request, message)
            return redirect(_plan_url(saved))
    from bizdept.kpi import measures

    style_form(form)
    context = {
        "title": (_("New bonus plan") if plan is None
                  else _("Edit the plan %s") % plan),
        "form": form, "plan": plan, "rows": rows, "errors": errors,
        "grades": [{"grade": g, "value": rows["coefficients"].get(g, ""),
                    "errors": errors["grades"].get(g, [])} for g in GRADES],
        "grade_choices": GRADES,
        "kpi_choices": [(code, str(m.label)) for code, m in measures.KPIS.items()],
        "gate_kinds": GateKind.choices, "gate_blocks": GateBlocks.choices,
        "blank_band": {"from": "", "coefficient": ""}, "blank_tier": {"from": "", "rate": ""},
        "blank_gate": {"kind": GateKind.KPI_BELOW, "kpi": "", "floor": "", "grades": [],
                       "blocks": GateBlocks.COMMISSION},
        "cancel_url": (_plan_url(plan) if plan is not None
                       else reverse("incentives:plan_list")),
        "version": plan.version if plan is not None else "",
    }
    return render(request, "incentives/plan_form.html", context)


@login_required
def plan_create(request):
    return _plan_form(request)


@login_required
def plan_edit(request, pk):
    plan = selectors.plan_detail(user=request.user, pk=pk)
    if plan.status != PlanStatus.DRAFT and services.can_manage(request.user):
        messages.error(request, _("Only a draft can be changed; draft a new version "
                                  "instead."))
        return redirect(_plan_url(plan))
    return _plan_form(request, plan)


# --- plan actions -------------------------------------------------------------------------
@login_required
@require_POST
def plan_new_version(request, pk):
    plan = selectors.plan_detail(user=request.user, pk=pk)
    try:
        copy = services.plan_new_version(plan=plan, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_plan_url(plan))
    messages.success(request, _("Version %(number)s is drafted as a copy of version "
                                "%(old)s.") % {"number": copy.number, "old": plan.number})
    return redirect(_plan_url(copy))


@login_required
@require_POST
def plan_submit(request, pk):
    plan = selectors.plan_detail(user=request.user, pk=pk)
    comment = request.POST.get("comment", "")[:500]
    return post_action(
        request, lambda: services.plan_submit(plan=plan, by=request.user, comment=comment),
        success=_("The plan is submitted for approval."), url=_plan_url(plan))


@login_required
@require_POST
def plan_delete(request, pk):
    plan = selectors.plan_detail(user=request.user, pk=pk)
    return post_action(
        request, lambda: services.plan_delete(plan=plan, by=request.user),
        success=_("The draft “%s” is deleted.") % plan,
        url=reverse("incentives:plan_list"), failure_url=_plan_url(plan))


# --- what-if ------------------------------------------------------------------------------
WHAT_IF_SORTS = {
    "change": lambda r: (r.change, r.employee.name),
    "name": lambda r: (r.employee.name, r.employee.pk),
    "unit": lambda r: (r.unit.path, r.employee.name, r.employee.pk),
    "current": lambda r: (r.current or 0, r.employee.name),
    "draft": lambda r: (r.draft, r.employee.name),
}
WHAT_IF_COLUMNS = [("name", gettext_lazy("Person")), ("unit", gettext_lazy("Unit")),
                   ("", gettext_lazy("Grade")), ("current", gettext_lazy("Current bonus")),
                   ("draft", gettext_lazy("Draft bonus")), ("change", gettext_lazy("Change"))]


def _what_if_sort(rows, sort: str):
    key = sort.lstrip("-")
    if key not in WHAT_IF_SORTS:
        return rows, "unit"
    return sorted(rows, key=WHAT_IF_SORTS[key], reverse=sort.startswith("-")), sort


def _what_if_workbook(result):
    headers = [_("Person"), _("Unit"), _("Grade"), _("Current bonus"),
               _("Draft bonus"), _("Change")]
    rows = [[r.employee.name, r.unit.name, r.grade, r.current, r.draft, r.change]
            for r in result.rows]
    rows.append([_("Total"), "", "", result.current_total, result.draft_total,
                 result.change])
    return xlsx_response(filename=f"what-if-{result.plan.pk}-{result.cycle.period}",
                         sheet=_("What-if"), headers=headers, rows=rows)


@login_required
def plan_what_if(request, pk):
    """``plan`` on an approved cycle beside the plan in force: totals and each person's
    change, each draft line's arithmetic (``?export=xlsx``: the comparison as a sheet).
    Those who keep the plans only (404 to others)."""
    user = request.user
    if not services.can_manage(user):
        raise Http404
    plan = selectors.plan_detail(user=user, pk=pk)
    cycles = selectors.what_if_cycles(user=user).order_by("-since", "-pk")
    raw = request.GET.get("cycle", "")
    if raw:
        if not raw.isdigit():
            raise Http404
        cycle = cycles.filter(pk=int(raw)).first()
        if cycle is None:
            raise Http404
    else:
        cycle = _default_cycle(cycles, plan)
    form = forms.WhatIfForm(cycles=cycles, initial={"cycle": cycle.pk if cycle else None})
    style_form(form)
    context = {"title": _("What-if: %s") % plan, "plan": plan, "form": form,
               "cycle": cycle, "result": None}
    if cycle is not None:
        result = selectors.what_if(user=user, plan=plan, cycle=cycle)
        if request.GET.get("export") == "xlsx":
            return _what_if_workbook(result)
        rows, sort = _what_if_sort(result.rows, request.GET.get("sort", ""))
        current = result.current_total
        context.update(
            result=result, rows=rows, sort=sort, sort_columns=WHAT_IF_COLUMNS,
            percent=(result.change / current * 100) if current else None,
            same_plan=result.current_plan is not None and result.current_plan.pk == plan.pk)
    return render(request, "incentives/plan_what_if.html", context)
# === end of Bonus plans and what-if (INC-1) ================================================

# === Bonus runs and lines (INC-2) ==========================================================
# Runs of the department, one run's lines (filters, sort, the payroll workbook), one
# line's arithmetic in words (also printable), my bonus lines.





def _run_url(run) -> str:
    return reverse("incentives:run_detail", args=[run.pk])


def _open_cycles(user):
    """The approved cycles of the user's department without a bonus run yet."""
    return selectors.what_if_cycles(user=user).filter(bonus_run__isnull=True) \
        .order_by("-since", "-pk")


def _amount(value):
    """Money for a workbook: a number to the cent (None stays None)."""
    return None if value is None else float(to_cents(value))


def _money_of(name):
    return lambda row: _amount(getattr(row, name))


RUN_COLUMNS = [
    Column("name", gettext_lazy("Name"), sort="name"),
    Column("cycle.name", gettext_lazy("Appraisal cycle"), sort="cycle__since"),
    Column("get_status_display", gettext_lazy("Status"), sort="status"),
    Column("seen_people", gettext_lazy("People"), value=lambda r: r.seen_people or 0),
    Column("seen_total", gettext_lazy("Total"), value=lambda r: _amount(r.seen_total or 0)),
    Column("created_at", gettext_lazy("Created at"), sort="created_at"),
    Column("approved_at", gettext_lazy("Approved at"), sort="approved_at"),
]


class RunListPage(ListPage):
    """The department's bonus runs, with the people and total the user may see of each,
    and the "new run" form for HR and the director."""

    template_name = "incentives/run_list.html"
    row_template = "incentives/_run_row.html"
    title = gettext_lazy("Bonus runs")
    filterset_class = RunFilterSet
    export_name = "bonus-runs"
    default_sort = "-cycle.name"
    empty_text = gettext_lazy("No bonus run yet.")
    columns = RUN_COLUMNS
    tab = "runs"

    def rows(self):
        user = self.request.user
        return selectors.with_seen_totals(selectors.run_list(user=user), user=user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        if services.can_manage(user):
            form = RunCreateForm(cycles=_open_cycles(user))
            style_form(form)
            context.update(may_create=True, create_form=form)
        return context


@login_required
@require_POST
def run_create(request):
    if not services.can_manage(request.user):
        raise PermissionDenied
    form = RunCreateForm(request.POST, cycles=_open_cycles(request.user))
    if not form.is_valid():
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
        return redirect("incentives:run_list")
    try:
        run = services.run_create(by=request.user, cycle=form.cleaned_data["cycle"],
                                  name=form.cleaned_data["name"])
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("incentives:run_list")
    messages.success(request, _("The run “%(name)s” is worked out: %(count)s people.")
                     % {"name": run.name, "count": run.people})
    return redirect(_run_url(run))


def _run_stepper(run) -> list[dict]:
    stages = [RunStatus.DRAFT, RunStatus.SUBMITTED, RunStatus.APPROVED]
    current = stages.index(run.status)
    return [{"status": s, "label": RunStatus(s).label, "done": i < current,
             "current": i == current} for i, s in enumerate(stages)]


def _plan_label(line) -> str:
    return f"{line.plan.name} v{line.plan.number}"


LINE_COLUMNS = [
    Column("employee.name", gettext_lazy("Person"), sort="employee__name"),
    Column("unit.name", gettext_lazy("Unit"), sort="unit__path"),
    Column("plan", gettext_lazy("Bonus plan"), value=_plan_label),
    Column("grade", gettext_lazy("Grade"), sort="grade"),
    Column("score", gettext_lazy("Total score"), value=lambda r: r.score),
    Column("coefficient", gettext_lazy("Coefficient")),
    Column("base_bonus", gettext_lazy("Base bonus"), sort="base_bonus"),
    Column("commission", gettext_lazy("Commission"), sort="commission"),
    Column("capped_by", gettext_lazy("Cut by caps")),
    Column("total", gettext_lazy("Bonus"), sort="total"),
]


def _may_export(user) -> bool:
    return services.can_manage(user) or Capability.SEE_MONEY in capabilities_of(user)


class RunDetailPage(ListPage):
    """A run: its stage, totals, people without a plan, its approval history, its actions,
    and the lines the user may see (filters, sort, pages)."""

    template_name = "incentives/run_detail.html"
    row_template = "incentives/_line_row.html"
    filterset_class = BonusLineFilterSet
    default_sort = "unit.name"
    empty_text = gettext_lazy("No bonus line you may see matches these filters.")
    columns = LINE_COLUMNS

    def get(self, request, *args, **kwargs):
        self.run = selectors.run_detail(user=request.user, pk=kwargs["pk"])
        self.title = self.run.name
        if request.GET.get("tab") == "history":
            return self.response_class(
                request=request, template=["partials/history.html"],
                context={"entries": history_entries(self.run), "object": self.run})
        return super().get(request, *args, **kwargs)

    def rows(self):
        return selectors.line_list(user=self.request.user, run=self.run)

    def export(self, queryset):
        if not _may_export(self.request.user):
            raise PermissionDenied
        return _payroll_workbook(self.run, queryset.select_related("plan__position"))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run, user = self.run, self.request.user
        manage = services.can_manage(user)
        submit_form = RunSubmitForm()
        style_form(submit_form)
        context.update(
            run=run, cycle=run.cycle, stepper=_run_stepper(run),
            totals=selectors.run_totals(user=user, run=run),
            unpaid=selectors.unpaid_count(run) if manage else None,
            approval_history=document_history(run),
            may_recompute=manage and run.status == RunStatus.DRAFT,
            may_submit=manage and run.status == RunStatus.DRAFT,
            may_export=_may_export(user), submit_form=submit_form,
        )
        return context


@login_required
@require_POST
def run_recompute(request, pk):
    run = selectors.run_detail(user=request.user, pk=pk)
    return post_action(
        request, lambda: services.run_recompute(run=run, by=request.user),
        success=_("The run is worked out again from the plans and the records."),
        url=_run_url(run))


@login_required
@require_POST
def run_submit(request, pk):
    run = selectors.run_detail(user=request.user, pk=pk)
    form = RunSubmitForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    return post_action(
        request, lambda: services.run_submit(run=run, by=request.user, comment=comment),
        success=_("The run is submitted for approval: its lines no longer change."),
        url=_run_url(run))


PAYROLL_HEADERS = [
    gettext_lazy("Employee number"), gettext_lazy("Name"), gettext_lazy("Unit"),
    gettext_lazy("Position"), gettext_lazy("Bonus plan"), gettext_lazy("Plan version"),
    gettext_lazy("Grade"), gettext_lazy("Total score"), gettext_lazy("Coefficient"),
    gettext_lazy("Base bonus"), gettext_lazy("Commission"), gettext_lazy("Cut by caps"),
    gettext_lazy("Bonus"), gettext_lazy("Run status"),
]
MONEY_FORMAT = "#,##0.00"


def _payroll_workbook(run, lines) -> FileResponse:
    """The payroll sheet of ``lines`` (those the user may see): a heading stating the run,
    its cycle, its status and the rounding, one row per person, money as numbers to the
    cent, and a totals row."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(title=_("Bonus")[:31])
    bold = Font(bold=True)

    def cell(value, *, money=False, strong=False):
        c = WriteOnlyCell(ws, value=value)
        if money:
            c.number_format = MONEY_FORMAT
        if strong:
            c.font = bold
        return c

    title = run.name
    if run.status != RunStatus.APPROVED:
        title = _("%(name)s (draft / not approved)") % {"name": run.name}
    ws.append([cell(title, strong=True)])
    ws.append([_("Appraisal cycle"), run.cycle.name,
               f"{run.cycle.since:%Y-%m-%d} – {run.cycle.until:%Y-%m-%d}"])
    ws.append([_("Status"), str(run.get_status_display())])
    ws.append([_("Rounding"), _("half up to the cent")])
    ws.append([])
    ws.append([cell(str(h), strong=True) for h in PAYROLL_HEADERS])
    status = str(run.get_status_display())
    sums = {"base": 0, "commission": 0, "cut": 0, "total": 0}
    count = 0
    for line in lines.iterator(chunk_size=2000):
        count += 1
        for key, value in (("base", line.base_bonus), ("commission", line.commission),
                           ("cut", line.capped_by), ("total", line.total)):
            sums[key] += to_cents(value)
        ws.append([
            line.employee.number, line.employee.name, line.unit.name,
            line.plan.position.name, line.plan.name, line.plan.number, line.grade or "",
            cell(float(line.score) if line.score is not None else None),
            cell(float(line.coefficient)),
            cell(float(to_cents(line.base_bonus)), money=True),
            cell(float(to_cents(line.commission)), money=True),
            cell(float(to_cents(line.capped_by)), money=True),
            cell(float(to_cents(line.total)), money=True), status])
    ws.append([cell(_("Total"), strong=True),
               cell(_("%s people") % count, strong=True), "", "", "", "", "", "", "",
               cell(float(sums["base"]), money=True, strong=True),
               cell(float(sums["commission"]), money=True, strong=True),
               cell(float(sums["cut"]), money=True, strong=True),
               cell(float(sums["total"]), money=True, strong=True), ""])
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    workbook.save(buffer)
    buffer.seek(0)
    suffix = "" if run.status == RunStatus.APPROVED else "-draft"
    return FileResponse(
        buffer, as_attachment=True, filename=f"bonus-{run.cycle.period}{suffix}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@login_required
def run_export(request, pk):
    """The payroll workbook: HR, the director and finance only (others 403)."""
    run = selectors.run_detail(user=request.user, pk=pk)
    if not _may_export(request.user):
        raise PermissionDenied
    lines = (selectors.line_list(user=request.user, run=run)
             .select_related("plan__position").order_by("unit__path", "employee__name", "pk"))
    return _payroll_workbook(run, lines)


@login_required
def line_detail(request, pk):
    """One person's bonus with its whole arithmetic (``?print=1``: the printable page)."""
    line = selectors.line_detail(user=request.user, pk=pk)
    context = {
        "title": _("%(person)s · %(run)s") % {"person": line.employee.name,
                                              "run": line.run.name},
        "line": line, "run": line.run, "cycle": line.run.cycle,
        "print_url": reverse("incentives:line_detail", args=[line.pk]) + "?print=1",
    }
    if request.GET.get("print") == "1":
        return render(request, "incentives/line_print.html", context)
    return render(request, "incentives/line_detail.html", context)


MY_BONUS_COLUMNS = [
    Column("run.name", gettext_lazy("Bonus run"), sort="run__cycle__since"),
    Column("run.cycle.name", gettext_lazy("Appraisal cycle")),
    Column("run.get_status_display", gettext_lazy("Status")),
    Column("plan", gettext_lazy("Bonus plan"), value=_plan_label),
    Column("grade", gettext_lazy("Grade")),
    Column("base_bonus", gettext_lazy("Base bonus"), value=_money_of("base_bonus")),
    Column("commission", gettext_lazy("Commission"), value=_money_of("commission")),
    Column("total", gettext_lazy("Bonus"), sort="total", value=_money_of("total")),
]


class MyBonusPage(ListPage):
    template_name = "incentives/my_bonus.html"
    row_template = "incentives/_my_row.html"
    title = gettext_lazy("My bonus")
    export_name = "my-bonus"
    default_sort = "-run.name"
    empty_text = gettext_lazy("No bonus has been worked out for you yet.")
    columns = MY_BONUS_COLUMNS
    tab = "mine"

    def rows(self):
        return selectors.my_lines(user=self.request.user)


# === end of Bonus runs and lines (INC-2) ===================================================

# === Awards (INC-3) =======================================================================
# Awards (filters, sort, Excel; propose from a cycle, special award, the director's
# confirm/decline), one award with its evidence in words, honor titles (list and form).



def _award_url(award) -> str:
    return reverse("incentives:award_detail", args=[award.pk])


def _may_propose_special(user) -> bool:
    me = employee_of(user)
    return me is not None and services.may_propose_special(user, me)


def _special_people(user):
    """Whom the user may propose a special award for: their people scope but themselves."""
    from bizdept.org.models import Employee

    me = employee_of(user)
    rows = Employee.objects.visible_to(user).active().select_related("unit")
    return (rows.exclude(pk=me.pk) if me is not None else rows).order_by("unit__path", "name")


AWARD_COLUMNS = [
    Column("employee.name", gettext_lazy("Person"), sort="employee__name"),
    Column("employee.unit.name", gettext_lazy("Unit"), sort="employee__unit__path"),
    Column("label", gettext_lazy("Award"), sort="kind"),
    Column("period", gettext_lazy("Period"), sort="period"),
    Column("amount", gettext_lazy("Amount"), sort="amount",
           value=lambda a: _amount(a.amount)),
    Column("evidence", gettext_lazy("Why"), value=selectors.evidence_text),
    Column("get_status_display", gettext_lazy("Status"), sort="status"),
    Column("proposed_at", gettext_lazy("Proposed at"), sort="proposed_at"),
    Column("decided_by.name", gettext_lazy("Decided by")),
]


class AwardListPage(ListPage):
    """Awards the user may see; the forms to propose (HR, the director, heads) and the
    director's confirm/decline on each proposal."""

    template_name = "incentives/award_list.html"
    row_template = "incentives/_award_row.html"
    title = gettext_lazy("Awards and honors")
    filterset_class = AwardFilterSet
    export_name = "awards"
    default_sort = "-proposed_at"
    empty_text = gettext_lazy("No award matches these filters.")
    columns = AWARD_COLUMNS
    tab = "awards"

    def rows(self):
        return selectors.award_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        if services.can_manage(user) and employee_of(user) is not None:
            form = AwardProposeForm(cycles=selectors.award_cycles(user=user))
            style_form(form)
            context["propose_form"] = form
        if _may_propose_special(user):
            form = SpecialAwardForm(people=_special_people(user))
            style_form(form)
            context["special_form"] = form
        context["may_decide"] = services.can_decide_awards(user)
        context["may_keep_titles"] = services.can_manage(user)
        for row in context["rows"]:
            row.why = selectors.evidence_text(row)
        return context


@login_required
@require_POST
def award_propose(request):
    if not services.can_manage(request.user):
        raise PermissionDenied
    form = AwardProposeForm(request.POST, cycles=selectors.award_cycles(user=request.user))
    if not form.is_valid():
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
        return redirect("incentives:award_list")
    cycle = form.cleaned_data["cycle"]
    try:
        added = services.awards_propose(by=request.user, cycle=cycle)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(count)s new proposals from %(cycle)s.")
                         % {"count": added, "cycle": cycle.name})
    return redirect(reverse("incentives:award_list") + "?status=proposed")


@login_required
@require_POST
def award_special(request):
    if not _may_propose_special(request.user):
        raise PermissionDenied
    form = SpecialAwardForm(request.POST, people=_special_people(request.user))
    if not form.is_valid():
        messages.error(request, " ".join(f"{form.fields[f].label if f in form.fields else ''}"
                                         f": {m}" for f, ms in form.errors.items()
                                         for m in ms))
        return redirect("incentives:award_list")
    data = form.cleaned_data
    try:
        award = services.special_award_propose(
            by=request.user, employee=data["employee"], period=data["period"],
            amount=data["amount"], reason=data["reason"])
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("incentives:award_list")
    messages.success(request, _("The special award is proposed to the director."))
    return redirect(_award_url(award))


def _decide(request, pk, service, success):
    award = selectors.award_detail(user=request.user, pk=pk)
    form = AwardDecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    back = request.POST.get("next") or ""
    url = back if back == reverse("incentives:award_list") else _award_url(award)
    return post_action(request, lambda: service(award=award, by=request.user, note=note),
                       success=success, url=url)


@login_required
@require_POST
def award_confirm(request, pk):
    return _decide(request, pk, services.award_confirm, _("The award is confirmed."))


@login_required
@require_POST
def award_decline(request, pk):
    return _decide(request, pk, services.award_decline, _("The award is declined."))


@login_required
def award_detail(request, pk):
    award = selectors.award_detail(user=request.user, pk=pk)
    if request.GET.get("tab") == "history":
        return render(request, "partials/history.html",
                      {"entries": history_entries(award), "object": award})
    form = AwardDecisionForm()
    style_form(form)
    may_decide = (services.can_decide_awards(request.user)
                  and award.status == AwardStatus.PROPOSED
                  and award.employee_id != getattr(employee_of(request.user), "pk", None))
    return render(request, "incentives/award_detail.html", {
        "title": str(award), "award": award, "evidence": selectors.evidence_text(award),
        "may_decide": may_decide, "decision_form": form, "tab": "awards"})


# --- honor titles -----------------------------------------------------------------------------
def _basis_label(title) -> str:
    return dict(services.basis_choices()).get(title.basis, title.basis)


TITLE_COLUMNS = [
    Column("display_name", gettext_lazy("Name"), sort="name"),
    Column("basis", gettext_lazy("Ranked by"), value=_basis_label),
    Column("get_per_display", gettext_lazy("Ranked per"), sort="per"),
    Column("top", gettext_lazy("How many per unit"), sort="top"),
    Column("position.display_name", gettext_lazy("Position")),
    Column("get_period_kind_display", gettext_lazy("From cycles"), sort="period_kind"),
    Column("is_active", gettext_lazy("Active"), sort="is_active",
           value=lambda t: _("Yes") if t.is_active else _("No")),
]


class TitleListPage(ListPage):
    template_name = "incentives/title_list.html"
    row_template = "incentives/_title_row.html"
    title = gettext_lazy("Honor titles")
    filterset_class = HonorTitleFilterSet
    export_name = "honor-titles"
    default_sort = "display_name"
    empty_text = gettext_lazy("No honor title yet.")
    columns = TITLE_COLUMNS
    tab = "titles"

    def rows(self):
        return selectors.title_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_keep_titles"] = services.can_manage(self.request.user)
        for row in context["rows"]:
            row.basis_label = _basis_label(row)
        if context["may_keep_titles"]:
            context.update(create_url=reverse("incentives:title_create"),
                           create_label=_("New honor title"))
        return context


def _title_form_page(request, title=None):
    if not services.can_manage(request.user):
        raise PermissionDenied
    initial = None
    if title is not None:
        initial = {"name": title.name, "name_en": title.name_en, "basis": title.basis,
                   "per": title.per, "top": title.top, "position": title.position_id,
                   "period_kind": title.period_kind}
    form = HonorTitleForm(posted(request), initial=initial)
    style_form(form, small=False)

    def save():
        values = dict(form.cleaned_data)
        if title is None:
            created = services.title_create(by=request.user, **values)
            return (reverse("incentives:title_list"),
                    _("The honor title “%s” is created.") % created.name)
        services.title_update(title=title, by=request.user, **values)
        return (reverse("incentives:title_list"),
                _("The honor title “%s” is saved.") % title.name)

    return form_page(request, form, save=save,
                     title=_("New honor title") if title is None
                     else _("Edit honor title"),
                     cancel_url=reverse("incentives:title_list"))


@login_required
def title_create(request):
    return _title_form_page(request)


@login_required
def title_edit(request, pk):
    return _title_form_page(request, selectors.title_detail(user=request.user, pk=pk))


@login_required
@require_POST
def title_deactivate(request, pk):
    title = selectors.title_detail(user=request.user, pk=pk)
    return post_action(
        request, lambda: services.title_deactivate(title=title, by=request.user),
        success=_("The honor title is no longer proposed."),
        url=reverse("incentives:title_list"))
# === end of Awards (INC-3) =================================================================
