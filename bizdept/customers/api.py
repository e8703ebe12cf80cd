"""CUS API: customers (list, detail, create, edit, pool, transfer, grade), their contacts,
the visits made to them, complaints, satisfaction surveys and market reports.

Reads go through ``selectors`` (each starts from the scope rule: out of scope or missing
answers 404); writes go through ``services`` (a refusal is 403, a bad value 400 naming the
field, a duplicate customer 409 naming who owns it).
"""

import datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import BeforeValidator

from bizdept.core.api import (
    ERRORS,
    BodyId,
    BodyIn,
    Id,
    IsoDate,
    IsoDateTime,
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
from bizdept.org.api import EmployeeRef, UnitRef
from bizdept.org.models import Employee

from . import selectors, services
from .choices import (
    COMPLAINT_PENDING,
    ComplaintStatus,
    CustomerKind,
    Grade,
    ReportKind,
    Severity,
    Source,
    Stage,
    VisitKind,
)
from .filters import (
    ComplaintFilterSet,
    CustomerFilterSet,
    MarketReportFilterSet,
    SurveyFilterSet,
    VisitFilterSet,
)
from .models import Customer
from .services import PERIOD_PATTERN

router = Router(tags=["customers"])

KindIn = Literal[tuple(CustomerKind.values)]
StageIn = Literal[tuple(Stage.values)]
SourceIn = Literal[tuple(Source.values)]
GradeIn = Literal[tuple(Grade.values)]
VisitKindIn = Literal[tuple(VisitKind.values)]


# --- output schemas ------------------------------------------------------------------
class CustomerRef(Schema):
    id: int
    name: str


class CustomerOut(Schema):
    """A list row: what a salesperson scans, nothing more."""

    id: int
    name: str
    kind: str
    credit_code: str
    region: str
    stage: str
    grade: str
    phone: str
    owner: EmployeeRef | None
    last_followup_at: datetime.datetime | None
    next_revisit_on: datetime.date | None
    overdue: bool


class CustomerDetailOut(CustomerOut):
    industry: str
    source: str
    address: str
    notes: str
    owner_unit: UnitRef | None
    collaborators: list[EmployeeRef]
    in_pool: bool
    pooled_at: datetime.datetime | None
    grade_is_manual: bool
    grade_reason: str
    graded_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class TransferOut(Schema):
    moved: int


class ContactOut(Schema):
    id: int
    customer: CustomerRef
    name: str
    title: str
    phone: str
    mobile: str
    email: str
    wechat: str
    is_key: bool
    notes: str
    created_at: datetime.datetime


class ContactRef(Schema):
    id: int
    name: str


class VisitOut(Schema):
    id: int
    customer: CustomerRef
    employee: EmployeeRef
    contact: ContactRef | None
    kind: str
    visited_at: datetime.datetime
    summary: str
    next_step: str
    next_on: datetime.date | None
    checked_in_at: datetime.datetime | None
    coach: EmployeeRef | None


class VisitDetailOut(VisitOut):
    latitude: float | None
    longitude: float | None
    accuracy_m: float | None
    coach_review: str
    improvement_points: str
    created_at: datetime.datetime


# --- input schemas -------------------------------------------------------------------
class CustomerFilterIn(Schema):
    q: Text(100) | None = None
    stage: StageIn | None = None
    grade: GradeIn | None = None
    owner: Id | None = Field(None, description="Employee id of the owner.")
    unit: Id | None = Field(None, description="Owners in this unit or any unit under it.")
    region: Text(50) | None = None
    overdue: QueryBool | None = Field(None, description="Revisit due today or earlier.")
    pool: QueryBool | None = Field(None, description="In the public pool (nobody owns it).")
    ordering: Literal["name", "-name", "created_at", "-created_at", "next_revisit_on",
                      "-next_revisit_on", "last_followup_at", "-last_followup_at",
                      "grade", "-grade"] = "-created_at"


class CustomerIn(BodyIn):
    name: Text(200, 1)
    kind: KindIn = CustomerKind.COMPANY
    credit_code: Text(40) = ""
    industry: Text(50) = ""
    region: Text(50) = ""
    source: SourceIn = Source.OTHER
    stage: StageIn = Stage.PROSPECT
    phone: Text(40) = ""
    address: Text(200) = ""
    notes: Text(2000) = ""
    owner: BodyId | None = Field(None, description="Employee id; a head may give the customer "
                             "to someone in their unit. Default: you.")
    collaborators: list[BodyId] = Field(default_factory=list, max_length=20)


class CustomerPatch(BodyIn):
    """Only the fields sent are changed."""

    name: Text(200, 1) = None
    kind: KindIn = None
    credit_code: Text(40) = None
    industry: Text(50) = None
    region: Text(50) = None
    source: SourceIn = None
    stage: StageIn = None
    phone: Text(40) = None
    address: Text(200) = None
    notes: Text(2000) = None
    collaborators: list[BodyId] = Field(None, max_length=20)


class ReleaseIn(BodyIn):
    # The reason is kept in the audit history, whose column holds 100 characters.
    reason: Text(100, 1)


class TransferIn(BodyIn):
    customer_ids: list[BodyId] = Field(..., min_length=1, max_length=500)
    to_owner: BodyId
    reason: Text(100, 1)


class GradeSetIn(BodyIn):
    grade: GradeIn
    reason: Text(200, 1)


class ContactIn(BodyIn):
    name: Text(50, 1)
    title: Text(50) = ""
    phone: Text(40) = ""
    mobile: Text(40) = ""
    email: Text(254) = ""
    wechat: Text(50) = ""
    is_key: bool = False
    notes: Text(2000) = ""


class ContactPatch(BodyIn):
    name: Text(50, 1) = None
    title: Text(50) = None
    phone: Text(40) = None
    mobile: Text(40) = None
    email: Text(254) = None
    wechat: Text(50) = None
    is_key: bool = None
    notes: Text(2000) = None


class VisitFilterIn(Schema):
    customer: Id | None = None
    employee: Id | None = Field(None, description="Employee id of who made the visit.")
    kind: VisitKindIn | None = None
    since: IsoDate | None = Field(None, description="Visited on or after this day.")
    until: IsoDate | None = Field(None, description="Visited on or before this day.")


Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class VisitIn(BodyIn):
    kind: VisitKindIn = VisitKind.VISIT
    visited_at: IsoDateTime | None = Field(
        None, description="When it happened (default: now); a time without an offset is "
        "read in the department's time zone.")
    summary: Text(5000, 1)
    next_step: Text(200) = ""
    next_on: IsoDate | None = None
    contact: BodyId | None = None
    coach: BodyId | None = Field(None, description="The coaching manager of a joint visit.")
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    accuracy_m: Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)] | None = None
    check_in: bool = Field(False, description="Check in here: the location is required.")


