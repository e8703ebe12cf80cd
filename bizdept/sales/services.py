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
import datetime  # noqa: E402 - this section's own imports

from django.contrib.contenttypes.models import ContentType  # noqa: E402

from bizdept.approvals import services as approval_services  # noqa: E402
from bizdept.approvals.models import ApprovalTask  # noqa: E402
from bizdept.approvals.selectors import approval_status  # noqa: E402
from bizdept.customers.models import Customer  # noqa: E402

from .choices import (  # noqa: E402
    OPPORTUNITY_CLOSED,
    OPPORTUNITY_NEXT,
    OPPORTUNITY_TRANSITIONS,
    OpportunityStage,
)
from .models import (  # noqa: E402
    PERCENT_MAX,
    Opportunity,
    OpportunitySettings,
    OpportunityStageChange,
    SolutionLine,
)

OPPORTUNITY_TYPE = "sales.opportunity"
DISCOUNT_TYPE = "sales.discount"
TEXT_MAX = 5000
SOLUTION_QUANTITY_MAX = Decimal("9999999999.99")
OPPORTUNITY_FIELDS = {"title", "need", "expected_amount", "expected_close_on", "owner"}


def can_work_on(by, opportunity: Opportunity) -> bool:
    """The owner, or a head whose sales scope holds the owner (the director, an admin)."""
    return scope_for(by, Domain.SALES).covers(opportunity.owner)


def _require_work_on(by, opportunity: Opportunity) -> Employee:
    me = _actor(by)
    if not can_work_on(by, opportunity):
        raise PermissionDenied
    return me


def _locked_opportunity(opportunity: Opportunity) -> Opportunity:
    return (Opportunity.objects.select_for_update(of=("self",))
            .select_related("owner__unit", "customer").get(pk=opportunity.pk))


def _sal_text(value, field: str, *, required=None, max_length: int = TEXT_MAX) -> str:
    value = (value or "").strip()
    if required is not None and not value:
        raise DomainError(required, field=field, code="required")
    if len(value) > max_length:
        raise DomainError(_("At most %d characters.") % max_length, field=field,
                          code="too_long")
    return value


def _opportunity_values(fields: dict, *, by) -> dict:
    clean = {}
    for key, value in fields.items():
        if key == "title":
            value = _sal_text(value, key, required=_("Enter the opportunity's subject."),
                          max_length=200)
        elif key == "need":
            value = _sal_text(value, key)
        elif key == "expected_amount":
            value = parse_money(0 if value is None else value, key)
        elif key == "expected_close_on":
            if value is not None and not isinstance(value, datetime.date):
                raise DomainError(_("Enter a date."), field=key, code="invalid")
        elif key == "owner":
            if not isinstance(value, Employee):
                raise DomainError(_("Choose the owner."), field=key, code="required")
            if value.status == EmployeeStatus.LEFT:
                raise DomainError(_("%s has left.") % value.name, field=key, code="left")
            if value.pk != getattr(employee_of(by), "pk", None) and not scope_for(
                    by, Domain.SALES).covers(value):
                raise DomainError(_("You may only give an opportunity to someone in your "
                                    "team."), field=key, code="out_of_scope")
        clean[key] = value
    return clean


def _set_stage(opportunity: Opportunity, new: str, *, by: Employee | None,
               comment: str = "") -> Opportunity:
    """The one way an opportunity moves: along the transition table, with its row."""
    old = opportunity.stage
    if new not in OPPORTUNITY_TRANSITIONS.get(old, frozenset()):
        raise DomainError(
            _("The opportunity is at “%(old)s”; it cannot move to “%(new)s”.")
            % {"old": OpportunityStage(old).label, "new": OpportunityStage(new).label},
            field="stage", code="transition")
    now = timezone.now()
    opportunity.stage = new
    if new in OPPORTUNITY_CLOSED:
        opportunity.closed_at = now
    opportunity._change_reason = f"{old} → {new}"
    if by is not None:
        opportunity._history_user = getattr(by, "user", by)
    opportunity.save()
    OpportunityStageChange.objects.create(opportunity=opportunity, old_stage=old, new_stage=new,
                                          by=by, at=now, comment=(comment or "")[:500])
    return opportunity


@transaction.atomic
def opportunity_create(*, by, customer: Customer, title: str, need: str = "",
                       expected_amount=0, expected_close_on: datetime.date | None = None,
                       owner: Employee | None = None) -> Opportunity:
    """A need collected (需求收集) from a customer the user may see; owned by the
    customer's owner by default (when the user may act for them), else by the user."""
    me = _actor(by)
    if customer is None or not Customer.objects.visible_to(by).filter(pk=customer.pk).exists():
        raise DomainError(_("Choose a customer you follow."), field="customer",
                          code="out_of_scope")
    if owner is None:
        default = customer.owner
        owner = default if default is not None and (
            default.pk == me.pk or scope_for(by, Domain.SALES).covers(default)) else me
        if owner.status == EmployeeStatus.LEFT:
            owner = me
    values = _opportunity_values({"title": title, "need": need,
                                  "expected_amount": expected_amount,
                                  "expected_close_on": expected_close_on, "owner": owner},
                                 by=by)
    opportunity = Opportunity(customer=customer, created_by=me, **values)
    audited_save(opportunity, by=by, validate_constraints=False)
    OpportunityStageChange.objects.create(opportunity=opportunity, old_stage="",
                                          new_stage=OpportunityStage.NEED, by=me,
                                          at=opportunity.created_at)
    return opportunity


@transaction.atomic
def opportunity_update(*, opportunity: Opportunity, by, **fields) -> Opportunity:
    """Change the subject, need, expected amount or date, or the owner; not while the
    manager's approval is pending (what is approved must not move), not once closed."""
    _refuse_unknown(fields, OPPORTUNITY_FIELDS)
    opportunity = _locked_opportunity(opportunity)
    _require_work_on(by, opportunity)
    if opportunity.stage == OpportunityStage.APPROVAL or opportunity.is_closed:
        raise DomainError(_("An opportunity cannot be changed while it is %s.")
                          % OpportunityStage(opportunity.stage).label, field="stage",
                          code="locked")
    for key, value in _opportunity_values(fields, by=by).items():
        setattr(opportunity, key, value)
    return audited_save(opportunity, by=by, validate_constraints=False)


@transaction.atomic
def opportunity_submit(*, opportunity: Opportunity, by, comment: str = "") -> Opportunity:
    """Need collected → manager approval (负责人审批), through the approval engine."""
    opportunity = _locked_opportunity(opportunity)
    me = _require_work_on(by, opportunity)
    if opportunity.stage != OpportunityStage.NEED:
        raise DomainError(_("Only a collected need is submitted for approval; this one is "
                            "at “%s”.") % OpportunityStage(opportunity.stage).label,
                          field="stage", code="transition")
    _set_stage(opportunity, OpportunityStage.APPROVAL, by=me, comment=comment)
    approval_services.approval_submit(document=opportunity, by=by, comment=comment,
                                      document_type=OPPORTUNITY_TYPE)
    opportunity.refresh_from_db()
    return opportunity


