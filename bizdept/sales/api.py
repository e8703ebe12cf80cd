"""SAL API, one section per part of the app: products and their categories (SAL-1), the
contract number register (SAL-4).

Reads go through ``selectors`` (the catalogue is everyone's to read; contract numbers
start from the scope rule: out of scope or missing answers 404); writes go through
``services`` (a refusal is 403, a bad value 400 naming the field, a duplicate 409).
Amounts are decimals sent as a JSON number or as text ("1280.50") and answered as text,
so no binary fraction creeps in.
"""

import datetime
import re
from decimal import Decimal
from typing import Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from bizdept.core.api import (
    ERRORS,
    BodyId,
    BodyIn,
    Id,
    Mapped,
    ObjectId,
    Paginated,
    QueryBool,
    Text,
    filter_errors,
    json_int,
)
from bizdept.core.errors import DomainError
from bizdept.imports import services as imports
from bizdept.imports.api import ImportJobOut, job_out
from bizdept.imports.models import ImportMode
from bizdept.org.api import EmployeeRef
from bizdept.org.models import Employee

from . import selectors, services
from .choices import ContractNumberStatus
from .filters import ContractNumberFilterSet, ProductFilterSet
from .models import MONEY_MAX, ProductCategory
from .pricing import margin, margin_rate

router = Router(tags=["sales"])


# --- shared input types ------------------------------------------------------------------
_MONEY_TEXT = re.compile(r"\d{1,12}(\.\d{1,2})?")


def _money(value):
    if isinstance(value, str):
        if _MONEY_TEXT.fullmatch(value):
            return Decimal(value)
        raise PydanticCustomError("decimal_parsing", "Input should be an amount like 1280.50")
    if isinstance(value, float):
        return Decimal(repr(value))  # 0.1 is 0.1, not 0.1000000000000000055...
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value  # anything else is left to the (strict) type check, which refuses it


Money = Annotated[
    Decimal, BeforeValidator(_money), Field(ge=0, le=MONEY_MAX, allow_inf_nan=False),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0, "maximum": MONEY_MAX},
                              {"type": "string", "pattern": r"^\d{1,12}(\.\d{1,2})?$"}],
                    "description": "An amount ≥ 0 with at most 2 decimals, as a number or "
                                   "as text such as \"1280.50\"."}),
]


# === Products (SAL-1) ==================================================================
class CategoryRef(Schema):
    id: int
    name: str


class CategoryOut(Schema):
    id: int
    name: str
    parent: CategoryRef | None
    sort_order: int
    product_count: int


class ProductOut(Schema):
    id: int
    code: str
    name: str
    category: CategoryRef
    unit: str
    list_price: Decimal
    standard_cost: Decimal
    margin_rate: Decimal | None = Field(..., description="Gross margin, % of the list price.")
    is_active: bool


class ProductDetailOut(ProductOut):
    margin: Decimal = Field(..., description="List price − standard cost, per unit.")
    notes: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ProductFilterIn(Schema):
    q: Text(100) | None = Field(None, description="In the code or the name.")
    category: Id | None = Field(None, description="This category and those under it.")
    active: QueryBool | None = None
    ordering: Literal["code", "-code", "name", "-name", "list_price", "-list_price",
                      "standard_cost", "-standard_cost"] = "code"


class ProductIn(BodyIn):
    code: Text(40, 1)
    name: Text(200, 1)
    category: BodyId
    unit: Text(20, 1)
    list_price: Money
    standard_cost: Money
    notes: Text(2000) = ""
    is_active: bool = True


class ProductPatch(BodyIn):
    """Only the fields sent are changed; ``is_active: false`` deactivates (a product is
    never deleted)."""

    code: Text(40, 1) = None
    name: Text(200, 1) = None
    category: BodyId = None
    unit: Text(20, 1) = None
    list_price: Money = None
    standard_cost: Money = None
    notes: Text(2000) = None
    is_active: bool = None


def _product_out(product) -> dict:
    return {
        "id": product.pk, "code": product.code, "name": product.name,
        "category": product.category, "unit": product.unit,
        "list_price": product.list_price, "standard_cost": product.standard_cost,
        "margin_rate": margin_rate(product.list_price, product.standard_cost),
        "is_active": product.is_active,
    }


