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
    body_ref,
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
                              # ≤ MONEY_MAX (10¹² − 1) as text too: twelve digits only with no cents
                              {"type": "string",
                               "pattern": r"^(\d{1,11}(\.\d{1,2})?|\d{12}(\.0{1,2})?)$"}],
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


# === Opportunities (SAL-2) ==============================================================
from bizdept.core.api import IsoDate  # noqa: E402 - this section's own imports
from bizdept.customers.models import Customer  # noqa: E402

from .choices import ExpenseCategory, ExpenseStatus, OpportunityStage  # noqa: E402
from .filters import ExpenseBudgetFilterSet, ExpenseFilterSet, OpportunityFilterSet  # noqa: E402
from .models import PERCENT_MAX, Product  # noqa: E402


def _decimal_in(pattern, description, *, ge=0, le=MONEY_MAX, gt=None):
    compiled = re.compile(pattern)

    def parse(value):
        if isinstance(value, str):
            if compiled.fullmatch(value):
                return Decimal(value)
            raise PydanticCustomError("decimal_parsing", "Input should be a number like 12.5")
        if isinstance(value, float):
            return Decimal(repr(value))
        if isinstance(value, int) and not isinstance(value, bool):
            return Decimal(value)
        return value

    bounds = {"gt": gt} if gt is not None else {"ge": ge}
    schema_low = {"exclusiveMinimum": gt} if gt is not None else {"minimum": ge}
    return Annotated[
        Decimal, BeforeValidator(parse), Field(le=le, allow_inf_nan=False, **bounds),
        WithJsonSchema({"anyOf": [{"type": "number", "maximum": float(le), **schema_low},
                                  {"type": "string", "pattern": f"^{pattern}$"}],
                        "description": description})]


# 0 passes the type and is refused by the service (400 naming "quantity").
Quantity = _decimal_in(r"\d{1,10}(\.\d{1,2})?", "A quantity above 0, at most 2 decimals.",
                       le=Decimal("9999999999.99"))
Percent = _decimal_in(r"(100(\.0{1,2})?|\d{1,2}(\.\d{1,2})?)",
                      "A discount from 0 to 100 (%), at most 2 decimals.", le=PERCENT_MAX)
StageIn = Literal[tuple(OpportunityStage.values)]


class CustomerRef(Schema):
    id: int
    name: str


class ProductRef(Schema):
    id: int
    code: str
    name: str


class OpportunityOut(Schema):
    id: int
    customer: CustomerRef
    owner: EmployeeRef
    title: str
    need: str
    expected_amount: Decimal
    expected_close_on: datetime.date | None
    stage: StageIn
    close_reason: str
    closed_at: datetime.datetime | None
    evaluation_score: int | None
    lessons: str
    created_at: datetime.datetime


class SolutionLineOut(Schema):
    id: int
    opportunity: int
    product: ProductRef
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    standard_cost: Decimal = Field(..., description="The product's cost when the line was "
                                   "added.")
    amount: Decimal = Field(..., description="Price × quantity less the discount, to the "
                            "cent.")
    cost: Decimal
    margin: Decimal
    margin_rate: Decimal | None


class StageChangeOut(Schema):
    old_stage: StageIn | Literal[""]
    new_stage: StageIn
    by: EmployeeRef | None
    at: datetime.datetime
    comment: str


class SolutionTotalsOut(Schema):
    amount: Decimal
    cost: Decimal
    margin: Decimal
    margin_rate: Decimal | None


class OpportunityDetailOut(OpportunityOut):
    lines: list[SolutionLineOut]
    totals: SolutionTotalsOut
    stage_changes: list[StageChangeOut]
    approval_status: str | None = Field(..., description="Of the latest approval request "
                                        "(manager or discount): pending, approved, ...")
    needs_discount_approval: bool


class OpportunityFilterIn(Schema):
    q: Text(100) | None = Field(None, description="In the subject or the customer's name.")
    stage: StageIn | None = None
    owner: Id | None = None
    unit: Id | None = Field(None, description="Owned in this unit or under it.")
    close_from: IsoDate | None = None
    close_to: IsoDate | None = None
    ordering: Literal["created_at", "-created_at", "expected_close_on", "-expected_close_on",
                      "expected_amount", "-expected_amount"] = "-created_at"


class OpportunityIn(BodyIn):
    customer: BodyId
    title: Text(200, 1)
    need: Text(5000) = ""
    expected_amount: Money = Decimal("0")
    expected_close_on: IsoDate | None = None
    owner: BodyId | None = Field(None, description="Default: the customer's owner (when in "
                                 "your scope), else you.")


class OpportunityPatch(BodyIn):
    title: Text(200, 1) = None
    need: Text(5000) = None
    expected_amount: Money = None
    expected_close_on: IsoDate | None = None
    owner: BodyId = None


class OpportunityCommentIn(BodyIn):
    comment: Text(500) = ""


class OutcomeIn(BodyIn):
    reason: Text(200, 1)


class EvaluateIn(BodyIn):
    score: Annotated[int, Field(ge=1, le=5), BeforeValidator(json_int)]
    lessons: Text(5000) = ""


class SolutionLineIn(BodyIn):
    product: BodyId
    quantity: Quantity
    unit_price: Money | None = Field(None, description="Default: the product's list price.")
    discount_percent: Percent = 0


class SolutionLinePatch(BodyIn):
    quantity: Quantity = None
    unit_price: Money = None
    discount_percent: Percent = None


class FunnelStageOut(Schema):
    stage: StageIn
    label: str
    count: int = Field(..., description="Opportunities at this stage now.")
    amount: Decimal = Field(..., description="Their expected amount.")
    reached: int = Field(..., description="Opportunities that ever reached this stage.")
    conversion: Decimal | None = Field(..., description="% of the previous stage's reached.")


