"""Scoring rules of a scorecard item (PER-2): pure functions, exact Decimal arithmetic.

Every function takes a measured ``value`` (and a ``target`` where the rule needs one) and
answers the item's points, a ``Decimal`` rounded ROUND_HALF_UP to 2 places at the end
(nothing is rounded on the way).

* ``score_linear`` — points = ``full_points`` × achievement, where achievement is
  value ÷ target (higher is better) or target ÷ value (lower is better, e.g. expenses).
  The points never go below 0 and never above ``cap_percent`` % of ``full_points``.
  Rules for the edges:

  - no cap (``cap_percent=None``): unbounded above when higher is better; when lower is
    better the cap is then 100 % (beating a budget by any margin earns full points, and
    spending nothing cannot earn infinitely many);
  - lower is better and value ≤ 0: the cap (nothing spent beats any budget);
  - target 0 (nothing expected): higher is better — value < 0 earns 0, value 0 earns
    ``full_points`` (the target is met exactly), value > 0 earns the cap (``full_points``
    when there is none); lower is better — value ≤ 0 earns the cap, value > 0 earns 0
    (anything spent overruns a zero budget);
  - a negative target, negative ``full_points`` or ``cap_percent`` are programming errors
    (``ValueError``): ``validate_rule`` refuses such parameters before they are stored.

* ``score_threshold`` — steps (threshold, points): higher is better — the points of the
  highest threshold reached (value ≥ threshold); lower is better — the points of the
  lowest threshold not exceeded (value ≤ threshold). No step reached: 0.
  ``validate_rule`` keeps the steps' points in order (more points for a better
  threshold), so the score is monotone in the value.
* ``score_table`` — rows (from, to, points), half-open ranges ``from ≤ value < to``
  (``None`` for an open end); a value in no row: 0. ``validate_rule`` refuses overlapping
  rows, so at most one row holds any value.

``validate_rule(kind, params)`` checks and normalizes a rule's parameters into the JSON
stored on the item (decimals as text), raising ``DomainError`` naming the parameter
(``params.steps[2].points``); ``score_rule`` applies stored parameters to a value.
"""

from __future__ import annotations

import decimal
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from bizdept.core.errors import DomainError

CENT = Decimal("0.01")
RULE_KINDS = ("linear", "threshold", "table")
#: Bounds of what a rule may say (and what ``validate_rule`` accepts).
POINTS_MAX = Decimal("1000")
CAP_MIN, CAP_MAX = Decimal("100"), Decimal("1000")
BOUND_MAX = Decimal("999999999999.9999")  # thresholds and table ends, up to 4 decimals
BOUND_PLACES = 4
MAX_STEPS = 50

_CONTEXT = decimal.Context(prec=60, rounding=ROUND_HALF_UP)


def _num(value, name: str) -> Decimal:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number")
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, (int, str)):
        value = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError(f"{name} must be a finite Decimal or int")
    return value


def _points(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP, context=_CONTEXT)


def score_linear(value, target, *, full_points, cap_percent=None,
                 higher_is_better: bool = True) -> Decimal:
    """``full_points`` × achievement, between 0 and the cap (see the module's rules)."""
    value, target = _num(value, "value"), _num(target, "target")
    full = _num(full_points, "full_points")
    if target < 0 or full < 0:
        raise ValueError("target and full_points must be ≥ 0")
    if cap_percent is None:
        cap = None if higher_is_better else full
    else:
        cap_percent = _num(cap_percent, "cap_percent")
        if cap_percent < 0:
            raise ValueError("cap_percent must be ≥ 0")
        cap = _CONTEXT.divide(_CONTEXT.multiply(full, cap_percent), Decimal(100))
    top = full if cap is None else cap
    if higher_is_better:
        if target == 0:
            raw = Decimal(0) if value < 0 else full if value == 0 else top
        else:
            raw = _CONTEXT.divide(_CONTEXT.multiply(full, value), target)
    elif value <= 0:
        raw = top
    elif target == 0:
        raw = Decimal(0)
    else:
        raw = _CONTEXT.divide(_CONTEXT.multiply(full, target), value)
    raw = max(raw, Decimal(0))
    if cap is not None:
        raw = min(raw, cap)
    return _points(raw)


