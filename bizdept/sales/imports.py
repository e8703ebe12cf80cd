"""Products from Excel (SAL-1), through the generic import (``bizdept.core.imports``).

The key is the product code: a row whose code is already in the catalogue **updates** that
product (the row is the product as it should be: name, category, unit, prices, active,
notes); a new code creates one. So the product list's export, edited (new prices) and
imported again, is how a price list is maintained. A code twice in one file is refused the
second time. Categories are named (in Chinese or English, as on the categories page) and
must exist: the import does not invent them.

The rules are the services' own (``services.product_values``: required text, amounts ≥ 0
with 2 decimals at most, lengths by the model's ``full_clean``). Per batch: one query for
the codes already in the catalogue and one for the categories (the first batch only), a
bulk insert and a bulk update, each with its history rows naming the importer (ORG-5).
Only those who may maintain the catalogue (``Capability.MANAGE_PRODUCTS``) may import.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bizdept.core.errors import DomainError, validation_error_dict
from bizdept.imports.services import (
    ImportColumn,
    ImportKind,
    ImportRun,
    ImportSheet,
    Row,
    header_key,
    in_languages,
)

from . import services
from .models import Product, ProductCategory
from .pricing import margin_rate

YES_NO = [("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))]
_YES = {"yes", "y", "true", "t", "1", "是", "√", "✓", "✔", "x", "启用", "有效"}
_NO = {"no", "n", "false", "f", "0", "否", "停用", "无效"}
BULK_BATCH = 500

PRODUCT_COLUMNS = [
    ImportColumn("code", gettext_lazy("Code"), ("编码", "产品编码", "物料编码", "型号编码"),
                 required=True,
                 help=gettext_lazy("Required; a code already in the catalogue updates that "
                                   "product.")),
    ImportColumn("name", gettext_lazy("Product name"), ("名称", "产品名称"), required=True),
    ImportColumn("category", gettext_lazy("Category"), ("类别", "产品类别", "分类"),
                 required=True, read=lambda p: p.category.name,
                 help=gettext_lazy("The name of an existing category.")),
    ImportColumn("unit", gettext_lazy("Unit of measure"), ("单位", "计量单位"), required=True,
                 help=gettext_lazy("e.g. 台, 套, 米")),
    ImportColumn("list_price", gettext_lazy("List price"), ("标准售价", "售价", "价格", "单价"),
                 required=True, help=gettext_lazy("≥ 0, at most 2 decimals.")),
    ImportColumn("standard_cost", gettext_lazy("Standard cost"), ("标准成本", "成本"),
                 required=True, help=gettext_lazy("≥ 0, at most 2 decimals.")),
    ImportColumn("is_active", gettext_lazy("On sale"), ("在售", "启用", "是否启用", "有效"),
                 choices=YES_NO, read=lambda p: str(YES_NO[0 if p.is_active else 1][1]),
                 help=gettext_lazy("Empty: yes.")),
    ImportColumn("notes", gettext_lazy("Notes"), ("备注",)),
    # Shown by the export, ignored by the import.
    ImportColumn("margin_rate", gettext_lazy("Gross margin %"), ("毛利率",), import_=False,
                 read=lambda p: margin_rate(p.list_price, p.standard_cost)),
]


def may_import(user) -> bool:
    return services.can_manage_products(user)


def start(run: ImportRun) -> None:
    if not services.can_manage_products(run.by):
        raise DomainError(_("Only those who maintain the catalogue may import products."),
                          field="file")
    run.context["categories"] = None


def _categories(run: ImportRun) -> dict[str, ProductCategory]:
    """Categories by their name as compared (NFKC, no spaces, any case): one query a run."""
    found = run.context.get("categories")
    if found is None:
        found = run.context["categories"] = {
            header_key(c.name): c for c in ProductCategory.objects.all()}
    return found


def _active(text: str, errors: dict) -> bool:
    key = header_key(text)
    if not key or key in _YES or key in {header_key(t) for t in in_languages(YES_NO[0][1])}:
        return True
    if key in _NO or key in {header_key(t) for t in in_languages(YES_NO[1][1])}:
        return False
    errors["is_active"] = _("“%s” is neither yes nor no.") % text
    return True


def _amount(text: str) -> str | Decimal:
    """An amount as Excel stores it: 1280.5 is fine, and so is 1280.4999999999998 (a
    formula's float); a real third decimal is left for the service to refuse."""
    try:
        value = Decimal(text.replace(",", ""))
    except (InvalidOperation, ValueError):
        return text
    if value.is_finite():
        cents = value.quantize(Decimal("0.01"))
        if abs(value - cents) < Decimal("0.000001"):
            return cents
    return value


def check_products(rows: list[Row], run: ImportRun) -> list[tuple[Product, bool]]:
    categories = _categories(run)
    parsed = []
    for row in rows:
        errors: dict[str, str] = {}
        category = None
        if row.get("category"):
            category = categories.get(header_key(row.get("category")))
            if category is None:
                errors["category"] = _("No category is named “%s”; add it on the "
                                       "categories page first.") % row.get("category")
        else:
            errors["category"] = _("Choose the category.")
        is_active = _active(row.get("is_active"), errors)
        values = {}
        try:
            values = services.product_values({
                "code": row.get("code"), "name": row.get("name"), "unit": row.get("unit"),
                "list_price": _amount(row.get("list_price")),
                "standard_cost": _amount(row.get("standard_cost")),
                "notes": row.get("notes"), "is_active": is_active})
        except DomainError as exc:
            for name, messages in exc.error_dict().items():
                errors.setdefault(name, messages[0])
        if values and category is not None:
            product = Product(category=category, **values)
            try:
                product.full_clean(exclude=["category"], validate_unique=False,
                                   validate_constraints=False)
            except ValidationError as exc:
                for name, messages in validation_error_dict(exc).items():
                    errors.setdefault(name, messages[0])
        if errors:
            for name, message in errors.items():
                run.reject(row, None if name == "__all__" else name, message)
            continue
        parsed.append((row, product))

    codes = [p.code for _row, p in parsed]
    existing = {p.code: p for p in Product.objects.filter(code__in=codes)} if codes else {}
    earlier = run.seen.find("code", codes)
    added = []
    good = []
    for row, product in parsed:
        first = earlier.get(product.code)
        if first is not None and (first[0], first[1]) != (run.sheet_title, row.number):
            run.reject(row, "code", _("Row %(row)d of sheet “%(sheet)s” has the same code.")
                       % {"row": first[1], "sheet": first[0]})
            continue
        if first is None:
            earlier[product.code] = (run.sheet_title, row.number, "")
            added.append((product.code, run.sheet_title, row.number, ""))
        current = existing.get(product.code)
        if current is not None:
            product.pk, product.created_at = current.pk, current.created_at
        good.append((product, current is not None))
    run.seen.add("code", added)
    return good


UPDATED_FIELDS = ["name", "category", "unit", "list_price", "standard_cost", "is_active",
                  "notes", "updated_at"]


def write_products(products: list[tuple[Product, bool]], run: ImportRun) -> int:
    """New codes inserted, known ones updated; history rows for both (ORG-5)."""
    new = [p for p, exists in products if not exists]
    changed = [p for p, exists in products if exists]
    user = getattr(run.by, "user", run.by)
    if new:
        Product.objects.bulk_create(new, batch_size=BULK_BATCH)
        Product.history.bulk_history_create(new, default_user=user,
                                            default_change_reason="import",
                                            batch_size=BULK_BATCH)
    if changed:
        now = timezone.now()
        for product in changed:
            product.updated_at = now
        Product.objects.bulk_update(changed, UPDATED_FIELDS, batch_size=BULK_BATCH)
        Product.history.bulk_history_create(changed, update=True, default_user=user,
                                            default_change_reason="import",
                                            batch_size=BULK_BATCH)
    return len(products)


PRODUCTS_SHEET = ImportSheet("products", gettext_lazy("Products"), ("产品", "产品目录", "产品列表"),
                             PRODUCT_COLUMNS, check_products, write_products)
PRODUCTS = ImportKind("products", gettext_lazy("Products"), [PRODUCTS_SHEET], start=start,
                      allowed=may_import)