class FunnelUnitRef(Schema):
    id: int
    name: str


class FunnelOut(Schema):
    unit: FunnelUnitRef | None
    since: datetime.date | None
    until: datetime.date | None
    stages: list[FunnelStageOut]
    total: int
    won: int
    won_amount: Decimal
    lost: int
    win_rate: Decimal | None


class FunnelIn(Schema):
    unit: Id | None = Field(None, description="Default: the whole of your scope.")
    since: IsoDate | None = Field(None, description="Opportunities created from this day.")
    until: IsoDate | None = None


def _opportunity_out(o) -> dict:
    return {
        "id": o.pk, "customer": o.customer, "owner": o.owner, "title": o.title,
        "need": o.need, "expected_amount": o.expected_amount,
        "expected_close_on": o.expected_close_on, "stage": o.stage,
        "close_reason": o.close_reason, "closed_at": o.closed_at,
        "evaluation_score": o.evaluation_score, "lessons": o.lessons,
        "created_at": o.created_at,
    }


def _solution_line_out(line) -> dict:
    return {
        "id": line.pk, "opportunity": line.opportunity_id, "product": line.product,
        "quantity": line.quantity, "unit_price": line.unit_price,
        "discount_percent": line.discount_percent, "standard_cost": line.standard_cost,
        "amount": line.amount, "cost": line.cost, "margin": line.margin,
        "margin_rate": line.margin_rate,
    }


def _opportunity_detail(request, pk) -> dict:
    from bizdept.approvals.selectors import approval_status

    o = selectors.opportunity_get(user=request.user, pk=pk)
    lines = list(o.lines.all())
    totals = selectors.solution_totals(lines)
    return {
        **_opportunity_out(o), "lines": [_solution_line_out(line) for line in lines],
        "totals": {"amount": totals.amount, "cost": totals.cost, "margin": totals.margin,
                   "margin_rate": totals.margin_rate},
        "stage_changes": [{"old_stage": c.old_stage, "new_stage": c.new_stage, "by": c.by,
                           "at": c.at, "comment": c.comment}
                          for c in selectors.stage_changes(o)],
        "approval_status": approval_status(o),
        "needs_discount_approval": max((line.discount_percent for line in lines),
                                       default=0) > selectors.discount_threshold(),
    }


def _sal_customer(request, pk):
    """A customer the user sees; any other id is unknown (no existence leak)."""
    return body_ref(Customer.objects.visible_to(request.user).select_related("owner__unit"),
                    pk, "customer", _("There is no customer with this id."))


def _sal_employee(pk, field):
    return body_ref(Employee.objects.select_related("unit"), pk, field,
                    _("There is no employee with this id."))


_OPPORTUNITY_ORDERING = {"created_at", "expected_close_on", "expected_amount"}


@router.get("/opportunities", response={200: list[OpportunityOut], **ERRORS},
            summary="List opportunities")
@paginate(Paginated)
def opportunity_list(request, filters: Query[OpportunityFilterIn]):
    """Opportunities in the sales scope: one's own, a head's subtree, the director's
    department (finance and HR: their own only)."""
    data = filters.dict(exclude_none=True)
    ordering = data.pop("ordering")
    filterset = OpportunityFilterSet(data, queryset=selectors.opportunity_list(
        user=request.user), request=request)
    if not filterset.is_valid():
        raise filter_errors(filterset)
    direction = "-pk" if ordering.startswith("-") else "pk"
    return Mapped(filterset.qs.order_by(ordering, direction), _opportunity_out)


@router.post("/opportunities", response={201: OpportunityDetailOut, **ERRORS},
             summary="Collect a customer's need (new opportunity)")
def opportunity_create(request, payload: OpportunityIn):
    data = payload.dict()
    data["customer"] = _sal_customer(request, data["customer"])
    data["owner"] = _sal_employee(data["owner"], "owner")
    opportunity = services.opportunity_create(by=request.user, **data)
    return Status(201, _opportunity_detail(request, opportunity.pk))


# Registered before /opportunities/{opportunity_id}.
@router.get("/opportunities/funnel", response={200: FunnelOut, **ERRORS},
            summary="The opportunity funnel of a unit")
def opportunity_funnel(request, filters: Query[FunnelIn]):
    """Per stage: how many are there now and their expected amount, how many ever reached
    it and the conversion from the stage before; won and lost. Over the opportunities
    created in [since, until] owned in the unit's subtree, within your scope."""
    unit = None
    if filters.unit is not None:
        unit = selectors.funnel_units(user=request.user).filter(pk=filters.unit).first()
        if unit is None:
            raise DomainError(_("There is no unit with this id in your scope."), field="unit",
                              code="unknown")
    if filters.since and filters.until and filters.since > filters.until:
        raise DomainError(_("The start is after the end."), field="since", code="invalid")
    funnel = selectors.opportunity_funnel(user=request.user, unit=unit, since=filters.since,
                                          until=filters.until)
    return {"unit": unit, "since": funnel.since, "until": funnel.until,
            "stages": [vars(row) for row in funnel.rows], "total": funnel.total,
            "won": funnel.won, "won_amount": funnel.won_amount, "lost": funnel.lost,
            "win_rate": funnel.win_rate}


@router.get("/opportunities/{opportunity_id}", response={200: OpportunityDetailOut, **ERRORS},
            summary="One opportunity with its solution and stage history")
def opportunity_detail(request, opportunity_id: ObjectId):
    return _opportunity_detail(request, opportunity_id)


@router.patch("/opportunities/{opportunity_id}", response={200: OpportunityDetailOut, **ERRORS},
              summary="Edit an opportunity")
