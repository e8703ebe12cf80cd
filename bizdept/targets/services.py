"""Every write of the targets app (TGT), one transaction each.

``by`` is always the acting login (``request.user``). Plans (TGT-1..4): a department's
head or a director creates a plan per fiscal year and metric, sets (or splits) the
realistic and stretch value of every unit and person for the year, its quarters and its
months, and submits it for approval once every sum holds (``selectors.plan_check``). An
approved plan is frozen; it changes only through a revision: a new version, copied from
it, approved in turn, which supersedes it.

Audit: the plan has its history (django-simple-history): creation, every status move and
every write of its cells, as one history row per write naming how many cells it set
(``_change_reason``). Cells have no history of their own — a plan holds up to 34,000 of
them and a grid save writes hundreds at once; what was approved stays, frozen, in its
version, so the figures' history is the list of versions (``selectors.plan_history``).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bizdept.core.errors import Conflict, DomainError
from bizdept.core.periods import (
    period_bounds,
    period_children,
    period_kind,
    quarter_months,
    year_periods,
    year_quarters,
)
from bizdept.core.services import audited_save
from bizdept.org.choices import EmployeeStatus, UnitKind
from bizdept.org.models import Employee, Unit
from bizdept.org.scope import employee_of

from . import selectors, splits
from .choices import PLAN_TRANSITIONS, Metric, PlanStatus
from .models import TargetCell, TargetPlan

# === Plans (TGT-1..4) ===================================================================
PLAN_TYPE = "targets.plan"
#: The largest value a cell takes (12 digits before the point: exact even as SQLite REAL).
VALUE_MAX = Decimal("999999999999.99")
REASON_MAX = 200
MISMATCHES_SHOWN = 3


def _actor(by) -> Employee:
    me = employee_of(by)
    if me is None or me.status == EmployeeStatus.LEFT or not getattr(by, "is_active", True):
        raise PermissionDenied
    return me


def _locked(plan: TargetPlan) -> TargetPlan:
    return TargetPlan.objects.select_for_update(of=("self",)).select_related("unit").get(
        pk=plan.pk)


def _status_label(status) -> str:
    return str(PlanStatus(status).label)


def _move(plan: TargetPlan, status: str) -> None:
    if status not in PLAN_TRANSITIONS.get(plan.status, frozenset()):
        raise DomainError(_("The plan is %(old)s; it cannot become %(new)s.")
                          % {"old": _status_label(plan.status), "new": _status_label(status)},
                          field="status", code="transition")
    plan._change_reason = f"{plan.status} → {status}"
    plan.status = status


def _require_draft(plan: TargetPlan) -> None:
    if plan.status != PlanStatus.DRAFT:
        raise DomainError(_("The plan is %s: an approved plan changes only through a "
                            "revision.") % _status_label(plan.status), field="status",
                          code="locked")


def _require_manage(plan_or_unit, by) -> None:
    _actor(by)
    if not selectors.can_manage_plan(plan_or_unit, by):
        raise PermissionDenied


def _department_of(unit: Unit) -> Unit:
    """The nearest department at or above ``unit`` (the root when there is none)."""
    ids = unit.ancestor_ids()
    found = (Unit.objects.filter(pk__in=ids, kind=UnitKind.DEPARTMENT).order_by("-depth")
             .first())
    return found or Unit.objects.get(pk=ids[0])


def plan_title(plan: TargetPlan) -> str:
    """How the approval inbox names the plan: "2027 Revenue plan v2 · 经营部"."""
    return (_("%(year)s %(metric)s plan v%(version)s")
            % {"year": plan.fiscal_year, "metric": plan.get_metric_display(),
               "version": plan.version} + f" · {plan.unit.name}")[:200]


def plan_amount(plan: TargetPlan) -> Decimal | None:
    """The department's realistic figure for the year (money metrics; None otherwise)."""
    if plan.metric not in selectors.MONEY_METRICS:
        return None
    cell = (TargetCell.objects.filter(plan=plan, unit_id=plan.unit_id, employee__isnull=True,
                                      period=str(plan.fiscal_year))
            .values_list("realistic", flat=True).first())
    return cell if cell is not None else Decimal("0.00")