class ReviewIn(BodyIn):
    review: Text(5000, 1)
    improvement_points: Text(5000) = ""


# --- helpers -------------------------------------------------------------------------
_CUSTOMER_ORDERING = {"name": "name", "created_at": "created_at",
                      "next_revisit_on": "next_revisit_on",
                      "last_followup_at": "last_followup_at", "grade": "grade"}


def _is_overdue(customer, today: datetime.date) -> bool:
    return bool(customer.owner_id and customer.next_revisit_on
                and customer.next_revisit_on <= today)


def _customer_row(today: datetime.date):
    def row(customer) -> dict:
        return {
            "id": customer.pk, "name": customer.name, "kind": customer.kind,
            "credit_code": customer.credit_code, "region": customer.region,
            "stage": customer.stage, "grade": customer.grade, "phone": customer.phone,
            "owner": customer.owner, "last_followup_at": customer.last_followup_at,
            "next_revisit_on": customer.next_revisit_on,
            "overdue": _is_overdue(customer, today),
        }
    return row


def _customer_detail(customer) -> dict:
    owner = customer.owner
    return {
        **_customer_row(timezone.localdate())(customer),
        "industry": customer.industry, "source": customer.source,
        "address": customer.address, "notes": customer.notes,
        "owner_unit": owner.unit if owner else None,
        "collaborators": sorted(customer.collaborators.all(), key=lambda e: e.number),
        "in_pool": owner is None, "pooled_at": customer.pooled_at,
        "grade_is_manual": customer.grade_is_manual, "grade_reason": customer.grade_reason,
        "graded_at": customer.graded_at, "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }


def _fresh_customer(request, pk: int) -> dict:
    """The customer as a write left it, read again (in scope) for the answer."""
    try:
        customer = (selectors.customer_list(user=request.user)
                    .prefetch_related("collaborators").get(pk=pk))
    except Customer.DoesNotExist as exc:  # e.g. a head gave it away outside their view
        raise Http404 from exc
    return _customer_detail(customer)


def _employee(pk: int | None, field: str) -> Employee | None:
    """The employee a body names by id; an unknown id is a bad value of that field."""
    return body_ref(Employee.objects.select_related("unit"), pk, field,
                    _("There is no employee with this id."))


def _employees(ids: list[int], field: str) -> list[Employee]:
    wanted = set(ids)
    found = list(Employee.objects.select_related("unit").filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise DomainError(_("There is no employee with this id."), field=field, code="unknown")
    return found


def _contact_out(contact) -> dict:
    return {
        "id": contact.pk, "customer": contact.customer, "name": contact.name,
        "title": contact.title, "phone": contact.phone, "mobile": contact.mobile,
        "email": contact.email, "wechat": contact.wechat, "is_key": contact.is_key,
        "notes": contact.notes, "created_at": contact.created_at,
    }


def _visit_out(visit) -> dict:
    return {
        "id": visit.pk, "customer": visit.customer, "employee": visit.employee,
        "contact": visit.contact, "kind": visit.kind, "visited_at": visit.visited_at,
        "summary": visit.summary, "next_step": visit.next_step, "next_on": visit.next_on,
        "checked_in_at": visit.checked_in_at, "coach": visit.coach,
    }


def _visit_detail(visit) -> dict:
    return {
        **_visit_out(visit),
        "latitude": visit.latitude, "longitude": visit.longitude,
        "accuracy_m": visit.accuracy_m, "coach_review": visit.coach_review,
        "improvement_points": visit.improvement_points, "created_at": visit.created_at,
    }


# Visits before this are typing mistakes, not history (and far-off years cannot be stored
# in UTC once an offset is applied).
EARLIEST_VISIT = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def _visited_at(value: datetime.datetime | None) -> datetime.datetime | None:
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value < EARLIEST_VISIT:
        raise DomainError(_("A visit cannot be before the year 2000."), field="visited_at")
    if value > timezone.now() + datetime.timedelta(minutes=5):
        raise DomainError(_("A visit cannot be in the future."), field="visited_at")
    return value


def _coordinate(value: float | None) -> Decimal | None:
    # Stored with six decimals (about 0.1 m), which is all a phone's fix is worth.
    return None if value is None else Decimal(f"{value:.6f}")


# --- customers -----------------------------------------------------------------------
@router.get("/customers", response={200: list[CustomerOut], **ERRORS},
            summary="List customers")
@paginate(Paginated)
def customer_list(request, filters: Query[CustomerFilterIn]):
    data = filters.dict(exclude_none=True)
    ordering = data.pop("ordering")
    field = _CUSTOMER_ORDERING[ordering.lstrip("-")]
    field = "-" + field if ordering.startswith("-") else field
    filterset = CustomerFilterSet(data, queryset=selectors.customer_list(user=request.user),
                                  request=request)
    if not filterset.is_valid():
        raise filter_errors(filterset)
    direction = "-pk" if ordering.startswith("-") else "pk"
    return Mapped(filterset.qs.order_by(field, direction),
                  _customer_row(timezone.localdate()))


@router.post("/customers", response={201: CustomerDetailOut, **ERRORS},
             summary="Create a customer")
def customer_create(request, payload: CustomerIn):
    data = payload.dict()
    owner = _employee(data.pop("owner"), "owner")
    collaborators = _employees(data.pop("collaborators"), "collaborators")
    customer = services.customer_create(by=request.user, owner=owner,
                                        collaborators=collaborators, **data)
    return Status(201, _fresh_customer(request, customer.pk))


# Registered before /customers/{customer_id}, which would otherwise take "transfer" as an id.
@router.post("/customers/transfer", response={200: TransferOut, **ERRORS},
             summary="Transfer customers to another owner")
def customer_transfer(request, payload: TransferIn):
    """A head gives one or many customers to someone in their unit, with a reason."""
    wanted = set(payload.customer_ids)
    customers = list(selectors.customer_list(user=request.user).filter(pk__in=wanted))
    missing = wanted - {c.pk for c in customers}
    if missing:
        raise DomainError(_("No customer you can see has the id %s.")
                          % ", ".join(str(pk) for pk in sorted(missing)[:10]),
                          field="customer_ids", code="unknown")
    moved = services.customer_transfer(customers=customers, by=request.user,
                                       to_owner=_employee(payload.to_owner, "to_owner"),
                                       reason=payload.reason)
    return {"moved": moved}


@router.get("/customers/{customer_id}", response={200: CustomerDetailOut, **ERRORS},
            summary="One customer")
def customer_detail(request, customer_id: ObjectId):
    return _customer_detail(selectors.customer_get(user=request.user, pk=customer_id))


@router.patch("/customers/{customer_id}", response={200: CustomerDetailOut, **ERRORS},
              summary="Edit a customer")
def customer_update(request, customer_id: ObjectId, payload: CustomerPatch):
    customer = selectors.customer_get(user=request.user, pk=customer_id)
    data = payload.dict(exclude_unset=True)
    collaborators = data.pop("collaborators", None)
    if data or collaborators is None:  # an empty body still asks: may they edit it?
        customer = services.customer_update(customer=customer, by=request.user, **data)
    if collaborators is not None:
        services.customer_set_collaborators(
            customer=customer, by=request.user,
            collaborators=_employees(collaborators, "collaborators"))
    return _fresh_customer(request, customer.pk)


@router.post("/customers/{customer_id}/claim", response={200: CustomerDetailOut, **ERRORS},
             summary="Claim a customer from the public pool")
def customer_claim(request, customer_id: ObjectId):
    customer = selectors.customer_get(user=request.user, pk=customer_id)
    services.customer_claim(customer=customer, by=request.user)
    return _fresh_customer(request, customer_id)


@router.post("/customers/{customer_id}/release", response={200: CustomerDetailOut, **ERRORS},
             summary="Release a customer to the public pool")
def customer_release(request, customer_id: ObjectId, payload: ReleaseIn):
    customer = selectors.customer_get(user=request.user, pk=customer_id)
    services.customer_release(customer=customer, by=request.user, reason=payload.reason)
    return _fresh_customer(request, customer_id)


@router.post("/customers/{customer_id}/grade", response={200: CustomerDetailOut, **ERRORS},
             summary="Set a customer's grade by hand")
def customer_grade_set(request, customer_id: ObjectId, payload: GradeSetIn):
    """A head sets the grade; it stays until dropped (DELETE), whatever money comes in."""
    customer = selectors.customer_get(user=request.user, pk=customer_id)
    services.customer_grade_override(customer=customer, by=request.user,
                                     grade=payload.grade, reason=payload.reason)
    return _fresh_customer(request, customer_id)


@router.delete("/customers/{customer_id}/grade", response={200: CustomerDetailOut, **ERRORS},
               summary="Drop a hand-set grade")
def customer_grade_automatic(request, customer_id: ObjectId):
    """The grade follows the rules (money received in 12 months) again."""
    customer = selectors.customer_get(user=request.user, pk=customer_id)
    services.customer_grade_automatic(customer=customer, by=request.user)
    return _fresh_customer(request, customer_id)


# --- contacts ------------------------------------------------------------------------
@router.get("/customers/{customer_id}/contacts", response={200: list[ContactOut], **ERRORS},
            summary="A customer's contacts")
@paginate(Paginated)
def contact_list(request, customer_id: ObjectId):
    customer = selectors.customer_get(user=request.user, pk=customer_id)
    contacts = selectors.contact_list(user=request.user).filter(customer=customer)
    return Mapped(contacts.order_by("-is_key", "name", "pk"), _contact_out)


@router.post("/customers/{customer_id}/contacts", response={201: ContactOut, **ERRORS},
             summary="Add a contact")
def contact_create(request, customer_id: ObjectId, payload: ContactIn):
    customer = selectors.customer_get(user=request.user, pk=customer_id)
    contact = services.contact_create(customer=customer, by=request.user, **payload.dict())
    return Status(201, _contact_out(selectors.contact_get(user=request.user, pk=contact.pk)))


@router.get("/contacts/{contact_id}", response={200: ContactOut, **ERRORS},
            summary="One contact")
def contact_detail(request, contact_id: ObjectId):
    return _contact_out(selectors.contact_get(user=request.user, pk=contact_id))


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **ERRORS},
              summary="Edit a contact")