def score_threshold(value, *, steps, higher_is_better: bool = True) -> Decimal:
    """The points of the best step reached; 0 when none is."""
    value = _num(value, "value")
    reached = [(_num(t, "threshold"), _num(p, "points")) for t, p in steps]
    if higher_is_better:
        reached = [s for s in reached if value >= s[0]]
        best = max(reached, key=lambda s: s[0], default=None)
    else:
        reached = [s for s in reached if value <= s[0]]
        best = min(reached, key=lambda s: s[0], default=None)
    return _points(best[1] if best is not None else Decimal(0))


def score_table(value, *, rows) -> Decimal:
    """The points of the row ``from ≤ value < to`` holding the value; 0 outside them all."""
    value = _num(value, "value")
    for low, high, points in rows:
        if (low is None or value >= _num(low, "from")) and (
                high is None or value < _num(high, "to")):
            return _points(_num(points, "points"))
    return _points(Decimal(0))


def score_rule(kind: str, params: dict, *, value, target=None) -> Decimal:
    """Apply a rule's stored (``validate_rule``-normalized) parameters to a value."""
    if kind == "linear":
        cap = params.get("cap_percent")
        return score_linear(value, Decimal(0) if target is None else target,
                            full_points=Decimal(params["full_points"]),
                            cap_percent=None if cap is None else Decimal(cap),
                            higher_is_better=params.get("higher_is_better", True))
    if kind == "threshold":
        return score_threshold(value, steps=[(Decimal(s["threshold"]), Decimal(s["points"]))
                                             for s in params["steps"]],
                               higher_is_better=params.get("higher_is_better", True))
    if kind == "table":
        return score_table(value, rows=[
            (None if r["from"] is None else Decimal(r["from"]),
             None if r["to"] is None else Decimal(r["to"]), Decimal(r["points"]))
            for r in params["rows"]])
    raise ValueError(f"unknown rule kind {kind!r}")


# --- validation -----------------------------------------------------------------------
def _decimal(raw, field: str, *, low: Decimal, high: Decimal, places: int,
             required: bool = True) -> Decimal | None:
    if raw is None or raw == "":
        if not required:
            return None
        raise DomainError(_("Enter a number."), field=field, code="required")
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        raise DomainError(_("Enter a number."), field=field, code="invalid")
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(
            repr(raw) if isinstance(raw, float) else str(raw).strip())
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(_("Enter a number."), field=field, code="invalid") from exc
    if not value.is_finite():
        raise DomainError(_("Enter a number."), field=field, code="invalid")
    if not low <= value <= high:
        raise DomainError(_("Enter a number between %(low)s and %(high)s.")
                          % {"low": low, "high": high}, field=field, code="range")
    quantum = Decimal(1).scaleb(-places)
    if value != value.quantize(quantum, context=_CONTEXT):
        raise DomainError(_("At most %s decimals.") % places, field=field, code="decimals")
    return value.quantize(quantum, context=_CONTEXT)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _known_keys(params: dict, allowed: set[str], field: str) -> None:
    unknown = sorted(str(k) for k in params if k not in allowed)
    if unknown:
        raise DomainError(_("Unknown parameter(s): %(names)s. Expected: %(allowed)s.")
                          % {"names": ", ".join(unknown)[:200],
                             "allowed": ", ".join(sorted(allowed))},
                          field=field, code="unknown")


def _flag(params: dict, field: str) -> bool:
    raw = params.get("higher_is_better", True)
    if not isinstance(raw, bool):
        raise DomainError(_("Enter true or false."), field=f"{field}.higher_is_better",
                          code="invalid")
    return raw


def _entries(params: dict, key: str, field: str, names: tuple[str, ...]) -> list[dict]:
    raw = params.get(key)
    if not isinstance(raw, list) or not raw:
        raise DomainError(_("Give at least one entry."), field=f"{field}.{key}",
                          code="required")
    if len(raw) > MAX_STEPS:
        raise DomainError(_("At most %s entries.") % MAX_STEPS, field=f"{field}.{key}",
                          code="too_many")
    out = []
    for i, entry in enumerate(raw):
        here = f"{field}.{key}[{i}]"
        if isinstance(entry, (list, tuple)) and len(entry) == len(names):
            entry = dict(zip(names, entry, strict=True))
        if not isinstance(entry, dict):
            raise DomainError(_("Give %s.") % ", ".join(names), field=here, code="invalid")
        _known_keys(entry, set(names), here)
        out.append(entry)
    return out


