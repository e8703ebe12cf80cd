"""Every read of the org tree and its people. Each starts from the scope rule (ORG-4).

Units are the company's structure and every signed-in employee may see the tree, its
heads and headcounts (an org chart is public inside a company). Employee records —
hire dates, status, mentor, history — are people records and follow the scope rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q

from .choices import EmployeeStatus
from .models import Employee, Unit
from .scope import employee_of


def employee_list(*, user):
    return Employee.objects.visible_to(user).with_card()


def employee_get(*, user, pk) -> Employee:
    return (
        Employee.objects.with_card()
        .select_related("mentor", "user")
        .prefetch_related("roles")
        .get_visible_or_404(user, pk=pk)
    )


def unit_list(*, user):
    """All units with head and direct headcount, in tree order (path)."""
    return (
        Unit.objects.select_related("head", "parent")
        .annotate(headcount=Count("members", filter=~Q(members__status=EmployeeStatus.LEFT)))
        .order_by("path")
    )


def unit_get(*, user, pk) -> Unit:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(unit_list(user=user), pk=pk)


@dataclass
class TreeNode:
    unit: Unit
    children: list[TreeNode] = field(default_factory=list)

    @property
    def total_headcount(self) -> int:
        return self.unit.headcount + sum(child.total_headcount for child in self.children)


def unit_tree(*, user, root: Unit | None = None) -> list[TreeNode]:
    """The org chart as nested nodes, built from one query."""
    units = unit_list(user=user)
    if root is not None:
        units = units.filter(path__startswith=root.path)
    nodes = {u.pk: TreeNode(u) for u in units}
    roots = []
    for node in nodes.values():
        parent = nodes.get(node.unit.parent_id)
        (parent.children if parent else roots).append(node)
    for node in nodes.values():
        node.children.sort(key=lambda n: (n.unit.sort_order, n.unit.name))
    return roots


def unit_members(*, user, unit: Unit, subtree: bool = False):
    """Members of a unit (or its whole subtree) that the user may see."""
    members = employee_list(user=user).active()
    if subtree:
        return members.filter(unit__path__startswith=unit.path)
    return members.filter(unit=unit)


def unit_ancestors(unit: Unit) -> list[Unit]:
    """Root first, the unit itself last; one query (for breadcrumbs)."""
    ids = unit.ancestor_ids()
    by_id = Unit.objects.in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]


def heads_above(employee) -> list:
    """The heads of the employee's unit and of every unit above it, nearest first (those
    who may coach them on a joint visit). One query."""
    ids = employee.unit.ancestor_ids()
    units = Unit.objects.filter(pk__in=ids, head__isnull=False).select_related("head")
    heads = {}
    for unit in sorted(units, key=lambda u: -u.depth):
        if unit.head_id != employee.pk and unit.head.status != EmployeeStatus.LEFT:
            heads.setdefault(unit.head_id, unit.head)
    return list(heads.values())


def colleagues(*, user):
    """The public roster of one's own unit: name, position, phone of active members.

    This is what a team sees of itself on the home page; opening a colleague's record
    still goes through the scope rule.
    """
    me = employee_of(user)
    if me is None:
        return Employee.objects.none()
    return Employee.objects.with_card().active().filter(unit_id=me.unit_id).order_by("number")