def contact_update(request, contact_id: ObjectId, payload: ContactPatch):
    contact = selectors.contact_get(user=request.user, pk=contact_id)
    contact = services.contact_update(contact=contact, by=request.user,
                                      **payload.dict(exclude_unset=True))
    return _contact_out(contact)


@router.delete("/contacts/{contact_id}", response={204: None, **ERRORS},
               summary="Delete a contact")
def contact_delete(request, contact_id: ObjectId):
    contact = selectors.contact_get(user=request.user, pk=contact_id)
    services.contact_delete(contact=contact, by=request.user)
    return Status(204, None)


# --- visits --------------------------------------------------------------------------
@router.get("/visits", response={200: list[VisitOut], **ERRORS}, summary="List visits")
@paginate(Paginated)
def visit_list(request, filters: Query[VisitFilterIn]):
    data = filters.dict(exclude_none=True)
    rows = selectors.visit_list(user=request.user)
    if "customer" in data:
        rows = rows.filter(customer_id=data.pop("customer"))
    if "employee" in data:
        rows = rows.filter(employee_id=data.pop("employee"))
    filterset = VisitFilterSet(data, queryset=rows)
    if not filterset.is_valid():
        raise filter_errors(filterset)
    return Mapped(filterset.qs.order_by("-visited_at", "-pk"), _visit_out)