@transaction.atomic
def plan_create(*, by, fiscal_year, metric: str, unit: Unit | None = None) -> TargetPlan:
    """A new draft plan (version 1) of ``metric`` for ``fiscal_year`` of a department
    (by default the one ``by`` works in)."""
    me = _actor(by)
    if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, int) \
            or not 2000 <= fiscal_year <= 2999:
        raise DomainError(_("Enter a year between 2000 and 2999."), field="fiscal_year",
                          code="invalid")
    if metric not in Metric.values:
        raise DomainError(_("Choose a metric: %s.") % ", ".join(Metric.values),
                          field="metric", code="invalid")
    if unit is None:
        unit = _department_of(me.unit)
    elif unit.kind != UnitKind.DEPARTMENT:
        raise DomainError(_("A target plan covers a whole department; choose one."),
                          field="unit", code="not_department")
    _require_manage(unit, by)
    # Serialize the department's plans: two creations cannot both pass the check below.
    Unit.objects.select_for_update().filter(pk=unit.pk).values_list("pk").first()
    same = TargetPlan.objects.filter(unit=unit, fiscal_year=fiscal_year, metric=metric)
    existing = same.filter(status__in=[*selectors.OPEN_STATUSES, PlanStatus.APPROVED]) \
        .order_by("-version").first()
    if existing is not None:
        if existing.status == PlanStatus.APPROVED:
            message = _("The %(year)s %(metric)s plan of %(unit)s is already approved; "
                        "revise it instead.")
        else:
            message = _("%(unit)s already has a %(year)s %(metric)s plan being prepared "
                        "(version %(version)s); continue with that one.")
        raise Conflict(message % {"year": fiscal_year, "metric": Metric(metric).label,
                                  "unit": unit.name, "version": existing.version},
                       field="fiscal_year", code="exists")
    last = same.order_by("-version").values_list("version", flat=True).first() or 0
    plan = TargetPlan(fiscal_year=fiscal_year, metric=metric, unit=unit, version=last + 1,
                      created_by=me)
    plan._change_reason = "created"
    try:
        with transaction.atomic():
            return audited_save(plan, by=by, validate_constraints=False)
    except IntegrityError as exc:
        raise Conflict(_("This plan was just created by someone else."), field="fiscal_year",
                       code="exists") from exc


# --- values ---------------------------------------------------------------------------
def _value(raw, field: str, metric: str) -> Decimal:
    """A cell value: a number ≥ 0 with at most 2 decimals (whole for counts)."""
    if isinstance(raw, bool) or raw is None or raw == "":
        raise DomainError(_("Enter a number."), field=field, code="required")
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(
            repr(raw) if isinstance(raw, float) else str(raw).strip().replace(",", ""))
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise DomainError(_("Enter a number."), field=field, code="invalid") from exc
    if not value.is_finite():
        raise DomainError(_("Enter a number."), field=field, code="invalid")
    if value < 0:
        raise DomainError(_("A target cannot be negative."), field=field, code="negative")
    if value > VALUE_MAX:
        raise DomainError(_("At most %s.") % f"{VALUE_MAX:,}", field=field, code="too_large")
    places = 0 if metric in selectors.COUNT_METRICS else 2
    if value != value.quantize(Decimal(1).scaleb(-places)):
        message = (_("Enter a whole number: %s is counted in ones.") % Metric(metric).label
                   if places == 0 else _("At most 2 decimals."))
        raise DomainError(message, field=field, code="decimals")
    return value.quantize(Decimal(1).scaleb(-2))


def _order_error(metric: str, field: str) -> DomainError:
    if metric == Metric.EXPENSES:
        return DomainError(_("An expense budget's stretch target is the tighter one: it "
                             "cannot be above the realistic budget."), field=field,
                           code="order")
    return DomainError(_("The stretch target cannot be below the realistic target."),
                       field=field, code="order")


