"""Every write of the appraisal app (PER-2..5), one transaction each.

Scorecard templates (PER-2): HR (``MANAGE_ORG``) or a director (``SEE_DEPARTMENT``)
keeps them; anyone else is refused (``PermissionDenied``, 403). A template's items are
always written as a whole list (``items``: a list of dicts, see ``_item``), checked in
full before anything is written: weights totalling exactly 100, each item's shape, its
KPI code (one of ``bizdept.kpi.measures.MEASURES``, read at call time) and its rule
(``scoring.validate_rule``). Errors name the item: ``items[2].rule_params.steps[1].points``.

Audit: the template and its items have their history (django-simple-history); every
change raises the template's ``version``, and a write naming an older version is refused
(409) rather than overwriting someone else's change.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from bizdept.core.errors import Conflict, DomainError
from bizdept.core.services import audited_save
from bizdept.org.choices import Capability
from bizdept.org.models import Position
from bizdept.org.scope import capabilities_of

from . import scoring
from .choices import ItemKind, PeriodKind, RuleKind, TargetSource
from .models import WEIGHT_TOTAL, ScorecardItem, ScorecardTemplate

MAX_ITEMS = 50
NAME_MAX = 100
NOTES_MAX = 2000
TARGET_MAX = Decimal("99999999999999.99")
ITEM_KEYS = frozenset({"kind", "kpi_code", "name", "weight", "target_source", "fixed_target",
                       "rule_kind", "rule_params"})
UPDATABLE = frozenset({"name", "position", "period_kind", "notes"})


def can_manage_templates(user) -> bool:
    caps = capabilities_of(user)
    return Capability.MANAGE_ORG in caps or Capability.SEE_DEPARTMENT in caps


def _require_manage(by) -> None:
    if not getattr(by, "is_active", False) or not can_manage_templates(by):
        raise PermissionDenied


def kpi_codes() -> dict:
    """The KPI measures an item may name, read now: the library grows (PER-1)."""
    from bizdept.kpi import measures

    return measures.MEASURES


# --- validation -----------------------------------------------------------------------
def _name(raw, field: str) -> str:
    name = (raw or "").strip() if isinstance(raw, str) or raw is None else None
    if name is None:
        raise DomainError(_("Enter text."), field=field, code="invalid")
    if not name:
        raise DomainError(_("Enter a name."), field=field, code="required")
    if len(name) > NAME_MAX:
        raise DomainError(_("At most %s characters.") % NAME_MAX, field=field, code="too_long")
    return name


def _choice(raw, choices, field: str) -> str:
    if raw not in choices.values:
        raise DomainError(_("Choose one of: %s.") % ", ".join(choices.values), field=field,
                          code="invalid")
    return raw


def _decimal(raw, field: str, *, low: Decimal, high: Decimal) -> Decimal:
    if raw is None or raw == "" or isinstance(raw, bool):
        raise DomainError(_("Enter a number."), field=field, code="required")
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(
            repr(raw) if isinstance(raw, float) else str(raw).strip())
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise DomainError(_("Enter a number."), field=field, code="invalid") from exc
    if not value.is_finite():
        raise DomainError(_("Enter a number."), field=field, code="invalid")
    if not low <= value <= high:
        raise DomainError(_("Enter a number between %(low)s and %(high)s.")
                          % {"low": low, "high": high}, field=field, code="range")
    if value != value.quantize(scoring.CENT):
        raise DomainError(_("At most 2 decimals."), field=field, code="decimals")
    return value.quantize(scoring.CENT)


def _item(raw, i: int) -> ScorecardItem:
    """One item, checked (not saved): ``kind``, ``name``, ``weight`` (0.01–100),
    ``rule_kind`` and ``rule_params``; for a KPI item also ``kpi_code`` and
    ``target_source`` (with ``fixed_target`` when it is ``fixed``)."""
    here = f"items[{i}]"
    if not isinstance(raw, dict):
        raise DomainError(_("Send each item as an object."), field=here, code="invalid")
    unknown = sorted(str(k) for k in raw if k not in ITEM_KEYS)
    if unknown:
        raise DomainError(_("Unknown field(s): %s.") % ", ".join(unknown)[:200], field=here,
                          code="unknown")
    kind = _choice(raw.get("kind"), ItemKind, f"{here}.kind")
    weight = _decimal(raw.get("weight"), f"{here}.weight", low=scoring.CENT,
                      high=Decimal(WEIGHT_TOTAL))
    code = raw.get("kpi_code") or ""
    source = raw.get("target_source") or ""
    fixed = raw.get("fixed_target")
    if kind == ItemKind.MANUAL:
        name = _name(raw.get("name"), f"{here}.name")
        for key, given in (("kpi_code", code), ("target_source", source),
                           ("fixed_target", fixed)):
            if given not in ("", None):
                raise DomainError(_("A manual item is scored by the reviewer: it has no KPI "
                                    "and no target."), field=f"{here}.{key}", code="manual")
    else:
        measures = kpi_codes()
        if not isinstance(code, str) or code not in measures:
            raise DomainError(_("Choose a KPI: %s.") % ", ".join(sorted(measures)),
                              field=f"{here}.kpi_code", code="unknown")
        name = raw.get("name")
        name = (_name(name, f"{here}.name") if name not in (None, "")
                else str(measures[code].label)[:NAME_MAX])
        source = _choice(source, TargetSource, f"{here}.target_source")
        if source == TargetSource.FIXED:
            fixed = _decimal(fixed, f"{here}.fixed_target", low=Decimal(0), high=TARGET_MAX)
        elif fixed not in (None, ""):
            raise DomainError(_("A fixed target is only given when the target source is "
                                "fixed."), field=f"{here}.fixed_target", code="not_fixed")
        else:
            fixed = None
    rule_kind = _choice(raw.get("rule_kind"), RuleKind, f"{here}.rule_kind")
    params = scoring.validate_rule(rule_kind, raw.get("rule_params"),
                                   field=f"{here}.rule_params")
    return ScorecardItem(sort_order=i, kind=kind, kpi_code=code, name=name, weight=weight,
                         target_source=source, fixed_target=fixed, rule_kind=rule_kind,
                         rule_params=params)


def _items(raw) -> list[ScorecardItem]:
    if not isinstance(raw, (list, tuple)) or not raw:
        raise DomainError(_("Add at least one item."), field="items", code="required")
    if len(raw) > MAX_ITEMS:
        raise DomainError(_("At most %s items.") % MAX_ITEMS, field="items", code="too_many")
    items = [_item(entry, i) for i, entry in enumerate(raw)]
    total = sum((item.weight for item in items), Decimal(0))
    if total != WEIGHT_TOTAL:
        raise DomainError(_("The weights must total exactly 100; they total %s.") % total,
                          field="items", code="weights")
    return items


def _position(raw) -> Position:
    if not isinstance(raw, Position):
        raise DomainError(_("Choose a position."), field="position", code="required")
    return raw


def _notes(raw) -> str:
    if not isinstance(raw, str):
        raise DomainError(_("Enter text."), field="notes", code="invalid")
    if len(raw) > NOTES_MAX:
        raise DomainError(_("At most %s characters.") % NOTES_MAX, field="notes",
                          code="too_long")
    return raw.strip()


def _save(template: ScorecardTemplate, by) -> ScorecardTemplate:
    if ScorecardTemplate.objects.filter(position=template.position, name=template.name) \
            .exclude(pk=template.pk).exists():
        raise Conflict(_("This position already has a template with this name."),
                       field="name", code="exists")
    try:
        with transaction.atomic():
            return audited_save(template, by=by, validate_constraints=False)
    except IntegrityError as exc:  # created at the same moment by someone else
        raise Conflict(_("This position already has a template with this name."),
                       field="name", code="exists") from exc


def _write_items(template: ScorecardTemplate, items: list[ScorecardItem], by) -> None:
    template.items.all().delete()
    for item in items:
        item.template = template
    bulk_create_with_history(items, ScorecardItem, default_user=getattr(by, "user", by),
                             default_change_reason="items replaced")


# --- templates ------------------------------------------------------------------------
@transaction.atomic
def template_create(*, by, name, position, period_kind, items,
                    notes: str = "") -> ScorecardTemplate:
    """A new active template (version 1) with its items."""
    _require_manage(by)
    template = ScorecardTemplate(
        name=_name(name, "name"), position=_position(position),
        period_kind=_choice(period_kind, PeriodKind, "period_kind"), notes=_notes(notes))
    checked = _items(items)
    template._change_reason = "created"
    _save(template, by)
    _write_items(template, checked, by)
    return template


@transaction.atomic
def template_update(*, template: ScorecardTemplate, by, items=None, version=None,
                    **changes) -> ScorecardTemplate:
    """Change the template's fields (``name``, ``position``, ``period_kind``, ``notes``)
    and/or replace its items as a whole list. ``version``, when given, must be the one
    the change was made on (409 otherwise)."""
    _require_manage(by)
    unknown = sorted(set(changes) - UPDATABLE)
    if unknown:
        raise DomainError(_("Unknown field(s): %s.") % ", ".join(unknown), field=unknown[0],
                          code="unknown")
    template = ScorecardTemplate.objects.select_for_update().get(pk=template.pk)
    if version is not None and version != template.version:
        raise Conflict(_("Someone changed this template meanwhile (now version %s); reload "
                         "it and make your change again.") % template.version,
                       field="version", code="stale")
    if "name" in changes:
        template.name = _name(changes["name"], "name")
    if "position" in changes:
        template.position = _position(changes["position"])
    if "period_kind" in changes:
        template.period_kind = _choice(changes["period_kind"], PeriodKind, "period_kind")
    if "notes" in changes:
        template.notes = _notes(changes["notes"])
    checked = _items(items) if items is not None else None
    template.version += 1
    template._change_reason = "updated" + (f", {len(checked)} items" if checked else "")
    _save(template, by)
    if checked is not None:
        _write_items(template, checked, by)
    return template


@transaction.atomic
def template_deactivate(*, template: ScorecardTemplate, by) -> ScorecardTemplate:
    """No new cycle uses it; cycles already using it keep it (it is never deleted)."""
    _require_manage(by)
    template = ScorecardTemplate.objects.select_for_update().get(pk=template.pk)
    if template.is_active:
        template.is_active = False
        template.version += 1
        template._change_reason = "deactivated"
        _save(template, by)
    return template
