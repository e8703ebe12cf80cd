"""Every read of the targets app (TGT), one section per part.

Plans (TGT-1..4): which plans a user sees, a plan's tree of units and people, the grid a
page edits, the check that every sum holds. Tracking (TGT-5, 6) follows in its own section.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.http import Http404

from bizdept.core.periods import period_children, period_kind, year_periods, year_quarters
from bizdept.org.choices import Capability, EmployeeStatus, RoleCode
from bizdept.org.models import Employee, Unit
from bizdept.org.scope import Domain, capabilities_of, employee_of, scope_for

from .choices import Metric, PlanStatus
from .models import TargetCell, TargetPlan

ZERO = Decimal("0.00")


# === Plans (TGT-1..4) ===================================================================
# Who reads what: a plan (the row: year, metric, status, versions) is readable by anyone in
# the department it covers; its cells by the scope rule (ORG-4): one's own cells and one's
# own unit's, a head's subtree, the director the whole department. An administrator sees
# everything. Who may write which cell is ``can_set_node`` (the services use it too).

#: The roles that carry a quota: their holders are counted in a plan without being added.
QUOTA_ROLES = (RoleCode.SALES, RoleCode.LEAD)
#: Metrics counted in whole numbers (no decimals in their cells).
COUNT_METRICS = frozenset({Metric.NEW_CUSTOMERS, Metric.VISITS})
#: Metrics whose figures are money (an approval request shows the amount).
MONEY_METRICS = frozenset({Metric.REVENUE, Metric.GROSS_MARGIN, Metric.COLLECTIONS,
                           Metric.EXPENSES})
OPEN_STATUSES = (PlanStatus.DRAFT, PlanStatus.SUBMITTED)


def plan_in_force(*, unit, year: int, metric: str) -> TargetPlan | None:
    """The approved plan of ``metric`` for ``year`` of the department containing ``unit``
    (a Unit or its id; the nearest plan above it when departments nest), or None. One
    query (two when given an id)."""
    if not isinstance(unit, Unit):
        unit = Unit.objects.filter(pk=unit).only("pk", "path").first()
        if unit is None:
            return None
    return (TargetPlan.objects.filter(unit_id__in=unit.ancestor_ids(), fiscal_year=year,
                                      metric=metric, status=PlanStatus.APPROVED)
            .select_related("unit").order_by("-unit__depth").first())


def _department_ids(user) -> set[int] | None:
    """Ids of the units whose plans ``user`` reads (None: all): every unit above their own
    unit and above each unit they head. No query beyond the scope's."""
    scope = scope_for(user, Domain.SALES)
    if scope.everything:
        return None
    me = employee_of(user)
    if me is None or me.is_left:
        return set()
    ids = set(me.unit.ancestor_ids())
    for path in scope.unit_paths:
        ids.update(int(part) for part in path.strip("/").split("/") if part)
    return ids


def plan_list(*, user):
    """Plans of the user's department(s), newest year first."""
    ids = _department_ids(user)
    rows = TargetPlan.objects.select_related("unit", "created_by", "revision_of")
    return rows if ids is None else rows.filter(unit_id__in=ids)


