"""Every write to customers, their field work, complaints, surveys and market reports
(CUS-1..11). One transaction each.

``by`` is always the acting login (``request.user``); what they may do follows from the
scope rule (ORG-4) and their roles' capabilities (ORG-3).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from bizdept.core.errors import Conflict, DomainError
from bizdept.core.services import audited_save
from bizdept.core.validators import normalize_company_name, normalize_phone, validate_credit_code
from bizdept.org.choices import Capability
from bizdept.org.models import Employee, EmployeeStatus, Unit
from bizdept.org.scope import Domain, capabilities_of, employee_of, scope_for

from . import selectors
from .choices import (
    COMPLAINT_DEADLINES,
    COMPLAINT_PENDING,
    COMPLAINT_TRANSITIONS,
    ComplaintStatus,
    CustomerKind,
    Grade,
    OwnerChangeKind,
    ReportKind,
    Severity,
    Stage,
    VisitKind,
)
from .models import (
    Complaint,
    Contact,
    Customer,
    CustomerSettings,
    GradeRule,
    MarketReport,
    OwnerChange,
    Survey,
    Visit,
)


class DuplicateCustomer(DomainError):
    """CUS-5: refused, saying only who owns the existing customer."""

    status = 409


# --- who may do what -----------------------------------------------------------------
def _actor(by) -> Employee:
    me = employee_of(by)
    if me is None or me.status == EmployeeStatus.LEFT:
        raise PermissionDenied
    return me


def _is_working(by) -> bool:
    """An active login of someone who has not left."""
    me = employee_of(by)
    return me is not None and not me.is_left and getattr(by, "is_active", False)


def can_edit(by, customer: Customer) -> bool:
    """The owner, a collaborator, or a head whose subtree holds the owner (ORG-4).

    Nobody edits a customer in the public pool until someone claims it (an administrator
    excepted), and nobody who has left edits anything.
    """
    return customer.pk in editable_ids(by, [customer])


def editable_ids(by, customers: Iterable[Customer]) -> set[int]:
    """Which of ``customers`` ``by`` may edit (``can_edit`` for many): the owners are read
    in memory (load ``owner__unit``), collaborators in one query for all the rest."""
    customers = list(customers)
    scope = scope_for(by, Domain.SALES)
    if scope.everything:
        return {c.pk for c in customers}
    if not _is_working(by):
        return set()
    owned = [c for c in customers if c.owner_id is not None]
    allowed = {c.pk for c in owned if scope.covers(c.owner)}
    rest = [c.pk for c in owned if c.pk not in allowed]
    if rest:
        allowed |= set(Customer.collaborators.through.objects.filter(
            customer_id__in=rest, employee_id=employee_of(by).pk)
            .values_list("customer_id", flat=True))
    return allowed


def _require_edit(by, customer: Customer) -> None:
    if not can_edit(by, customer):
        raise PermissionDenied


def _require_owner_or_head(by, customer: Customer) -> None:
    """Giving a customer up is for its owner or a head above them, not a collaborator."""
    scope = scope_for(by, Domain.SALES)
    if scope.everything:
        return
    if customer.owner_id is None or not _is_working(by) or not scope.covers(customer.owner):
        raise PermissionDenied


REASON_MAX = 200


def _reason(reason: str, message) -> str:
    """A required reason (transfer, release, manual grade), at most 200 characters."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(message, field="reason", code="required")
    if len(reason) > REASON_MAX:
        raise DomainError(_("The reason is too long (%d characters at most).") % REASON_MAX,
                          field="reason", code="too_long")
    return reason


def _history_reason(reason: str) -> str:
    """The reason as the audit history keeps it: its column holds 100 characters, the
    OwnerChange row and the manual grade keep the whole reason."""
    limit = Customer.history.model._meta.get_field("history_change_reason").max_length or 100
    return reason if len(reason) <= limit else reason[:limit - 1] + "…"


def _refuse_unknown(fields: dict, allowed: set[str]) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise DomainError(_("These fields cannot be set here: %s") % ", ".join(unknown),
                          field=unknown[0], code="unknown_field")


def _refuse_left(employees: Iterable[Employee], field: str) -> None:
    for employee in employees:
        if employee.status == EmployeeStatus.LEFT:
            message = (_("%s has left and cannot work on customers.") if field == "collaborators"
                       else _("%s has left and cannot own customers."))
            raise DomainError(message % employee.name, field=field, code="left")


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
    elif len(name) > NAME_MAX:
        errors["name"] = [_("The name is too long (%d characters at most).") % NAME_MAX]
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
    # NFKC may lengthen a name ("㍿" is four characters once unfolded); the key is only
    # compared, so cutting it to the column's width costs nothing real.
    key = normalize_company_name(name)[:NAME_MAX]
    return _Identity(name, key, code, normalized_phone)


NAME_MAX = 200


def _refuse_duplicates(identity: _Identity, *, extra_phones=(), exclude_pk=None) -> None:
    index = selectors.duplicate_index(credit_codes=[identity.credit_code],
                                      name_keys=[identity.name_key],
                                      phones=[identity.phone, *extra_phones])
    refusal = duplicate_refusal(identity, index, extra_phones=extra_phones,
                                exclude_pk=exclude_pk)
    if refusal is not None:
        raise refusal


