"""Customers and contacts from Excel (CUS-12): the sheets and columns of the template, the
list export and the import, and the check and write of one batch of rows.

The rules are the services' own, called row by row on values already in memory:
``services._identity`` (name, GB 32100 credit code, E.164 phone), ``services.
check_new_owner`` (an owner other than the importer needs a head whose subtree holds
them), the model's ``full_clean`` (lengths, choices, email), ``services.
duplicate_refusal`` and ``services.contact_duplicate_refusal`` (CUS-5, naming only the
owner and their unit) and ``services.starting_grade`` (grade and first revisit of a new
customer). Only the lookups are batched: per batch of rows, one query per kind of key
(credit codes, names, customers' phones, contacts' phones, owners' numbers, contacts'
customers), whatever the number of rows. New customers are written with their
OwnerChange (CREATED) rows and their history rows (ORG-5), as ``customer_create`` does.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bizdept.core.errors import DomainError, validation_error_dict
from bizdept.core.validators import normalize_company_name, validate_credit_code
from bizdept.imports.services import (
    ImportColumn,
    ImportKind,
    ImportRun,
    ImportSheet,
    Row,
    header_key,
    in_languages,
)
from bizdept.org.models import Employee
from bizdept.org.scope import employee_of

from . import selectors, services
from .choices import CustomerKind, OwnerChangeKind, Source, Stage
from .models import Contact, Customer, OwnerChange

YES_NO = [("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))]
_YES = {"yes", "y", "true", "t", "1", "是", "√", "✓", "✔", "x"}
_NO = {"", "no", "n", "false", "f", "0", "否"}


def _date(value):
    return value.isoformat() if value else ""


CUSTOMER_COLUMNS = [
    ImportColumn("name", gettext_lazy("Name"), ("名称", "客户名称", "客户名", "公司名称"),
                 required=True, help=gettext_lazy("Required; unique after normalization.")),
    ImportColumn("kind", gettext_lazy("Kind"), ("类型", "客户类型"),
                 choices=CustomerKind.choices, help=gettext_lazy("Empty: company.")),
    ImportColumn("credit_code", gettext_lazy("Unified social credit code"),
                 ("统一社会信用代码", "社会信用代码", "信用代码"),
                 help=gettext_lazy("18 characters; checked against GB 32100.")),
    ImportColumn("phone", gettext_lazy("Phone"), ("电话", "联系电话"),
                 help=gettext_lazy("Stored as +86…; landlines with their area code.")),
    ImportColumn("industry", gettext_lazy("Industry"), ("行业",)),
    ImportColumn("region", gettext_lazy("Region"), ("地区", "区域")),
    ImportColumn("source", gettext_lazy("Source"), ("来源", "客户来源"), choices=Source.choices,
                 help=gettext_lazy("Empty: other.")),
    ImportColumn("stage", gettext_lazy("Stage"), ("阶段", "客户阶段"), choices=Stage.choices,
                 help=gettext_lazy("Empty: prospect.")),
    ImportColumn("address", gettext_lazy("Address"), ("地址",)),
    ImportColumn("notes", gettext_lazy("Notes"), ("备注",)),
    ImportColumn("owner", gettext_lazy("Owner's employee number"),
                 ("负责人工号", "工号", "owner number", "owner employee number"),
                 read=lambda c: c.owner.number if c.owner_id else "",
                 help=gettext_lazy("Empty: you. A head may give customers to people in "
                                   "their team.")),
    # Shown by the export, ignored by the import (the system sets them).
    ImportColumn("owner_name", gettext_lazy("Owner"), ("负责人",), import_=False,
                 read=lambda c: c.owner.name if c.owner_id else ""),
    ImportColumn("grade", gettext_lazy("Grade"), ("等级", "客户等级"), import_=False),
    ImportColumn("next_revisit_on", gettext_lazy("Next revisit due"), ("下次回访",),
                 import_=False, read=lambda c: c.next_revisit_on),
    ImportColumn("last_followup_at", gettext_lazy("Last follow-up"), ("最近跟进",),
                 import_=False, read=lambda c: c.last_followup_at),
]

CONTACT_COLUMNS = [
    ImportColumn("customer_credit_code", gettext_lazy("Customer's credit code"),
                 ("客户统一社会信用代码", "客户信用代码"),
                 help=gettext_lazy("The customer: by credit code, or by name below.")),
    ImportColumn("customer_name", gettext_lazy("Customer"), ("客户", "客户名称"),
                 help=gettext_lazy("In this file or one you may edit.")),
    ImportColumn("name", gettext_lazy("Name"), ("姓名", "联系人", "联系人姓名"), required=True),
    ImportColumn("title", gettext_lazy("Title"), ("职务", "职位")),
    ImportColumn("mobile", gettext_lazy("Mobile"), ("手机", "手机号")),
    ImportColumn("phone", gettext_lazy("Phone"), ("电话", "座机")),
    ImportColumn("email", gettext_lazy("Email"), ("邮箱", "电子邮件", "邮件")),
    ImportColumn("wechat", gettext_lazy("WeChat"), ("微信", "微信号")),
    ImportColumn("is_key", gettext_lazy("Key person"), ("关键人", "关键联系人"), choices=YES_NO),
    ImportColumn("notes", gettext_lazy("Notes"), ("备注",)),
]

CUSTOMER_FIELDS = ["kind", "industry", "region", "source", "stage", "address", "notes"]


# --- reading values ------------------------------------------------------------------
def _choice_map(choices) -> dict[str, str]:
    """Every way a choice may be written (its code, its label in each language)."""
    found = {}
    for value, label in choices:
        found[header_key(value)] = value
        for text in in_languages(label):
            found[header_key(text)] = value
    return found


def _choice(run: ImportRun, row: Row, key: str, choices, default, errors: dict):
    text = row.get(key)
    if not text:
        return default
    cache = run.context.setdefault("choices", {})
    mapping = cache.get(key)
    if mapping is None:
        mapping = cache[key] = _choice_map(choices)
    value = mapping.get(header_key(text))
    if value is None:
        errors[key] = _("“%(value)s” is not one of: %(allowed)s.") % {
            "value": text, "allowed": ", ".join(str(label) for _v, label in choices)}
    return value


def _clean(instance, exclude: list[str], errors: dict) -> None:
    """The model's own field rules (lengths, choices, email), without its unique checks
    and foreign keys, which would cost a query each."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for name, messages in validation_error_dict(exc).items():
            errors.setdefault(name, messages[0])


