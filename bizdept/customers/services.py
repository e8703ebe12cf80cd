"""Every write to customers and their field work (CUS-1..8). One transaction each.

``by`` is always the acting login (``request.user``); what they may do follows from the
scope rule (ORG-4) and their roles' capabilities (ORG-3).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bizdept.core.errors import Conflict, DomainError
from bizdept.core.services import audited_save
from bizdept.core.validators import normalize_company_name, normalize_phone, validate_credit_code
from bizdept.org.choices import Capability
from bizdept.org.models import Employee, EmployeeStatus
from bizdept.org.scope import capabilities_of, employee_of, scope_for

from . import selectors
from .choices import CustomerKind, OwnerChangeKind, Stage, VisitKind
from .models import Contact, Customer, CustomerSettings, GradeRule, OwnerChange, Visit


class DuplicateCustomer(DomainError):
    """CUS-5: refused, saying only who owns the existing customer."""

    status = 409


# --- who may do what -----------------------------------------------------------------
def _actor(by) -> Employee:
    me = employee_of(by)
    if me is None or me.status == EmployeeStatus.LEFT:
        raise PermissionDenied
    return me


def can_edit(by, customer: Customer) -> bool:
    """The owner, a collaborator, or a head whose subtree holds the owner (ORG-4)."""
    if customer.owner_id is None:
        return scope_for(by, "sales").everything
    if scope_for(by, "sales").covers(customer.owner):
        return True
    me = employee_of(by)
    return me is not None and customer.collaborators.filter(pk=me.pk).exists()


def _require_edit(by, customer: Customer) -> None:
    if not can_edit(by, customer):
        raise PermissionDenied


def _require_head_of(by, employees: Iterable[Employee]) -> None:
    """Heads move customers only between people in their own subtree (CUS-7)."""
    if Capability.MANAGE_TEAM not in capabilities_of(by):
        raise PermissionDenied
    scope = scope_for(by, "sales")
    if not all(scope.covers(e) for e in employees if e is not None):
        raise PermissionDenied


# --- customers -----------------------------------------------------------------------
@dataclass
class _Identity:
    name: str
    name_key: str
    credit_code: str
    phone: str


def _identity(*, name: str, kind: str, credit_code: str, phone: str) -> _Identity:
    errors: dict[str, list] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Enter the customer's name.")]
    code = ""
    if credit_code:
        try:
            code = validate_credit_code(credit_code)
        except ValidationError as exc:
            errors["credit_code"] = list(exc.messages)
    normalized_phone = ""
    try:
        normalized_phone = normalize_phone(phone or "")
    except ValidationError as exc:
        errors["phone"] = list(exc.messages)
    if errors:
        first = next(iter(errors.values()))[0]
        raise DomainError(first, code="invalid", errors=errors)
    return _Identity(name, normalize_company_name(name), code, normalized_phone)


def _refuse_duplicates(identity: _Identity, *, extra_phones=(), exclude_pk=None) -> None:
    found = selectors.duplicate_of(name_key=identity.name_key, credit_code=identity.credit_code,
                                   phones=[identity.phone, *extra_phones], exclude_pk=exclude_pk)
    if found is None:
        return
    existing, matched_on = found
    field = {"credit_code": "credit_code", "name": "name", "phone": "phone"}[matched_on]
    what = {"credit_code": _("this credit code"), "name": _("this name"),
            "phone": _("this phone number")}[matched_on]
    if existing.owner_id is None:
        message = _("A customer with %(what)s already exists in the public pool; claim it "
                    "there.") % {"what": what}
    else:
        message = _("A customer with %(what)s already exists; it belongs to %(owner)s "
                    "(%(unit)s).") % {"what": what, "owner": existing.owner.name,
                                      "unit": existing.owner.unit.name}
    raise DuplicateCustomer(message, code="duplicate", field=field)


CUSTOMER_FIELDS = {"kind", "name", "credit_code", "industry", "region", "source", "stage",
                   "phone", "address", "notes"}


@transaction.atomic
def customer_create(*, by, name: str, kind: str = CustomerKind.COMPANY, credit_code: str = "",
                    phone: str = "", owner: Employee | None = None,
                    collaborators: Iterable[Employee] = (), **fields) -> Customer:
    """A new customer, owned by its creator unless a head gives it to someone in scope."""
    me = _actor(by)
    unknown = set(fields) - CUSTOMER_FIELDS
    if unknown:
        raise DomainError(_("These fields cannot be set here: %s") % ", ".join(sorted(unknown)))
    owner = owner or me
    if owner.pk != me.pk:
        _require_head_of(by, [owner])
    identity = _identity(name=name, kind=kind, credit_code=credit_code, phone=phone)
    _refuse_duplicates(identity)
    customer = Customer(kind=kind, name=identity.name, name_key=identity.name_key,
                        credit_code=identity.credit_code, phone=identity.phone, owner=owner,
                        **fields)
    _save_unique(customer, by=by)
    if collaborators:
        customer.collaborators.set(list(collaborators))
    OwnerChange.objects.create(customer=customer, kind=OwnerChangeKind.CREATED, to_owner=owner,
                               by=me)
    customer_grade_recompute(customers=[customer])
    customer.refresh_from_db()
    return customer


def _save_unique(customer: Customer, *, by) -> None:
    """Save; the unique keys were checked just before, so a clash here is a lost race."""
    try:
        with transaction.atomic():
            audited_save(customer, by=by, validate_constraints=False)
    except IntegrityError as exc:
        raise DuplicateCustomer(_("This customer was just created by someone else."),
                                code="duplicate", field="name") from exc


@transaction.atomic
def customer_update(*, customer: Customer, by, **fields) -> Customer:
    _require_edit(by, customer)
    unknown = set(fields) - CUSTOMER_FIELDS
    if unknown:
        raise DomainError(_("These fields cannot be changed here: %s") % ", ".join(sorted(unknown)))
    identity_keys = {"name", "kind", "credit_code", "phone"}
    if identity_keys & set(fields):
        identity = _identity(name=fields.get("name", customer.name),
                             kind=fields.get("kind", customer.kind),
                             credit_code=fields.get("credit_code", customer.credit_code),
                             phone=fields.get("phone", customer.phone))
        _refuse_duplicates(identity, exclude_pk=customer.pk)
        fields.update(name=identity.name, credit_code=identity.credit_code, phone=identity.phone)
        customer.name_key = identity.name_key
    for key, value in fields.items():
        setattr(customer, key, value)
    _save_unique(customer, by=by)
    return customer


@transaction.atomic
def customer_set_collaborators(*, customer: Customer, by, collaborators: Iterable[Employee]):
    _require_edit(by, customer)
    collaborators = [c for c in collaborators if c.pk != customer.owner_id]
    customer._history_user = by
    customer.collaborators.set(collaborators)
    return customer


# --- owner changes: transfer, pool (CUS-6, CUS-7) ------------------------------------
@transaction.atomic
def customer_transfer(*, customers: Iterable[Customer], to_owner: Employee, by,
                      reason: str) -> int:
    """A head gives customers to someone in their subtree, with a reason (single or bulk)."""
    me = _actor(by)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason for the transfer."), field="reason", code="required")
    if to_owner.status == EmployeeStatus.LEFT:
        raise DomainError(_("%s has left and cannot own customers.") % to_owner.name,
                          field="to_owner")
    ids = [c.pk for c in customers]
    locked = list(Customer.objects.select_for_update().select_related("owner__unit")
                  .filter(pk__in=ids))
    if len(locked) != len(set(ids)):
        raise DomainError(_("Some of these customers no longer exist."), field="customers")
    _require_head_of(by, [to_owner, *[c.owner for c in locked]])
    now = timezone.now()
    moved = [c for c in locked if c.owner_id != to_owner.pk]
    OwnerChange.objects.bulk_create([
        OwnerChange(customer=c, kind=OwnerChangeKind.TRANSFER, from_owner=c.owner,
                    to_owner=to_owner, reason=reason, by=me) for c in moved])
    for customer in moved:
        customer.owner = to_owner
        customer.pooled_at = None
        customer.last_followup_at = customer.last_followup_at or now
    Customer.objects.bulk_update(moved, ["owner", "pooled_at", "last_followup_at"])
    _record_history(moved, by=by, reason=reason)
    _set_next_revisit(moved)
    return len(moved)


def _record_history(customers: list[Customer], *, by, reason: str) -> None:
    """bulk_update skips signals; write the audit rows (ORG-5) in one statement."""
    Customer.history.bulk_history_create(customers, update=True, default_user=by,
                                         default_change_reason=reason)


@transaction.atomic
def customer_claim(*, customer: Customer, by) -> Customer:
    """Take a customer from the pool, within the daily and total limits (CUS-6)."""
    me = _actor(by)
    settings = CustomerSettings.current()
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.owner_id is not None:
        raise Conflict(_("Someone else has just claimed this customer."), code="taken")
    today_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    claimed_today = OwnerChange.objects.filter(by=me, kind=OwnerChangeKind.CLAIM,
                                               at__gte=today_start).count()
    if claimed_today >= settings.daily_claim_limit:
        raise DomainError(_("You have claimed %d customers today, the daily limit.")
                          % settings.daily_claim_limit, code="limit")
    if settings.owned_limit and Customer.objects.filter(owner=me).count() >= settings.owned_limit:
        raise DomainError(_("You already own %d customers, the most one person may own.")
                          % settings.owned_limit, code="limit")
    customer.owner = me
    customer.pooled_at = None
    customer.last_followup_at = timezone.now()
    audited_save(customer, by=by)
    OwnerChange.objects.create(customer=customer, kind=OwnerChangeKind.CLAIM, to_owner=me, by=me)
    _set_next_revisit([customer])
    return customer


@transaction.atomic
def customer_release(*, customer: Customer, by, reason: str) -> Customer:
    """Give a customer back to the pool (its owner or their head), with a reason."""
    me = _actor(by)
    _require_edit(by, customer)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason for releasing the customer."), field="reason")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    OwnerChange.objects.create(customer=customer, kind=OwnerChangeKind.RELEASE,
                               from_owner=customer.owner, reason=reason, by=me)
    customer.owner = None
    customer.pooled_at = timezone.now()
    customer.next_revisit_on = None
    customer._change_reason = reason
    audited_save(customer, by=by)
    customer.collaborators.clear()
    return customer


@transaction.atomic
def pool_release_stale(*, now: datetime.datetime | None = None) -> int:
    """The scheduled sweep (CUS-6): customers without follow-up for N days go to the pool.

    Active customers with a follow-up inside the window stay; the sweep is idempotent.
    """
    now = now or timezone.now()
    days = CustomerSettings.current().pool_release_days
    cutoff = now - datetime.timedelta(days=days)
    stale = list(
        Customer.objects.select_for_update().filter(owner__isnull=False).filter(
            Q(last_followup_at__lt=cutoff)
            | Q(last_followup_at__isnull=True, created_at__lt=cutoff))
    )
    if not stale:
        return 0
    reason = _("No follow-up for %d days") % days
    OwnerChange.objects.bulk_create([
        OwnerChange(customer=c, kind=OwnerChangeKind.RELEASE, from_owner_id=c.owner_id,
                    reason=reason) for c in stale])
    for customer in stale:
        customer.owner = None
        customer.pooled_at = now
        customer.next_revisit_on = None
    Customer.objects.bulk_update(stale, ["owner", "pooled_at", "next_revisit_on"], batch_size=1000)
    _record_history(stale, by=None, reason=reason)
    Customer.collaborators.through.objects.filter(customer__in=[c.pk for c in stale]).delete()
    return len(stale)


# --- grading and revisits (CUS-3, CUS-4) ---------------------------------------------
def grade_for(amount: Decimal, rules: list[GradeRule]) -> GradeRule | None:
    """The highest grade whose threshold the amount reaches (rules sorted high to low)."""
    for rule in sorted(rules, key=lambda r: r.min_received, reverse=True):
        if amount >= rule.min_received:
            return rule
    return None


def revisit_due_on(last: datetime.date, days: int) -> datetime.date:
    return last + datetime.timedelta(days=days)


def _set_next_revisit(customers: list[Customer], rules: list[GradeRule] | None = None) -> None:
    """next_revisit_on = last follow-up (or creation) + its grade's interval."""
    rules = rules if rules is not None else selectors.grade_rules()
    interval = {r.grade: r.revisit_days for r in rules}
    fallback = max(interval.values(), default=30)
    for customer in customers:
        if customer.owner_id is None:
            customer.next_revisit_on = None
            continue
        last = timezone.localdate(customer.last_followup_at or customer.created_at or timezone.now())
        customer.next_revisit_on = revisit_due_on(last, interval.get(customer.grade, fallback))
    Customer.objects.bulk_update(customers, ["next_revisit_on"], batch_size=1000)


