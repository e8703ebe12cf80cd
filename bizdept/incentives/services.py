"""Every write of the incentives app (INC-1..3), one transaction each.

Bonus plans (INC-1) and bonus runs (INC-2) are kept by HR or the director
(``can_manage``); anyone else is refused (403). A plan's rules are checked in full before
anything is written and stored normalized (decimals as text); errors name the part:
``tiers[2].rate``, ``gates[0].floor``, ``coefficients.S``. A plan is a draft until it is
approved through the engine (``incentives.bonus_plan``); the approval puts it in force
and supersedes the version before it. A new version starts as a copy of one.

A run works out the bonus of every person of an approved appraisal cycle whose position
has a plan in force (``selectors.bonus_lines_for`` reads the inputs, ``formulas`` does the
arithmetic), is worked out again on demand while a draft, and is approved through the
engine (``incentives.bonus_run``): from submission on its lines never change.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from bizdept.appraisal.choices import GRADES, CycleStatus, PeriodKind
from bizdept.appraisal.services import _actor, _choice, _decimal, _department_of, _name
from bizdept.core.errors import Conflict, DomainError
from bizdept.core.services import audited_save
from bizdept.org.choices import Capability
from bizdept.org.models import Position
from bizdept.org.scope import capabilities_of

from .choices import (
    APPRAISAL_SCORE,
    PROMOTION_STREAK,
    TOP_GRADES,
    AwardKind,
    AwardStatus,
    CoefficientBasis,
    CommissionMeasure,
    CommissionMode,
    GateBlocks,
    GateKind,
    PlanStatus,
    RankingUnit,
    RunStatus,
)
from .models import Award, BonusLine, BonusPlan, BonusRun, HonorTitle

PLAN_TYPE = "incentives.bonus_plan"
RUN_TYPE = "incentives.bonus_run"
MONEY_MAX = Decimal("99999999999999.99")
RATE_MAX = Decimal(100)  # % of an amount
ACHIEVEMENT_MAX = Decimal(10000)  # % where a tier may start
COEFFICIENT_MAX = Decimal(100)
SCORE_MAX = Decimal(1000)
MAX_TIERS = 20
MAX_BANDS = 20
MAX_GATES = 10
NOTES_MAX = 2000
HISTORY_REASON_MAX = 100
PLAN_FIELDS = ("name", "position", "period_kind", "base_amount", "coefficient_basis",
               "coefficients", "commission_measure", "commission_mode", "tiers",
               "commission_cap", "total_cap", "gates", "notes")


def can_manage(user) -> bool:
    """HR or a director keeps the bonus plans and makes the runs."""
    if not getattr(user, "is_active", False):
        return False
    caps = capabilities_of(user)
    return Capability.MANAGE_ORG in caps or Capability.SEE_DEPARTMENT in caps


def _require_manage(by):
    if not can_manage(by):
        raise PermissionDenied
    return _actor(by)


# --- a plan's rules -------------------------------------------------------------------
def _list(raw, field: str, limit: int) -> list:
    if not isinstance(raw, list | tuple):
        raise DomainError(_("Enter a list."), field=field, code="invalid")
    if len(raw) > limit:
        raise DomainError(_("At most %s entries.") % limit, field=field, code="too_many")
    return list(raw)


def _dict(raw, field: str) -> dict:
    if not isinstance(raw, dict):
        raise DomainError(_("Enter an object."), field=field, code="invalid")
    return raw


def _number(raw, field: str, high: Decimal) -> str:
    return str(_decimal(raw, field, low=Decimal(0), high=high))


def _optional_money(raw, field: str) -> Decimal | None:
    if raw is None or raw == "":
        return None
    return _decimal(raw, field, low=Decimal(0), high=MONEY_MAX)


def _coefficients(raw, basis: str):
    """By grade: every grade's coefficient ({"S": "1.5", …}, missing grades: 0). By score:
    bands with distinct starting scores, stored highest first."""
    if basis == CoefficientBasis.GRADE:
        raw = _dict(raw, "coefficients")
        unknown = sorted(set(raw) - set(GRADES))
        if unknown:
            raise DomainError(_("Unknown grade: %s.") % ", ".join(map(str, unknown)),
                              field="coefficients", code="invalid")
        return {grade: _number(raw[grade], f"coefficients.{grade}", COEFFICIENT_MAX)
                for grade in GRADES if grade in raw and raw[grade] not in (None, "")}
    bands, seen = [], set()
    for i, band in enumerate(_list(raw, "coefficients", MAX_BANDS)):
        band = _dict(band, f"coefficients[{i}]")
        start = _number(band.get("from"), f"coefficients[{i}].from", SCORE_MAX)
        if Decimal(start) in seen:
            raise DomainError(_("Two bands start at %s.") % start,
                              field=f"coefficients[{i}].from", code="duplicate")
        seen.add(Decimal(start))
        bands.append({"from": start, "coefficient": _number(
            band.get("coefficient"), f"coefficients[{i}].coefficient", COEFFICIENT_MAX)})
    if not bands:
        raise DomainError(_("Give at least one score band."), field="coefficients",
                          code="required")
    bands.sort(key=lambda b: Decimal(b["from"]), reverse=True)
    for upper, lower in zip(bands, bands[1:], strict=False):
        if Decimal(upper["coefficient"]) < Decimal(lower["coefficient"]):
            raise DomainError(_("A higher score may not get a lower coefficient."),
                              field="coefficients", code="order")
    return bands


def _tiers(raw, measure: str) -> list:
    """Tiers by achievement: the first starts at 0, each later one higher, rates never
    falling (the more over target, the higher the rate)."""
    if not measure:
        if raw:
            raise DomainError(_("Choose what the commission is paid on, or give no tiers."),
                              field="commission_measure", code="required")
        return []
    tiers = []
    for i, tier in enumerate(_list(raw, "tiers", MAX_TIERS)):
        tier = _dict(tier, f"tiers[{i}]")
        start = _number(tier.get("from"), f"tiers[{i}].from", ACHIEVEMENT_MAX)
        rate = _number(tier.get("rate"), f"tiers[{i}].rate", RATE_MAX)
        if i == 0 and Decimal(start) != 0:
            raise DomainError(_("The first tier starts at 0%."), field=f"tiers[{i}].from",
                              code="first")
        if tiers and Decimal(start) <= Decimal(tiers[-1]["from"]):
            raise DomainError(_("Each tier starts above the one before."),
                              field=f"tiers[{i}].from", code="order")
        if tiers and Decimal(rate) < Decimal(tiers[-1]["rate"]):
            raise DomainError(_("A tier's rate may not be lower than the one before."),
                              field=f"tiers[{i}].rate", code="order")
        tiers.append({"from": start, "rate": rate})
    if not tiers:
        raise DomainError(_("Give at least one tier."), field="tiers", code="required")
    return tiers


def _gates(raw) -> list:
    from bizdept.kpi import measures

    gates = []
    for i, gate in enumerate(_list(raw or [], "gates", MAX_GATES)):
        gate = _dict(gate, f"gates[{i}]")
        kind = _choice(gate.get("kind"), GateKind, f"gates[{i}].kind")
        blocks = _choice(gate.get("blocks"), GateBlocks, f"gates[{i}].blocks")
        if kind == GateKind.KPI_BELOW:
            kpi = gate.get("kpi")
            if not isinstance(kpi, str) or kpi not in measures.KPIS:
                raise DomainError(_("Choose a KPI of the library."), field=f"gates[{i}].kpi",
                                  code="invalid")
            floor = _number(gate.get("floor"), f"gates[{i}].floor", MONEY_MAX)
            gates.append({"kind": kind, "kpi": kpi, "floor": floor, "blocks": blocks})
        else:
            grades = gate.get("grades")
            if (not isinstance(grades, list | tuple) or not grades
                    or any(g not in GRADES for g in grades)):
                raise DomainError(_("Choose one or more of: %s.") % ", ".join(GRADES),
                                  field=f"gates[{i}].grades", code="invalid")
            gates.append({"kind": kind, "grades": [g for g in GRADES if g in grades],
                          "blocks": blocks})
    return gates


def _position(raw) -> Position:
    try:
        return Position.objects.get(pk=int(raw))
    except (Position.DoesNotExist, ValueError, TypeError) as exc:
        raise DomainError(_("Choose a position."), field="position", code="invalid") from exc


def _notes(raw) -> str:
    text = raw if isinstance(raw, str) else "" if raw is None else None
    if text is None:
        raise DomainError(_("Enter text."), field="notes", code="invalid")
    if len(text) > NOTES_MAX:
        raise DomainError(_("At most %s characters.") % NOTES_MAX, field="notes",
                          code="too_long")
    return text.strip()


def _apply(plan: BonusPlan, values: dict) -> None:
    """Check ``values`` (any of PLAN_FIELDS) and set them on ``plan``; the rules are
    checked together, as they depend on each other."""
    unknown = sorted(set(values) - set(PLAN_FIELDS))
    if unknown:
        raise DomainError(_("Unknown field."), field=unknown[0], code="unknown")
    if "name" in values:
        plan.name = _name(values["name"], "name")
    if "position" in values:
        plan.position = _position(values["position"])
    if "period_kind" in values:
        plan.period_kind = _choice(values["period_kind"], PeriodKind, "period_kind")
    if "base_amount" in values:
        plan.base_amount = _decimal(values["base_amount"], "base_amount", low=Decimal(0),
                                    high=MONEY_MAX)
    if "coefficient_basis" in values:
        plan.coefficient_basis = _choice(values["coefficient_basis"], CoefficientBasis,
                                         "coefficient_basis")
    if "commission_measure" in values:
        measure = values["commission_measure"] or ""
        plan.commission_measure = _choice(measure, CommissionMeasure, "commission_measure")
    if "commission_mode" in values:
        plan.commission_mode = _choice(values["commission_mode"], CommissionMode,
                                       "commission_mode")
    for name in ("commission_cap", "total_cap"):
        if name in values:
            setattr(plan, name, _optional_money(values[name], name))
    if "notes" in values:
        plan.notes = _notes(values["notes"])
    plan.coefficients = _coefficients(values.get("coefficients", plan.coefficients),
                                      plan.coefficient_basis)
    plan.tiers = _tiers(values.get("tiers", plan.tiers) or [], plan.commission_measure)
    plan.gates = _gates(values.get("gates", plan.gates))


def _next_number(position_id, period_kind) -> int:
    found = (BonusPlan.objects.filter(position_id=position_id, period_kind=period_kind)
             .aggregate(top=Max("number")))["top"]
    return (found or 0) + 1


def _save_plan(plan: BonusPlan, by, reason: str) -> BonusPlan:
    plan._change_reason = reason[:HISTORY_REASON_MAX]
    try:
        with transaction.atomic():
            return audited_save(plan, by=by, validate_constraints=False)
    except IntegrityError as exc:  # two drafts numbered at once
        raise Conflict(_("Someone else changed this plan; reload and try again."),
                       field="version", code="stale") from exc


@transaction.atomic
def plan_create(*, by, name, position, period_kind, base_amount, coefficients,
                coefficient_basis=CoefficientBasis.GRADE, commission_measure="",
                commission_mode=CommissionMode.TIERED, tiers=(), commission_cap=None,
                total_cap=None, gates=(), notes="") -> BonusPlan:
    """A new draft plan, numbered after the position's latest version for the period."""
    me = _require_manage(by)
    plan = BonusPlan(created_by=me, number=0, base_amount=0, coefficients={})
    _apply(plan, {"name": name, "position": position, "period_kind": period_kind,
                  "base_amount": base_amount, "coefficient_basis": coefficient_basis,
                  "coefficients": coefficients, "commission_measure": commission_measure,
                  "commission_mode": commission_mode, "tiers": tiers or [],
                  "commission_cap": commission_cap, "total_cap": total_cap,
                  "gates": gates or [], "notes": notes})
    plan.number = _next_number(plan.position_id, plan.period_kind)
    return _save_plan(plan, by, "drafted")


