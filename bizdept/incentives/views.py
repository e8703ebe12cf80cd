"""Pages of the incentives app (INC-1..3): parse, call a service or selector, render."""

# === Bonus plans and what-if (INC-1) =====================================================
# The plans (list, one version's rules in words, the form, the actions) and the what-if
# comparison of a plan with the one in force on an approved cycle. Names are prefixed
# ``_p`` so this section's imports never shadow another section's.
import re as _pre

from django.contrib import messages as _pmessages
from django.contrib.auth.decorators import login_required as _plogin_required
from django.core.exceptions import PermissionDenied as _PPermissionDenied
from django.http import Http404 as _PHttp404
from django.shortcuts import redirect as _predirect
from django.shortcuts import render as _prender
from django.urls import reverse as _preverse
from django.utils.translation import gettext as _pg
from django.utils.translation import gettext_lazy as _pgl
from django.views.decorators.http import require_POST as _prequire_POST

from bizdept.appraisal.choices import GRADES as _PGRADES
from bizdept.approvals.selectors import document_history as _pdocument_history
from bizdept.core.errors import DomainError as _PDomainError
from bizdept.core.excel import xlsx_response as _pxlsx_response
from bizdept.core.pages import Column as _PColumn
from bizdept.core.pages import DetailPage as _PDetailPage
from bizdept.core.pages import ListPage as _PListPage
from bizdept.core.pages import post_action as _ppost_action
from bizdept.core.pages import posted as _pposted
from bizdept.core.pages import style_form as _pstyle_form

from . import forms as _pforms
from . import selectors as _pselectors
from . import services as _pservices
from .choices import CoefficientBasis as _PCoefficientBasis
from .choices import CommissionMode as _PCommissionMode
from .choices import GateBlocks as _PGateBlocks
from .choices import GateKind as _PGateKind
from .choices import PlanStatus as _PPlanStatus
from .filters import PlanFilterSet as _PPlanFilterSet


def _plan_url(plan) -> str:
    return _preverse("incentives:plan_detail", args=[plan.pk])


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
    return {_PGateBlocks.BASE: _pg("no base bonus"), _PGateBlocks.COMMISSION:
            _pg("no commission"), _PGateBlocks.ALL: _pg("no bonus at all")}.get(which, which)


def gate_in_words(gate: dict) -> str:
    """"When the collection rate is below 60%: no commission." and the like."""
    if gate.get("kind") == _PGateKind.GRADE_IN:
        return _pg("When the grade is %(grades)s: %(blocks)s.") % {
            "grades": _pg(" or ").join(gate.get("grades", [])),
            "blocks": _pblocks(gate.get("blocks", ""))}
    measure = _pkpi(gate.get("kpi", ""))
    return _pg("When %(kpi)s is below %(floor)s: %(blocks)s.") % {
        "kpi": str(measure.label) if measure is not None else gate.get("kpi", ""),
        "floor": _pfloor(gate), "blocks": _pblocks(gate.get("blocks", ""))}


def plan_rules(plan) -> dict:
    """A plan's rules as the detail page says them: the coefficient table, the tiers with
    where each ends, the mode in words, the caps and the gates."""
    by_grade = plan.coefficient_basis == _PCoefficientBasis.GRADE
    if by_grade:
        coefficients = [{"label": g, "value": _pplain(plan.coefficients.get(g, "0"))}
                        for g in _PGRADES]
    else:
        bands = sorted(plan.coefficients, key=lambda b: float(b["from"]), reverse=True)
        coefficients = []
        for i, band in enumerate(bands):
            upper = bands[i - 1]["from"] if i else None
            label = (_pg("score %(low)s and above") % {"low": _pplain(band["from"])}
                     if upper is None else _pg("score %(low)s to under %(high)s")
                     % {"low": _pplain(band["from"]), "high": _pplain(upper)})
            coefficients.append({"label": label, "value": _pplain(band["coefficient"])})
    tiers = [{"n": i + 1, "from": _pplain(t["from"]),
              "to": _pplain(plan.tiers[i + 1]["from"]) if i + 1 < len(plan.tiers) else "",
              "rate": _pplain(t["rate"])} for i, t in enumerate(plan.tiers)]
    mode = (_pg("Tiered: each tier's rate applies only to the part of the amount inside "
                "that tier, and the parts are added up.")
            if plan.commission_mode == _PCommissionMode.TIERED else
            _pg("Whole amount: the rate of the highest tier reached applies to the whole "
                "amount."))
    return {"by_grade": by_grade, "coefficients": coefficients, "tiers": tiers,
            "mode": mode, "gates": [gate_in_words(g) for g in plan.gates]}


PLAN_COLUMNS = [
    _PColumn("name", _pgl("Name"), sort="name"),
    _PColumn("position.name", _pgl("Position"), sort="position__name"),
    _PColumn("get_period_kind_display", _pgl("Period"), sort="period_kind"),
    _PColumn("number", _pgl("Version"), sort="number"),
    _PColumn("get_status_display", _pgl("Status"), sort="status"),
    _PColumn("base_amount", _pgl("Base amount"), sort="base_amount"),
    _PColumn("get_commission_measure_display", _pgl("Commission on"),
             sort="commission_measure"),
    _PColumn("approved_at", _pgl("Approved at"), sort="approved_at"),
]


