"""ORG-4, the one scope rule: which employees' records the acting user may see.

Every page, API endpoint, export, search and report starts from here. A model that is
owned by an employee declares where its owner is and gets ``visible_to(user)``::

    class CustomerQuerySet(ScopedQuerySet):
        scope_owner_fields = ("owner", "collaborators")
        scope_domain = Domain.SALES

    Customer.objects.visible_to(request.user)

Resolving a user's scope costs the same few queries however deep the tree is: the
subtrees they may see are materialized-path prefixes of the (small) unit table, and a
scoped table is filtered on its indexed owner column:
``owner_id = me OR owner_id IN (employees of units whose path LIKE 'prefix%')``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db import models
from django.db.models import F, Q
from django.db.models.lookups import In
from django.http import Http404

from bizdept.core.models import employee_or_none

from .choices import ROLE_CAPABILITIES, Capability, UnitKind


class Domain(models.TextChoices):
    """Which kind of record is being read; finance and hr see theirs department-wide."""

    SALES = "sales"
    MONEY = "money"
    PEOPLE = "people"


_DOMAIN_CAPABILITY = {Domain.MONEY: Capability.SEE_MONEY, Domain.PEOPLE: Capability.SEE_PEOPLE}


@dataclass(frozen=True)
class Scope:
    """The resolved scope of one user for one domain."""

    everything: bool = False
    employee_id: int | None = None
    unit_paths: tuple[str, ...] = ()
    # Department-wide: most rows of any table are in scope. The owner filter is then
    # written so the database does not look rows up by owner (which collects every
    # matching row before it can sort a page: seconds for 200k customers) but walks the
    # list's own order and keeps what matches, stopping at the page's end.
    wide: bool = False

    @property
    def nothing(self) -> bool:
        return not self.everything and self.employee_id is None and not self.unit_paths

    def q(self, *owner_fields: str) -> Q:
        """Rows whose owner is in scope. ``owner_fields`` are paths to an Employee
        (``"owner"``, ``"collaborators"``); ``""`` means the row is the Employee itself."""
        if self.everything:
            return Q()
        members = self.members_subquery()
        parts = []
        for field in owner_fields or ("",):
            id_lookup = field or "pk"
            if self.employee_id is not None:
                parts.append(Q(**{id_lookup: self.employee_id}))
            if members is not None and self.wide:
                # "owner_id + 0" is the same test, but no index on the owner serves it.
                parts.append(Q(In(F(id_lookup) + 0, members)))
            elif members is not None:
                parts.append(Q(**{f"{id_lookup}__in": members}))
        if not parts:
            return Q(pk__in=[])
        return reduce(or_, parts)

    def members_subquery(self):
        """Ids of everyone in the visible subtrees, as a subquery (no query of its own).

        Filtering the owner column by ``IN (subquery)`` lets the database use the index on
        that column, whatever the table; the subtrees come from the small unit table.
        """
        if not self.unit_paths:
            return None
        from .models import Employee, Unit

        units = Unit.objects.filter(reduce(or_, (Q(path__startswith=p) for p in self.unit_paths)))
        return Employee.objects.filter(unit__in=units.values("pk")).order_by().values("pk")

    def covers(self, employee) -> bool:
        """The same rule for one Employee already in memory (no query when its unit is loaded)."""
        if self.everything:
            return True
        if employee.pk == self.employee_id:
            return True
        return any(employee.unit.path.startswith(path) for path in self.unit_paths)


def capabilities_of(user) -> frozenset[str]:
    """Capabilities the user's roles grant (ORG-3), cached on the user object."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_bizdept_capabilities", None)
    if cached is not None:
        return cached
    caps: set[str] = set()
    if user.is_superuser:
        caps |= ROLE_CAPABILITIES["admin"]
    employee = employee_of(user)
    if employee is not None and not employee.is_left:
        for code in employee.roles.values_list("code", flat=True):
            caps |= ROLE_CAPABILITIES.get(code, frozenset())
    user._bizdept_capabilities = frozenset(caps)
    return user._bizdept_capabilities


