"""Forms of the appraisal pages (PER-2..5). They parse what a browser sends; the services
judge it (and their errors land back on the field they name)."""

from __future__ import annotations

import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bizdept.core.forms import BootstrapForm
from bizdept.org.models import Position

from .choices import (
    DEFAULT_DISTRIBUTION,
    DEFAULT_GRADE_BANDS,
    GRADES,
    ImprovementStatus,
    ItemKind,
    PeriodKind,
    RuleKind,
    TargetSource,
)


# === Scorecard templates (PER-2) ==========================================================
class TemplateForm(BootstrapForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    position = forms.ModelChoiceField(label=_("Position"),
                                      queryset=Position.objects.order_by("name"))
    period_kind = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices)
    notes = forms.CharField(label=_("Notes"), required=False,
                            widget=forms.Textarea(attrs={"rows": 2}))


# The fields of one item row, posted as ``items-<n>-<field>``; rows come in page order.
ITEM_FIELDS = ("kind", "kpi_code", "name", "weight", "target_source", "fixed_target",
               "rule_kind", "full_points", "cap_percent", "lower_is_better", "steps")
ITEM_NAME = re.compile(r"items-(\d+)-(\w+)")


def kpi_choices() -> list[tuple[str, str]]:
    from bizdept.kpi import measures

    return [(code, str(m.label)) for code, m in measures.KPIS.items()]


def item_rows(post) -> list[dict]:
    """The item rows as posted, in page order (the n in their names), as plain text."""
    rows: dict[int, dict] = {}
    for key in post:
        match = ITEM_NAME.fullmatch(key)
        if match and match[2] in ITEM_FIELDS:
            rows.setdefault(int(match[1]), {})[match[2]] = post.get(key, "").strip()
    return [{f: rows[n].get(f, "") for f in ITEM_FIELDS} for n in sorted(rows)]


def _steps(text: str, width: int) -> list:
    """Lines of numbers ("60 100" for a threshold step, "0 60 50" for a table row; "-"
    for an open end) as lists; what is not a number is passed on for the service to
    name."""
    out = []
    for line in text.replace("，", ",").splitlines():
        parts = [p for p in re.split(r"[\s,;:=→]+", line.strip()) if p]
        if not parts:
            continue
        out.append([None if p in ("-", "—", "–") else p for p in parts][:width]
                   + [None] * max(0, width - len(parts)))
    return out


def item_payload(row: dict) -> dict:
    """One posted row as the service's item (``services.template_create``)."""
    item = {"kind": row["kind"], "name": row["name"], "weight": row["weight"],
            "rule_kind": row["rule_kind"]}
    if row["kind"] == ItemKind.KPI:
        item["kpi_code"] = row["kpi_code"]
        item["target_source"] = row["target_source"]
        if row["target_source"] == TargetSource.FIXED:
            item["fixed_target"] = row["fixed_target"]
    if row["rule_kind"] == RuleKind.LINEAR:
        item["rule_params"] = {"full_points": row["full_points"],
                               "cap_percent": row["cap_percent"] or None,
                               "higher_is_better": not row["lower_is_better"]}
    elif row["rule_kind"] == RuleKind.THRESHOLD:
        item["rule_params"] = {"steps": _steps(row["steps"], 2),
                               "higher_is_better": not row["lower_is_better"]}
    elif row["rule_kind"] == RuleKind.TABLE:
        item["rule_params"] = {"rows": _steps(row["steps"], 3)}
    else:
        item["rule_params"] = {}
    return item


def _number(value) -> str:
    return "-" if value is None else str(value)


def rows_of_template(template) -> list[dict]:
    """A saved template's items as form rows."""
    rows = []
    for item in template.items.all():
        params = item.rule_params or {}
        steps = ""
        if item.rule_kind == RuleKind.THRESHOLD:
            steps = "\n".join(f"{s['threshold']} {s['points']}" for s in params.get("steps", []))
        elif item.rule_kind == RuleKind.TABLE:
            steps = "\n".join(f"{_number(r['from'])} {_number(r['to'])} {r['points']}"
                              for r in params.get("rows", []))
        rows.append({
            "kind": item.kind, "kpi_code": item.kpi_code, "name": item.name,
            "weight": str(item.weight.normalize()) if item.weight is not None else "",
            "target_source": item.target_source,
            "fixed_target": "" if item.fixed_target is None else str(item.fixed_target),
            "rule_kind": item.rule_kind, "full_points": params.get("full_points") or "",
            "cap_percent": params.get("cap_percent") or "",
            "lower_is_better": "" if params.get("higher_is_better", True) else "1",
            "steps": steps,
        })
    return rows


def blank_row(kind=ItemKind.KPI) -> dict:
    row = dict.fromkeys(ITEM_FIELDS, "")
    row.update(kind=kind, rule_kind=RuleKind.LINEAR, full_points="100",
               target_source=TargetSource.PLAN if kind == ItemKind.KPI else "")
    return row


# === Cycles (PER-3) =======================================================================
def _distribution_text(groups) -> str:
    return " / ".join(f"{''.join(g['grades'])} {g['percent']}" for g in groups)


DISTRIBUTION_HELP = _("Groups of grades, best first, with their share in %, e.g. "
                      "“SA 20 / B 70 / CD 10”; the best group is a ceiling, the worst a "
                      "floor. Leave empty for no forced distribution.")