def _write_cells(plan: TargetPlan, by, changes: list[dict], *, tree=None,
                 reason: str = "") -> int:
    """Validate and upsert cells; ``changes`` are dicts with ``unit`` and ``employee``
    (ids), ``period``, and ``realistic`` and/or ``stretch`` (Decimal or text), plus
    ``field`` (how an error names the item, e.g. ``values[3]``). The plan is locked and
    a draft. Constant queries: the tree, the existing cells, one update, one insert."""
    tree = tree or selectors.plan_nodes(plan)
    viewer = selectors.plan_viewer(plan, by)
    periods = set(year_periods(plan.fiscal_year))
    clean: dict[tuple, dict] = {}
    for item in changes:
        field = item["field"]
        unit_id, employee_id, period = item.get("unit"), item.get("employee"), item.get("period")
        if not isinstance(unit_id, int) or isinstance(unit_id, bool) \
                or not tree.has_unit(unit_id):
            raise DomainError(_("This unit is not in the plan's department."),
                              field=f"{field}.unit", code="unknown")
        if employee_id is not None:
            if isinstance(employee_id, bool) or not isinstance(employee_id, int) \
                    or employee_id not in tree.person_unit:
                raise DomainError(_("This person is not counted in the plan."),
                                  field=f"{field}.employee", code="unknown")
            if tree.person_unit[employee_id] != unit_id:
                raise DomainError(_("%(person)s is counted under %(unit)s in this plan.")
                                  % {"person": tree.employees[employee_id].name,
                                     "unit": tree.units[tree.person_unit[employee_id]].name},
                                  field=f"{field}.unit", code="wrong_unit")
        if period not in periods:
            raise DomainError(_("Choose a period of %(year)s: the year, a quarter such as "
                                "%(year)s-Q1 or a month such as %(year)s-01.")
                              % {"year": plan.fiscal_year}, field=f"{field}.period",
                              code="invalid")
        if not viewer.sets(tree.units[unit_id], employee_id):
            raise PermissionDenied
        key = (unit_id, employee_id, period)
        if key in clean:
            raise DomainError(_("This cell is given twice."), field=field, code="duplicate")
        entry = {"field": field}
        for name in ("realistic", "stretch"):
            if name in item and item[name] is not None:
                entry[name] = _value(item[name], f"{field}.{name}", plan.metric)
        if len(entry) == 1:
            raise DomainError(_("Give the realistic target, the stretch target or both."),
                              field=f"{field}.realistic", code="required")
        clean[key] = entry
    if not clean:
        return 0
    units = {k[0] for k in clean if k[1] is None}
    people = {k[1] for k in clean if k[1] is not None}
    existing = {(c.unit_id, c.employee_id, c.period): c for c in TargetCell.objects.filter(
        plan=plan, period__in={k[2] for k in clean}).filter(
        models_q(units, people))}
    to_update, to_create = [], []
    for key, entry in clean.items():
        cell = existing.get(key)
        if cell is None:
            cell = TargetCell(plan=plan, unit_id=key[0], employee_id=key[1], period=key[2],
                              realistic=Decimal("0.00"), stretch=Decimal("0.00"))
            to_create.append(cell)
        else:
            to_update.append(cell)
        cell.realistic = entry.get("realistic", cell.realistic)
        cell.stretch = entry.get("stretch", cell.stretch)
        if plan.metric == Metric.EXPENSES:
            wrong = cell.stretch > cell.realistic
        else:
            wrong = cell.realistic > cell.stretch
        if wrong:
            name = "stretch" if "stretch" in entry else "realistic"
            raise _order_error(plan.metric, f"{entry['field']}.{name}")
    if to_update:
        TargetCell.objects.bulk_update(to_update, ["realistic", "stretch"], batch_size=2000)
    if to_create:
        TargetCell.objects.bulk_create(to_create, batch_size=2000)
    count = len(to_update) + len(to_create)
    plan._change_reason = reason or f"{count} cells set"
    audited_save(plan, by=by, validate_constraints=False)
    return count


