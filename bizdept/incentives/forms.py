"""Forms of the incentives pages (INC-1..3): they parse; the services decide."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _


# === Bonus runs and lines (INC-2) ==========================================================
class RunCreateForm(forms.Form):
    """The bonus run of an approved cycle that has none yet (``cycles``: the choices)."""

    cycle = forms.ModelChoiceField(label=_("Appraisal cycle"), queryset=None,
                                   empty_label=None)
    name = forms.CharField(label=_("Name"), required=False, max_length=100,
                           help_text=_("Blank: “Bonus for” the cycle's name"))

    def __init__(self, *args, cycles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cycle"].queryset = cycles


class RunSubmitForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, max_length=500)
# === end of Bonus runs and lines (INC-2) ===================================================

# === Awards (INC-3) ========================================================================
class AwardProposeForm(forms.Form):
    """Propose honor titles and promotions from an approved cycle (``cycles``)."""

    cycle = forms.ModelChoiceField(label=_("Appraisal cycle"), queryset=None,
                                   empty_label=None)

    def __init__(self, *args, cycles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cycle"].queryset = cycles


class SpecialAwardForm(forms.Form):
    """A year-end special award for someone the user may propose one for (``people``)."""

    employee = forms.ModelChoiceField(label=_("Person"), queryset=None)
    period = forms.CharField(label=_("Year"), max_length=4,
                             help_text=_("The year the award is for, like 2026"))
    amount = forms.DecimalField(label=_("Amount"), max_digits=16, decimal_places=2,
                                min_value=0.01)
    reason = forms.CharField(label=_("Reason"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["employee"].queryset = people


class AwardDecisionForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           help_text=_("Required when declining"))


class HonorTitleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    name_en = forms.CharField(label=_("Name in English"), max_length=100, required=False)
    basis = forms.ChoiceField(label=_("Ranked by"), choices=())
    per = forms.ChoiceField(label=_("Ranked per"), choices=())
    top = forms.IntegerField(label=_("How many per unit"), min_value=1, max_value=100,
                             initial=1)
    position = forms.ModelChoiceField(label=_("Position"), queryset=None, required=False,
                                      empty_label=_("Everyone"),
                                      help_text=_("Only holders of this position are "
                                                  "ranked"))
    period_kind = forms.ChoiceField(label=_("From cycles"), choices=())

    def __init__(self, *args, **kwargs):
        from bizdept.appraisal.choices import PeriodKind
        from bizdept.org.models import Position

        from .choices import RankingUnit
        from .services import basis_choices

        super().__init__(*args, **kwargs)
        self.fields["basis"].choices = basis_choices()
        self.fields["per"].choices = RankingUnit.choices
        self.fields["period_kind"].choices = PeriodKind.choices
        self.fields["position"].queryset = Position.objects.all()
# === end of Awards (INC-3) =================================================================

# === Bonus plans and what-if (INC-1): the plan form =========================================
# The plan's scalar fields are a Form; its rows (coefficient bands, tiers, gates) are
# posted as ``band-<n>-from``, ``tier-<n>-rate``, ``gate-<n>-kind``… (rows added and
# removed by plan_form.js) and read here as plain text; the service checks everything.

PLAN_ROW_NAME = re.compile(r"(band|tier|gate)-(\d+)-(\w+)")
PLAN_ROW_KEYS = {"band": ("from", "coefficient"), "tier": ("from", "rate"),
                 "gate": ("kind", "kpi", "floor", "blocks")}


class PlanForm(forms.Form):
    """A bonus plan's name, position, period, base, commission and caps (rows aside)."""

    name = forms.CharField(label=_("Name"), max_length=100)
    position = forms.ModelChoiceField(label=_("Position"), queryset=None)
    period_kind = forms.ChoiceField(label=_("Period"), choices=())
    base_amount = forms.CharField(
        label=_("Base amount"), max_length=30,
        help_text=_("Multiplied by the coefficient the appraisal reaches"),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    coefficient_basis = forms.ChoiceField(label=_("Coefficient by"), choices=())
    commission_measure = forms.ChoiceField(label=_("Commission on"), choices=(),
                                           required=False)
    commission_mode = forms.ChoiceField(label=_("Tier rates apply"), choices=())
    commission_cap = forms.CharField(
        label=_("Commission cap"), max_length=30, required=False,
        help_text=_("Blank: no cap"), widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    total_cap = forms.CharField(
        label=_("Cap per person"), max_length=30, required=False,
        help_text=_("Blank: no cap"), widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        from bizdept.appraisal.choices import PeriodKind
        from bizdept.org.models import Position

        from .choices import CoefficientBasis, CommissionMeasure, CommissionMode

        super().__init__(*args, **kwargs)
        self.fields["position"].queryset = Position.objects.all()
        self.fields["period_kind"].choices = PeriodKind.choices
        self.fields["coefficient_basis"].choices = CoefficientBasis.choices
        self.fields["commission_measure"].choices = CommissionMeasure.choices
        self.fields["commission_mode"].choices = CommissionMode.choices


def plan_rows(post) -> dict:
    """The plan's rows as posted, in page order: {"coefficients": {grade: text},
    "bands": […], "tiers": […], "gates": […]}; wholly blank bands and tiers are left out."""
    from bizdept.appraisal.choices import GRADES

    found: dict[str, dict[int, dict]] = {"band": {}, "tier": {}, "gate": {}}
    for key in post:
        match = PLAN_ROW_NAME.fullmatch(key)
        if match and match[3] in PLAN_ROW_KEYS[match[1]]:
            found[match[1]].setdefault(int(match[2]), {})[match[3]] = post.get(key, "").strip()
    for n, gate in found["gate"].items():
        gate["grades"] = [g for g in post.getlist(f"gate-{n}-grades") if g in GRADES]

    def blank(kind, row) -> bool:
        if kind == "gate":  # a KPI gate without KPI and floor, a grade gate without grades
            return not (row.get("kpi") or row.get("floor") or row.get("grades"))
        return not any(row.get(k) for k in PLAN_ROW_KEYS[kind])

    def ordered(kind):
        rows = [found[kind][n] for n in sorted(found[kind])]
        return [{**{k: "" for k in PLAN_ROW_KEYS[kind]}, **r} for r in rows
                if not blank(kind, r)]

    return {"coefficients": {g: post.get(f"coef-{g}", "").strip() for g in GRADES},
            "bands": ordered("band"), "tiers": ordered("tier"), "gates": ordered("gate")}


def rows_of_plan(plan) -> dict:
    """A saved plan's rows, as the form shows them."""
    from bizdept.appraisal.choices import GRADES

    from .choices import CoefficientBasis

    def plain(raw) -> str:  # "1.50" → "1.5", "80.00" → "80"
        from decimal import Decimal, InvalidOperation

        try:
            value = Decimal(str(raw))
        except (InvalidOperation, ValueError):
            return str(raw)
        if value == value.to_integral_value():
            return f"{value.quantize(Decimal(1)):f}"
        return f"{value.normalize():f}"

    by_grade = plan.coefficient_basis == CoefficientBasis.GRADE
    coefficients = plan.coefficients if by_grade else {}
    return {
        "coefficients": {g: plain(coefficients[g]) if g in coefficients else ""
                         for g in GRADES},
        "bands": [] if by_grade else [{"from": plain(b["from"]),
                                       "coefficient": plain(b["coefficient"])}
                                      for b in plan.coefficients],
        "tiers": [{"from": plain(t["from"]), "rate": plain(t["rate"])} for t in plan.tiers],
        "gates": [{"kind": g["kind"], "kpi": g.get("kpi", ""),
                   "floor": plain(g["floor"]) if g.get("floor") else "",
                   "grades": list(g.get("grades", [])), "blocks": g["blocks"]}
                  for g in plan.gates],
    }


def blank_plan_rows() -> dict:
    """A new plan's rows: the tiers of the issue's example, no gate."""
    from bizdept.appraisal.choices import GRADES

    return {"coefficients": dict.fromkeys(GRADES, ""),
            "bands": [{"from": "90", "coefficient": ""}, {"from": "0", "coefficient": ""}],
            "tiers": [{"from": "0", "rate": "0"}, {"from": "80", "rate": ""}],
            "gates": []}


def plan_payload(data: dict, rows: dict) -> dict:
    """The service's keyword arguments from the cleaned form and the rows."""
    from .choices import CoefficientBasis, GateKind

    by_grade = data["coefficient_basis"] == CoefficientBasis.GRADE
    measure = data.get("commission_measure") or ""
    gates = []
    for gate in rows["gates"]:
        if gate["kind"] == GateKind.GRADE_IN:
            gates.append({"kind": gate["kind"], "grades": gate["grades"],
                          "blocks": gate["blocks"]})
        else:
            gates.append({"kind": gate["kind"], "kpi": gate["kpi"], "floor": gate["floor"],
                          "blocks": gate["blocks"]})
    return {
        "name": data["name"], "position": data["position"].pk,
        "period_kind": data["period_kind"], "base_amount": data["base_amount"],
        "coefficient_basis": data["coefficient_basis"],
        "coefficients": (rows["coefficients"] if by_grade else
                         [{"from": b["from"], "coefficient": b["coefficient"]}
                          for b in rows["bands"]]),
        "commission_measure": measure, "commission_mode": data["commission_mode"],
        "tiers": ([{"from": t["from"], "rate": t["rate"]} for t in rows["tiers"]]
                  if measure else []),
        "commission_cap": data.get("commission_cap") or None,
        "total_cap": data.get("total_cap") or None,
        "gates": gates, "notes": data.get("notes", ""),
    }


class WhatIfForm(forms.Form):
    cycle = forms.ModelChoiceField(label=_("Appraisal cycle"), queryset=None,
                                   empty_label=None)

    def __init__(self, *args, cycles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cycle"].queryset = cycles
# === end of Bonus plans and what-if (INC-1) ================================================
