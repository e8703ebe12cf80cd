"""Every read of the sales app (SAL); owned records start from the scope rule (ORG-4)."""

from __future__ import annotations

from django.db.models import Count
from django.http import Http404

from bizdept.org.models import Employee
from bizdept.org.scope import Domain, employee_of, scope_for

from .models import ContractNumber, Product, ProductCategory


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


# === Products (SAL-1) ==================================================================
# The catalogue is no one's record: everyone signed in reads all of it.
def product_list(*, user):
    if not _signed_in(user):
        return Product.objects.none()
    return Product.objects.select_related("category")


def product_get(*, user, pk) -> Product:
    try:
        return product_list(user=user).get(pk=pk)
    except (Product.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def category_list(*, user):
    if not _signed_in(user):
        return ProductCategory.objects.none()
    return (ProductCategory.objects.select_related("parent")
            .annotate(product_count=Count("products")))


def category_get(*, user, pk) -> ProductCategory:
    try:
        return category_list(user=user).get(pk=pk)
    except (ProductCategory.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def category_choices():
    """Categories as a form offers them (parents first, by sort order)."""
    return ProductCategory.objects.select_related("parent").order_by("sort_order", "name")


# === Contract number register (SAL-4) ==================================================
def contract_number_list(*, user):
    return ContractNumber.objects.visible_to(user).select_related(
        "issued_to__unit", "issued_by", "closed_by")


def contract_number_get(*, user, pk) -> ContractNumber:
    return (ContractNumber.objects.select_related("issued_to__unit", "issued_by", "closed_by")
            .get_visible_or_404(user, pk=pk))


def my_contract_numbers(*, user):
    me = employee_of(user)
    rows = contract_number_list(user=user)
    return rows.filter(issued_to=me) if me is not None else rows.none()


def number_holders(*, user):
    """People the user may issue numbers to: those in their money scope, still working
    (a salesperson: themselves; finance: the department)."""
    scope = scope_for(user, Domain.MONEY)
    if scope.nothing:
        return Employee.objects.none()
    return (Employee.objects.filter(scope.q("")).active().select_related("unit")
            .order_by("number"))


def number_years(*, user) -> list[int]:
    return list(contract_number_list(user=user).order_by("-year")
                .values_list("year", flat=True).distinct())


# === Opportunities (SAL-2) ==============================================================
import datetime  # noqa: E402 - this section's own imports
from dataclasses import dataclass, field  # noqa: E402
from decimal import Decimal  # noqa: E402

from django.db.models import Prefetch, Q, Sum  # noqa: E402

from bizdept.core.money import to_cents  # noqa: E402
from bizdept.org.models import Unit  # noqa: E402

from .choices import OPPORTUNITY_FLOW, OpportunityStage  # noqa: E402
from .models import Opportunity, OpportunityStageChange, SolutionLine  # noqa: E402
from .pricing import rate_of  # noqa: E402


def opportunity_list(*, user):
    return Opportunity.objects.visible_to(user).select_related("customer", "owner__unit")


def opportunity_get(*, user, pk) -> Opportunity:
    return (Opportunity.objects.select_related("customer", "owner__unit", "created_by")
            .prefetch_related(Prefetch("lines", SolutionLine.objects.select_related("product")))
            .get_visible_or_404(user, pk=pk))


def _first_or_404(rows):
    found = rows.first()
    if found is None:
        raise Http404
    return found


def opportunity_find(*, user, pk) -> Opportunity:
    """The opportunity an action works on (the answer is read again afterwards)."""
    return _first_or_404(Opportunity.objects.visible_to(user)
                         .select_related("owner__unit", "customer").filter(pk=pk))


def line_find(*, user, pk) -> SolutionLine:
    return _first_or_404(SolutionLine.objects.select_related("opportunity__owner__unit")
                         .filter(pk=pk, opportunity__in=Opportunity.objects.visible_to(user)
                                 .values("pk")))


def line_get(*, user, pk) -> SolutionLine:
    """A solution line of an opportunity the user may see (else 404)."""
    try:
        return (SolutionLine.objects.select_related("product", "opportunity__owner__unit")
                .get(pk=pk, opportunity__in=Opportunity.objects.visible_to(user).values("pk")))
    except (SolutionLine.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def stage_changes(opportunity: Opportunity):
    return opportunity.stage_changes.select_related("by").order_by("at", "pk")


@dataclass
class SolutionTotals:
    amount: Decimal
    cost: Decimal
    margin: Decimal
    margin_rate: Decimal | None
    list_amount: Decimal


def solution_totals(lines) -> SolutionTotals:
    """Totals of lines already in memory: the sums of the rounded lines."""
    from .pricing import line_amount

    lines = list(lines)
    amount = sum((line.amount for line in lines), Decimal("0.00"))
    cost = sum((line.cost for line in lines), Decimal("0.00"))
    gross = sum((line_amount(line.unit_price, line.quantity) for line in lines),
                Decimal("0.00"))
    return SolutionTotals(amount=amount, cost=cost, margin=amount - cost,
                          margin_rate=rate_of(amount - cost, amount), list_amount=gross)


def discount_threshold() -> Decimal:
    """The discount above which a solution needs the discount approval (%)."""
    from .models import OpportunitySettings

    found = (OpportunitySettings.objects.filter(pk=1)
             .values_list("discount_approval_threshold", flat=True).first())
    return Decimal("15.00") if found is None else found


def funnel_units(*, user):
    """Units whose funnel the user may read: those holding someone in their sales scope
    (a salesperson: their own unit; a head: their subtree; the director: all)."""
    scope = scope_for(user, Domain.SALES)
    if scope.nothing:
        return Unit.objects.none()
    if scope.everything:
        return Unit.objects.order_by("path")
    paths = list(scope.unit_paths)
    me = employee_of(user)
    query = Q(pk=me.unit_id) if me is not None else Q(pk__in=[])
    for path in paths:
        query |= Q(path__startswith=path)
    return Unit.objects.filter(query).order_by("path")


@dataclass
class FunnelRow:
    stage: str
    label: str
    count: int = 0          # opportunities now at this stage
    amount: Decimal = Decimal("0.00")  # their expected amount
    reached: int = 0        # opportunities that ever reached it
    conversion: Decimal | None = None  # % of the previous stage's reached


@dataclass
class Funnel:
    unit: Unit | None
    since: datetime.date | None
    until: datetime.date | None
    rows: list[FunnelRow] = field(default_factory=list)
    total: int = 0
    won: int = 0
    won_amount: Decimal = Decimal("0.00")
    lost: int = 0
    win_rate: Decimal | None = None


def opportunity_funnel(*, user, unit: Unit | None = None, since=None, until=None) -> Funnel:
    """The funnel of the opportunities created in [since, until] and owned in ``unit``'s
    subtree (within the user's scope): per stage of the flow how many are there now and
    their expected amount, how many ever reached it and the conversion from the stage
    before; won and lost counts and the won amount. Two aggregate queries."""
    rows = Opportunity.objects.visible_to(user)
    if unit is not None:
        rows = rows.filter(owner__unit__path__startswith=unit.path)
    if since is not None:
        rows = rows.filter(created_at__date__gte=since)
    if until is not None:
        rows = rows.filter(created_at__date__lte=until)
    now = {r["stage"]: r for r in rows.order_by().values("stage").annotate(
        n=Count("pk"), amount=Sum("expected_amount"))}
    reached = dict(OpportunityStageChange.objects.filter(opportunity__in=rows.values("pk"))
                   .order_by().values("new_stage")
                   .annotate(n=Count("opportunity", distinct=True))
                   .values_list("new_stage", "n"))
    funnel = Funnel(unit=unit, since=since, until=until)
    previous = None
    for stage in OPPORTUNITY_FLOW:
        here = now.get(stage, {})
        row = FunnelRow(stage=stage, label=str(OpportunityStage(stage).label),
                        count=here.get("n", 0), amount=to_cents(here.get("amount")),
                        reached=reached.get(stage, 0))
        if previous is not None:
            row.conversion = rate_of(row.reached, previous.reached) if previous.reached else None
        funnel.rows.append(row)
        previous = row
    won, lost = now.get(OpportunityStage.WON, {}), now.get(OpportunityStage.LOST, {})
    funnel.won, funnel.lost = won.get("n", 0), lost.get("n", 0)
    funnel.won_amount = to_cents(won.get("amount"))
    funnel.total = sum(r.get("n", 0) for r in now.values())
    closed = funnel.won + funnel.lost
    funnel.win_rate = rate_of(funnel.won, closed) if closed else None
    return funnel


def opportunity_owners(*, user):
    """People whose opportunities the user may see (for the owner filter and the form)."""
    scope = scope_for(user, Domain.SALES)
    if scope.nothing:
        return Employee.objects.none()
    return Employee.objects.filter(scope.q("")).select_related("unit").order_by("number")
# === end of Opportunities (SAL-2) =======================================================


# === Contracts (SAL-5) ==================================================================
from django.core.exceptions import EmptyResultSet  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import DecimalField, Exists, F, OuterRef, Subquery, Value  # noqa: E402
from django.db.models.functions import Coalesce  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.translation import gettext as _  # noqa: E402

from bizdept.core.errors import DomainError  # noqa: E402
from bizdept.customers.models import Customer  # noqa: E402

from .choices import AGING_BUCKETS, AmendmentStatus, ContractNumberStatus, ContractStatus  # noqa: E402, E501
from .models import Contract, ContractAmendment, Payment, PaymentPlan  # noqa: E402


def contract_list(*, user):
    """Contracts in the money scope (the owner's; a head's subtree; finance and the
    director the department)."""
    return Contract.objects.visible_to(user).select_related("number", "customer",
                                                            "owner__unit")


def contract_get(*, user, pk) -> Contract:
    return (Contract.objects.select_related("number", "customer", "owner__unit",
                                            "feasibility_confirmed_by", "opportunity")
            .prefetch_related("lines__product").get_visible_or_404(user, pk=pk))


def contract_lines(contract: Contract) -> list:
    from .models import ContractLine

    return list(ContractLine.objects.filter(contract=contract).select_related("product")
                .order_by("sort_order", "pk"))


def contract_amendments(contract: Contract) -> list[ContractAmendment]:
    return list(contract.amendments.select_related("requested_by").order_by("-seq"))


def pending_amendment(contract: Contract) -> ContractAmendment | None:
    return contract.amendments.filter(status=AmendmentStatus.PENDING).first()


def free_numbers(*, user):
    """My issued numbers no contract has used yet, for a new contract."""
    me = employee_of(user)
    if me is None:
        return ContractNumber.objects.none()
    return ContractNumber.objects.filter(issued_to=me, status=ContractNumberStatus.ISSUED
                                         ).order_by("year", "seq")


def contract_customers(*, user):
    """Customers a contract may be made with: those in my (sales) scope."""
    return Customer.objects.visible_to(user).order_by("name")


# === Receivables (SAL-6) ================================================================
# Money is receivable on signed contracts (being executed or completed); a terminated
# contract's unpaid instalments are no longer claimed.
RECEIVABLE = (ContractStatus.SIGNED, ContractStatus.EXECUTING, ContractStatus.COMPLETED)
_MONEY = DecimalField(max_digits=16, decimal_places=2)
ZERO = Decimal("0.00")


def payments_by_customer(customer_ids, since: datetime.date, until: datetime.date
                         ) -> dict[int, Decimal]:
    """The inflow source of customer grading (CUS-3): money received per customer between
    ``since`` and ``until`` (reversals included, so a reversed payment counts nothing).
    One aggregate query."""
    rows = (Payment.objects.filter(contract__customer_id__in=list(customer_ids),
                                   received_on__gte=since, received_on__lte=until)
            .order_by().values("contract__customer_id").annotate(total=Sum("amount")))
    return {r["contract__customer_id"]: to_cents(r["total"]) for r in rows}


def _with_reversed(queryset):
    return queryset.annotate(is_reversed=Exists(Payment.objects.filter(reverses=OuterRef("pk"))))


def contract_payments(contract: Contract) -> list[Payment]:
    """The contract's payments and reversals, in the order they were received."""
    return list(_with_reversed(contract.payments.select_related("entered_by"))
                .order_by("received_on", "pk"))


def payment_get(*, user, pk) -> Payment:
    return (_with_reversed(Payment.objects.select_related("entered_by", "contract"))
            .get_visible_or_404(user, pk=pk))


def contract_figures(contract: Contract) -> dict[str, Decimal]:
    """Received so far, balance and the plan's total of one contract (two queries)."""
    received = to_cents(contract.payments.aggregate(total=Sum("amount"))["total"])
    plan_total = to_cents(contract.instalments.aggregate(total=Sum("amount"))["total"])
    return {"received": received, "balance": contract.total - received,
            "plan_total": plan_total}


def allocate_fifo(instalments: list[tuple], paid: Decimal) -> list[Decimal]:
    """What remains unpaid of each instalment when ``paid`` is applied to them in order
    (oldest due first, FIFO): ``instalments`` are ``(due_on, amount)`` in due-date order."""
    left = paid
    unpaid = []
    for _due_on, amount in instalments:
        used = min(max(left, ZERO), amount)
        left -= used
        unpaid.append(amount - used)
    return unpaid


@dataclass
class PlanLine:
    seq: int
    due_on: datetime.date
    amount: Decimal
    note: str
    paid: Decimal
    unpaid: Decimal
    days_overdue: int


def contract_plan(contract: Contract, *, as_of: datetime.date | None = None) -> list[PlanLine]:
    """The contract's instalments with what is paid of each (FIFO) and days overdue."""
    as_of = as_of or timezone.localdate()
    rows = list(contract.instalments.order_by("due_on", "seq"))
    paid = to_cents(contract.payments.filter(received_on__lte=as_of)
                    .aggregate(total=Sum("amount"))["total"])
    unpaid = allocate_fifo([(r.due_on, r.amount) for r in rows], paid)
    return [PlanLine(seq=r.seq, due_on=r.due_on, amount=r.amount, note=r.note,
                     paid=r.amount - u, unpaid=u,
                     days_overdue=max((as_of - r.due_on).days, 0) if u > 0 else 0)
            for r, u in zip(rows, unpaid, strict=True)]


def unit_for_filter(unit) -> Unit | None:
    """The unit a receivables figure is limited to (with everything under it)."""
    if unit in (None, ""):
        return None
    if isinstance(unit, Unit):
        return unit
    found = Unit.objects.filter(pk=unit).first()
    if found is None:
        raise DomainError(_("There is no unit with this id."), field="unit", code="unknown")
    return found


def _in_unit(queryset, unit: Unit | None, owner_path: str):
    if unit is None:
        return queryset
    return queryset.filter(**{f"{owner_path}__unit__path__startswith": unit.path})


def _received_subquery(as_of: datetime.date):
    paid = (Payment.objects.filter(contract=OuterRef("pk"), received_on__lte=as_of)
            .order_by().values("contract").annotate(total=Sum("amount")).values("total"))
    return Coalesce(Subquery(paid, output_field=_MONEY), Value(ZERO), output_field=_MONEY)


def receivable_contracts(*, user, unit=None, as_of: datetime.date | None = None) -> list[dict]:
    """One row per receivable contract in the money scope: its amount, what was received
    by ``as_of`` and the balance. One query."""
    as_of = as_of or timezone.localdate()
    rows = (_in_unit(contract_list(user=user), unit_for_filter(unit), "owner")
            .filter(status__in=RECEIVABLE)
            .annotate(received=_received_subquery(as_of))
            .order_by("pk")
            .values("pk", "number__number", "title", "customer_id", "customer__name",
                    "owner_id", "owner__name", "owner__unit_id", "owner__unit__name",
                    "total", "received"))
    out = []
    for row in rows:
        row["total"], row["received"] = to_cents(row["total"]), to_cents(row["received"])
        row["balance"] = row["total"] - row["received"]
        out.append(row)
    return out


_BALANCE_KEYS = {
    "contract": ("pk", "number__number"), "customer": ("customer_id", "customer__name"),
    "person": ("owner_id", "owner__name"), "unit": ("owner__unit_id", "owner__unit__name"),
}


def receivable_balances(*, user, by: str = "person", unit=None,
                        as_of: datetime.date | None = None) -> list[dict]:
    """Receivable balance (contract amounts − money received) per contract, customer,
    person or unit (the owner's unit), largest first. One query, grouped in one pass."""
    key, name = _BALANCE_KEYS[by]
    groups: dict = {}
    for row in receivable_contracts(user=user, unit=unit, as_of=as_of):
        group = groups.setdefault(row[key], {"id": row[key], "name": row[name], "total": ZERO,
                                             "received": ZERO, "balance": ZERO})
        for field_ in ("total", "received", "balance"):
            group[field_] += row[field_]
    return sorted(groups.values(), key=lambda g: (-g["balance"], str(g["name"])))


@dataclass
class AgingReport:
    as_of: datetime.date
    buckets: dict[str, Decimal]
    not_due: Decimal
    overdue_total: Decimal
    rows: list[dict] = field(default_factory=list)  # per person: their buckets
    overdue: OverdueInstalments | list = field(default_factory=list)  # read when used


def bucket_of(days: int) -> str:
    for key, first, last in AGING_BUCKETS:
        if days >= first and (last is None or days <= last):
            return key
    return AGING_BUCKETS[0][0]


# Aging is computed in the database, FIFO included, so no instalment is read into Python.
# Payments go to a contract's instalments oldest due first (due date, then number), so
# what is unpaid of the instalments due by a day t is
#     U(t) = max(0, S(t) − max(paid, 0))
# with S(t) the running sum of the contract's instalments due by t and ``paid`` what was
# received by ``as_of``; an instalment's unpaid rest is U at it minus U just before it.
# A bucket is U at its later edge minus U at its earlier one, so the buckets need only
# each contract's running sums at the buckets' edges (dates passed as parameters: no date
# arithmetic in SQL); the overdue list needs the running sum at each instalment (a
# window sum). Each amount becomes integer cents before it is summed, so every sum is
# exact on SQLite (which keeps decimals as REAL) as on PostgreSQL.
def _cents(sql: str) -> str:
    return f"CAST(ROUND(({sql}) * 100) AS BIGINT)"


def _yuan(cents) -> Decimal:
    return Decimal(int(cents)).scaleb(-2)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _paid_sql(contract_id: str) -> str:
    """Cents received on the contract ``contract_id`` by the day of the next parameter,
    never below 0 (reversals can take it there for a while; FIFO then pays nothing). A
    subquery per contract: SQLite has no hash join, and this is its fastest way."""
    received = f"SUM({_cents('p.amount')})"
    return (f"(SELECT CASE WHEN {received} > 0 THEN {received} ELSE 0 END"
            f" FROM {_table(Payment)} p"
            f" WHERE p.contract_id = {contract_id} AND p.received_on <= %s)")


def _plan_sql(user, unit: Unit | None, due_before=None) -> tuple[str, tuple] | None:
    """SQL of the instalments of the receivable contracts in the money scope (the owner
    rule of ``visible_to``, as for the instalments themselves; the unit filter), columns
    cid, seq_no, due, amt; None for an empty scope. The contracts are an ``IN`` subquery,
    so the instalments are read (and grouped) in the order of the contract index."""
    contracts = (_in_unit(Contract.objects.visible_to(user), unit, "owner")
                 .filter(status__in=RECEIVABLE).values("pk"))
    rows = PaymentPlan.objects.filter(contract__in=contracts)
    if due_before is not None:
        rows = rows.filter(due_on__lt=due_before)
    rows = rows.order_by().values(cid=F("contract_id"), seq_no=F("seq"), due=F("due_on"),
                                  amt=F("amount"))
    try:
        return rows.query.sql_with_params()
    except EmptyResultSet:
        return None


def _aging_by_owner(plan: tuple[str, tuple], as_of: datetime.date) -> list[tuple]:
    """Per owner: id, name, unit name, then in cents what is unpaid in all and what is
    unpaid of the instalments due by each bucket's edge (``as_of``, 31 days before, …).
    One query: per contract its plan total, what of it falls due after each edge (a sum
    that skips the many instalments due long ago) and what it was paid; then per owner."""
    sql, params = plan
    edges = [as_of - datetime.timedelta(days=first) for _key, first, _last in AGING_BUCKETS]
    after = [f"after{i}" for i in range(len(edges))]
    after_sums = "".join(
        f", COALESCE(SUM({_cents('plan.amt')}) FILTER (WHERE plan.due > %s), 0) AS {name}"
        for name in after)
    due_by = ["total", *(f"total - {name}" for name in after)]  # S(∞), S(edge 0), …
    unpaid = ", ".join(f"SUM(CASE WHEN {s} > paid THEN {s} - paid ELSE 0 END) AS unpaid{i}"
                       for i, s in enumerate(due_by))
    query = f"""
        SELECT o.owner, e.name, u.name, {", ".join(f"o.unpaid{i}" for i in range(len(due_by)))}
        FROM (
            SELECT owner, {unpaid}
            FROM (
                SELECT (SELECT c.owner_id FROM {_table(Contract)} c WHERE c.id = plan.cid)
                           AS owner,
                       SUM({_cents('plan.amt')}) AS total{after_sums},
                       {_paid_sql('plan.cid')} AS paid
                FROM ({sql}) plan
                GROUP BY plan.cid
            ) per
            GROUP BY owner
        ) o
        JOIN {_table(Employee)} e ON e.id = o.owner
        LEFT JOIN {_table(Unit)} u ON u.id = e.unit_id"""
    with connection.cursor() as cursor:
        cursor.execute(query, [*edges, as_of, *params])
        return cursor.fetchall()


def receivables_aging(*, user, unit=None, as_of: datetime.date | None = None) -> AgingReport:
    """Aging of what is due and unpaid on ``as_of``: payments are applied to each
    contract's instalments oldest due first (FIFO); an instalment's unpaid rest that is due
    (``due_on`` ≤ ``as_of``) falls in a bucket by days past due — 0–30, 31–60, 61–90,
    91–180, over 180 (due today is 0 days) — and what is not yet due is ``not_due``.
    ``rows`` gives the buckets per person (the contract's owner); ``overdue`` lists the
    unpaid instalments past due (at least a day late), most overdue first, read a page at
    a time when used (``overdue_instalments``).

    FIFO in SQL via running sums (see above), so the cost does not grow with what Python
    reads: one query plus the scope's. ``allocate_fifo`` is the same rule for one
    contract, in Python."""
    as_of = as_of or timezone.localdate()
    unit = unit_for_filter(unit)
    buckets = {key: ZERO for key, _a, _b in AGING_BUCKETS}
    not_due = ZERO
    people = []
    plan = _plan_sql(user, unit)
    for owner_id, name, unit_name, unpaid, *due in (_aging_by_owner(plan, as_of) if plan
                                                     else []):
        mine = {}
        for i, (key, _first, _last) in enumerate(AGING_BUCKETS):
            mine[key] = _yuan(due[i] - (due[i + 1] if i + 1 < len(due) else 0))
            buckets[key] += mine[key]
        not_due += _yuan(unpaid - due[0])
        if due[0] > 0:
            people.append({"id": owner_id, "name": name, "unit": unit_name, "buckets": mine,
                           "total": _yuan(due[0])})
    return AgingReport(as_of=as_of, buckets=buckets, not_due=not_due,
                       overdue_total=sum(buckets.values(), ZERO),
                       rows=sorted(people, key=lambda p: (-p["total"], p["name"])),
                       overdue=overdue_instalments(user=user, unit=unit, as_of=as_of))


class OverdueInstalments:
    """The unpaid instalments at least a day past due, most overdue first (then by
    contract and instalment), as dicts. Nothing is read until it is used: a slice (a
    page) is one query, which also gives ``count()``; ``count()`` alone is one query;
    iterating (an export) is one query, streamed. A paginator takes it like a queryset."""

    _DETAILS = ("number", "customer_id", "customer", "owner_id", "owner", "owner_number",
                "unit")

    def __init__(self, plan: tuple[str, tuple] | None, as_of: datetime.date):
        self.plan, self.as_of = plan, as_of
        self._count = 0 if plan is None else None

    def _late_sql(self) -> tuple[str, list]:
        """The instalments due before ``as_of`` of the contracts that still owe some of
        them, each with ``ahead``: its running sum less what was paid (> 0: not all paid).
        The window runs only over those contracts' instalments."""
        sql, params = self.plan
        query = f"""
            WITH owed AS (
                SELECT plan.cid AS cid, SUM({_cents('plan.amt')}) AS due,
                       {_paid_sql('plan.cid')} AS paid
                FROM ({sql}) plan
                GROUP BY plan.cid
            ),
            late AS (
                SELECT pp.contract_id AS cid, pp.seq AS seq_no, pp.due_on AS due,
                       {_cents('pp.amount')} AS cents,
                       SUM({_cents('pp.amount')}) OVER (
                           PARTITION BY pp.contract_id ORDER BY pp.due_on, pp.seq
                           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - owed.paid AS ahead
                FROM owed JOIN {_table(PaymentPlan)} pp ON pp.contract_id = owed.cid
                WHERE owed.due > owed.paid AND pp.due_on < %s
            )"""
        return query, [self.as_of, *params, self.as_of]

    def count(self) -> int:
        if self._count is None:
            query, params = self._late_sql()
            with connection.cursor() as cursor:
                cursor.execute(f"{query} SELECT COUNT(*) FROM late WHERE ahead > 0", params)
                self._count = cursor.fetchone()[0]
        return self._count

    __len__ = count

    def _rows(self, limit: int | None = None, offset: int = 0):
        """The rows in order: all of them, or a page (each row then carrying the count of
        all); the names are joined to the page's rows only."""
        query, params = self._late_sql()
        order = "ORDER BY late.due, late.cid, late.seq_no"
        page = "SELECT late.*, 0 AS total FROM late WHERE late.ahead > 0"
        if limit is not None:
            page = (f"SELECT late.*, COUNT(*) OVER () AS total FROM late WHERE late.ahead > 0"
                    f" {order} LIMIT %s OFFSET %s")
            params += [limit, offset]
        query += f"""
            SELECT late.cid, late.seq_no, late.due, late.cents,
                   CASE WHEN late.ahead < late.cents THEN late.ahead ELSE late.cents END,
                   n.number, c.customer_id, cu.name, c.owner_id, e.name, e.number, u.name,
                   late.total
            FROM ({page}) late
            JOIN {_table(Contract)} c ON c.id = late.cid
            JOIN {_table(ContractNumber)} n ON n.id = c.number_id
            JOIN {_table(Customer)} cu ON cu.id = c.customer_id
            JOIN {_table(Employee)} e ON e.id = c.owner_id
            LEFT JOIN {_table(Unit)} u ON u.id = e.unit_id
            {order}"""
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            while rows := cursor.fetchmany(2000):
                yield from rows

    def _row(self, row) -> dict:
        contract_id, seq, due_on, cents, unpaid, *details, _count = row
        if isinstance(due_on, str):  # SQLite gives a subquery's date column as text
            due_on = datetime.date.fromisoformat(due_on)
        days = (self.as_of - due_on).days
        return {"contract_id": contract_id, **dict(zip(self._DETAILS, details, strict=True)),
                "seq": seq, "due_on": due_on, "amount": _yuan(cents), "unpaid": _yuan(unpaid),
                "days_overdue": days, "bucket": bucket_of(days)}

    def __getitem__(self, item):
        if isinstance(item, int):
            found = self[item:item + 1] if item >= 0 else []
            if not found:
                raise IndexError(item)
            return found[0]
        start, stop = item.start or 0, item.stop
        if item.step not in (None, 1) or start < 0 or (stop is not None and stop < 0):
            raise ValueError("Only a plain slice of non-negative bounds is supported.")
        if stop is None:
            return list(self)[start:]
        if self.plan is None or stop <= start:
            return []
        rows = list(self._rows(stop - start, start))
        if rows:
            self._count = rows[0][-1]
        return [self._row(row) for row in rows]

    def __iter__(self):
        if self.plan is not None:
            yield from (self._row(row) for row in self._rows())


def overdue_instalments(*, user, unit=None, as_of: datetime.date | None = None
                        ) -> OverdueInstalments:
    """The unpaid instalments past due on ``as_of`` in the money scope (see
    ``OverdueInstalments``); no query until it is used."""
    as_of = as_of or timezone.localdate()
    return OverdueInstalments(_plan_sql(user, unit_for_filter(unit), due_before=as_of), as_of)


def rate_percent(collected: Decimal, due: Decimal) -> Decimal | None:
    """collected ÷ due × 100, 2 places half up; None with nothing due (the KPI rule)."""
    from bizdept.kpi.measures import measure

    return measure("collection_rate").combine(due, collected)


def collection_rate(*, user, since: datetime.date, until: datetime.date, unit=None) -> dict:
    """Collection rate (回款率) per person and per unit for the period [since, until]:

        collected in the period ÷ due in the period × 100 (%, 2 places)

    where *due* is the sum of the instalments whose due date falls in the period (on
    receivable contracts: signed, being executed or completed) and *collected* is the money
    received in the period on the same person's contracts (net of reversals), whatever
    instalment it pays. Early or late money can take a rate above 100% (or leave it low);
    with nothing due the rate is None. Persons are the contracts' owners; a unit is the
    owner's unit. The per-person sums and the rate (rounded half up) are the KPI library's
    ``collection_rate`` measure (``bizdept.kpi.measures``), read from this user's scope:
    two aggregate queries plus the scope's."""
    if since > until:
        raise DomainError(_("The period ends before it starts."), field="until",
                          code="order")
    unit = unit_for_filter(unit)
    from bizdept.kpi.measures import measure  # the one implementation (PER-1)

    rate = measure("collection_rate")
    keys = ("contract__owner__name", "contract__owner__unit_id", "contract__owner__unit__name")
    found = rate.amounts(
        since=since, until=until, keys=keys,
        due_base=_in_unit(PaymentPlan.objects.visible_to(user), unit, "contract__owner"),
        paid_base=_in_unit(Payment.objects.visible_to(user), unit, "contract__owner"))
    people: dict[int, dict] = {
        person: {"id": person, "name": row["contract__owner__name"],
                 "unit_id": row["contract__owner__unit_id"],
                 "unit": row["contract__owner__unit__name"], "due": row["due"],
                 "collected": row["collected"]}
        for person, row in found.items()}
    units: dict[int, dict] = {}
    for person in people.values():
        group = units.setdefault(person["unit_id"], {"id": person["unit_id"],
                                                     "name": person["unit"], "due": ZERO,
                                                     "collected": ZERO})
        group["due"] += person["due"]
        group["collected"] += person["collected"]
    for row in (*people.values(), *units.values()):
        row["rate"] = rate.combine(row["due"], row["collected"])
    due = sum((p["due"] for p in people.values()), ZERO)
    collected = sum((p["collected"] for p in people.values()), ZERO)
    order = lambda r: (-(r["rate"] if r["rate"] is not None else Decimal(-1)), str(r["name"]))  # noqa: E731
    return {"since": since, "until": until, "due": due, "collected": collected,
            "rate": rate.combine(due, collected),
            "people": sorted(people.values(), key=order),
            "units": sorted(units.values(), key=order)}
# === end of Contracts (SAL-5) and receivables (SAL-6) ===================================


# === Expenses (SAL-7) ===================================================================
from bizdept.core.periods import period_bounds  # noqa: E402

from .models import ExpenseBudget, ExpenseClaim  # noqa: E402


def expense_list(*, user):
    """Claims in the money scope: one's own, a head's subtree, finance the department."""
    return ExpenseClaim.objects.visible_to(user).select_related("employee__unit", "customer")


def my_expenses(*, user):
    me = employee_of(user)
    rows = expense_list(user=user)
    return rows.filter(employee=me) if me is not None else rows.none()


def team_expenses(*, user):
    """Every claim in the money scope: a head's team (their own included), finance's and
    the director's department."""
    return expense_list(user=user)


def expense_get(*, user, pk) -> ExpenseClaim:
    return (ExpenseClaim.objects.select_related("employee__unit", "customer", "paid_by")
            .get_visible_or_404(user, pk=pk))


def expense_find(*, user, pk) -> ExpenseClaim:
    """The claim an action works on (the answer is read again afterwards)."""
    return _first_or_404(ExpenseClaim.objects.visible_to(user).filter(pk=pk))


def budget_list(*, user):
    return ExpenseBudget.objects.visible_to(user).select_related("employee__unit", "set_by")


def budget_people(*, user):
    """Working people in the user's money scope."""
    scope = scope_for(user, Domain.MONEY)
    if scope.nothing:
        return Employee.objects.none()
    return (Employee.objects.filter(scope.q("")).active().select_related("unit")
            .order_by("unit__path", "number"))


@dataclass
class BudgetUse:
    employee: Employee
    budget: Decimal | None
    approved: Decimal
    pending: Decimal

    @property
    def used(self) -> Decimal:
        return self.approved + self.pending

    @property
    def remaining(self) -> Decimal:
        return (self.budget or Decimal("0.00")) - self.used

    @property
    def over(self) -> Decimal:
        return max(self.used - (self.budget or Decimal("0.00")), Decimal("0.00"))

    @property
    def percent(self) -> int:
        """How much of the budget is used, for the bar (0–100; over shows full)."""
        if not self.budget:
            return 100 if self.used else 0
        return min(100, int(self.used * 100 / self.budget))


def budget_use(*, user, period: str, people=None) -> list[BudgetUse]:
    """Per person in the money scope: the period's budget, approved (and paid) and pending
    claims spent in it, what remains and how far over. Three queries, however many.

    The one implementation (PER-1): the budget is the one ``expense_within_budget``
    divides by (a quarter's budget stands for its months; without one, its months'
    budgets add up), "approved" is the ``expenses`` figure, read with the pending claims
    beside it (``spent_and_pending``)."""
    from bizdept.kpi.measures import measure

    since, until = period_bounds(period)
    people = list(people if people is not None else budget_people(user=user))
    ids = [p.pk for p in people]
    budgets = measure("expense_within_budget").budgets(since=since, until=until,
                                                       employee_ids=ids)
    sums = measure("expenses").spent_and_pending(since=since, until=until, employee_ids=ids)
    zero = (Decimal("0.00"), Decimal("0.00"))
    return [BudgetUse(employee=p, budget=budgets.get(p.pk),
                      approved=sums.get(p.pk, zero)[0], pending=sums.get(p.pk, zero)[1])
            for p in people]
# === end of Expenses (SAL-7) ============================================================