@router.post("/customers/{customer_id}/visits", response={201: VisitDetailOut, **ERRORS},
             summary="Log a visit")
def visit_log(request, customer_id: ObjectId, payload: VisitIn):
    """A visit, call or meeting with the customer; it counts as the follow-up and sets the
    next revisit. With ``check_in`` the location (latitude, longitude) is required."""
    customer = selectors.customer_get(user=request.user, pk=customer_id)
    data = payload.dict(exclude_none=True)
    if "visited_at" in data:
        data["visited_at"] = _visited_at(data["visited_at"])
    if "contact" in data:
        contact = selectors.contact_list(user=request.user).filter(pk=data["contact"]).first()
        if contact is None:
            raise DomainError(_("There is no contact with this id."), field="contact",
                              code="unknown")
        data["contact"] = contact
    if "coach" in data:
        data["coach"] = _employee(data["coach"], "coach")
    for key in ("latitude", "longitude"):
        if key in data:
            data[key] = _coordinate(data[key])
    visit = services.visit_log(customer=customer, by=request.user, **data)
    return Status(201, _visit_detail(selectors.visit_get(user=request.user, pk=visit.pk)))


@router.get("/visits/{visit_id}", response={200: VisitDetailOut, **ERRORS}, summary="One visit")
def visit_detail(request, visit_id: ObjectId):
    return _visit_detail(selectors.visit_get(user=request.user, pk=visit_id))