def duplicate_refusal(identity: _Identity, index: selectors.DuplicateIndex, *,
                      extra_phones=(), exclude_pk=None) -> DuplicateCustomer | None:
    """The CUS-5 refusal of a new (or changed) customer, from existing customers already
    looked up for it (``selectors.duplicate_index``: one query per key kind, for one row or
    a whole import batch); None when it duplicates nobody."""
    found = index.match(name_key=identity.name_key, credit_code=identity.credit_code,
                        phones=[identity.phone, *extra_phones], exclude_pk=exclude_pk)
    return _duplicate(*found) if found is not None else None


def _duplicate(existing: Customer, matched_on: str, field: str | None = None):
    """The refusal (409) naming only the existing customer's owner and their unit: the
    salesperson learns whom to talk to, not the other customer's details."""
    field = field or matched_on
    what = {"credit_code": _("this credit code"), "name": _("this name"),
            "phone": _("this phone number")}[matched_on]
    if existing.owner_id is None:
        message = _("A customer with %(what)s already exists in the public pool; claim it "
                    "there.") % {"what": what}
    else:
        message = _("A customer with %(what)s already exists; it belongs to %(owner)s "
                    "(%(unit)s).") % {"what": what, "owner": existing.owner.name,
                                      "unit": existing.owner.unit.name}
    return DuplicateCustomer(message, code="duplicate", field=field)


CUSTOMER_FIELDS = {"kind", "name", "credit_code", "industry", "region", "source", "stage",
                   "phone", "address", "notes"}


@transaction.atomic
def customer_create(*, by, name: str, kind: str = CustomerKind.COMPANY, credit_code: str = "",
                    phone: str = "", owner: Employee | None = None,
                    collaborators: Iterable[Employee] = (), **fields) -> Customer:
    """A new customer, owned by its creator unless a head gives it to someone in scope.

    It starts with the grade that no money earns (D by default) and its first revisit due
    by that grade's interval; nobody has paid anything yet, so no recompute is needed.
    """
    me = _actor(by)
    _refuse_unknown(fields, CUSTOMER_FIELDS)
    owner = owner or me
    check_new_owner(by, me, owner)
    collaborators = [c for c in collaborators if c.pk != owner.pk]
    _refuse_left(collaborators, "collaborators")
    identity = _identity(name=name, kind=kind, credit_code=credit_code, phone=phone)
    _refuse_duplicates(identity)
    customer = Customer(kind=kind, name=identity.name, name_key=identity.name_key,
                        credit_code=identity.credit_code, phone=identity.phone, owner=owner,
                        **starting_grade(selectors.grade_rules()), **fields)
    _save_unique(customer, by=by)
    if _write_collaborators(customer, collaborators):
        _copy_collaborators_to_history(list(customer.history.all()[:1]))
    OwnerChange.objects.create(customer=customer, kind=OwnerChangeKind.CREATED, to_owner=owner,
                               by=me)
    return customer


def check_new_owner(by, me: Employee, owner: Employee) -> None:
    """Who may own a new customer: its creator, or someone in a head's subtree (CUS-7);
    never someone who has left. The owner's unit must be loaded (no query then)."""
    _refuse_left([owner], "owner")
    if owner.pk != me.pk:
        _require_head_of(by, [owner])


def starting_grade(rules: list[GradeRule], *, today: datetime.date | None = None) -> dict:
    """What a new customer starts with (CUS-3, CUS-4): the grade no money earns (D by
    default), graded now, its first revisit due by that grade's interval from today."""
    rule = grade_for(Decimal("0"), rules)
    today = today or timezone.localdate()
    return {"grade": rule.grade if rule else "", "graded_at": timezone.now(),
            "next_revisit_on": revisit_due_on(today, _interval(rules, rule))}


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
    _refuse_unknown(fields, CUSTOMER_FIELDS)
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
    """Replace the collaborators; one history row for the change (none when nothing
    changes), a constant number of queries however many are added or removed."""
    _require_edit(by, customer)
    collaborators = [c for c in collaborators if c.pk != customer.owner_id]
    _refuse_left(collaborators, "collaborators")
    if _write_collaborators(customer, collaborators):
        _record_history([customer], by=by, reason="")
    return customer


def _write_collaborators(customer: Customer, employees: Iterable[Employee]) -> bool:
    """Make the join rows say ``employees``; True when that changed anything.

    Written straight to the join table: ``.set()`` would send a signal per removal and
    per addition, and simple-history would write (and re-read) a history row for each.
    """
    through = Customer.collaborators.through
    wanted = {e.pk for e in employees}
    current = set(through.objects.filter(customer=customer)
                  .values_list("employee_id", flat=True)) if customer.pk else set()
    if wanted == current:
        return False
    if current - wanted:
        through.objects.filter(customer=customer, employee_id__in=current - wanted).delete()
    through.objects.bulk_create([through(customer_id=customer.pk, employee_id=pk)
                                 for pk in sorted(wanted - current)])
    getattr(customer, "_prefetched_objects_cache", {}).pop("collaborators", None)
    return True