def _decision(document) -> tuple[Employee | None, str]:
    """Who decided the document's latest request, and their comment (for the stage row)."""
    task = (ApprovalTask.objects
            .filter(request__content_type=ContentType.objects.get_for_model(document),
                    request__object_id=document.pk, decided_at__isnull=False)
            .select_related("decided_by").order_by("-decided_at", "-pk").first())
    if task is None:
        return None, ""
    return task.decided_by, task.comment


def opportunity_approved(opportunity: Opportunity) -> None:
    """Engine callback (in the decision's transaction): on to the solution (制定方案)."""
    decider, comment = _decision(opportunity)
    _set_stage(opportunity, OpportunityStage.SOLUTION, by=decider, comment=comment)


def opportunity_rejected(opportunity: Opportunity) -> None:
    decider, comment = _decision(opportunity)
    opportunity.close_reason = (comment or str(_("Rejected at the manager's approval.")))[:200]
    _set_stage(opportunity, OpportunityStage.LOST, by=decider, comment=comment)


def opportunity_returned(opportunity: Opportunity) -> None:
    decider, comment = _decision(opportunity)
    _set_stage(opportunity, OpportunityStage.NEED, by=decider, comment=comment)


def opportunity_withdrawn(opportunity: Opportunity) -> None:
    _set_stage(opportunity, OpportunityStage.NEED, by=opportunity.owner,
               comment=str(_("Approval request withdrawn.")))


def discount_decided(opportunity: Opportunity) -> None:
    """A discount approval changes no stage: ``opportunity_advance`` reads it."""


def max_discount(opportunity: Opportunity) -> Decimal:
    found = [line.discount_percent for line in opportunity.lines.all()]
    return max(found, default=Decimal(0))


def needs_discount_approval(opportunity: Opportunity, threshold: Decimal | None = None) -> bool:
    if threshold is None:
        threshold = OpportunitySettings.current().discount_approval_threshold
    return max_discount(opportunity) > threshold


def discount_given(opportunity: Opportunity) -> Decimal:
    """What the discounts take off the list of the lines (the discount approval's amount)."""
    return sum((line.discount_amount for line in opportunity.lines.all()), Decimal("0.00"))


def discount_approved(opportunity: Opportunity) -> bool:
    """The latest request is an approved discount, made after the lines last changed."""
    try:
        latest = approval_services.require_approved(opportunity)
    except DomainError:
        return False
    return latest.document_type == DISCOUNT_TYPE and (
        opportunity.lines_changed_at is None or latest.created_at >= opportunity.lines_changed_at)


@transaction.atomic
def opportunity_request_discount(*, opportunity: Opportunity, by,
                                 comment: str = "") -> Opportunity:
    """Ask for the discount approval (``sales.discount``) of the solution as it is."""
    opportunity = _locked_opportunity(opportunity)
    _require_work_on(by, opportunity)
    if opportunity.stage != OpportunityStage.SOLUTION:
        raise DomainError(_("A discount is approved while the solution is drafted."),
                          field="stage", code="transition")
    if not needs_discount_approval(opportunity):
        raise DomainError(_("No line's discount is above the threshold: no approval is "
                            "needed."), field="discount_percent", code="not_needed")
    if discount_approved(opportunity):
        raise Conflict(_("The discount is already approved."), field="discount_percent",
                       code="already_approved")
    approval_services.approval_submit(document=opportunity, by=by, comment=comment,
                                      document_type=DISCOUNT_TYPE)
    return opportunity


@transaction.atomic
def opportunity_advance(*, opportunity: Opportunity, by, comment: str = "") -> Opportunity:
    """One step along the flow: solution → implementing → follow-up. A solution needs a
    line, and its discount approval when a line is above the threshold."""
    opportunity = _locked_opportunity(opportunity)
    me = _require_work_on(by, opportunity)
    stage = opportunity.stage
    new = OPPORTUNITY_NEXT.get(stage)
    if new is None:
        hints = {
            OpportunityStage.NEED: _("Submit the need for the manager's approval."),
            OpportunityStage.APPROVAL: _("The opportunity waits for the manager's approval."),
            OpportunityStage.FOLLOW_UP: _("Evaluate the result to finish the opportunity."),
        }
        raise DomainError(hints.get(stage, _("The opportunity is at “%s”; it does not move "
                                             "on from there.")
                                    % OpportunityStage(stage).label),
                          field="stage", code="transition")
    if stage == OpportunityStage.SOLUTION:
        if not opportunity.lines.exists():
            raise DomainError(_("Add the solution's lines first."), field="lines",
                              code="required")
        if approval_status(opportunity) == "pending":
            raise DomainError(_("The discount waits for approval."), field="discount_percent",
                              code="pending")
        threshold = OpportunitySettings.current().discount_approval_threshold
        if needs_discount_approval(opportunity, threshold) and not discount_approved(
                opportunity):
            raise DomainError(
                _("A discount above %s%% needs the discount approval before the solution "
                  "is carried out.") % threshold, field="discount_percent",
                code="not_approved")
    comment = _sal_text(comment, "comment", max_length=500)
    return _set_stage(opportunity, new, by=me, comment=comment)


def _opportunity_close(opportunity: Opportunity, *, by, reason: str, stage: str,
                       message) -> Opportunity:
    opportunity = _locked_opportunity(opportunity)
    me = _require_work_on(by, opportunity)
    reason = _reason(reason, message)
    if opportunity.stage == OpportunityStage.APPROVAL:
        raise DomainError(_("The opportunity waits for the manager's approval; it is decided "
                            "there."), field="stage", code="pending")
    if approval_status(opportunity) == "pending":
        raise DomainError(_("The discount waits for approval."), field="stage",
                          code="pending")
    opportunity.close_reason = reason
    return _set_stage(opportunity, stage, by=me, comment=reason)


@transaction.atomic
def opportunity_win(*, opportunity: Opportunity, by, reason: str) -> Opportunity:
    return _opportunity_close(opportunity, by=by, reason=reason, stage=OpportunityStage.WON,
                  message=_("Say why the opportunity was won."))


@transaction.atomic
def opportunity_lose(*, opportunity: Opportunity, by, reason: str) -> Opportunity:
    return _opportunity_close(opportunity, by=by, reason=reason, stage=OpportunityStage.LOST,
                  message=_("Say why the opportunity was lost."))


@transaction.atomic
def opportunity_evaluate(*, opportunity: Opportunity, by, score: int,
                         lessons: str = "") -> Opportunity:
    """成果评估: a score 1–5 and the lessons. From follow-up it finishes the flow; a won or
    lost (or evaluated) opportunity keeps its stage and gets (or revises) its evaluation."""
    opportunity = _locked_opportunity(opportunity)
    me = _require_work_on(by, opportunity)
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise DomainError(_("Give a score from 1 to 5."), field="score", code="invalid")
    lessons = _sal_text(lessons, "lessons")
    stage = opportunity.stage
    if stage not in (OpportunityStage.FOLLOW_UP, OpportunityStage.EVALUATED,
                     *OPPORTUNITY_CLOSED):
        raise DomainError(_("The result is evaluated after the follow-up; this opportunity "
                            "is at “%s”.") % OpportunityStage(stage).label, field="stage",
                          code="transition")
    opportunity.evaluation_score = score
    opportunity.lessons = lessons
    opportunity.evaluated_at = timezone.now()
    if stage == OpportunityStage.FOLLOW_UP:
        return _set_stage(opportunity, OpportunityStage.EVALUATED, by=me)
    return audited_save(opportunity, by=by, validate_constraints=False)