def _locked_plan(plan) -> BonusPlan:
    return BonusPlan.objects.select_for_update().get(pk=plan.pk)


def _require_draft(plan) -> None:
    if plan.status != PlanStatus.DRAFT:
        raise Conflict(_("Only a draft can be changed; draft a new version instead."),
                       field="status", code="not_draft")


def _check_version(document, version) -> None:
    if version not in (None, "") and str(version) != str(document.version):
        raise Conflict(_("Someone else changed this in the meantime; reload and try again."),
                       field="version", code="stale")


@transaction.atomic
def plan_update(*, plan, by, version=None, **values) -> BonusPlan:
    """Change a draft (any of PLAN_FIELDS); a write naming an older version is refused."""
    _require_manage(by)
    plan = _locked_plan(plan)
    _check_version(plan, version)
    _require_draft(plan)
    before = (plan.position_id, plan.period_kind)
    _apply(plan, values)
    if (plan.position_id, plan.period_kind) != before:  # a version of another plan now
        plan.number = _next_number(plan.position_id, plan.period_kind)
    plan.version += 1
    return _save_plan(plan, by, "changed")


@transaction.atomic
def plan_new_version(*, plan, by) -> BonusPlan:
    """A draft copy of ``plan`` as the position's next version (to change and approve)."""
    me = _require_manage(by)
    copy = BonusPlan(created_by=me, number=_next_number(plan.position_id, plan.period_kind),
                     **{name: getattr(plan, name) for name in PLAN_FIELDS})
    return _save_plan(copy, by, f"drafted from v{plan.number}")