def models_q(units: set, people: set):
    from django.db.models import Q

    q = Q(pk__in=[])
    if units:
        q |= Q(employee__isnull=True, unit_id__in=units)
    if people:
        q |= Q(employee_id__in=people)
    return q


def _values_list(values) -> list[dict]:
    if isinstance(values, (str, bytes, dict)) or not isinstance(values, Iterable):
        raise DomainError(_("Send a list of cells."), field="values", code="invalid")
    items = []
    for n, item in enumerate(values):
        if not isinstance(item, dict):
            raise DomainError(_("Send a list of cells."), field=f"values[{n}]",
                              code="invalid")
        unknown = sorted(set(item) - {"unit", "employee", "period", "realistic", "stretch"})
        if unknown:
            raise DomainError(_("These fields cannot be set here: %s") % ", ".join(unknown),
                              field=f"values[{n}].{unknown[0]}", code="unknown_field")
        items.append({**item, "field": f"values[{n}]"})
    return items


@transaction.atomic
def plan_set_values(*, plan: TargetPlan, by, values) -> int:
    """Set cells of a draft plan; returns how many cells were written. Each value is
    ``{unit: id, employee: id or None, period, realistic, stretch}`` (either figure may be
    left out: the other one changes). All or nothing."""
    _actor(by)
    items = _values_list(values)
    plan = _locked(plan)
    _require_draft(plan)
    return _write_cells(plan, by, items)


# --- splitting (TGT-4) ----------------------------------------------------------------
SPLIT_HOW = ("even", "last_year", "progressive")
SPLIT_ACROSS = ("periods", "periods_all", "children")
STEP_MIN, STEP_MAX = Decimal(-50), Decimal(100)


def _actuals(metric: str, since, until, employee_ids=None) -> dict[int, Decimal]:
    """{employee id: actual} from the KPI library (one grouped query)."""
    from bizdept.kpi.measures import measure

    return measure(metric).per_person(since=since, until=until, employee_ids=employee_ids)


def _last_year_period(period: str) -> str:
    year, _sep, rest = period.partition("-")
    return f"{int(year) - 1}{_sep}{rest}"


def _node_actuals(plan: TargetPlan, tree, period: str, nodes: list[tuple]) -> list[Decimal]:
    """Last year's actual of each node for the same period: a person's own; a unit's, the
    sum over the people whose current unit is in its subtree. One query."""
    since, until = period_bounds(_last_year_period(period), years=True)
    rows = _actuals(plan.metric, since, until)
    if not rows:
        return [Decimal(0)] * len(nodes)
    current = dict(Employee.objects.filter(pk__in=list(rows)).values_list("pk", "unit__path")) \
        if any(e is None for _u, e in nodes) else {}
    weights = []
    for unit_id, employee_id in nodes:
        if employee_id is not None:
            weights.append(max(rows.get(employee_id, Decimal(0)), Decimal(0)))
        else:
            path = tree.units[unit_id].path
            weights.append(max(sum((v for pk, v in rows.items()
                                    if (current.get(pk) or "").startswith(path)), Decimal(0)),
                               Decimal(0)))
    return weights


def _parts(total: Decimal, n: int, *, how, weights, step, places, remainder_to):
    if how == "even" or (how == "last_year" and not any(weights)):
        return splits.split_even(total, n, places=places, remainder_to=remainder_to)
    if how == "progressive":
        return splits.split_progressive(total, n, step_percent=step, places=places,
                                        remainder_to=remainder_to)
    return splits.split_weighted(total, weights, places=places, remainder_to=remainder_to)


def _split_pair(value: selectors.Pair, n: int, metric: str, **kwargs) -> list[tuple]:
    """Split realistic and stretch alike, keeping their order in every part: the lower
    figure is split, and the difference to the higher one is split the same way on top."""
    places = 0 if metric in selectors.COUNT_METRICS else 2
    low, high = ((value.stretch, value.realistic) if metric == Metric.EXPENSES
                 else (value.realistic, value.stretch))
    extra = max(high - low, Decimal(0))
    lows = _parts(low, n, places=places, **kwargs)
    extras = _parts(extra, n, places=places, **kwargs)
    parts = [(lo, lo + ex) for lo, ex in zip(lows, extras, strict=True)]
    if metric == Metric.EXPENSES:
        return [(hi, lo) for lo, hi in parts]
    return parts