# --- solution lines (制定方案) ----------------------------------------------------------
def _parse_decimal(value, field: str, *, low, high, strict_low=False, message) -> Decimal:
    if isinstance(value, bool) or value is None or value == "":
        raise DomainError(message, field=field, code="required")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(message, field=field, code="invalid") from exc
    if not number.is_finite() or number > high or number < low or (strict_low and number == low):
        raise DomainError(message, field=field, code="invalid")
    if number != number.quantize(Decimal("0.01"), rounding=ROUND_DOWN):
        raise DomainError(_("At most 2 decimal places."), field=field, code="decimals")
    return number.quantize(Decimal("0.01"))


def _line_values(fields: dict) -> dict:
    clean = {}
    for key, value in fields.items():
        if key == "quantity":
            value = _parse_decimal(value, key, low=0, high=SOLUTION_QUANTITY_MAX, strict_low=True,
                                   message=_("Enter a quantity above 0."))
        elif key == "unit_price":
            value = parse_money(value, key)
        elif key == "discount_percent":
            value = _parse_decimal(0 if value is None else value, key, low=0, high=PERCENT_MAX,
                                   message=_("Enter a discount from 0 to 100 (%)."))
        clean[key] = value
    return clean


def _lines_editable(opportunity: Opportunity, by) -> Employee:
    me = _require_work_on(by, opportunity)
    if opportunity.stage != OpportunityStage.SOLUTION:
        raise DomainError(_("The solution's lines are edited while the solution is drafted; "
                            "this opportunity is at “%s”.")
                          % OpportunityStage(opportunity.stage).label, field="stage",
                          code="locked")
    if approval_status(opportunity) == "pending":
        raise DomainError(_("The lines cannot change while their discount waits for "
                            "approval."), field="stage", code="pending")
    return me


def _lines_changed(opportunity: Opportunity) -> None:
    opportunity.lines_changed_at = timezone.now()
    opportunity.save(update_fields=["lines_changed_at", "updated_at"])


@transaction.atomic
def solution_line_add(*, opportunity: Opportunity, by, product: Product, quantity,
                      unit_price=None, discount_percent=0) -> SolutionLine:
    """A line of the solution at the product's list price unless another is given; the
    product's standard cost is copied now."""
    opportunity = _locked_opportunity(opportunity)
    _lines_editable(opportunity, by)
    if not isinstance(product, Product):
        raise DomainError(_("Choose a product."), field="product", code="required")
    if not product.is_active:
        raise DomainError(_("%s is no longer offered.") % product.code, field="product",
                          code="inactive")
    values = _line_values({"quantity": quantity,
                           "unit_price": product.list_price if unit_price is None
                           else unit_price,
                           "discount_percent": discount_percent})
    line = SolutionLine(opportunity=opportunity, product=product,
                        standard_cost=product.standard_cost, **values)
    audited_save(line, by=by, validate_constraints=False)
    _lines_changed(opportunity)
    return line


def _locked_line(line: SolutionLine) -> tuple[SolutionLine, Opportunity]:
    opportunity = _locked_opportunity(line.opportunity)
    line = SolutionLine.objects.select_related("product").get(pk=line.pk)
    return line, opportunity


@transaction.atomic
def solution_line_update(*, line: SolutionLine, by, **fields) -> SolutionLine:
    _refuse_unknown(fields, {"quantity", "unit_price", "discount_percent"})
    line, opportunity = _locked_line(line)
    _lines_editable(opportunity, by)
    for key, value in _line_values(fields).items():
        setattr(line, key, value)
    audited_save(line, by=by, validate_constraints=False)
    _lines_changed(opportunity)
    return line


@transaction.atomic
def solution_line_remove(*, line: SolutionLine, by) -> None:
    line, opportunity = _locked_line(line)
    _lines_editable(opportunity, by)
    line._history_user = getattr(by, "user", by)
    line.delete()
    _lines_changed(opportunity)


@transaction.atomic
def opportunity_settings_update(*, by, discount_approval_threshold) -> OpportunitySettings:
    if Capability.ADMINISTER not in capabilities_of(by):
        raise PermissionDenied
    settings_row = OpportunitySettings.objects.select_for_update().get(
        pk=OpportunitySettings.current().pk)
    settings_row.discount_approval_threshold = _parse_decimal(
        discount_approval_threshold, "discount_approval_threshold", low=0, high=PERCENT_MAX,
        message=_("Enter a discount from 0 to 100 (%)."))
    return audited_save(settings_row, by=by)
# === end of Opportunities (SAL-2) =======================================================
# === Contracts (SAL-5) ==================================================================
# (imports of this part kept here, so the parts of the file are edited independently)
import datetime  # noqa: E402, F811

from django.core.exceptions import ValidationError  # noqa: E402
from django.db import models  # noqa: E402

from bizdept.approvals import services as approvals  # noqa: E402
from bizdept.core.money import to_cents  # noqa: E402
from bizdept.customers.models import Customer  # noqa: E402, F811
from bizdept.org import choices as org_choices  # noqa: E402

from .choices import (  # noqa: E402
    CONTRACT_EDITABLE,
    CONTRACT_TRANSITIONS,
    AmendmentStatus,
    ContractStatus,
    PaymentMethod,
)
from .models import (  # noqa: E402
    Contract,
    ContractAmendment,
    ContractLine,
    Payment,
    PaymentPlan,
    validate_scan,
)
from .pricing import line_amount  # noqa: E402

LINES_MAX = 200
QUANTITY_MAX = Decimal(10**10)
# The number is checked by the register; the scan when it is uploaded (not on every save).
CONTRACT_UNCHECKED = ["number", "scan"]
CONTRACT_FIELDS = {"title", "customer", "opportunity", "starts_on", "ends_on",
                   "delivery_terms", "technical_terms", "installation_terms", "notes"}
FEASIBILITY_FIELDS = ("delivery_terms", "technical_terms", "installation_terms")


def _status_label(status) -> str:
    return str(ContractStatus(status).label)


def can_manage_contract(by, contract: Contract) -> bool:
    """The owner, a head whose subtree holds the owner, the administrator."""
    caps = capabilities_of(by)
    if Capability.ADMINISTER in caps:
        return True
    me = employee_of(by)
    if me is None:
        return False
    if contract.owner_id == me.pk:
        return True
    return (Capability.MANAGE_TEAM in caps
            and scope_for(by, Domain.SALES).covers(contract.owner))


def _require_manage(by, contract: Contract) -> Employee:
    me = _actor(by)
    if not can_manage_contract(by, contract):
        raise PermissionDenied
    return me


def can_confirm_feasibility(by, contract: Contract) -> bool:
    """The delivery side's check of the pre-signing report (工期/技术/安装条件): any head
    (lead, manager, director) whose subtree holds the owner — not the owner themselves —
    or the administrator."""
    caps = capabilities_of(by)
    if Capability.ADMINISTER in caps:
        return True
    me = employee_of(by)
    if me is None or me.pk == contract.owner_id or Capability.MANAGE_TEAM not in caps:
        return False
    return scope_for(by, Domain.SALES).covers(contract.owner)


