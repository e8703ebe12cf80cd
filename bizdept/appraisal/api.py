"""The appraisal API (PER-2..5).

Scorecard templates (PER-2): everyone in the department reads them; HR or a director
writes them (403 otherwise). A bad value answers 400 naming the field, an item's with its
index (``items[2].rule_params.steps[1].points``; weights not totalling 100: ``items``);
a change made on an older version answers 409. Decimals are sent as a JSON number or as
text ("12.5") and answered as text.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from bizdept.core.api import (
    ERRORS,
    BodyId,
    BodyIn,
    Mapped,
    ObjectId,
    Paginated,
    Text,
    body_ref,
    json_int,
)
from bizdept.org.api import PositionRef
from bizdept.org.models import Position

from . import selectors, services
from .choices import ItemKind, PeriodKind, RuleKind, TargetSource

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


# Bounds (above 0, at most 100) are the service's to check (400 naming the item): text
# like "0" matches the documented pattern, so the schema alone cannot refuse it.
Weight = Annotated[
    Decimal, BeforeValidator(_number), Field(allow_inf_nan=False),
    WithJsonSchema({"anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 100},
                              {"type": "string", "pattern": r"^\d{1,3}(\.\d{1,2})?$"}],
                    "description": "The item's weight, above 0 and at most 100, at most 2 "
                                   "decimals; a template's weights total exactly 100."}),
]
FixedTarget = Annotated[
    Decimal, BeforeValidator(_number),
    Field(ge=0, le=services.TARGET_MAX, allow_inf_nan=False),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0,
                               "maximum": float(services.TARGET_MAX)},
                              {"type": "string", "pattern": r"^\d{1,14}(\.\d{1,2})?$"}],
                    "description": "The target when target_source is fixed (≥ 0, at most 2 "
                                   "decimals)."}),
]


class ScorecardItemIn(BodyIn):
    kind: Literal[tuple(ItemKind.values)]
    kpi_code: Text(40) | None = Field(None, description="KPI items: the measure's code.")
    name: Text(100) | None = Field(None, description="Required for manual items; KPI items "
                                                     "default to the measure's name.")
    weight: Weight
    target_source: Literal[tuple(TargetSource.values)] | None = Field(
        None, description="KPI items only.")
    fixed_target: FixedTarget | None = None
    rule_kind: Literal[tuple(RuleKind.values)]
    rule_params: dict[str, Any] = Field(
        default_factory=dict,
        description="linear: full_points, cap_percent, higher_is_better; threshold: steps "
                    "[{threshold, points}], higher_is_better; table: rows [{from, to, "
                    "points}] (half-open ranges).")


class ScorecardTemplateIn(BodyIn):
    name: Text(100, 1)
    position: BodyId
    period_kind: Literal[tuple(PeriodKind.values)]
    notes: Text(services.NOTES_MAX) = ""
    items: list[ScorecardItemIn] = Field(..., min_length=1, max_length=services.MAX_ITEMS)


class ScorecardTemplateUpdateIn(BodyIn):
    name: Text(100, 1) | None = None
    position: BodyId | None = None
    period_kind: Literal[tuple(PeriodKind.values)] | None = None
    notes: Text(services.NOTES_MAX) | None = None
    items: list[ScorecardItemIn] | None = Field(
        None, min_length=1, max_length=services.MAX_ITEMS,
        description="The whole new list of items (replaces the old one).")
    version: Annotated[int, Field(ge=1, le=2**31 - 1), BeforeValidator(json_int)] | None = Field(
        None, description="The version the change was made on (409 when it is not current).")


class ScorecardItemOut(Schema):
    id: int
    sort_order: int
    kind: str
    kpi_code: str
    name: str
    weight: Decimal
    target_source: str
    fixed_target: Decimal | None
    rule_kind: str
    rule_params: dict[str, Any]


class ScorecardTemplateOut(Schema):
    id: int
    name: str
    position: PositionRef
    period_kind: str
    is_active: bool
    version: int
    notes: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    items: list[ScorecardItemOut]


def _template_out(t) -> dict:
    return {"id": t.pk, "name": t.name,
            "position": {"id": t.position_id, "name": t.position.display_name},
            "period_kind": t.period_kind, "is_active": t.is_active, "version": t.version,
            "notes": t.notes, "created_at": t.created_at, "updated_at": t.updated_at,
            "items": [{"id": i.pk, "sort_order": i.sort_order, "kind": i.kind,
                       "kpi_code": i.kpi_code, "name": i.name, "weight": i.weight,
                       "target_source": i.target_source, "fixed_target": i.fixed_target,
                       "rule_kind": i.rule_kind, "rule_params": i.rule_params}
                      for i in t.items.all()]}


def _position(pk):
    return body_ref(Position.objects.all(), pk, "position",
                    _("This position does not exist."))


def _items(items) -> list[dict] | None:
    return None if items is None else [item.dict(exclude_none=True) for item in items]


@router.get("/appraisal/templates", response={200: list[ScorecardTemplateOut], **ERRORS},
            summary="List scorecard templates", tags=["appraisal"])
@paginate(Paginated)
def template_list(request):
    """Every position's templates with their items, active and not."""
    return Mapped(selectors.template_list(user=request.user), _template_out)


@router.post("/appraisal/templates", response={201: ScorecardTemplateOut, **ERRORS},
             summary="Create a scorecard template", tags=["appraisal"])
def template_create(request, payload: ScorecardTemplateIn):
    """HR or a director; the items' weights total exactly 100."""
    template = services.template_create(
        by=request.user, name=payload.name, position=_position(payload.position),
        period_kind=payload.period_kind, notes=payload.notes, items=_items(payload.items))
    return Status(201, _template_out(selectors.template_detail(user=request.user,
                                                               pk=template.pk)))


@router.get("/appraisal/templates/{template_id}",
            response={200: ScorecardTemplateOut, **ERRORS},
            summary="One scorecard template", tags=["appraisal"])
def template_detail(request, template_id: ObjectId):
    return _template_out(selectors.template_detail(user=request.user, pk=template_id))


@router.put("/appraisal/templates/{template_id}",
            response={200: ScorecardTemplateOut, **ERRORS},
            summary="Change a scorecard template", tags=["appraisal"])
def template_update(request, template_id: ObjectId, payload: ScorecardTemplateUpdateIn):
    """Fields left out stay as they are; ``items``, when sent, replaces the whole list."""
    template = selectors.template_find(user=request.user, pk=template_id)
    changes = payload.dict(exclude_unset=True, exclude={"items", "version"})
    changes = {k: v for k, v in changes.items() if v is not None}
    if "position" in changes:
        changes["position"] = _position(changes["position"])
    services.template_update(template=template, by=request.user,
                             items=_items(payload.items), version=payload.version, **changes)
    return _template_out(selectors.template_detail(user=request.user, pk=template_id))
