"""A bonus line's arithmetic in words (INC-2): ``{% explain line as ex %}`` reads the
explanation stored on a BonusLine (saved or not: the what-if page shows unsaved ones) and
prepares every figure, label and link the ``incentives/_explanation.html`` partial shows.
No database query: links are built from the ids in the explanation."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from bizdept.core.money import to_cents

register = template.Library()


def _decimal(raw) -> Decimal | None:
    if raw is None or raw == "":
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        return None


def _plain(raw) -> str:
    """"3.00" → "3", "1.2000" → "1.2", None → "—"."""
    value = _decimal(raw)
    if value is None:
        return "—"
    if value == value.to_integral_value():
        return f"{value.quantize(Decimal(1)):f}"
    return f"{value.normalize():f}"


def _money(raw) -> str:
    value = _decimal(raw)
    return "—" if value is None else f"¥{to_cents(value):,.2f}"


def _url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _date(raw) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(raw)
    except (TypeError, ValueError):
        return None


def _kpi_label(code: str) -> str:
    from bizdept.kpi import measures

    measure = measures.KPIS.get(code)
    return str(measure.label) if measure is not None else code


def _source(entry: dict, *, code: str, period: dict, employee_id) -> tuple[str, str]:
    """(where a figure came from, in words; a link to it)."""
    source, ref = entry.get("source", ""), entry.get("ref")
    if source == "appraisal":
        return _("the appraisal"), _url("appraisal:appraisal_detail", ref) if ref else ""
    if source == "plan":
        return _("the target plan"), _url("targets:plan_detail", ref) if ref else ""
    if source == "records":
        from bizdept.kpi import measures

        measure = measures.KPIS.get(code)
        since, until = _date(period.get("since")), _date(period.get("until"))
        link = ""
        if measure is not None and since and until:
            try:
                link = measure.explain_url(since=since, until=until, employee=employee_id)
            except (NotImplementedError, NoReverseMatch):
                link = ""
        return _("the records of the period"), link
    return _("no source"), ""


def _is_money(code: str) -> bool:
    from bizdept.kpi import measures

    measure = measures.KPIS.get(code)
    return measure is not None and measure.unit == measures.MONEY


def _blocks(which: str) -> str:
    return {"base": _("no base bonus"), "commission": _("no commission"),
            "all": _("no bonus at all")}.get(which, which)


@register.simple_tag
def explain(line) -> dict:
    """Everything the explanation partial shows of ``line`` (a BonusLine)."""
    from bizdept.incentives.choices import CommissionMeasure, CommissionMode

    ex = line.explanation or {}
    employee_id = line.employee_id
    period = ex.get("period", {})
    plan = ex.get("plan", {})
    inputs = ex.get("inputs", {})
    base = ex.get("base", {})
    commission = ex.get("commission", {})
    measure = commission.get("measure") or ""

    rows = []
    grade = inputs.get("grade", {})
    score = inputs.get("score", {})
    for key, label, entry, shown in (
            ("grade", _("Appraisal grade"), grade, grade.get("value") or "—"),
            ("score", _("Appraisal total score"), score, _plain(score.get("value")))):
        if not entry:
            continue
        source, url = _source(entry, code="", period=period, employee_id=employee_id)
        rows.append({"key": key, "label": label, "value": shown, "source": source,
                     "url": url})
    if measure:
        for key, label in (("actual", _("%s achieved")), ("target", _("%s target"))):
            entry = inputs.get(key, {})
            source, url = _source(entry, code=measure, period=period, employee_id=employee_id)
            rows.append({"key": key, "label": label % _kpi_label(measure),
                         "value": (_money(entry.get("value")) if _is_money(measure)
                                   else _plain(entry.get("value"))),
                         "source": source, "url": url})
    for entry in inputs.get("kpis", []):
        code = entry.get("code", "")
        source, url = _source(entry, code=code, period=period, employee_id=employee_id)
        rows.append({"key": f"kpi-{code}", "label": _kpi_label(code),
                     "value": (_money(entry.get("value")) if _is_money(code)
                               else _plain(entry.get("value"))),
                     "source": source, "url": url})

    base_blocked = bool(base.get("blocked"))
    base_result = _decimal(base.get("result")) or Decimal(0)
    base_paid = Decimal(0) if base_blocked else base_result

    steps = [{"from": _plain(s.get("from")), "to": _plain(s.get("to")) if s.get("to") else "",
              "rate": _plain(s.get("rate")), "lower": _money(s.get("lower")),
              "upper": _money(s.get("upper")) if s.get("upper") else "",
              "part": _money(s.get("part")), "commission": _money(s.get("commission")),
              "pays": (_decimal(s.get("commission")) or 0) > 0}
             for s in commission.get("steps", [])]
    worked = _decimal(commission.get("sum")) or Decimal(0)
    commission_blocked = bool(commission.get("blocked"))
    after_gates = Decimal(0) if commission_blocked else worked
    caps = []
    commission_paid, total_cut = after_gates, Decimal(0)
    for cap in ex.get("caps", []):
        cut = _decimal(cap.get("cut")) or Decimal(0)
        which = cap.get("which")
        if which == "commission":
            commission_paid -= cut
        else:
            total_cut += cut
        caps.append({"which": which,
                     "label": (_("Commission cap") if which == "commission"
                               else _("Cap per person")),
                     "cap": _money(cap.get("cap")), "cut": _money(cut)})
    reason = commission.get("reason") or ""
    reasons = {"none": _("This plan pays no commission."),
               "no_target": _("No commission: there is no target for the period "
                              "(or it is 0)."),
               "no_actual": _("No commission: nothing was achieved in the period.")}

    gates = []
    for gate in ex.get("gates", []):
        if gate.get("kind") == "grade_in":
            rule = _("Grade is one of %s") % ", ".join(gate.get("grades", []))
            value = gate.get("value") or "—"
        else:
            rule = _("%(kpi)s under %(floor)s") % {"kpi": _kpi_label(gate.get("kpi", "")),
                                                    "floor": _plain(gate.get("floor"))}
            value = _plain(gate.get("value"))
        gates.append({"rule": rule, "value": value, "hit": bool(gate.get("hit")),
                      "blocks": _blocks(gate.get("blocks", ""))})

    return {
        "plan": {"name": plan.get("name", ""), "number": plan.get("number", ""),
                 "url": _url("incentives:plan_detail", plan["id"]) if plan.get("id") else ""},
        "since": _date(period.get("since")), "until": _date(period.get("until")),
        "inputs": rows,
        "base": {"amount": _money(base.get("amount")),
                 "coefficient": _plain(base.get("coefficient")),
                 "basis": (_("grade") if base.get("basis") == "grade" else _("score")),
                 "looked_up": base.get("looked_up") or "—",
                 "result": _money(base_result), "blocked": base_blocked,
                 "paid": _money(base_paid)},
        "commission": {
            "measure": (CommissionMeasure(measure).label if measure in CommissionMeasure.values
                        else measure),
            "has_measure": bool(measure),
            "mode": (CommissionMode(commission["mode"]).label
                     if commission.get("mode") in CommissionMode.values else ""),
            "whole": commission.get("mode") == "whole",
            "achievement": _plain(commission.get("achievement"))
            if commission.get("achievement") is not None else "",
            "actual": _money(inputs.get("actual", {}).get("value")),
            "target": _money(inputs.get("target", {}).get("value")),
            "steps": steps, "sum": _money(worked), "blocked": commission_blocked,
            "reason": reasons.get(reason, ""), "paid": _money(commission_paid)},
        "gates": gates,
        "any_gate_hit": any(g["hit"] for g in gates),
        "caps": caps,
        "cut": _money(total_cut), "has_total_cut": total_cut > 0,
        "total": _money(ex.get("total", line.total)),
        "rounding": _("Rounding: half up to the cent (ROUND_HALF_UP, 0.01) on the base bonus "
                      "and on each tier's commission; every other figure is an exact sum of "
                      "those, so the line adds up to the cent."),
    }


@register.filter
def yuan(value) -> str:
    """A money figure with its sign: 12345.6 → "¥12,345.60"; None → "—"."""
    return _money(value)
