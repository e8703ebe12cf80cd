"""The KPI library's inputs (PER-1): market sizes per region and year, planned product
mix per year.

Everyone working in the department reads them; HR or a director writes them (403
otherwise). A PUT replaces the whole list of the year named by ``year`` (an empty list
removes it); a bad value answers 400 naming the field with the row's index
(``items[2].size``; planned shares not totalling 100: ``items``), and nothing is written.
Decimals are sent as a JSON number or as text ("12.5") and answered as text.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Annotated

from ninja import Field, Query, Router, Schema
from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from bizdept.core.api import ERRORS, BodyId, BodyIn, Text

from . import selectors, services
from .models import SIZE_MAX, YEAR_MAX, YEAR_MIN

router = Router()

_NUMBER_TEXT = re.compile(r"\d{1,14}(\.\d{1,2})?")


def _number(value):
    if isinstance(value, str):
        if _NUMBER_TEXT.fullmatch(value):
            return Decimal(value)
        raise PydanticCustomError("decimal_parsing", "Input should be a number like 12.5")
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value  # anything else is left to the (strict) type check, which refuses it


# Bounds (above 0) are the service's to check (400 naming the row): text like "0" matches
# the documented pattern, so the schema alone cannot refuse it.
Size = Annotated[
    Decimal, BeforeValidator(_number), Field(allow_inf_nan=False),
    WithJsonSchema({"anyOf": [{"type": "number", "exclusiveMinimum": 0,
                               "maximum": float(SIZE_MAX)},
                              {"type": "string", "pattern": r"^\d{1,13}(\.\d{1,2})?$"}],
                    "description": "The region's market in the year (money), above 0, at "
                                   "most 2 decimals."}),
]
Percent = Annotated[
    Decimal, BeforeValidator(_number), Field(allow_inf_nan=False),
    WithJsonSchema({"anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 100},
                              {"type": "string", "pattern": r"^\d{1,3}(\.\d{1,2})?$"}],
                    "description": "The planned share, above 0 and at most 100, at most 2 "
                                   "decimals; a year's shares total exactly 100."}),
]


class YearIn(Schema):
    year: int = Field(..., ge=YEAR_MIN, le=YEAR_MAX, description="The calendar year.")


class MarketSizeIn(BodyIn):
    region: Text(50, 1) = Field(..., description="As on the customers (客户所在地区).")
    size: Size


class MarketSizesIn(BodyIn):
    items: list[MarketSizeIn] = Field(..., max_length=services.MAX_ITEMS,
                                      description="The year's whole list (replaces it).")


class MarketSizeOut(Schema):
    region: str
    size: Decimal
    updated_at: datetime.datetime


class MarketSizesOut(Schema):
    year: int
    items: list[MarketSizeOut]


class PlannedShareIn(BodyIn):
    category: BodyId = Field(..., description="A top-level product category.")
    percent: Percent


class PlannedMixIn(BodyIn):
    items: list[PlannedShareIn] = Field(..., max_length=services.MAX_ITEMS,
                                        description="The year's whole mix (replaces it).")


class CategoryRef(Schema):
    id: int
    name: str


class PlannedShareOut(Schema):
    category: CategoryRef
    percent: Decimal
    updated_at: datetime.datetime


class PlannedMixOut(Schema):
    year: int
    total: Decimal
    items: list[PlannedShareOut]


def _sizes_out(year, rows) -> dict:
    return {"year": year, "items": [{"region": r.region, "size": r.size,
                                     "updated_at": r.updated_at} for r in rows]}


def _mix_out(year, rows) -> dict:
    rows = list(rows)
    return {"year": year, "total": sum((r.percent for r in rows), Decimal("0.00")),
            "items": [{"category": {"id": r.category_id, "name": r.category.name},
                       "percent": r.percent, "updated_at": r.updated_at} for r in rows]}


@router.get("/kpi/market-sizes", response={200: MarketSizesOut, **ERRORS},
            summary="Market sizes of a year", tags=["kpi"])
def market_sizes(request, filters: Query[YearIn]):
    """The year's market size per region (what **market_share** divides by)."""
    return _sizes_out(filters.year, selectors.market_sizes(user=request.user,
                                                           year=filters.year))


@router.put("/kpi/market-sizes", response={200: MarketSizesOut, **ERRORS},
            summary="Replace the market sizes of a year", tags=["kpi"])
def market_sizes_set(request, filters: Query[YearIn], payload: MarketSizesIn):
    """HR or a director; each region once, each size above 0."""
    services.market_sizes_set(by=request.user, year=filters.year,
                              items=[item.dict() for item in payload.items])
    return _sizes_out(filters.year, selectors.market_sizes(user=request.user,
                                                           year=filters.year))


@router.get("/kpi/planned-mix", response={200: PlannedMixOut, **ERRORS},
            summary="Planned product mix of a year", tags=["kpi"])
def planned_mix(request, filters: Query[YearIn]):
    """The year's planned share per top-level product category (for **product_mix**)."""
    return _mix_out(filters.year, selectors.planned_mix(user=request.user, year=filters.year))


@router.put("/kpi/planned-mix", response={200: PlannedMixOut, **ERRORS},
            summary="Replace the planned product mix of a year", tags=["kpi"])
def planned_mix_set(request, filters: Query[YearIn], payload: PlannedMixIn):
    """HR or a director; top-level categories, each once, shares totalling exactly 100."""
    services.planned_mix_set(by=request.user, year=filters.year,
                             items=[item.dict() for item in payload.items])
    return _mix_out(filters.year, selectors.planned_mix(user=request.user, year=filters.year))