def _domain_errors(exc: DomainError, errors: dict) -> None:
    for name, messages in (exc.error_dict() or {"__all__": [str(exc.message)]}).items():
        errors.setdefault(name, messages[0])


def _reject_all(run: ImportRun, row: Row, errors: dict) -> None:
    for name, message in errors.items():
        run.reject(row, None if name == "__all__" else name, message)


IN_FILE = {
    "credit_code": gettext_lazy("Row %(row)d of sheet “%(sheet)s” has the same credit code."),
    "name": gettext_lazy("Row %(row)d of sheet “%(sheet)s” has the same name."),
    "phone": gettext_lazy("Row %(row)d of sheet “%(sheet)s” has the same phone number."),
}


class _InFile:
    """Keys of one kind seen earlier in the file (``run.seen``) or in this batch."""

    def __init__(self, run: ImportRun, kind: str, keys):
        self.run, self.kind = run, kind
        self.earlier = run.seen.find(kind, keys)
        self.added: list[tuple[str, str, int, str]] = []

    def clash(self, key: str, row: int, group: str):
        """(sheet, row) of an earlier row of another group with this key, or None."""
        if not key:
            return None
        found = self.earlier.get(key)
        if found is None:
            return None
        sheet, first_row, first_group = found
        if (sheet, first_row) == (self.run.sheet_title, row) or first_group == group:
            return None
        return sheet, first_row

    def add(self, key: str, row: int, group: str) -> None:
        if key and key not in self.earlier:
            self.earlier[key] = (self.run.sheet_title, row, group)
            self.added.append((key, self.run.sheet_title, row, group))

    def save(self) -> None:
        self.run.seen.add(self.kind, self.added)


# --- the Customers sheet -------------------------------------------------------------
def start(run: ImportRun) -> None:
    """Who imports (refused if they may not create customers) and what every batch needs."""
    me = employee_of(run.by)
    if me is None or me.is_left:
        raise DomainError(_("Only staff can import customers."), field="file")
    run.context.update(me=Employee.objects.select_related("unit").get(pk=me.pk),
                       rules=selectors.grade_rules(), employees={})


def _owners(run: ImportRun, rows: list[Row]) -> dict[str, Employee]:
    """Employees by number: one query per batch for numbers not met before."""
    cache = run.context["employees"]
    wanted = {r.get("owner") for r in rows if r.get("owner")} - cache.keys()
    if wanted:
        for employee in Employee.objects.select_related("unit").filter(number__in=wanted):
            cache[employee.number] = employee
        for number in wanted:
            cache.setdefault(number, None)
    return cache