def customer_grade_recompute(*, customers: Iterable[Customer] | None = None,
                             as_of: datetime.date | None = None, batch: int = 2000) -> int:
    """Re-grade customers (all when none given) from money received in the 12 months up to
    ``as_of``; manual grades are kept. A constant number of queries per batch."""
    as_of = as_of or timezone.localdate()
    since = as_of.replace(year=as_of.year - 1) + datetime.timedelta(days=1) \
        if not (as_of.month == 2 and as_of.day == 29) else as_of.replace(year=as_of.year - 1,
                                                                          day=28)
    rules = selectors.grade_rules()
    if customers is None:
        ids = list(Customer.objects.values_list("pk", flat=True))
    else:
        ids = [c.pk for c in customers]
    changed = 0
    now = timezone.now()
    for start in range(0, len(ids), batch):
        chunk = list(Customer.objects.filter(pk__in=ids[start:start + batch]))
        received = selectors.money_received([c.pk for c in chunk], since=since, until=as_of)
        for customer in chunk:
            if customer.grade_is_manual:
                continue
            rule = grade_for(received[customer.pk], rules)
            grade = rule.grade if rule else ""
            if grade != customer.grade:
                changed += 1
            customer.grade = grade
            customer.graded_at = now
        Customer.objects.bulk_update(chunk, ["grade", "graded_at"])
        _set_next_revisit(chunk, rules)
    return changed