# --- owner changes: transfer, pool (CUS-6, CUS-7) ------------------------------------
@transaction.atomic
def customer_transfer(*, customers: Iterable[Customer], to_owner: Employee, by,
                      reason: str) -> int:
    """A head gives customers to someone in their subtree, with a reason (single or bulk).

    Every move is an OwnerChange row and a history row (ORG-5) naming the head and the
    reason; collaborators stay, except the new owner, who no longer needs to be one.
    The follow-up clock is not touched: the pool sweep gives a new owner the full
    release period from the transfer (see ``pool_release_stale``).
    """
    me = _actor(by)
    if Capability.MANAGE_TEAM not in capabilities_of(by):
        raise PermissionDenied
    reason = _reason(reason, _("Give a reason for the transfer."))
    _refuse_left([to_owner], "to_owner")
    ids = [c.pk for c in customers]
    if not ids:
        raise DomainError(_("Choose the customers to transfer."), field="customers",
                          code="required")
    locked = list(Customer.objects.select_for_update(of=("self",)).select_related("owner__unit")
                  .filter(pk__in=ids))
    if len(locked) != len(set(ids)):
        raise DomainError(_("Some of these customers no longer exist."), field="customers")
    _require_head_of(by, [to_owner, *[c.owner for c in locked]])
    moved = [c for c in locked if c.owner_id != to_owner.pk]
    if not moved:
        return 0
    OwnerChange.objects.bulk_create([
        OwnerChange(customer=c, kind=OwnerChangeKind.TRANSFER, from_owner=c.owner,
                    to_owner=to_owner, reason=reason, by=me) for c in moved])
    Customer.collaborators.through.objects.filter(
        customer__in=[c.pk for c in moved], employee=to_owner).delete()
    now = timezone.now()
    for customer in moved:
        customer.owner = to_owner
        customer.pooled_at = None
        customer.updated_at = now
    customer_dates = _next_revisit_dates(moved)
    for customer in moved:
        customer.next_revisit_on = customer_dates[customer.pk]
    Customer.objects.bulk_update(moved, ["owner", "pooled_at", "next_revisit_on", "updated_at"],
                                 batch_size=BULK_BATCH)
    _record_history(moved, by=by, reason=reason)
    return len(moved)


BULK_BATCH = 500


def _record_history(customers: list[Customer], *, by, reason: str) -> None:
    """bulk_update skips signals: write the audit rows (ORG-5) in bulk, with the
    collaborators each customer has now, so the History tab does not see them vanish.
    A constant number of statements however many customers."""
    if not customers:
        return
    user = getattr(by, "user", by)
    rows = Customer.history.bulk_history_create(customers, update=True, default_user=user,
                                                default_change_reason=_history_reason(reason),
                                                batch_size=BULK_BATCH)
    _copy_collaborators_to_history(rows)


def _copy_collaborators_to_history(rows) -> None:
    """Give history rows the collaborators their customers have now (simple-history's
    own m2m rows, which bulk writes skip). Two statements however many rows."""
    if not rows or rows[0].pk is None:  # a backend that cannot return ids: no m2m copy
        return
    history_model = Customer.history.model
    through = Customer.collaborators.through
    collaborators: dict[int, list[tuple[int, int]]] = {}
    for row_id, customer_id, employee_id in (
            through.objects.filter(customer__in={row.id for row in rows})
            .values_list("pk", "customer_id", "employee_id")):
        collaborators.setdefault(customer_id, []).append((row_id, employee_id))
    if not collaborators:
        return
    m2m_model = next(rel.related_model for rel in history_model._meta.related_objects
                     if rel.related_model.__name__ == f"{history_model.__name__}_collaborators")
    m2m_model.objects.bulk_create([
        m2m_model(id=row_id, history_id=row.pk, customer_id=row.id, employee_id=employee_id)
        for row in rows for row_id, employee_id in collaborators.get(row.id, ())
    ], batch_size=BULK_BATCH)


@transaction.atomic
def customer_claim(*, customer: Customer, by) -> Customer:
    """Take a customer from the pool, within the daily and total limits (CUS-6).

    The customer row is locked, so of two people claiming it at once the second gets a
    Conflict (409); the claimant's row is locked too, so parallel claims of one person
    cannot slip past the limits together.
    """
    me = _actor(by)
    settings = CustomerSettings.current()
    Employee.objects.select_for_update().filter(pk=me.pk).values_list("pk").first()
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
    customer.next_revisit_on = _next_revisit_dates([customer])[customer.pk]
    audited_save(customer, by=by)
    OwnerChange.objects.create(customer=customer, kind=OwnerChangeKind.CLAIM, to_owner=me, by=me)
    return customer


@transaction.atomic
def customer_release(*, customer: Customer, by, reason: str) -> Customer:
    """Give a customer back to the pool (its owner or their head), with a reason.

    A collaborator may not: the customer is not theirs to give up. Releasing a customer
    that is already back in the pool is a conflict (someone else did it first).
    """
    me = _actor(by)
    _require_owner_or_head(by, customer)
    reason = _reason(reason, _("Give a reason for releasing the customer."))
    customer = Customer.objects.select_for_update(of=("self",)).select_related("owner__unit").get(
        pk=customer.pk)
    if customer.owner_id is None:
        raise Conflict(_("This customer is already in the public pool."), code="in_pool")
    _require_owner_or_head(by, customer)
    OwnerChange.objects.create(customer=customer, kind=OwnerChangeKind.RELEASE,
                               from_owner=customer.owner, reason=reason, by=me)
    customer.owner = None
    customer.pooled_at = timezone.now()
    customer.next_revisit_on = None
    customer._change_reason = _history_reason(reason)
    _write_collaborators(customer, [])  # before the save, so its history row shows none
    audited_save(customer, by=by)
    return customer