def plan_get(*, user, pk) -> TargetPlan:
    """One plan the user may read, or 404 (missing or not their department)."""
    try:
        return plan_list(user=user).get(pk=pk)
    except (TargetPlan.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def plan_find(*, user, pk) -> TargetPlan:
    """The plan an action works on (the answer reads it again with ``plan_get``)."""
    found = plan_list(user=user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def plan_history(plan: TargetPlan) -> list[TargetPlan]:
    """Every version of the same department, year and metric, newest first."""
    return list(TargetPlan.objects.filter(unit_id=plan.unit_id, fiscal_year=plan.fiscal_year,
                                          metric=plan.metric)
                .select_related("created_by", "revision_of").order_by("-version"))


def plan_open_revision(plan: TargetPlan) -> TargetPlan | None:
    """A draft or submitted version of the same department, year and metric, if any."""
    return (TargetPlan.objects.filter(unit_id=plan.unit_id, fiscal_year=plan.fiscal_year,
                                      metric=plan.metric, status__in=OPEN_STATUSES)
            .exclude(pk=plan.pk).first())


# --- the plan's tree ------------------------------------------------------------------
@dataclass
class PlanTree:
    """The department's units and the people counted in a plan.

    ``units`` maps id → Unit for the department and everything under it (path order);
    ``child_units[u]`` and ``people[u]`` are a unit's children in display order;
    ``person_unit[e]`` is the unit a person is counted under in this plan.
    """

    plan: TargetPlan
    root: Unit
    units: dict[int, Unit]
    child_units: dict[int, list[Unit]]
    people: dict[int, list[Employee]]
    person_unit: dict[int, int]
    employees: dict[int, Employee]

    def has_unit(self, unit_id) -> bool:
        return unit_id in self.units

    def has_node(self, unit_id, employee_id=None) -> bool:
        if employee_id is None:
            return unit_id in self.units
        return self.person_unit.get(employee_id) == unit_id

    def ancestors(self, unit_id: int) -> list[int]:
        """Ids from the plan's department down to ``unit_id`` (inclusive)."""
        ids = self.units[unit_id].ancestor_ids()
        return ids[ids.index(self.root.pk):]

    def subtree(self, unit_id: int) -> list[int]:
        path = self.units[unit_id].path
        return [uid for uid, u in self.units.items() if u.path.startswith(path)]

    def nodes(self):
        """Every (unit id, employee id or None) of the tree: units first, in path order."""
        for uid in self.units:
            yield uid, None
        for uid in self.units:
            for person in self.people[uid]:
                yield uid, person.pk


def _unit_order(unit: Unit):
    return (unit.sort_order, unit.name, unit.pk)


def plan_nodes(plan: TargetPlan) -> PlanTree:
    """The plan's tree: the department's units and the people counted in it — everyone who
    has cells (under the cell's unit) and the current quota holders (active or on notice,
    with the sales or lead role) of its units who have none (under their current unit).
    Three queries, however big the department."""
    root = plan.unit
    units = {u.pk: u for u in Unit.objects.filter(path__startswith=root.path).order_by("path")}
    counted = dict(TargetCell.objects.filter(plan=plan, employee__isnull=False)
                   .order_by().values_list("employee_id", "unit_id").distinct())
    holders = Employee.objects.filter(
        unit__path__startswith=root.path,
        status__in=(EmployeeStatus.ACTIVE, EmployeeStatus.ON_NOTICE),
        roles__code__in=QUOTA_ROLES).values("pk")
    people = list(Employee.objects.filter(Q(pk__in=list(counted)) | Q(pk__in=holders))
                  .select_related("unit").order_by("number"))
    child_units: dict[int, list[Unit]] = {uid: [] for uid in units}
    for unit in units.values():
        if unit.pk != root.pk and unit.parent_id in child_units:
            child_units[unit.parent_id].append(unit)
    for children in child_units.values():
        children.sort(key=_unit_order)
    members: dict[int, list[Employee]] = {uid: [] for uid in units}
    person_unit: dict[int, int] = {}
    for person in people:
        uid = counted.get(person.pk, person.unit_id)
        if uid not in members:  # counted under a unit since moved out of the department
            continue
        members[uid].append(person)
        person_unit[person.pk] = uid
    return PlanTree(plan=plan, root=root, units=units, child_units=child_units,
                    people=members, person_unit=person_unit,
                    employees={p.pk: p for p in people})


# --- who sees and who sets which cell -----------------------------------------------------
@dataclass
class Viewer:
    """What one user may read and write in one plan, resolved once (no query per cell)."""

    everything: bool = False
    employee_id: int | None = None
    own_unit_id: int | None = None
    paths: tuple[str, ...] = ()
    whole_plan: bool = False  # the department's head or a director: sets any cell
    headed_paths: tuple[str, ...] = ()  # units the viewer heads (MANAGE_TEAM)

    def sees_unit(self, unit: Unit) -> bool:
        return (self.everything or unit.pk == self.own_unit_id
                or any(unit.path.startswith(p) for p in self.paths))

    def sees_person(self, employee: Employee, counted_unit: Unit | None) -> bool:
        if self.everything or employee.pk == self.employee_id:
            return True
        units = [employee.unit] + ([counted_unit] if counted_unit is not None else [])
        return any(u.path.startswith(p) for u in units for p in self.paths)

    def sets(self, unit: Unit, employee_id: int | None) -> bool:
        """May set the cell of this node (the plan being a draft is checked elsewhere)."""
        if self.whole_plan:
            return True
        if employee_id is not None:
            if employee_id == self.employee_id:
                return False  # nobody sets their own target
            return any(unit.path.startswith(p) for p in self.headed_paths)
        return any(unit.path.startswith(p) and unit.path != p for p in self.headed_paths)


def plan_viewer(plan: TargetPlan, user) -> Viewer:
    """Resolve ``user``'s rights on ``plan``; one query (the units they head)."""
    scope = scope_for(user, Domain.SALES)
    caps = capabilities_of(user)
    if scope.everything:
        return Viewer(everything=True, whole_plan=True)
    me = employee_of(user)
    if me is None or me.is_left:
        return Viewer()
    headed = tuple(Unit.objects.filter(head=me).values_list("path", flat=True))
    root = plan.unit.path
    whole = root in headed or (Capability.SEE_DEPARTMENT in caps
                               and any(root.startswith(p) for p in scope.unit_paths))
    manage = Capability.MANAGE_TEAM in caps
    return Viewer(employee_id=me.pk, own_unit_id=me.unit_id, paths=scope.unit_paths,
                  whole_plan=whole, headed_paths=headed if manage else ())


def can_manage_plan(plan_or_unit, user) -> bool:
    """May create, submit, revise and delete the department's plans: its head or a
    director (SEE_DEPARTMENT over it), or an administrator."""
    unit = plan_or_unit.unit if isinstance(plan_or_unit, TargetPlan) else plan_or_unit
    scope = scope_for(user, Domain.SALES)
    if scope.everything:
        return True
    me = employee_of(user)
    if me is None or me.is_left:
        return False
    if unit.head_id == me.pk:
        return True
    return (Capability.SEE_DEPARTMENT in capabilities_of(user)
            and any(unit.path.startswith(p) for p in scope.unit_paths))


# --- the grid a page shows ------------------------------------------------------------
@dataclass
class Pair:
    realistic: Decimal = ZERO
    stretch: Decimal = ZERO

    def __add__(self, other: Pair) -> Pair:
        return Pair(self.realistic + other.realistic, self.stretch + other.stretch)

    def __sub__(self, other: Pair) -> Pair:
        return Pair(self.realistic - other.realistic, self.stretch - other.stretch)

    def __bool__(self) -> bool:
        return bool(self.realistic) or bool(self.stretch)


@dataclass
class GridCell:
    """One row × one period. ``gap`` (years and quarters): the sum of its child periods
    minus the cell itself (zero when they add up)."""

    period: str
    kind: str  # year, quarter, month
    value: Pair
    gap: Pair | None = None

    @property
    def realistic(self) -> Decimal:
        return self.value.realistic

    @property
    def stretch(self) -> Decimal:
        return self.value.stretch


@dataclass
class GridRow:
    kind: str  # parent, unit, person
    unit: Unit
    employee: Employee | None
    cells: list[GridCell]
    editable: bool = False
    has_children: bool = False  # a unit with units or people under it (a page drills in)

    @property
    def label(self) -> str:
        return self.employee.name if self.employee is not None else self.unit.name

    @property
    def key(self) -> str:
        """``unit`` or ``unit:employee``: how a form names the row."""
        return f"{self.unit.pk}:{self.employee.pk}" if self.employee else str(self.unit.pk)

    def value(self, period: str) -> Pair:
        return next(c.value for c in self.cells if c.period == period)

    @property
    def periods_ok(self) -> bool:
        return not any(c.gap for c in self.cells if c.gap is not None)


@dataclass
class Grid:
    """The rows for one parent unit: the parent first, then its child units, then its
    people. ``children_sum`` per period is what all of its children add up to (including
    rows the viewer does not see); ``children_gap`` that sum minus the parent's value."""

    plan: TargetPlan
    unit: Unit
    periods: list[str]
    rows: list[GridRow]
    children_sum: list[GridCell]
    children_gap: list[GridCell]
    breadcrumbs: list[Unit] = field(default_factory=list)
    editable: bool = False

    @property
    def parent(self) -> GridRow:
        return self.rows[0]

    @property
    def children_ok(self) -> bool:
        return not any(c.value for c in self.children_gap)


def _cell_values(plan: TargetPlan, q: Q) -> dict[tuple[int, int | None, str], Pair]:
    return {(u, e, p): Pair(r, s) for u, e, p, r, s in
            TargetCell.objects.filter(q, plan=plan).order_by()
            .values_list("unit_id", "employee_id", "period", "realistic", "stretch")}


def _row_cells(values, unit_id, employee_id, periods) -> list[GridCell]:
    got = {p: values.get((unit_id, employee_id, p), Pair()) for p in periods}
    cells = []
    for period in periods:
        children = period_children(period)
        gap = None
        if children:
            total = Pair()
            for child in children:
                total = total + got[child]
            gap = total - got[period]
        cells.append(GridCell(period, period_kind(period), got[period], gap))
    return cells


def plan_grid(*, plan: TargetPlan, user, unit) -> Grid:
    """The grid of one parent unit of the plan (a Unit or its id). A unit outside the
    plan's department or outside the user's sight answers 404. Five queries."""
    tree = plan_nodes(plan)
    unit_id = getattr(unit, "pk", unit)
    try:
        parent = tree.units[int(unit_id)]
    except (KeyError, TypeError, ValueError) as exc:
        raise Http404 from exc
    viewer = plan_viewer(plan, user)
    if not viewer.sees_unit(parent):
        raise Http404
    children = tree.child_units[parent.pk]
    people = tree.people[parent.pk]
    values = _cell_values(plan, Q(employee__isnull=True, unit_id__in=[parent.pk]
                                  + [c.pk for c in children])
                          | Q(employee_id__in=[p.pk for p in people]))
    periods = year_periods(plan.fiscal_year)
    draft = plan.status == PlanStatus.DRAFT

    def row(kind, unit, employee=None, has_children=False):
        eid = employee.pk if employee is not None else None
        return GridRow(kind=kind, unit=unit, employee=employee,
                       cells=_row_cells(values, unit.pk, eid, periods),
                       editable=draft and viewer.sets(unit, eid), has_children=has_children)

    rows = [row("parent", parent)]
    total = {p: Pair() for p in periods}
    for child in children:
        child_row = row("unit", child, has_children=bool(tree.child_units[child.pk]
                                                         or tree.people[child.pk]))
        for cell in child_row.cells:
            total[cell.period] = total[cell.period] + cell.value
        if viewer.sees_unit(child):
            rows.append(child_row)
    for person in people:
        person_row = row("person", parent, person)
        for cell in person_row.cells:
            total[cell.period] = total[cell.period] + cell.value
        if viewer.sees_person(person, parent):
            rows.append(person_row)
    sums = [GridCell(p, period_kind(p), total[p]) for p in periods]
    gaps = [GridCell(p, period_kind(p), total[p] - rows[0].value(p)) for p in periods]
    crumbs = [tree.units[uid] for uid in tree.ancestors(parent.pk)]
    return Grid(plan=plan, unit=parent, periods=periods, rows=rows, children_sum=sums,
                children_gap=gaps, breadcrumbs=[u for u in crumbs if viewer.sees_unit(u)],
                editable=any(r.editable for r in rows))


def plan_person(*, plan: TargetPlan, user, employee_id) -> GridRow:
    """One person's row of the plan (their 17 periods), or 404: not counted in the plan,
    or not in the user's sight. Four queries."""
    tree = plan_nodes(plan)
    try:
        employee = tree.employees[int(employee_id)]
        unit = tree.units[tree.person_unit[employee.pk]]
    except (KeyError, TypeError, ValueError) as exc:
        raise Http404 from exc
    viewer = plan_viewer(plan, user)
    if not viewer.sees_person(employee, unit):
        raise Http404
    values = _cell_values(plan, Q(employee_id=employee.pk))
    return GridRow(kind="person", unit=unit, employee=employee,
                   cells=_row_cells(values, unit.pk, employee.pk,
                                    year_periods(plan.fiscal_year)),
                   editable=plan.status == PlanStatus.DRAFT and viewer.sets(unit, employee.pk))


# --- the sums (TGT-3) ------------------------------------------------------------------
@dataclass(frozen=True)
class Mismatch:
    """One place where a sum does not hold. ``kind`` ``periods``: the node's child periods
    (quarters of the year, months of a quarter) do not add up to ``period``; ``children``:
    the unit's child units and people do not add up to its cell. ``difference`` is
    ``sum - value``."""

    unit: Unit
    employee: Employee | None
    period: str
    kind: str
    field: str
    value: Decimal
    sum: Decimal
    difference: Decimal

    @property
    def label(self) -> str:
        return self.employee.name if self.employee is not None else self.unit.name


def plan_check(plan: TargetPlan, tree: PlanTree | None = None) -> list[Mismatch]:
    """Every sum of the plan that does not hold, exactly (Decimal), for realistic and
    stretch: periods within each node, children within each unit. Reads every cell once
    (four queries with the tree)."""
    tree = tree or plan_nodes(plan)
    values = _cell_values(plan, Q())
    periods = year_periods(plan.fiscal_year)
    parents = [str(plan.fiscal_year), *year_quarters(plan.fiscal_year)]
    zero = Pair()
    found: list[Mismatch] = []

    def note(unit_id, employee_id, period, kind, value: Pair, total: Pair):
        for name in ("realistic", "stretch"):
            v, s = getattr(value, name), getattr(total, name)
            if v != s:
                found.append(Mismatch(
                    unit=tree.units[unit_id],
                    employee=tree.employees.get(employee_id) if employee_id else None,
                    period=period, kind=kind, field=name, value=v, sum=s, difference=s - v))

    for unit_id, employee_id in tree.nodes():
        for period in parents:
            total = zero
            for child in period_children(period):
                total = total + values.get((unit_id, employee_id, child), zero)
            note(unit_id, employee_id, period, "periods",
                 values.get((unit_id, employee_id, period), zero), total)
    for unit_id in tree.units:
        kids = [(c.pk, None) for c in tree.child_units[unit_id]]
        kids += [(unit_id, p.pk) for p in tree.people[unit_id]]
        if not kids and not any((unit_id, None, p) in values for p in periods):
            continue
        for period in periods:
            total = zero
            for kid_unit, kid_employee in kids:
                total = total + values.get((kid_unit, kid_employee, period), zero)
            note(unit_id, None, period, "children", values.get((unit_id, None, period), zero),
                 total)
    return found
# === end of Plans (TGT-1..4) ============================================================


# === Tracking (TGT-5) and rankings (TGT-6) ===============================================
# Owned by the tracking pages and API (Engineer C). Figures come from bizdept.kpi.measures,
# the one implementation of each metric; targets from the approved plans' cells.
import datetime as _dt  # noqa: E402 - this section's own imports
from dataclasses import dataclass as _dataclass  # noqa: E402
from dataclasses import field as _field  # noqa: E402
from decimal import ROUND_HALF_UP as _HALF_UP  # noqa: E402
from decimal import Decimal as _Decimal  # noqa: E402

from django.db.models import Exists as _Exists  # noqa: E402
from django.db.models import OuterRef as _OuterRef  # noqa: E402
from django.db.models import Q as _Q  # noqa: E402
from django.db.models import Value as _Value  # noqa: E402
from django.http import Http404 as _Http404  # noqa: E402
from django.utils import timezone as _timezone  # noqa: E402
from django.utils.translation import gettext, gettext_lazy  # noqa: E402

from bizdept.core import calendar as _calendar  # noqa: E402
from bizdept.core.errors import DomainError as _DomainError  # noqa: E402
from bizdept.core.periods import month_of as _month_of  # noqa: E402
from bizdept.core.periods import period_bounds as _period_bounds  # noqa: E402
from bizdept.core.periods import quarter_of as _quarter_of  # noqa: E402
from bizdept.kpi.measures import MEASURES as _MEASURES  # noqa: E402
from bizdept.kpi.measures import Measure as _Measure  # noqa: E402
from bizdept.kpi.measures import achievement as _achievement  # noqa: E402
from bizdept.org.choices import EmployeeStatus as _EmployeeStatus  # noqa: E402
from bizdept.org.models import Employee as _Employee  # noqa: E402
from bizdept.org.models import Unit as _Unit  # noqa: E402
from bizdept.org.scope import employee_of as _employee_of  # noqa: E402
from bizdept.org.scope import scope_for as _scope_for  # noqa: E402

from .choices import Metric as _Metric  # noqa: E402
from .choices import PlanStatus as _PlanStatus  # noqa: E402
from .models import TargetCell as _TargetCell  # noqa: E402

# Pace: on track while the actual is within 5% of what the calendar expects by now
# (expected-by-now = realistic target × elapsed working days ÷ working days of the period);
# ahead above that band, behind below it (for expenses, lower is better: the other way).
PACE_TOLERANCE = _Decimal("0.05")
PACE_AHEAD, PACE_ON_TRACK, PACE_BEHIND = "ahead", "on_track", "behind"
PACE_LABELS = {PACE_AHEAD: gettext_lazy("Ahead"), PACE_ON_TRACK: gettext_lazy("On track"),
               PACE_BEHIND: gettext_lazy("Behind")}
RANK_BY = ("achievement", "actual")
_CENT = _Decimal("0.01")


def tracking_measure(metric) -> _Measure:
    """The measure of a metric code, or a 400 naming ``metric``."""
    found = _MEASURES.get(str(metric or ""))
    if found is None:
        raise _DomainError(gettext("Choose one of the metrics."), field="metric",
                           code="invalid")
    return found


@_dataclass
class TrackingRow:
    """One unit or person of a tracking table, with every figure of TGT-5."""

    kind: str  # "unit" or "person"
    unit: _Unit
    employee: _Employee | TrackedPerson | None  # TrackedPerson in unit tables
    depth: int  # 0 for the table's top unit
    realistic: _Decimal
    stretch: _Decimal
    actual: _Decimal
    has_target: bool = False  # a cell of the plan in force sets this row's target
    achievement: _Decimal | None = None  # % of the realistic target
    achievement_stretch: _Decimal | None = None  # % of the stretch target
    gap: _Decimal | None = None  # still missing (expenses: over the budget); < 0: beyond
    expected: _Decimal | None = None  # expected by now (by the working calendar)
    pace: str | None = None  # ahead / on_track / behind; None without a target
    forecast: _Decimal | None = None  # run-rate forecast for the period's end
    daily_needed: _Decimal | None = None  # per remaining working day (expenses: allowed)
    explain_url: str = ""
    parent_id: int | None = None  # the unit row this row sits under
    left: bool = False  # the person has left (shown for their cell in the plan)

    @property
    def id(self) -> int:
        return self.employee.pk if self.employee is not None else self.unit.pk

    @property
    def name(self) -> str:
        return self.employee.name if self.employee is not None else self.unit.name

    @property
    def behind(self) -> bool:
        return self.pace == PACE_BEHIND

    @property
    def pace_label(self) -> str:
        return str(PACE_LABELS[self.pace]) if self.pace else ""

    @property
    def bar(self) -> int:
        """Achievement for a progress bar, 0–100."""
        if self.achievement is None:
            return 0
        return max(0, min(100, int(self.achievement)))


@_dataclass
class TrackingReport:
    metric: str
    measure: _Measure
    period: str
    since: _dt.date
    until: _dt.date
    as_of: _dt.date
    unit: _Unit | None  # the top unit shown; None: the user alone
    working_days: int
    elapsed_days: int
    rows: list[TrackingRow] = _field(default_factory=list)

    @property
    def remaining_days(self) -> int:
        return self.working_days - self.elapsed_days

    @property
    def total(self) -> TrackingRow | None:
        return self.rows[0] if self.rows else None

    @property
    def people(self) -> list[TrackingRow]:
        return [r for r in self.rows if r.kind == "person"]

    @property
    def has_plan(self) -> bool:
        return any(r.has_target for r in self.rows)


def _q(value: _Decimal) -> _Decimal:
    return value.quantize(_CENT, rounding=_HALF_UP)


def apply_figures(row: TrackingRow, measure: _Measure, total_days: int, elapsed: int) -> None:
    """Achievement, gap, expected by now, pace, forecast and daily amount still needed of
    one row, from its target, its actual and the working calendar of the period."""
    better_high = measure.higher_is_better
    realistic, actual = row.realistic, row.actual
    remaining = total_days - elapsed
    row.achievement = _achievement(actual, realistic)
    row.achievement_stretch = _achievement(actual, row.stretch)
    row.gap = (realistic - actual) if better_high else (actual - realistic)
    row.forecast = _q(actual * total_days / elapsed) if elapsed else None
    if total_days and realistic:
        expected = realistic * elapsed / total_days
        row.expected = _q(expected)
        if elapsed == 0:
            row.pace = PACE_ON_TRACK
        else:
            low, high = expected * (1 - PACE_TOLERANCE), expected * (1 + PACE_TOLERANCE)
            if actual > high:
                row.pace = PACE_AHEAD if better_high else PACE_BEHIND
            elif actual < low:
                row.pace = PACE_BEHIND if better_high else PACE_AHEAD
            else:
                row.pace = PACE_ON_TRACK
    # What is still needed (expenses: still allowed) per remaining working day.
    left = realistic - actual
    row.daily_needed = _q(left / remaining) if remaining > 0 and left > 0 else None


def _resolve_root(user, scope, unit) -> _Unit | None:
    """The top unit of the table: the one asked for (404 when outside the scope) or the
    user's widest visible unit; None when the user sees only themselves."""
    if unit not in (None, ""):
        found = unit if isinstance(unit, _Unit) else _Unit.objects.filter(pk=unit).first()
        if found is None:
            raise _Http404
        if not (scope.everything or any(found.path.startswith(p) for p in scope.unit_paths)):
            raise _Http404
        return found
    if scope.everything:
        return _Unit.objects.filter(parent__isnull=True).order_by("path").first()
    if scope.unit_paths:
        return _Unit.objects.filter(path=scope.unit_paths[0]).first()
    return None


def _cells(*, metric: str, period: str, year: int, root: _Unit | None, me) -> list:
    """The target cells of the approved plans for ``period`` that the table can use: the
    plans of the departments above or under the top unit (one query)."""
    rows = _TargetCell.objects.filter(plan__status=_PlanStatus.APPROVED,
                                      plan__metric=metric, plan__fiscal_year=year,
                                      period=period)
    if root is None:
        rows = rows.filter(employee=me)
    else:
        rows = rows.filter(_Q(plan__unit_id__in=root.ancestor_ids())
                           | _Q(plan__unit__path__startswith=root.path))
    return list(rows.order_by("plan_id", "pk").values_list("unit_id", "employee_id",
                                                          "realistic", "stretch"))


@_dataclass(frozen=True)
class _Cell:
    unit_id: int
    employee_id: int | None
    realistic: _Decimal
    stretch: _Decimal


# What a tracking row shows of a person (fewer columns, faster for thousands of them).
_PERSON_FIELDS = ("id", "number", "name", "unit_id", "status")


@_dataclass(frozen=True)
class TrackedPerson:
    """A person as a tracking row needs them: read as plain values, since building 2,000
    model instances per metric cost more than the figures' own queries."""

    pk: int
    number: str
    name: str
    unit_id: int
    status: str
    quota: bool = True

    @property
    def id(self) -> int:
        return self.pk

    def __str__(self):
        return self.name


def _people(queryset, quota) -> list[TrackedPerson]:
    return [TrackedPerson(*values) for values in
            queryset.annotate(quota=quota).values_list(*_PERSON_FIELDS, "quota")]


def tracking(*, user, metric, period: str, unit=None, as_of: _dt.date | None = None,
             depth: int | None = None) -> TrackingReport:
    """TGT-5: targets, actuals and pace for every unit and person of a subtree.

    ``unit`` is the top unit (default: the widest the user sees; a salesperson sees only
    themselves). Who is shown and how a unit adds up:

    * the people are those the plan counts under the units shown (whoever has a cell
      there: someone who moved or left keeps the unit the plan counts them in), the
      current quota holders of those units (sales and lead roles, as in ``plan_nodes``)
      and any other current member with a figure in the period (a head who signed a
      contract); each appears once, under their cell's unit when it is shown, else under
      their current unit;
    * a person's actual is the measure's figure for them; a unit's actual is the sum of
      the actuals of everyone shown under it (its own people and its sub-units), so the
      table always adds up;
    * a unit's target is its cell in the plan in force (the approved plan of the
      department for the metric and year); without one, the sum of the targets under it.

    Scope: the measure's records' scope (money metrics follow the money scope, so finance
    sees them department-wide; customers and visits the sales scope). ``depth`` keeps
    only the rows that many levels below the top unit (1: the top unit and its direct
    sub-units and people); the figures are the same, rows below are only not built.
    Queries: the scope's,
    the top unit (0–1), the units and their members (2), the cells (1), those the plan
    counts here who have left or moved out of the subtree (0–1), the actuals (1), the
    calendar (1) — whatever the number of people."""
    measure = tracking_measure(metric)
    since, until = _period_bounds(period, "period", years=True)
    period = str(period).strip()
    as_of = as_of or _timezone.localdate()
    scope = _scope_for(user, measure.domain)
    me = _employee_of(user)
    if scope.nothing or (me is None and not scope.everything):
        raise _Http404
    root = _resolve_root(user, scope, unit)
    if root is None and me is None:
        raise _Http404

    # --- the tree and the people ----------------------------------------------------
    if root is not None:
        units = {u.pk: u for u in _Unit.objects.filter(path__startswith=root.path)
                 .order_by("path")}
        members = _people(_Employee.objects.filter(unit__path__startswith=root.path)
                          .exclude(status=_EmployeeStatus.LEFT).order_by("number"),
                          _Exists(_Employee.roles.through.objects.filter(
                              employee_id=_OuterRef("pk"), role__code__in=QUOTA_ROLES)))
    else:
        units = {me.unit_id: me.unit}
        members = [me]
    unit_cells: dict[int, _Cell] = {}
    person_cells: dict[int, _Cell] = {}
    for values in _cells(metric=measure.code, period=period, year=since.year, root=root,
                         me=me):
        cell = _Cell(*values)
        if cell.unit_id not in units:
            continue
        if cell.employee_id is None:
            unit_cells[cell.unit_id] = cell
        else:
            person_cells[cell.employee_id] = cell
    people: dict[int, _Employee] = {e.pk: e for e in members}
    elsewhere = [pk for pk in person_cells if pk not in people]
    if elsewhere:  # counted here by the plan, now elsewhere or gone: one more query
        people.update((e.pk, e) for e in _people(_Employee.objects.filter(pk__in=elsewhere),
                                                 _Value(True)))
    placed: dict[int, int] = {}
    for pk, person in people.items():
        cell = person_cells.get(pk)
        placed[pk] = cell.unit_id if cell is not None else person.unit_id
    people = {pk: p for pk, p in people.items() if placed[pk] in units}

    # --- actuals and calendar -------------------------------------------------------
    actuals = measure.per_person(since=since, until=until, employee_ids=list(people))
    if root is not None:
        # Shown: whoever has a cell, carries a quota (sales, lead: the plan's people) or
        # has a figure in the period (a head who signs a contract themselves).
        people = {pk: p for pk, p in people.items()
                  if pk in person_cells or getattr(p, "quota", True) or actuals.get(pk)}
    days = _calendar.working_days(since, until)
    elapsed = sum(1 for d in days if d <= min(as_of, until))

    report = TrackingReport(metric=measure.code, measure=measure, period=period,
                            since=since, until=until, as_of=as_of, unit=root,
                            working_days=len(days), elapsed_days=elapsed)
    zero = measure.zero

    def person_row(person, level, parent_id) -> TrackingRow:
        cell = person_cells.get(person.pk)
        row = TrackingRow(
            kind="person", unit=units[placed[person.pk]], employee=person, depth=level,
            realistic=cell.realistic if cell else zero, stretch=cell.stretch if cell else zero,
            actual=actuals.get(person.pk, zero), has_target=cell is not None,
            parent_id=parent_id, left=person.status == _EmployeeStatus.LEFT)
        if depth is None or level <= depth:  # deeper rows are only summed into their unit
            row.explain_url = measure.explain_url(since=since, until=until, employee=person)
            apply_figures(row, measure, len(days), elapsed)
        return row

    if root is None:
        report.rows = [person_row(me, 0, None)]
        return report

    children: dict[int | None, list[_Unit]] = {}
    for u in units.values():
        children.setdefault(u.parent_id if u.pk != root.pk else None, []).append(u)
    for kids in children.values():
        kids.sort(key=lambda u: (u.sort_order, u.name, u.pk))
    by_unit: dict[int, list[_Employee]] = {}
    for pk, person in people.items():
        by_unit.setdefault(placed[pk], []).append(person)
    for group in by_unit.values():
        group.sort(key=lambda p: (p.status == _EmployeeStatus.LEFT, p.number))

    def walk(u: _Unit, level: int, parent_id) -> TrackingRow:
        shown = depth is None or level <= depth
        row = TrackingRow(kind="unit", unit=u, employee=None, depth=level, realistic=zero,
                          stretch=zero, actual=zero, parent_id=parent_id,
                          explain_url=measure.explain_url(since=since, until=until, unit=u)
                          if shown else "")
        if shown:
            report.rows.append(row)
        below: list[TrackingRow] = []
        for person in by_unit.get(u.pk, []):
            below.append(person_row(person, level + 1, u.pk))
            if depth is None or level + 1 <= depth:
                report.rows.append(below[-1])
        for child in children.get(u.pk, []):
            below.append(walk(child, level + 1, u.pk))
        row.actual = sum((r.actual for r in below), zero)
        cell = unit_cells.get(u.pk)
        if cell is not None:
            row.realistic, row.stretch, row.has_target = cell.realistic, cell.stretch, True
        else:
            row.realistic = sum((r.realistic for r in below), zero)
            row.stretch = sum((r.stretch for r in below), zero)
            row.has_target = any(r.has_target for r in below)
        if shown:
            apply_figures(row, measure, len(days), elapsed)
        return row

    walk(root, 0, None)
    return report


def tracking_units(*, user, metric=_Metric.REVENUE) -> list[_Unit]:
    """Units whose tracking the user may open (for the unit picker), in tree order."""
    scope = _scope_for(user, tracking_measure(metric).domain)
    if scope.everything:
        return list(_Unit.objects.order_by("path"))
    if not scope.unit_paths:
        return []
    query = _Q(pk__in=[])
    for path in scope.unit_paths:
        query |= _Q(path__startswith=path)
    return list(_Unit.objects.filter(query).order_by("path"))


# --- my targets (RPT-1: what a salesperson sees) ------------------------------------------
@_dataclass
class MyTargetLine:
    metric: str
    measure: _Measure
    periods: dict[str, TrackingRow]  # period → the person's row

    @property
    def label(self):
        return self.measure.label


@_dataclass
class MyTargets:
    year: int
    as_of: _dt.date
    periods: list[str]  # the year, its current quarter, its current month
    lines: list[MyTargetLine]


def current_periods(year: int, as_of: _dt.date) -> list[str]:
    """The year, and the quarter and month of ``as_of`` within it (its first quarter and
    month before the year starts, its last after it ended)."""
    day = min(max(as_of, _dt.date(year, 1, 1)), _dt.date(year, 12, 31))
    return [str(year), _quarter_of(day), _month_of(day)]


def my_targets(*, user, year: int, as_of: _dt.date | None = None) -> MyTargets:
    """The user's own targets, actuals, pace and daily amount still needed for every
    metric, for the year and its current quarter and month. Queries: the cells (1), the
    calendar (1), one grouped aggregate per metric and period (18), whatever the data."""
    me = _employee_of(user)
    if me is None:
        raise _Http404
    if not isinstance(year, int) or not 2000 <= year <= 2999:
        raise _DomainError(gettext("Enter a year between 2000 and 2999."), field="year",
                           code="invalid")
    as_of = as_of or _timezone.localdate()
    periods = current_periods(year, as_of)
    cells = {(c.plan.metric, c.period): c for c in _TargetCell.objects.filter(
        employee=me, plan__status=_PlanStatus.APPROVED, plan__fiscal_year=year,
        period__in=periods).select_related("plan")}
    days = _calendar.working_days(_dt.date(year, 1, 1), _dt.date(year, 12, 31))
    lines = []
    for code, measure in _MEASURES.items():
        by_period = {}
        for period in periods:
            since, until = _period_bounds(period, years=True)
            span = [d for d in days if since <= d <= until]
            elapsed = sum(1 for d in span if d <= as_of)
            cell = cells.get((code, period))
            zero = measure.zero
            actual = measure.per_person(since=since, until=until,
                                        employee_ids=[me.pk]).get(me.pk, zero)
            row = TrackingRow(
                kind="person", unit=me.unit, employee=me, depth=0,
                realistic=cell.realistic if cell else zero,
                stretch=cell.stretch if cell else zero, actual=actual,
                has_target=cell is not None,
                explain_url=measure.explain_url(since=since, until=until, employee=me))
            apply_figures(row, measure, len(span), elapsed)
            by_period[period] = row
        lines.append(MyTargetLine(metric=code, measure=measure, periods=by_period))
    return MyTargets(year=year, as_of=as_of, periods=periods, lines=lines)


# --- rankings (TGT-6) ---------------------------------------------------------------------
@_dataclass
class RankRow:
    rank: int
    row: TrackingRow
    value: _Decimal | None  # what the ranking is by

    @property
    def behind(self) -> bool:
        return self.row.behind


def _ranked(rows: list[TrackingRow], by: str, higher_is_better: bool) -> list[RankRow]:
    def value(r: TrackingRow):
        return r.achievement if by == "achievement" else r.actual

    # Achievement of a budget (expenses): less used ranks first, as does a lower actual.
    sign = -1 if higher_is_better else 1
    ordered = sorted(rows, key=lambda r: (value(r) is None, sign * (value(r) or 0),
                                          r.name, r.id))
    out: list[RankRow] = []
    for n, r in enumerate(ordered, start=1):
        rank = out[-1].rank if out and out[-1].value == value(r) else n
        out.append(RankRow(rank=rank, row=r, value=value(r)))
    return out


@_dataclass
class Ranking:
    report: TrackingReport
    by: str
    people: list[RankRow]
    units: list[RankRow]  # the top unit's direct sub-units


def ranking(*, user, metric, period: str, unit=None, by: str = "achievement",
            as_of: _dt.date | None = None) -> Ranking:
    """TGT-6: the people within a visible unit (and its direct sub-units) ranked by
    achievement of the realistic target (those without a target last) or by the actual;
    ties share a rank (1, 1, 3). ``behind`` marks whoever is behind pace. For expenses
    lower is better. The queries of ``tracking``."""
    if by not in RANK_BY:
        raise _DomainError(gettext("Rank by achievement or by actual."), field="by",
                           code="invalid")
    report = tracking(user=user, metric=metric, period=period, unit=unit, as_of=as_of)
    better = report.measure.higher_is_better
    top = report.unit.pk if report.unit is not None else None
    sub_units = [r for r in report.rows if r.kind == "unit" and r.parent_id == top
                 and top is not None]
    return Ranking(report=report, by=by, people=_ranked(report.people, by, better),
                   units=_ranked(sub_units, by, better))
# === end of Tracking (TGT-5) and rankings (TGT-6) ========================================