@transaction.atomic
def customer_grade_override(*, customer: Customer, by, grade: str, reason: str) -> Customer:
    """A head sets a grade by hand; the reason is required and kept (CUS-3)."""
    if Capability.MANAGE_TEAM not in capabilities_of(by):
        raise PermissionDenied
    _require_edit(by, customer)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason for setting the grade by hand."), field="reason",
                          code="required")
    if grade and not GradeRule.objects.filter(grade=grade).exists():
        raise DomainError(_("Unknown grade."), field="grade")
    customer.grade = grade
    customer.grade_is_manual = True
    customer.grade_reason = reason
    customer.graded_at = timezone.now()
    audited_save(customer, by=by)
    _set_next_revisit([customer])
    return customer


@transaction.atomic
def customer_grade_automatic(*, customer: Customer, by) -> Customer:
    """Drop a manual grade; the rules grade the customer again."""
    if Capability.MANAGE_TEAM not in capabilities_of(by):
        raise PermissionDenied
    _require_edit(by, customer)
    customer.grade_is_manual = False
    customer.grade_reason = ""
    audited_save(customer, by=by)
    customer_grade_recompute(customers=[customer])
    customer.refresh_from_db()
    return customer


# --- contacts (CUS-2) ----------------------------------------------------------------
CONTACT_FIELDS = {"name", "title", "phone", "mobile", "email", "wechat", "is_key", "notes"}