class CycleOpenForm(BootstrapForm):
    kind = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices)
    period = forms.CharField(label=_("Quarter or year"), max_length=7,
                             help_text=_("2026-Q3 for a quarter, 2026 for a year"))
    name = forms.CharField(label=_("Name"), max_length=100, required=False,
                           help_text=_("Leave empty for “2026-Q3 quarterly appraisal”"))
    band_s = forms.DecimalField(label=_("S from (score)"), min_value=0, max_value=1000,
                                decimal_places=2)
    band_a = forms.DecimalField(label=_("A from"), min_value=0, max_value=1000,
                                decimal_places=2)
    band_b = forms.DecimalField(label=_("B from"), min_value=0, max_value=1000,
                                decimal_places=2)
    band_c = forms.DecimalField(label=_("C from (below: D)"), min_value=0, max_value=1000,
                                decimal_places=2)
    distribution = forms.CharField(label=_("Forced distribution"), required=False,
                                   max_length=200, help_text=DISTRIBUTION_HELP)
    distribution_level = forms.ChoiceField(label=_("Distribution per"), choices=[
        ("division", _("Division")), ("team", _("Team"))])
    bottom_percent = forms.DecimalField(label=_("Bottom performers (%)"), min_value=0,
                                        max_value=100, decimal_places=2)

    # service field -> form field, for errors the service names
    FIELD_OF = {"grade_bands.S": "band_s", "grade_bands.A": "band_a",
                "grade_bands.B": "band_b", "grade_bands.C": "band_c",
                "grade_bands": "band_s"}

    @classmethod
    def defaults(cls) -> dict:
        from bizdept.core.periods import quarter_of

        return {"kind": PeriodKind.QUARTERLY, "period": quarter_of(timezone.localdate()),
                "band_s": DEFAULT_GRADE_BANDS["S"], "band_a": DEFAULT_GRADE_BANDS["A"],
                "band_b": DEFAULT_GRADE_BANDS["B"], "band_c": DEFAULT_GRADE_BANDS["C"],
                "distribution": _distribution_text(DEFAULT_DISTRIBUTION),
                "distribution_level": "division", "bottom_percent": "10"}

    def clean_distribution(self):
        text = self.cleaned_data["distribution"].strip()
        if not text:
            return []
        groups = []
        for part in re.split(r"[/;\n]+", text):
            part = part.strip()
            if not part:
                continue
            match = re.fullmatch(r"([A-Za-z,\s]+?)\s*[:=]?\s*(\d+(?:\.\d+)?)\s*%?", part)
            if not match:
                raise forms.ValidationError(
                    _("Write each group as grades then a share, e.g. “SA 20”."))
            grades = [g for g in match[1].upper() if g.isalpha()]
            if any(g not in GRADES for g in grades):
                raise forms.ValidationError(_("Choose grades among S, A, B, C and D."))
            groups.append({"grades": grades, "percent": match[2]})
        return groups

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"kind": data["kind"], "period": data["period"], "name": data["name"],
                "grade_bands": {g: str(data[f"band_{g.lower()}"]) for g in "SABC"},
                "distribution": data["distribution"],
                "distribution_level": data["distribution_level"],
                "bottom_percent": data["bottom_percent"]}


class ReasonForm(BootstrapForm):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class SubmitForm(BootstrapForm):
    comment = forms.CharField(label=_("Comment"), required=False, max_length=500)


# === One person's appraisal (PER-3..5) ====================================================
def _plain(value):
    """85.00 → "85", 85.50 → "85.5" (what a person would type)."""
    if value is None:
        return None
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class MarksForm(BootstrapForm):
    """Points 0–100 per manual line (``points-<order>``) and a comment."""

    comment = forms.CharField(label=_("Comment"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, lines=(), initial_points=None, required=False, **kwargs):
        super().__init__(*args, **kwargs)
        initial_points = initial_points or {}
        self.orders = []
        for line in lines:
            if line.kind != ItemKind.MANUAL:
                continue
            name = f"points-{line.sort_order}"
            self.fields[name] = forms.DecimalField(
                label=line.name, required=required, min_value=0, max_value=100,
                decimal_places=2, initial=_plain(initial_points.get(line.sort_order)),
                widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "100",
                                                "class": "form-control"}))
            self.orders.append(line.sort_order)

    def points(self) -> dict:
        return {order: self.cleaned_data[f"points-{order}"] for order in self.orders
                if self.cleaned_data.get(f"points-{order}") is not None}

    def field_for(self, service_field: str) -> str | None:
        """``points.3`` (the service's name) → ``points-3``."""
        if service_field.startswith("points."):
            name = "points-" + service_field.split(".", 1)[1]
            return name if name in self.fields else None
        return service_field if service_field in self.fields else None


class InterviewForm(BootstrapForm):
    on = forms.DateField(label=_("Interview date"),
                         widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    notes = forms.CharField(label=_("Interview notes"),
                            widget=forms.Textarea(attrs={"rows": 4}))


class ImprovementForm(BootstrapForm):
    action = forms.CharField(label=_("Action"), max_length=300)
    owner = forms.ChoiceField(label=_("Owner"))
    due_on = forms.DateField(label=_("Due on"), widget=forms.DateInput(
        attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [(str(e.pk), e.name) for e in owners]


class ImprovementUpdateForm(BootstrapForm):
    status = forms.ChoiceField(label=_("Status"), choices=ImprovementStatus.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class CalibrateForm(BootstrapForm):
    grade = forms.ChoiceField(label=_("Grade"), choices=[(g, g) for g in GRADES])
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)