def opportunity_update(request, opportunity_id: ObjectId, payload: OpportunityPatch):
    """Not while the manager's approval is pending, nor once won or lost (400 naming
    ``stage``)."""
    opportunity = selectors.opportunity_find(user=request.user, pk=opportunity_id)
    data = payload.dict(exclude_unset=True)
    if "owner" in data:
        data["owner"] = _sal_employee(data["owner"], "owner")
    services.opportunity_update(opportunity=opportunity, by=request.user, **data)
    return _opportunity_detail(request, opportunity_id)


def _opportunity_action(request, opportunity_id, action, **kwargs):
    opportunity = selectors.opportunity_find(user=request.user, pk=opportunity_id)
    action(opportunity=opportunity, by=request.user, **kwargs)
    return _opportunity_detail(request, opportunity_id)


@router.post("/opportunities/{opportunity_id}/submit",
             response={200: OpportunityDetailOut, **ERRORS},
             summary="Submit a need for the manager's approval")
def opportunity_submit(request, opportunity_id: ObjectId, payload: OpportunityCommentIn):
    """Need collected → manager approval; approved → solution, returned → need collected,
    rejected → lost (the reason is the approver's comment)."""
    return _opportunity_action(request, opportunity_id, services.opportunity_submit,
                               comment=payload.comment)


@router.post("/opportunities/{opportunity_id}/advance",
             response={200: OpportunityDetailOut, **ERRORS},
             summary="Move an opportunity on one stage")
def opportunity_advance(request, opportunity_id: ObjectId, payload: OpportunityCommentIn):
    """Solution → implementing → follow-up. A discount above the threshold needs the
    approved discount first (400 naming ``discount_percent``)."""
    return _opportunity_action(request, opportunity_id, services.opportunity_advance,
                               comment=payload.comment)


@router.post("/opportunities/{opportunity_id}/discount-approval",
             response={200: OpportunityDetailOut, **ERRORS},
             summary="Ask for the approval of the solution's discount")
def opportunity_request_discount(request, opportunity_id: ObjectId, payload: OpportunityCommentIn):
    return _opportunity_action(request, opportunity_id, services.opportunity_request_discount,
                               comment=payload.comment)


@router.post("/opportunities/{opportunity_id}/win",
             response={200: OpportunityDetailOut, **ERRORS}, summary="Mark an opportunity won")
def opportunity_win(request, opportunity_id: ObjectId, payload: OutcomeIn):
    return _opportunity_action(request, opportunity_id, services.opportunity_win,
                               reason=payload.reason)


@router.post("/opportunities/{opportunity_id}/lose",
             response={200: OpportunityDetailOut, **ERRORS}, summary="Mark an opportunity lost")
def opportunity_lose(request, opportunity_id: ObjectId, payload: OutcomeIn):
    return _opportunity_action(request, opportunity_id, services.opportunity_lose,
                               reason=payload.reason)


@router.post("/opportunities/{opportunity_id}/evaluate",
             response={200: OpportunityDetailOut, **ERRORS},
             summary="Evaluate an opportunity's result")
def opportunity_evaluate(request, opportunity_id: ObjectId, payload: EvaluateIn):
    """Score 1–5 and the lessons: from follow-up it finishes the flow; a won or lost one
    keeps its stage."""
    return _opportunity_action(request, opportunity_id, services.opportunity_evaluate,
                               score=payload.score, lessons=payload.lessons)


@router.post("/opportunities/{opportunity_id}/lines", response={201: SolutionLineOut, **ERRORS},
             summary="Add a line to the solution")
def solution_line_add(request, opportunity_id: ObjectId, payload: SolutionLineIn):
    """Only while the solution is drafted (400 naming ``stage``)."""
    opportunity = selectors.opportunity_find(user=request.user, pk=opportunity_id)
    product = body_ref(Product.objects.all(), payload.product, "product",
                       _("There is no product with this id."))
    line = services.solution_line_add(opportunity=opportunity, by=request.user,
                                      product=product, quantity=payload.quantity,
                                      unit_price=payload.unit_price,
                                      discount_percent=payload.discount_percent)
    return Status(201, _solution_line_out(selectors.line_get(user=request.user, pk=line.pk)))


@router.patch("/opportunity-lines/{line_id}", response={200: SolutionLineOut, **ERRORS},
              summary="Change a solution line")
def solution_line_update(request, line_id: ObjectId, payload: SolutionLinePatch):
    line = selectors.line_find(user=request.user, pk=line_id)
    services.solution_line_update(line=line, by=request.user,
                                  **payload.dict(exclude_unset=True))
    return _solution_line_out(selectors.line_get(user=request.user, pk=line_id))


@router.delete("/opportunity-lines/{line_id}", response={204: None, **ERRORS},
               summary="Remove a solution line")
def solution_line_remove(request, line_id: ObjectId):
    line = selectors.line_find(user=request.user, pk=line_id)
    services.solution_line_remove(line=line, by=request.user)
    return Status(204, None)


# === Expenses (SAL-7) ===================================================================
CategoryIn = Literal[tuple(ExpenseCategory.values)]
ExpenseStatusIn = Literal[tuple(ExpenseStatus.values)]
Period = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$",
                              description="A month (2026-07) or a quarter (2026-Q3).")]


class ExpenseOut(Schema):
    id: int
    employee: EmployeeRef
    category: CategoryIn
    amount: Decimal
    spent_on: datetime.date
    description: str
    customer: CustomerRef | None
    status: ExpenseStatusIn
    over_budget_by: Decimal | None = Field(..., description="At submission: how far the claim "
                                           "took its budget period over (0: within it).")
    budget_period: str
    submitted_at: datetime.datetime | None
    decided_at: datetime.datetime | None
    paid_at: datetime.datetime | None
    paid_by: EmployeeRef | None
    created_at: datetime.datetime