def _set_status(contract: Contract, status: str) -> None:
    if status not in CONTRACT_TRANSITIONS.get(contract.status, frozenset()):
        raise DomainError(
            _("The contract is %(old)s; it cannot become %(new)s.")
            % {"old": _status_label(contract.status), "new": _status_label(status)},
            field="status", code="transition")
    contract._change_reason = f"{contract.status} → {status}"
    contract.status = status


def _contract_locked(contract: Contract) -> Contract:
    return (Contract.objects.select_for_update(of=("self",))
            .select_related("owner__unit", "customer", "number").get(pk=contract.pk))


def _refuse_amount_change(contract: Contract) -> None:
    """Lines and amount are frozen while the approval runs and once signed."""
    if contract.status == ContractStatus.REPORTED:
        raise DomainError(_("The contract is waiting for approval: its lines and amount "
                            "cannot change now. Withdraw the approval request first."),
                          field="lines", code="under_approval")
    if contract.status not in CONTRACT_EDITABLE:
        raise DomainError(_("The contract is %s: change it through an amendment.")
                          % _status_label(contract.status), field="lines", code="signed")


def _parse_quantity(value, field: str) -> Decimal:
    try:
        quantity = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(_("Enter a quantity such as 2 or 1.5."), field=field,
                          code="invalid") from exc
    if not quantity.is_finite() or quantity <= 0:
        raise DomainError(_("The quantity must be more than zero."), field=field,
                          code="invalid")
    if quantity >= QUANTITY_MAX or quantity != quantity.quantize(Decimal("0.01"),
                                                                 rounding=ROUND_DOWN):
        raise DomainError(_("Enter a quantity such as 2 or 1.5."), field=field,
                          code="invalid")
    return quantity.quantize(Decimal("0.01"))


def contract_line_values(lines) -> list[dict]:
    """Parse lines given as dicts (product: Product or id, quantity, unit_price, optional
    unit_cost: the product's standard cost when left out). Each amount is price × quantity
    to the cent (``pricing.line_amount``); the contract's total is their sum."""
    lines = list(lines or [])
    if len(lines) > LINES_MAX:
        raise DomainError(_("At most %d lines.") % LINES_MAX, field="lines", code="too_many")
    ids = {line.get("product") if not isinstance(line.get("product"), Product)
           else line["product"].pk for line in lines}
    products = Product.objects.in_bulk([i for i in ids if isinstance(i, int)])
    clean = []
    for n, line in enumerate(lines):
        product = line.get("product")
        product = products.get(product.pk if isinstance(product, Product) else product)
        if product is None:
            raise DomainError(_("Choose a product of the catalogue."), field="lines",
                              code="unknown_product")
        quantity = _parse_quantity(line.get("quantity"), "lines")
        price = parse_money(line.get("unit_price"), "lines")
        cost = line.get("unit_cost")
        cost = product.standard_cost if cost in (None, "") else parse_money(cost, "lines")
        amount = line_amount(price, quantity)
        if amount > MONEY_MAX:
            raise DomainError(_("The amount is too large."), field="lines", code="too_large")
        clean.append({"product": product, "quantity": quantity, "unit_price": price,
                      "unit_cost": cost, "amount": amount, "sort_order": n})
    total = sum((c["amount"] for c in clean), Decimal("0.00"))
    if total > MONEY_MAX:
        raise DomainError(_("The amount is too large."), field="lines", code="too_large")
    return clean


def _plan_total(contract: Contract) -> Decimal:
    return to_cents(PaymentPlan.objects.filter(contract=contract)
                    .aggregate(total=models.Sum("amount"))["total"])


def _received_total(contract: Contract) -> Decimal:
    return to_cents(Payment.objects.filter(contract=contract)
                    .aggregate(total=models.Sum("amount"))["total"])


def _write_lines(contract: Contract, clean: list[dict], *, by) -> Decimal:
    """Replace the contract's lines; returns the new total (sum of the rounded lines)."""
    total = sum((c["amount"] for c in clean), Decimal("0.00"))
    plan = _plan_total(contract)
    if plan > total:
        raise DomainError(_("The payment plan adds up to %(plan)s, more than the new amount "
                            "%(total)s: change the plan first.")
                          % {"plan": plan, "total": total}, field="lines",
                          code="plan_exceeds")
    ContractLine.objects.filter(contract=contract).delete()
    rows = ContractLine.objects.bulk_create([ContractLine(contract=contract, **c) for c in clean])
    if rows:
        ContractLine.history.bulk_history_create(rows, default_user=getattr(by, "user", by))
    return total


def _customer_for(by, customer) -> Customer:
    if not isinstance(customer, Customer):
        customer = Customer.objects.filter(pk=customer).first() if customer else None
    if customer is None or not Customer.objects.visible_to(by).filter(pk=customer.pk).exists():
        raise DomainError(_("Choose one of your customers."), field="customer",
                          code="unknown")
    return customer


def _opportunity_for(by, opportunity, customer):
    if opportunity in (None, ""):
        return None
    from .models import Opportunity

    if not isinstance(opportunity, Opportunity):
        opportunity = Opportunity.objects.filter(pk=opportunity).first()
    if opportunity is None or not Opportunity.objects.visible_to(by).filter(
            pk=opportunity.pk).exists():
        raise DomainError(_("There is no such opportunity of yours."), field="opportunity",
                          code="unknown")
    if opportunity.customer_id != customer.pk:
        raise DomainError(_("The opportunity is another customer's."), field="opportunity",
                          code="other_customer")
    return opportunity


def _text(value, field: str, max_length: int, *, required_message=None) -> str:
    value = (value or "").strip()
    if required_message and not value:
        raise DomainError(required_message, field=field, code="required")
    if len(value) > max_length:
        raise DomainError(_("Too long (%d characters at most).") % max_length, field=field,
                          code="too_long")
    return value


def _contract_values(by, fields: dict, contract: Contract | None = None) -> dict:
    clean = {}
    for key, value in fields.items():
        if key == "title":
            clean[key] = _text(value, key, 200,
                               required_message=_("Enter the contract's title."))
        elif key == "customer":
            clean[key] = _customer_for(by, value)
        elif key in ("delivery_terms", "technical_terms", "installation_terms", "notes"):
            clean[key] = _text(value, key, 4000)
        elif key in ("starts_on", "ends_on"):
            if value is not None and not isinstance(value, datetime.date):
                raise DomainError(_("Enter a date."), field=key, code="invalid")
            clean[key] = value
    if "opportunity" in fields:
        customer = clean.get("customer") or (contract.customer if contract else None)
        clean["opportunity"] = _opportunity_for(by, fields["opportunity"], customer)
    starts = clean.get("starts_on", contract.starts_on if contract else None)
    ends = clean.get("ends_on", contract.ends_on if contract else None)
    if starts and ends and ends < starts:
        raise DomainError(_("The contract cannot end before it starts."), field="ends_on",
                          code="order")
    return clean


