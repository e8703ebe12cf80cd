"""Every write to the org tree and its people (ORG-1..3). One transaction each."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from bizdept.core.errors import DomainError
from bizdept.core.services import audited_save

from .choices import EmployeeStatus
from .models import Employee, Position, Role, Unit


# --- units ---------------------------------------------------------------------------
@transaction.atomic
def unit_create(*, name: str, kind: str, parent: Unit | None, head: Employee | None = None,
                sort_order: int = 0, by=None) -> Unit:
    unit = Unit(name=name, kind=kind, parent=parent, head=head, sort_order=sort_order,
                path="/", depth=0 if parent is None else parent.depth + 1)
    audited_save(unit, by=by)
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    Unit.objects.filter(pk=unit.pk).update(path=unit.path)
    return unit


@transaction.atomic
def unit_update(*, unit: Unit, by=None, **fields) -> Unit:
    """Rename, re-kind, re-order or change the head. Moving is ``unit_move``."""
    allowed = {"name", "kind", "head", "sort_order"}
    unknown = set(fields) - allowed
    if unknown:
        raise DomainError(_("These fields cannot be changed here: %s") % ", ".join(sorted(unknown)))
    for key, value in fields.items():
        setattr(unit, key, value)
    return audited_save(unit, by=by)


@transaction.atomic
def unit_move(*, unit: Unit, new_parent: Unit, by=None) -> Unit:
    """Move a unit under ``new_parent``; its whole subtree moves with it (ORG-1)."""
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    new_parent = Unit.objects.get(pk=new_parent.pk)
    if new_parent.path.startswith(unit.path):
        raise DomainError(_("A unit cannot be moved under itself or one of its own units."),
                          field="parent", code="cycle")
    old_path, old_depth = unit.path, unit.depth
    new_path = f"{new_parent.path}{unit.pk}/"
    delta = new_parent.depth + 1 - old_depth
    unit.parent = new_parent
    audited_save(unit, by=by)
    # One statement re-roots the subtree: swap the old prefix for the new one.
    Unit.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + delta,
    )
    unit.refresh_from_db()
    return unit


# --- positions -----------------------------------------------------------------------
@transaction.atomic
def position_save(*, position: Position | None = None, by=None, **fields) -> Position:
    position = position or Position()
    for key, value in fields.items():
        setattr(position, key, value)
    return audited_save(position, by=by)


# --- employees -----------------------------------------------------------------------
@transaction.atomic
def employee_create(*, number: str, name: str, unit: Unit, position: Position,
                    hire_date: datetime.date, username: str, password: str | None = None,
                    password_hash: str | None = None,
                    roles: list[str] = (), mentor: Employee | None = None, phone: str = "",
                    email: str = "", language: str | None = None, by=None) -> Employee:
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise DomainError(_("The login name “%s” is taken.") % username, field="username",
                          code="username_taken")
    user = User(username=username, email=email)
    if language:
        user.language = language
    if password_hash:  # already hashed (imports, the demo: hashing is slow on purpose)
        user.password = password_hash
    elif password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    employee = Employee(user=user, number=number, name=name, unit=unit, position=position,
                        hire_date=hire_date, mentor=mentor, phone=phone, email=email)
    audited_save(employee, by=by)
    if roles:
        employee.roles.set(Role.objects.filter(code__in=roles))
    return employee


@transaction.atomic
def employee_update(*, employee: Employee, by=None, **fields) -> Employee:
    allowed = {"name", "unit", "position", "hire_date", "mentor", "phone", "email"}
    unknown = set(fields) - allowed
    if unknown:
        raise DomainError(_("These fields cannot be changed here: %s") % ", ".join(sorted(unknown)))
    if fields.get("mentor") is not None and fields["mentor"].pk == employee.pk:
        raise DomainError(_("An employee cannot be their own mentor."), field="mentor")
    for key, value in fields.items():
        setattr(employee, key, value)
    return audited_save(employee, by=by)


@transaction.atomic
def employee_set_roles(*, employee: Employee, roles: list[str], by=None) -> Employee:
    unknown = set(roles) - set(Role.objects.filter(code__in=roles).values_list("code", flat=True))
    if unknown:
        raise DomainError(_("Unknown role: %s") % ", ".join(sorted(unknown)), field="roles")
    employee._history_user = getattr(by, "user", by)
    employee.roles.set(Role.objects.filter(code__in=roles))
    return employee


@transaction.atomic
def employee_set_status(*, employee: Employee, status: str, by=None,
                        leave_date: datetime.date | None = None) -> Employee:
    """Active / on notice / left (ORG-2). Leaving closes the login the same moment."""
    if status not in EmployeeStatus.values:
        raise DomainError(_("Unknown status."), field="status")
    employee = Employee.objects.select_for_update().select_related("user").get(pk=employee.pk)
    employee.status = status
    if status == EmployeeStatus.LEFT:
        employee.leave_date = leave_date or timezone.localdate()
        employee.user.is_active = False
    else:
        employee.leave_date = None
        employee.user.is_active = True
    employee.user.save(update_fields=["is_active"])
    return audited_save(employee, by=by)


def ensure_roles() -> None:
    """The seven roles of ORG-3 exist (idempotent; migrations and the demo call it)."""
    from .choices import RoleCode

    existing = set(Role.objects.values_list("code", flat=True))
    Role.objects.bulk_create([Role(code=code) for code in RoleCode.values if code not in existing])