@transaction.atomic
def plan_delete(*, plan, by) -> None:
    """Throw a draft away (what-if drafts that are not wanted)."""
    _require_manage(by)
    plan = _locked_plan(plan)
    _require_draft(plan)
    if plan.lines.exists():
        raise Conflict(_("This plan has paid bonuses and is kept."), field="status",
                       code="in_use")
    plan.delete()


@transaction.atomic
def plan_submit(*, plan, by, comment: str = "") -> BonusPlan:
    """A draft into approval (``incentives.bonus_plan``)."""
    from bizdept.approvals import services as approval_services

    _require_manage(by)
    plan = _locked_plan(plan)
    _require_draft(plan)
    plan.status = PlanStatus.SUBMITTED
    plan.submitted_at = timezone.now()
    plan.version += 1
    _save_plan(plan, by, "submitted")
    approval_services.approval_submit(document=plan, by=by, comment=comment,
                                      document_type=PLAN_TYPE)
    plan.refresh_from_db()
    return plan


def plan_title(plan) -> str:
    return str(plan)


def plan_approved(plan) -> None:
    """The engine's callback: the plan is in force; the version before it is superseded."""
    plan = _locked_plan(plan)
    (BonusPlan.objects.select_for_update()
     .filter(position_id=plan.position_id, period_kind=plan.period_kind,
             status=PlanStatus.APPROVED).exclude(pk=plan.pk)
     .update(status=PlanStatus.SUPERSEDED))
    plan.status = PlanStatus.APPROVED
    plan.approved_at = timezone.now()
    plan.version += 1
    plan._change_reason = "approved"
    plan.save()