@transaction.atomic
def contract_create(*, by, number: ContractNumber, customer, title: str, lines=(),
                    starts_on=None, ends_on=None, delivery_terms: str = "",
                    technical_terms: str = "", installation_terms: str = "",
                    notes: str = "", opportunity=None) -> Contract:
    """A draft contract of the acting salesperson, on one of their issued numbers (the
    register marks it used now: 合同领用登记), for one of their customers."""
    me = _actor(by)
    if not isinstance(number, ContractNumber):
        raise DomainError(_("Choose one of your contract numbers."), field="number",
                          code="required")
    values = _contract_values(by, {"title": title, "customer": customer,
                                   "opportunity": opportunity, "starts_on": starts_on,
                                   "ends_on": ends_on, "delivery_terms": delivery_terms,
                                   "technical_terms": technical_terms,
                                   "installation_terms": installation_terms, "notes": notes})
    clean = contract_line_values(lines)
    if number.issued_to_id != me.pk or number.status != ContractNumberStatus.ISSUED:
        raise DomainError(_("The number %s is not one of your unused numbers.") % number.number,
                          field="number", code="not_yours")
    contract = Contract(number=number, owner=me, status=ContractStatus.DRAFT, **values)
    contract._change_reason = "created"
    audited_save(contract, by=by, validate_constraints=False, exclude=CONTRACT_UNCHECKED)
    contract.total = _write_lines(contract, clean, by=by)
    if clean:
        contract.save(update_fields=["total"])
    contract_number_use(number=number, by=by, contract_id=contract.pk)
    return contract


@transaction.atomic
def contract_update(*, contract: Contract, by, **fields) -> Contract:
    """Change the header (title, customer, dates, the feasibility checklist, notes) of a
    draft or approved contract; an approved one goes back to draft (to be reported again).
    Changing the checklist clears its confirmation."""
    _refuse_unknown(fields, CONTRACT_FIELDS)
    contract = _contract_locked(contract)
    _require_manage(by, contract)
    if contract.status == ContractStatus.REPORTED:
        raise DomainError(_("The contract is waiting for approval and cannot change now. "
                            "Withdraw the approval request first."), field="status",
                          code="under_approval")
    if contract.status not in CONTRACT_EDITABLE:
        raise DomainError(_("The contract is %s: change it through an amendment.")
                          % _status_label(contract.status), field="status", code="signed")
    values = _contract_values(by, fields, contract)
    changed = {k for k, v in values.items() if getattr(contract, k) != v}
    for key, value in values.items():
        setattr(contract, key, value)
    if changed & set(FEASIBILITY_FIELDS):
        contract.feasibility_confirmed_by = None
        contract.feasibility_confirmed_at = None
    if changed and contract.status == ContractStatus.APPROVED:
        _set_status(contract, ContractStatus.DRAFT)
    return audited_save(contract, by=by, validate_constraints=False, exclude=CONTRACT_UNCHECKED)


@transaction.atomic
def contract_lines_set(*, contract: Contract, by, lines) -> Contract:
    """Replace the lines of a draft (or approved: back to draft) contract; refused while
    it is under approval or once signed (then: an amendment)."""
    contract = _contract_locked(contract)
    _require_manage(by, contract)
    _refuse_amount_change(contract)
    contract.total = _write_lines(contract, contract_line_values(lines), by=by)
    if contract.status == ContractStatus.APPROVED:
        _set_status(contract, ContractStatus.DRAFT)
    return audited_save(contract, by=by, validate_constraints=False, exclude=CONTRACT_UNCHECKED)


def _line_dicts(contract: Contract) -> list[dict]:
    return [{"product": line.product_id, "quantity": line.quantity,
             "unit_price": line.unit_price, "unit_cost": line.unit_cost}
            for line in contract.lines.all()]


@transaction.atomic
def contract_line_add(*, contract: Contract, by, product, quantity, unit_price,
                      unit_cost=None) -> Contract:
    lines = _line_dicts(contract) + [{"product": product, "quantity": quantity,
                                      "unit_price": unit_price, "unit_cost": unit_cost}]
    return contract_lines_set(contract=contract, by=by, lines=lines)


@transaction.atomic
def contract_line_remove(*, contract: Contract, by, line: ContractLine) -> Contract:
    lines = [d for d, row in zip(_line_dicts(contract), contract.lines.all(), strict=True)
             if row.pk != line.pk]
    return contract_lines_set(contract=contract, by=by, lines=lines)


@transaction.atomic
def contract_feasibility_confirm(*, contract: Contract, by) -> Contract:
    """The delivery side confirms the pre-signing report's delivery time, technical and
    installation conditions (签订前汇报: 工期、技术及安装条件的可行性)."""
    me = _actor(by)
    contract = _contract_locked(contract)
    if not can_confirm_feasibility(by, contract):
        raise PermissionDenied
    if contract.status in CONTRACT_SIGNED_OR_ENDED:
        raise DomainError(_("The contract is already %s.") % _status_label(contract.status),
                          field="status", code="signed")
    if not contract.feasibility_filled:
        raise DomainError(_("Fill in the delivery time, technical and installation "
                            "conditions first."), field="delivery_terms", code="required")
    contract.feasibility_confirmed_by = me
    contract.feasibility_confirmed_at = timezone.now()
    contract._change_reason = "feasibility confirmed"
    return audited_save(contract, by=by, validate_constraints=False, exclude=CONTRACT_UNCHECKED)


@transaction.atomic
def contract_report(*, contract: Contract, by, comment: str = "") -> Contract:
    """签订前汇报: report the contract before signing; its approval starts (routed by the
    amount: ``sales.contract``). It needs lines and the feasibility checklist filled."""
    contract = _contract_locked(contract)
    _require_manage(by, contract)
    if contract.status != ContractStatus.DRAFT:
        raise DomainError(_("Only a draft contract can be reported; this one is %s.")
                          % _status_label(contract.status), field="status", code="transition")
    missing = [f for f in FEASIBILITY_FIELDS if not getattr(contract, f).strip()]
    if missing:
        raise DomainError(_("Fill in the delivery time, technical and installation "
                            "conditions before reporting."), field=missing[0],
                          code="required")
    if not contract.lines.exists() or contract.total <= 0:
        raise DomainError(_("Add the contract's lines before reporting."), field="lines",
                          code="required")
    _set_status(contract, ContractStatus.REPORTED)
    audited_save(contract, by=by, validate_constraints=False, exclude=CONTRACT_UNCHECKED)
    approvals.approval_submit(document=contract, by=by, comment=comment,
                              document_type=CONTRACT_DOCUMENT)
    return contract


def _callback_status(contract: Contract, status: str) -> None:
    contract = Contract.objects.select_for_update(of=("self",)).get(pk=contract.pk)
    if contract.status == status:
        return
    _set_status(contract, status)
    contract.save(update_fields=["status", "updated_at"])


def contract_approved(contract: Contract) -> None:
    _callback_status(contract, ContractStatus.APPROVED)


def contract_not_approved(contract: Contract) -> None:
    """Returned, rejected or withdrawn: back to draft, to be changed and reported again."""
    _callback_status(contract, ContractStatus.DRAFT)


@transaction.atomic
def contract_sign(*, contract: Contract, by, signed_on: datetime.date, scan) -> Contract:
    """Signed: only after the approval (``require_approved``) and with the scan of the
    signed original, which is filed (原件存档)."""
    _require_manage(by, contract)
    contract = _contract_locked(contract)
    if contract.status != ContractStatus.APPROVED:
        raise DomainError(_("Only an approved contract can be signed; this one is %s.")
                          % _status_label(contract.status), field="status",
                          code="not_approved")
    approvals.require_approved(contract)
    if not isinstance(signed_on, datetime.date) or signed_on > timezone.localdate():
        raise DomainError(_("Enter the signing date (not in the future)."), field="signed_on",
                          code="invalid")
    if not scan:
        raise DomainError(_("Upload the scan of the signed contract."), field="scan",
                          code="required")
    try:
        validate_scan(scan)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], field="scan", code="invalid") from exc
    _set_status(contract, ContractStatus.SIGNED)
    contract.signed_on = signed_on
    contract.scan.save(scan.name, scan, save=False)
    contract.archived = True
    return audited_save(contract, by=by, validate_constraints=False,
                        exclude=["number", "scan"])