class ExpenseFilterIn(Schema):
    q: Text(100) | None = None
    status: ExpenseStatusIn | None = None
    category: CategoryIn | None = None
    employee: Id | None = None
    unit: Id | None = None
    spent_from: IsoDate | None = None
    spent_to: IsoDate | None = None
    mine: QueryBool | None = Field(None, description="Only my own claims.")
    ordering: Literal["spent_on", "-spent_on", "amount", "-amount"] = "-spent_on"


class ExpenseIn(BodyIn):
    category: CategoryIn
    amount: Money
    spent_on: IsoDate
    description: Text(5000) = ""
    customer: BodyId | None = None


class ExpensePatch(BodyIn):
    category: CategoryIn = None
    amount: Money = None
    spent_on: IsoDate = None
    description: Text(5000) = None
    customer: BodyId | None = None


class BudgetOut(Schema):
    id: int
    employee: EmployeeRef
    period: str
    amount: Decimal
    set_by: EmployeeRef
    updated_at: datetime.datetime


class BudgetFilterIn(Schema):
    period: Period | None = None
    employee: Id | None = None


class BudgetIn(BodyIn):
    employee: BodyId
    period: Period
    amount: Money


class BudgetUseRowOut(Schema):
    employee: EmployeeRef
    budget: Decimal | None
    approved: Decimal
    pending: Decimal
    remaining: Decimal
    over: Decimal


class BudgetUseOut(Schema):
    period: str
    since: datetime.date
    until: datetime.date
    rows: list[BudgetUseRowOut]


class BudgetUseIn(Schema):
    period: Period


def _expense_out(c) -> dict:
    return {
        "id": c.pk, "employee": c.employee, "category": c.category, "amount": c.amount,
        "spent_on": c.spent_on, "description": c.description, "customer": c.customer,
        "status": c.status, "over_budget_by": c.over_budget_by,
        "budget_period": c.budget_period, "submitted_at": c.submitted_at,
        "decided_at": c.decided_at, "paid_at": c.paid_at, "paid_by": c.paid_by,
        "created_at": c.created_at,
    }


def _expense_detail(request, pk) -> dict:
    return _expense_out(selectors.expense_get(user=request.user, pk=pk))


@router.get("/expenses", response={200: list[ExpenseOut], **ERRORS}, summary="List expense "
            "claims")
@paginate(Paginated)
def expense_list(request, filters: Query[ExpenseFilterIn]):
    """Claims in the money scope: one's own, a head's subtree, finance the department."""
    data = filters.dict(exclude_none=True)
    ordering = data.pop("ordering")
    rows = (selectors.my_expenses(user=request.user) if data.pop("mine", False)
            else selectors.expense_list(user=request.user))
    filterset = ExpenseFilterSet(data, queryset=rows.select_related("paid_by"),
                                 request=request)
    if not filterset.is_valid():
        raise filter_errors(filterset)
    direction = "-pk" if ordering.startswith("-") else "pk"
    return Mapped(filterset.qs.order_by(ordering, direction), _expense_out)


@router.post("/expenses", response={201: ExpenseOut, **ERRORS}, summary="Draft an expense "
             "claim")
def expense_create(request, payload: ExpenseIn):
    data = payload.dict()
    data["customer"] = _sal_customer(request, data["customer"])
    claim = services.expense_claim_create(by=request.user, **data)
    return Status(201, _expense_detail(request, claim.pk))


@router.get("/expenses/{expense_id}", response={200: ExpenseOut, **ERRORS},
            summary="One expense claim")
def expense_detail(request, expense_id: ObjectId):
    return _expense_detail(request, expense_id)


@router.patch("/expenses/{expense_id}", response={200: ExpenseOut, **ERRORS},
              summary="Change a draft or returned claim")
def expense_update(request, expense_id: ObjectId, payload: ExpensePatch):
    claim = selectors.expense_find(user=request.user, pk=expense_id)
    data = payload.dict(exclude_unset=True)
    if "customer" in data:
        data["customer"] = _sal_customer(request, data["customer"])
    services.expense_claim_update(claim=claim, by=request.user, **data)
    return _expense_detail(request, expense_id)


@router.post("/expenses/{expense_id}/submit", response={200: ExpenseOut, **ERRORS},
             summary="Submit a claim for approval")
def expense_submit(request, expense_id: ObjectId, payload: OpportunityCommentIn):
    """Over budget is allowed: ``over_budget_by`` says how far, and the approver sees it."""
    claim = selectors.expense_find(user=request.user, pk=expense_id)
    services.expense_claim_submit(claim=claim, by=request.user, comment=payload.comment)
    return _expense_detail(request, expense_id)


@router.post("/expenses/{expense_id}/pay", response={200: ExpenseOut, **ERRORS},
             summary="Mark an approved claim paid (finance)")
def expense_pay(request, expense_id: ObjectId):
    claim = selectors.expense_find(user=request.user, pk=expense_id)
    services.expense_mark_paid(claim=claim, by=request.user)
    return _expense_detail(request, expense_id)


def _budget_out(b) -> dict:
    return {"id": b.pk, "employee": b.employee, "period": b.period, "amount": b.amount,
            "set_by": b.set_by, "updated_at": b.updated_at}


@router.get("/expense-budgets", response={200: list[BudgetOut], **ERRORS},
            summary="List expense budgets")
@paginate(Paginated)
def budget_list(request, filters: Query[BudgetFilterIn]):
    filterset = ExpenseBudgetFilterSet(filters.dict(exclude_none=True),
                                       queryset=selectors.budget_list(user=request.user),
                                       request=request)
    if not filterset.is_valid():
        raise filter_errors(filterset)
    return Mapped(filterset.qs.order_by("-period", "employee__number", "pk"), _budget_out)


@router.post("/expense-budgets", response={200: BudgetOut, 201: BudgetOut, **ERRORS},
             summary="Set a person's expense budget for a month or a quarter")