def plan_not_approved(plan) -> None:
    """Returned, rejected or withdrawn: a draft again."""
    plan = _locked_plan(plan)
    if plan.status == PlanStatus.SUBMITTED:
        plan.status = PlanStatus.DRAFT
        plan.submitted_at = None
        plan.version += 1
        plan._change_reason = "back to draft"
        plan.save()


# --- runs -------------------------------------------------------------------------------
def _locked_run(run) -> BonusRun:
    return BonusRun.objects.select_for_update().select_related("cycle").get(pk=run.pk)


def _write_lines(run: BonusRun) -> None:
    """Work the lines out from the records and plans in force, replacing the old ones."""
    from . import selectors

    lines = selectors.bonus_lines_for(run.cycle)
    BonusLine.objects.filter(run=run).delete()
    for line in lines:
        line.run = run
    BonusLine.objects.bulk_create(lines, batch_size=500)
    run.total = sum((line.total for line in lines), Decimal("0.00"))
    run.people = len(lines)
    run.computed_at = timezone.now()


def _save_run(run: BonusRun, by, reason: str) -> BonusRun:
    run.version += 1
    run._change_reason = reason[:HISTORY_REASON_MAX]
    return audited_save(run, by=by, validate_constraints=False)


@transaction.atomic
def run_create(*, by, cycle, name="") -> BonusRun:
    """The bonus run of an approved appraisal cycle of the user's department, worked out."""
    from bizdept.appraisal.models import AppraisalCycle

    me = _require_manage(by)
    try:
        cycle = AppraisalCycle.objects.select_for_update().get(pk=getattr(cycle, "pk", cycle))
    except (AppraisalCycle.DoesNotExist, ValueError, TypeError) as exc:
        raise DomainError(_("Choose an appraisal cycle."), field="cycle",
                          code="invalid") from exc
    if cycle.unit_id != _department_of(me).pk:
        raise DomainError(_("Choose an appraisal cycle."), field="cycle", code="invalid")
    if cycle.status != CycleStatus.APPROVED:
        raise DomainError(_("Bonuses are paid on approved appraisal results only."),
                          field="cycle", code="not_approved")
    if BonusRun.objects.filter(cycle=cycle).exists():
        raise Conflict(_("This cycle has its bonus run already."), field="cycle",
                       code="exists")
    name = _name(name, "name") if name not in (None, "") else (
        _("Bonus for %s") % cycle.name)
    run = BonusRun(cycle=cycle, name=name, created_by=me)
    run._change_reason = "created"
    audited_save(run, by=by, validate_constraints=False)  # the lines need its id
    _write_lines(run)
    return _save_run(run, by, "worked out")


