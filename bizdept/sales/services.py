"""Every write of the sales app (SAL), one transaction each, one section per part.

``by`` is always the acting login (``request.user``); what they may do follows from the
scope rule (ORG-4) and their roles' capabilities (ORG-3).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bizdept.core.errors import Conflict, DomainError
from bizdept.core.services import audited_save
from bizdept.org.choices import Capability
from bizdept.org.models import Employee, EmployeeStatus
from bizdept.org.scope import Domain, capabilities_of, employee_of, scope_for

from .choices import CONTRACT_NUMBER_TRANSITIONS, ContractNumberStatus
from .models import (
    MONEY_MAX,
    ContractNumber,
    ContractNumberCounter,
    ContractNumberSetting,
    Product,
    ProductCategory,
)
from .numbering import render_number


# --- who may do what -----------------------------------------------------------------
def _actor(by) -> Employee:
    """The working employee behind ``by``; anybody else (left, no employee) is refused."""
    me = employee_of(by)
    if me is None or me.status == EmployeeStatus.LEFT or not getattr(by, "is_active", True):
        raise PermissionDenied
    return me


def _refuse_unknown(fields: dict, allowed: set[str]) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise DomainError(_("These fields cannot be set here: %s") % ", ".join(unknown),
                          field=unknown[0], code="unknown_field")


REASON_MAX = 200


def _reason(reason: str, message) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(message, field="reason", code="required")
    if len(reason) > REASON_MAX:
        raise DomainError(_("The reason is too long (%d characters at most).") % REASON_MAX,
                          field="reason", code="too_long")
    return reason


# === Products (SAL-1) ==================================================================
def can_manage_products(by) -> bool:
    return Capability.MANAGE_PRODUCTS in capabilities_of(by)


def _require_manage_products(by) -> None:
    if not can_manage_products(by):
        raise PermissionDenied


def parse_money(value, field: str) -> Decimal:
    """An amount of the catalogue: a number ≥ 0 with at most 2 decimals and 12 digits
    before the point (Decimal 14,2). Anything else is refused naming ``field``."""
    if isinstance(value, bool) or value is None or value == "":
        raise DomainError(_("Enter an amount."), field=field, code="required")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip()
                                                                  .replace(",", ""))
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(_("Enter an amount such as 1280.50."), field=field,
                          code="invalid") from exc
    if not amount.is_finite():
        raise DomainError(_("Enter an amount such as 1280.50."), field=field, code="invalid")
    if amount < 0:
        raise DomainError(_("An amount cannot be negative."), field=field, code="negative")
    if amount > MONEY_MAX:
        raise DomainError(_("The amount is too large."), field=field, code="too_large")
    if amount != amount.quantize(Decimal("0.01"), rounding=ROUND_DOWN):
        raise DomainError(_("At most 2 decimal places."), field=field, code="decimals")
    return amount.quantize(Decimal("0.01"))


PRODUCT_FIELDS = {"code", "name", "category", "unit", "list_price", "standard_cost",
                  "is_active", "notes"}
PRODUCT_REQUIRED = {
    "code": _("Enter the product code."),
    "name": _("Enter the product's name."),
    "unit": _("Enter the unit of measure (e.g. 台, 套, 米)."),
}


def product_values(fields: dict) -> dict:
    """The fields of a new or changed product, cleaned (text stripped, amounts parsed);
    every problem at once, by field. Used by the services and the Excel import alike."""
    errors: dict[str, list] = {}
    clean = {}
    for key, value in fields.items():
        if key in ("code", "name", "unit", "notes"):
            value = (value or "").strip()
            if key == "code":
                value = value.upper() if value.isascii() else value
            if key in PRODUCT_REQUIRED and not value:
                errors[key] = [PRODUCT_REQUIRED[key]]
                continue
        elif key in ("list_price", "standard_cost"):
            try:
                value = parse_money(value, key)
            except DomainError as exc:
                errors.update(exc.errors)
                continue
        elif key == "category":
            if not isinstance(value, ProductCategory):
                errors[key] = [_("Choose the category.")]
                continue
        elif key == "is_active":
            value = bool(value)
        clean[key] = value
    if errors:
        first = next(iter(errors.values()))[0]
        raise DomainError(first, code="invalid", errors=errors)
    return clean


def _save_product(product: Product, *, by) -> Product:
    """Validate and save; the code is unique even under a race (409 naming ``code``)."""
    clash = Product.objects.filter(code=product.code).exclude(pk=product.pk).exists()
    if clash:
        raise Conflict(_("A product with the code %s already exists.") % product.code,
                       field="code", code="duplicate")
    try:
        with transaction.atomic():
            audited_save(product, by=by, validate_constraints=False,
                         exclude=["category"] if product.category_id else None)
    except IntegrityError as exc:
        raise Conflict(_("A product with the code %s already exists.") % product.code,
                       field="code", code="duplicate") from exc
    return product


@transaction.atomic
def product_create(*, by, code: str, name: str, category: ProductCategory, unit: str,
                   list_price, standard_cost, notes: str = "", is_active: bool = True
                   ) -> Product:
    _require_manage_products(by)
    values = product_values({"code": code, "name": name, "category": category, "unit": unit,
                             "list_price": list_price, "standard_cost": standard_cost,
                             "notes": notes, "is_active": is_active})
    return _save_product(Product(**values), by=by)


@transaction.atomic
def product_update(*, product: Product, by, **fields) -> Product:
    """Change the fields given (a price, the category, ``is_active``...)."""
    _require_manage_products(by)
    _refuse_unknown(fields, PRODUCT_FIELDS)
    product = (Product.objects.select_for_update(of=("self",)).select_related("category")
               .get(pk=product.pk))
    for key, value in product_values(fields).items():
        setattr(product, key, value)
    return _save_product(product, by=by)


@transaction.atomic
def product_deactivate(*, product: Product, by) -> Product:
    """No longer offered: kept for the contracts and reports that name it (a product is
    never deleted)."""
    return product_update(product=product, by=by, is_active=False)


@transaction.atomic
def product_activate(*, product: Product, by) -> Product:
    return product_update(product=product, by=by, is_active=True)


def _category_values(name: str, parent: ProductCategory | None, sort_order,
                     category: ProductCategory | None = None) -> dict:
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Enter the category's name."), field="name", code="required")
    if len(name) > 100:
        raise DomainError(_("The name is too long (100 characters at most)."), field="name")
    if ProductCategory.objects.filter(name=name).exclude(
            pk=category.pk if category else None).exists():
        raise Conflict(_("A category named %s already exists.") % name, field="name",
                       code="duplicate")
    if parent is not None and category is not None:
        node, depth = parent, 0
        while node is not None and depth < 100:  # categories are few and shallow
            if node.pk == category.pk:
                raise DomainError(_("A category cannot sit under itself or one of its own "
                                    "sub-categories."), field="parent", code="cycle")
            node, depth = node.parent, depth + 1
    try:
        sort_order = int(sort_order or 0)
    except (TypeError, ValueError) as exc:
        raise DomainError(_("Enter a whole number."), field="sort_order") from exc
    if not 0 <= sort_order <= 32767:
        raise DomainError(_("Between 0 and 32767."), field="sort_order")
    return {"name": name, "parent": parent, "sort_order": sort_order}


@transaction.atomic
def category_create(*, by, name: str, parent: ProductCategory | None = None,
                    sort_order: int = 0) -> ProductCategory:
    _require_manage_products(by)
    category = ProductCategory(**_category_values(name, parent, sort_order))
    return audited_save(category, by=by, validate_constraints=False,
                        exclude=["name"])  # uniqueness checked above


@transaction.atomic
def category_update(*, category: ProductCategory, by, **fields) -> ProductCategory:
    _require_manage_products(by)
    _refuse_unknown(fields, {"name", "parent", "sort_order"})
    values = _category_values(fields.get("name", category.name),
                              fields.get("parent", category.parent),
                              fields.get("sort_order", category.sort_order), category)
    for key, value in values.items():
        setattr(category, key, value)
    return audited_save(category, by=by, validate_constraints=False, exclude=["name"])


# === Contract number register (SAL-4) ==================================================
ISSUE_MAX = 50  # numbers in one request


def can_issue_to(by, employee: Employee) -> bool:
    """Numbers are money records: whoever's money scope holds ``employee`` may issue them
    numbers — a salesperson takes their own, a head issues to their subtree, finance and
    the director to the whole department, an administrator to anyone."""
    scope = scope_for(by, Domain.MONEY)
    if scope.everything:
        return True
    if employee_of(by) is None:
        return False
    return scope.covers(employee)


def can_close(by, number: ContractNumber) -> bool:
    """Void or return: the holder, or whoever's money scope holds the holder."""
    return can_issue_to(by, number.issued_to)


