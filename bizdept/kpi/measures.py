"""The one implementation of every figure people are measured and paid by (TGT-5, PER-1).

A ``Measure`` says what a figure is, reads it for many people in ONE grouped aggregate
query (``per_person``), names the records behind it (``records``) and links to the list
page showing exactly those records (``explain_url``). Tracking, rankings, dashboards and
the appraisal all read figures here; nothing else computes revenue.

The definitions (what people are paid by):

* **revenue** (销售额) — the sum of ``Contract.total`` of the contracts signed in the
  period (``signed_on`` in [since, until]) that stand: signed, being executed or completed
  (``sales.choices.CONTRACT_COUNTED``). Drafts, contracts in approval and approved but
  unsigned ones do not count; a *terminated* contract stops counting (in the period it was
  signed in: terminating a contract lowers that period's revenue). An amendment's new
  amount counts from when it is applied. Attributed to the contract's owner.
* **gross_margin** (毛利) — over the lines of the same contracts: line amount − line cost,
  where the line cost is quantity × unit cost rounded to the cent (half up), as a solution
  line's margin is (``SolutionLine.margin``: amount − ``pricing.line_amount(cost, qty)``).
  Attributed to the contract's owner.
* **collections** (回款) — the sum of ``Payment.amount`` received in the period
  (``received_on``), net: a reversal is a negative entry on the day it was entered as
  received, so a payment reversed in the same period counts nothing. Any contract status
  (money received is received). Attributed to the contract's owner. The same figure as
  "collected" in ``sales.selectors.collection_rate``.
* **new_customers** — customers created in the period (local date of ``created_at`` in
  ``settings.TIME_ZONE``), attributed to their *current* owner (a customer transferred
  since counts for whoever owns it now; one in the public pool counts for nobody).
* **visits** — visits, calls and meetings logged (``Visit``) with ``visited_at`` in the
  period, local dates (from local midnight of ``since`` to local midnight after
  ``until``), by the person who made them.
* **expenses** — approved or paid expense claims (``sales.choices.EXPENSE_SPENT``) spent
  in the period (``spent_on``), by the claimant. Lower is better.

Money is summed in whole cents (integers) in SQL, so a sum is exact on SQLite (which keeps
decimals as REAL) as on PostgreSQL, and returned as ``Decimal`` with 2 places; counts are
whole numbers (``Decimal`` with 0 places, so every figure has one type).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django.db.models import BigIntegerField, Count, F, QuerySet, Sum, Value
from django.db.models.functions import Cast, Round
from django.urls import get_script_prefix, reverse
from django.utils import timezone

from bizdept.org.scope import Domain
from bizdept.targets.choices import Metric

MONEY = "money"
COUNT = "count"
MANY_PEOPLE = 200  # see Measure.scan_period_for_many
_INT = BigIntegerField()


def _cents(expression) -> Cast:
    """A decimal column as whole cents (exact integer arithmetic on both backends)."""
    return Cast(Round(expression * Value(100)), _INT)


def local_day_start(day: datetime.date) -> datetime.datetime:
    """Local midnight (settings.TIME_ZONE) at the start of ``day``, as an aware datetime."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min),
                               timezone.get_default_timezone())


def local_range(since: datetime.date, until: datetime.date):
    """[local midnight of since, local midnight after until) — the events of those days."""
    return local_day_start(since), local_day_start(until + datetime.timedelta(days=1))


@lru_cache(maxsize=64)
def _reverse(url_name: str, args: tuple, prefix: str) -> str:
    return reverse(url_name, args=args)


def _url(url_name: str, *args) -> str:
    """``reverse`` once per page and prefix: a tracking table links thousands of figures."""
    return _reverse(url_name, args, get_script_prefix())


@lru_cache(maxsize=256)
def _encoded(items: tuple) -> str:
    return urlencode(items)


def _ids(employee_ids):
    """``employee_ids`` as something ``__in`` takes: a list, a set or a values() queryset."""
    if employee_ids is None or isinstance(employee_ids, QuerySet):
        return employee_ids
    return list(employee_ids)