def budget_set(request, payload: BudgetIn):
    """Finance and the director for anyone in the department, a head for the people under
    them (403 otherwise). 201 when new, 200 when an existing budget changed."""
    employee = _sal_employee(payload.employee, "employee")
    existed = services.ExpenseBudget.objects.filter(employee=employee,
                                                    period=payload.period).exists()
    budget = services.expense_budget_set(by=request.user, employee=employee,
                                         period=payload.period, amount=payload.amount)
    fresh = selectors.budget_list(user=request.user).get(pk=budget.pk)
    return Status(200 if existed else 201, _budget_out(fresh))


@router.get("/expense-budgets/use", response={200: BudgetUseOut, **ERRORS},
            summary="Budget use per person for a period")
def budget_use(request, filters: Query[BudgetUseIn]):
    """Per person in your money scope: budget, approved (and paid), pending, remaining and
    how far over."""
    from bizdept.core.periods import period_bounds

    since, until = period_bounds(filters.period)
    rows = selectors.budget_use(user=request.user, period=filters.period)
    return {"period": filters.period, "since": since, "until": until,
            "rows": [{"employee": r.employee, "budget": r.budget, "approved": r.approved,
                      "pending": r.pending, "remaining": r.remaining, "over": r.over}
                     for r in rows]}
# === end of SAL-2 / SAL-7 API ===========================================================


# === Contracts (SAL-5) ==================================================================
# (_decimal_in, CustomerRef, ProductRef and IsoDate come from the opportunities' section)
from bizdept.core.money import rmb_upper  # noqa: E402

from .choices import AmendmentStatus, ContractStatus, PaymentMethod  # noqa: E402
from .filters import ContractFilterSet  # noqa: E402
from .models import ContractNumber  # noqa: E402

ContractStatusIn = Literal[tuple(ContractStatus.values)]
# A quantity above zero, also as text ("0" and "0.00" do not match the text pattern).
LineQuantity = _decimal_in(r"(?:[1-9]\d{0,9}(?:\.\d{1,2})?|0\.(?:0[1-9]|[1-9]\d?))",
                           "A quantity above 0, at most 2 decimals.", gt=0,
                           le=Decimal("9999999999.99"))


class ContractLineOut(Schema):
    id: int
    product: ProductRef
    quantity: Decimal
    unit_price: Decimal
    unit_cost: Decimal
    amount: Decimal
    margin: Decimal = Field(..., description="(unit price − unit cost) × quantity.")


class ContractOut(Schema):
    id: int
    number: str
    title: str
    customer: CustomerRef
    owner: EmployeeRef
    status: ContractStatusIn
    total: Decimal
    signed_on: datetime.date | None
    starts_on: datetime.date | None
    ends_on: datetime.date | None
    archived: bool
    created_at: datetime.datetime


class AmendmentOut(Schema):
    id: int
    seq: int
    reason: str
    status: Literal[tuple(AmendmentStatus.values)]
    lines: list[dict] | None
    starts_on: datetime.date | None
    ends_on: datetime.date | None
    old_total: Decimal
    new_total: Decimal
    requested_by: EmployeeRef
    created_at: datetime.datetime
    applied_at: datetime.datetime | None


class ContractDetailOut(ContractOut):
    total_in_words: str = Field(..., description="The amount in Chinese capital numerals "
                                "(大写), e.g. 壹佰贰拾捌万元零伍角整.")
    opportunity_id: int | None
    delivery_terms: str
    technical_terms: str
    installation_terms: str
    feasibility_confirmed_by: EmployeeRef | None
    feasibility_confirmed_at: datetime.datetime | None
    has_scan: bool
    terminated_on: datetime.date | None
    termination_reason: str
    notes: str
    approval_status: str | None
    received: Decimal
    balance: Decimal
    plan_total: Decimal
    lines: list[ContractLineOut]
    amendments: list[AmendmentOut]


class ContractFilterIn(Schema):
    q: Text(100) | None = Field(None, description="In the number, the title or the customer.")
    status: ContractStatusIn | None = None
    owner: Id | None = None
    unit: Id | None = Field(None, description="Owned in this unit or under it.")
    customer: Id | None = None
    signed_from: IsoDate | None = None
    signed_to: IsoDate | None = None
    ordering: Literal["created_at", "-created_at", "signed_on", "-signed_on", "total",
                      "-total"] = "-created_at"


class LineIn(BodyIn):
    product: BodyId
    quantity: LineQuantity
    unit_price: Money
    unit_cost: Money | None = Field(None, description="Default: the product's standard cost.")


class ContractIn(BodyIn):
    number: BodyId = Field(..., description="Id of one of your issued contract numbers.")
    customer: BodyId
    title: Text(200, 1)
    lines: list[LineIn] = Field(default_factory=list, max_length=200)
    starts_on: IsoDate | None = None
    ends_on: IsoDate | None = None
    delivery_terms: Text(4000) = ""
    technical_terms: Text(4000) = ""
    installation_terms: Text(4000) = ""
    notes: Text(4000) = ""
    opportunity: BodyId | None = None


class ContractPatch(BodyIn):
    """Only the fields sent change; a draft or approved contract only (an approved one goes
    back to draft)."""

    customer: BodyId = None
    title: Text(200, 1) = None
    starts_on: IsoDate | None = None
    ends_on: IsoDate | None = None
    delivery_terms: Text(4000) = None
    technical_terms: Text(4000) = None
    installation_terms: Text(4000) = None
    notes: Text(4000) = None
    opportunity: BodyId | None = None


class CommentIn(BodyIn):
    comment: Text(1000) = ""


class LinesIn(BodyIn):
    lines: list[LineIn] = Field(..., max_length=200)