def _contact_phones(fields: dict) -> dict:
    errors = {}
    for key in ("phone", "mobile"):
        if key in fields:
            try:
                fields[key] = normalize_phone(fields[key] or "")
            except ValidationError as exc:
                errors[key] = list(exc.messages)
    if errors:
        raise DomainError(next(iter(errors.values()))[0], errors=errors)
    return fields


@transaction.atomic
def contact_create(*, customer: Customer, by, **fields) -> Contact:
    _require_edit(by, customer)
    unknown = set(fields) - CONTACT_FIELDS
    if unknown:
        raise DomainError(_("These fields cannot be set here: %s") % ", ".join(sorted(unknown)))
    contact = Contact(customer=customer, **_contact_phones(dict(fields)))
    return audited_save(contact, by=by)


@transaction.atomic
def contact_update(*, contact: Contact, by, **fields) -> Contact:
    _require_edit(by, contact.customer)
    unknown = set(fields) - CONTACT_FIELDS
    if unknown:
        raise DomainError(_("These fields cannot be changed here: %s") % ", ".join(sorted(unknown)))
    for key, value in _contact_phones(dict(fields)).items():
        setattr(contact, key, value)
    return audited_save(contact, by=by)


@transaction.atomic
def contact_delete(*, contact: Contact, by) -> None:
    _require_edit(by, contact.customer)
    contact._history_user = by
    contact.delete()