@transaction.atomic
def run_recompute(*, run, by) -> BonusRun:
    """Work a draft run out again (plans or records changed)."""
    _require_manage(by)
    run = _locked_run(run)
    if run.status != RunStatus.DRAFT:
        raise Conflict(_("The run is in approval or approved and does not change."),
                       field="status", code="frozen")
    _write_lines(run)
    return _save_run(run, by, "worked out again")


@transaction.atomic
def run_submit(*, run, by, comment: str = "") -> BonusRun:
    """A draft run into approval (``incentives.bonus_run``: finance, then the director);
    from here on its lines do not change."""
    from bizdept.approvals import services as approval_services

    _require_manage(by)
    run = _locked_run(run)
    if run.status != RunStatus.DRAFT:
        raise Conflict(_("The run is in approval or approved already."), field="status",
                       code="frozen")
    if not run.people:
        raise DomainError(_("Nobody is paid by this run: no plan in force for the positions "
                            "appraised."), field="lines", code="empty")
    run.status = RunStatus.SUBMITTED
    run.submitted_at = timezone.now()
    _save_run(run, by, "submitted")
    approval_services.approval_submit(document=run, by=by, comment=comment,
                                      document_type=RUN_TYPE)
    run.refresh_from_db()
    return run


def run_title(run) -> str:
    return run.name


def run_amount(run) -> Decimal:
    return run.total


def run_approved(run) -> None:
    run = _locked_run(run)
    run.status = RunStatus.APPROVED
    run.approved_at = timezone.now()
    run.version += 1
    run._change_reason = "approved"
    run.save()


def run_not_approved(run) -> None:
    run = _locked_run(run)
    if run.status == RunStatus.SUBMITTED:
        run.status = RunStatus.DRAFT
        run.submitted_at = None
        run.version += 1
        run._change_reason = "back to draft"
        run.save()


# === Awards (INC-3) =======================================================================
# Honor titles are configured by HR or the director. Awards are proposed by them (honor
# titles and promotion recommendations from an approved cycle; a year-end special award
# also by a head above the person) and decided by the director alone: confirmed or
# declined (with a note), both final (409 on a second decision).



TITLE_TOP_MAX = 100
AWARD_TEXT_MAX = 2000
TITLE_FIELDS = ("name", "name_en", "basis", "per", "top", "position", "period_kind")
_YEAR = re.compile(r"(20\d\d|2[1-9]\d\d)")


def can_decide_awards(user) -> bool:
    """The director (who sees the whole department) confirms or declines awards."""
    return bool(getattr(user, "is_active", False)) and \
        Capability.SEE_DEPARTMENT in capabilities_of(user)


def basis_choices() -> list[tuple[str, str]]:
    """What an honor title may rank people by: the appraisal's total score or a KPI."""
    from bizdept.kpi import measures

    return [(APPRAISAL_SCORE, _("Appraisal total score")),
            *((code, str(m.label)) for code, m in measures.KPIS.items())]


def _text_of(raw, field: str, *, required: bool = False, limit: int = AWARD_TEXT_MAX) -> str:
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise DomainError(_("Enter text."), field=field, code="invalid")
    raw = raw.strip()
    if required and not raw:
        raise DomainError(_("This field is required."), field=field, code="required")
    if len(raw) > limit:
        raise DomainError(_("At most %s characters.") % limit, field=field, code="too_long")
    return raw


def _title_apply(title: HonorTitle, values: dict) -> None:
    if "name" in values:
        title.name = _name(values["name"], "name")
    if "name_en" in values:
        title.name_en = _text_of(values["name_en"], "name_en", limit=100)
    if "basis" in values:
        if values["basis"] not in dict(basis_choices()):
            raise DomainError(_("Choose the appraisal score or a KPI."), field="basis",
                              code="invalid")
        title.basis = values["basis"]
    if "per" in values:
        title.per = _choice(values["per"], RankingUnit, "per")
    if "top" in values:
        top = values["top"]
        if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= TITLE_TOP_MAX:
            raise DomainError(_("Enter a whole number between 1 and %s.") % TITLE_TOP_MAX,
                              field="top", code="range")
        title.top = top
    if "position" in values:
        raw = values["position"]
        title.position = None if raw in (None, "") else _position(getattr(raw, "pk", raw))
    if "period_kind" in values:
        title.period_kind = _choice(values["period_kind"], PeriodKind, "period_kind")