@transaction.atomic
def plan_split(*, plan: TargetPlan, by, unit, employee=None, period: str, across: str,
               how: str, step_percent=None, remainder_to: str = "last") -> int:
    """Split a node's value (TGT-4).

    * ``across="periods"``: the node's value for ``period`` into its child periods (a year
      into quarters, a quarter into months); ``"periods_all"``: a year into quarters and
      each quarter into months in one go (months evenly after a progressive split).
    * ``across="children"``: the unit's value for ``period`` among its child units and the
      people counted under it; ``period="all"``: every month's, each child's quarters and
      year then being the sums of its months (so its own periods add up too).

    ``how``: ``even``, ``last_year`` (weights: each part's actual in the same period of the
    year before, from the KPI library; nothing last year: even) or ``progressive`` (periods
    only; each part ``step_percent`` above the one before). Both figures are split; the
    written cells go through the same checks and permissions as ``plan_set_values``.
    Returns how many cells were written."""
    _actor(by)
    if across not in SPLIT_ACROSS:
        raise DomainError(_("Split across periods, periods_all or children."), field="across",
                          code="invalid")
    if how not in SPLIT_HOW:
        raise DomainError(_("Split evenly (even), by last year's actuals (last_year) or "
                            "progressively (progressive)."), field="how", code="invalid")
    if remainder_to not in splits.REMAINDER_TO:
        raise DomainError(_("Put the rounding remainder on the first, the last or the "
                            "largest part."), field="remainder_to", code="invalid")
    step = None
    if how == "progressive":
        if across == "children":
            raise DomainError(_("A progressive split is for periods; split people and units "
                                "evenly or by last year."), field="how", code="invalid")
        try:
            step = Decimal(str(step_percent)) if step_percent is not None else None
        except InvalidOperation:
            step = None
        if step is None or not step.is_finite() or not STEP_MIN <= step <= STEP_MAX \
                or step != step.quantize(Decimal("0.01")):
            raise DomainError(_("Give the step between parts in percent, from %(low)s to "
                                "%(high)s.") % {"low": STEP_MIN, "high": STEP_MAX},
                              field="step_percent", code="invalid")
    plan = _locked(plan)
    _require_draft(plan)
    tree = selectors.plan_nodes(plan)
    unit_id = getattr(unit, "pk", unit)
    employee_id = getattr(employee, "pk", employee)
    if not tree.has_unit(unit_id):
        raise DomainError(_("This unit is not in the plan's department."), field="unit",
                          code="unknown")
    if employee_id is not None and not tree.has_node(unit_id, employee_id):
        raise DomainError(_("This person is not counted under this unit in the plan."),
                          field="employee", code="unknown")
    if across == "children" and employee_id is not None:
        raise DomainError(_("A person has nothing under them to split among."),
                          field="employee", code="invalid")
    all_periods = year_periods(plan.fiscal_year)
    if not (period in all_periods or (across == "children" and period == "all")):
        raise DomainError(_("Choose a period of %s.") % plan.fiscal_year, field="period",
                          code="invalid")
    if across.startswith("periods") and period_kind(period) == "month":
        raise DomainError(_("A month has no shorter periods to split into."), field="period",
                          code="invalid")
    if across == "periods_all" and period_kind(period) != "year":
        raise DomainError(_("Split a year into quarters and months."), field="period",
                          code="invalid")
    values = selectors._cell_values(plan, models_q(
        {unit_id} if employee_id is None else set(),
        {employee_id} if employee_id is not None else set()))
    kwargs = {"how": how, "step": step, "remainder_to": remainder_to}
    changes: list[dict] = []

    def add(node_unit, node_employee, child_period, pair):
        changes.append({"unit": node_unit, "employee": node_employee, "period": child_period,
                        "realistic": pair[0], "stretch": pair[1],
                        "field": f"cells[{len(changes)}]"})

    if across.startswith("periods"):
        def split_periods(parent_period, value, how_here):
            children = period_children(parent_period)
            weights = None
            if how_here == "last_year":
                weights = [w for c in children
                           for w in _node_actuals(plan, tree, c, [(unit_id, employee_id)])]
            parts = _split_pair(value, len(children), plan.metric,
                                **{**kwargs, "how": how_here, "weights": weights})
            for child, pair in zip(children, parts, strict=True):
                add(unit_id, employee_id, child, pair)
            return dict(zip(children, parts, strict=True))

        top = values.get((unit_id, employee_id, period), selectors.Pair())
        quarters = split_periods(period, top, how)
        if across == "periods_all":
            month_how = "even" if how == "progressive" else how
            for quarter in year_quarters(plan.fiscal_year):
                split_periods(quarter, selectors.Pair(*quarters[quarter]), month_how)
    else:
        kids = [(c.pk, None) for c in tree.child_units[unit_id]]
        kids += [(unit_id, p.pk) for p in tree.people[unit_id]]
        if not kids:
            raise DomainError(_("%s has no units or people under it.")
                              % tree.units[unit_id].name, field="unit", code="empty")
        # Every period: the months are split, and each child's quarters and year are the
        # sums of its months, so its own periods add up as the parent's do.
        months = [m for m in all_periods if period_kind(m) == "month"]
        got: dict[tuple, tuple] = {}
        for each in (months if period == "all" else [period]):
            weights = (_node_actuals(plan, tree, each, kids) if how == "last_year" else None)
            value = values.get((unit_id, None, each), selectors.Pair())
            parts = _split_pair(value, len(kids), plan.metric, weights=weights, **kwargs)
            for (kid_unit, kid_employee), pair in zip(kids, parts, strict=True):
                got[(kid_unit, kid_employee, each)] = pair
        if period == "all":
            for kid_unit, kid_employee in kids:
                for parent_period in reversed([p for p in all_periods
                                               if period_kind(p) != "month"]):
                    pairs = [got[(kid_unit, kid_employee, c)]
                             for c in period_children(parent_period)]
                    got[(kid_unit, kid_employee, parent_period)] = (
                        sum((p[0] for p in pairs), Decimal(0)),
                        sum((p[1] for p in pairs), Decimal(0)))
        for (kid_unit, kid_employee, each), pair in got.items():
            add(kid_unit, kid_employee, each, pair)
    return _write_cells(plan, by, changes, tree=tree,
                        reason=f"split {period} across {across} ({how})")