class AmendmentIn(BodyIn):
    reason: Text(200, 1)
    lines: list[LineIn] | None = Field(None, max_length=200,
                                       description="The complete new lines; omit to keep.")
    starts_on: IsoDate | None = None
    ends_on: IsoDate | None = None
    comment: Text(1000) = ""


def _line_out(line) -> dict:
    return {"id": line.pk, "product": line.product, "quantity": line.quantity,
            "unit_price": line.unit_price, "unit_cost": line.unit_cost, "amount": line.amount,
            "margin": margin(line.unit_price, line.unit_cost, line.quantity)}


def _contract_out(contract) -> dict:
    return {"id": contract.pk, "number": contract.number.number, "title": contract.title,
            "customer": contract.customer, "owner": contract.owner, "status": contract.status,
            "total": contract.total, "signed_on": contract.signed_on,
            "starts_on": contract.starts_on, "ends_on": contract.ends_on,
            "archived": contract.archived, "created_at": contract.created_at}


def _amendment_out(a) -> dict:
    return {"id": a.pk, "seq": a.seq, "reason": a.reason, "status": a.status, "lines": a.lines,
            "starts_on": a.starts_on, "ends_on": a.ends_on, "old_total": a.old_total,
            "new_total": a.new_total, "requested_by": a.requested_by,
            "created_at": a.created_at, "applied_at": a.applied_at}


def _contract_detail(request, contract) -> dict:
    """The detail body of a contract already read (through the scope) or just written by
    a service; its lines and figures are read here."""
    from bizdept.approvals.selectors import approval_status

    figures = selectors.contract_figures(contract)
    return {**_contract_out(contract), "total_in_words": rmb_upper(contract.total),
            "opportunity_id": contract.opportunity_id,
            "delivery_terms": contract.delivery_terms,
            "technical_terms": contract.technical_terms,
            "installation_terms": contract.installation_terms,
            "feasibility_confirmed_by": contract.feasibility_confirmed_by,
            "feasibility_confirmed_at": contract.feasibility_confirmed_at,
            "has_scan": bool(contract.scan), "terminated_on": contract.terminated_on,
            "termination_reason": contract.termination_reason, "notes": contract.notes,
            "approval_status": approval_status(contract), **figures,
            "lines": [_line_out(line) for line in selectors.contract_lines(contract)],
            "amendments": [_amendment_out(a) for a in selectors.contract_amendments(contract)]}


def _lines(payload_lines) -> list[dict] | None:
    if payload_lines is None:
        return None
    return [line.dict() for line in payload_lines]


def _number_for(request, pk) -> ContractNumber:
    number = selectors.contract_number_list(user=request.user).filter(pk=pk).first()
    if number is None:
        raise DomainError(_("There is no such contract number of yours."), field="number",
                          code="unknown")
    return number


@router.get("/contracts", response={200: list[ContractOut], **ERRORS}, summary="List contracts")
@paginate(Paginated)
def contract_list(request, filters: Query[ContractFilterIn]):
    """Contracts in the money scope: one's own, a head's subtree, finance and the director
    the whole department."""
    data = filters.dict(exclude_none=True)
    ordering = data.pop("ordering")
    filterset = ContractFilterSet(data, queryset=selectors.contract_list(user=request.user),
                                  request=request)
    if not filterset.is_valid():
        raise filter_errors(filterset)
    direction = "-pk" if ordering.startswith("-") else "pk"
    return Mapped(filterset.qs.order_by(ordering, direction), _contract_out)


@router.post("/contracts", response={201: ContractDetailOut, **ERRORS},
             summary="Create a draft contract")
def contract_create(request, payload: ContractIn):
    """On one of your issued numbers (the register marks it used), for one of your
    customers; lines are optional until the report."""
    data = payload.dict()
    data["number"] = _number_for(request, data["number"])
    data["lines"] = _lines(payload.lines)
    contract = services.contract_create(by=request.user, **data)
    return Status(201, _contract_detail(request, contract))


@router.get("/contracts/{contract_id}", response={200: ContractDetailOut, **ERRORS},
            summary="One contract")
def contract_detail(request, contract_id: ObjectId):
    return _contract_detail(request, selectors.contract_get(user=request.user, pk=contract_id))


@router.patch("/contracts/{contract_id}", response={200: ContractDetailOut, **ERRORS},
              summary="Edit a draft contract")
def contract_update(request, contract_id: ObjectId, payload: ContractPatch):
    contract = selectors.contract_get(user=request.user, pk=contract_id)
    return _contract_detail(request, services.contract_update(
        contract=contract, by=request.user, **payload.dict(exclude_unset=True)))


@router.get("/contracts/{contract_id}/lines", response={200: list[ContractLineOut], **ERRORS},
            summary="A contract's lines")
def contract_lines(request, contract_id: ObjectId):
    contract = selectors.contract_get(user=request.user, pk=contract_id)
    return [_line_out(line) for line in selectors.contract_lines(contract)]


@router.put("/contracts/{contract_id}/lines", response={200: ContractDetailOut, **ERRORS},
            summary="Replace a contract's lines")
def contract_lines_set(request, contract_id: ObjectId, payload: LinesIn):
    """Draft (or approved: back to draft) contracts only; under approval or signed: 400."""
    contract = selectors.contract_get(user=request.user, pk=contract_id)
    return _contract_detail(request, services.contract_lines_set(
        contract=contract, by=request.user, lines=_lines(payload.lines)))


@router.post("/contracts/{contract_id}/lines", response={201: ContractDetailOut, **ERRORS},
             summary="Add a line to a contract")
def contract_line_add(request, contract_id: ObjectId, payload: LineIn):
    contract = selectors.contract_get(user=request.user, pk=contract_id)
    return Status(201, _contract_detail(request, services.contract_line_add(
        contract=contract, by=request.user, **payload.dict())))