def _save_title(title: HonorTitle, by, reason: str) -> HonorTitle:
    title._change_reason = reason
    try:
        with transaction.atomic():
            return audited_save(title, by=by)
    except IntegrityError as exc:
        raise Conflict(_("An honor title with this name exists already."), field="name",
                       code="exists") from exc


@transaction.atomic
def title_create(*, by, name, basis, per=RankingUnit.DEPARTMENT, top=1,
                 period_kind=PeriodKind.QUARTERLY, position=None, name_en="") -> HonorTitle:
    """A new honor title (HR or the director)."""
    _require_manage(by)
    title = HonorTitle()
    _title_apply(title, {"name": name, "name_en": name_en, "basis": basis, "per": per,
                         "top": top, "position": position, "period_kind": period_kind})
    return _save_title(title, by, "created")


@transaction.atomic
def title_update(*, title, by, version=None, **values) -> HonorTitle:
    """Change an honor title; fields left out stay. Awards given keep their evidence."""
    _require_manage(by)
    unknown = set(values) - set(TITLE_FIELDS)
    if unknown:
        raise DomainError(_("Unknown field."), field=sorted(unknown)[0], code="invalid")
    title = HonorTitle.objects.select_for_update().get(pk=title.pk)
    _check_version(title, version)
    _title_apply(title, values)
    title.version += 1
    return _save_title(title, by, "changed")


@transaction.atomic
def title_deactivate(*, title, by) -> HonorTitle:
    """No more proposals of this title; the awards given stay on the records."""
    _require_manage(by)
    title = HonorTitle.objects.select_for_update().get(pk=title.pk)
    if not title.is_active:
        raise Conflict(_("This honor title is inactive already."), field="is_active",
                       code="inactive")
    title.is_active = False
    title.version += 1
    return _save_title(title, by, "deactivated")


# --- proposing from a cycle -------------------------------------------------------------
def _award_cycle(me, cycle):
    from bizdept.appraisal.models import AppraisalCycle

    try:
        found = AppraisalCycle.objects.select_related("unit").get(
            pk=getattr(cycle, "pk", cycle))
    except (AppraisalCycle.DoesNotExist, ValueError, TypeError) as exc:
        raise DomainError(_("Choose an appraisal cycle."), field="cycle",
                          code="invalid") from exc
    if found.unit_id != _department_of(me).pk:
        raise DomainError(_("Choose an appraisal cycle."), field="cycle", code="invalid")
    if found.status != CycleStatus.APPROVED:
        raise DomainError(_("Awards are proposed from approved appraisal results only."),
                          field="cycle", code="not_approved")
    return found


def _values_by(basis: str, cycle, people: list[dict]) -> tuple[dict, bool]:
    """{employee id: value} for the cycle's people (absent: no value) and whether higher
    is better. One grouped query per KPI (or the appraisal's frozen total)."""
    from bizdept.kpi import measures

    if basis == APPRAISAL_SCORE:
        return ({p["employee_id"]: p["total_score"] for p in people
                 if p["total_score"] is not None}, True)
    measure = measures.KPIS.get(basis)
    if measure is None:
        return {}, True
    found = measure.per_person(since=cycle.since, until=cycle.until,
                               employee_ids=[p["employee_id"] for p in people])
    if measure.higher_is_better:  # nothing done, no title
        found = {e: v for e, v in found.items() if v is not None and v > 0}
    return found, measure.higher_is_better


