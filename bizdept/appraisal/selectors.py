"""Every read of the appraisal app (PER-2..5), starting from the acting user.

Scorecard templates are the department's rules, not anyone's records: everyone working
in the department reads them (a salesperson sees how they will be appraised); a visitor
without an active employee record (or the administrator's capability) reads none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Prefetch, Q
from django.http import Http404

from bizdept.org.choices import Capability
from bizdept.org.models import Unit
from bizdept.org.scope import capabilities_of, employee_of

from .choices import GRADES
from .models import (
    Appraisal,
    AppraisalCycle,
    AppraisalLine,
    ImprovementItem,
    ScorecardItem,
    ScorecardTemplate,
)


def _may_read(user) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if Capability.ADMINISTER in capabilities_of(user):
        return True
    me = employee_of(user)
    return me is not None and not me.is_left


def template_list(*, user):
    """Templates the user may read (all of them, or none), with position and items:
    three queries for a page of any size (count, the page, its items)."""
    rows = ScorecardTemplate.objects.select_related("position").prefetch_related(
        Prefetch("items", queryset=ScorecardItem.objects.order_by("sort_order", "pk")))
    return rows if _may_read(user) else rows.none()


def template_detail(*, user, pk) -> ScorecardTemplate:
    """One template, or 404."""
    try:
        return template_list(user=user).get(pk=pk)
    except (ScorecardTemplate.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def template_find(*, user, pk) -> ScorecardTemplate:
    """The template a write acts on (no items loaded), or 404 when the user may not read
    it; whether they may change it is the service's question (403)."""
    rows = ScorecardTemplate.objects.all() if _may_read(user) else ScorecardTemplate.objects.none()
    try:
        return rows.get(pk=pk)
    except (ScorecardTemplate.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


# === Cycles and appraisals (PER-3..5) =====================================================
# Cycles are the department's calendar: everyone who reads templates reads them. An
# appraisal is a people record (ORG-4, people domain): the person, the heads above them,
# HR and the director see it.

def cycle_list(*, user):
    """The cycles of the user's department (an administrator: every department's)."""
    rows = AppraisalCycle.objects.select_related("unit", "created_by")
    if not _may_read(user):
        return rows.none()
    if Capability.ADMINISTER in capabilities_of(user):
        return rows
    me = employee_of(user)
    return rows.filter(unit_id__in=me.unit.ancestor_ids())


def cycle_detail(*, user, pk) -> AppraisalCycle:
    """One cycle, or 404."""
    try:
        return cycle_list(user=user).get(pk=pk)
    except (AppraisalCycle.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def appraisal_list(*, user, cycle=None):
    """The appraisals the user may see, with what a results table shows."""
    rows = (Appraisal.objects.visible_to(user)
            .select_related("cycle", "employee", "employee__position", "unit", "division",
                            "reviewer"))
    if cycle is not None:
        rows = rows.filter(cycle=cycle)
    return rows


def appraisal_detail(*, user, pk) -> Appraisal:
    """One appraisal with its lines and improvement plan, or 404 outside the scope."""
    rows = appraisal_list(user=user).select_related("template").prefetch_related(
        Prefetch("lines", queryset=AppraisalLine.objects.order_by("sort_order")),
        Prefetch("improvements",
                 queryset=ImprovementItem.objects.select_related("owner").order_by("due_on",
                                                                                  "pk")))
    try:
        return rows.get(pk=pk)
    except (Appraisal.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def my_appraisals(*, user):
    """The user's own appraisals, newest cycle first."""
    me = employee_of(user)
    if me is None:
        return Appraisal.objects.none()
    return (Appraisal.objects.filter(employee=me)
            .select_related("cycle", "employee", "unit", "division", "reviewer")
            .order_by("-cycle__since", "-cycle__kind", "-pk"))


def team_appraisals(*, user, cycle):
    """The appraisals of the people the user reviews or heads in ``cycle`` (not their
    own), with what is still to do: self-assessment, review, interview, signatures."""
    me = employee_of(user)
    if me is None:
        return Appraisal.objects.none()
    mine = Q(reviewer=me)
    for path in Unit.objects.filter(head=me).values_list("path", flat=True):
        mine |= Q(unit__path__startswith=path)
    return (appraisal_list(user=user, cycle=cycle).exclude(employee=me).filter(mine)
            .order_by("unit__path", "employee__name", "pk"))


PENDING_STEPS = ("self_assessment", "review", "interview", "employee_signature",
                 "reviewer_signature")


def pending_steps(appraisal) -> list[str]:
    """What is still to be done on an appraisal (``PENDING_STEPS``), in the order it is
    done: the one rule the team page and the dashboards show."""
    from .choices import CycleStatus

    status = appraisal.cycle.status
    steps = []
    if status == CycleStatus.SELF_ASSESSMENT and appraisal.self_submitted_at is None:
        steps.append("self_assessment")
    if appraisal.reviewed_at is None and status in (CycleStatus.SELF_ASSESSMENT,
                                                    CycleStatus.MANAGER_REVIEW):
        steps.append("review")
    if appraisal.reviewed_at is not None:
        if appraisal.interview_on is None:
            steps.append("interview")
        else:
            if appraisal.employee_signed_at is None:
                steps.append("employee_signature")
            if appraisal.reviewer_signed_at is None:
                steps.append("reviewer_signature")
    return steps


def line_explain_url(line, appraisal) -> str:
    """The records behind a KPI line's value ("" for a manual line)."""
    from bizdept.kpi import measures

    measure = measures.KPIS.get(line.kpi_code) if line.kpi_code else None
    if measure is None:
        return ""
    cycle = appraisal.cycle
    return measure.explain_url(since=cycle.since, until=cycle.until,
                               employee=appraisal.employee_id)


@dataclass
class GroupStanding:
    """Where a unit stands against one group of the forced distribution."""

    grades: list
    percent: Decimal
    count: int
    limit: int | None  # None: no limit (a middle group)
    kind: str  # "max" (the best group), "min" (the worst), "free"

    @property
    def ok(self) -> bool:
        if self.limit is None:
            return True
        return self.count <= self.limit if self.kind == "max" else self.count >= self.limit


@dataclass
class CalibrationUnit:
    unit: Any
    size: int
    grade_counts: dict
    groups: list = field(default_factory=list)
    appraisals: list = field(default_factory=list)
    exempt: bool = False  # fewer people than the distribution applies to

    @property
    def ok(self) -> bool:
        return all(group.ok for group in self.groups)


def _standing(cycle, unit, members: list) -> CalibrationUnit:
    from .services import DISTRIBUTION_MIN

    counts = {grade: 0 for grade in GRADES}
    for a in members:
        if a.grade in counts:
            counts[a.grade] += 1
    size = len(members)
    exempt = size < DISTRIBUTION_MIN
    groups = []
    last = len(cycle.distribution) - 1
    for i, group in enumerate(cycle.distribution):
        percent = Decimal(group["percent"])
        exact = percent * size / 100
        kind = "max" if i == 0 else "min" if i == last else "free"
        if exempt or kind == "free":
            limit = None
        elif kind == "max":  # the best grades: at most the share, rounded to nearest
            limit = int(exact.to_integral_value(rounding=ROUND_HALF_UP))
        else:  # the worst grades: at least the share, rounded down
            limit = int(exact.to_integral_value(rounding=ROUND_FLOOR))
        groups.append(GroupStanding(grades=group["grades"], percent=percent,
                                    count=sum(counts[g] for g in group["grades"]),
                                    limit=limit, kind=kind))
    members.sort(key=lambda a: (-(a.total_score or 0), a.employee.name, a.pk))
    return CalibrationUnit(unit=unit, size=size, grade_counts=counts, groups=groups,
                           appraisals=members, exempt=exempt)


def _distribution_units(cycle, rows) -> list[CalibrationUnit]:
    key = "division_id" if cycle.distribution_level == "division" else "unit_id"
    grouped: dict = {}
    for a in rows:
        grouped.setdefault(getattr(a, key), []).append(a)
    units = {u.pk: u for u in Unit.objects.filter(pk__in=[k for k in grouped if k])}
    out = [_standing(cycle, units.get(k), members) for k, members in grouped.items()]
    out.sort(key=lambda s: (s.unit is None, getattr(s.unit, "path", "")))
    return out


def distribution_standing(cycle) -> list[CalibrationUnit]:
    """Every distribution unit of the cycle (the services' check before approval)."""
    rows = list(Appraisal.objects.filter(cycle=cycle, total_score__isnull=False)
                .select_related("employee"))
    return _distribution_units(cycle, rows)


def calibration(*, user, cycle, unit=None) -> list[CalibrationUnit]:
    """The calibration view: per distribution unit the user sees, its people by total and
    where it stands against the forced distribution. A head sees the units under them;
    a unit only partly visible is shown with the people the user may see."""
    rows = appraisal_list(user=user, cycle=cycle).filter(total_score__isnull=False)
    if unit is not None:
        rows = rows.filter(unit__path__startswith=unit.path)
    return _distribution_units(cycle, list(rows))