# --- visits (CUS-8) ------------------------------------------------------------------
VISIT_FIELDS = {"kind", "visited_at", "summary", "next_step", "next_on", "contact", "latitude",
                "longitude", "accuracy_m", "coach"}


@transaction.atomic
def visit_log(*, customer: Customer, by, check_in: bool = False, **fields) -> Visit:
    """Record a visit; it is the customer's follow-up and sets the next revisit (CUS-4)."""
    me = _actor(by)
    _require_edit(by, customer)
    unknown = set(fields) - VISIT_FIELDS
    if unknown:
        raise DomainError(_("These fields cannot be set here: %s") % ", ".join(sorted(unknown)))
    now = timezone.now()
    fields.setdefault("visited_at", now)
    if fields["visited_at"] > now + datetime.timedelta(minutes=5):
        raise DomainError(_("A visit cannot be in the future."), field="visited_at")
    contact = fields.get("contact")
    if contact is not None and contact.customer_id != customer.pk:
        raise DomainError(_("This contact belongs to another customer."), field="contact")
    for key in ("latitude", "longitude"):  # browsers send floats; we keep 6 places (~0.1 m)
        if fields.get(key) is not None:
            fields[key] = Decimal(str(fields[key])).quantize(Decimal("0.000001"))
    located = fields.get("latitude") is not None and fields.get("longitude") is not None
    if check_in and not located:
        raise DomainError(_("Checking in needs your location; allow the browser to share it."),
                          field="latitude", code="location")
    if (fields.get("latitude") is None) != (fields.get("longitude") is None):
        raise DomainError(_("Give both latitude and longitude, or neither."), field="latitude")
    if fields.get("kind") == VisitKind.JOINT and fields.get("coach") is None:
        raise DomainError(_("A joint visit names the coaching manager."), field="coach")
    visit = Visit(customer=customer, employee=me, checked_in_at=now if located else None,
                  **fields)
    audited_save(visit, by=by)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.last_followup_at is None or visit.visited_at > customer.last_followup_at:
        customer.last_followup_at = visit.visited_at
    if customer.stage == Stage.DORMANT:
        customer.stage = Stage.ACTIVE
    customer.save(update_fields=["last_followup_at", "stage", "updated_at"])
    _set_next_revisit([customer])
    if visit.next_on and (customer.next_revisit_on is None
                          or visit.next_on < customer.next_revisit_on):
        Customer.objects.filter(pk=customer.pk).update(next_revisit_on=visit.next_on)
    return visit


@transaction.atomic
def visit_review(*, visit: Visit, by, review: str, improvement_points: str) -> Visit:
    """The coaching manager's review of a joint visit (陪同拜访, CUS-8)."""
    me = _actor(by)
    if visit.kind != VisitKind.JOINT:
        raise DomainError(_("Only joint visits are reviewed."), field="kind")
    if visit.coach_id != me.pk:
        raise PermissionDenied
    if not (review or "").strip():
        raise DomainError(_("Write the review."), field="coach_review", code="required")
    visit.coach_review = review.strip()
    visit.improvement_points = (improvement_points or "").strip()
    return audited_save(visit, by=by)