def _move_contract(contract: Contract, by, status: str, **values) -> Contract:
    contract = _contract_locked(contract)
    _require_manage(by, contract)
    _set_status(contract, status)
    for key, value in values.items():
        setattr(contract, key, value)
    return audited_save(contract, by=by, validate_constraints=False, exclude=CONTRACT_UNCHECKED)


@transaction.atomic
def contract_execute(*, contract: Contract, by) -> Contract:
    """Delivery and installation have started."""
    return _move_contract(contract, by, ContractStatus.EXECUTING)


@transaction.atomic
def contract_complete(*, contract: Contract, by) -> Contract:
    return _move_contract(contract, by, ContractStatus.COMPLETED)


@transaction.atomic
def contract_terminate(*, contract: Contract, by, reason: str) -> Contract:
    """Ended early (signed or being executed), with the reason; its unpaid instalments are
    no longer receivable."""
    reason = _reason(reason, _("Say why the contract is terminated."))
    return _move_contract(contract, by, ContractStatus.TERMINATED, termination_reason=reason,
                          terminated_on=timezone.localdate())


@transaction.atomic
def contract_amend(*, contract: Contract, by, reason: str, lines=None, starts_on=None,
                   ends_on=None, comment: str = "") -> ContractAmendment:
    """Ask to change a signed contract (its lines and/or dates); the amendment is approved
    like the contract (``sales.contract_amendment``, routed by the new amount) and applied
    by the approval. Refused when nothing changes, while another amendment waits, or when
    the new amount would be less than the money received or the payment plan."""
    contract = _contract_locked(contract)
    me = _require_manage(by, contract)
    if contract.status not in (ContractStatus.SIGNED, ContractStatus.EXECUTING):
        raise DomainError(_("Only a signed contract (or one being executed) is amended; "
                            "this one is %s.") % _status_label(contract.status),
                          field="status", code="transition")
    reason = _reason(reason, _("Say why the contract changes."))
    if ContractAmendment.objects.filter(contract=contract,
                                        status=AmendmentStatus.PENDING).exists():
        raise Conflict(_("Another amendment of this contract is waiting for approval."),
                       field="status", code="already_pending")
    new_total = contract.total
    clean_lines = None
    if lines is not None:
        parsed = contract_line_values(lines)
        if not parsed:
            raise DomainError(_("A contract keeps at least one line."), field="lines",
                              code="required")
        new_total = sum((c["amount"] for c in parsed), Decimal("0.00"))
        clean_lines = [{"product": c["product"].pk, "quantity": str(c["quantity"]),
                        "unit_price": str(c["unit_price"]), "unit_cost": str(c["unit_cost"])}
                       for c in parsed]
    if starts_on is None and ends_on is None and clean_lines is None:
        raise DomainError(_("Say what changes: the lines or the dates."), field="lines",
                          code="required")
    starts = starts_on or contract.starts_on
    ends = ends_on or contract.ends_on
    if starts and ends and ends < starts:
        raise DomainError(_("The contract cannot end before it starts."), field="ends_on",
                          code="order")
    _check_new_total(contract, new_total)
    seq = (ContractAmendment.objects.filter(contract=contract)
           .aggregate(last=models.Max("seq"))["last"] or 0) + 1
    amendment = ContractAmendment(contract=contract, seq=seq, reason=reason, lines=clean_lines,
                                  starts_on=starts_on, ends_on=ends_on,
                                  old_total=contract.total, new_total=new_total,
                                  requested_by=me)
    audited_save(amendment, by=by, validate_constraints=False)
    approvals.approval_submit(document=amendment, by=by, comment=comment,
                              document_type=AMENDMENT_DOCUMENT)
    return amendment


def _check_new_total(contract: Contract, new_total: Decimal) -> None:
    received = _received_total(contract)
    if new_total < received:
        raise DomainError(_("%(received)s has already been received: the amount cannot go "
                            "below it.") % {"received": received}, field="lines",
                          code="below_received")
    plan = _plan_total(contract)
    if new_total < plan:
        raise DomainError(_("The payment plan adds up to %(plan)s, more than the new amount "
                            "%(total)s: change the plan first.")
                          % {"plan": plan, "total": new_total}, field="lines",
                          code="plan_exceeds")


def amendment_approved(amendment: ContractAmendment) -> None:
    """Apply the approved amendment to its contract (in the decision's transaction)."""
    amendment = ContractAmendment.objects.select_for_update().get(pk=amendment.pk)
    if amendment.status != AmendmentStatus.PENDING:
        return
    contract = _contract_locked(amendment.contract)
    if amendment.lines is not None:
        parsed = contract_line_values([{**line, "product": int(line["product"])}
                                       for line in amendment.lines])
        _check_new_total(contract, sum((c["amount"] for c in parsed), Decimal("0.00")))
        contract.total = _write_lines(contract, parsed, by=None)
    if amendment.starts_on:
        contract.starts_on = amendment.starts_on
    if amendment.ends_on:
        contract.ends_on = amendment.ends_on
    contract._change_reason = f"amendment {amendment.seq}"
    contract.save()
    amendment.status = AmendmentStatus.APPLIED
    amendment.applied_at = timezone.now()
    amendment.save(update_fields=["status", "applied_at"])


def _amendment_ended(status: str):
    def callback(amendment: ContractAmendment) -> None:
        ContractAmendment.objects.filter(pk=amendment.pk, status=AmendmentStatus.PENDING
                                         ).update(status=status)
    return callback


amendment_rejected = _amendment_ended(AmendmentStatus.REJECTED)
amendment_returned = _amendment_ended(AmendmentStatus.RETURNED)
amendment_cancelled = _amendment_ended(AmendmentStatus.CANCELLED)

CONTRACT_DOCUMENT = "sales.contract"
AMENDMENT_DOCUMENT = "sales.contract_amendment"
CONTRACT_SIGNED_OR_ENDED = frozenset({ContractStatus.SIGNED, ContractStatus.EXECUTING,
                                      ContractStatus.COMPLETED, ContractStatus.TERMINATED})
# Money is received only on signed contracts.
RECEIVING = CONTRACT_SIGNED_OR_ENDED


# === Receivables (SAL-6) ================================================================
PLAN_MAX = 60


def can_enter_payments(by) -> bool:
    """Finance (财务) enters and reverses payments: the finance role, nobody else."""
    me = employee_of(by)
    if me is None or me.is_left or not getattr(by, "is_active", True):
        return False
    return me.roles.filter(code=org_choices.RoleCode.FINANCE).exists()


def can_edit_plan(by, contract: Contract) -> bool:
    return can_manage_contract(by, contract) or can_enter_payments(by)