def _product_detail(product) -> dict:
    return {**_product_out(product), "margin": margin(product.list_price, product.standard_cost),
            "notes": product.notes, "created_at": product.created_at,
            "updated_at": product.updated_at}


def _category(pk: int | None) -> ProductCategory | None:
    if pk is None:
        return None
    found = ProductCategory.objects.filter(pk=pk).first()
    if found is None:
        raise DomainError(_("There is no category with this id."), field="category",
                          code="unknown")
    return found


@router.get("/products", response={200: list[ProductOut], **ERRORS}, summary="List products")
@paginate(Paginated)
def product_list(request, filters: Query[ProductFilterIn]):
    """The catalogue, for everyone signed in."""
    data = filters.dict(exclude_none=True)
    ordering = data.pop("ordering")
    filterset = ProductFilterSet(data, queryset=selectors.product_list(user=request.user),
                                 request=request)
    if not filterset.is_valid():
        raise filter_errors(filterset)
    direction = "-pk" if ordering.startswith("-") else "pk"
    return Mapped(filterset.qs.order_by(ordering, direction), _product_out)


@router.post("/products", response={201: ProductDetailOut, **ERRORS},
             summary="Create a product")
def product_create(request, payload: ProductIn):
    """For those who maintain the catalogue (director, administrator): others get 403."""
    data = payload.dict()
    data["category"] = _category(data["category"])
    product = services.product_create(by=request.user, **data)
    return Status(201, _product_detail(selectors.product_get(user=request.user, pk=product.pk)))


# Registered before /products/{product_id}, which would otherwise take "import" as an id.
@router.post("/products/import", response={202: ImportJobOut, **ERRORS},
             summary="Import products from an Excel file")
def product_import(request, file: File[UploadedFile] = None,
                   mode: Form[Literal[tuple(ImportMode.values)]] = "keep_valid"):
    """Upload an xlsx (the template of the products page, headers in Chinese or English).
    A code already in the catalogue updates that product; a new code creates one. The
    import runs in the background; follow it at ``GET /imports/{id}``. No file, an empty
    one, one over 50 MB or one that is not an xlsx: 400 naming ``file``."""
    job = imports.import_job_create(by=request.user, kind="products", upload=file, mode=mode,
                                    sheets=["products"])
    return Status(202, job_out(job))


@router.get("/products/{product_id}", response={200: ProductDetailOut, **ERRORS},
            summary="One product")
def product_detail(request, product_id: ObjectId):
    return _product_detail(selectors.product_get(user=request.user, pk=product_id))


@router.patch("/products/{product_id}", response={200: ProductDetailOut, **ERRORS},
              summary="Edit or deactivate a product")
def product_update(request, product_id: ObjectId, payload: ProductPatch):
    product = selectors.product_get(user=request.user, pk=product_id)
    data = payload.dict(exclude_unset=True)
    if "category" in data:
        data["category"] = _category(data["category"])
    return _product_detail(services.product_update(product=product, by=request.user, **data))


@router.get("/product-categories", response={200: list[CategoryOut], **ERRORS},
            summary="List product categories")
@paginate(Paginated)
def category_list(request):
    rows = selectors.category_list(user=request.user).order_by("sort_order", "name", "pk")
    return Mapped(rows, lambda c: {"id": c.pk, "name": c.name, "parent": c.parent,
                                   "sort_order": c.sort_order,
                                   "product_count": c.product_count})


# === Contract number register (SAL-4) ==================================================
StatusIn = Literal[tuple(ContractNumberStatus.values)]


class ContractNumberOut(Schema):
    id: int
    number: str
    year: int
    seq: int
    status: StatusIn
    issued_to: EmployeeRef
    issued_by: EmployeeRef
    issued_at: datetime.datetime
    contract_id: int | None
    used_at: datetime.datetime | None
    closed_by: EmployeeRef | None
    closed_at: datetime.datetime | None
    reason: str


class ContractNumberFilterIn(Schema):
    q: Text(100) | None = Field(None, description="In the number, the holder's name or the "
                                "reason.")
    year: Annotated[int, Field(ge=2000, le=9999)] | None = None
    status: StatusIn | None = None
    person: Id | None = Field(None, description="Employee id of whom numbers were issued to.")
    mine: QueryBool | None = Field(None, description="Only the numbers issued to me.")
    ordering: Literal["number", "-number", "issued_at", "-issued_at"] = "-number"