@router.post("/visits/{visit_id}/review", response={200: VisitDetailOut, **ERRORS},
             summary="Review a joint visit")
def visit_review(request, visit_id: ObjectId, payload: ReviewIn):
    """The coaching manager's review of a joint visit they went on."""
    visit = selectors.visit_get(user=request.user, pk=visit_id)
    visit = services.visit_review(visit=visit, by=request.user, review=payload.review,
                                  improvement_points=payload.improvement_points)
    return _visit_detail(visit)


# --- complaints, surveys, market intelligence (CUS-9..11) ----------------------------
SeverityIn = Literal[tuple(Severity.values)]
ComplaintStatusIn = Literal[tuple(ComplaintStatus.values)]
ReportKindIn = Literal[tuple(ReportKind.values)]
Score = Annotated[int, Field(ge=1, le=5), BeforeValidator(json_int)]
Period = Annotated[str, Field(min_length=7, max_length=7, pattern=PERIOD_PATTERN,
                              description="A quarter (2026-Q3) or a month (2026-07).")]


class ComplaintOut(Schema):
    id: int
    customer: CustomerRef
    title: str
    severity: str
    status: str
    handler: EmployeeRef
    received_at: datetime.datetime
    deadline_at: datetime.datetime
    overdue: bool
    resolved_at: datetime.datetime | None
    escalated_to: EmployeeRef | None
    escalated_at: datetime.datetime | None


class ComplaintDetailOut(ComplaintOut):
    description: str
    resolution: str


class ComplaintFilterIn(Schema):
    q: Text(100) | None = None
    customer: Id | None = None
    status: ComplaintStatusIn | None = None
    severity: SeverityIn | None = None
    overdue: QueryBool | None = Field(None, description="Still pending past the deadline.")
    handler: Id | None = Field(None, description="Employee id of the handler.")
    unit: Id | None = Field(None, description="Handlers in this unit or any unit under it.")
    escalated_to_me: QueryBool | None = Field(None, description="Escalated to you.")
    ordering: Literal["received_at", "-received_at", "deadline_at", "-deadline_at"] = \
        "-received_at"


