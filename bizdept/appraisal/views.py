"""Appraisal pages (PER-2..5): scorecard templates, cycles and their results, one
person's appraisal (also printable), my appraisals, my team's, and the calibration view.
Parse, call a service or selector, render; the services decide who may do what, the pages
only hide what the user cannot do."""

from __future__ import annotations

import re
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from bizdept.approvals.selectors import document_history
from bizdept.core.errors import Conflict, DomainError
from bizdept.core.history import history_entries
from bizdept.core.pages import (
    Column,
    DetailPage,
    ListPage,
    form_page,
    is_fragment_request,
    post_action,
    posted,
)
from bizdept.org.models import Unit
from bizdept.org.scope import employee_of

from . import selectors, services
from .choices import (
    CYCLE_FLOW,
    GRADES,
    LIVE_STATUSES,
    CycleStatus,
    ImprovementStatus,
    ItemKind,
    RuleKind,
    TargetSource,
)
from .filters import CycleFilterSet, CycleResultFilterSet, ScorecardTemplateFilterSet
from .forms import (
    CalibrateForm,
    CycleOpenForm,
    ImprovementForm,
    ImprovementUpdateForm,
    InterviewForm,
    MarksForm,
    ReasonForm,
    SubmitForm,
    TemplateForm,
    blank_row,
    item_payload,
    item_rows,
    kpi_choices,
    rows_of_template,
)
from .models import Appraisal


def _yes(value) -> str:
    return _("Yes") if value else ""


def _number(value) -> str:
    if value is None:
        return "—"
    value = Decimal(value)
    return f"{value.normalize():f}" if value == value.to_integral_value() else f"{value:f}"


def describe_rule(kind: str, params: dict, *, kind_of_item: str = ItemKind.KPI) -> str:
    """A scoring rule in words, as the people appraised read it."""
    params = params or {}
    higher = params.get("higher_is_better", True)
    if kind == RuleKind.LINEAR:
        full = _number(params.get("full_points"))
        if kind_of_item == ItemKind.MANUAL:
            text = _("Points = %(full)s × the mark ÷ 100") % {"full": full}
        elif higher:
            text = _("Points = %(full)s × actual ÷ target") % {"full": full}
        else:
            text = _("Points = %(full)s × target ÷ actual (lower is better)") % {"full": full}
        if params.get("cap_percent"):
            text += _(", at most %(cap)s %% of %(full)s") % {
                "cap": _number(params["cap_percent"]), "full": full}
        return text
    if kind == RuleKind.THRESHOLD:
        sign = "≥" if higher else "≤"
        steps = "; ".join(_("%(sign)s %(threshold)s: %(points)s points")
                          % {"sign": sign, "threshold": _number(s["threshold"]),
                             "points": _number(s["points"])}
                          for s in params.get("steps", []))
        return _("Steps (the best reached counts; none reached: 0): %s") % steps
    if kind == RuleKind.TABLE:
        rows = []
        for r in params.get("rows", []):
            low = _number(r["from"]) if r["from"] is not None else "−∞"
            high = _number(r["to"]) if r["to"] is not None else "+∞"
            rows.append(_("from %(low)s to under %(high)s: %(points)s points")
                        % {"low": low, "high": high, "points": _number(r["points"])})
        return _("Table (outside every range: 0): %s") % "; ".join(rows)
    return ""


def _remap(exc: DomainError, mapping) -> DomainError:
    """The same error with its fields renamed for a form (``mapping(field) -> name``)."""
    errors = {}
    for field, msgs in exc.error_dict().items():
        errors.setdefault(mapping(field), []).extend(msgs)
    remapped = exc.__class__(exc.message, code=exc.code, errors=errors)
    return remapped


# === Scorecard templates (PER-2) ==========================================================
TEMPLATE_COLUMNS = [
    Column("name", gettext_lazy("Name"), sort="name"),
    Column("position.name", gettext_lazy("Position"), sort="position__name"),
    Column("get_period_kind_display", gettext_lazy("Period"), sort="period_kind"),
    Column("items", gettext_lazy("Items"), value=lambda t: len(t.items.all())),
    Column("is_active", gettext_lazy("Active"), sort="is_active",
           value=lambda t: _("Yes") if t.is_active else _("No")),
    Column("version", gettext_lazy("Version"), sort="version"),
]