@router.delete("/contracts/{contract_id}/lines/{contract_line_id}",
               response={200: ContractDetailOut, **ERRORS}, summary="Remove a contract line")
def contract_line_remove(request, contract_id: ObjectId, contract_line_id: ObjectId):
    from django.http import Http404

    contract = selectors.contract_get(user=request.user, pk=contract_id)
    line = contract.lines.filter(pk=contract_line_id).first()
    if line is None:
        raise Http404
    return _contract_detail(request, services.contract_line_remove(
        contract=contract, by=request.user, line=line))


def _contract_action(request, contract_id, action, **kwargs) -> dict:
    contract = selectors.contract_get(user=request.user, pk=contract_id)
    return _contract_detail(request, action(contract=contract, by=request.user, **kwargs))


@router.post("/contracts/{contract_id}/feasibility",
             response={200: ContractDetailOut, **ERRORS},
             summary="Confirm the pre-signing feasibility checklist")
def contract_feasibility_confirm(request, contract_id: ObjectId):
    """A head above the owner (not the owner) confirms delivery time, technical and
    installation conditions (工期/技术/安装条件); 403 for others."""
    return _contract_action(request, contract_id, services.contract_feasibility_confirm)


@router.post("/contracts/{contract_id}/report", response={200: ContractDetailOut, **ERRORS},
             summary="Report a contract before signing (starts its approval)")
def contract_report(request, contract_id: ObjectId, payload: CommentIn):
    """签订前汇报: a draft with lines and the feasibility checklist filled; the approval is
    routed by the amount (lead; manager above 100,000; director above 1,000,000)."""
    return _contract_action(request, contract_id, services.contract_report,
                            comment=payload.comment)


@router.post("/contracts/{contract_id}/sign", response={200: ContractDetailOut, **ERRORS},
             summary="Sign an approved contract, with the scan of the original")
def contract_sign(request, contract_id: ObjectId, signed_on: Form[IsoDate],
                  scan: File[UploadedFile] = None):
    """Multipart: ``signed_on`` (not in the future) and ``scan`` (PDF, JPEG or PNG, up to
    20 MB). Only after the approval; the original is then marked filed (原件存档)."""
    return _contract_action(request, contract_id, services.contract_sign,
                            signed_on=signed_on, scan=scan)


@router.post("/contracts/{contract_id}/execute", response={200: ContractDetailOut, **ERRORS},
             summary="Start executing a signed contract")
def contract_execute(request, contract_id: ObjectId):
    return _contract_action(request, contract_id, services.contract_execute)


@router.post("/contracts/{contract_id}/complete", response={200: ContractDetailOut, **ERRORS},
             summary="Complete a contract being executed")
def contract_complete(request, contract_id: ObjectId):
    return _contract_action(request, contract_id, services.contract_complete)


@router.post("/contracts/{contract_id}/terminate",
             response={200: ContractDetailOut, **ERRORS}, summary="Terminate a contract")
def contract_terminate(request, contract_id: ObjectId, payload: ReasonIn):
    """Signed or being executed only, with the reason."""
    return _contract_action(request, contract_id, services.contract_terminate,
                            reason=payload.reason)


@router.get("/contracts/{contract_id}/amendments", response={200: list[AmendmentOut], **ERRORS},
            summary="A contract's amendments")
def contract_amendments(request, contract_id: ObjectId):
    contract = selectors.contract_get(user=request.user, pk=contract_id)
    return [_amendment_out(a) for a in selectors.contract_amendments(contract)]


@router.post("/contracts/{contract_id}/amendments", response={201: AmendmentOut, **ERRORS},
             summary="Ask to amend a signed contract")
def contract_amend(request, contract_id: ObjectId, payload: AmendmentIn):
    """New lines and/or dates with the reason; approved like the contract and applied when
    approved. 409 while another amendment waits."""
    contract = selectors.contract_get(user=request.user, pk=contract_id)
    data = payload.dict()
    data["lines"] = _lines(payload.lines)
    amendment = services.contract_amend(contract=contract, by=request.user, **data)
    amendment = selectors.contract_amendments(contract)[0]
    return Status(201, _amendment_out(amendment))


# === Receivables (SAL-6) ================================================================
class InstalmentIn(BodyIn):
    due_on: IsoDate
    amount: Money
    note: Text(200) = ""


class PlanIn(BodyIn):
    instalments: list[InstalmentIn] = Field(..., max_length=60)


class InstalmentOut(Schema):
    seq: int
    due_on: datetime.date
    amount: Decimal
    note: str
    paid: Decimal = Field(..., description="Paid of it: payments applied oldest due first.")
    unpaid: Decimal
    days_overdue: int


class PlanOut(Schema):
    contract_total: Decimal
    plan_total: Decimal
    complete: bool = Field(..., description="The instalments add up to the contract amount.")
    instalments: list[InstalmentOut]


PaymentMethodIn = Literal[tuple(PaymentMethod.values)]


class PaymentIn(BodyIn):
    received_on: IsoDate
    amount: Money
    method: PaymentMethodIn = PaymentMethod.TRANSFER
    reference: Text(100) = ""


class PaymentOut(Schema):
    id: int
    contract_id: int
    received_on: datetime.date
    amount: Decimal
    method: PaymentMethodIn
    reference: str
    reverses_id: int | None
    reversed: bool
    reason: str
    entered_by: EmployeeRef
    entered_at: datetime.datetime


class AgingIn(Schema):
    unit: Id | None = Field(None, description="Owned in this unit or under it.")
    as_of: IsoDate | None = Field(None, description="Default: today.")


class BucketsOut(Schema):
    d0_30: Decimal
    d31_60: Decimal
    d61_90: Decimal
    d91_180: Decimal
    d180_plus: Decimal


class AgingPersonOut(Schema):
    id: int
    name: str
    unit: str
    buckets: BucketsOut
    total: Decimal