class ComplaintIn(BodyIn):
    title: Text(200, 1)
    description: Text(5000, 1)
    severity: SeverityIn = Severity.MEDIUM
    handler: BodyId | None = Field(None, description="Employee id; default: the customer's "
                                   "owner.")
    received_at: IsoDateTime | None = Field(
        None, description="When it came in (default: now); sets the deadline with the "
        "severity.")


class ComplaintPatch(BodyIn):
    """Only the fields sent are changed; a new severity moves the deadline."""

    title: Text(200, 1) = None
    description: Text(5000, 1) = None
    severity: SeverityIn = None


class ResolveIn(BodyIn):
    resolution: Text(5000, 1)


class ReassignIn(BodyIn):
    handler: BodyId


class SurveyOut(Schema):
    id: int
    customer: CustomerRef
    period: str
    surveyed_on: datetime.date
    service: int
    delivery: int
    product: int
    comment: str
    surveyed_by: EmployeeRef


class SurveyFilterIn(Schema):
    customer: Id | None = None
    period: Text(7) | None = None
    q: Text(100) | None = Field(None, description="Customer name.")
    unit: Id | None = Field(None, description="Customers owned, or surveys made, in this "
                            "unit or any unit under it.")


class SurveyIn(BodyIn):
    period: Period
    surveyed_on: IsoDate | None = Field(None, description="Default: today.")
    service: Score
    delivery: Score
    product: Score
    comment: Text(2000) = ""


class SurveyPatch(BodyIn):
    period: Period = None
    surveyed_on: IsoDate = None
    service: Score = None
    delivery: Score = None
    product: Score = None
    comment: Text(2000) = None


class MarketReportOut(Schema):
    id: int
    reporter: EmployeeRef
    kind: str
    region: str
    title: str
    text: str
    reported_on: datetime.date
    customer: CustomerRef | None


class MarketReportFilterIn(Schema):
    q: Text(100) | None = None
    kind: ReportKindIn | None = None
    region: Text(50) | None = None
    since: IsoDate | None = Field(None, description="Reported on or after this day.")
    until: IsoDate | None = Field(None, description="Reported on or before this day.")


class MarketReportIn(BodyIn):
    kind: ReportKindIn
    title: Text(200, 1)
    text: Text(10000, 1)
    region: Text(50) = ""
    reported_on: IsoDate | None = Field(None, description="Default: today.")
    customer: BodyId | None = Field(None, description="The customer it came from, if any.")


class MarketReportPatch(BodyIn):
    kind: ReportKindIn = None
    title: Text(200, 1) = None
    text: Text(10000, 1) = None
    region: Text(50) = None
    reported_on: IsoDate = None


def _complaint_out(now: datetime.datetime):
    def out(complaint) -> dict:
        return {
            "id": complaint.pk, "customer": complaint.customer, "title": complaint.title,
            "severity": complaint.severity, "status": complaint.status,
            "handler": complaint.handler, "received_at": complaint.received_at,
            "deadline_at": complaint.deadline_at,
            "overdue": complaint.status in COMPLAINT_PENDING and complaint.deadline_at < now,
            "resolved_at": complaint.resolved_at, "escalated_to": complaint.escalated_to,
            "escalated_at": complaint.escalated_at,
        }
    return out


def _complaint_detail(complaint) -> dict:
    return {**_complaint_out(timezone.now())(complaint),
            "description": complaint.description, "resolution": complaint.resolution}


def _survey_out(survey) -> dict:
    return {"id": survey.pk, "customer": survey.customer, "period": survey.period,
            "surveyed_on": survey.surveyed_on, "service": survey.service,
            "delivery": survey.delivery, "product": survey.product, "comment": survey.comment,
            "surveyed_by": survey.surveyed_by}


def _report_out(report) -> dict:
    return {"id": report.pk, "reporter": report.reporter, "kind": report.kind,
            "region": report.region, "title": report.title, "text": report.text,
            "reported_on": report.reported_on, "customer": report.customer}


def _handler(request, pk: int) -> Employee:
    """A handler named by id: someone the caller may see (others are unknown to them)."""
    from bizdept.org.selectors import employee_list

    found = employee_list(user=request.user).select_related("unit", "user").filter(pk=pk).first()
    if found is None:
        raise DomainError(_("There is no employee with this id."), field="handler",
                          code="unknown")
    return found