@transaction.atomic
def number_setting_update(*, by, pattern: str) -> ContractNumberSetting:
    """A new pattern for the numbers issued from now on (administrators; audited)."""
    if Capability.ADMINISTER not in capabilities_of(by):
        raise PermissionDenied
    setting = ContractNumberSetting.objects.select_for_update().get(
        pk=ContractNumberSetting.current().pk)
    setting.pattern = (pattern or "").strip()
    return audited_save(setting, by=by)


def _take_sequence(year: int, count: int) -> int:
    """Reserve ``count`` sequence numbers of ``year``; return the first. The year's counter
    row is locked until the transaction ends, so concurrent issues wait in turn (on
    SQLite the IMMEDIATE write lock already serializes them)."""
    counter = ContractNumberCounter.objects.select_for_update().filter(year=year).first()
    if counter is None:
        try:
            with transaction.atomic():  # the first issue of a year creates its counter
                ContractNumberCounter.objects.create(year=year, last_seq=0)
        except IntegrityError:
            pass  # another issue created it first; it is locked below all the same
        counter = ContractNumberCounter.objects.select_for_update().get(year=year)
    first = counter.last_seq + 1
    counter.last_seq += count
    counter.save(update_fields=["last_seq"])
    return first


@transaction.atomic
def contract_number_issue(*, by, to: Employee, count: int = 1) -> list[ContractNumber]:
    """Issue ``count`` new numbers to ``to`` (see ``can_issue_to``); the next ones of the
    year's sequence, which stays gapless: the counter and the rows are written in one
    transaction, so a failure takes back both."""
    me = _actor(by)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= ISSUE_MAX:
        raise DomainError(_("Issue between 1 and %d numbers at a time.") % ISSUE_MAX,
                          field="count", code="count")
    if to is None:
        raise DomainError(_("Choose whom to issue the numbers to."), field="to",
                          code="required")
    if to.status == EmployeeStatus.LEFT:
        raise DomainError(_("%s has left and cannot take contract numbers.") % to.name,
                          field="to", code="left")
    if not can_issue_to(by, to):
        raise PermissionDenied
    pattern = ContractNumberSetting.current().pattern
    now = timezone.now()
    year = timezone.localdate(now).year
    first = _take_sequence(year, count)
    numbers = [ContractNumber(number=render_number(pattern, year=year, seq=seq), year=year,
                              seq=seq, issued_to=to, issued_by=me, issued_at=now)
               for seq in range(first, first + count)]
    texts = [n.number for n in numbers]
    taken = ContractNumber.objects.filter(number__in=texts).values_list("number", flat=True)
    taken = list(taken[:1])
    if taken:  # only after the pattern was changed to one an old number also matches
        raise Conflict(_("The number %s is already on the register; change the number "
                         "pattern.") % taken[0], field="pattern", code="duplicate")
    ContractNumber.objects.bulk_create(numbers)
    if numbers[0].pk is None:  # a backend that cannot return ids from a bulk insert
        numbers = list(ContractNumber.objects.filter(year=year, seq__gte=first,
                                                     seq__lt=first + count).order_by("seq"))
    ContractNumber.history.bulk_history_create(numbers, default_user=getattr(by, "user", by),
                                               default_change_reason="issued")
    return numbers


