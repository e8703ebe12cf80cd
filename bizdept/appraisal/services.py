"""Every write of the appraisal app (PER-2..5), one transaction each.

Scorecard templates (PER-2): HR (``MANAGE_ORG``) or a director (``SEE_DEPARTMENT``)
keeps them; anyone else is refused (``PermissionDenied``, 403). A template's items are
always written as a whole list (``items``: a list of dicts, see ``_item``), checked in
full before anything is written: weights totalling exactly 100, each item's shape, its
KPI code (one of ``bizdept.kpi.measures.MEASURES``, read at call time) and its rule
(``scoring.validate_rule``). Errors name the item: ``items[2].rule_params.steps[1].points``.

Audit: the template and its items have their history (django-simple-history); every
change raises the template's ``version``, and a write naming an older version is refused
(409) rather than overwriting someone else's change.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from bizdept.core.errors import Conflict, DomainError
from bizdept.core.services import audited_save
from bizdept.org.choices import Capability
from bizdept.org.models import Position
from bizdept.org.scope import capabilities_of

from . import scoring
from .choices import (
    CYCLE_FLOW,
    DEFAULT_GRADE_BANDS,
    GRADES,
    LIVE_STATUSES,
    CycleStatus,
    ImprovementStatus,
    ItemKind,
    PeriodKind,
    RuleKind,
    TargetSource,
)
from .models import (
    WEIGHT_TOTAL,
    Appraisal,
    AppraisalCycle,
    AppraisalLine,
    ImprovementItem,
    ScorecardItem,
    ScorecardTemplate,
)

MAX_ITEMS = 50
NAME_MAX = 100
NOTES_MAX = 2000
TARGET_MAX = Decimal("99999999999999.99")
ITEM_KEYS = frozenset({"kind", "kpi_code", "name", "weight", "target_source", "fixed_target",
                       "rule_kind", "rule_params"})
UPDATABLE = frozenset({"name", "position", "period_kind", "notes"})


def can_manage_templates(user) -> bool:
    caps = capabilities_of(user)
    return Capability.MANAGE_ORG in caps or Capability.SEE_DEPARTMENT in caps


def _require_manage(by) -> None:
    if not getattr(by, "is_active", False) or not can_manage_templates(by):
        raise PermissionDenied


def kpi_codes() -> dict:
    """The KPI measures an item may name, read now: the library grows (PER-1)."""
    from bizdept.kpi import measures

    return measures.KPIS


def plan_codes() -> dict:
    """The measures a target plan sets (an item may take its target from the plan)."""
    from bizdept.kpi import measures

    return measures.MEASURES


# --- validation -----------------------------------------------------------------------
def _name(raw, field: str) -> str:
    name = (raw or "").strip() if isinstance(raw, str) or raw is None else None
    if name is None:
        raise DomainError(_("Enter text."), field=field, code="invalid")
    if not name:
        raise DomainError(_("Enter a name."), field=field, code="required")
    if len(name) > NAME_MAX:
        raise DomainError(_("At most %s characters.") % NAME_MAX, field=field, code="too_long")
    return name


def _choice(raw, choices, field: str) -> str:
    if raw not in choices.values:
        raise DomainError(_("Choose one of: %s.") % ", ".join(choices.values), field=field,
                          code="invalid")
    return raw


def _decimal(raw, field: str, *, low: Decimal, high: Decimal) -> Decimal:
    if raw is None or raw == "" or isinstance(raw, bool):
        raise DomainError(_("Enter a number."), field=field, code="required")
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(
            repr(raw) if isinstance(raw, float) else str(raw).strip())
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise DomainError(_("Enter a number."), field=field, code="invalid") from exc
    if not value.is_finite():
        raise DomainError(_("Enter a number."), field=field, code="invalid")
    if not low <= value <= high:
        raise DomainError(_("Enter a number between %(low)s and %(high)s.")
                          % {"low": low, "high": high}, field=field, code="range")
    if value != value.quantize(scoring.CENT):
        raise DomainError(_("At most 2 decimals."), field=field, code="decimals")
    return value.quantize(scoring.CENT)


def _item(raw, i: int) -> ScorecardItem:
    """One item, checked (not saved): ``kind``, ``name``, ``weight`` (0.01–100),
    ``rule_kind`` and ``rule_params``; for a KPI item also ``kpi_code`` and
    ``target_source`` (with ``fixed_target`` when it is ``fixed``)."""
    here = f"items[{i}]"
    if not isinstance(raw, dict):
        raise DomainError(_("Send each item as an object."), field=here, code="invalid")
    unknown = sorted(str(k) for k in raw if k not in ITEM_KEYS)
    if unknown:
        raise DomainError(_("Unknown field(s): %s.") % ", ".join(unknown)[:200], field=here,
                          code="unknown")
    kind = _choice(raw.get("kind"), ItemKind, f"{here}.kind")
    weight = _decimal(raw.get("weight"), f"{here}.weight", low=scoring.CENT,
                      high=Decimal(WEIGHT_TOTAL))
    code = raw.get("kpi_code") or ""
    source = raw.get("target_source") or ""
    fixed = raw.get("fixed_target")
    if kind == ItemKind.MANUAL:
        name = _name(raw.get("name"), f"{here}.name")
        for key, given in (("kpi_code", code), ("target_source", source),
                           ("fixed_target", fixed)):
            if given not in ("", None):
                raise DomainError(_("A manual item is scored by the reviewer: it has no KPI "
                                    "and no target."), field=f"{here}.{key}", code="manual")
    else:
        measures = kpi_codes()
        if not isinstance(code, str) or code not in measures:
            raise DomainError(_("Choose a KPI: %s.") % ", ".join(sorted(measures)),
                              field=f"{here}.kpi_code", code="unknown")
        name = raw.get("name")
        name = (_name(name, f"{here}.name") if name not in (None, "")
                else str(measures[code].label)[:NAME_MAX])
        source = _choice(source, TargetSource, f"{here}.target_source")
        if source == TargetSource.PLAN and code not in plan_codes():
            raise DomainError(_("Target plans do not set this KPI; give a fixed target."),
                              field=f"{here}.target_source", code="not_planned")
        if source == TargetSource.FIXED:
            fixed = _decimal(fixed, f"{here}.fixed_target", low=Decimal(0), high=TARGET_MAX)
        elif fixed not in (None, ""):
            raise DomainError(_("A fixed target is only given when the target source is "
                                "fixed."), field=f"{here}.fixed_target", code="not_fixed")
        else:
            fixed = None
    rule_kind = _choice(raw.get("rule_kind"), RuleKind, f"{here}.rule_kind")
    params = scoring.validate_rule(rule_kind, raw.get("rule_params"),
                                   field=f"{here}.rule_params")
    return ScorecardItem(sort_order=i, kind=kind, kpi_code=code, name=name, weight=weight,
                         target_source=source, fixed_target=fixed, rule_kind=rule_kind,
                         rule_params=params)


def _items(raw) -> list[ScorecardItem]:
    if not isinstance(raw, (list, tuple)) or not raw:
        raise DomainError(_("Add at least one item."), field="items", code="required")
    if len(raw) > MAX_ITEMS:
        raise DomainError(_("At most %s items.") % MAX_ITEMS, field="items", code="too_many")
    items = [_item(entry, i) for i, entry in enumerate(raw)]
    total = sum((item.weight for item in items), Decimal(0))
    if total != WEIGHT_TOTAL:
        raise DomainError(_("The weights must total exactly 100; they total %s.") % total,
                          field="items", code="weights")
    return items


def _position(raw) -> Position:
    if not isinstance(raw, Position):
        raise DomainError(_("Choose a position."), field="position", code="required")
    return raw


def _notes(raw) -> str:
    if not isinstance(raw, str):
        raise DomainError(_("Enter text."), field="notes", code="invalid")
    if len(raw) > NOTES_MAX:
        raise DomainError(_("At most %s characters.") % NOTES_MAX, field="notes",
                          code="too_long")
    return raw.strip()


def _save(template: ScorecardTemplate, by) -> ScorecardTemplate:
    if ScorecardTemplate.objects.filter(position=template.position, name=template.name) \
            .exclude(pk=template.pk).exists():
        raise Conflict(_("This position already has a template with this name."),
                       field="name", code="exists")
    try:
        with transaction.atomic():
            return audited_save(template, by=by, validate_constraints=False)
    except IntegrityError as exc:  # created at the same moment by someone else
        raise Conflict(_("This position already has a template with this name."),
                       field="name", code="exists") from exc


def _write_items(template: ScorecardTemplate, items: list[ScorecardItem], by) -> None:
    template.items.all().delete()
    for item in items:
        item.template = template
    bulk_create_with_history(items, ScorecardItem, default_user=getattr(by, "user", by),
                             default_change_reason="items replaced")


# --- templates ------------------------------------------------------------------------
@transaction.atomic
def template_create(*, by, name, position, period_kind, items,
                    notes: str = "") -> ScorecardTemplate:
    """A new active template (version 1) with its items."""
    _require_manage(by)
    template = ScorecardTemplate(
        name=_name(name, "name"), position=_position(position),
        period_kind=_choice(period_kind, PeriodKind, "period_kind"), notes=_notes(notes))
    checked = _items(items)
    template._change_reason = "created"
    _save(template, by)
    _write_items(template, checked, by)
    return template


@transaction.atomic
def template_update(*, template: ScorecardTemplate, by, items=None, version=None,
                    **changes) -> ScorecardTemplate:
    """Change the template's fields (``name``, ``position``, ``period_kind``, ``notes``)
    and/or replace its items as a whole list. ``version``, when given, must be the one
    the change was made on (409 otherwise)."""
    _require_manage(by)
    unknown = sorted(set(changes) - UPDATABLE)
    if unknown:
        raise DomainError(_("Unknown field(s): %s.") % ", ".join(unknown), field=unknown[0],
                          code="unknown")
    template = ScorecardTemplate.objects.select_for_update().get(pk=template.pk)
    if version is not None and version != template.version:
        raise Conflict(_("Someone changed this template meanwhile (now version %s); reload "
                         "it and make your change again.") % template.version,
                       field="version", code="stale")
    if "name" in changes:
        template.name = _name(changes["name"], "name")
    if "position" in changes:
        template.position = _position(changes["position"])
    if "period_kind" in changes:
        template.period_kind = _choice(changes["period_kind"], PeriodKind, "period_kind")
    if "notes" in changes:
        template.notes = _notes(changes["notes"])
    checked = _items(items) if items is not None else None
    template.version += 1
    template._change_reason = "updated" + (f", {len(checked)} items" if checked else "")
    _save(template, by)
    if checked is not None:
        _write_items(template, checked, by)
    return template


@transaction.atomic
def template_deactivate(*, template: ScorecardTemplate, by) -> ScorecardTemplate:
    """No new cycle uses it; cycles already using it keep it (it is never deleted)."""
    _require_manage(by)
    template = ScorecardTemplate.objects.select_for_update().get(pk=template.pk)
    if template.is_active:
        template.is_active = False
        template.version += 1
        template._change_reason = "deactivated"
        _save(template, by)
    return template


# === Cycles (PER-3), results (PER-4) and bottom performers (PER-5) ======================
#
# A cycle appraises everyone of a department whose position has an active scorecard
# template of the cycle's kind. Its stages: open → self-assessment → manager review →
# calibration → in approval (the engine, ``appraisal.cycle``) → approved. Every figure a
# score comes from is kept on the appraisal's lines (target, actual, the measure's parts,
# points), so the appraisal explains itself and, once frozen, never moves again.
#
# Scoring: a KPI line's actual is the measure's value for the cycle's dates
# (``kpi.measures``), its target the person's realistic cell of the approved target plan
# for the cycle's period, or the template's fixed target; points = the item's rule. A
# manual line's mark (0–100, by the reviewer) is scored by its rule against 100. A KPI
# line without a value (nothing to measure, no target) is not applicable: the weights of
# the applicable lines are scaled up to 100. weighted = points × weight ÷ applicable
# weight (2 places, half up); total = Σ weighted, so the printed report adds up.

CYCLE_TYPE = "appraisal.cycle"
CYCLE_NAME_MAX = 100
REASON_MAX = 200
TEXT_MAX = 4000
MARK_MAX = Decimal(100)
DISTRIBUTION_MIN = 5  # units with fewer appraised people are exempt from the distribution
DISTRIBUTION_LEVELS = ("division", "team")
HUNDRED = Decimal(100)
HISTORY_REASON_MAX = 100  # simple_history's change-reason column
IMPROVEMENT_TEXT_MAX = 300  # ImprovementItem.action and .note


def _actor(by):
    from bizdept.org.choices import EmployeeStatus
    from bizdept.org.scope import employee_of

    me = employee_of(by)
    if me is None or me.status == EmployeeStatus.LEFT or not getattr(by, "is_active", False):
        raise PermissionDenied
    return me


def can_run_cycles(user) -> bool:
    """HR or a director opens, moves, submits and reopens cycles."""
    return bool(getattr(user, "is_active", False)) and can_manage_templates(user)


def _require_run(by):
    if not can_run_cycles(by):
        raise PermissionDenied
    return _actor(by)


def _heads_above(appraisal, me) -> bool:
    """``me`` heads a unit on the path from the top down to the appraised person's unit
    (and is not the person)."""
    if me is None or me.pk == appraisal.employee_id:
        return False
    from bizdept.org.models import Unit

    path = Unit.objects.filter(pk=appraisal.unit_id).values_list("path", flat=True).first()
    ids = [int(x) for x in (path or "").strip("/").split("/") if x]
    return Unit.objects.filter(pk__in=ids, head=me).exists()


def _sees_department(user) -> bool:
    return Capability.SEE_DEPARTMENT in capabilities_of(user)


def may_self_assess(appraisal, user) -> bool:
    from bizdept.org.scope import employee_of

    me = employee_of(user)
    return (me is not None and me.pk == appraisal.employee_id
            and appraisal.cycle.status == CycleStatus.SELF_ASSESSMENT)


def may_review(appraisal, user) -> bool:
    """The reviewer, a head above the person, or the director, in manager review."""
    from bizdept.org.scope import employee_of

    me = employee_of(user)
    if me is None or me.pk == appraisal.employee_id:
        return False
    if appraisal.cycle.status != CycleStatus.MANAGER_REVIEW:
        return False
    return (me.pk == appraisal.reviewer_id or _sees_department(user)
            or _heads_above(appraisal, me))


def may_calibrate(appraisal, user) -> bool:
    from bizdept.org.scope import employee_of

    me = employee_of(user)
    if me is None or me.pk == appraisal.employee_id:
        return False
    if appraisal.cycle.status != CycleStatus.CALIBRATION:
        return False
    return can_run_cycles(user) or _heads_above(appraisal, me)


def may_plan_improvement(appraisal, user) -> bool:
    """The reviewer (or a head above, or HR/the director) once the review is done."""
    from bizdept.org.scope import employee_of

    me = employee_of(user)
    if me is None or me.pk == appraisal.employee_id or appraisal.reviewed_at is None:
        return False
    return me.pk == appraisal.reviewer_id or can_run_cycles(user) or _heads_above(appraisal, me)


def may_interview(appraisal, user) -> bool:
    """The reviewer (or a head above the person) records the interview once the review
    is done."""
    from bizdept.org.scope import employee_of

    me = employee_of(user)
    if me is None or me.pk == appraisal.employee_id or appraisal.reviewed_at is None:
        return False
    return me.pk == appraisal.reviewer_id or _heads_above(appraisal, me)


def may_sign(appraisal, user) -> bool:
    """The employee and the reviewer each sign the recorded interview, once."""
    from bizdept.org.scope import employee_of

    me = employee_of(user)
    if me is None or appraisal.interview_on is None:
        return False
    if me.pk == appraisal.employee_id:
        return appraisal.employee_signed_at is None
    return me.pk == appraisal.reviewer_id and appraisal.reviewer_signed_at is None


# --- settings of a cycle --------------------------------------------------------------
def _cycle_period(kind, period) -> tuple[str, datetime.date, datetime.date]:
    from bizdept.core.periods import period_bounds

    text = (period or "").strip() if isinstance(period, str) else ""
    if kind == PeriodKind.QUARTERLY:
        if "-Q" not in text:
            raise DomainError(_("Enter a quarter such as 2026-Q3."), field="period",
                              code="invalid")
        since, until = period_bounds(text, "period")
    else:
        if not text.isdigit():
            raise DomainError(_("Enter a year such as 2026."), field="period", code="invalid")
        since, until = period_bounds(text, "period", years=True)
    return text, since, until


def _bands(raw) -> dict:
    """{"S": "90", "A": "80", "B": "70", "C": "60"}: each the lowest total of the grade,
    strictly falling from S to C (below C's band is D)."""
    if raw is None:
        raw = dict(DEFAULT_GRADE_BANDS)
    if not isinstance(raw, dict) or set(raw) != {"S", "A", "B", "C"}:
        raise DomainError(_("Give the lowest score of each of S, A, B and C."),
                          field="grade_bands", code="invalid")
    out, previous = {}, None
    for grade in ("S", "A", "B", "C"):
        value = _decimal(raw[grade], f"grade_bands.{grade}", low=Decimal(0),
                         high=scoring.POINTS_MAX)
        if previous is not None and value >= previous:
            raise DomainError(_("Each grade needs a lower score than the one above it."),
                              field=f"grade_bands.{grade}", code="order")
        out[grade], previous = str(value), value
    return out


def _distribution(raw) -> list:
    """Groups of grades, best first, each with a share in percent totalling 100; every
    grade in exactly one group. Empty: no forced distribution."""
    if raw in (None, "", []):
        return []
    if not isinstance(raw, list) or len(raw) < 2:
        raise DomainError(_("Give at least two groups of grades, or none."),
                          field="distribution", code="invalid")
    seen, out, total = [], [], Decimal(0)
    for i, group in enumerate(raw):
        here = f"distribution[{i}]"
        if not isinstance(group, dict) or set(group) - {"grades", "percent"}:
            raise DomainError(_("Send each group as {grades, percent}."), field=here,
                              code="invalid")
        grades = group.get("grades")
        if isinstance(grades, str):
            grades = list(grades)
        if (not isinstance(grades, list) or not grades
                or any(g not in GRADES for g in grades)):
            raise DomainError(_("Choose grades among S, A, B, C and D."),
                              field=f"{here}.grades", code="invalid")
        percent = _decimal(group.get("percent"), f"{here}.percent", low=Decimal(0),
                           high=HUNDRED)
        seen.extend(grades)
        total += percent
        out.append({"grades": sorted(grades, key=GRADES.index), "percent": str(percent)})
    if sorted(seen, key=GRADES.index) != list(GRADES) or len(seen) != len(GRADES):
        raise DomainError(_("Put every grade (S, A, B, C, D) in exactly one group."),
                          field="distribution", code="grades")
    order = [GRADES.index(g["grades"][0]) for g in out]
    if order != sorted(order):
        raise DomainError(_("List the groups from the best grades to the worst."),
                          field="distribution", code="order")
    if total != HUNDRED:
        raise DomainError(_("The shares must total 100; they total %s.") % total,
                          field="distribution", code="total")
    return out


def grade_for(total: Decimal | None, bands: dict) -> str:
    """The grade a total earns by the cycle's bands ("" without a total)."""
    if total is None:
        return ""
    for grade in ("S", "A", "B", "C"):
        if total >= Decimal(bands[grade]):
            return grade
    return "D"


def _department_of(me):
    from bizdept.org.choices import UnitKind
    from bizdept.org.models import Unit

    ids = me.unit.ancestor_ids()
    found = (Unit.objects.filter(pk__in=ids, kind=UnitKind.DEPARTMENT)
             .order_by("-depth").first())
    return found or Unit.objects.get(pk=ids[0])


# --- opening --------------------------------------------------------------------------
def _templates_by_position(kind) -> dict[int, ScorecardTemplate]:
    """The active template of each position for ``kind``; with several, the newest."""
    found = {}
    for template in (ScorecardTemplate.objects.filter(is_active=True, period_kind=kind)
                     .prefetch_related("items").order_by("created_at", "pk")):
        found[template.position_id] = template
    return found


def _unit_chain(units: dict, unit_id: int) -> list:
    """The unit and its ancestors, nearest first."""
    chain, unit = [], units.get(unit_id)
    while unit is not None:
        chain.append(unit)
        unit = units.get(unit.parent_id)
    return chain


@transaction.atomic
def cycle_open(*, by, kind, period, name="", grade_bands=None, distribution=None,
               distribution_level="division", bottom_percent=Decimal(10)) -> AppraisalCycle:
    """Open a cycle: one appraisal per active person of the department whose position has
    an active template of ``kind`` (its items copied as the lines), figures read."""
    from bizdept.org.choices import EmployeeStatus, UnitKind
    from bizdept.org.models import Employee, Unit

    me = _require_run(by)
    kind = _choice(kind, PeriodKind, "kind")
    period, since, until = _cycle_period(kind, period)
    name = (_name(name, "name") if name not in (None, "") else
            (_("%s quarterly appraisal") if kind == PeriodKind.QUARTERLY
             else _("%s annual appraisal")) % period)
    bands = _bands(grade_bands)
    groups = _distribution(distribution)
    if distribution_level not in DISTRIBUTION_LEVELS:
        raise DomainError(_("Choose division or team."), field="distribution_level",
                          code="invalid")
    bottom = _decimal(bottom_percent, "bottom_percent", low=Decimal(0), high=HUNDRED)
    department = _department_of(me)
    if AppraisalCycle.objects.filter(unit=department, kind=kind, period=period).exists():
        raise Conflict(_("There is already a cycle for %s.") % period, field="period",
                       code="exists")
    cycle = AppraisalCycle(name=name, kind=kind, period=period, since=since, until=until,
                           unit=department, grade_bands=bands, distribution=groups,
                           distribution_level=distribution_level, bottom_percent=bottom,
                           created_by=me)
    cycle._change_reason = "opened"
    try:
        with transaction.atomic():
            audited_save(cycle, by=by, validate_constraints=False)
    except IntegrityError as exc:
        raise Conflict(_("There is already a cycle for %s.") % period, field="period",
                       code="exists") from exc
    templates = _templates_by_position(kind)
    units = {u.pk: u for u in Unit.objects.filter(path__startswith=department.path)}
    people = (Employee.objects.filter(unit_id__in=units, position_id__in=templates,
                                      hire_date__lte=until)
              .exclude(status=EmployeeStatus.LEFT).order_by("pk"))
    appraisals, lines_of = [], []
    for person in people:
        chain = _unit_chain(units, person.unit_id)
        reviewer = next((u.head_id for u in chain
                         if u.head_id is not None and u.head_id != person.pk), None)
        division = next((u.pk for u in chain if u.kind == UnitKind.DIVISION), None)
        template = templates[person.position_id]
        appraisal = Appraisal(cycle=cycle, employee_id=person.pk, unit_id=person.unit_id,
                              division_id=division, reviewer_id=reviewer, template=template,
                              template_version=template.version)
        lines = []
        for item in template.items.all():
            line = AppraisalLine(
                appraisal=appraisal, sort_order=item.sort_order, kind=item.kind,
                kpi_code=item.kpi_code, name=item.name, weight=item.weight,
                target_source=item.target_source,
                target=item.fixed_target if item.target_source == TargetSource.FIXED else None,
                rule_kind=item.rule_kind, rule_params=item.rule_params)
            line.employee_id = person.pk
            lines.append(line)
        appraisals.append(appraisal)
        lines_of.append(lines)
    # Figures and results are worked out before anything is written: two INSERTs.
    _read_figures(cycle, [line for lines in lines_of for line in lines
                          if line.kind == ItemKind.KPI])
    _results(cycle, list(zip(appraisals, lines_of, strict=True)), save=False)
    Appraisal.objects.bulk_create(appraisals, batch_size=500)
    for appraisal, lines in zip(appraisals, lines_of, strict=True):
        for line in lines:
            line.appraisal = appraisal  # now that it has its id
    AppraisalLine.objects.bulk_create([line for lines in lines_of for line in lines],
                                      batch_size=1000)
    return cycle


# --- figures and results ----------------------------------------------------------------
def _text(value) -> str | None:
    return None if value is None else str(value)


_FIGURE_FIELDS = ("target", "actual", "inputs", "points")


def _figures(line) -> tuple:
    return tuple(getattr(line, name) for name in _FIGURE_FIELDS)


def _read_figures(cycle: AppraisalCycle, rows: list | None = None) -> None:
    """Every KPI line's target, actual, parts and points from the records, in a few
    queries per KPI for the whole cycle. ``rows``: lines not written yet (each with its
    ``employee_id``), worked out in memory; otherwise the cycle's own lines, of which
    only those whose figures moved are written, then the results."""
    from bizdept.kpi import measures
    from bizdept.targets.choices import PlanStatus
    from bizdept.targets.models import TargetCell

    stored = rows is None
    if stored:
        rows = list(AppraisalLine.objects.filter(appraisal__cycle=cycle, kind=ItemKind.KPI)
                    .annotate(employee_id=F("appraisal__employee_id")).order_by("pk"))
    before = {id(line): _figures(line) for line in rows} if stored else {}
    people = {line.employee_id for line in rows}
    values, parts = {}, {}
    for code in sorted({line.kpi_code for line in rows}):
        measure = measures.KPIS.get(code)
        if measure is None:
            continue
        if isinstance(measure, measures._Derived):
            found = measure.parts(since=cycle.since, until=cycle.until, employee_ids=people)
            parts[code] = found
            values[code] = {p: measure.combine(*row) for p, row in found.items()
                            if p is not None}
        else:
            values[code] = measure.per_person(since=cycle.since, until=cycle.until,
                                              employee_ids=people)
    planned = {line.kpi_code for line in rows if line.target_source == TargetSource.PLAN}
    targets = {}
    if planned:
        for metric, person, realistic in TargetCell.objects.filter(
                plan__status=PlanStatus.APPROVED, plan__unit=cycle.unit,
                plan__fiscal_year=cycle.since.year, plan__metric__in=planned,
                period=cycle.period, employee_id__in=people
        ).values_list("plan__metric", "employee_id", "realistic"):
            targets[(metric, person)] = realistic
    for line in rows:
        measure = measures.KPIS.get(line.kpi_code)
        person = line.employee_id
        if measure is None:
            line.actual = None
        elif isinstance(measure, measures._Derived):
            line.actual = values[line.kpi_code].get(person)
            found = parts[line.kpi_code].get(person)
            line.inputs = {"parts": [_text(x) for x in found]} if found else {}
        else:
            line.actual = values[line.kpi_code].get(person, measure.zero)
        if line.target_source == TargetSource.PLAN:
            line.target = targets.get((line.kpi_code, person))
        line.points = _points_of(line)
    cycle.computed_at = timezone.now()
    AppraisalCycle.objects.filter(pk=cycle.pk).update(computed_at=cycle.computed_at)
    if stored:
        moved = [line for line in rows if _figures(line) != before[id(line)]]
        AppraisalLine.objects.bulk_update(moved, list(_FIGURE_FIELDS), batch_size=1000)
        _results(cycle)


def _points_of(line: AppraisalLine) -> Decimal | None:
    """A line's points by its rule; None when it cannot be scored (no value, or a
    linear rule without a target)."""
    if line.actual is None:
        return None
    target = line.target
    if line.kind == ItemKind.MANUAL:
        target = MARK_MAX
    elif line.rule_kind == RuleKind.LINEAR and target is None:
        return None
    return scoring.score_rule(line.rule_kind, line.rule_params, value=line.actual,
                              target=target)


def _weigh(lines) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """Set each line's ``weighted``; answer (KPI part, manual part, total), None while a
    manual line has no mark yet."""
    applicable = sum((line.weight for line in lines if line.points is not None), Decimal(0))
    kpi = manual = Decimal(0)
    pending = any(line.kind == ItemKind.MANUAL and line.points is None for line in lines)
    for line in lines:
        if line.points is None or not applicable:
            line.weighted = None
            continue
        line.weighted = (line.points * line.weight / applicable).quantize(
            scoring.CENT, rounding=ROUND_HALF_UP)
        if line.kind == ItemKind.KPI:
            kpi += line.weighted
        else:
            manual += line.weighted
    if pending or not applicable:
        return None, None, None
    return kpi, manual, kpi + manual


_RESULT_FIELDS = ("kpi_score", "manual_score", "total_score", "score_grade", "grade",
                  "grade_reason", "rank_unit", "rank_division", "rank_department",
                  "is_bottom", "is_elimination_candidate")


def _result(appraisal) -> tuple:
    return tuple(getattr(appraisal, name) for name in _RESULT_FIELDS)


def _write_results(appraisals: list, before: dict) -> None:
    """Only the appraisals whose result moved (a stage move mostly moves none)."""
    moved = [a for a in appraisals if _result(a) != before[id(a)]]
    Appraisal.objects.bulk_update(moved, list(_RESULT_FIELDS), batch_size=500)


def _assign_ranks(members: list, field: str) -> None:
    """Rank by total, best first; equal totals share a rank (1, 1, 3)."""
    rank, previous = 0, None
    for i, a in enumerate(sorted(members, key=lambda a: -a.total_score), start=1):
        if a.total_score != previous:
            rank, previous = i, a.total_score
        setattr(a, field, rank)


def _results(cycle: AppraisalCycle, groups: list | None = None, *, save: bool = True) -> None:
    """Totals, grades, ranks (team, division, department), bottom performers and
    elimination candidates of the whole cycle, in a constant number of queries.
    ``groups``: [(appraisal, its lines)] in memory (a cycle being opened); otherwise the
    cycle's own, of which only what moved is written."""
    if groups is None:
        appraisals = list(Appraisal.objects.filter(cycle=cycle).order_by("pk"))
        lines: dict[int, list] = {a.pk: [] for a in appraisals}
        for line in AppraisalLine.objects.filter(appraisal__cycle=cycle).order_by(
                "appraisal_id", "sort_order"):
            lines[line.appraisal_id].append(line)
        groups = [(a, lines[a.pk]) for a in appraisals]
    before = {id(a): _result(a) for a, _ in groups}
    weighted_before = {id(line): line.weighted for _, lines in groups for line in lines}
    for appraisal, lines in groups:
        appraisal.kpi_score, appraisal.manual_score, appraisal.total_score = _weigh(lines)
        appraisal.score_grade = grade_for(appraisal.total_score, cycle.grade_bands)
        if appraisal.total_score is None:
            appraisal.grade, appraisal.grade_reason = "", ""
        elif not appraisal.grade_reason:  # not calibrated: the grade the score earns
            appraisal.grade = appraisal.score_grade
    _rank(cycle, [a for a, _ in groups])
    if save:
        AppraisalLine.objects.bulk_update(
            [line for _, lines in groups for line in lines
             if line.weighted != weighted_before[id(line)]], ["weighted"], batch_size=1000)
        _write_results([a for a, _ in groups], before)


def _rank(cycle: AppraisalCycle, appraisals: list[Appraisal]) -> None:
    scored = [a for a in appraisals if a.total_score is not None]
    groups = {"unit": {}, "division": {}, "department": {None: scored}}
    for a in scored:
        groups["unit"].setdefault(a.unit_id, []).append(a)
        groups["division"].setdefault(a.division_id, []).append(a)
    for a in appraisals:
        a.rank_unit = a.rank_division = a.rank_department = None
        a.is_bottom = a.is_elimination_candidate = False
    for level, field in (("unit", "rank_unit"), ("division", "rank_division"),
                         ("department", "rank_department")):
        for members in groups[level].values():
            _assign_ranks(members, field)
    level = "division" if cycle.distribution_level == "division" else "unit"
    share = Decimal(cycle.bottom_percent) / HUNDRED
    for members in groups[level].values():
        count = int((share * len(members)).to_integral_value(rounding=ROUND_CEILING))
        if count:
            cut = sorted(a.total_score for a in members)[count - 1]
            for a in members:
                if a.total_score <= cut:
                    a.is_bottom = True
    for a in scored:
        if a.grade == "D":
            a.is_bottom = True
    previous = (AppraisalCycle.objects.filter(unit=cycle.unit, kind=cycle.kind,
                                              status=CycleStatus.APPROVED,
                                              until__lt=cycle.since)
                .order_by("-until").first())
    if previous is not None:
        before = set(Appraisal.objects.filter(cycle=previous, is_bottom=True)
                     .values_list("employee_id", flat=True))
        for a in scored:
            a.is_elimination_candidate = a.is_bottom and a.employee_id in before


# --- stages -------------------------------------------------------------------------------
def _locked_cycle(cycle) -> AppraisalCycle:
    return AppraisalCycle.objects.select_for_update().get(pk=cycle.pk)


def _status_label(status) -> str:
    return str(CycleStatus(status).label)


def _require_status(cycle, *statuses) -> None:
    if cycle.status not in statuses:
        raise Conflict(_("Not possible while the cycle is at “%s”.")
                       % _status_label(cycle.status), field="status", code="stage")


def _save_cycle(cycle, by, reason: str) -> AppraisalCycle:
    cycle.version += 1
    cycle._change_reason = reason
    return audited_save(cycle, by=by, validate_constraints=False)


@transaction.atomic
def cycle_advance(*, cycle, by) -> AppraisalCycle:
    """The next stage: open → self-assessment → manager review → calibration. The figures
    are read again on the way; calibration starts only when every appraisal is reviewed
    and from then on the figures hold still."""
    _require_run(by)
    cycle = _locked_cycle(cycle)
    _require_status(cycle, *CYCLE_FLOW[:-1])
    following = CYCLE_FLOW[CYCLE_FLOW.index(cycle.status) + 1]
    if following == CycleStatus.CALIBRATION:
        waiting = Appraisal.objects.filter(cycle=cycle, reviewed_at__isnull=True).count()
        if waiting:
            raise DomainError(_("%d appraisals are not reviewed yet.") % waiting,
                              field="status", code="not_reviewed")
    _read_figures(cycle)
    cycle.status = following
    return _save_cycle(cycle, by, f"moved to {following}")


@transaction.atomic
def cycle_refresh(*, cycle, by) -> AppraisalCycle:
    """Read the figures again (before calibration: they follow the records until then)."""
    _require_run(by)
    cycle = _locked_cycle(cycle)
    _require_status(cycle, *LIVE_STATUSES)
    _read_figures(cycle)
    cycle.refresh_from_db()
    return cycle


def distribution_problems(cycle) -> list[str]:
    """What breaks the forced distribution, one sentence per unit and group."""
    from . import selectors

    problems = []
    for standing in selectors.distribution_standing(cycle):
        for group in standing.groups:
            if not group.ok:
                problems.append(
                    _("%(unit)s: %(count)d with %(grades)s, %(kind)s %(limit)d")
                    % {"unit": standing.unit.name, "count": group.count,
                       "grades": "/".join(group.grades),
                       "kind": _("at most") if group.kind == "max" else _("at least"),
                       "limit": group.limit})
    return problems


@transaction.atomic
def cycle_submit(*, cycle, by, comment: str = "") -> AppraisalCycle:
    """Calibration → in approval (``appraisal.cycle``), once every appraisal has its grade
    and every unit keeps the forced distribution."""
    from bizdept.approvals import services as approval_services

    _require_run(by)
    cycle = _locked_cycle(cycle)
    _require_status(cycle, CycleStatus.CALIBRATION)
    ungraded = Appraisal.objects.filter(cycle=cycle, grade="").count()
    if ungraded:
        raise DomainError(_("%d appraisals have no grade yet.") % ungraded, field="status",
                          code="ungraded")
    problems = distribution_problems(cycle)
    if problems:
        raise DomainError(_("The forced distribution is not kept: %s.")
                          % "; ".join(problems[:3]), field="distribution", code="distribution")
    cycle.status = CycleStatus.SUBMITTED
    cycle.submitted_at = timezone.now()
    _save_cycle(cycle, by, "submitted")
    approval_services.approval_submit(document=cycle, by=by, comment=comment,
                                      document_type=CYCLE_TYPE)
    cycle.refresh_from_db()
    return cycle


def cycle_title(cycle) -> str:
    return cycle.name


def cycle_approved(cycle) -> None:
    """The engine's callback: the results stand; nothing is read again from now on."""
    cycle = AppraisalCycle.objects.select_for_update().get(pk=cycle.pk)
    cycle.status = CycleStatus.APPROVED
    cycle.approved_at = timezone.now()
    cycle.version += 1
    cycle._change_reason = "approved"
    cycle.save()


def cycle_not_approved(cycle) -> None:
    """Returned, rejected or withdrawn: back to calibration."""
    cycle = AppraisalCycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.status == CycleStatus.SUBMITTED:
        cycle.status = CycleStatus.CALIBRATION
        cycle.submitted_at = None
        cycle.version += 1
        cycle._change_reason = "back to calibration"
        cycle.save()


def _reason(raw, field: str = "reason", *, required: bool = True,
            limit: int = REASON_MAX) -> str:
    text = (raw or "").strip() if isinstance(raw, str) or raw is None else None
    if text is None:
        raise DomainError(_("Enter text."), field=field, code="invalid")
    if required and not text:
        raise DomainError(_("Give the reason."), field=field, code="required")
    if len(text) > limit:
        raise DomainError(_("At most %s characters.") % limit, field=field,
                          code="too_long")
    return text


@transaction.atomic
def cycle_reopen(*, cycle, by, reason) -> AppraisalCycle:
    """An approved cycle back to calibration, with the reason kept in its history. The
    figures stay as approved (they are not read again)."""
    _require_run(by)
    reason = _reason(reason)
    cycle = _locked_cycle(cycle)
    _require_status(cycle, CycleStatus.APPROVED)
    cycle.status = CycleStatus.CALIBRATION
    cycle.reopen_reason = reason
    cycle.approved_at = cycle.submitted_at = None
    return _save_cycle(cycle, by, f"reopened: {reason}"[:HISTORY_REASON_MAX])


# --- one person's appraisal ---------------------------------------------------------------
def _locked_appraisal(appraisal) -> Appraisal:
    return (Appraisal.objects.select_for_update().select_related("cycle")
            .get(pk=appraisal.pk))


def _marks(raw, lines: list[AppraisalLine], *, complete: bool) -> dict[int, Decimal]:
    """{sort_order: mark 0–100} for the manual lines; ``complete``: every one given."""
    if not isinstance(raw, dict):
        raise DomainError(_("Send the points as {item order: points}."), field="points",
                          code="invalid")
    manual = {line.sort_order: line for line in lines if line.kind == ItemKind.MANUAL}
    out = {}
    for key, value in raw.items():
        try:
            order = int(key)
        except (TypeError, ValueError):
            order = None
        if order not in manual:
            raise DomainError(_("Only the manual items are scored by hand."),
                              field=f"points.{key}", code="unknown")
        out[order] = _decimal(value, f"points.{key}", low=Decimal(0), high=MARK_MAX)
    if complete:
        missing = sorted(set(manual) - set(out))
        if missing:
            raise DomainError(_("Score every manual item (%s).")
                              % ", ".join(manual[o].name for o in missing),
                              field=f"points.{missing[0]}", code="required")
    return out


def _text_field(raw, field: str) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise DomainError(_("Enter text."), field=field, code="invalid")
    if len(raw) > TEXT_MAX:
        raise DomainError(_("At most %s characters.") % TEXT_MAX, field=field,
                          code="too_long")
    return raw.strip()


def _rescore_one(appraisal: Appraisal) -> None:
    """This appraisal's points and total (ranks wait for calibration)."""
    lines = list(appraisal.lines.order_by("sort_order"))
    for line in lines:
        line.points = _points_of(line)
    appraisal.kpi_score, appraisal.manual_score, appraisal.total_score = _weigh(lines)
    appraisal.score_grade = grade_for(appraisal.total_score, appraisal.cycle.grade_bands)
    appraisal.grade = appraisal.score_grade
    AppraisalLine.objects.bulk_update(lines, ["points", "weighted"])


@transaction.atomic
def appraisal_self_assess(*, appraisal, by, points, comment="",
                          submit: bool = False) -> Appraisal:
    """The employee's own marks of the manual items and comment (kept beside the
    reviewer's; they do not count); ``submit`` hands it to the reviewer."""
    appraisal = _locked_appraisal(appraisal)
    if not may_self_assess(appraisal, by):
        if appraisal.cycle.status != CycleStatus.SELF_ASSESSMENT:
            _require_status(appraisal.cycle, CycleStatus.SELF_ASSESSMENT)
        raise PermissionDenied
    lines = list(appraisal.lines.order_by("sort_order"))
    marks = _marks(points, lines, complete=bool(submit))
    for line in lines:
        if line.sort_order in marks:
            line.self_points = marks[line.sort_order]
    AppraisalLine.objects.bulk_update(lines, ["self_points"])
    appraisal.self_comment = _text_field(comment, "comment")
    if submit:
        appraisal.self_submitted_at = timezone.now()
    appraisal._change_reason = "self-assessed" if submit else "self-assessment saved"
    audited_save(appraisal, by=by, validate_constraints=False)
    return appraisal


@transaction.atomic
def appraisal_review(*, appraisal, by, points, comment="") -> Appraisal:
    """The reviewer's marks of every manual item and comment; the total and the grade
    by score follow."""
    appraisal = _locked_appraisal(appraisal)
    if not may_review(appraisal, by):
        _require_status(appraisal.cycle, CycleStatus.MANAGER_REVIEW)
        raise PermissionDenied
    lines = list(appraisal.lines.order_by("sort_order"))
    marks = _marks(points, lines, complete=True)
    for line in lines:
        if line.sort_order in marks:
            line.actual = marks[line.sort_order]
    AppraisalLine.objects.bulk_update(lines, ["actual"])
    appraisal.review_comment = _text_field(comment, "comment")
    appraisal.reviewed_at = timezone.now()
    _rescore_one(appraisal)
    appraisal._change_reason = "reviewed"
    audited_save(appraisal, by=by, validate_constraints=False)
    return appraisal


@transaction.atomic
def appraisal_calibrate(*, appraisal, by, grade, reason="") -> Appraisal:
    """Set the final grade in calibration; a grade other than the one the score earns
    needs a reason. Ranks and flags of the cycle follow."""
    appraisal = _locked_appraisal(appraisal)
    if not may_calibrate(appraisal, by):
        _require_status(appraisal.cycle, CycleStatus.CALIBRATION)
        raise PermissionDenied
    if grade not in GRADES:
        raise DomainError(_("Choose one of S, A, B, C and D."), field="grade", code="invalid")
    if appraisal.total_score is None:
        raise DomainError(_("This appraisal has no score yet."), field="grade",
                          code="unscored")
    if grade == appraisal.score_grade:
        appraisal.grade, appraisal.grade_reason = grade, ""
    else:
        appraisal.grade, appraisal.grade_reason = grade, _reason(reason)
    appraisal._change_reason = f"calibrated to {grade}"
    audited_save(appraisal, by=by, validate_constraints=False)
    # A grade moves no total (no rank), only who is flagged: write those who changed.
    rows = list(Appraisal.objects.filter(cycle=appraisal.cycle).order_by("pk"))
    before = {id(a): _result(a) for a in rows}
    _rank(appraisal.cycle, rows)
    _write_results(rows, before)
    appraisal.refresh_from_db()
    return appraisal


@transaction.atomic
def appraisal_interview(*, appraisal, by, on, notes) -> Appraisal:
    """The review interview (绩效面谈): date and notes, by the reviewer once the review is
    done. Changing them asks both for their signature again."""
    from bizdept.org.scope import employee_of

    appraisal = _locked_appraisal(appraisal)
    me = employee_of(by)
    if me is None or me.pk == appraisal.employee_id or not (
            me.pk == appraisal.reviewer_id or _heads_above(appraisal, me)):
        raise PermissionDenied
    if not may_interview(appraisal, by):
        raise DomainError(_("The interview follows the review."), field="on",
                          code="not_reviewed")
    if not isinstance(on, datetime.date):
        raise DomainError(_("Enter a date."), field="on", code="required")
    if on > timezone.localdate():
        raise DomainError(_("The interview cannot be in the future."), field="on",
                          code="future")
    notes = _text_field(notes, "notes")
    if not notes:
        raise DomainError(_("Write down what was said."), field="notes", code="required")
    if (on, notes) != (appraisal.interview_on, appraisal.interview_notes):
        appraisal.interview_on, appraisal.interview_notes = on, notes
        appraisal.employee_signed_at = appraisal.reviewer_signed_at = None
        appraisal._change_reason = "interview recorded"
        audited_save(appraisal, by=by, validate_constraints=False)
    return appraisal


@transaction.atomic
def appraisal_sign(*, appraisal, by) -> Appraisal:
    """The employee or the reviewer signs the recorded interview."""
    from bizdept.org.scope import employee_of

    appraisal = _locked_appraisal(appraisal)
    me = employee_of(by)
    if me is None or me.pk not in (appraisal.employee_id, appraisal.reviewer_id):
        raise PermissionDenied
    if appraisal.interview_on is None:
        raise DomainError(_("There is no interview to sign yet."), field="interview_on",
                          code="no_interview")
    if not may_sign(appraisal, by):
        raise Conflict(_("You have already signed."), field="signature", code="signed")
    now = timezone.now()
    if me.pk == appraisal.employee_id:
        appraisal.employee_signed_at = now
    else:
        appraisal.reviewer_signed_at = now
    appraisal._change_reason = "interview signed"
    audited_save(appraisal, by=by, validate_constraints=False)
    return appraisal


@transaction.atomic
def improvement_add(*, appraisal, by, action, owner, due_on) -> ImprovementItem:
    """One action of the improvement plan (改进计划), with who owns it and by when."""
    from bizdept.org.models import Employee

    appraisal = _locked_appraisal(appraisal)
    if not may_plan_improvement(appraisal, by):
        raise PermissionDenied
    me = _actor(by)
    action = _reason(action, "action", limit=IMPROVEMENT_TEXT_MAX)
    if not isinstance(owner, Employee):
        raise DomainError(_("Choose who owns the action."), field="owner", code="required")
    if owner.pk not in (appraisal.employee_id, appraisal.reviewer_id, me.pk):
        raise DomainError(_("The action is owned by the employee or the reviewer."),
                          field="owner", code="invalid")
    if not isinstance(due_on, datetime.date):
        raise DomainError(_("Enter a date."), field="due_on", code="required")
    item = ImprovementItem(appraisal=appraisal, action=action, owner=owner, due_on=due_on,
                           created_by=me)
    item._change_reason = "added"
    return audited_save(item, by=by, validate_constraints=False)


@transaction.atomic
def improvement_update(*, item, by, status, note="") -> ImprovementItem:
    """Mark an action done or dropped (or open again), by its owner, the employee or the
    reviewer."""
    from bizdept.org.scope import employee_of

    item = (ImprovementItem.objects.select_for_update().select_related("appraisal")
            .get(pk=item.pk))
    me = employee_of(by)
    appraisal = item.appraisal
    if me is None or me.pk not in (item.owner_id, appraisal.employee_id,
                                   appraisal.reviewer_id):
        raise PermissionDenied
    item.status = _choice(status, ImprovementStatus, "status")
    item.note = _reason(note, "note", required=item.status == ImprovementStatus.DROPPED,
                        limit=IMPROVEMENT_TEXT_MAX)
    item.done_on = timezone.localdate() if item.status == ImprovementStatus.DONE else None
    item._change_reason = f"marked {item.status}"
    return audited_save(item, by=by, validate_constraints=False)