class AgingOut(Schema):
    as_of: datetime.date
    buckets: BucketsOut
    overdue_total: Decimal = Field(..., description="Due and unpaid (all buckets).")
    not_due: Decimal
    people: list[AgingPersonOut]


class OverdueOut(Schema):
    contract_id: int
    number: str
    customer: CustomerRef
    owner: EmployeeRef
    seq: int
    due_on: datetime.date
    amount: Decimal
    unpaid: Decimal
    days_overdue: int


class CollectionIn(Schema):
    since: IsoDate
    until: IsoDate
    unit: Id | None = None


class RateRow(Schema):
    id: int
    name: str
    due: Decimal
    collected: Decimal
    rate: Decimal | None = Field(..., description="collected ÷ due × 100; null when nothing "
                                 "was due.")


class CollectionOut(Schema):
    since: datetime.date
    until: datetime.date
    due: Decimal
    collected: Decimal
    rate: Decimal | None
    people: list[RateRow]
    units: list[RateRow]


def _plan_out(contract) -> dict:
    lines = selectors.contract_plan(contract)
    plan_total = sum((line.amount for line in lines), Decimal("0.00"))
    return {"contract_total": contract.total, "plan_total": plan_total,
            "complete": plan_total == contract.total,
            "instalments": [vars(line) for line in lines]}


def _payment_out(p) -> dict:
    return {"id": p.pk, "contract_id": p.contract_id, "received_on": p.received_on,
            "amount": p.amount, "method": p.method, "reference": p.reference,
            "reverses_id": p.reverses_id, "reversed": getattr(p, "is_reversed", False),
            "reason": p.reason, "entered_by": p.entered_by, "entered_at": p.entered_at}


@router.get("/contracts/{contract_id}/plan", response={200: PlanOut, **ERRORS},
            summary="A contract's payment plan")
def contract_plan(request, contract_id: ObjectId):
    return _plan_out(selectors.contract_get(user=request.user, pk=contract_id))


@router.put("/contracts/{contract_id}/plan", response={200: PlanOut, **ERRORS},
            summary="Replace a contract's payment plan")
def contract_plan_set(request, contract_id: ObjectId, payload: PlanIn):
    """The instalments never add up to more than the contract amount (400 naming
    ``instalments``); the plan is complete when they add up to exactly it."""
    contract = selectors.contract_get(user=request.user, pk=contract_id)
    services.contract_plan_set(contract=contract, by=request.user,
                               instalments=[i.dict() for i in payload.instalments])
    return _plan_out(contract)


@router.get("/contracts/{contract_id}/payments", response={200: list[PaymentOut], **ERRORS},
            summary="Money received on a contract")
def contract_payments(request, contract_id: ObjectId):
    contract = selectors.contract_get(user=request.user, pk=contract_id)
    return [_payment_out(p) for p in selectors.contract_payments(contract)]


@router.post("/contracts/{contract_id}/payments", response={201: PaymentOut, **ERRORS},
             summary="Record a payment (finance)")
def payment_record(request, contract_id: ObjectId, payload: PaymentIn):
    """Finance only (403 otherwise), on a signed contract; the total received never goes
    above the contract amount (400 naming ``amount``). The customer is re-graded."""
    contract = selectors.contract_get(user=request.user, pk=contract_id)
    payment = services.payment_record(contract=contract, by=request.user, **payload.dict())
    return Status(201, _payment_out(payment))


@router.post("/payments/{payment_id}/reverse", response={201: PaymentOut, **ERRORS},
             summary="Reverse a payment (finance)")
def payment_reverse(request, payment_id: ObjectId, payload: ReasonIn):
    """A negative entry linked to the payment, with the reason: nothing is edited or
    deleted. 409 when it was already reversed."""
    payment = selectors.payment_get(user=request.user, pk=payment_id)
    reversal = services.payment_reverse(payment=payment, by=request.user,
                                        reason=payload.reason)
    return Status(201, _payment_out(reversal))


@router.get("/receivables/aging", response={200: AgingOut, **ERRORS},
            summary="Aging of receivables")
def receivables_aging(request, filters: Query[AgingIn]):
    """Unpaid instalments by days past due (0–30, 31–60, 61–90, 91–180, over 180),
    payments applied oldest due first; in total and per person, in the money scope."""
    report = selectors.receivables_aging(user=request.user, unit=filters.unit,
                                         as_of=filters.as_of)
    return {"as_of": report.as_of, "buckets": report.buckets,
            "overdue_total": report.overdue_total, "not_due": report.not_due,
            "people": report.rows}


def _overdue_out(row: dict) -> dict:
    return {**row, "customer": {"id": row["customer_id"], "name": row["customer"]},
            "owner": {"id": row["owner_id"], "number": row["owner_number"],
                      "name": row["owner"]}}


@router.get("/receivables/overdue", response={200: list[OverdueOut], **ERRORS},
            summary="Overdue instalments")
@paginate(Paginated)
def receivables_overdue(request, filters: Query[AgingIn]):
    """Unpaid instalments at least a day past due, most overdue first (read a page at a
    time)."""
    rows = selectors.overdue_instalments(user=request.user, unit=filters.unit,
                                         as_of=filters.as_of)
    return Mapped(rows, _overdue_out)


@router.get("/receivables/collection", response={200: CollectionOut, **ERRORS},
            summary="Collection rate per person and unit")
def receivables_collection(request, filters: Query[CollectionIn]):
    """Collected in the period ÷ due in the period (instalments due between ``since`` and
    ``until``; money received in it), per person and per unit."""
    return selectors.collection_rate(user=request.user, since=filters.since,
                                     until=filters.until, unit=filters.unit)
# === end of Contracts (SAL-5) and receivables (SAL-6) API ===============================