# --- submit, approve, revise ----------------------------------------------------------
def _mismatch_text(m: selectors.Mismatch) -> str:
    return _("%(who)s, %(period)s: off by %(difference)s") % {
        "who": m.label, "period": m.period, "difference": f"{m.difference:,}"}


@transaction.atomic
def plan_submit(*, plan: TargetPlan, by, comment: str = "") -> TargetPlan:
    """Draft → submitted, through the approval engine (``targets.plan``), once every sum
    holds and the plan has values."""
    from bizdept.approvals import services as approval_services

    _require_manage(plan, by)
    plan = _locked(plan)
    _move(plan, PlanStatus.SUBMITTED)
    tree = selectors.plan_nodes(plan)
    if not TargetCell.objects.filter(plan=plan).exists():
        raise DomainError(_("The plan has no targets yet."), field="values", code="empty")
    mismatches = selectors.plan_check(plan, tree)
    if mismatches:
        shown = "; ".join(_mismatch_text(m) for m in mismatches[:MISMATCHES_SHOWN])
        raise DomainError(_("%(count)d sums do not add up, e.g. %(shown)s.")
                          % {"count": len(mismatches), "shown": shown}, field="values",
                          code="mismatch")
    plan.submitted_at = timezone.now()
    audited_save(plan, by=by, validate_constraints=False)
    approval_services.approval_submit(document=plan, by=by, comment=comment,
                                      document_type=PLAN_TYPE)
    plan.refresh_from_db()
    return plan