class TemplateListPage(ListPage):
    template_name = "appraisal/template_list.html"
    row_template = "appraisal/_template_row.html"
    title = gettext_lazy("Scorecard templates")
    filterset_class = ScorecardTemplateFilterSet
    export_name = "scorecard-templates"
    default_sort = "position.name"
    empty_text = gettext_lazy("No scorecard template matches these filters.")
    create = ("appraisal:template_create", gettext_lazy("New template"), None)
    columns = TEMPLATE_COLUMNS
    tab = "templates"

    def rows(self):
        return selectors.template_list(user=self.request.user)

    def _create_button(self):
        return super()._create_button() if services.can_manage_templates(
            self.request.user) else {}


def _item_views(items, kinds: dict) -> list[dict]:
    return [{"item": item, "kpi": kinds.get(item.kpi_code, item.kpi_code),
             "rule": describe_rule(item.rule_kind, item.rule_params,
                                   kind_of_item=item.kind)} for item in items]


class TemplateDetailPage(DetailPage):
    template_name = "appraisal/template_detail.html"

    def get_object(self):
        return selectors.template_detail(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        template = self.object
        items = list(template.items.all())
        context.update(title=template.name, template=template,
                       items=_item_views(items, dict(kpi_choices())),
                       weight_total=sum((i.weight for i in items), Decimal(0)),
                       may_edit=services.can_manage_templates(self.request.user))
        return context


ROW_FIELD = re.compile(r"items\[(\d+)\](?:\.(\w+))?(.*)")
RULE_FIELD = re.compile(r"\.(full_points|cap_percent|higher_is_better|steps|rows)"
                        r"(?:\[(\d+)\])?.*")


def _spread_template_errors(exc: DomainError, form, row_errors: list, general: list) -> None:
    """A service error lands where it belongs: on the item row and field it names
    (``items[2].weight``, ``items[1].rule_params.steps[0].points``), on the form field,
    or above the form."""
    errors = exc.error_dict() or {"__all__": [str(exc.message)]}
    for field, msgs in errors.items():
        match = ROW_FIELD.fullmatch(field)
        if match and int(match[1]) < len(row_errors):
            index, key, rest = int(match[1]), match[2] or "row", match[3]
            if key == "rule_params":
                rule = RULE_FIELD.fullmatch(rest or "")
                key = "steps" if rule is None else {
                    "higher_is_better": "lower_is_better", "rows": "steps"}.get(rule[1],
                                                                                rule[1])
                if rule is not None and rule[2] is not None:
                    msgs = [_("Line %(n)s: %(message)s") % {"n": int(rule[2]) + 1,
                                                            "message": m} for m in msgs]
            elif key not in ("kind", "kpi_code", "name", "weight", "target_source",
                             "fixed_target", "rule_kind"):
                key = "row"
            row_errors[index].setdefault(key, []).extend(msgs)
            row_errors[index].setdefault("_fields", []).append(field)
        elif field in form.fields:
            for m in msgs:
                form.add_error(field, m)
        else:
            general.extend({"field": field, "message": m} for m in msgs)


def _template_form(request, template=None):
    if not services.can_manage_templates(request.user):
        raise PermissionDenied
    initial = {}
    if template is not None:
        initial = {"name": template.name, "position": template.position_id,
                   "period_kind": template.period_kind, "notes": template.notes}
    form = TemplateForm(posted(request), initial=initial)
    if request.method == "POST":
        rows = item_rows(request.POST)
    elif template is not None:
        rows = rows_of_template(template)
    else:
        rows = [blank_row(ItemKind.KPI), blank_row(ItemKind.MANUAL)]
    row_errors = [{} for _row in rows]
    general = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        items = [item_payload(row) for row in rows]
        try:
            if template is None:
                saved = services.template_create(by=request.user, items=items, **data)
                message = _("The template “%s” is created.") % saved.name
            else:
                version = request.POST.get("version") or None
                saved = services.template_update(
                    template=template, by=request.user, items=items,
                    version=int(version) if version and version.isdigit() else None, **data)
                message = _("The template “%s” is saved.") % saved.name
        except DomainError as exc:
            _spread_template_errors(exc, form, row_errors, general)
        else:
            messages.success(request, message)
            return redirect("appraisal:template_detail", saved.pk)
    context = {
        "title": (_("New scorecard template") if template is None
                  else _("Edit the template %s") % template.name),
        "form": form, "template": template, "general_errors": general,
        "rows": [{"n": i, "values": row, "errors": row_errors[i]}
                 for i, row in enumerate(rows)],
        "blank": blank_row(ItemKind.KPI),
        "kpi_choices": kpi_choices(),
        "kind_choices": ItemKind.choices, "source_choices": TargetSource.choices,
        "rule_choices": RuleKind.choices,
        "cancel_url": (reverse("appraisal:template_detail", args=[template.pk])
                       if template is not None else reverse("appraisal:template_list")),
        "version": template.version if template is not None else "",
    }
    return render(request, "appraisal/template_form.html", context)


@login_required
def template_create(request):
    return _template_form(request)


@login_required
def template_edit(request, pk):
    template = selectors.template_detail(user=request.user, pk=pk)
    return _template_form(request, template)


@login_required
@require_POST
def template_deactivate(request, pk):
    template = selectors.template_find(user=request.user, pk=pk)
    return post_action(
        request, lambda: services.template_deactivate(template=template, by=request.user),
        success=_("The template is inactive: new cycles no longer use it."),
        url=reverse("appraisal:template_detail", args=[template.pk]))


# === Cycles (PER-3) ========================================================================
CYCLE_COLUMNS = [
    Column("name", gettext_lazy("Name"), sort="name"),
    Column("period", gettext_lazy("Period"), sort="since"),
    Column("get_kind_display", gettext_lazy("Kind"), sort="kind"),
    Column("get_status_display", gettext_lazy("Stage"), sort="status"),
    Column("unit.name", gettext_lazy("Department")),
    Column("created_by.name", gettext_lazy("Opened by")),
    Column("approved_at", gettext_lazy("Approved at"), sort="approved_at"),
]


class CycleListPage(ListPage):
    template_name = "appraisal/cycle_list.html"
    row_template = "appraisal/_cycle_row.html"
    title = gettext_lazy("Appraisal cycles")
    filterset_class = CycleFilterSet
    export_name = "appraisal-cycles"
    default_sort = "-period"
    empty_text = gettext_lazy("No appraisal cycle yet.")
    create = ("appraisal:cycle_open", gettext_lazy("Open a cycle"), None)
    create_needs_employee = True
    columns = CYCLE_COLUMNS
    tab = "cycles"

    def rows(self):
        return selectors.cycle_list(user=self.request.user)

    def _create_button(self):
        return super()._create_button() if services.can_run_cycles(self.request.user) else {}


CYCLE_FIELD_OF = {"kind": "kind", "period": "period", "name": "name",
                  "distribution_level": "distribution_level",
                  "bottom_percent": "bottom_percent"}


def _cycle_form_field(field: str) -> str:
    if field in CycleOpenForm.FIELD_OF:
        return CycleOpenForm.FIELD_OF[field]
    if field.startswith("distribution"):
        return "distribution" if not field.startswith("distribution_level") \
            else "distribution_level"
    return CYCLE_FIELD_OF.get(field, "__all__")


@login_required
def cycle_open(request):
    if not services.can_run_cycles(request.user) or employee_of(request.user) is None:
        raise PermissionDenied
    form = CycleOpenForm(posted(request), initial=CycleOpenForm.defaults())

    def save():
        try:
            cycle = services.cycle_open(by=request.user, **form.service_kwargs())
        except DomainError as exc:
            raise _remap(exc, _cycle_form_field) from exc
        return (reverse("appraisal:cycle_detail", args=[cycle.pk]),
                _("The cycle “%(name)s” is open: %(count)s people are appraised.")
                % {"name": cycle.name, "count": cycle.appraisals.count()})

    return form_page(request, form, save=save, title=_("Open an appraisal cycle"),
                     cancel_url=reverse("appraisal:cycle_list"))


def _flags(a) -> str:
    parts = []
    if a.is_bottom:
        parts.append(_("Bottom performer"))
    if a.is_elimination_candidate:
        parts.append(_("Elimination candidate"))
    return ", ".join(parts)


def _figure(name):
    """A score as a number in the workbook (not text), blank when there is none."""
    def read(row):
        value = getattr(row, name)
        return None if value is None else float(value)
    return read


RESULT_COLUMNS = [
    Column("employee.name", gettext_lazy("Person"), sort="employee__name"),
    Column("unit.name", gettext_lazy("Unit"), sort="unit__path"),
    Column("division.name", gettext_lazy("Division"), sort="division__path"),
    Column("reviewer.name", gettext_lazy("Reviewer")),
    Column("kpi_score", gettext_lazy("KPI score"), sort="kpi_score", value=_figure("kpi_score")),
    Column("manual_score", gettext_lazy("Manual score"), value=_figure("manual_score")),
    Column("total_score", gettext_lazy("Total score"), sort="total_score",
           value=_figure("total_score")),
    Column("score_grade", gettext_lazy("Grade by score")),
    Column("grade", gettext_lazy("Grade"), sort="grade"),
    Column("grade_reason", gettext_lazy("Calibration reason")),
    Column("rank_unit", gettext_lazy("Rank in team"), sort="rank_unit"),
    Column("rank_division", gettext_lazy("Rank in division"), sort="rank_division"),
    Column("rank_department", gettext_lazy("Rank in department"), sort="rank_department"),
    Column("flags", gettext_lazy("Flags"), sort="is_bottom", value=_flags),
]


def _stepper(cycle) -> list[dict]:
    stages = [*CYCLE_FLOW, CycleStatus.SUBMITTED, CycleStatus.APPROVED]
    current = stages.index(cycle.status)
    return [{"status": s, "label": CycleStatus(s).label, "done": i < current,
             "current": i == current} for i, s in enumerate(stages)]


class CycleDetailPage(ListPage):
    """A cycle: its stage, what is done, its actions, its approval history, and the
    results table of the people the user may see (filters, sort, Excel)."""

    template_name = "appraisal/cycle_detail.html"
    row_template = "appraisal/_result_row.html"
    filterset_class = CycleResultFilterSet
    default_sort = "rank_department"
    empty_text = gettext_lazy("No appraisal you may see matches these filters.")
    columns = RESULT_COLUMNS

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.cycle = None

    def get(self, request, *args, **kwargs):
        self.cycle = selectors.cycle_detail(user=request.user, pk=kwargs["pk"])
        self.title = _("Results of %s") % self.cycle.name
        self.export_name = f"appraisal-results-{self.cycle.period}"
        if request.GET.get("tab") == "history":
            return self.response_class(
                request=request, template=["partials/history.html"],
                context={"entries": history_entries(self.cycle), "object": self.cycle})
        return super().get(request, *args, **kwargs)

    def rows(self):
        return selectors.appraisal_list(user=self.request.user, cycle=self.cycle)

    def _ordering(self, sort):
        ordering = super()._ordering(sort)
        if sort.lstrip("-") in ("total_score", "rank_department", "rank_unit",
                                "rank_division", "kpi_score"):
            from django.db.models import F

            field = ordering[0].lstrip("-")
            expr = F(field).desc(nulls_last=True) if ordering[0].startswith("-") \
                else F(field).asc(nulls_last=True)
            return [expr, *ordering[1:]]
        return ordering

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        cycle, user = self.cycle, self.request.user
        counts = selectors.appraisal_list(user=user, cycle=cycle).order_by().aggregate(
            total=Count("pk"),
            self_assessed=Count("pk", filter=Q(self_submitted_at__isnull=False)),
            reviewed=Count("pk", filter=Q(reviewed_at__isnull=False)),
            graded=Count("pk", filter=~Q(grade="")),
            interviewed=Count("pk", filter=Q(employee_signed_at__isnull=False,
                                             reviewer_signed_at__isnull=False)))
        run = services.can_run_cycles(user)
        me = employee_of(user)
        heads = me is not None and Unit.objects.filter(head=me).exists()
        context.update(
            cycle=cycle, stepper=_stepper(cycle), counts=counts,
            may_advance=run and cycle.status in CYCLE_FLOW[:-1],
            next_stage=(CycleStatus(CYCLE_FLOW[CYCLE_FLOW.index(cycle.status) + 1]).label
                        if cycle.status in CYCLE_FLOW[:-1] else ""),
            may_refresh=run and cycle.status in LIVE_STATUSES,
            may_submit=run and cycle.status == CycleStatus.CALIBRATION,
            may_reopen=run and cycle.status == CycleStatus.APPROVED,
            may_calibrate=(run or heads) and cycle.status in (
                CycleStatus.CALIBRATION, CycleStatus.SUBMITTED, CycleStatus.APPROVED),
            submit_form=SubmitForm(),
            approval_history=document_history(cycle),
            bands=[(g, cycle.grade_bands.get(g)) for g in ("S", "A", "B", "C")],
            distribution=cycle.distribution,
        )
        return context


def _cycle_url(cycle) -> str:
    return reverse("appraisal:cycle_detail", args=[cycle.pk])


@login_required
@require_POST
def cycle_advance(request, pk):
    cycle = selectors.cycle_detail(user=request.user, pk=pk)
    return post_action(
        request, lambda: services.cycle_advance(cycle=cycle, by=request.user),
        success=_("The cycle moved on to the next stage."), url=_cycle_url(cycle))


@login_required
@require_POST
def cycle_refresh(request, pk):
    cycle = selectors.cycle_detail(user=request.user, pk=pk)
    return post_action(
        request, lambda: services.cycle_refresh(cycle=cycle, by=request.user),
        success=_("The figures are read again from the records."), url=_cycle_url(cycle))


@login_required
@require_POST
def cycle_submit(request, pk):
    cycle = selectors.cycle_detail(user=request.user, pk=pk)
    form = SubmitForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    return post_action(
        request, lambda: services.cycle_submit(cycle=cycle, by=request.user, comment=comment),
        success=_("The results are submitted for approval."), url=_cycle_url(cycle))


@login_required
def cycle_reopen(request, pk):
    cycle = selectors.cycle_detail(user=request.user, pk=pk)
    if not services.can_run_cycles(request.user):
        raise PermissionDenied
    form = ReasonForm(posted(request))

    def save():
        services.cycle_reopen(cycle=cycle, by=request.user, **form.cleaned_data)
        return _cycle_url(cycle), _("The cycle is back in calibration.")

    return form_page(request, form, save=save,
                     title=_("Reopen the cycle %s") % cycle.name, cancel_url=_cycle_url(cycle))


# === One person's appraisal (PER-3..5) ====================================================
def _appraisal(request, pk) -> Appraisal:
    return selectors.appraisal_detail(user=request.user, pk=pk)


def _appraisal_url(appraisal, anchor="") -> str:
    url = reverse("appraisal:appraisal_detail", args=[appraisal.pk])
    return url + (f"#{anchor}" if anchor else "")


def _owners(appraisal, user) -> list:
    me = employee_of(user)
    people = {p.pk: p for p in (appraisal.employee, appraisal.reviewer, me) if p is not None}
    return list(people.values())


def _line_views(appraisal, lines) -> list[dict]:
    kinds = dict(kpi_choices())
    rows = []
    for line in lines:
        explain = (selectors.line_explain_url(line, appraisal)
                   if line.kind == ItemKind.KPI else "")
        rows.append({"line": line, "explain": explain,
                     "kpi": kinds.get(line.kpi_code, line.kpi_code),
                     "rule": describe_rule(line.rule_kind, line.rule_params,
                                           kind_of_item=line.kind),
                     "achievement": line.achievement,
                     "not_applicable": line.kind == ItemKind.KPI and line.points is None})
    return rows


def _appraisal_page(request, appraisal, *, status=200, **forms):
    user = request.user
    me = employee_of(user)
    lines = list(appraisal.lines.all())
    self_points = {line.sort_order: line.self_points for line in lines}
    review_points = {line.sort_order: line.actual for line in lines
                     if line.kind == ItemKind.MANUAL}
    may = {
        "self_assess": services.may_self_assess(appraisal, user),
        "review": services.may_review(appraisal, user),
        "calibrate": services.may_calibrate(appraisal, user),
        "sign": services.may_sign(appraisal, user),
        "improve": services.may_plan_improvement(appraisal, user),
        "interview": services.may_interview(appraisal, user),
    }
    improvements = list(appraisal.improvements.all())
    may_update = me is not None and me.pk in (appraisal.employee_id, appraisal.reviewer_id)
    self_form = forms.get("self_form") or MarksForm(
        lines=lines, initial_points=self_points, prefix="self",
        initial={"comment": appraisal.self_comment})
    review_form = forms.get("review_form") or MarksForm(
        lines=lines, initial_points={k: v if v is not None else self_points.get(k)
                                     for k, v in review_points.items()},
        prefix="review", required=True, initial={"comment": appraisal.review_comment})
    interview_form = forms.get("interview_form") or InterviewForm(initial={
        "on": appraisal.interview_on, "notes": appraisal.interview_notes})
    improvement_form = forms.get("improvement_form") or ImprovementForm(
        owners=_owners(appraisal, user), initial={"owner": appraisal.employee_id})
    calibrate_form = forms.get("calibrate_form") or CalibrateForm(initial={
        "grade": appraisal.grade or appraisal.score_grade, "reason": appraisal.grade_reason})
    context = {
        "title": _("%(person)s · %(cycle)s") % {"person": appraisal.employee.name,
                                                 "cycle": appraisal.cycle.name},
        "appraisal": appraisal, "cycle": appraisal.cycle, "lines": _line_views(appraisal, lines),
        "weight_total": sum((line.weight for line in lines), Decimal(0)),
        "may": may, "is_employee": me is not None and me.pk == appraisal.employee_id,
        "self_form": self_form, "review_form": review_form, "interview_form": interview_form,
        "improvement_form": improvement_form, "calibrate_form": calibrate_form,
        "improvements": [{"item": i, "form": ImprovementUpdateForm(
            prefix=f"imp{i.pk}", initial={"status": i.status, "note": i.note}),
            "may_update": may_update or (me is not None and me.pk == i.owner_id)}
            for i in improvements],
        "statuses": ImprovementStatus,
        "print_url": reverse("appraisal:appraisal_detail", args=[appraisal.pk]) + "?print=1",
    }
    if request.GET.get("print") == "1":
        return render(request, "appraisal/appraisal_print.html", context, status=status)
    return render(request, "appraisal/appraisal_detail.html", context, status=status)


@login_required
def appraisal_detail(request, pk):
    return _appraisal_page(request, _appraisal(request, pk))


def _form_errors_from(exc: DomainError, form, field_for) -> None:
    errors = exc.error_dict() or {"__all__": [str(exc.message)]}
    for field, msgs in errors.items():
        name = field_for(field)
        for m in msgs:
            form.add_error(name if name in form.fields else None, m)


def _action(request, appraisal, form, call, *, key, success, anchor, field_for=None):
    """The POST flow of a form on the appraisal page: valid → the service; its error
    lands on the field it names and the page shows again with the form as typed."""
    field_for = field_for or (lambda f: f)
    if form.is_valid():
        try:
            call()
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect(_appraisal_url(appraisal, anchor))
        except DomainError as exc:
            _form_errors_from(exc, form, field_for)
        else:
            messages.success(request, success)
            return redirect(_appraisal_url(appraisal, anchor))
    # nothing was written (the service's transaction rolled back): the loaded appraisal
    # is still what the page shows
    return _appraisal_page(request, appraisal, **{key: form})


@login_required
@require_POST
def appraisal_self_assess(request, pk):
    appraisal = _appraisal(request, pk)
    if not services.may_self_assess(appraisal, request.user):
        raise PermissionDenied
    submit = "submit" in request.POST
    form = MarksForm(request.POST, lines=list(appraisal.lines.all()), prefix="self",
                     required=submit)

    def call():
        services.appraisal_self_assess(appraisal=appraisal, by=request.user,
                                       points=form.points(),
                                       comment=form.cleaned_data["comment"], submit=submit)

    return _action(request, appraisal, form, call, key="self_form", anchor="self-assessment",
                   success=(_("Your self-assessment is handed to your reviewer.") if submit
                            else _("Your self-assessment is saved.")),
                   field_for=form.field_for)


@login_required
@require_POST
def appraisal_review(request, pk):
    appraisal = _appraisal(request, pk)
    if not services.may_review(appraisal, request.user):
        raise PermissionDenied
    form = MarksForm(request.POST, lines=list(appraisal.lines.all()), prefix="review",
                     required=True)

    def call():
        services.appraisal_review(appraisal=appraisal, by=request.user, points=form.points(),
                                  comment=form.cleaned_data["comment"])

    return _action(request, appraisal, form, call, key="review_form", anchor="review",
                   success=_("The review is saved."), field_for=form.field_for)


@login_required
@require_POST
def appraisal_interview(request, pk):
    appraisal = _appraisal(request, pk)
    if not services.may_interview(appraisal, request.user):
        raise PermissionDenied
    form = InterviewForm(request.POST)

    def call():
        services.appraisal_interview(appraisal=appraisal, by=request.user,
                                     **form.cleaned_data)

    return _action(request, appraisal, form, call, key="interview_form", anchor="interview",
                   success=_("The interview is recorded: both of you sign it now."))


@login_required
@require_POST
def appraisal_sign(request, pk):
    appraisal = _appraisal(request, pk)
    return post_action(request, lambda: services.appraisal_sign(appraisal=appraisal,
                                                                by=request.user),
                       success=_("You signed the interview."),
                       url=_appraisal_url(appraisal, "interview"))


@login_required
@require_POST
def appraisal_calibrate(request, pk):
    """The final grade (from the appraisal page or a row of the calibration page)."""
    appraisal = _appraisal(request, pk)
    if not services.may_calibrate(appraisal, request.user):
        raise PermissionDenied
    form = CalibrateForm(request.POST)
    back = request.POST.get("next", "")
    if is_fragment_request(request) and back:
        error = None
        if not form.is_valid():
            error = " ".join(m for ms in form.errors.values() for m in ms)
        else:
            try:
                services.appraisal_calibrate(appraisal=appraisal, by=request.user,
                                             **form.cleaned_data)
            except DomainError as exc:
                error = str(exc.message)
        appraisal.refresh_from_db()
        return _calibration_fragment(request, appraisal, back=back, error=error)
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        if not form.is_valid():
            messages.error(request, _("%(person)s: %(errors)s") % {
                "person": appraisal.employee.name,
                "errors": " ".join(m for ms in form.errors.values() for m in ms)})
            return redirect(back)
        return post_action(request, lambda: services.appraisal_calibrate(
            appraisal=appraisal, by=request.user, **form.cleaned_data),
            success=_("%(person)s: grade %(grade)s.") % {
                "person": appraisal.employee.name, "grade": form.cleaned_data["grade"]},
            url=back)

    def call():
        services.appraisal_calibrate(appraisal=appraisal, by=request.user,
                                     **form.cleaned_data)

    return _action(request, appraisal, form, call, key="calibrate_form", anchor="result",
                   success=_("The grade is set."))


@login_required
@require_POST
def improvement_add(request, pk):
    appraisal = _appraisal(request, pk)
    if not services.may_plan_improvement(appraisal, request.user):
        raise PermissionDenied
    owners = _owners(appraisal, request.user)
    form = ImprovementForm(request.POST, owners=owners)

    def call():
        data = dict(form.cleaned_data)
        data["owner"] = next(p for p in owners if str(p.pk) == data["owner"])
        services.improvement_add(appraisal=appraisal, by=request.user, **data)

    return _action(request, appraisal, form, call, key="improvement_form",
                   anchor="improvements", success=_("The action is added to the plan."))


@login_required
@require_POST
def improvement_update(request, pk, item_pk):
    appraisal = _appraisal(request, pk)
    item = next((i for i in appraisal.improvements.all() if i.pk == item_pk), None)
    if item is None:
        raise Http404
    form = ImprovementUpdateForm(request.POST, prefix=f"imp{item.pk}")
    url = _appraisal_url(appraisal, "improvements")
    if not form.is_valid():
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
        return redirect(url)
    return post_action(request, lambda: services.improvement_update(
        item=item, by=request.user, **form.cleaned_data),
        success=_("The action is marked “%s”.") % ImprovementStatus(
            form.cleaned_data["status"]).label, url=url)


# === My appraisals, my team's (PER-3..5) ===================================================
def _cycle_stage(a) -> str:
    return a.cycle.get_status_display()


MY_COLUMNS = [
    Column("cycle.name", gettext_lazy("Appraisal cycle"), sort="cycle__since"),
    Column("cycle.period", gettext_lazy("Period")),
    Column("stage", gettext_lazy("Stage"), value=_cycle_stage),
    Column("reviewer.name", gettext_lazy("Reviewer")),
    Column("total_score", gettext_lazy("Total score")),
    Column("grade", gettext_lazy("Grade")),
    Column("rank_unit", gettext_lazy("Rank in team")),
]


class MyAppraisalsPage(ListPage):
    template_name = "appraisal/my_appraisals.html"
    row_template = "appraisal/_my_row.html"
    title = gettext_lazy("My appraisals")
    export_name = "my-appraisals"
    default_sort = "-cycle.name"
    empty_text = gettext_lazy("You have not been appraised yet.")
    columns = MY_COLUMNS
    tab = "mine"

    def rows(self):
        return selectors.my_appraisals(user=self.request.user)


PENDING_LABELS = {"self_assessment": gettext_lazy("Self-assessment"),
                  "review": gettext_lazy("Review"), "interview": gettext_lazy("Interview"),
                  "employee_signature": gettext_lazy("Employee's signature"),
                  "reviewer_signature": gettext_lazy("Reviewer's signature")}


def pending_of(a) -> list[str]:
    """What is still to do on an appraisal, in the order it is done."""
    return [str(PENDING_LABELS[step]) for step in selectors.pending_steps(a)]


TEAM_COLUMNS = [
    Column("employee.name", gettext_lazy("Person"), sort="employee__name"),
    Column("unit.name", gettext_lazy("Unit"), sort="unit__path"),
    Column("reviewer.name", gettext_lazy("Reviewer")),
    Column("self_submitted_at", gettext_lazy("Self-assessed at"), sort="self_submitted_at"),
    Column("reviewed_at", gettext_lazy("Reviewed at"), sort="reviewed_at"),
    Column("interview_on", gettext_lazy("Interview date"), sort="interview_on"),
    Column("total_score", gettext_lazy("Total score"), sort="total_score"),
    Column("grade", gettext_lazy("Grade"), sort="grade"),
    Column("pending", gettext_lazy("Still to do"), value=lambda a: ", ".join(pending_of(a))),
]


class TeamAppraisalsPage(ListPage):
    template_name = "appraisal/team.html"
    row_template = "appraisal/_team_row.html"
    title = gettext_lazy("My team's appraisals")
    export_name = "team-appraisals"
    default_sort = "unit.name"
    empty_text = gettext_lazy("Nobody you review or head is appraised in this cycle.")
    columns = TEAM_COLUMNS
    tab = "team"

    def _cycle(self):
        cycles = list(selectors.cycle_list(user=self.request.user).order_by("-since", "-pk"))
        raw = self.request.GET.get("cycle", "")
        chosen = next((c for c in cycles if str(c.pk) == raw), None)
        if raw and chosen is None:
            raise Http404
        return cycles, chosen or (cycles[0] if cycles else None)

    def rows(self):
        self.cycles, self.cycle = self._cycle()
        if self.cycle is None:
            return Appraisal.objects.none()
        return selectors.team_appraisals(user=self.request.user, cycle=self.cycle)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = list(context["rows"])
        for row in rows:
            row.pending_list = pending_of(row)
        context.update(cycles=self.cycles, cycle=self.cycle, rows=rows)
        return context


# === Calibration (PER-4) ====================================================================
def _distribution_units(cycle) -> list:
    from bizdept.org.choices import UnitKind

    kind = UnitKind.DIVISION if cycle.distribution_level == "division" else UnitKind.TEAM
    return list(Unit.objects.filter(path__startswith=cycle.unit.path, kind=kind)
                .order_by("path"))


def _calibration_blocks(standings, *, cycle, me, run, head_paths, errors=None,
                        saved=None) -> list[dict]:
    """Each distribution unit with its people, and whether the user may set each grade
    (the service decides again)."""
    open_for_grades = cycle.status == CycleStatus.CALIBRATION
    errors = errors or {}
    blocks = []
    for standing in standings:
        people = []
        for a in standing.appraisals:
            may = (open_for_grades and me is not None and a.employee_id != me.pk
                   and (run or any(a.unit.path.startswith(p) for p in head_paths)))
            people.append({"a": a, "may": may, "changed": a.grade != a.score_grade,
                           "error": errors.get(a.pk), "saved": saved == a.pk})
        blocks.append({"standing": standing, "people": people})
    return blocks


def _calibration_fragment(request, appraisal, *, back, error=None):
    """The calibration page's block of the appraisal's distribution unit, after a grade
    was set in place (htmx), with the refusal next to the row if there was one."""
    from django.http import HttpResponse

    cycle = appraisal.cycle
    unit = appraisal.division if cycle.distribution_level == "division" else appraisal.unit
    if unit is None:  # no unit to redraw: the whole page again
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    me = employee_of(request.user)
    head_paths = list(Unit.objects.filter(head=me).values_list("path", flat=True)) \
        if me is not None else []
    standings = [s for s in selectors.calibration(user=request.user, cycle=cycle, unit=unit)
                 if s.unit is not None and s.unit.pk == unit.pk]
    blocks = _calibration_blocks(standings, cycle=cycle, me=me,
                                 run=services.can_run_cycles(request.user),
                                 head_paths=head_paths,
                                 errors={appraisal.pk: error} if error else None,
                                 saved=None if error else appraisal.pk)
    if not blocks:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "appraisal/calibration.html#unit",
                  {"block": blocks[0], "cycle": cycle, "grades": GRADES, "here": back})