def validate_rule(kind, params, *, field: str = "params") -> dict:
    """The rule's parameters checked and normalized (decimals as text, defaults filled);
    a ``DomainError`` naming the parameter (``params.steps[2].points``) otherwise.

    * linear: ``full_points`` (0–1000), ``cap_percent`` (100–1000 or null),
      ``higher_is_better`` (default true);
    * threshold: ``steps`` — a list of ``{threshold, points}`` (or ``[threshold, points]``),
      thresholds all different, the points never lower for a better threshold;
      ``higher_is_better`` (default true);
    * table: ``rows`` — a list of ``{from, to, points}`` (or ``[from, to, points]``),
      ``from < to`` (either may be null: open), ranges not overlapping.
    """
    if kind not in RULE_KINDS:
        raise DomainError(_("Choose a rule: %s.") % ", ".join(RULE_KINDS), field="rule_kind",
                          code="invalid")
    if not isinstance(params, dict):
        raise DomainError(_("Send the rule's parameters as an object."), field=field,
                          code="invalid")
    points_range = {"low": Decimal(0), "high": POINTS_MAX, "places": 2}
    bound_range = {"low": -BOUND_MAX, "high": BOUND_MAX, "places": BOUND_PLACES}
    if kind == "linear":
        _known_keys(params, {"full_points", "cap_percent", "higher_is_better"}, field)
        full = _decimal(params.get("full_points"), f"{field}.full_points", **points_range)
        cap = _decimal(params.get("cap_percent"), f"{field}.cap_percent", low=CAP_MIN,
                       high=CAP_MAX, places=2, required=False)
        return {"full_points": _text(full), "cap_percent": _text(cap),
                "higher_is_better": _flag(params, field)}
    if kind == "threshold":
        _known_keys(params, {"steps", "higher_is_better"}, field)
        higher = _flag(params, field)
        steps = []
        for i, entry in enumerate(_entries(params, "steps", field, ("threshold", "points"))):
            here = f"{field}.steps[{i}]"
            steps.append((i, _decimal(entry.get("threshold"), f"{here}.threshold",
                                      **bound_range),
                          _decimal(entry.get("points"), f"{here}.points", **points_range)))
        # from the worst threshold to the best: the points may not go down
        ordered = sorted(steps, key=lambda s: s[1], reverse=not higher)
        for before, after in zip(ordered, ordered[1:], strict=False):
            if after[1] == before[1]:
                raise DomainError(_("Two steps have the same threshold."),
                                  field=f"{field}.steps[{after[0]}].threshold",
                                  code="duplicate")
            if after[2] < before[2]:
                raise DomainError(_("A better threshold cannot earn fewer points than a "
                                    "worse one (%(points)s).") % {"points": before[2]},
                                  field=f"{field}.steps[{after[0]}].points", code="order")
        ordered_by_threshold = sorted(steps, key=lambda s: s[1])
        return {"steps": [{"threshold": _text(t), "points": _text(p)}
                          for _i, t, p in ordered_by_threshold],
                "higher_is_better": higher}
    _known_keys(params, {"rows"}, field)
    rows = []
    for i, entry in enumerate(_entries(params, "rows", field, ("from", "to", "points"))):
        here = f"{field}.rows[{i}]"
        low = _decimal(entry.get("from"), f"{here}.from", required=False, **bound_range)
        high = _decimal(entry.get("to"), f"{here}.to", required=False, **bound_range)
        points = _decimal(entry.get("points"), f"{here}.points", **points_range)
        if low is not None and high is not None and low >= high:
            raise DomainError(_("A row's end must be above its start."), field=f"{here}.to",
                              code="order")
        rows.append((i, low, high, points))
    ordered = sorted(rows, key=lambda r: (r[1] is not None, r[1] or 0))
    for before, after in zip(ordered, ordered[1:], strict=False):
        # sorted by start (open start first): they overlap when the earlier one ends
        # (or never ends) after the later one starts
        if before[2] is None or after[1] is None or before[2] > after[1]:
            raise DomainError(_("This row overlaps row %s.") % (before[0] + 1),
                              field=f"{field}.rows[{after[0]}].from", code="overlap")
    return {"rows": [{"from": _text(lo), "to": _text(hi), "points": _text(p)}
                     for _i, lo, hi, p in ordered]}
