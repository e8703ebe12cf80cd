"""ORG API: units (tree and detail) and employees (list, detail, me)."""

import datetime
from typing import Annotated, Literal

from django.http import Http404
from ninja import Field, Path, Query, Router, Schema
from ninja.pagination import paginate

from bizdept.core.api import ERRORS, Mapped, Paginated, filter_errors

from . import selectors
from .filters import EmployeeFilterSet
from .scope import employee_of

router = Router(tags=["org"])


# --- schemas -------------------------------------------------------------------------
class UnitRef(Schema):
    id: int
    name: str


class EmployeeRef(Schema):
    id: int
    number: str
    name: str


class UnitOut(Schema):
    id: int
    name: str
    kind: str
    parent_id: int | None
    depth: int
    head: EmployeeRef | None
    headcount: int


class UnitTreeOut(Schema):
    id: int
    name: str
    kind: str
    head: EmployeeRef | None
    headcount: int
    total_headcount: int
    children: list["UnitTreeOut"]


UnitTreeOut.model_rebuild()


class UnitDetailOut(UnitOut):
    path: list[UnitRef]
    children: list[UnitRef]


class PositionRef(Schema):
    id: int
    name: str


class PositionOut(PositionRef):
    responsibilities: str


class EmployeeOut(Schema):
    id: int
    number: str
    name: str
    unit: UnitRef
    position: PositionRef
    status: Literal["active", "on_notice", "left"]
    hire_date: datetime.date
    leave_date: datetime.date | None
    phone: str
    email: str


class EmployeeDetailOut(EmployeeOut):
    position: PositionOut
    mentor: EmployeeRef | None
    roles: list[str]


class EmployeeFilterIn(Schema):
    # NUL is declared invalid: PostgreSQL cannot store it and Django's form field refuses it.
    q: str | None = Field(None, max_length=100, pattern=r"^[^\x00]*$")
    unit: int | None = Field(None, ge=1, le=2**62)
    position: int | None = Field(None, ge=1, le=2**62)
    status: Literal["active", "on_notice", "left"] | None = None
    role: Literal["director", "manager", "lead", "sales", "finance", "hr", "admin"] | None = None
    ordering: Literal["number", "-number", "name", "-name", "hire_date", "-hire_date",
                      "unit", "-unit"] = "number"


# Path ids are validated by ninja (not by a Django path converter), so that "/units/x" or
# "/units/-1" answers 422 with the one error body instead of Django's HTML 404 page.
ObjectId = Annotated[int, Path(ge=1, le=2**62)]

_ORDERING = {"number": "number", "name": "name", "hire_date": "hire_date", "unit": "unit__path"}


def _unit_out(unit) -> dict:
    return {
        "id": unit.pk, "name": unit.name, "kind": unit.kind, "parent_id": unit.parent_id,
        "depth": unit.depth, "headcount": unit.headcount,
        "head": unit.head,
    }


def _tree_out(node) -> dict:
    unit = node.unit
    return {
        "id": unit.pk, "name": unit.name, "kind": unit.kind, "head": unit.head,
        "headcount": unit.headcount, "total_headcount": node.total_headcount,
        "children": [_tree_out(child) for child in node.children],
    }


def _position_ref(position) -> dict:
    return {"id": position.pk, "name": position.display_name}


def _employee_out(employee) -> dict:
    return {
        "id": employee.pk, "number": employee.number, "name": employee.name,
        "unit": employee.unit, "position": _position_ref(employee.position),
        "status": employee.status, "hire_date": employee.hire_date,
        "leave_date": employee.leave_date, "phone": employee.phone, "email": employee.email,
    }


def _employee_detail_out(employee) -> dict:
    position = employee.position
    return {**_employee_out(employee), "mentor": employee.mentor,
            "position": {**_position_ref(position),
                         "responsibilities": position.display_responsibilities},
            "roles": [role.code for role in employee.roles.all()]}


# --- units ---------------------------------------------------------------------------
@router.get("/units", response={200: list[UnitOut], **ERRORS}, summary="List units")
@paginate(Paginated)
def unit_list(request):
    return Mapped(selectors.unit_list(user=request.user), _unit_out)


@router.get("/units/tree", response={200: list[UnitTreeOut], **ERRORS}, summary="Org tree")
def unit_tree(request):
    return [_tree_out(node) for node in selectors.unit_tree(user=request.user)]


@router.get("/units/{unit_id}", response={200: UnitDetailOut, **ERRORS}, summary="One unit")
def unit_detail(request, unit_id: ObjectId):
    unit = selectors.unit_get(user=request.user, pk=unit_id)
    return {
        **_unit_out(unit),
        "path": selectors.unit_ancestors(unit),
        "children": list(unit.children.order_by("sort_order", "name")),
    }


# --- employees -----------------------------------------------------------------------
@router.get("/employees", response={200: list[EmployeeOut], **ERRORS}, summary="List employees")
@paginate(Paginated)
def employee_list(request, filters: Query[EmployeeFilterIn]):
    data = filters.dict(exclude_none=True)
    ordering = _ORDERING[data.pop("ordering").lstrip("-")]
    if filters.ordering.startswith("-"):
        ordering = "-" + ordering
    filterset = EmployeeFilterSet(data, queryset=selectors.employee_list(user=request.user))
    if not filterset.is_valid():
        raise filter_errors(filterset)
    return Mapped(filterset.qs.order_by(ordering, "pk"), _employee_out)


@router.get("/employees/me", response={200: EmployeeDetailOut, **ERRORS}, summary="Me")
def employee_me(request):
    me = employee_of(request.user)
    if me is None:
        raise Http404
    return _employee_detail_out(selectors.employee_get(user=request.user, pk=me.pk))


@router.get("/employees/{employee_id}", response={200: EmployeeDetailOut, **ERRORS},
            summary="One employee")
def employee_detail(request, employee_id: ObjectId):
    return _employee_detail_out(selectors.employee_get(user=request.user, pk=employee_id))