@transaction.atomic
def contract_plan_set(*, contract: Contract, by, instalments) -> list[PaymentPlan]:
    """Replace the contract's payment plan (回款计划): instalments with a due date and an
    amount > 0. They may add up to less than the contract amount (the plan is then
    incomplete), never to more (CordysCRM #1021). The owner, their heads or finance;
    not on a completed or terminated contract."""
    _actor(by)
    contract = _contract_locked(contract)
    if not can_edit_plan(by, contract):
        raise PermissionDenied
    if contract.status in (ContractStatus.COMPLETED, ContractStatus.TERMINATED):
        raise DomainError(_("The contract is %s: its plan no longer changes.")
                          % _status_label(contract.status), field="status", code="closed")
    instalments = list(instalments or [])
    if len(instalments) > PLAN_MAX:
        raise DomainError(_("At most %d instalments.") % PLAN_MAX, field="instalments",
                          code="too_many")
    rows = []
    for n, item in enumerate(instalments, start=1):
        due_on = item.get("due_on")
        if not isinstance(due_on, datetime.date):
            raise DomainError(_("Enter each instalment's due date."), field="instalments",
                              code="required")
        amount = parse_money(item.get("amount"), "instalments")
        if amount <= 0:
            raise DomainError(_("Each instalment is more than zero."), field="instalments",
                              code="invalid")
        note = _text(item.get("note"), "instalments", 200)
        rows.append(PaymentPlan(contract=contract, seq=n, due_on=due_on, amount=amount,
                                note=note))
    total = sum((r.amount for r in rows), Decimal("0.00"))
    if total > contract.total:
        raise DomainError(_("The instalments add up to %(plan)s, more than the contract "
                            "amount %(total)s.") % {"plan": total, "total": contract.total},
                          field="instalments", code="plan_exceeds")
    PaymentPlan.objects.filter(contract=contract).delete()
    rows = PaymentPlan.objects.bulk_create(rows)
    if rows and rows[0].pk is not None:
        PaymentPlan.history.bulk_history_create(rows, default_user=getattr(by, "user", by))
    return list(PaymentPlan.objects.filter(contract=contract).order_by("due_on", "seq"))


def _regrade(customer) -> None:
    """A payment moves the customer's grade (CUS-3) and next revisit date (CUS-4)."""
    from bizdept.customers import services as customer_services

    customer_services.customer_grade_recompute(customers=[customer])


@transaction.atomic
def payment_record(*, contract: Contract, by, received_on: datetime.date, amount,
                   method: str = PaymentMethod.TRANSFER, reference: str = "") -> Payment:
    """Finance records money received on a signed contract (partial payments allowed);
    the total received never goes above the contract amount. The customer is re-graded."""
    me = _actor(by)
    if not can_enter_payments(by):
        raise PermissionDenied
    contract = _contract_locked(contract)
    if contract.status not in RECEIVING:
        raise DomainError(_("Money is received only on a signed contract; this one is %s.")
                          % _status_label(contract.status), field="contract",
                          code="not_signed")
    if not isinstance(received_on, datetime.date) or received_on > timezone.localdate():
        raise DomainError(_("Enter the date the money arrived (not in the future)."),
                          field="received_on", code="invalid")
    amount = parse_money(amount, "amount")
    if amount <= 0:
        raise DomainError(_("The amount must be more than zero."), field="amount",
                          code="invalid")
    if method not in PaymentMethod.values:
        raise DomainError(_("Choose the payment method."), field="method", code="invalid")
    reference = _text(reference, "reference", 100)
    received = _received_total(contract)
    if received + amount > contract.total:
        raise DomainError(
            _("%(received)s of %(total)s has been received: at most %(left)s more.")
            % {"received": received, "total": contract.total,
               "left": contract.total - received}, field="amount", code="over_contract")
    payment = Payment(contract=contract, received_on=received_on, amount=amount,
                      method=method, reference=reference, entered_by=me)
    audited_save(payment, by=by, validate_constraints=False)
    _regrade(contract.customer)
    return payment


@transaction.atomic
def payment_reverse(*, payment: Payment, by, reason: str) -> Payment:
    """Correct a payment by an opposite entry (finance, with a reason): a negative payment
    on the same day, linked to the one it reverses; nothing is edited or deleted. A
    payment is reversed once; a reversal is not reversed (record the payment again)."""
    me = _actor(by)
    if not can_enter_payments(by):
        raise PermissionDenied
    reason = _reason(reason, _("Say why the payment is reversed."))
    original = (Payment.objects.select_for_update(of=("self",))
                .select_related("contract__customer").get(pk=payment.pk))
    if original.reverses_id is not None or original.amount <= 0:
        raise DomainError(_("A reversal cannot be reversed; record the payment again."),
                          field="payment", code="reversal")
    if Payment.objects.filter(reverses=original).exists():
        raise Conflict(_("This payment has already been reversed."), field="payment",
                       code="already_reversed")
    reversal = Payment(contract=original.contract, received_on=original.received_on,
                       amount=-original.amount, method=original.method,
                       reference=original.reference, reverses=original, reason=reason,
                       entered_by=me)
    try:
        with transaction.atomic():
            audited_save(reversal, by=by, validate_constraints=False)
    except IntegrityError as exc:
        raise Conflict(_("This payment has already been reversed."), field="payment",
                       code="already_reversed") from exc
    _regrade(original.contract.customer)
    return reversal


# === Expenses (SAL-7) ===================================================================
from django.db.models import Sum  # noqa: E402 - this section's own imports

from bizdept.core.periods import clean_period, month_of, period_bounds, quarter_of  # noqa: E402
from bizdept.org.choices import RoleCode  # noqa: E402

from .choices import (  # noqa: E402
    EXPENSE_EDITABLE,
    EXPENSE_PENDING,
    EXPENSE_SPENT,
    EXPENSE_TRANSITIONS,
    ExpenseCategory,
    ExpenseStatus,
)
from .models import ExpenseBudget, ExpenseClaim  # noqa: E402

EXPENSE_TYPE = "sales.expense"
EXPENSE_FIELDS = {"category", "amount", "spent_on", "description", "customer"}


def is_finance(by) -> bool:
    """Finance (or an administrator): who pays approved claims."""
    if Capability.ADMINISTER in capabilities_of(by):
        return True
    me = employee_of(by)
    if me is None or me.is_left:
        return False
    cached = getattr(by, "_bizdept_is_finance", None)
    if cached is None:
        cached = me.roles.filter(code=RoleCode.FINANCE).exists()
        if hasattr(by, "pk"):
            by._bizdept_is_finance = cached
    return cached


def can_set_budget(by, employee: Employee) -> bool:
    """Finance and the director for the department; a head for the people under them
    (not for themselves); an administrator for anyone."""
    scope = scope_for(by, Domain.MONEY)
    if scope.everything:
        return True
    me = employee_of(by)
    if me is None or me.is_left:
        return False
    if Capability.SEE_MONEY in capabilities_of(by):
        return scope.covers(employee)
    if Capability.MANAGE_TEAM not in capabilities_of(by) or employee.pk == me.pk:
        return False
    return scope.covers(employee)


