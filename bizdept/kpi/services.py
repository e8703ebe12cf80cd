"""Every write of the KPI library (PER-1): the inputs that are not business records.

* ``market_sizes_set`` — one year's market sizes per region (for **market_share**);
* ``planned_mix_set`` — one year's planned product mix (for **product_mix**).

Each replaces the whole list of one year at once, checked in full before anything is
written (a bad row changes nothing), in one transaction. HR (``MANAGE_ORG``) or a
director (``SEE_DEPARTMENT``) writes; anyone else is refused (``PermissionDenied``, 403).
Errors name the field: ``year``, ``items`` (the list: e.g. shares not totalling 100) or
``items[2].size``. Every row keeps its history, naming who changed it (``audited_save``;
removals are recorded as deletions by the same person).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from bizdept.core.errors import DomainError
from bizdept.core.services import audited_save
from bizdept.org.choices import Capability
from bizdept.org.scope import capabilities_of

from .models import SIZE_MAX, YEAR_MAX, YEAR_MIN, MarketSize, PlannedMix

MAX_ITEMS = 500
REGION_MAX = 50
CENT = Decimal("0.01")
MIX_TOTAL = Decimal(100)


def can_manage_inputs(user) -> bool:
    caps = capabilities_of(user)
    return Capability.MANAGE_ORG in caps or Capability.SEE_DEPARTMENT in caps


def _require_manage(by) -> None:
    if not getattr(by, "is_active", False) or not can_manage_inputs(by):
        raise PermissionDenied


# --- validation -----------------------------------------------------------------------
def check_year(raw, field: str = "year") -> int:
    if isinstance(raw, bool):
        raise DomainError(_("Enter a year."), field=field, code="invalid")
    try:
        year = int(str(raw).strip()) if raw is not None and raw != "" else None
    except (TypeError, ValueError):
        year = None
    if year is None:
        raise DomainError(_("Enter a year."), field=field, code="required")
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise DomainError(_("Enter a year between %(low)s and %(high)s.")
                          % {"low": YEAR_MIN, "high": YEAR_MAX}, field=field, code="range")
    return year


def _decimal(raw, field: str, *, high: Decimal) -> Decimal:
    if raw is None or raw == "" or isinstance(raw, bool):
        raise DomainError(_("Enter a number."), field=field, code="required")
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(
            repr(raw) if isinstance(raw, float) else str(raw).strip())
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise DomainError(_("Enter a number."), field=field, code="invalid") from exc
    if not value.is_finite():
        raise DomainError(_("Enter a number."), field=field, code="invalid")
    if not Decimal(0) < value <= high:
        raise DomainError(_("Enter a number above 0 and at most %(high)s.") % {"high": high},
                          field=field, code="range")
    if value != value.quantize(CENT):
        raise DomainError(_("At most 2 decimals."), field=field, code="decimals")
    return value.quantize(CENT)


def _items(raw) -> list:
    if not isinstance(raw, list | tuple):
        raise DomainError(_("Send a list."), field="items", code="invalid")
    if len(raw) > MAX_ITEMS:
        raise DomainError(_("At most %s rows.") % MAX_ITEMS, field="items", code="too_many")
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise DomainError(_("Send each row as an object."), field=f"items[{i}]",
                              code="invalid")
    return list(raw)


def _replace(model, existing: dict, wanted: dict, *, by, fields: tuple[str, ...],
             build) -> list:
    """Make the year's rows ``wanted`` ({key: values}) out of ``existing`` ({key: row}):
    delete the ones no longer wanted, change the changed, create the new."""
    user = getattr(by, "user", by)
    for key, row in existing.items():
        if key not in wanted:
            row._history_user = user
            row.delete()
    out = []
    for key, values in wanted.items():
        row = existing.get(key)
        if row is None:
            row = build(key, values)
        elif all(getattr(row, f) == values[f] for f in fields):
            out.append(row)
            continue
        for f in fields:
            setattr(row, f, values[f])
        out.append(audited_save(row, by=by))
    return out


# --- market sizes -----------------------------------------------------------------------
@transaction.atomic
def market_sizes_set(*, by, year, items) -> list[MarketSize]:
    """Replace the market sizes of ``year`` with ``items``: a list of
    ``{"region": text (as on the customers, at most 50 characters), "size": money above 0,
    2 decimals at most}``, each region once. An empty list removes the year's sizes."""
    _require_manage(by)
    year = check_year(year)
    wanted: dict[str, dict] = {}
    for i, item in enumerate(_items(items)):
        here = f"items[{i}]"
        unknown = sorted(str(k) for k in item if k not in ("region", "size"))
        if unknown:
            raise DomainError(_("Unknown field(s): %s.") % ", ".join(unknown)[:200],
                              field=here, code="unknown")
        region = item.get("region")
        region = region.strip() if isinstance(region, str) else None
        if region is None:
            raise DomainError(_("Enter text."), field=f"{here}.region", code="invalid")
        if not region:
            raise DomainError(_("Enter a region."), field=f"{here}.region", code="required")
        if len(region) > REGION_MAX or "\x00" in region:
            raise DomainError(_("At most %s characters.") % REGION_MAX,
                              field=f"{here}.region", code="too_long")
        if region in wanted:
            raise DomainError(_("This region is already in the list."),
                              field=f"{here}.region", code="duplicate")
        wanted[region] = {"size": _decimal(item.get("size"), f"{here}.size", high=SIZE_MAX)}
    existing = {row.region: row for row in
                MarketSize.objects.select_for_update().filter(year=year)}
    rows = _replace(MarketSize, existing, wanted, by=by, fields=("size",),
                    build=lambda region, _v: MarketSize(region=region, year=year))
    return sorted(rows, key=lambda row: row.region)