def ranking(title: HonorTitle, cycle, people: list[dict], units: dict, cache: dict) -> list:
    """The winners of ``title`` in ``cycle``: [(person row, evidence)], ranked per unit
    (1, 1, 3: equal values share a rank), the top N with everyone tied at the boundary."""
    if title.basis not in cache:
        cache[title.basis] = _values_by(title.basis, cycle, people)
    values, higher = cache[title.basis]
    unit_of = {RankingUnit.DEPARTMENT: lambda p: cycle.unit_id,
               RankingUnit.DIVISION: lambda p: p["division_id"],
               RankingUnit.TEAM: lambda p: p["unit_id"]}[title.per]
    groups: dict[int, list] = {}
    for person in people:
        if title.position_id and person["position_id"] != title.position_id:
            continue
        value = values.get(person["employee_id"])
        if value is None or unit_of(person) is None:
            continue
        groups.setdefault(unit_of(person), []).append((Decimal(value), person))
    winners = []
    for unit_id, rows in groups.items():
        rows.sort(key=lambda r: (-r[0] if higher else r[0], r[1]["employee_id"]))
        ranked, rank = [], 0
        for i, (value, person) in enumerate(rows):
            if i == 0 or value != rows[i - 1][0]:
                rank = i + 1
            if rank > title.top:
                break
            ranked.append((rank, value, person))
        for rank, value, person in ranked:
            tied = sum(1 for r in ranked if r[0] == rank)
            unit = units.get(unit_id)
            winners.append((person, {
                "basis": title.basis, "value": str(value), "rank": rank, "of": len(rows),
                "per": title.per, "unit": {"id": unit_id, "name": unit.name if unit else ""},
                "top": title.top, "tied": tied, "beyond_top": len(ranked) > title.top}))
    return winners


def _promotion_streaks(cycle, people: list[dict]) -> list:
    """[(person row, evidence)] for those graded S or A in each of the last
    ``PROMOTION_STREAK`` approved cycles of the kind up to ``cycle`` (any other grade, or
    a cycle missed, breaks the streak). Two queries."""
    from bizdept.appraisal.models import Appraisal, AppraisalCycle

    length = PROMOTION_STREAK[cycle.kind]
    cycles = list(AppraisalCycle.objects.filter(
        unit_id=cycle.unit_id, kind=cycle.kind, status=CycleStatus.APPROVED,
        since__lte=cycle.since).order_by("-since")[:length])
    if len(cycles) < length or cycles[0].pk != cycle.pk:
        return []
    grades: dict[int, dict[int, str]] = {}
    for employee_id, cycle_id, grade in Appraisal.objects.filter(
            cycle__in=cycles).values_list("employee_id", "cycle_id", "grade"):
        grades.setdefault(employee_id, {})[cycle_id] = grade
    found = []
    for person in people:
        mine = grades.get(person["employee_id"], {})
        if all(mine.get(c.pk) in TOP_GRADES for c in cycles):
            found.append((person, {"streak": [
                {"cycle": c.pk, "period": c.period, "grade": mine[c.pk]}
                for c in reversed(cycles)]}))
    return found


@transaction.atomic
def awards_propose(*, by, cycle) -> int:
    """Proposals from an approved cycle of the user's department (HR or the director):
    each active honor title of the cycle's kind to the top people of each ranking unit,
    and a promotion recommendation to whoever has the streak of top grades (unless one
    from the streak's cycles is pending or confirmed). Proposing again adds only what is
    new; returns how many proposals were added. A constant number of queries."""
    from bizdept.appraisal.models import Appraisal, AppraisalCycle
    from bizdept.org.models import Unit

    me = _require_manage(by)
    cycle = _award_cycle(me, cycle)
    AppraisalCycle.objects.select_for_update().filter(pk=cycle.pk).first()  # one at a time
    people = list(Appraisal.objects.filter(cycle=cycle).order_by("pk").values(
        "employee_id", "unit_id", "division_id", "total_score", "grade",
        position_id=F("template__position_id")))
    units = Unit.objects.in_bulk({cycle.unit_id} | {p["unit_id"] for p in people}
                                 | {p["division_id"] for p in people if p["division_id"]})
    new: list[Award] = []
    titles = list(HonorTitle.objects.filter(is_active=True, period_kind=cycle.kind))
    taken = set(Award.objects.filter(cycle=cycle, kind=AwardKind.HONOR_TITLE)
                .values_list("title_id", "employee_id"))
    cache: dict = {}
    now = timezone.now()
    for title in titles:
        for person, evidence in ranking(title, cycle, people, units, cache):
            if (title.pk, person["employee_id"]) in taken:
                continue
            taken.add((title.pk, person["employee_id"]))
            new.append(Award(employee_id=person["employee_id"], kind=AwardKind.HONOR_TITLE,
                             title=title, cycle=cycle, period=cycle.period, evidence=evidence,
                             proposed_by=me, proposed_at=now))
    streaks = _promotion_streaks(cycle, people)
    if streaks:
        window = [s["cycle"] for s in streaks[0][1]["streak"]]
        pending = set(Award.objects.filter(kind=AwardKind.PROMOTION, cycle_id__in=window)
                      .exclude(status=AwardStatus.DECLINED).values_list("employee_id",
                                                                        flat=True))
        pending |= set(Award.objects.filter(kind=AwardKind.PROMOTION, cycle=cycle)
                       .values_list("employee_id", flat=True))
        for person, evidence in streaks:
            if person["employee_id"] in pending:
                continue
            new.append(Award(employee_id=person["employee_id"], kind=AwardKind.PROMOTION,
                             cycle=cycle, period=cycle.period, evidence=evidence,
                             proposed_by=me, proposed_at=now))
    if new:
        user = getattr(by, "user", by)
        for award in new:
            award._history_user = user
        bulk_create_with_history(new, Award, batch_size=500, default_user=user,
                                 default_change_reason="proposed from the cycle")
    return len(new)