@transaction.atomic
def pool_release_stale(*, now: datetime.datetime | None = None) -> int:
    """The scheduled sweep (CUS-6): customers without follow-up for N days go to the pool.

    Stale means: owned, no follow-up since the cutoff (or never followed up and created
    before it), and not given to its owner (created, transferred, claimed) since the
    cutoff either, so a new owner always has the full N days. Customers with a follow-up
    inside the window stay; running it twice changes nothing the second time. A constant
    number of statements however many customers go.
    """
    now = now or timezone.now()
    days = CustomerSettings.current().pool_release_days
    cutoff = now - datetime.timedelta(days=days)
    recently_given = OwnerChange.objects.filter(
        customer=OuterRef("pk"), at__gte=cutoff,
        kind__in=[OwnerChangeKind.CREATED, OwnerChangeKind.TRANSFER, OwnerChangeKind.CLAIM])
    stale = list(
        Customer.objects.select_for_update()
        .filter(owner__isnull=False)
        .filter(Q(last_followup_at__lt=cutoff)
                | Q(last_followup_at__isnull=True, created_at__lt=cutoff))
        .exclude(Exists(recently_given))
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
        customer.updated_at = now
    Customer.objects.bulk_update(stale, ["owner", "pooled_at", "next_revisit_on", "updated_at"],
                                 batch_size=BULK_BATCH)
    Customer.collaborators.through.objects.filter(customer__in=[c.pk for c in stale]).delete()
    _record_history(stale, by=None, reason=reason)
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


#: Revisit interval of a customer without a grade (no rule matched): the longest one.
DEFAULT_REVISIT_DAYS = 30


def _interval(rules: list[GradeRule], grade) -> int:
    """Revisit interval of ``grade`` (a grade letter or a rule); ungraded: the longest."""
    grade = getattr(grade, "grade", grade)
    intervals = {r.grade: r.revisit_days for r in rules}
    return intervals.get(grade) or max(intervals.values(), default=DEFAULT_REVISIT_DAYS)


def _next_revisit_dates(customers: list[Customer],
                        rules: list[GradeRule] | None = None) -> dict[int, datetime.date | None]:
    """When each customer's next revisit is due (CUS-4), from the in-memory state.

    The grade's interval counts from the last follow-up (or from creation): an A customer
    visited on 1 March is due again on 8 March. When the latest visit agreed on an
    earlier next date (``next_on``, not before the last follow-up), that date wins. A
    customer in the pool is nobody's to revisit. Two queries at most, whatever the count.
    """
    rules = rules if rules is not None else selectors.grade_rules()
    owned = [c.pk for c in customers if c.owner_id is not None and c.pk is not None]
    agreed: dict[int, datetime.date | None] = {}
    if owned:
        latest = (Visit.objects.filter(customer=OuterRef("pk"))
                  .order_by("-visited_at", "-pk").values("next_on")[:1])
        agreed = dict(Customer.objects.filter(pk__in=owned)
                      .annotate(agreed=Subquery(latest)).values_list("pk", "agreed"))
    dates: dict[int, datetime.date | None] = {}
    for customer in customers:
        if customer.owner_id is None:
            dates[customer.pk] = None
            continue
        last = timezone.localdate(customer.last_followup_at or customer.created_at
                                  or timezone.now())
        due = revisit_due_on(last, _interval(rules, customer.grade))
        promised = agreed.get(customer.pk)
        if promised is not None and last <= promised < due:
            due = promised
        dates[customer.pk] = due
    return dates


@transaction.atomic
def customer_grade_recompute(*, customers: Iterable[Customer] | None = None,
                             as_of: datetime.date | None = None, batch: int = 2000) -> int:
    """Re-grade customers (all when none given) from money received in the 12 months up to
    and including ``as_of`` (``selectors.grading_window``); manual grades are kept. Each
    customer's next revisit follows its (new) grade. Grade changes are written to the
    history (ORG-5) as the rules' doing. Returns how many grades changed.

    A constant number of queries per batch of ``batch`` customers: the batch, one
    aggregate per inflow source, the agreed next dates, the update and the history rows.
    """
    as_of = as_of or timezone.localdate()
    since, until = selectors.grading_window(as_of)
    rules = selectors.grade_rules()
    if customers is None:
        ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    else:
        ids = list(dict.fromkeys(c.pk for c in customers))
    changed = 0
    now = timezone.now()
    reason = _("Graded by the rules")
    for start in range(0, len(ids), batch):
        chunk = list(Customer.objects.filter(pk__in=ids[start:start + batch]).order_by("pk"))
        received = selectors.money_received([c.pk for c in chunk], since=since, until=until)
        regraded = []
        for customer in chunk:
            if customer.grade_is_manual:
                continue
            customer.graded_at = now
            rule = grade_for(received[customer.pk], rules)
            grade = rule.grade if rule else ""
            if grade != customer.grade:
                customer.grade = grade
                regraded.append(customer)
        dates = _next_revisit_dates(chunk, rules)
        for customer in chunk:
            customer.next_revisit_on = dates[customer.pk]
        Customer.objects.bulk_update(chunk, ["grade", "graded_at", "next_revisit_on"],
                                     batch_size=BULK_BATCH)
        _record_history(regraded, by=None, reason=reason)
        changed += len(regraded)
    return changed


@transaction.atomic
def customer_grade_override(*, customer: Customer, by, grade: str, reason: str) -> Customer:
    """A head sets a grade by hand; the reason is required and kept (CUS-3). The grade
    then stays through every recompute until ``customer_grade_automatic``."""
    if Capability.MANAGE_TEAM not in capabilities_of(by):
        raise PermissionDenied
    _require_edit(by, customer)
    reason = _reason(reason, _("Give a reason for setting the grade by hand."))
    rules = selectors.grade_rules()
    if grade not in Grade.values or grade not in {r.grade for r in rules}:
        raise DomainError(_("Unknown grade."), field="grade", code="invalid")
    customer.grade = grade
    customer.grade_is_manual = True
    customer.grade_reason = reason
    customer.graded_at = timezone.now()
    customer.next_revisit_on = _next_revisit_dates([customer], rules)[customer.pk]
    customer._change_reason = _history_reason(reason)
    audited_save(customer, by=by)
    return customer


@transaction.atomic
def customer_grade_automatic(*, customer: Customer, by) -> Customer:
    """Drop a manual grade; the rules grade the customer again, at once."""
    if Capability.MANAGE_TEAM not in capabilities_of(by):
        raise PermissionDenied
    _require_edit(by, customer)
    rules = selectors.grade_rules()
    since, until = selectors.grading_window(timezone.localdate())
    received = selectors.money_received([customer.pk], since=since, until=until)[customer.pk]
    rule = grade_for(received, rules)
    customer.grade = rule.grade if rule else ""
    customer.grade_is_manual = False
    customer.grade_reason = ""
    customer.graded_at = timezone.now()
    customer.next_revisit_on = _next_revisit_dates([customer], rules)[customer.pk]
    audited_save(customer, by=by)
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


def _refuse_contact_duplicates(customer: Customer, fields: dict) -> None:
    """A contact's phone that is another customer's (its own or a contact's) is the same
    撞单 as a new customer with that phone (CUS-5): refused, naming the owner only."""
    phones = [fields[key] for key in ("phone", "mobile") if fields.get(key)]
    if not phones:
        return
    index = selectors.duplicate_index(phones=phones)
    refusal = contact_duplicate_refusal(customer.pk, fields, index)
    if refusal is not None:
        raise refusal


def contact_duplicate_refusal(customer_pk: int | None, fields: dict,
                              index: selectors.DuplicateIndex) -> DuplicateCustomer | None:
    """The refusal of a contact whose phone or mobile (normalized) belongs to another
    customer, from customers already looked up (one row or a whole import batch)."""
    for key in ("phone", "mobile"):
        if fields.get(key):
            found = index.match(name_key="", phones=[fields[key]], exclude_pk=customer_pk)
            if found is not None:
                return _duplicate(found[0], "phone", field=key)
    return None


@transaction.atomic
def contact_create(*, customer: Customer, by, **fields) -> Contact:
    _require_edit(by, customer)
    _refuse_unknown(fields, CONTACT_FIELDS)
    fields = _contact_phones(dict(fields))
    _refuse_contact_duplicates(customer, fields)
    contact = Contact(customer=customer, **fields)
    return audited_save(contact, by=by)


@transaction.atomic
def contact_update(*, contact: Contact, by, **fields) -> Contact:
    _require_edit(by, contact.customer)
    _refuse_unknown(fields, CONTACT_FIELDS)
    fields = _contact_phones(dict(fields))
    _refuse_contact_duplicates(contact.customer, fields)
    for key, value in fields.items():
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
    """Record a visit; it is the customer's follow-up and sets the next revisit (CUS-4).

    The next revisit is due by the customer's grade interval from this visit, or on the
    visit's agreed next date when that is sooner. A joint visit names its coaching
    manager: someone above the visitor (their scope covers the visitor), who can then
    read the visit and review it (``visit_review``).
    """
    me = _actor(by)
    _require_edit(by, customer)
    _refuse_unknown(fields, VISIT_FIELDS)
    now = timezone.now()
    if fields.get("visited_at") is None:
        fields["visited_at"] = now
    if fields["visited_at"] > now + datetime.timedelta(minutes=5):
        raise DomainError(_("A visit cannot be in the future."), field="visited_at")
    next_on = fields.get("next_on")
    if next_on is not None and next_on < timezone.localdate(fields["visited_at"]):
        raise DomainError(_("The next date cannot be before the visit."), field="next_on")
    contact = fields.get("contact")
    if contact is not None and contact.customer_id != customer.pk:
        raise DomainError(_("This contact belongs to another customer."), field="contact")
    for key in ("latitude", "longitude"):  # browsers send floats; we keep 6 places (~0.1 m)
        if fields.get(key) is not None:
            try:
                fields[key] = Decimal(str(fields[key])).quantize(Decimal("0.000001"))
            except ArithmeticError:  # "abc", NaN, infinity
                raise DomainError(_("This is not a location."), field=key,
                                  code="location") from None
    located = fields.get("latitude") is not None and fields.get("longitude") is not None
    if check_in and not located:
        raise DomainError(_("Checking in needs your location; allow the browser to share it."),
                          field="latitude", code="location")
    if (fields.get("latitude") is None) != (fields.get("longitude") is None):
        raise DomainError(_("Give both latitude and longitude, or neither."), field="latitude")
    _check_coach(fields.get("kind"), fields.get("coach"), me)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    visit = Visit(customer=customer, employee=me, checked_in_at=now if located else None,
                  **fields)
    audited_save(visit, by=by)
    if customer.last_followup_at is None or visit.visited_at > customer.last_followup_at:
        customer.last_followup_at = visit.visited_at
    if customer.stage == Stage.DORMANT:
        customer.stage = Stage.ACTIVE
    customer.next_revisit_on = _next_revisit_dates([customer])[customer.pk]
    customer._history_user = getattr(by, "user", by)
    customer.save(update_fields=["last_followup_at", "stage", "next_revisit_on", "updated_at"])
    return visit


def _check_coach(kind, coach: Employee | None, me: Employee) -> None:
    if kind != VisitKind.JOINT:
        if coach is not None:
            raise DomainError(_("Only a joint visit names a coaching manager."), field="coach")
        return
    if coach is None:
        raise DomainError(_("A joint visit names the coaching manager."), field="coach")
    if coach.pk == me.pk or coach.is_left or not scope_for(coach.user, Domain.SALES).covers(me):
        raise DomainError(_("The coaching manager must be someone above you in the "
                            "organisation."), field="coach", code="coach")


@transaction.atomic
def visit_review(*, visit: Visit, by, review: str, improvement_points: str) -> Visit:
    """The coaching manager's review of a joint visit (陪同拜访, CUS-8); only they write it."""
    me = _actor(by)
    if visit.coach_id != me.pk:
        raise PermissionDenied
    if visit.kind != VisitKind.JOINT:
        raise DomainError(_("Only joint visits are reviewed."), field="kind")
    if not (review or "").strip():
        raise DomainError(_("Write the review."), field="coach_review", code="required")
    visit.coach_review = review.strip()
    visit.improvement_points = (improvement_points or "").strip()
    return audited_save(visit, by=by)


# --- complaints (CUS-9) --------------------------------------------------------------
COMPLAINT_FIELDS = {"title", "description", "severity"}
# Complaints before this are typing mistakes, and far-off dates cannot carry a deadline.
EARLIEST_COMPLAINT = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
TITLE_MAX = 200


def _covers(by, employee: Employee | None) -> bool:
    """``by`` is ``employee`` or above them in the tree (a head, the director), and still
    works here; an administrator covers everyone."""
    scope = scope_for(by, Domain.SALES)
    if scope.everything:
        return True
    return employee is not None and _is_working(by) and scope.covers(employee)


def _require_handler_or_head(by, complaint: Complaint) -> None:
    """The handler, a head above them, or the head the complaint was escalated to."""
    me = employee_of(by)
    if _covers(by, complaint.handler):
        return
    if me is not None and complaint.escalated_to_id == me.pk and _is_working(by):
        return
    raise PermissionDenied


def can_handle_complaint(by, complaint: Complaint) -> bool:
    """May ``by`` move or edit this complaint (pages show the buttons from this)?"""
    try:
        _require_handler_or_head(by, complaint)
    except PermissionDenied:
        return False
    return True


def _complaint_text(fields: dict) -> dict:
    for key, message in (("title", _("Give the complaint a title.")),
                         ("description", _("Describe the complaint."))):
        if key in fields:
            fields[key] = (fields[key] or "").strip()
            if not fields[key]:
                raise DomainError(message, field=key, code="required")
    if "title" in fields and len(fields["title"]) > TITLE_MAX:
        raise DomainError(_("The title is too long (%d characters at most).") % TITLE_MAX,
                          field="title", code="too_long")
    if "severity" in fields and fields["severity"] not in Severity.values:
        raise DomainError(_("Unknown severity."), field="severity", code="invalid")
    return fields


def complaint_deadline(received_at: datetime.datetime, severity: str) -> datetime.datetime:
    """When a complaint must be resolved by: received + the severity's allowance."""
    return received_at + COMPLAINT_DEADLINES[Severity(severity)]


def _check_handler(by, handler: Employee, me: Employee) -> None:
    if handler.status == EmployeeStatus.LEFT or not getattr(handler.user, "is_active", True):
        raise DomainError(_("%s has left and cannot handle complaints.") % handler.name,
                          field="handler", code="left")
    if handler.pk != me.pk and not _covers(by, handler):
        raise DomainError(_("The handler must be you or someone in your team."),
                          field="handler", code="out_of_scope")


@transaction.atomic
def complaint_create(*, customer: Customer, by, title: str, description: str,
                     severity: str = Severity.MEDIUM, handler: Employee | None = None,
                     received_at: datetime.datetime | None = None) -> Complaint:
    """Log a complaint; whoever may edit the customer may (CUS-9).

    The handler is the customer's owner unless given (for a customer in the pool: the
    person logging it); someone else must be active and in the logger's scope. The
    deadline is the severity's allowance from when the complaint came in.
    """
    me = _actor(by)
    _require_edit(by, customer)
    fields = _complaint_text({"title": title, "description": description,
                              "severity": severity})
    handler = handler or customer.owner or me
    _check_handler(by, handler, me)
    now = timezone.now()
    received_at = received_at or now
    if timezone.is_naive(received_at):
        received_at = timezone.make_aware(received_at)
    if received_at > now + datetime.timedelta(minutes=5):
        raise DomainError(_("A complaint cannot be received in the future."),
                          field="received_at")
    if received_at < EARLIEST_COMPLAINT:
        raise DomainError(_("A complaint cannot be before the year 2000."), field="received_at")
    complaint = Complaint(customer=customer, handler=handler, received_at=received_at,
                          deadline_at=complaint_deadline(received_at, fields["severity"]),
                          **fields)
    return audited_save(complaint, by=by)


@transaction.atomic
def complaint_update(*, complaint: Complaint, by, **fields) -> Complaint:
    """Edit the title, description or severity while the complaint is being worked on;
    a new severity moves the deadline (from when the complaint came in)."""
    _require_handler_or_head(by, complaint)
    _refuse_unknown(fields, COMPLAINT_FIELDS)
    if complaint.status not in COMPLAINT_PENDING:
        raise DomainError(_("A resolved or closed complaint can no longer be edited."),
                          field="status", code="not_pending")
    fields = _complaint_text(dict(fields))
    for key, value in fields.items():
        setattr(complaint, key, value)
    complaint.deadline_at = complaint_deadline(complaint.received_at, complaint.severity)
    return audited_save(complaint, by=by)


def _set_status(complaint: Complaint, status: str, *, by, comment: str = "") -> Complaint:
    """The one way a complaint moves (COMPLAINT_TRANSITIONS); the history row keeps the
    move, who made it and why. The row is locked, so two clicks cannot both move it."""
    locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
    allowed = COMPLAINT_TRANSITIONS.get(locked.status, frozenset())
    if status not in allowed:
        raise DomainError(
            _("A complaint that is %(old)s cannot become %(new)s.")
            % {"old": ComplaintStatus(locked.status).label,
               "new": ComplaintStatus(status).label},
            field="status", code="transition")
    complaint.status = status
    reason = f"{locked.status} → {status}"
    if comment:
        reason = f"{reason}: {comment}"
    complaint._change_reason = reason[:100]
    return audited_save(complaint, by=by)


@transaction.atomic
def complaint_start(*, complaint: Complaint, by) -> Complaint:
    """The handler (or a head above) starts working on an open complaint."""
    _require_handler_or_head(by, complaint)
    return _set_status(complaint, ComplaintStatus.IN_PROGRESS, by=by)


@transaction.atomic
def complaint_resolve(*, complaint: Complaint, by, resolution: str) -> Complaint:
    """Resolved, saying how; the time is kept (was it within the deadline?)."""
    _require_handler_or_head(by, complaint)
    resolution = (resolution or "").strip()
    if not resolution:
        raise DomainError(_("Say how the complaint was resolved."), field="resolution",
                          code="required")
    complaint.resolution = resolution
    complaint.resolved_at = timezone.now()
    return _set_status(complaint, ComplaintStatus.RESOLVED, by=by)


@transaction.atomic
def complaint_close(*, complaint: Complaint, by) -> Complaint:
    """Closed once the customer accepts the resolution."""
    _require_handler_or_head(by, complaint)
    return _set_status(complaint, ComplaintStatus.CLOSED, by=by)


@transaction.atomic
def complaint_reassign(*, complaint: Complaint, by, handler: Employee) -> Complaint:
    """A head gives the complaint to someone else in their subtree."""
    me = _actor(by)
    if Capability.MANAGE_TEAM not in capabilities_of(by):
        raise PermissionDenied
    _require_handler_or_head(by, complaint)
    if complaint.status not in COMPLAINT_PENDING:
        raise DomainError(_("A resolved or closed complaint is not reassigned."),
                          field="status", code="not_pending")
    _check_handler(by, handler, me)
    complaint.handler = handler
    return audited_save(complaint, by=by)


def _escalation_target(handler: Employee, units: dict[int, Unit]) -> Employee | None:
    """The nearest head above the handler: their unit's head, or when they are that head
    (or the unit has none), the next unit up that has someone else at its head."""
    for unit_id in reversed(handler.unit.ancestor_ids()):
        unit = units.get(unit_id)
        if unit is None or unit.head_id is None or unit.head_id == handler.pk:
            continue
        if unit.head.status == EmployeeStatus.LEFT:
            continue
        return unit.head
    return None


@transaction.atomic
def complaints_escalate_overdue(*, now: datetime.datetime | None = None) -> int:
    """The scheduled sweep (CUS-9): every complaint still pending past its deadline and
    not yet escalated goes to the head above its handler. Complaints with nobody above
    their handler are left alone. Running it twice changes nothing the second time.

    A constant number of statements however many complaints: the complaints, the units
    above their handlers, one bulk update and the history rows in bulk.
    """
    now = now or timezone.now()
    overdue = list(Complaint.objects.select_for_update(of=("self",))
                   .select_related("handler__unit")
                   .filter(status__in=COMPLAINT_PENDING, deadline_at__lt=now,
                           escalated_to__isnull=True))
    if not overdue:
        return 0
    unit_ids = {uid for c in overdue for uid in c.handler.unit.ancestor_ids()}
    units = Unit.objects.select_related("head").in_bulk(unit_ids)
    escalated = []
    for complaint in overdue:
        target = _escalation_target(complaint.handler, units)
        if target is None:
            continue
        complaint.escalated_to = target
        complaint.escalated_at = now
        escalated.append(complaint)
    if not escalated:
        return 0
    Complaint.objects.bulk_update(escalated, ["escalated_to", "escalated_at"],
                                  batch_size=BULK_BATCH)
    Complaint.history.bulk_history_create(
        escalated, update=True, default_change_reason=_("Overdue: escalated"),
        batch_size=BULK_BATCH)
    return len(escalated)


# --- satisfaction surveys (CUS-10) ---------------------------------------------------
SURVEY_FIELDS = {"period", "surveyed_on", "service", "delivery", "product", "comment"}
SURVEY_SCORES = ("service", "delivery", "product")
PERIOD_PATTERN = r"^[0-9]{4}-(Q[1-4]|0[1-9]|1[0-2])$"
EARLIEST_DAY = datetime.date(2000, 1, 1)


def _survey_fields(fields: dict) -> dict:
    if "period" in fields:
        period = (fields["period"] or "").strip().upper()
        if not re.fullmatch(PERIOD_PATTERN, period):
            raise DomainError(_("Write the period as a quarter (2026-Q3) or a month "
                                "(2026-07)."), field="period", code="invalid")
        fields["period"] = period
    for key in SURVEY_SCORES:
        if key in fields:
            value = fields[key]
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
                raise DomainError(_("Give a score from 1 to 5."), field=key, code="invalid")
    if "surveyed_on" in fields:
        day = fields["surveyed_on"]
        if day is None:
            raise DomainError(_("Say when the survey was made."), field="surveyed_on",
                              code="required")
        if day > timezone.localdate():
            raise DomainError(_("A survey cannot be in the future."), field="surveyed_on")
        if day < EARLIEST_DAY:
            raise DomainError(_("A survey cannot be before the year 2000."),
                              field="surveyed_on")
    if "comment" in fields:
        fields["comment"] = (fields["comment"] or "").strip()
    return fields


def _duplicate_survey(customer_id: int, period: str, exclude_pk=None) -> None:
    rows = Survey.objects.filter(customer_id=customer_id, period=period)
    if exclude_pk:
        rows = rows.exclude(pk=exclude_pk)
    if rows.exists():
        raise Conflict(_("This customer already has a survey for %s.") % period,
                       field="period", code="duplicate")


def _save_survey(survey: Survey, *, by) -> Survey:
    """Save; uniqueness was checked just before, so a clash here is a lost race."""
    try:
        with transaction.atomic():
            return audited_save(survey, by=by, validate_constraints=False)
    except IntegrityError as exc:
        raise Conflict(_("This customer already has a survey for %s.") % survey.period,
                       field="period", code="duplicate") from exc


@transaction.atomic
def survey_record(*, customer: Customer, by, period: str, surveyed_on: datetime.date,
                  service: int, delivery: int, product: int, comment: str = "") -> Survey:
    """One survey per customer and period, scores 1–5 per dimension (CUS-10)."""
    me = _actor(by)
    _require_edit(by, customer)
    fields = _survey_fields({"period": period, "surveyed_on": surveyed_on, "service": service,
                             "delivery": delivery, "product": product, "comment": comment})
    _duplicate_survey(customer.pk, fields["period"])
    return _save_survey(Survey(customer=customer, surveyed_by=me, **fields), by=by)


@transaction.atomic
def survey_update(*, survey: Survey, by, **fields) -> Survey:
    """Correct a survey: whoever may edit the customer, or who made the survey."""
    me = _actor(by)
    if survey.surveyed_by_id != me.pk and not can_edit(by, survey.customer):
        raise PermissionDenied
    _refuse_unknown(fields, SURVEY_FIELDS)
    fields = _survey_fields(dict(fields))
    if "period" in fields:
        _duplicate_survey(survey.customer_id, fields["period"], exclude_pk=survey.pk)
    for key, value in fields.items():
        setattr(survey, key, value)
    return _save_survey(survey, by=by)


# --- market intelligence (CUS-11) ----------------------------------------------------
REPORT_FIELDS = {"kind", "title", "text", "region", "reported_on", "customer"}
REGION_MAX = 50


def _report_fields(fields: dict) -> dict:
    if "kind" in fields and fields["kind"] not in ReportKind.values:
        raise DomainError(_("Unknown kind of report."), field="kind", code="invalid")
    for key, message in (("title", _("Give the report a title.")),
                         ("text", _("Write the report."))):
        if key in fields:
            fields[key] = (fields[key] or "").strip()
            if not fields[key]:
                raise DomainError(message, field=key, code="required")
    if "title" in fields and len(fields["title"]) > TITLE_MAX:
        raise DomainError(_("The title is too long (%d characters at most).") % TITLE_MAX,
                          field="title", code="too_long")
    if "region" in fields:
        fields["region"] = (fields["region"] or "").strip()
        if len(fields["region"]) > REGION_MAX:
            raise DomainError(_("The region is too long (%d characters at most).")
                              % REGION_MAX, field="region", code="too_long")
    if "reported_on" in fields:
        day = fields["reported_on"] or timezone.localdate()
        if day > timezone.localdate():
            raise DomainError(_("A report cannot be dated in the future."),
                              field="reported_on")
        if day < EARLIEST_DAY:
            raise DomainError(_("A report cannot be before the year 2000."),
                              field="reported_on")
        fields["reported_on"] = day
    return fields


def can_change_report(by, report: MarketReport) -> bool:
    """The reporter or a head above them may edit or delete a market report."""
    return _covers(by, report.reporter)


def _require_reporter_or_head(by, report: MarketReport) -> None:
    if not can_change_report(by, report):
        raise PermissionDenied


@transaction.atomic
def market_report_create(*, by, kind: str, title: str, text: str, region: str = "",
                         reported_on: datetime.date | None = None,
                         customer: Customer | None = None) -> MarketReport:
    """What the field hears about competitors, demand and prices (市场信息反馈)."""
    me = _actor(by)
    fields = _report_fields({"kind": kind, "title": title, "text": text, "region": region,
                             "reported_on": reported_on})
    report = MarketReport(reporter=me, customer=customer, **fields)
    return audited_save(report, by=by)


@transaction.atomic
def market_report_update(*, report: MarketReport, by, **fields) -> MarketReport:
    """The reporter corrects their report, or a head above them does."""
    _require_reporter_or_head(by, report)
    _refuse_unknown(fields, REPORT_FIELDS)
    fields = _report_fields(dict(fields))
    for key, value in fields.items():
        setattr(report, key, value)
    return audited_save(report, by=by)


@transaction.atomic
def market_report_delete(*, report: MarketReport, by) -> None:
    """The reporter or a head above them; the history keeps what was deleted."""
    _require_reporter_or_head(by, report)
    report._history_user = getattr(by, "user", by)
    report.delete()