class PlanListPage(_PListPage):
    """The bonus plans the user may read (drafts: those who keep them), every version."""

    template_name = "incentives/plan_list.html"
    row_template = "incentives/_plan_row.html"
    title = _pgl("Bonus plans")
    filterset_class = _PPlanFilterSet
    export_name = "bonus-plans"
    default_sort = "position.name"
    empty_text = _pgl("No bonus plan matches these filters.")
    columns = PLAN_COLUMNS
    tab = "plans"

    def rows(self):
        return _pselectors.plan_list(user=self.request.user)

    def _create_button(self):
        if not _pservices.can_manage(self.request.user):
            return {}
        return {"create_url": _preverse("incentives:plan_create"),
                "create_label": _pg("New plan")}


def _default_cycle(cycles, plan):
    """The latest approved cycle of the plan's period (else the latest of any)."""
    ordered = cycles.order_by("-since", "-pk")
    return ordered.filter(kind=plan.period_kind).first() or ordered.first()


class PlanDetailPage(_PDetailPage):
    """One version of a plan: its rules in words, the other versions of the position and
    period, its approval history, and the actions of those who keep the plans."""

    template_name = "incentives/plan_detail.html"

    def get_object(self):
        return _pselectors.plan_detail(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        plan, user = self.object, self.request.user
        manage = _pservices.can_manage(user)
        versions = (_pselectors.plan_list(user=user)
                    .filter(position_id=plan.position_id, period_kind=plan.period_kind)
                    .order_by("-number", "-pk"))
        draft = plan.status == _PPlanStatus.DRAFT
        what_if_form = None
        if manage:
            cycles = _pselectors.what_if_cycles(user=user)
            default = _default_cycle(cycles, plan)
            if default is not None:
                what_if_form = _pforms.WhatIfForm(cycles=cycles.order_by("-since", "-pk"),
                                                  initial={"cycle": default.pk})
                _pstyle_form(what_if_form)
        context.update(
            title=str(plan), plan=plan, rules=plan_rules(plan), versions=versions,
            in_force=_pselectors.plan_in_force(plan),
            approval_history=_pdocument_history(plan),
            may_manage=manage, may_edit=manage and draft, may_submit=manage and draft,
            may_delete=manage and draft, may_copy=manage, what_if_form=what_if_form)
        return context


# --- the plan form ------------------------------------------------------------------------
PLAN_ROW_ERROR = _pre.compile(r"(coefficients|tiers|gates)\[(\d+)\](?:\.(\w+))?.*")
PLAN_SECTION = {"coefficients": "bands", "tiers": "tiers", "gates": "gates"}
PLAN_SECTION_LABEL = {"bands": _pgl("Score band %(n)s: %(message)s"),
                      "tiers": _pgl("Tier %(n)s: %(message)s"),
                      "gates": _pgl("Gate %(n)s: %(message)s")}


def _spread_plan_errors(exc, form, rows: dict, errors: dict) -> None:
    """A service error lands where it belongs: on the row and input it names
    (``tiers[2].rate``, ``gates[0].floor``), on a grade's coefficient
    (``coefficients.S``), on a form field, on a section, or above the form (naming the
    row)."""
    for field, messages in (exc.error_dict() or {"__all__": [str(exc.message)]}).items():
        match = PLAN_ROW_ERROR.fullmatch(field)
        grade = field.removeprefix("coefficients.") if field.startswith("coefficients.") \
            else None
        if match:
            section, index = PLAN_SECTION[match[1]], int(match[2])
            key = match[3] or "row"
            for message in messages:
                if index < len(rows[section]):
                    rows[section][index].setdefault("errors", {}).setdefault(key, []) \
                        .append(message)
                errors["general"].append({"field": field, "message": str(
                    PLAN_SECTION_LABEL[section] % {"n": index + 1, "message": message})})
        elif grade in _PGRADES:
            errors["grades"].setdefault(grade, []).extend(messages)
        elif field in PLAN_SECTION:
            errors["sections"].setdefault(PLAN_SECTION[field], []).extend(messages)
        elif field in form.fields:
            for message in messages:
                form.add_error(field, message)
        else:
            errors["general"].extend({"field": field, "message": m} for m in messages)


def _plan_initial(plan) -> dict:
    if plan is None:
        return {"period_kind": "quarterly", "coefficient_basis": _PCoefficientBasis.GRADE,
                "commission_mode": _PCommissionMode.TIERED}
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
    if not _pservices.can_manage(request.user):
        raise _PPermissionDenied
    form = _pforms.PlanForm(_pposted(request), initial=_plan_initial(plan))
    if request.method == "POST":
        rows = _pforms.plan_rows(request.POST)
    elif plan is not None:
        rows = _pforms.rows_of_plan(plan)
    else:
        rows = _pforms.blank_plan_rows()
    errors = {"general": [], "grades": {}, "sections": {}}
    if request.method == "POST" and form.is_valid():
        values = _pforms.plan_payload(form.cleaned_data, rows)
        try:
            if plan is None:
                saved = _pservices.plan_create(by=request.user, **values)
                message = _pg("The draft plan “%s” is created.") % saved
            else:
                version = request.POST.get("version", "")
                # naming the position or period renumbers the plan: only when it moves
                if values["position"] == plan.position_id:
                    del values["position"]
                if values["period_kind"] == plan.period_kind:
                    del values["period_kind"]
                saved = _pservices.plan_update(
                    plan=plan, by=request.user,
                    version=int(version) if version.isdigit() else None, **values)
                message = _pg("The plan “%s” is saved.") % saved
        except _PDomainError as exc:
            _spread_plan_errors(exc, form, rows, errors)
        else:
            _pmessages.success(request, message)
            return _predirect(_plan_url(saved))
    from bizdept.kpi import measures

    _pstyle_form(form)
    context = {
        "title": (_pg("New bonus plan") if plan is None
                  else _pg("Edit the plan %s") % plan),
        "form": form, "plan": plan, "rows": rows, "errors": errors,
        "grades": [{"grade": g, "value": rows["coefficients"].get(g, ""),
                    "errors": errors["grades"].get(g, [])} for g in _PGRADES],
        "grade_choices": _PGRADES,
        "kpi_choices": [(code, str(m.label)) for code, m in measures.KPIS.items()],
        "gate_kinds": _PGateKind.choices, "gate_blocks": _PGateBlocks.choices,
        "blank_band": {"from": "", "coefficient": ""}, "blank_tier": {"from": "", "rate": ""},
        "blank_gate": {"kind": _PGateKind.KPI_BELOW, "kpi": "", "floor": "", "grades": [],
                       "blocks": _PGateBlocks.COMMISSION},
        "cancel_url": (_plan_url(plan) if plan is not None
                       else _preverse("incentives:plan_list")),
        "version": plan.version if plan is not None else "",
    }
    return _prender(request, "incentives/plan_form.html", context)


@_plogin_required
def plan_create(request):
    return _plan_form(request)


@_plogin_required
def plan_edit(request, pk):
    plan = _pselectors.plan_detail(user=request.user, pk=pk)
    if plan.status != _PPlanStatus.DRAFT and _pservices.can_manage(request.user):
        _pmessages.error(request, _pg("Only a draft can be changed; draft a new version "
                                      "instead."))
        return _predirect(_plan_url(plan))
    return _plan_form(request, plan)


# --- plan actions -------------------------------------------------------------------------
@_plogin_required
@_prequire_POST
def plan_new_version(request, pk):
    plan = _pselectors.plan_detail(user=request.user, pk=pk)
    try:
        copy = _pservices.plan_new_version(plan=plan, by=request.user)
    except _PDomainError as exc:
        _pmessages.error(request, exc.message)
        return _predirect(_plan_url(plan))
    _pmessages.success(request, _pg("Version %(number)s is drafted as a copy of version "
                                    "%(old)s.") % {"number": copy.number, "old": plan.number})
    return _predirect(_plan_url(copy))


@_plogin_required
@_prequire_POST
def plan_submit(request, pk):
    plan = _pselectors.plan_detail(user=request.user, pk=pk)
    comment = request.POST.get("comment", "")[:500]
    return _ppost_action(
        request, lambda: _pservices.plan_submit(plan=plan, by=request.user, comment=comment),
        success=_pg("The plan is submitted for approval."), url=_plan_url(plan))


@_plogin_required
@_prequire_POST
def plan_delete(request, pk):
    plan = _pselectors.plan_detail(user=request.user, pk=pk)
    return _ppost_action(
        request, lambda: _pservices.plan_delete(plan=plan, by=request.user),
        success=_pg("The draft “%s” is deleted.") % plan,
        url=_preverse("incentives:plan_list"), failure_url=_plan_url(plan))


# --- what-if ------------------------------------------------------------------------------
WHAT_IF_SORTS = {
    "change": lambda r: (r.change, r.employee.name),
    "name": lambda r: (r.employee.name, r.employee.pk),
    "unit": lambda r: (r.unit.path, r.employee.name, r.employee.pk),
    "current": lambda r: (r.current or 0, r.employee.name),
    "draft": lambda r: (r.draft, r.employee.name),
}
WHAT_IF_COLUMNS = [("name", _pgl("Person")), ("unit", _pgl("Unit")), ("", _pgl("Grade")),
                   ("current", _pgl("Current bonus")), ("draft", _pgl("Draft bonus")),
                   ("change", _pgl("Change"))]


def _what_if_sort(rows, sort: str):
    key = sort.lstrip("-")
    if key not in WHAT_IF_SORTS:
        return rows, "unit"
    return sorted(rows, key=WHAT_IF_SORTS[key], reverse=sort.startswith("-")), sort


def _what_if_workbook(result):
    headers = [_pg("Person"), _pg("Unit"), _pg("Grade"), _pg("Current bonus"),
               _pg("Draft bonus"), _pg("Change")]
    rows = [[r.employee.name, r.unit.name, r.grade, r.current, r.draft, r.change]
            for r in result.rows]
    rows.append([_pg("Total"), "", "", result.current_total, result.draft_total,
                 result.change])
    return _pxlsx_response(filename=f"what-if-{result.plan.pk}-{result.cycle.period}",
                           sheet=_pg("What-if"), headers=headers, rows=rows)


@_plogin_required
def plan_what_if(request, pk):
    """``plan`` on an approved cycle beside the plan in force: totals and each person's
    change, each draft line's arithmetic (``?export=xlsx``: the comparison as a sheet).
    Those who keep the plans only (404 to others)."""
    user = request.user
    if not _pservices.can_manage(user):
        raise _PHttp404
    plan = _pselectors.plan_detail(user=user, pk=pk)
    cycles = _pselectors.what_if_cycles(user=user).order_by("-since", "-pk")
    raw = request.GET.get("cycle", "")
    if raw:
        if not raw.isdigit():
            raise _PHttp404
        cycle = cycles.filter(pk=int(raw)).first()
        if cycle is None:
            raise _PHttp404
    else:
        cycle = _default_cycle(cycles, plan)
    form = _pforms.WhatIfForm(cycles=cycles, initial={"cycle": cycle.pk if cycle else None})
    _pstyle_form(form)
    context = {"title": _pg("What-if: %s") % plan, "plan": plan, "form": form,
               "cycle": cycle, "result": None}
    if cycle is not None:
        result = _pselectors.what_if(user=user, plan=plan, cycle=cycle)
        if request.GET.get("export") == "xlsx":
            return _what_if_workbook(result)
        rows, sort = _what_if_sort(result.rows, request.GET.get("sort", ""))
        current = result.current_total
        context.update(
            result=result, rows=rows, sort=sort, sort_columns=WHAT_IF_COLUMNS,
            percent=(result.change / current * 100) if current else None,
            same_plan=result.current_plan is not None and result.current_plan.pk == plan.pk)
    return _prender(request, "incentives/plan_what_if.html", context)
# === end of Bonus plans and what-if (INC-1) ================================================

# === Bonus runs and lines (INC-2) ==========================================================
# Runs of the department, one run's lines (filters, sort, the payroll workbook), one
# line's arithmetic in words (also printable), my bonus lines.
import tempfile as _tempfile  # noqa: E402 - this section's own imports

from django.contrib import messages as _messages  # noqa: E402
from django.contrib.auth.decorators import login_required as _login_required  # noqa: E402
from django.core.exceptions import PermissionDenied as _PermissionDenied  # noqa: E402
from django.db.models import Count as _Count  # noqa: E402
from django.db.models import OuterRef as _OuterRef  # noqa: E402
from django.db.models import Subquery as _Subquery  # noqa: E402
from django.db.models import Sum as _Sum  # noqa: E402
from django.http import FileResponse as _FileResponse  # noqa: E402
from django.shortcuts import redirect as _redirect  # noqa: E402
from django.shortcuts import render as _render  # noqa: E402
from django.urls import reverse as _reverse  # noqa: E402
from django.utils.translation import gettext as _gettext  # noqa: E402
from django.utils.translation import gettext_lazy as _gettext_lazy  # noqa: E402
from django.views.decorators.http import require_POST as _require_POST  # noqa: E402

from bizdept.approvals.selectors import document_history as _document_history  # noqa: E402
from bizdept.core.errors import DomainError as _DomainError  # noqa: E402
from bizdept.core.history import history_entries as _history_entries  # noqa: E402
from bizdept.core.money import to_cents as _to_cents  # noqa: E402
from bizdept.core.pages import Column as _Column  # noqa: E402
from bizdept.core.pages import ListPage as _ListPage  # noqa: E402
from bizdept.core.pages import post_action as _post_action  # noqa: E402
from bizdept.core.pages import style_form as _style_form  # noqa: E402
from bizdept.org.choices import Capability as _Capability  # noqa: E402
from bizdept.org.scope import capabilities_of as _capabilities_of  # noqa: E402

from . import selectors as _selectors  # noqa: E402
from . import services as _services  # noqa: E402
from .choices import RunStatus as _RunStatus  # noqa: E402
from .filters import BonusLineFilterSet as _BonusLineFilterSet  # noqa: E402
from .filters import RunFilterSet as _RunFilterSet  # noqa: E402
from .forms import RunCreateForm as _RunCreateForm  # noqa: E402
from .forms import RunSubmitForm as _RunSubmitForm  # noqa: E402


def _run_url(run) -> str:
    return _reverse("incentives:run_detail", args=[run.pk])


def _open_cycles(user):
    """The approved cycles of the user's department without a bonus run yet."""
    return _selectors.what_if_cycles(user=user).filter(bonus_run__isnull=True) \
        .order_by("-since", "-pk")


def _amount(value):
    """Money for a workbook: a number to the cent (None stays None)."""
    return None if value is None else float(_to_cents(value))


def _money_of(name):
    return lambda row: _amount(getattr(row, name))


RUN_COLUMNS = [
    _Column("name", _gettext_lazy("Name"), sort="name"),
    _Column("cycle.name", _gettext_lazy("Appraisal cycle"), sort="cycle__since"),
    _Column("get_status_display", _gettext_lazy("Status"), sort="status"),
    _Column("seen_people", _gettext_lazy("People"), value=lambda r: r.seen_people or 0),
    _Column("seen_total", _gettext_lazy("Total"), value=lambda r: _amount(r.seen_total or 0)),
    _Column("created_at", _gettext_lazy("Created at"), sort="created_at"),
    _Column("approved_at", _gettext_lazy("Approved at"), sort="approved_at"),
]


class RunListPage(_ListPage):
    """The department's bonus runs, with the people and total the user may see of each,
    and the "new run" form for HR and the director."""

    template_name = "incentives/run_list.html"
    row_template = "incentives/_run_row.html"
    title = _gettext_lazy("Bonus runs")
    filterset_class = _RunFilterSet
    export_name = "bonus-runs"
    default_sort = "-cycle.name"
    empty_text = _gettext_lazy("No bonus run yet.")
    columns = RUN_COLUMNS
    tab = "runs"

    def rows(self):
        user = self.request.user
        seen = (_selectors.line_list(user=user).filter(run=_OuterRef("pk")).order_by()
                .values("run"))
        return _selectors.run_list(user=user).annotate(
            seen_people=_Subquery(seen.annotate(n=_Count("pk")).values("n")),
            seen_total=_Subquery(seen.annotate(s=_Sum("total")).values("s")))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        if _services.can_manage(user):
            form = _RunCreateForm(cycles=_open_cycles(user))
            _style_form(form)
            context.update(may_create=True, create_form=form)
        return context


@_login_required
@_require_POST
def run_create(request):
    if not _services.can_manage(request.user):
        raise _PermissionDenied
    form = _RunCreateForm(request.POST, cycles=_open_cycles(request.user))
    if not form.is_valid():
        _messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
        return _redirect("incentives:run_list")
    try:
        run = _services.run_create(by=request.user, cycle=form.cleaned_data["cycle"],
                                   name=form.cleaned_data["name"])
    except _DomainError as exc:
        _messages.error(request, exc.message)
        return _redirect("incentives:run_list")
    _messages.success(request, _gettext("The run “%(name)s” is worked out: %(count)s people.")
                     % {"name": run.name, "count": run.people})
    return _redirect(_run_url(run))


def _run_stepper(run) -> list[dict]:
    stages = [_RunStatus.DRAFT, _RunStatus.SUBMITTED, _RunStatus.APPROVED]
    current = stages.index(run.status)
    return [{"status": s, "label": _RunStatus(s).label, "done": i < current,
             "current": i == current} for i, s in enumerate(stages)]


def _plan_label(line) -> str:
    return f"{line.plan.name} v{line.plan.number}"


LINE_COLUMNS = [
    _Column("employee.name", _gettext_lazy("Person"), sort="employee__name"),
    _Column("unit.name", _gettext_lazy("Unit"), sort="unit__path"),
    _Column("plan", _gettext_lazy("Bonus plan"), value=_plan_label),
    _Column("grade", _gettext_lazy("Grade"), sort="grade"),
    _Column("score", _gettext_lazy("Total score"), value=lambda r: r.score),
    _Column("coefficient", _gettext_lazy("Coefficient")),
    _Column("base_bonus", _gettext_lazy("Base bonus"), sort="base_bonus"),
    _Column("commission", _gettext_lazy("Commission"), sort="commission"),
    _Column("capped_by", _gettext_lazy("Cut by caps")),
    _Column("total", _gettext_lazy("Bonus"), sort="total"),
]


def _may_export(user) -> bool:
    return _services.can_manage(user) or _Capability.SEE_MONEY in _capabilities_of(user)


class RunDetailPage(_ListPage):
    """A run: its stage, totals, people without a plan, its approval history, its actions,
    and the lines the user may see (filters, sort, pages)."""

    template_name = "incentives/run_detail.html"
    row_template = "incentives/_line_row.html"
    filterset_class = _BonusLineFilterSet
    default_sort = "unit.name"
    empty_text = _gettext_lazy("No bonus line you may see matches these filters.")
    columns = LINE_COLUMNS

    def get(self, request, *args, **kwargs):
        self.run = _selectors.run_detail(user=request.user, pk=kwargs["pk"])
        self.title = self.run.name
        if request.GET.get("tab") == "history":
            return self.response_class(
                request=request, template=["partials/history.html"],
                context={"entries": _history_entries(self.run), "object": self.run})
        return super().get(request, *args, **kwargs)

    def rows(self):
        return _selectors.line_list(user=self.request.user, run=self.run)

    def export(self, queryset):
        if not _may_export(self.request.user):
            raise _PermissionDenied
        return _payroll_workbook(self.run, queryset.select_related("plan__position"))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run, user = self.run, self.request.user
        manage = _services.can_manage(user)
        submit_form = _RunSubmitForm()
        _style_form(submit_form)
        context.update(
            run=run, cycle=run.cycle, stepper=_run_stepper(run),
            totals=_selectors.run_totals(user=user, run=run),
            unpaid=_selectors.unpaid_count(run) if manage else None,
            approval_history=_document_history(run),
            may_recompute=manage and run.status == _RunStatus.DRAFT,
            may_submit=manage and run.status == _RunStatus.DRAFT,
            may_export=_may_export(user), submit_form=submit_form,
        )
        return context


@_login_required
@_require_POST
def run_recompute(request, pk):
    run = _selectors.run_detail(user=request.user, pk=pk)
    return _post_action(
        request, lambda: _services.run_recompute(run=run, by=request.user),
        success=_gettext("The run is worked out again from the plans and the records."),
        url=_run_url(run))


@_login_required
@_require_POST
def run_submit(request, pk):
    run = _selectors.run_detail(user=request.user, pk=pk)
    form = _RunSubmitForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    return _post_action(
        request, lambda: _services.run_submit(run=run, by=request.user, comment=comment),
        success=_gettext("The run is submitted for approval: its lines no longer change."),
        url=_run_url(run))


PAYROLL_HEADERS = [
    _gettext_lazy("Employee number"), _gettext_lazy("Name"), _gettext_lazy("Unit"),
    _gettext_lazy("Position"), _gettext_lazy("Bonus plan"), _gettext_lazy("Plan version"),
    _gettext_lazy("Grade"), _gettext_lazy("Total score"), _gettext_lazy("Coefficient"),
    _gettext_lazy("Base bonus"), _gettext_lazy("Commission"), _gettext_lazy("Cut by caps"),
    _gettext_lazy("Bonus"), _gettext_lazy("Run status"),
]
MONEY_FORMAT = "#,##0.00"


def _payroll_workbook(run, lines) -> _FileResponse:
    """The payroll sheet of ``lines`` (those the user may see): a heading stating the run,
    its cycle, its status and the rounding, one row per person, money as numbers to the
    cent, and a totals row."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(title=_gettext("Bonus")[:31])
    bold = Font(bold=True)

    def cell(value, *, money=False, strong=False):
        c = WriteOnlyCell(ws, value=value)
        if money:
            c.number_format = MONEY_FORMAT
        if strong:
            c.font = bold
        return c

    title = run.name
    if run.status != _RunStatus.APPROVED:
        title = _gettext("%(name)s (draft / not approved)") % {"name": run.name}
    ws.append([cell(title, strong=True)])
    ws.append([_gettext("Appraisal cycle"), run.cycle.name,
               f"{run.cycle.since:%Y-%m-%d} – {run.cycle.until:%Y-%m-%d}"])
    ws.append([_gettext("Status"), str(run.get_status_display())])
    ws.append([_gettext("Rounding"), _gettext("half up to the cent")])
    ws.append([])
    ws.append([cell(str(h), strong=True) for h in PAYROLL_HEADERS])
    status = str(run.get_status_display())
    sums = {"base": 0, "commission": 0, "cut": 0, "total": 0}
    count = 0
    for line in lines.iterator(chunk_size=2000):
        count += 1
        for key, value in (("base", line.base_bonus), ("commission", line.commission),
                           ("cut", line.capped_by), ("total", line.total)):
            sums[key] += _to_cents(value)
        ws.append([
            line.employee.number, line.employee.name, line.unit.name,
            line.plan.position.name, line.plan.name, line.plan.number, line.grade or "",
            cell(float(line.score) if line.score is not None else None),
            cell(float(line.coefficient)),
            cell(float(_to_cents(line.base_bonus)), money=True),
            cell(float(_to_cents(line.commission)), money=True),
            cell(float(_to_cents(line.capped_by)), money=True),
            cell(float(_to_cents(line.total)), money=True), status])
    ws.append([cell(_gettext("Total"), strong=True),
               cell(_gettext("%s people") % count, strong=True), "", "", "", "", "", "", "",
               cell(float(sums["base"]), money=True, strong=True),
               cell(float(sums["commission"]), money=True, strong=True),
               cell(float(sums["cut"]), money=True, strong=True),
               cell(float(sums["total"]), money=True, strong=True), ""])
    buffer = _tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    workbook.save(buffer)
    buffer.seek(0)
    suffix = "" if run.status == _RunStatus.APPROVED else "-draft"
    return _FileResponse(
        buffer, as_attachment=True, filename=f"bonus-{run.cycle.period}{suffix}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@_login_required
def run_export(request, pk):
    """The payroll workbook: HR, the director and finance only (others 403)."""
    run = _selectors.run_detail(user=request.user, pk=pk)
    if not _may_export(request.user):
        raise _PermissionDenied
    lines = (_selectors.line_list(user=request.user, run=run)
             .select_related("plan__position").order_by("unit__path", "employee__name", "pk"))
    return _payroll_workbook(run, lines)


@_login_required
def line_detail(request, pk):
    """One person's bonus with its whole arithmetic (``?print=1``: the printable page)."""
    line = _selectors.line_detail(user=request.user, pk=pk)
    context = {
        "title": _gettext("%(person)s · %(run)s") % {"person": line.employee.name,
                                                      "run": line.run.name},
        "line": line, "run": line.run, "cycle": line.run.cycle,
        "print_url": _reverse("incentives:line_detail", args=[line.pk]) + "?print=1",
    }
    if request.GET.get("print") == "1":
        return _render(request, "incentives/line_print.html", context)
    return _render(request, "incentives/line_detail.html", context)


MY_BONUS_COLUMNS = [
    _Column("run.name", _gettext_lazy("Bonus run"), sort="run__cycle__since"),
    _Column("run.cycle.name", _gettext_lazy("Appraisal cycle")),
    _Column("run.get_status_display", _gettext_lazy("Status")),
    _Column("plan", _gettext_lazy("Bonus plan"), value=_plan_label),
    _Column("grade", _gettext_lazy("Grade")),
    _Column("base_bonus", _gettext_lazy("Base bonus"), value=_money_of("base_bonus")),
    _Column("commission", _gettext_lazy("Commission"), value=_money_of("commission")),
    _Column("total", _gettext_lazy("Bonus"), sort="total", value=_money_of("total")),
]


class MyBonusPage(_ListPage):
    template_name = "incentives/my_bonus.html"
    row_template = "incentives/_my_row.html"
    title = _gettext_lazy("My bonus")
    export_name = "my-bonus"
    default_sort = "-run.name"
    empty_text = _gettext_lazy("No bonus has been worked out for you yet.")
    columns = MY_BONUS_COLUMNS
    tab = "mine"

    def rows(self):
        return _selectors.my_lines(user=self.request.user)


# === end of Bonus runs and lines (INC-2) ===================================================

# === Awards (INC-3) =======================================================================
# Awards (filters, sort, Excel; propose from a cycle, special award, the director's
# confirm/decline), one award with its evidence in words, honor titles (list and form).
from bizdept.core.pages import form_page as _form_page  # noqa: E402
from bizdept.core.pages import posted as _posted  # noqa: E402
from bizdept.org.scope import employee_of as _employee_of  # noqa: E402

from .choices import AwardStatus as _AwardStatus  # noqa: E402
from .filters import AwardFilterSet as _AwardFilterSet  # noqa: E402
from .filters import HonorTitleFilterSet as _HonorTitleFilterSet  # noqa: E402
from .forms import AwardDecisionForm as _AwardDecisionForm  # noqa: E402
from .forms import AwardProposeForm as _AwardProposeForm  # noqa: E402
from .forms import HonorTitleForm as _HonorTitleForm  # noqa: E402
from .forms import SpecialAwardForm as _SpecialAwardForm  # noqa: E402


def _award_url(award) -> str:
    return _reverse("incentives:award_detail", args=[award.pk])


def _may_propose_special(user) -> bool:
    me = _employee_of(user)
    return me is not None and _services.may_propose_special(user, me)


def _special_people(user):
    """Whom the user may propose a special award for: their people scope but themselves."""
    from bizdept.org.models import Employee

    me = _employee_of(user)
    rows = Employee.objects.visible_to(user).active().select_related("unit")
    return (rows.exclude(pk=me.pk) if me is not None else rows).order_by("unit__path", "name")


AWARD_COLUMNS = [
    _Column("employee.name", _gettext_lazy("Person"), sort="employee__name"),
    _Column("employee.unit.name", _gettext_lazy("Unit"), sort="employee__unit__path"),
    _Column("label", _gettext_lazy("Award"), sort="kind"),
    _Column("period", _gettext_lazy("Period"), sort="period"),
    _Column("amount", _gettext_lazy("Amount"), sort="amount",
            value=lambda a: _amount(a.amount)),
    _Column("evidence", _gettext_lazy("Why"), value=_selectors.evidence_text),
    _Column("get_status_display", _gettext_lazy("Status"), sort="status"),
    _Column("proposed_at", _gettext_lazy("Proposed at"), sort="proposed_at"),
    _Column("decided_by.name", _gettext_lazy("Decided by")),
]


class AwardListPage(_ListPage):
    """Awards the user may see; the forms to propose (HR, the director, heads) and the
    director's confirm/decline on each proposal."""

    template_name = "incentives/award_list.html"
    row_template = "incentives/_award_row.html"
    title = _gettext_lazy("Awards and honors")
    filterset_class = _AwardFilterSet
    export_name = "awards"
    default_sort = "-proposed_at"
    empty_text = _gettext_lazy("No award matches these filters.")
    columns = AWARD_COLUMNS
    tab = "awards"

    def rows(self):
        return _selectors.award_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        if _services.can_manage(user) and _employee_of(user) is not None:
            form = _AwardProposeForm(cycles=_selectors.award_cycles(user=user))
            _style_form(form)
            context["propose_form"] = form
        if _may_propose_special(user):
            form = _SpecialAwardForm(people=_special_people(user))
            _style_form(form)
            context["special_form"] = form
        context["may_decide"] = _services.can_decide_awards(user)
        context["may_keep_titles"] = _services.can_manage(user)
        for row in context["rows"]:
            row.why = _selectors.evidence_text(row)
        return context


@_login_required
@_require_POST
def award_propose(request):
    if not _services.can_manage(request.user):
        raise _PermissionDenied
    form = _AwardProposeForm(request.POST, cycles=_selectors.award_cycles(user=request.user))
    if not form.is_valid():
        _messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
        return _redirect("incentives:award_list")
    cycle = form.cleaned_data["cycle"]
    try:
        added = _services.awards_propose(by=request.user, cycle=cycle)
    except _DomainError as exc:
        _messages.error(request, exc.message)
    else:
        _messages.success(request, _gettext("%(count)s new proposals from %(cycle)s.")
                          % {"count": added, "cycle": cycle.name})
    return _redirect(_reverse("incentives:award_list") + "?status=proposed")


@_login_required
@_require_POST
def award_special(request):
    if not _may_propose_special(request.user):
        raise _PermissionDenied
    form = _SpecialAwardForm(request.POST, people=_special_people(request.user))
    if not form.is_valid():
        _messages.error(request, " ".join(f"{form.fields[f].label if f in form.fields else ''}"
                                          f": {m}" for f, ms in form.errors.items()
                                          for m in ms))
        return _redirect("incentives:award_list")
    data = form.cleaned_data
    try:
        award = _services.special_award_propose(
            by=request.user, employee=data["employee"], period=data["period"],
            amount=data["amount"], reason=data["reason"])
    except _DomainError as exc:
        _messages.error(request, exc.message)
        return _redirect("incentives:award_list")
    _messages.success(request, _gettext("The special award is proposed to the director."))
    return _redirect(_award_url(award))


def _decide(request, pk, service, success):
    award = _selectors.award_detail(user=request.user, pk=pk)
    form = _AwardDecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    back = request.POST.get("next") or ""
    url = back if back == _reverse("incentives:award_list") else _award_url(award)
    return _post_action(request, lambda: service(award=award, by=request.user, note=note),
                        success=success, url=url)


@_login_required
@_require_POST
def award_confirm(request, pk):
    return _decide(request, pk, _services.award_confirm, _gettext("The award is confirmed."))


@_login_required
@_require_POST
def award_decline(request, pk):
    return _decide(request, pk, _services.award_decline, _gettext("The award is declined."))


@_login_required
def award_detail(request, pk):
    award = _selectors.award_detail(user=request.user, pk=pk)
    if request.GET.get("tab") == "history":
        return _render(request, "partials/history.html",
                       {"entries": _history_entries(award), "object": award})
    form = _AwardDecisionForm()
    _style_form(form)
    may_decide = (_services.can_decide_awards(request.user)
                  and award.status == _AwardStatus.PROPOSED
                  and award.employee_id != getattr(_employee_of(request.user), "pk", None))
    return _render(request, "incentives/award_detail.html", {
        "title": str(award), "award": award, "evidence": _selectors.evidence_text(award),
        "may_decide": may_decide, "decision_form": form, "tab": "awards"})


# --- honor titles -----------------------------------------------------------------------------
def _basis_label(title) -> str:
    return dict(_services.basis_choices()).get(title.basis, title.basis)


TITLE_COLUMNS = [
    _Column("display_name", _gettext_lazy("Name"), sort="name"),
    _Column("basis", _gettext_lazy("Ranked by"), value=_basis_label),
    _Column("get_per_display", _gettext_lazy("Ranked per"), sort="per"),
    _Column("top", _gettext_lazy("How many per unit"), sort="top"),
    _Column("position.display_name", _gettext_lazy("Position")),
    _Column("get_period_kind_display", _gettext_lazy("From cycles"), sort="period_kind"),
    _Column("is_active", _gettext_lazy("Active"), sort="is_active",
            value=lambda t: _gettext("Yes") if t.is_active else _gettext("No")),
]


class TitleListPage(_ListPage):
    template_name = "incentives/title_list.html"
    row_template = "incentives/_title_row.html"
    title = _gettext_lazy("Honor titles")
    filterset_class = _HonorTitleFilterSet
    export_name = "honor-titles"
    default_sort = "display_name"
    empty_text = _gettext_lazy("No honor title yet.")
    columns = TITLE_COLUMNS
    tab = "titles"

    def rows(self):
        return _selectors.title_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_keep_titles"] = _services.can_manage(self.request.user)
        for row in context["rows"]:
            row.basis_label = _basis_label(row)
        if context["may_keep_titles"]:
            context.update(create_url=_reverse("incentives:title_create"),
                           create_label=_gettext("New honor title"))
        return context


def _title_form_page(request, title=None):
    if not _services.can_manage(request.user):
        raise _PermissionDenied
    initial = None
    if title is not None:
        initial = {"name": title.name, "name_en": title.name_en, "basis": title.basis,
                   "per": title.per, "top": title.top, "position": title.position_id,
                   "period_kind": title.period_kind}
    form = _HonorTitleForm(_posted(request), initial=initial)
    _style_form(form, small=False)

    def save():
        values = dict(form.cleaned_data)
        if title is None:
            created = _services.title_create(by=request.user, **values)
            return (_reverse("incentives:title_list"),
                    _gettext("The honor title “%s” is created.") % created.name)
        _services.title_update(title=title, by=request.user, **values)
        return (_reverse("incentives:title_list"),
                _gettext("The honor title “%s” is saved.") % title.name)

    return _form_page(request, form, save=save,
                      title=_gettext("New honor title") if title is None
                      else _gettext("Edit honor title"),
                      cancel_url=_reverse("incentives:title_list"))


@_login_required
def title_create(request):
    return _title_form_page(request)


@_login_required
def title_edit(request, pk):
    return _title_form_page(request, _selectors.title_detail(user=request.user, pk=pk))


@_login_required
@_require_POST
def title_deactivate(request, pk):
    title = _selectors.title_detail(user=request.user, pk=pk)
    return _post_action(
        request, lambda: _services.title_deactivate(title=title, by=request.user),
        success=_gettext("The honor title is no longer proposed."),
        url=_reverse("incentives:title_list"))
# === end of Awards (INC-3) =================================================================