def _complaint_received_at(value):
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value is not None and value < EARLIEST_VISIT:
        raise DomainError(_("A complaint cannot be before the year 2000."), field="received_at")
    return value


# complaints
@router.get("/complaints", response={200: list[ComplaintOut], **ERRORS},
            summary="List complaints")
@paginate(Paginated)
def complaint_list(request, filters: Query[ComplaintFilterIn]):
    data = filters.dict(exclude_none=True)
    ordering = data.pop("ordering")
    rows = selectors.complaint_list(user=request.user)
    if "customer" in data:
        rows = rows.filter(customer_id=data.pop("customer"))
    filterset = ComplaintFilterSet(data, queryset=rows, request=request)
    if not filterset.is_valid():
        raise filter_errors(filterset)
    direction = "-pk" if ordering.startswith("-") else "pk"
    return Mapped(filterset.qs.order_by(ordering, direction), _complaint_out(timezone.now()))


@router.get("/customers/{customer_id}/complaints", response={200: list[ComplaintOut], **ERRORS},
            summary="A customer's complaints")
@paginate(Paginated)
def customer_complaints(request, customer_id: ObjectId):
    customer = selectors.customer_get(user=request.user, pk=customer_id)
    rows = selectors.complaint_list(user=request.user).filter(customer=customer)
    return Mapped(rows.order_by("-received_at", "-pk"), _complaint_out(timezone.now()))


@router.post("/customers/{customer_id}/complaints", response={201: ComplaintDetailOut, **ERRORS},
             summary="Log a complaint")
def complaint_create(request, customer_id: ObjectId, payload: ComplaintIn):
    """The deadline follows the severity: critical 24 hours, high 2 days, medium 5 days,
    low 10 days from when it came in."""
    customer = selectors.customer_get(user=request.user, pk=customer_id)
    data = payload.dict()
    handler = data.pop("handler")
    data["received_at"] = _complaint_received_at(data["received_at"])
    complaint = services.complaint_create(
        customer=customer, by=request.user,
        handler=_handler(request, handler) if handler is not None else None, **data)
    return Status(201, _complaint_detail(selectors.complaint_get(user=request.user,
                                                                 pk=complaint.pk)))


@router.get("/complaints/{complaint_id}", response={200: ComplaintDetailOut, **ERRORS},
            summary="One complaint")
def complaint_detail(request, complaint_id: ObjectId):
    return _complaint_detail(selectors.complaint_get(user=request.user, pk=complaint_id))


@router.patch("/complaints/{complaint_id}", response={200: ComplaintDetailOut, **ERRORS},
              summary="Edit a complaint")
def complaint_update(request, complaint_id: ObjectId, payload: ComplaintPatch):
    complaint = selectors.complaint_get(user=request.user, pk=complaint_id)
    services.complaint_update(complaint=complaint, by=request.user,
                              **payload.dict(exclude_unset=True))
    return _complaint_detail(complaint)


@router.post("/complaints/{complaint_id}/start", response={200: ComplaintDetailOut, **ERRORS},
             summary="Start working on a complaint")
def complaint_start(request, complaint_id: ObjectId):
    complaint = selectors.complaint_get(user=request.user, pk=complaint_id)
    services.complaint_start(complaint=complaint, by=request.user)
    return _complaint_detail(complaint)


@router.post("/complaints/{complaint_id}/resolve", response={200: ComplaintDetailOut, **ERRORS},
             summary="Resolve a complaint")
def complaint_resolve(request, complaint_id: ObjectId, payload: ResolveIn):
    complaint = selectors.complaint_get(user=request.user, pk=complaint_id)
    services.complaint_resolve(complaint=complaint, by=request.user,
                               resolution=payload.resolution)
    return _complaint_detail(complaint)


@router.post("/complaints/{complaint_id}/close", response={200: ComplaintDetailOut, **ERRORS},
             summary="Close a resolved complaint")
def complaint_close(request, complaint_id: ObjectId):
    complaint = selectors.complaint_get(user=request.user, pk=complaint_id)
    services.complaint_close(complaint=complaint, by=request.user)
    return _complaint_detail(complaint)


@router.post("/complaints/{complaint_id}/reassign",
             response={200: ComplaintDetailOut, **ERRORS}, summary="Reassign a complaint")