class IssueIn(BodyIn):
    to: BodyId | None = Field(None, description="Employee id; default: you. A head issues to "
                              "their unit, finance to the department.")
    count: Annotated[int, Field(ge=1, le=services.ISSUE_MAX), BeforeValidator(json_int)] = 1


class ReasonIn(BodyIn):
    reason: Text(200, 1)


def _number_out(number) -> dict:
    return {
        "id": number.pk, "number": number.number, "year": number.year, "seq": number.seq,
        "status": number.status, "issued_to": number.issued_to, "issued_by": number.issued_by,
        "issued_at": number.issued_at, "contract_id": number.contract_id,
        "used_at": number.used_at, "closed_by": number.closed_by,
        "closed_at": number.closed_at, "reason": number.reason,
    }


_NUMBER_ORDERING = {"number": ("year", "seq"), "issued_at": ("issued_at", "pk")}


@router.get("/contract-numbers", response={200: list[ContractNumberOut], **ERRORS},
            summary="The contract number register")
@paginate(Paginated)
def contract_number_list(request, filters: Query[ContractNumberFilterIn]):
    """Numbers in the money scope: one's own, a head's subtree, finance and the director
    the whole department."""
    data = filters.dict(exclude_none=True)
    ordering = data.pop("ordering")
    rows = (selectors.my_contract_numbers(user=request.user) if data.pop("mine", False)
            else selectors.contract_number_list(user=request.user))
    filterset = ContractNumberFilterSet(data, queryset=rows, request=request)
    if not filterset.is_valid():
        raise filter_errors(filterset)
    fields = _NUMBER_ORDERING[ordering.lstrip("-")]
    if ordering.startswith("-"):
        fields = tuple(f"-{f}" for f in fields)
    return Mapped(filterset.qs.order_by(*fields), _number_out)


@router.post("/contract-numbers/issue", response={201: list[ContractNumberOut], **ERRORS},
             summary="Issue contract numbers")
def contract_number_issue(request, payload: IssueIn):
    """The next numbers of the year's sequence (gapless, never reused) to ``to``: yourself,
    or someone in your money scope (a head's unit, finance's department); else 403."""
    if payload.to is None:
        from bizdept.org.scope import employee_of

        to = employee_of(request.user)
        if to is None:
            raise DomainError(_("Choose whom to issue the numbers to."), field="to",
                              code="required")
    else:
        to = Employee.objects.select_related("unit").filter(pk=payload.to).first()
        if to is None:
            raise DomainError(_("There is no employee with this id."), field="to",
                              code="unknown")
    numbers = services.contract_number_issue(by=request.user, to=to, count=payload.count)
    fresh = (selectors.contract_number_list(user=request.user)
             .filter(pk__in=[n.pk for n in numbers]).order_by("seq"))
    return Status(201, [_number_out(n) for n in fresh])


@router.get("/contract-numbers/{number_id}", response={200: ContractNumberOut, **ERRORS},
            summary="One contract number")
def contract_number_detail(request, number_id: ObjectId):
    return _number_out(selectors.contract_number_get(user=request.user, pk=number_id))


@router.post("/contract-numbers/{number_id}/void", response={200: ContractNumberOut, **ERRORS},
             summary="Void a contract number")
def contract_number_void(request, number_id: ObjectId, payload: ReasonIn):
    """Only an issued number; it stays on the register and is never issued again."""
    number = selectors.contract_number_get(user=request.user, pk=number_id)
    return _number_out(services.contract_number_void(number=number, by=request.user,
                                                     reason=payload.reason))


@router.post("/contract-numbers/{number_id}/return",
             response={200: ContractNumberOut, **ERRORS}, summary="Return a contract number")
def contract_number_return(request, number_id: ObjectId, payload: ReasonIn):
    """Only an issued number, handed back unused; it is never issued again."""
    number = selectors.contract_number_get(user=request.user, pk=number_id)
    return _number_out(services.contract_number_return(number=number, by=request.user,
                                                       reason=payload.reason))


# === Opportunities (SAL-2) · Contracts (SAL-5) · Receivables (SAL-6) · Expenses (SAL-7) ==