def plan_approved(plan: TargetPlan) -> None:
    """The engine's callback: the plan is in force; the version it revises is superseded
    (first, so there is never a second approved plan)."""
    ids = [pk for pk in (plan.pk, plan.revision_of_id) if pk is not None]
    rows = {p.pk: p for p in TargetPlan.objects.select_for_update().filter(pk__in=ids)}
    plan, old = rows[plan.pk], rows.get(plan.revision_of_id)
    if old is not None and old.status == PlanStatus.APPROVED:
        _move(old, PlanStatus.SUPERSEDED)
        old.save()
    _move(plan, PlanStatus.APPROVED)
    plan.approved_at = timezone.now()
    plan.save()


def plan_not_approved(plan: TargetPlan) -> None:
    """Returned, rejected or withdrawn: back to draft, to be corrected and submitted again."""
    plan = TargetPlan.objects.select_for_update().filter(pk=plan.pk).first()
    _move(plan, PlanStatus.DRAFT)
    plan.submitted_at = None
    plan.save()


@transaction.atomic
def plan_revise(*, plan: TargetPlan, by, reason: str) -> TargetPlan:
    """A new draft version of an approved plan, with every cell copied; the approved one
    stays in force until the revision is approved."""
    me = _actor(by)
    _require_manage(plan, by)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the plan is revised."), field="reason", code="required")
    if len(reason) > REASON_MAX:
        raise DomainError(_("The reason is too long (%d characters at most).") % REASON_MAX,
                          field="reason", code="too_long")
    plan = _locked(plan)
    if plan.status != PlanStatus.APPROVED:
        raise DomainError(_("Only the approved plan is revised; this one is %s.")
                          % _status_label(plan.status), field="status", code="not_approved")
    Unit.objects.select_for_update().filter(pk=plan.unit_id).values_list("pk").first()
    open_one = selectors.plan_open_revision(plan)
    if open_one is not None:
        raise Conflict(_("Version %(version)s is already being prepared (%(status)s); finish "
                         "or delete it first.") % {"version": open_one.version,
                                                    "status": _status_label(open_one.status)},
                       field="status", code="open_revision")
    last = (TargetPlan.objects.filter(unit_id=plan.unit_id, fiscal_year=plan.fiscal_year,
                                      metric=plan.metric)
            .order_by("-version").values_list("version", flat=True).first())
    revision = TargetPlan(fiscal_year=plan.fiscal_year, metric=plan.metric, unit=plan.unit,
                          version=last + 1, revision_of=plan, reason=reason, created_by=me)
    revision._change_reason = f"revision of v{plan.version}"
    audited_save(revision, by=by, validate_constraints=False)
    _copy_cells(plan, revision)
    return revision


def _copy_cells(source: TargetPlan, target: TargetPlan) -> None:
    """Every cell of ``source`` into ``target``, in one INSERT … SELECT."""
    qn = connection.ops.quote_name
    table = qn(TargetCell._meta.db_table)
    cols = [TargetCell._meta.get_field(n).column for n in
            ("unit", "employee", "period", "realistic", "stretch")]
    names = ", ".join(qn(c) for c in cols)
    plan_col = qn(TargetCell._meta.get_field("plan").column)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({plan_col}, {names}) "
                       f"SELECT %s, {names} FROM {table} WHERE {plan_col} = %s",
                       [target.pk, source.pk])


@transaction.atomic
def plan_delete(*, plan: TargetPlan, by) -> None:
    """Delete a draft that was never submitted (a mistaken plan or revision)."""
    from django.contrib.contenttypes.models import ContentType

    from bizdept.approvals.models import ApprovalRequest

    _require_manage(plan, by)
    plan = _locked(plan)
    if plan.status != PlanStatus.DRAFT or ApprovalRequest.objects.filter(
            content_type=ContentType.objects.get_for_model(TargetPlan),
            object_id=plan.pk).exists():
        raise DomainError(_("Only a draft that was never submitted can be deleted."),
                          field="status", code="locked")
    TargetCell.objects.filter(plan=plan).delete()
    plan._history_user = getattr(by, "user", by)
    plan.delete()