def may_propose_special(by, me) -> bool:
    """HR, the director or the head of a unit."""
    from bizdept.org.models import Unit

    return can_manage(by) or Unit.objects.filter(head=me).exists()


def _proposer_may(by, me, employee) -> None:
    """A head above the person, or HR and the director; never for oneself."""
    from bizdept.org.scope import Domain, scope_for

    if employee.pk == me.pk or not scope_for(by, Domain.PEOPLE).covers(employee):
        raise DomainError(_("Choose someone you may propose an award for."),
                          field="employee", code="unknown")


def _employee(raw):
    from bizdept.org.models import Employee

    try:
        return Employee.objects.select_related("unit").get(pk=getattr(raw, "pk", raw))
    except (Employee.DoesNotExist, ValueError, TypeError) as exc:
        raise DomainError(_("Choose someone you may propose an award for."),
                          field="employee", code="unknown") from exc


@transaction.atomic
def special_award_propose(*, by, employee, period, amount, reason) -> Award:
    """A year-end special award (年终特别奖) of ``amount`` for ``period`` (a year, "2026"),
    proposed by HR, the director or a head above the person, with the reason."""
    me = _actor(by)
    if not may_propose_special(by, me):
        raise PermissionDenied
    employee = _employee(employee)
    _proposer_may(by, me, employee)
    if not isinstance(period, str) or not _YEAR.fullmatch(period.strip()):
        raise DomainError(_("Enter the year, like 2026."), field="period", code="invalid")
    period = period.strip()
    amount = _decimal(amount, "amount", low=Decimal("0.01"), high=MONEY_MAX)
    reason = _text_of(reason, "reason", required=True)
    if Award.objects.select_for_update().filter(
            employee=employee, kind=AwardKind.SPECIAL_AWARD, period=period).exclude(
            status=AwardStatus.DECLINED).exists():
        raise Conflict(_("This person has a special award for %s already.") % period,
                       field="period", code="exists")
    award = Award(employee=employee, kind=AwardKind.SPECIAL_AWARD, period=period,
                  amount=amount, reason=reason, proposed_by=me,
                  evidence={})
    award._change_reason = "proposed"
    return audited_save(award, by=by)


def _decide(award, by, status: str, note, *, note_required: bool) -> Award:
    if not can_decide_awards(by):
        raise PermissionDenied
    me = _actor(by)
    note = _text_of(note, "note", required=note_required)
    try:
        award = Award.objects.select_for_update().get(pk=getattr(award, "pk", award))
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise DomainError(_("This award does not exist."), field="award",
                          code="unknown") from exc
    if award.employee_id == me.pk:
        raise PermissionDenied
    if award.status != AwardStatus.PROPOSED:
        raise Conflict(_("This award is decided already."), field="status", code="decided")
    award.status = status
    award.decided_by = me
    award.decided_at = timezone.now()
    award.decision_note = note
    award._change_reason = status
    return audited_save(award, by=by)


@transaction.atomic
def award_confirm(*, award, by, note: str = "") -> Award:
    """The director confirms a proposal; it is on the person's record for good."""
    return _decide(award, by, AwardStatus.CONFIRMED, note, note_required=False)


@transaction.atomic
def award_decline(*, award, by, note) -> Award:
    """The director declines a proposal, saying why (the note is required)."""
    return _decide(award, by, AwardStatus.DECLINED, note, note_required=True)