def employee_of(user):
    """The Employee behind a login, or None (a bare superuser, an anonymous visitor)."""
    return employee_or_none(user)


def scope_for(user, domain: str = Domain.SALES) -> Scope:
    """Resolve the scope of ``user`` for ``domain``; cached on the user object."""
    cache = getattr(user, "_bizdept_scopes", None)
    if cache is None:
        cache = {}
        if getattr(user, "is_authenticated", False):
            user._bizdept_scopes = cache
    if domain in cache:
        return cache[domain]
    cache[domain] = scope = _resolve(user, domain)
    return scope


def _resolve(user, domain: str) -> Scope:
    from .models import Unit

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope()
    caps = capabilities_of(user)
    if Capability.ADMINISTER in caps:
        return Scope(everything=True)
    employee = employee_of(user)
    if employee is None or employee.is_left:
        return Scope()
    paths = set(Unit.objects.filter(head=employee).values_list("path", flat=True))
    wide = Capability.SEE_DEPARTMENT in caps or _DOMAIN_CAPABILITY.get(domain) in caps
    if wide:
        paths.add(_department_path(employee.unit))
    return Scope(employee_id=employee.pk, unit_paths=_outermost(paths), wide=wide)


def _department_path(unit) -> str:
    """Path of the department the unit belongs to (its nearest department ancestor),
    or of the tree's root when there is none. One query."""
    from .models import Unit

    ids = unit.ancestor_ids()
    department = (
        Unit.objects.filter(pk__in=ids, kind=UnitKind.DEPARTMENT)
        .order_by("-depth").values_list("path", flat=True).first()
    )
    return department or f"/{ids[0]}/"


def _outermost(paths: set[str]) -> tuple[str, ...]:
    """Drop paths that lie inside another one: the filter stays as short as it can be."""
    kept: list[str] = []
    for path in sorted(paths, key=len):
        if not any(path.startswith(outer) for outer in kept):
            kept.append(path)
    return tuple(sorted(kept))


class ScopedQuerySet(models.QuerySet):
    """Base queryset for every employee-owned model: ``visible_to(user)`` in one line.

    ``scope_owner_fields`` name where the owning employees are: a foreign key
    (``"owner"``), a path through one (``"customer__owner"``) or a many-to-many on the
    model itself (``"collaborators"``, read through its join table, so rows never repeat
    and no DISTINCT is needed).
    """

    scope_owner_fields: tuple[str, ...] = ("owner",)
    scope_domain: str = Domain.SALES

    def visible_to(self, user):
        scope = scope_for(user, self.scope_domain)
        if scope.everything:
            return self.all()
        parts = [self._owner_q(scope, field) for field in self.scope_owner_fields]
        extra = self.also_visible(user)
        if extra is not None:
            parts.append(extra)
        return self.filter(reduce(or_, parts)) if parts else self.none()

    def also_visible(self, user) -> Q | None:
        """Rows visible beyond the owner rule (e.g. the public pool); None for none."""
        return None

    def _owner_q(self, scope: Scope, field: str) -> Q:
        if field and "__" not in field and self.model._meta.get_field(field).many_to_many:
            m2m = self.model._meta.get_field(field)
            through = m2m.remote_field.through
            source = m2m.m2m_field_name()          # column pointing at this model
            target = m2m.m2m_reverse_field_name()  # column pointing at the employee
            rows = through.objects.filter(scope.q(target)).values(source)
            return Q(pk__in=rows)
        return scope.q(field)

    def get_visible_or_404(self, user, **lookup):
        """One row the user may see, or 404 whether it is missing or out of scope."""
        try:
            return self.visible_to(user).get(**lookup)
        except (self.model.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc


def require_capability(user, capability: str) -> None:
    """Refuse (403) an action the user's roles do not grant. Reads of records outside the
    scope answer 404 before this is ever asked."""
    from django.core.exceptions import PermissionDenied

    if capability not in capabilities_of(user):
        raise PermissionDenied