def check_customers(rows: list[Row], run: ImportRun) -> list[Customer]:
    me = run.context["me"]
    owners = _owners(run, rows)
    candidates = []
    for row in rows:
        errors: dict[str, str] = {}
        kind = _choice(run, row, "kind", CustomerKind.choices, CustomerKind.COMPANY, errors)
        source = _choice(run, row, "source", Source.choices, Source.OTHER, errors)
        stage = _choice(run, row, "stage", Stage.choices, Stage.PROSPECT, errors)
        identity = None
        try:
            identity = services._identity(name=row.get("name"), kind=kind,
                                          credit_code=row.get("credit_code"),
                                          phone=row.get("phone"))
        except DomainError as exc:
            _domain_errors(exc, errors)
        owner = me
        if row.get("owner"):
            owner = owners.get(row.get("owner"))
            if owner is None:
                errors["owner"] = _("No employee has the number %s.") % row.get("owner")
            else:
                try:
                    services.check_new_owner(run.by, me, owner)
                except DomainError as exc:
                    _domain_errors(exc, errors)
                except PermissionDenied:
                    errors["owner"] = _("Only a head may give a new customer to someone, and "
                                        "only to someone in their team.")
        if identity is not None:
            customer = Customer(name=identity.name, name_key=identity.name_key,
                                credit_code=identity.credit_code, phone=identity.phone,
                                owner=owner if owner is not None else me,
                                kind=kind or CustomerKind.COMPANY,
                                source=source or Source.OTHER, stage=stage or Stage.PROSPECT,
                                industry=row.get("industry"), region=row.get("region"),
                                address=row.get("address"), notes=row.get("notes"))
            _clean(customer, ["owner", "name_key"], errors)
        if errors:
            _reject_all(run, row, errors)
            continue
        candidates.append((row, identity, customer))

    index = selectors.duplicate_index(
        credit_codes=[i.credit_code for _r, i, _c in candidates],
        name_keys=[i.name_key for _r, i, _c in candidates],
        phones=[i.phone for _r, i, _c in candidates])
    codes = _InFile(run, "credit_code", [i.credit_code for _r, i, _c in candidates])
    names = _InFile(run, "name", [i.name_key for _r, i, _c in candidates])
    phones = _InFile(run, "phone", [i.phone for _r, i, _c in candidates])
    good = []
    for row, identity, customer in candidates:
        refusal = services.duplicate_refusal(identity, index)
        if refusal is not None:
            field = next(iter(refusal.errors), None)
            run.reject(row, field, refusal.message)
            continue
        group = f"row{row.number}"
        clash = None
        for what, store, key in (("credit_code", codes, identity.credit_code),
                                 ("name", names, identity.name_key),
                                 ("phone", phones, identity.phone)):
            clash = store.clash(key, row.number, group)
            if clash is not None:
                run.reject(row, what, IN_FILE[what] % {"row": clash[1], "sheet": clash[0]})
                break
        if clash is not None:
            continue
        codes.add(identity.credit_code, row.number, group)
        names.add(identity.name_key, row.number, group)
        phones.add(identity.phone, row.number, group)
        good.append(customer)
    for store in (codes, names, phones):
        store.save()
    return good


def write_customers(customers: list[Customer], run: ImportRun) -> int:
    """Insert the batch as ``customer_create`` would create each: its starting grade and
    first revisit, an OwnerChange (CREATED) and a history row naming the importer."""
    me = run.context["me"]
    start_values = services.starting_grade(run.context["rules"])
    for customer in customers:
        for name, value in start_values.items():
            setattr(customer, name, value)
    Customer.objects.bulk_create(customers, batch_size=services.BULK_BATCH)
    OwnerChange.objects.bulk_create(
        [OwnerChange(customer=c, kind=OwnerChangeKind.CREATED, to_owner=c.owner, by=me)
         for c in customers], batch_size=services.BULK_BATCH)
    Customer.history.bulk_history_create(customers, default_user=run.by,
                                         default_change_reason=None,
                                         batch_size=services.BULK_BATCH)
    return len(customers)


# --- the Contacts sheet --------------------------------------------------------------
def _is_key(text: str, errors: dict) -> bool:
    key = header_key(text)
    if key in _YES or key in {header_key(t) for t in in_languages(YES_NO[0][1])}:
        return True
    if key in _NO or key in {header_key(t) for t in in_languages(YES_NO[1][1])}:
        return False
    errors["is_key"] = _("“%s” is neither yes nor no.") % text
    return False


def _customer_reference(row: Row, errors: dict) -> tuple[str, str]:
    """(credit code, name key) of the contact's customer, as given."""
    code = key = ""
    if row.get("customer_credit_code"):
        try:
            code = validate_credit_code(row.get("customer_credit_code"))
        except ValidationError as exc:
            errors["customer_credit_code"] = exc.messages[0]
    elif row.get("customer_name"):
        key = normalize_company_name(row.get("customer_name"))[:services.NAME_MAX]
    else:
        errors["customer_name"] = _("Give the customer's credit code or name.")
    return code, key