def _locked(number: ContractNumber) -> ContractNumber:
    return (ContractNumber.objects.select_for_update(of=("self",))
            .select_related("issued_to__unit", "issued_by").get(pk=number.pk))


def _move(number: ContractNumber, status: str) -> None:
    allowed = CONTRACT_NUMBER_TRANSITIONS.get(number.status, frozenset())
    if status not in allowed:
        raise DomainError(
            _("The number %(number)s is %(old)s; it cannot be %(new)s.")
            % {"number": number.number, "old": ContractNumberStatus(number.status).label,
               "new": ContractNumberStatus(status).label},
            field="status", code="transition")
    number._change_reason = f"{number.status} → {status}"
    number.status = status


@transaction.atomic
def contract_number_use(*, number: ContractNumber, by, contract_id: int) -> ContractNumber:
    """A contract takes the number: only a number issued to the one who uses it, only
    once, and a contract takes only one number."""
    me = _actor(by)
    number = _locked(number)
    if number.issued_to_id != me.pk:
        raise DomainError(_("The number %s was not issued to you.") % number.number,
                          field="number", code="not_yours")
    if isinstance(contract_id, bool) or not isinstance(contract_id, int) or contract_id < 1:
        raise DomainError(_("Name the contract."), field="contract_id", code="required")
    _move(number, ContractNumberStatus.USED)
    if ContractNumber.objects.filter(contract_id=contract_id).exists():
        raise Conflict(_("This contract already has a number."), field="contract_id",
                       code="duplicate")
    number.contract_id = contract_id
    number.used_at = timezone.now()
    try:
        with transaction.atomic():
            return audited_save(number, by=by, validate_constraints=False)
    except IntegrityError as exc:
        raise Conflict(_("This contract already has a number."), field="contract_id",
                       code="duplicate") from exc


def _close(number: ContractNumber, *, by, reason: str, status: str, message) -> ContractNumber:
    me = _actor(by)
    number = _locked(number)
    if not can_close(by, number):
        raise PermissionDenied
    reason = _reason(reason, message)
    _move(number, status)
    number.reason = reason
    number.closed_by = me
    number.closed_at = timezone.now()
    return audited_save(number, by=by, validate_constraints=False)


@transaction.atomic
def contract_number_void(*, number: ContractNumber, by, reason: str) -> ContractNumber:
    """Spoiled (a misprinted or torn contract form): kept on the register, never reused."""
    return _close(number, by=by, reason=reason, status=ContractNumberStatus.VOIDED,
                  message=_("Say why the number is voided."))


@transaction.atomic
def contract_number_return(*, number: ContractNumber, by, reason: str) -> ContractNumber:
    """Handed back unused: kept on the register, never issued again."""
    return _close(number, by=by, reason=reason, status=ContractNumberStatus.RETURNED,
                  message=_("Say why the number is returned."))


# === Opportunities (SAL-2) ==============================================================
# === Contracts (SAL-5) ==================================================================
# === Receivables (SAL-6) ================================================================
# === Expenses (SAL-7) ===================================================================