@dataclass(frozen=True)
class Measure:
    code: str
    label: Any
    unit: str  # MONEY or COUNT
    places: int  # 2 for money, 0 for counts
    higher_is_better: bool
    # Whose scope the records follow (contracts, payments, claims: money; the rest: sales).
    domain: str
    person_field: str  # path from a record to the Employee it counts for

    # --- what each measure defines --------------------------------------------------
    def records(self, *, since: datetime.date, until: datetime.date,
                employee_ids=None) -> QuerySet:
        """The records behind the number ("explain this number")."""
        raise NotImplementedError

    def total_expression(self):
        """The SQL aggregate of the records, in whole base units (cents or counts)."""
        raise NotImplementedError

    scale = 100  # base units per displayed unit (cents per yuan; 1 for counts)

    def explain_url(self, *, since: datetime.date, until: datetime.date, employee=None,
                    unit=None) -> str:
        raise NotImplementedError

    # --- shared -------------------------------------------------------------------------
    # For many people, read the whole period and keep theirs, when the period's records
    # are found faster by date than by person (payments are reached from their contracts'
    # owners; customers by owner have no date index). Same answer either way.
    scan_period_for_many = False

    def per_person(self, *, since: datetime.date, until: datetime.date,
                   employee_ids=None) -> dict[int, Decimal]:
        """{employee id: value} for the period, ONE grouped aggregate query; people with
        no records are absent (their value is 0). ``employee_ids`` limits the people
        (None: everyone)."""
        keep = None
        if (self.scan_period_for_many and employee_ids is not None
                and not isinstance(employee_ids, QuerySet)):
            employee_ids = set(employee_ids)
            if len(employee_ids) > MANY_PEOPLE:
                keep, employee_ids = employee_ids, None
        rows = (self._grouped(since=since, until=until, employee_ids=employee_ids)
                .annotate(total=self.total_expression()))
        return {person: self.to_value(total) for person, total in rows
                if person is not None and (keep is None or person in keep)}

    def _grouped(self, *, since, until, employee_ids):
        return (self.records(since=since, until=until, employee_ids=employee_ids)
                .order_by().values_list(self.person_field))

    def total(self, *, since: datetime.date, until: datetime.date, employee_ids=None
              ) -> Decimal:
        """The figure for everyone (or ``employee_ids``) together, one aggregate query."""
        found = (self.records(since=since, until=until, employee_ids=employee_ids)
                 .order_by().aggregate(total=self.total_expression()))["total"]
        return self.to_value(found)

    def to_value(self, raw) -> Decimal:
        """An aggregate read back from the database (int, Decimal or None) as the figure."""
        if raw is None:
            raw = 0
        value = Decimal(int(raw)) / self.scale if self.scale != 1 else Decimal(int(raw))
        return value.quantize(Decimal(1).scaleb(-self.places))

    @property
    def zero(self) -> Decimal:
        return Decimal(0).quantize(Decimal(1).scaleb(-self.places))

    def _who(self, employee_ids, field: str | None = None) -> dict:
        ids = _ids(employee_ids)
        return {} if ids is None else {f"{field or self.person_field}__in": ids}

    def _link(self, url_name: str, params: dict, *, employee=None, unit=None,
              person_param: str = "owner", args: tuple = ()) -> str:
        # The fixed part is encoded once (a table links thousands of figures); ids are
        # whole numbers and need no quoting.
        link = f"{_url(url_name, *args)}?{_encoded(tuple(params.items()))}"
        if employee is not None:
            link += f"&{person_param}={int(getattr(employee, 'pk', employee))}"
        if unit is not None:
            link += f"&unit={int(getattr(unit, 'pk', unit))}"
        return link

    def _records_link(self, since, until, employee=None, unit=None) -> str:
        """The tracking's own list of the records (for records without a list page)."""
        return self._link("targets:records", {"since": since.isoformat(),
                                              "until": until.isoformat()},
                          employee=employee, unit=unit, person_param="employee",
                          args=(self.code,))


class _Revenue(Measure):
    def records(self, *, since, until, employee_ids=None):
        from bizdept.sales.choices import CONTRACT_COUNTED
        from bizdept.sales.models import Contract

        return Contract.objects.filter(status__in=CONTRACT_COUNTED, signed_on__gte=since,
                                       signed_on__lte=until, **self._who(employee_ids,
                                                                         "owner_id"))

    def total_expression(self):
        return Sum(_cents(F("total")))

    def explain_url(self, *, since, until, employee=None, unit=None):
        return self._link("sales:contract_list", {
            "signed_from": since.isoformat(), "signed_to": until.isoformat(),
            "counted": "true"}, employee=employee, unit=unit)