def check_contacts(rows: list[Row], run: ImportRun) -> list[Contact]:
    parsed = []
    for row in rows:
        errors: dict[str, str] = {}
        code, key = _customer_reference(row, errors)
        fields = {name: row.get(name) for name in ("name", "title", "mobile", "phone", "email",
                                                   "wechat", "notes")}
        fields["is_key"] = _is_key(row.get("is_key"), errors)
        if not fields["name"]:
            errors["name"] = _("Enter the contact's name.")
        try:
            fields = services._contact_phones(fields)
        except DomainError as exc:
            _domain_errors(exc, errors)
        contact = Contact(**fields)
        _clean(contact, ["customer"], errors)
        if errors:
            _reject_all(run, row, errors)
            continue
        parsed.append((row, code, key, contact))

    # Their customers: in the database (one query per kind of reference, only those the
    # importer may edit), or earlier in the file (Customers sheet).
    codes = sorted({code for _r, code, _k, _c in parsed if code})
    keys = sorted({key for _r, _code, key, _c in parsed if key})
    base = Customer.objects.select_related("owner__unit")
    by_code = {c.credit_code: c for c in base.filter(credit_code__in=codes)} if codes else {}
    by_key = {c.name_key: c for c in base.filter(name_key__in=keys)} if keys else {}
    editable = services.editable_ids(run.by, [*by_code.values(), *by_key.values()])
    in_file = {"credit_code": run.seen.find("credit_code", codes),
               "name": run.seen.find("name", keys)}
    resolved = []
    for row, code, key, contact in parsed:
        kind, value = ("credit_code", code) if code else ("name", key)
        customer = (by_code if code else by_key).get(value)
        if customer is not None and customer.pk not in editable:
            customer = None
        earlier = in_file[kind].get(value)
        if customer is None and (earlier is None or run.writing):
            column = "customer_credit_code" if code else "customer_name"
            run.reject(row, column, _("No customer with this credit code is in the file or "
                                      "among the customers you may edit.") if code else
                       _("No customer with this name is in the file or among the customers "
                         "you may edit."))
            continue
        group = earlier[2] if earlier is not None else f"pk{customer.pk}"
        resolved.append((row, contact, customer, group))

    phones = [p for _r, c, _cu, _g in resolved for p in (c.phone, c.mobile) if p]
    index = selectors.duplicate_index(phones=phones)
    seen_phones = _InFile(run, "phone", phones)
    good = []
    for row, contact, customer, group in resolved:
        fields = {"phone": contact.phone, "mobile": contact.mobile}
        refusal = services.contact_duplicate_refusal(customer.pk if customer else None,
                                                     fields, index)
        if refusal is not None:
            run.reject(row, next(iter(refusal.errors), None), refusal.message)
            continue
        clash = None
        for name in ("mobile", "phone"):
            clash = seen_phones.clash(fields[name], row.number, group)
            if clash is not None:
                run.reject(row, name, IN_FILE["phone"] % {"row": clash[1], "sheet": clash[0]})
                break
        if clash is not None:
            continue
        for name in ("mobile", "phone"):
            seen_phones.add(fields[name], row.number, group)
        contact.customer = customer
        good.append(contact)
    seen_phones.save()
    return good


def write_contacts(contacts: list[Contact], run: ImportRun) -> int:
    Contact.objects.bulk_create(contacts, batch_size=services.BULK_BATCH)
    Contact.history.bulk_history_create(contacts, default_user=run.by,
                                        default_change_reason=None,
                                        batch_size=services.BULK_BATCH)
    return len(contacts)


CUSTOMERS_SHEET = ImportSheet("customers", gettext_lazy("Customers"), ("客户", "客户列表"),
                              CUSTOMER_COLUMNS, check_customers, write_customers)
CONTACTS_SHEET = ImportSheet("contacts", gettext_lazy("Contacts"), ("联系人",),
                             CONTACT_COLUMNS, check_contacts, write_contacts)
CUSTOMERS = ImportKind("customers", gettext_lazy("Customers and contacts"),
                       [CUSTOMERS_SHEET, CONTACTS_SHEET], start=start,
                       notes=(gettext_lazy("A customer's contacts name it by credit code or by "
                                           "name: one in the Customers sheet, or a customer "
                                           "you may already edit."),),
                       allowed=lambda user: (employee_of(user) is not None
                                             and not employee_of(user).is_left))