# --- planned product mix ------------------------------------------------------------------
@transaction.atomic
def planned_mix_set(*, by, year, items) -> list[PlannedMix]:
    """Replace the planned product mix of ``year`` with ``items``: a list of
    ``{"category": a top-level product category (id or row), "percent": above 0, at most
    100, 2 decimals at most}``, each category once, the percents totalling exactly 100.
    An empty list removes the year's plan."""
    from bizdept.sales.models import ProductCategory

    _require_manage(by)
    year = check_year(year)
    rows = _items(items)
    ids = []
    for i, item in enumerate(rows):
        unknown = sorted(str(k) for k in item if k not in ("category", "percent"))
        if unknown:
            raise DomainError(_("Unknown field(s): %s.") % ", ".join(unknown)[:200],
                              field=f"items[{i}]", code="unknown")
        raw = item.get("category")
        raw = getattr(raw, "pk", raw)
        ids.append(raw if isinstance(raw, int) and not isinstance(raw, bool) else None)
    categories = ProductCategory.objects.in_bulk([pk for pk in ids if pk is not None])
    wanted: dict[int, dict] = {}
    total = Decimal(0)
    for i, (item, pk) in enumerate(zip(rows, ids, strict=True)):
        here = f"items[{i}]"
        category = categories.get(pk) if pk is not None else None
        if category is None:
            raise DomainError(_("This product category does not exist."),
                              field=f"{here}.category", code="unknown")
        if category.parent_id is not None:
            raise DomainError(_("Plan the mix by top-level categories: “%s” is under "
                                "another category.") % category.name,
                              field=f"{here}.category", code="not_top_level")
        if pk in wanted:
            raise DomainError(_("This category is already in the list."),
                              field=f"{here}.category", code="duplicate")
        percent = _decimal(item.get("percent"), f"{here}.percent", high=MIX_TOTAL)
        wanted[pk] = {"percent": percent}
        total += percent
    if wanted and total != MIX_TOTAL:
        raise DomainError(_("The planned shares total %(total)s%%; they must total exactly "
                            "100%%.") % {"total": total}, field="items", code="total")
    existing = {row.category_id: row for row in
                PlannedMix.objects.select_for_update().filter(year=year)}
    saved = _replace(PlannedMix, existing, wanted, by=by, fields=("percent",),
                     build=lambda pk, _v: PlannedMix(year=year, category=categories[pk]))
    order = {pk: n for n, pk in enumerate(wanted)}
    return sorted(saved, key=lambda row: order[row.category_id])