@transaction.atomic
def expense_budget_set(*, by, employee: Employee, period: str, amount) -> ExpenseBudget:
    """Set (or change) one person's budget for a month or a quarter."""
    me = _actor(by)
    if not isinstance(employee, Employee):
        raise DomainError(_("Choose whose budget it is."), field="employee", code="required")
    if not can_set_budget(by, employee):
        raise PermissionDenied
    period = clean_period(period)
    amount = parse_money(amount, "amount")
    budget = (ExpenseBudget.objects.select_for_update()
              .filter(employee=employee, period=period).first())
    if budget is None:
        budget = ExpenseBudget(employee=employee, period=period)
    budget.amount, budget.set_by, budget.updated_at = amount, me, timezone.now()
    try:
        with transaction.atomic():
            return audited_save(budget, by=by, validate_constraints=False)
    except IntegrityError as exc:
        raise Conflict(_("This budget was just set by someone else; try again."),
                       field="period", code="duplicate") from exc


def _claim_values(fields: dict, *, by) -> dict:
    clean = {}
    for key, value in fields.items():
        if key == "category":
            if value not in ExpenseCategory.values:
                raise DomainError(_("Choose the expense category."), field=key, code="invalid")
        elif key == "amount":
            value = parse_money(value, key)
            if value <= 0:
                raise DomainError(_("Enter an amount above 0."), field=key, code="invalid")
        elif key == "spent_on":
            if not isinstance(value, datetime.date):
                raise DomainError(_("Enter the date of the expense."), field=key,
                                  code="required")
            if value > timezone.localdate():
                raise DomainError(_("An expense cannot be in the future."), field=key,
                                  code="future")
            if value.year < 2000:
                raise DomainError(_("Enter a year from 2000."), field=key, code="invalid")
        elif key == "description":
            value = _sal_text(value, key)
        elif key == "customer":
            if value is not None and not Customer.objects.visible_to(by).filter(
                    pk=value.pk).exists():
                raise DomainError(_("Choose a customer you follow."), field=key,
                                  code="out_of_scope")
        clean[key] = value
    return clean


@transaction.atomic
def expense_claim_create(*, by, category: str, amount, spent_on: datetime.date,
                         description: str = "", customer: Customer | None = None
                         ) -> ExpenseClaim:
    """A draft claim of one's own expense."""
    me = _actor(by)
    values = _claim_values({"category": category, "amount": amount, "spent_on": spent_on,
                            "description": description, "customer": customer}, by=by)
    claim = ExpenseClaim(employee=me, **values)
    return audited_save(claim, by=by, validate_constraints=False)


def _locked_claim(claim: ExpenseClaim) -> ExpenseClaim:
    return (ExpenseClaim.objects.select_for_update(of=("self",))
            .select_related("employee__unit", "customer").get(pk=claim.pk))


def _require_claimant(by, claim: ExpenseClaim) -> Employee:
    me = _actor(by)
    if claim.employee_id != me.pk:
        raise PermissionDenied
    return me


@transaction.atomic
def expense_claim_update(*, claim: ExpenseClaim, by, **fields) -> ExpenseClaim:
    _refuse_unknown(fields, EXPENSE_FIELDS)
    claim = _locked_claim(claim)
    _require_claimant(by, claim)
    if claim.status not in EXPENSE_EDITABLE:
        raise DomainError(_("A claim is changed only as a draft or when returned; this one "
                            "is %s.") % ExpenseStatus(claim.status).label, field="status",
                          code="locked")
    for key, value in _claim_values(fields, by=by).items():
        setattr(claim, key, value)
    return audited_save(claim, by=by, validate_constraints=False)


def _move_claim(claim: ExpenseClaim, status: str) -> None:
    if status not in EXPENSE_TRANSITIONS.get(claim.status, frozenset()):
        raise DomainError(_("The claim is %(old)s; it cannot become %(new)s.")
                          % {"old": ExpenseStatus(claim.status).label,
                             "new": ExpenseStatus(status).label},
                          field="status", code="transition")
    claim._change_reason = f"{claim.status} → {status}"
    claim.status = status


def budget_position(employee: Employee, day: datetime.date, *,
                    exclude_pk: int | None = None) -> dict:
    """The budget that covers ``day`` for ``employee`` (the month's, else the quarter's;
    none: a budget of 0 for the month) and what is already approved or pending in it.
    Two queries."""
    month, quarter = month_of(day), quarter_of(day)
    budgets = dict(ExpenseBudget.objects.filter(employee=employee, period__in=[month, quarter])
                   .values_list("period", "amount"))
    period = month if month in budgets else quarter if quarter in budgets else month
    since, until = period_bounds(period)
    used = (ExpenseClaim.objects.filter(employee=employee, spent_on__range=(since, until),
                                        status__in=EXPENSE_SPENT | EXPENSE_PENDING)
            .exclude(pk=exclude_pk).aggregate(total=Sum("amount"))["total"])
    from bizdept.core.money import to_cents

    return {"period": period, "budget": budgets.get(period), "used": to_cents(used)}


def over_budget(claim: ExpenseClaim) -> tuple[str, Decimal]:
    """(period, how far this claim takes it over its budget; 0 within it)."""
    position = budget_position(claim.employee, claim.spent_on, exclude_pk=claim.pk)
    budget = position["budget"] if position["budget"] is not None else Decimal("0.00")
    over = position["used"] + claim.amount - budget
    return position["period"], max(min(over, claim.amount), Decimal("0.00"))


@transaction.atomic
def expense_claim_submit(*, claim: ExpenseClaim, by, comment: str = "") -> ExpenseClaim:
    """Draft (or returned) → submitted, through the engine (``sales.expense``). Over the
    budget is allowed; how far over is recorded and shown to the approver."""
    claim = _locked_claim(claim)
    _require_claimant(by, claim)
    _move_claim(claim, ExpenseStatus.SUBMITTED)
    claim.budget_period, claim.over_budget_by = over_budget(claim)
    claim.submitted_at = timezone.now()
    claim.decided_at = None
    audited_save(claim, by=by, validate_constraints=False)
    approval_services.approval_submit(document=claim, by=by, comment=comment,
                                      document_type=EXPENSE_TYPE)
    claim.refresh_from_db()
    return claim


def expense_title(claim: ExpenseClaim) -> str:
    title = f"{claim.employee.name} · {claim.get_category_display()} {claim.amount:,.2f}"
    if claim.over_budget_by:
        title += " · " + _("over budget by %s") % f"{claim.over_budget_by:,.2f}"
    return title


def _claim_decided(status: str):
    def callback(claim: ExpenseClaim) -> None:
        _move_claim(claim, status)
        claim.decided_at = timezone.now() if status != ExpenseStatus.DRAFT else None
        claim.save()
    return callback


expense_approved = _claim_decided(ExpenseStatus.APPROVED)
expense_rejected = _claim_decided(ExpenseStatus.REJECTED)
expense_returned = _claim_decided(ExpenseStatus.RETURNED)
expense_withdrawn = _claim_decided(ExpenseStatus.DRAFT)


@transaction.atomic
def expense_mark_paid(*, claim: ExpenseClaim, by) -> ExpenseClaim:
    """Finance pays an approved claim."""
    me = _actor(by)
    if not is_finance(by):
        raise PermissionDenied
    claim = _locked_claim(claim)
    _move_claim(claim, ExpenseStatus.PAID)
    claim.paid_at, claim.paid_by = timezone.now(), me
    return audited_save(claim, by=by, validate_constraints=False)
# === end of Expenses (SAL-7) ============================================================