# --- people joining or leaving during the year ----------------------------------------
@transaction.atomic
def plan_reassign(*, plan: TargetPlan, by, from_employee, to_employee,
                  from_month: str) -> int:
    """Move ``from_employee``'s months from ``from_month`` to December to ``to_employee``
    (counted under their unit in the plan, or their current unit when they have no cells
    yet), realistic and stretch; both people's quarters and year and the units between
    each of them and their nearest common unit change by the same amounts, so every sum
    still holds. Returns how many cells were written."""
    _actor(by)
    plan = _locked(plan)
    _require_draft(plan)
    tree = selectors.plan_nodes(plan)
    source = getattr(from_employee, "pk", from_employee)
    target = getattr(to_employee, "pk", to_employee)
    if source not in tree.person_unit:
        raise DomainError(_("This person is not counted in the plan."), field="from_employee",
                          code="unknown")
    if target == source:
        raise DomainError(_("Choose someone else to take the targets over."),
                          field="to_employee", code="same")
    months = [m for q in year_quarters(plan.fiscal_year) for m in quarter_months(q)]
    if from_month not in months:
        raise DomainError(_("Choose a month of %s, such as %s-07.")
                          % (plan.fiscal_year, plan.fiscal_year), field="from_month",
                          code="invalid")
    if target in tree.person_unit:
        target_unit = tree.person_unit[target]
    else:
        person = Employee.objects.filter(pk=target).select_related("unit").first() \
            if isinstance(target, int) and not isinstance(target, bool) else None
        if person is None or person.unit_id not in tree.units:
            raise DomainError(_("This person does not work in the plan's department."),
                              field="to_employee", code="unknown")
        if person.status == EmployeeStatus.LEFT:
            raise DomainError(_("%s has left.") % person.name, field="to_employee",
                              code="left")
        target_unit = person.unit_id
    source_unit = tree.person_unit[source]
    moved_months = months[months.index(from_month):]
    values = selectors._cell_values(plan, models_q(set(tree.units), {source, target}))
    zero = selectors.Pair()
    delta: dict[str, selectors.Pair] = {}
    for month in moved_months:
        amount = values.get((source_unit, source, month), zero)
        for period in (month, f"{plan.fiscal_year}-Q{(int(month[5:]) - 1) // 3 + 1}",
                       str(plan.fiscal_year)):
            delta[period] = delta.get(period, zero) + amount
    up = tree.ancestors(source_unit)
    down = tree.ancestors(target_unit)
    common = [a for a, b in zip(up, down, strict=False) if a == b]
    below = len(common)
    nodes = [((source_unit, source), -1), ((target_unit, target), 1)]
    nodes += [((u, None), -1) for u in up[below:]]
    nodes += [((u, None), 1) for u in down[below:]]
    changes = []
    for (unit_id, employee_id), sign in nodes:
        for period, amount in delta.items():
            if not amount:
                continue
            old = values.get((unit_id, employee_id, period), zero)
            new = old + amount if sign > 0 else old - amount
            if new.realistic < 0 or new.stretch < 0:
                raise DomainError(_("The plan's sums do not hold around %(who)s in %(period)s; "
                                    "correct them before moving targets.")
                                  % {"who": (tree.employees[employee_id].name if employee_id
                                             else tree.units[unit_id].name),
                                     "period": period}, field="from_month", code="mismatch")
            changes.append({"unit": unit_id, "employee": employee_id, "period": period,
                            "realistic": new.realistic, "stretch": new.stretch,
                            "field": "from_month"})
    if not changes:
        return 0
    if target not in tree.person_unit:  # a newcomer: counted from now on
        tree.person_unit[target] = target_unit
        person = Employee.objects.select_related("unit").get(pk=target)
        tree.employees[target] = person
        tree.people[target_unit].append(person)
    return _write_cells(plan, by, changes, tree=tree,
                        reason=f"reassigned from {from_month}: {source} → {target}")
# === end of Plans (TGT-1..4) ============================================================