def complaint_reassign(request, complaint_id: ObjectId, payload: ReassignIn):
    """A head gives the complaint to someone in their unit."""
    complaint = selectors.complaint_get(user=request.user, pk=complaint_id)
    services.complaint_reassign(complaint=complaint, by=request.user,
                                handler=_handler(request, payload.handler))
    return _complaint_detail(complaint)


# satisfaction surveys
@router.get("/surveys", response={200: list[SurveyOut], **ERRORS},
            summary="List satisfaction surveys")
@paginate(Paginated)
def survey_list(request, filters: Query[SurveyFilterIn]):
    data = filters.dict(exclude_none=True)
    rows = selectors.survey_list(user=request.user)
    if "customer" in data:
        rows = rows.filter(customer_id=data.pop("customer"))
    filterset = SurveyFilterSet(data, queryset=rows, request=request)
    if not filterset.is_valid():
        raise filter_errors(filterset)
    return Mapped(filterset.qs.order_by("-surveyed_on", "-pk"), _survey_out)


@router.post("/customers/{customer_id}/surveys", response={201: SurveyOut, **ERRORS},
             summary="Record a satisfaction survey")
def survey_record(request, customer_id: ObjectId, payload: SurveyIn):
    """One per customer and period; a second one for the same period answers 409."""
    customer = selectors.customer_get(user=request.user, pk=customer_id)
    data = payload.dict()
    data["surveyed_on"] = data["surveyed_on"] or timezone.localdate()
    survey = services.survey_record(customer=customer, by=request.user, **data)
    return Status(201, _survey_out(selectors.survey_get(user=request.user, pk=survey.pk)))


@router.get("/surveys/{survey_id}", response={200: SurveyOut, **ERRORS},
            summary="One satisfaction survey")
def survey_detail(request, survey_id: ObjectId):
    return _survey_out(selectors.survey_get(user=request.user, pk=survey_id))


@router.patch("/surveys/{survey_id}", response={200: SurveyOut, **ERRORS},
              summary="Correct a satisfaction survey")
def survey_update(request, survey_id: ObjectId, payload: SurveyPatch):
    survey = selectors.survey_get(user=request.user, pk=survey_id)
    survey = services.survey_update(survey=survey, by=request.user,
                                    **payload.dict(exclude_unset=True))
    return _survey_out(survey)


# market intelligence
@router.get("/market-reports", response={200: list[MarketReportOut], **ERRORS},
            summary="List market reports")
@paginate(Paginated)
def market_report_list(request, filters: Query[MarketReportFilterIn]):
    data = filters.dict(exclude_none=True)
    filterset = MarketReportFilterSet(data, queryset=selectors.market_report_list(
        user=request.user), request=request)
    if not filterset.is_valid():
        raise filter_errors(filterset)
    return Mapped(filterset.qs.order_by("-reported_on", "-pk"), _report_out)


@router.post("/market-reports", response={201: MarketReportOut, **ERRORS},
             summary="Report market news")
def market_report_create(request, payload: MarketReportIn):
    """Competitors, demand, prices, policy (市场信息反馈); optionally from a customer."""
    data = payload.dict()
    customer_id = data.pop("customer")
    customer = None
    if customer_id is not None:
        customer = selectors.customer_list(user=request.user).filter(pk=customer_id).first()
        if customer is None:
            raise DomainError(_("No customer you can see has this id."), field="customer",
                              code="unknown")
    report = services.market_report_create(by=request.user, customer=customer, **data)
    return Status(201, _report_out(selectors.market_report_get(user=request.user,
                                                                 pk=report.pk)))


@router.get("/market-reports/{report_id}", response={200: MarketReportOut, **ERRORS},
            summary="One market report")
def market_report_detail(request, report_id: ObjectId):
    return _report_out(selectors.market_report_get(user=request.user, pk=report_id))


@router.patch("/market-reports/{report_id}", response={200: MarketReportOut, **ERRORS},
              summary="Edit a market report")
def market_report_update(request, report_id: ObjectId, payload: MarketReportPatch):
    report = selectors.market_report_get(user=request.user, pk=report_id)
    report = services.market_report_update(report=report, by=request.user,
                                           **payload.dict(exclude_unset=True))
    return _report_out(report)


@router.delete("/market-reports/{report_id}", response={204: None, **ERRORS},
               summary="Delete a market report")
def market_report_delete(request, report_id: ObjectId):
    report = selectors.market_report_get(user=request.user, pk=report_id)
    services.market_report_delete(report=report, by=request.user)
    return Status(204, None)
