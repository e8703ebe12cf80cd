"""Who approves each step (SAL-3): a pure function of the policy's steps, the requester's
place in the org tree and the document's amount.

* ``direct_head``: the head of the requester's unit; when the requester is that head, or
  the unit has none (vacant), the next head up.
* ``levels_up(N)``: the N-th distinct head above the requester (1 = the direct head);
  vacant units are passed over, as they are for the direct head.
* ``role(code)``: the nearest holder of the role at or above the requester (their own
  unit first, then each unit up; in a unit, its head before the others). For the line
  roles, rank counts: a requester who is a lead, manager or director already has the
  authority of every line role up to their own, so such a step resolves to them and is
  skipped (a manager's own 50,000 contract needs no lead). Nobody holding the role above
  the requester: the next head up. The members of a unit the requester heads are below
  them and are passed over, except the staff roles (finance, HR), who review the
  documents of the head of their own unit.
* ``employee``: the named employee (refused if they have left).

A step applies when the document's amount is above its ``min_amount`` (0: always). A
step that resolves to the requester, or to someone who already approves an earlier step,
is kept as skipped. A step for which nobody can be found refuses the submission, naming
the step.

``OrgView`` is what the function reads; ``org_view_for(requester)`` loads it in a fixed
number of queries (units with their heads, and the role holders when a step asks for a role).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import F
from django.utils.translation import gettext as _

from bizdept.core.errors import DomainError
from bizdept.org.choices import EmployeeStatus, RoleCode

from .choices import ApproverKind, SkipReason

# The line of authority, lowest first: an amount threshold names one of these roles.
LINE_RANK = {RoleCode.LEAD: 1, RoleCode.MANAGER: 2, RoleCode.DIRECTOR: 3}
# Roles that review beside the line, not under it: the director's own finance officer
# reviews the director's documents.
STAFF_ROLES = {RoleCode.FINANCE, RoleCode.HR}


@dataclass
class OrgView:
    """The requester's branch of the tree, nearest unit first."""

    requester: Any
    units: list[Any]  # requester's unit first, the root last; each has ``.head`` (or None)
    requester_roles: frozenset[str] = frozenset()
    # {unit id: {role code: [active holders, by employee number]}}
    holders: dict[int, dict[str, list[Any]]] = field(default_factory=dict)

    def heads_above(self) -> list[Any]:
        """Distinct active heads above the requester, nearest first."""
        seen: dict[int, Any] = {}
        for unit in self.units:
            head = unit.head
            if head is None or head.pk == self.requester.pk or _left(head):
                continue
            seen.setdefault(head.pk, head)
        return list(seen.values())


@dataclass
class RouteStep:
    step: Any
    approver: Any
    skip_reason: str = ""  # "" when the approver decides


def _left(employee) -> bool:
    return employee.status == EmployeeStatus.LEFT


def applies(step, amount: Decimal | None) -> bool:
    """A step with min_amount 0 always applies; another only above its amount."""
    if step.min_amount <= 0:
        return True
    return amount is not None and amount > step.min_amount


def approver_for(step, org: OrgView):
    """The approver of one step, or None when nobody can be found."""
    kind = step.approver_kind
    heads = org.heads_above()
    if kind == ApproverKind.DIRECT_HEAD:
        return heads[0] if heads else None
    if kind == ApproverKind.LEVELS_UP:
        levels = max(1, step.levels or 1)
        return heads[levels - 1] if len(heads) >= levels else None
    if kind == ApproverKind.ROLE:
        return _role_holder(step.role_code, org) or (heads[0] if heads else None)
    if kind == ApproverKind.EMPLOYEE:
        employee = step.employee
        return employee if employee is not None and not _left(employee) else None
    return None


def _role_holder(code: str, org: OrgView):
    wanted = LINE_RANK.get(code)
    if wanted is not None:
        own = max((LINE_RANK.get(c, 0) for c in org.requester_roles), default=0)
        if own >= wanted:
            return org.requester
    elif code in org.requester_roles:
        return org.requester
    for index, unit in enumerate(org.units):
        if (code not in STAFF_ROLES and index == 0 and unit.head is not None
                and unit.head.pk == org.requester.pk):
            # the members of the unit the requester heads are below them in the line; a
            # staff role (finance, HR) beside them still reviews their documents
            continue
        holders = [e for e in org.holders.get(unit.pk, {}).get(code, []) if not _left(e)]
        if not holders:
            continue
        head = unit.head
        if head is not None and any(e.pk == head.pk for e in holders):
            return head
        return holders[0]
    return None


def resolve_route(steps, *, org: OrgView, amount: Decimal | None) -> list[RouteStep]:
    """The route of a new request: one entry per applicable step, in order."""
    route: list[RouteStep] = []
    deciding: set[int] = set()
    for step in sorted(steps, key=lambda s: s.order):
        if not applies(step, amount):
            continue
        approver = approver_for(step, org)
        if approver is None:
            raise DomainError(
                _("Nobody can approve the step “%s” for you: the position is vacant and "
                  "there is no head above it. Ask an administrator to fix the org chart or "
                  "the approval policy.") % step.name,
                code="no_approver", field="__all__")
        if approver.pk == org.requester.pk:
            route.append(RouteStep(step, approver, SkipReason.REQUESTER))
        elif approver.pk in deciding:
            route.append(RouteStep(step, approver, SkipReason.DUPLICATE))
        else:
            deciding.add(approver.pk)
            route.append(RouteStep(step, approver))
    return route


def org_view_for(requester, steps=()) -> OrgView:
    """Load the requester's branch: one query for the units and their heads, one for the
    requester's roles, and one for the role holders when a step asks for a role."""
    from bizdept.org.models import Employee, Unit

    ids = requester.unit.ancestor_ids()
    by_id = Unit.objects.select_related("head").in_bulk(ids)
    units = [by_id[i] for i in reversed(ids) if i in by_id]
    roles = frozenset(requester.roles.values_list("code", flat=True))
    codes = {s.role_code for s in steps if s.approver_kind == ApproverKind.ROLE and s.role_code}
    holders: dict[int, dict[str, list[Any]]] = {}
    if codes:
        rows = (Employee.objects.filter(unit_id__in=ids, roles__code__in=codes)
                .exclude(status=EmployeeStatus.LEFT)
                .annotate(role_code=F("roles__code")).order_by("number"))
        for employee in rows:
            holders.setdefault(employee.unit_id, {}).setdefault(employee.role_code, []).append(
                employee)
    return OrgView(requester=requester, units=units, requester_roles=roles, holders=holders)