@login_required
def calibration(request, pk):
    """Per distribution unit: where it stands against the forced distribution, its grade
    counts, and its people by total with a grade (and reason) for each."""
    cycle = selectors.cycle_detail(user=request.user, pk=pk)
    me = employee_of(request.user)
    run = services.can_run_cycles(request.user)
    head_paths = list(Unit.objects.filter(head=me).values_list("path", flat=True)) \
        if me is not None else []
    if not run and not head_paths:
        raise PermissionDenied
    unit = None
    if request.GET.get("unit"):
        unit = Unit.objects.filter(pk=request.GET["unit"]).first() \
            if request.GET["unit"].isdigit() else None
        if unit is None:
            raise Http404
    standings = selectors.calibration(user=request.user, cycle=cycle, unit=unit)
    open_for_grades = cycle.status == CycleStatus.CALIBRATION
    here = request.get_full_path()
    blocks = _calibration_blocks(standings, cycle=cycle, me=me, run=run,
                                 head_paths=head_paths)
    context = {
        "title": _("Calibration of %s") % cycle.name, "cycle": cycle, "blocks": blocks,
        "grades": GRADES, "here": here, "open_for_grades": open_for_grades,
        "unit": unit, "units": _distribution_units(cycle),
        "may_submit": run and open_for_grades,
    }
    return render(request, "appraisal/calibration.html", context)