class _GrossMargin(_Revenue):
    def records(self, *, since, until, employee_ids=None):
        """The lines of the counted contracts (the contracts are ``contracts``)."""
        from bizdept.sales.models import ContractLine

        return ContractLine.objects.filter(contract__in=self.contracts(
            since=since, until=until, employee_ids=employee_ids).values("pk"))

    def contracts(self, *, since, until, employee_ids=None):
        return super().records(since=since, until=until, employee_ids=employee_ids)

    def _grouped(self, *, since, until, employee_ids):
        # Joined rather than IN (subquery): one pass over the contracts of the period.
        from bizdept.sales.choices import CONTRACT_COUNTED
        from bizdept.sales.models import ContractLine

        return (ContractLine.objects.filter(
            contract__status__in=CONTRACT_COUNTED, contract__signed_on__gte=since,
            contract__signed_on__lte=until, **self._who(employee_ids, "contract__owner_id"))
            .order_by().values_list("contract__owner_id"))

    def total_expression(self):
        # amount (cents) − round_half_up(quantity × unit cost) (cents), line by line, in
        # integers: (q·100 × c·100 + 50) div 100 is the cost rounded half up to the cent.
        cost_units = _cents(F("quantity")) * _cents(F("unit_cost"))
        cost_cents = (cost_units + Value(50)) / Value(100)
        return Sum(_cents(F("amount")) - cost_cents, output_field=_INT)


class _Collections(Measure):
    scan_period_for_many = True
    def records(self, *, since, until, employee_ids=None):
        from bizdept.sales.models import Payment

        return Payment.objects.filter(received_on__gte=since, received_on__lte=until,
                                      **self._who(employee_ids))

    def total_expression(self):
        return Sum(_cents(F("amount")))

    def explain_url(self, *, since, until, employee=None, unit=None):
        return self._records_link(since, until, employee, unit)


class _NewCustomers(Measure):
    scale = 1
    scan_period_for_many = True

    def records(self, *, since, until, employee_ids=None):
        from bizdept.customers.models import Customer

        start, end = local_range(since, until)
        return Customer.objects.filter(created_at__gte=start, created_at__lt=end,
                                       owner__isnull=False, **self._who(employee_ids))

    def total_expression(self):
        return Count("pk")

    def explain_url(self, *, since, until, employee=None, unit=None):
        return self._link("customers:customer_list", {
            "created_from": since.isoformat(), "created_to": until.isoformat(),
            "pool": "false"}, employee=employee, unit=unit)


class _Visits(Measure):
    scale = 1

    def records(self, *, since, until, employee_ids=None):
        from bizdept.customers.models import Visit

        start, end = local_range(since, until)
        return Visit.objects.filter(visited_at__gte=start, visited_at__lt=end,
                                    **self._who(employee_ids))

    def total_expression(self):
        return Count("pk")

    def explain_url(self, *, since, until, employee=None, unit=None):
        return self._records_link(since, until, employee, unit)


class _Expenses(Measure):
    scan_period_for_many = True
    def records(self, *, since, until, employee_ids=None):
        from bizdept.sales.choices import EXPENSE_SPENT
        from bizdept.sales.models import ExpenseClaim

        return ExpenseClaim.objects.filter(status__in=EXPENSE_SPENT, spent_on__gte=since,
                                           spent_on__lte=until, **self._who(employee_ids))

    def total_expression(self):
        return Sum(_cents(F("amount")))

    def explain_url(self, *, since, until, employee=None, unit=None):
        return self._link("sales:expense_team", {
            "spent_from": since.isoformat(), "spent_to": until.isoformat(), "spent": "true"},
            employee=employee, unit=unit, person_param="employee")


MEASURES: dict[str, Measure] = {m.code: m for m in (
    _Revenue(Metric.REVENUE.value, Metric.REVENUE.label, MONEY, 2, True, Domain.MONEY,
             "owner_id"),
    _GrossMargin(Metric.GROSS_MARGIN.value, Metric.GROSS_MARGIN.label, MONEY, 2, True,
                 Domain.MONEY, "contract__owner_id"),
    _Collections(Metric.COLLECTIONS.value, Metric.COLLECTIONS.label, MONEY, 2, True,
                 Domain.MONEY, "contract__owner_id"),
    _NewCustomers(Metric.NEW_CUSTOMERS.value, Metric.NEW_CUSTOMERS.label, COUNT, 0, True,
                  Domain.SALES, "owner_id"),
    _Visits(Metric.VISITS.value, Metric.VISITS.label, COUNT, 0, True, Domain.SALES,
            "employee_id"),
    _Expenses(Metric.EXPENSES.value, Metric.EXPENSES.label, MONEY, 2, False, Domain.MONEY,
              "employee_id"),
)}


def measure(code: str) -> Measure:
    """The measure of a metric code (``KeyError`` for an unknown one)."""
    return MEASURES[str(code)]


__all__ = ["MEASURES", "Measure", "measure", "MONEY", "COUNT", "local_range",
           "local_day_start"]
