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

These six are the target-plan metrics (``MEASURES``, one per ``targets.choices.Metric``:
what plans set and the tracking pages offer). The other PER-1 figures — collection rate,
average daily visits, customer count, satisfaction, complaint resolution, expenses against
budget, revenue growth year on year, market share (against the market sizes entered per
region and year, ``kpi.MarketSize``), product mix (against the planned mix of the year,
``kpi.PlannedMix``), and the figures of a unit's head: staff turnover and team pass rate
— are defined further down, each in its docstring; ``KPIS`` holds all of them and
``measure(code)`` finds any. The ``/kpi/`` page lists them with their definitions.

Money is summed in whole cents (integers) in SQL, so a sum is exact on SQLite (which keeps
decimals as REAL) as on PostgreSQL, and returned as ``Decimal`` with 2 places; counts are
whole numbers (``Decimal`` with 0 places, so every figure has one type).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django.db.models import BigIntegerField, Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Round
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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


def _months_between(since: datetime.date, until: datetime.date) -> list[str]:
    months, year, month = [], since.year, since.month
    while (year, month) <= (until.year, until.month):
        months.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


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

    def per_person_by(self, *, since: datetime.date, until: datetime.date,
                      employee_ids=None, **keys) -> dict[tuple, Decimal]:
        """``per_person`` split further: {(employee id, key values…): value}, ONE grouped
        aggregate query on the same records and aggregate. ``keys`` maps a name to a field
        path of the record (``region="customer__region"``) or an expression
        (``year=ExtractYear("signed_on")``)."""
        names, expressions = [], {}
        for name, key in keys.items():
            if isinstance(key, str):
                names.append(key)
            else:
                expressions[f"_by_{name}"] = key
                names.append(f"_by_{name}")
        rows = (self.records(since=since, until=until, employee_ids=employee_ids).order_by()
                .annotate(**expressions).values_list(self.person_field, *names)
                .annotate(_total=self.total_expression()))
        return {tuple(row[:-1]): self.to_value(row[-1]) for row in rows
                if row[0] is not None}

    # The field of a record that dates it (a date, or a moment counted on its local day);
    # measures that have none (rates, averages) are computed month by month.
    date_field = ""
    date_is_moment = False

    def per_month(self, *, since: datetime.date, until: datetime.date,
                  employee_ids=None) -> dict[str, Decimal]:
        """{"2026-01": value, …} over [since, until] for ``employee_ids`` (None: everyone)
        together, in ONE grouped query on the measure's own records and aggregate, grouped
        by the day (a moment: the local month) the records count on. Months without
        records are absent. Measures without a ``date_field``: one ``total`` per month."""
        from django.db.models import F
        from django.db.models.functions import TruncMonth

        from bizdept.core.periods import month_of, period_bounds

        if not self.date_field:
            out = {}
            for month in _months_between(since, until):
                first, last = period_bounds(month)
                out[month] = self.total(since=max(first, since), until=min(last, until),
                                        employee_ids=employee_ids)
            return out
        bucket = TruncMonth(self.date_field) if self.date_is_moment else F(self.date_field)
        rows = (self.records(since=since, until=until, employee_ids=employee_ids).order_by()
                .annotate(bucket=bucket).values("bucket")
                .annotate(total=self.total_expression()).values_list("bucket", "total"))
        raw: dict[str, int] = {}
        for day, total in rows:
            key = month_of(day)
            raw[key] = raw.get(key, 0) + int(total or 0)  # base units (cents, counts): exact
        return {month: self.to_value(total) for month, total in raw.items()}

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
    date_field = "signed_on"

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
    date_field = "contract__signed_on"

    def records(self, *, since, until, employee_ids=None):
        """The lines of the counted contracts (the contracts are ``contracts``)."""
        from bizdept.sales.models import ContractLine

        return ContractLine.objects.filter(contract__in=self.contracts(
            since=since, until=until, employee_ids=employee_ids).values("pk"))

    def contracts(self, *, since, until, employee_ids=None):
        return super().records(since=since, until=until, employee_ids=employee_ids)

    def lines(self, *, since, until, employee_ids=None) -> QuerySet:
        """The same lines as ``records``, joined to their contracts rather than selected
        with IN (subquery): one pass over the contracts of the period, for grouping."""
        from bizdept.sales.choices import CONTRACT_COUNTED
        from bizdept.sales.models import ContractLine

        return ContractLine.objects.filter(
            contract__status__in=CONTRACT_COUNTED, contract__signed_on__gte=since,
            contract__signed_on__lte=until,
            **self._who(employee_ids, "contract__owner_id")).order_by()

    def _grouped(self, *, since, until, employee_ids):
        return (self.lines(since=since, until=until, employee_ids=employee_ids)
                .values_list("contract__owner_id"))

    def total_expression(self):
        # amount (cents) − round_half_up(quantity × unit cost) (cents), line by line, in
        # integers: (q·100 × c·100 + 50) div 100 is the cost rounded half up to the cent.
        cost_units = _cents(F("quantity")) * _cents(F("unit_cost"))
        cost_cents = (cost_units + Value(50)) / Value(100)
        return Sum(_cents(F("amount")) - cost_cents, output_field=_INT)


class _Collections(Measure):
    scan_period_for_many = True
    date_field = "received_on"

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

    date_field = "created_at"
    date_is_moment = True

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

    date_field = "visited_at"
    date_is_moment = True

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
    date_field = "spent_on"

    def records(self, *, since, until, employee_ids=None):
        from bizdept.sales.choices import EXPENSE_SPENT
        from bizdept.sales.models import ExpenseClaim

        return ExpenseClaim.objects.filter(status__in=EXPENSE_SPENT, spent_on__gte=since,
                                           spent_on__lte=until, **self._who(employee_ids))

    def total_expression(self):
        return Sum(_cents(F("amount")))

    def spent_and_pending(self, *, since, until, employee_ids=None
                          ) -> dict[int, tuple[Decimal, Decimal]]:
        """{claimant id: (spent, pending)} in ONE grouped query: *spent* is this measure
        (approved or paid claims spent in the period), *pending* the claims of the period
        still in approval (``sales.choices.EXPENSE_PENDING``: not yet spending, shown
        beside it by the budget page). People with neither are absent."""
        from bizdept.sales.choices import EXPENSE_PENDING, EXPENSE_SPENT
        from bizdept.sales.models import ExpenseClaim

        cents = _cents(F("amount"))
        rows = (ExpenseClaim.objects.filter(
            status__in=EXPENSE_SPENT | EXPENSE_PENDING, spent_on__gte=since,
            spent_on__lte=until, **self._who(employee_ids)).order_by()
            .values_list(self.person_field)
            .annotate(spent=Sum(cents, filter=Q(status__in=EXPENSE_SPENT)),
                      pending=Sum(cents, filter=Q(status__in=EXPENSE_PENDING))))
        return {person: (self.to_value(spent), self.to_value(pending))
                for person, spent, pending in rows}

    def explain_url(self, *, since, until, employee=None, unit=None):
        return self._link("sales:expense_team", {
            "spent_from": since.isoformat(), "spent_to": until.isoformat(), "spent": "true"},
            employee=employee, unit=unit, person_param="employee")


# --- PER-1 figures beyond the plan metrics ---------------------------------------------
# Rates and averages: a person with nothing to divide by has no value (absent from
# ``per_person``, ``None`` from ``total``) rather than 0, so a ranking or a scorecard can
# tell "nothing due" from "nothing collected". Each reads in a constant number of queries
# (1–3) whatever the number of people. None of them is a target-plan metric: they are in
# ``KPIS``, not in ``MEASURES`` (which the tracking pages and the plans offer).
PERCENT = "percent"
SCORE = "score"
PER_DAY = "per_day"
_HUNDRED = Decimal(100)


def _ratio(numerator, denominator, places: int, factor=1) -> Decimal | None:
    """numerator × factor ÷ denominator, rounded half up; None when denominator ≤ 0."""
    if denominator is None or denominator <= 0:
        return None
    return (Decimal(numerator) * factor / Decimal(denominator)).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def achievement(actual, target) -> Decimal | None:
    """Achievement (达成率) in %: actual ÷ target × 100, 2 places, half up; None without a
    target. The one definition: tracking, rankings and appraisal lines all show this."""
    return _ratio(actual, target, 2, 100)


def _cents_value(raw) -> Decimal:
    return (Decimal(int(raw or 0)) / 100).quantize(Decimal("0.01"))


def a_year_earlier(day: datetime.date) -> datetime.date:
    """The same day a year earlier (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


class _Derived(Measure):
    """A figure computed from sums read per person (a rate, an average): ``parts`` reads
    them (1–3 queries), ``combine`` makes the figure (None: no value)."""

    def parts(self, *, since, until, employee_ids=None) -> dict[int, tuple]:
        raise NotImplementedError

    def combine(self, *parts) -> Decimal | None:
        raise NotImplementedError

    def per_person(self, *, since, until, employee_ids=None) -> dict[int, Decimal]:
        """{employee id: value}; people without a value (nothing to divide by) are absent."""
        found = self.parts(since=since, until=until, employee_ids=employee_ids)
        values = {person: self.combine(*row) for person, row in found.items()
                  if person is not None}
        return {person: value for person, value in values.items() if value is not None}

    def total(self, *, since, until, employee_ids=None) -> Decimal | None:
        """The figure for everyone (or ``employee_ids``) together; None without a value."""
        found = self.parts(since=since, until=until, employee_ids=employee_ids).values()
        if not found:
            return self.combine(*self.empty_parts())
        return self.combine(*(sum(column) for column in zip(*found, strict=True)))

    def empty_parts(self) -> tuple:
        raise NotImplementedError


class _CollectionRate(_Derived):
    """**collection_rate** (回款率) — collected in the period ÷ due in the period × 100 (%,
    2 places, half up), on the person's contracts (the contract's owner):

    * *due*: the instalments (``PaymentPlan``) whose ``due_on`` falls in the period, on
      receivable contracts (signed, being executed or completed:
      ``sales.choices.CONTRACT_COUNTED``);
    * *collected*: the money received in the period (``Payment.received_on``) on the
      person's contracts, net of reversals, whatever instalment it pays (the
      **collections** figure).

    Early or late money can take the rate above 100% (or leave it low). With nothing due
    there is no rate (absent; ``total`` gives None). Two grouped queries. The one
    implementation: ``sales.selectors.collection_rate`` reads its per-person sums here."""

    def due_records(self, *, since, until, employee_ids=None, base=None) -> QuerySet:
        from bizdept.sales.choices import CONTRACT_COUNTED
        from bizdept.sales.models import PaymentPlan

        base = PaymentPlan.objects.all() if base is None else base
        return base.filter(contract__status__in=CONTRACT_COUNTED, due_on__gte=since,
                           due_on__lte=until, **self._who(employee_ids))

    def records(self, *, since, until, employee_ids=None, base=None) -> QuerySet:
        """The payments collected (the instalments due are ``due_records``)."""
        from bizdept.sales.models import Payment

        base = Payment.objects.all() if base is None else base
        return base.filter(received_on__gte=since, received_on__lte=until,
                           **self._who(employee_ids))

    def amounts(self, *, since, until, employee_ids=None, due_base=None, paid_base=None,
                keys: tuple[str, ...] = ()) -> dict[int, dict]:
        """{owner id: {"due", "collected" (Decimal, 2 places), and ``keys`` (values of
        the owner's row, e.g. ``contract__owner__name``)}}; two grouped queries. The bases
        (default: every row) let a page start from its scope."""
        fields = (self.person_field, *keys)
        out: dict[int, dict] = {}
        for name, rows in (
                ("due", self.due_records(since=since, until=until, employee_ids=employee_ids,
                                         base=due_base)),
                ("collected", self.records(since=since, until=until,
                                           employee_ids=employee_ids, base=paid_base))):
            for row in (rows.order_by().values(*fields)
                        .annotate(_total=Sum(_cents(F("amount"))))):
                person = out.setdefault(row[self.person_field], {
                    **{k: row[k] for k in keys}, "due": Decimal("0.00"),
                    "collected": Decimal("0.00")})
                person[name] += _cents_value(row["_total"])
        return out

    def parts(self, *, since, until, employee_ids=None):
        return {person: (row["due"], row["collected"]) for person, row in self.amounts(
            since=since, until=until, employee_ids=employee_ids).items()}

    def empty_parts(self):
        return (Decimal(0), Decimal(0))

    def combine(self, due, collected):
        return _ratio(collected, due, self.places, _HUNDRED)

    def explain_url(self, *, since, until, employee=None, unit=None):
        # The collection page lists each owner's due and collected (per unit, not person).
        return self._link("sales:receivables_collection", {
            "since": since.isoformat(), "until": until.isoformat()}, unit=unit)


class _AvgDailyVisits(_Derived):
    """**avg_daily_visits** — the person's **visits** in the period ÷ the working days of
    the period (``core.calendar.working_days``: Monday–Friday, less Chinese public holidays,
    plus make-up working days), 2 places, half up. People with no visit are absent (0); a
    period with no working day gives no value at all. Two queries (visits, calendar)."""

    def records(self, *, since, until, employee_ids=None):
        return MEASURES["visits"].records(since=since, until=until, employee_ids=employee_ids)

    def parts(self, *, since, until, employee_ids=None):
        from bizdept.core.calendar import working_days

        counts = MEASURES["visits"].per_person(since=since, until=until,
                                               employee_ids=employee_ids)
        days = Decimal(len(working_days(since, until)))
        return {person: (count, days) for person, count in counts.items()}

    def total(self, *, since, until, employee_ids=None):
        """All the visits ÷ the working days (the department's visits per working day)."""
        from bizdept.core.calendar import working_days

        count = MEASURES["visits"].total(since=since, until=until, employee_ids=employee_ids)
        return self.combine(count, Decimal(len(working_days(since, until))))

    def combine(self, count, days):
        return _ratio(count, days, self.places)

    def explain_url(self, *, since, until, employee=None, unit=None):
        return MEASURES["visits"].explain_url(since=since, until=until, employee=employee,
                                              unit=unit)


class _CustomerCount(Measure):
    """**customer_count** — the customers the person owns at the end of the period:
    created by then (``created_at`` before local midnight after ``until``) and owned by
    the person *today*. Simplification: ownership history is not replayed, so a customer
    transferred since counts for its new owner, one put in the public pool since counts
    for nobody, and one claimed since counts for whoever claimed it. One grouped query."""

    scale = 1

    def records(self, *, since, until, employee_ids=None):
        from bizdept.customers.models import Customer

        _start, end = local_range(since, until)
        return Customer.objects.filter(created_at__lt=end, owner__isnull=False,
                                       **self._who(employee_ids))

    def total_expression(self):
        return Count("pk")

    def explain_url(self, *, since, until, employee=None, unit=None):
        return self._link("customers:customer_list", {
            "created_to": until.isoformat(), "pool": "false"}, employee=employee, unit=unit)


class _Satisfaction(_Derived):
    """**satisfaction** (客户满意度) — the average overall score (1–5, 2 places, half up) of
    the satisfaction surveys (``customers.Survey``) surveyed in the period
    (``surveyed_on``), of the customers the person owns today. A survey's overall score is
    the mean of its three dimensions (service, delivery, product), so the figure is
    Σ(service + delivery + product) ÷ (3 × surveys). No survey: no value. One query."""

    def records(self, *, since, until, employee_ids=None):
        from bizdept.customers.models import Survey

        return Survey.objects.filter(surveyed_on__gte=since, surveyed_on__lte=until,
                                     **self._who(employee_ids))

    def parts(self, *, since, until, employee_ids=None):
        rows = (self.records(since=since, until=until, employee_ids=employee_ids)
                .order_by().values_list(self.person_field)
                .annotate(points=Sum(F("service") + F("delivery") + F("product")),
                          surveys=Count("pk")))
        return {person: (points or 0, surveys) for person, points, surveys in rows}

    def empty_parts(self):
        return (0, 0)

    def combine(self, points, surveys):
        return _ratio(points, 3 * surveys, self.places)

    def explain_url(self, *, since, until, employee=None, unit=None):
        return self._link("customers:survey_list", {}, unit=unit)


class _ComplaintResolution(_Derived):
    """**complaint_resolution** — of the complaints due in the period (``deadline_at`` on a
    local date in [since, until]) that the person handles (``Complaint.handler``: the one
    answerable for the deadline, whether or not the customer is theirs), the share resolved
    in time (``resolved_at`` set and not after ``deadline_at``), in %, 2 places, half up.
    A complaint resolved late or not yet resolved counts against; escalation does not move
    it to the head. Nothing due: no value. One query."""

    def records(self, *, since, until, employee_ids=None):
        from bizdept.customers.models import Complaint

        start, end = local_range(since, until)
        return Complaint.objects.filter(deadline_at__gte=start, deadline_at__lt=end,
                                        **self._who(employee_ids))

    def parts(self, *, since, until, employee_ids=None):
        in_time = Q(resolved_at__isnull=False, resolved_at__lte=F("deadline_at"))
        rows = (self.records(since=since, until=until, employee_ids=employee_ids)
                .order_by().values_list(self.person_field)
                .annotate(in_time=Count("pk", filter=in_time), due=Count("pk")))
        return {person: (in_time, due) for person, in_time, due in rows}

    def empty_parts(self):
        return (0, 0)

    def combine(self, in_time, due):
        return _ratio(in_time, due, self.places, _HUNDRED)

    def explain_url(self, *, since, until, employee=None, unit=None):
        return self._link("customers:complaint_list", {}, employee=employee, unit=unit,
                          person_param="handler")


class _ExpenseWithinBudget(_Derived):
    """**expense_within_budget** — the person's **expenses** in the period ÷ their expense
    budget for it × 100 (%, 2 places, half up; lower is better, above 100 is over budget).

    The budget for [since, until] is the sum of the person's ``ExpenseBudget`` rows whose
    period (``2026-07`` or ``2026-Q3``) lies wholly in it; where a person has a quarter's
    budget, their monthly budgets inside that quarter are not added again (the quarter's
    stands). A period shorter than a budget's (half a month) has no budget. No budget (or
    a zero one): no value; ``total`` is the spending of the people with a budget over
    their budgets. Two queries (budgets, then those people's expenses)."""

    def records(self, *, since, until, employee_ids=None):
        return MEASURES["expenses"].records(since=since, until=until,
                                            employee_ids=employee_ids)

    @staticmethod
    def budget_periods(since, until) -> tuple[list[str], dict[str, str]]:
        """The months and quarters wholly inside [since, until] and {month: its quarter}."""
        from bizdept.core.periods import period_bounds

        months, quarter_of = [], {}
        year, month = since.year, since.month
        while (year, month) <= (until.year, until.month):
            label = f"{year}-{month:02d}"
            start, end = period_bounds(label)
            if since <= start and end <= until:
                months.append(label)
                quarter_of[label] = f"{year}-Q{(month - 1) // 3 + 1}"
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        quarters = []
        for quarter in dict.fromkeys(quarter_of.values()):
            start, end = period_bounds(quarter)
            if since <= start and end <= until:
                quarters.append(quarter)
        return months + quarters, quarter_of

    def budgets(self, *, since, until, employee_ids=None) -> dict[int, Decimal]:
        from bizdept.sales.models import ExpenseBudget

        periods, quarter_of = self.budget_periods(since, until)
        if not periods:
            return {}
        rows = (ExpenseBudget.objects.filter(period__in=periods, **self._who(employee_ids))
                .order_by().values_list("employee_id", "period", _cents(F("amount"))))
        by_person: dict[int, dict[str, int]] = {}
        for person, period, cents in rows:
            by_person.setdefault(person, {})[period] = int(cents)
        out = {}
        for person, found in by_person.items():
            cents = sum(amount for period, amount in found.items()
                        if quarter_of.get(period) not in found)
            out[person] = _cents_value(cents)
        return out

    def parts(self, *, since, until, employee_ids=None):
        budgets = self.budgets(since=since, until=until, employee_ids=employee_ids)
        if not budgets:
            return {}
        spent = MEASURES["expenses"].per_person(since=since, until=until,
                                                employee_ids=list(budgets))
        return {person: (spent.get(person, Decimal("0.00")), budget)
                for person, budget in budgets.items()}

    def empty_parts(self):
        return (Decimal(0), Decimal(0))

    def combine(self, spent, budget):
        return _ratio(spent, budget, self.places, _HUNDRED)

    def explain_url(self, *, since, until, employee=None, unit=None):
        return MEASURES["expenses"].explain_url(since=since, until=until, employee=employee,
                                                unit=unit)


class _YoyRevenueGrowth(_Derived):
    """**yoy_revenue_growth** (同比增长) — (the person's **revenue** in the period − their
    revenue in the same period a year earlier) ÷ the latter × 100 (%, 2 places, half up).
    The earlier period is [since, until] each moved back one year (29 February → 28).
    No revenue a year earlier (or a negative one): no value; none now but some then:
    −100. Two queries (the revenue measure, twice)."""

    def records(self, *, since, until, employee_ids=None):
        return MEASURES["revenue"].records(since=since, until=until, employee_ids=employee_ids)

    def parts(self, *, since, until, employee_ids=None):
        revenue = MEASURES["revenue"]
        now = revenue.per_person(since=since, until=until, employee_ids=employee_ids)
        before = revenue.per_person(since=a_year_earlier(since), until=a_year_earlier(until),
                                    employee_ids=employee_ids)
        zero = revenue.zero
        return {person: (now.get(person, zero), before.get(person, zero))
                for person in {*now, *before}}

    def empty_parts(self):
        return (Decimal(0), Decimal(0))

    def combine(self, now, before):
        return _ratio(now - before, before, self.places, _HUNDRED)

    def explain_url(self, *, since, until, employee=None, unit=None):
        return MEASURES["revenue"].explain_url(since=since, until=until, employee=employee,
                                               unit=unit)


class _MarketShare(_Derived):
    """**market_share** (市场占有率) — the person's **revenue** in the regions with a
    market size ÷ the market size of those regions, prorated to the period, × 100 (%,
    2 places, half up).

    A counted contract (the **revenue** records) counts when its customer's region
    (``Customer.region``) has a market size (``kpi.MarketSize``) for the year it was
    signed in; the denominator is the sum, over the (region, year) pairs in which the
    person has such revenue, of size × (days of the period inside that year ÷ days of that
    year). A region where the person sold nothing in the period adds nothing to either
    side; contracts of customers without a region, or in a region without a size, count
    for neither. No market size applies: no value. ``total`` is the department's share:
    all that revenue ÷ the prorated sizes of the (region, year) pairs anybody sold in.
    Two queries (market sizes, then revenue per person, region and year, read by the
    revenue measure)."""

    def records(self, *, since, until, employee_ids=None):
        """The revenue contracts whose customer's region has a size for the signing year."""
        from django.db.models import Exists, OuterRef
        from django.db.models.functions import ExtractYear

        from bizdept.kpi.models import MarketSize

        sized = MarketSize.objects.filter(region=OuterRef("customer__region"),
                                          year=ExtractYear(OuterRef("signed_on")))
        return MEASURES["revenue"].records(since=since, until=until,
                                           employee_ids=employee_ids).filter(Exists(sized))

    @staticmethod
    def year_fractions(since, until) -> dict[int, Decimal]:
        """{year: the share of that year's days inside [since, until]}."""
        out = {}
        for year in range(since.year, until.year + 1):
            first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
            inside = (min(until, last) - max(since, first)).days + 1
            if inside > 0:
                out[year] = Decimal(inside) / Decimal((last - first).days + 1)
        return out

    def sizes(self, *, since, until) -> dict[tuple[str, int], Decimal]:
        """{(region, year): the market size prorated to the part of the period in that
        year} for the years the period touches; one query."""
        from bizdept.kpi.models import MarketSize

        fractions = self.year_fractions(since, until)
        rows = (MarketSize.objects.filter(year__in=list(fractions)).order_by()
                .values_list("region", "year", "size"))
        return {(region, year): Decimal(size) * fractions[year]
                for region, year, size in rows}

    def _sold(self, *, since, until, employee_ids):
        """(prorated sizes, {(person, region, year): revenue}); revenue is read only
        when some size applies."""
        from django.db.models.functions import ExtractYear

        sizes = self.sizes(since=since, until=until)
        if not sizes:
            return sizes, {}
        revenue = MEASURES["revenue"].per_person_by(
            since=since, until=until, employee_ids=employee_ids, region="customer__region",
            year=ExtractYear("signed_on"))
        return sizes, {key: value for key, value in revenue.items()
                       if (key[1], int(key[2])) in sizes}

    def parts(self, *, since, until, employee_ids=None):
        sizes, sold = self._sold(since=since, until=until, employee_ids=employee_ids)
        out: dict[int, tuple[Decimal, Decimal]] = {}
        for (person, region, year), revenue in sold.items():
            found, size = out.get(person, (Decimal(0), Decimal(0)))
            out[person] = (found + revenue, size + sizes[(region, int(year))])
        return out

    def total(self, *, since, until, employee_ids=None):
        sizes, sold = self._sold(since=since, until=until, employee_ids=employee_ids)
        revenue = sum(sold.values(), Decimal(0))
        markets = {(region, int(year)) for _person, region, year in sold}
        return self.combine(revenue, sum((sizes[m] for m in markets), Decimal(0)))

    def empty_parts(self):
        return (Decimal(0), Decimal(0))

    def combine(self, revenue, size):
        return _ratio(revenue, size, self.places, _HUNDRED)

    def explain_url(self, *, since, until, employee=None, unit=None):
        # The contract list has no region filter: it shows all the revenue contracts, the
        # ones counted here are those whose customer's region has a market size.
        return MEASURES["revenue"].explain_url(since=since, until=until, employee=employee,
                                               unit=unit)


class _ProductMix(_Derived):
    """**product_mix** (产品比例) — how closely the person's sales follow the planned product
    mix of the year, in % (2 places, half up): 100 − ½ × Σ over categories of |actual
    share − planned share|, shares in %. 100 is exactly the plan; 0 is sales wholly
    outside it.

    *Actual share* of a category: its contract-line amounts ÷ all the line amounts, over
    the lines of the person's counted contracts of the period (the **gross_margin**
    lines: the contracts **revenue** counts). Categories are *top-level*: a line counts
    for the root ancestor of its product's category (the category itself when it has no
    parent); the planned mix (``kpi.PlannedMix``) names top-level categories (a planned
    category that has since been moved under another counts for its root). *Planned
    share*: the year's planned percent (0 for a category without one). The plan is the
    one of the year the period lies in; a period spanning two years, a year without a
    plan, or no sales (line amounts summing to 0): no value. ``total``: the lines of
    everyone (or ``employee_ids``) together. Three queries (plan, categories, lines per
    person and category)."""

    def records(self, *, since, until, employee_ids=None):
        return MEASURES["gross_margin"].records(since=since, until=until,
                                                employee_ids=employee_ids)

    @staticmethod
    def category_roots() -> dict[int, int]:
        """{category id: the id of its top-level ancestor (itself at the top)}; one query."""
        from bizdept.sales.models import ProductCategory

        parent = dict(ProductCategory.objects.order_by().values_list("pk", "parent_id"))
        roots = {}
        for category in parent:
            root, seen = category, {category}
            while parent.get(root) is not None and parent[root] not in seen:
                root = parent[root]
                seen.add(root)
            roots[category] = root
        return roots

    def _read(self, *, since, until, employee_ids):
        """(planned {root: percent}, {person: {root: cents}}); empty when no plan."""
        from bizdept.kpi.models import PlannedMix

        if since.year != until.year:
            return {}, {}
        planned = list(PlannedMix.objects.filter(year=since.year).order_by()
                       .values_list("category_id", "percent"))
        if not planned:
            return {}, {}
        roots = self.category_roots()
        plan: dict[int, Decimal] = {}
        for category, percent in planned:
            root = roots.get(category, category)
            plan[root] = plan.get(root, Decimal(0)) + Decimal(percent)
        rows = (MEASURES["gross_margin"].lines(since=since, until=until,
                                               employee_ids=employee_ids)
                .values_list("contract__owner_id", "product__category_id")
                .annotate(cents=Sum(_cents(F("amount")))))
        sold: dict[int, dict[int, int]] = {}
        for person, category, cents in rows:
            root = roots.get(category, category)
            mine = sold.setdefault(person, {})
            mine[root] = mine.get(root, 0) + int(cents or 0)
        return plan, sold

    def parts(self, *, since, until, employee_ids=None):
        plan, sold = self._read(since=since, until=until, employee_ids=employee_ids)
        return {person: (amounts, plan) for person, amounts in sold.items()}

    def total(self, *, since, until, employee_ids=None):
        plan, sold = self._read(since=since, until=until, employee_ids=employee_ids)
        together: dict[int, int] = {}
        for amounts in sold.values():
            for root, cents in amounts.items():
                together[root] = together.get(root, 0) + cents
        return self.combine(together, plan)

    def empty_parts(self):
        return ({}, {})

    def combine(self, amounts: dict, plan: dict):
        whole = sum(amounts.values())
        if not plan or whole <= 0:
            return None
        gap = sum((abs(Decimal(amounts.get(c, 0)) * _HUNDRED / whole - plan.get(c, 0))
                   for c in {*amounts, *plan}), Decimal(0))
        return (_HUNDRED - gap / 2).quantize(Decimal(1).scaleb(-self.places),
                                             rounding=ROUND_HALF_UP)

    def explain_url(self, *, since, until, employee=None, unit=None):
        return MEASURES["revenue"].explain_url(since=since, until=until, employee=employee,
                                               unit=unit)


def _id_set(employee_ids) -> set[int] | None:
    if employee_ids is None:
        return None
    if isinstance(employee_ids, QuerySet):  # values("pk"), values_list("pk"[, flat]), rows
        out = set()
        for row in employee_ids:
            if isinstance(row, dict):
                row = next(iter(row.values()))
            elif isinstance(row, tuple):
                row = row[0]
            out.add(getattr(row, "pk", row))
        return out
    return set(employee_ids)


class _HeadedUnits(_Derived):
    """A figure of the people under the units a person heads (``org.Unit.head``): their
    *subtree* is every unit whose path starts with the path of a unit they head (the
    small unit table is read once, in one query); the person themselves is left out.
    People heading nothing have no value. ``total`` (and ``records``) for ``employee_ids``:
    the union of their subtrees, those heads left out; for everyone (None): every unit,
    nobody left out. Reads: the unit table, then one grouped query on the records per
    (unit, head-or-not)."""

    def subtrees(self, employee_ids=None) -> dict[int, set[int]]:
        """{head id: the ids of the units in their subtree}, for the heads among
        ``employee_ids`` (None: every head)."""
        from bizdept.org.models import Unit

        wanted = _id_set(employee_ids)
        units = list(Unit.objects.order_by().values_list("pk", "path", "head_id"))
        headed = {pk: head for pk, _path, head in units
                  if head is not None and (wanted is None or head in wanted)}
        out: dict[int, set[int]] = {}
        if not headed:
            return out
        for pk, path, _head in units:
            for ancestor in (int(part) for part in path.strip("/").split("/") if part):
                head = headed.get(ancestor)
                if head is not None:
                    out.setdefault(head, set()).add(pk)
        return out

    # The records: a queryset of rows with a unit (``unit_field``) and a person
    # (``who_field``), counted by ``counts`` (two named aggregates: numerator, denominator).
    unit_field = "unit_id"
    who_field = "pk"

    def base(self, *, since, until):
        raise NotImplementedError

    def counts(self, *, since, until) -> dict:
        raise NotImplementedError

    def _rows(self, *, since, until, subtrees, everyone: bool):
        from django.db.models import Case, IntegerField, When

        heads = list(subtrees)
        rows = self.base(since=since, until=until)
        if not everyone:
            rows = rows.filter(**{f"{self.unit_field}__in": sorted(set().union(
                *subtrees.values()))})
        return list(rows.order_by().annotate(
            _who=Case(When(**{f"{self.who_field}__in": heads}, then=F(self.who_field)),
                      default=Value(None), output_field=IntegerField()))
            .values_list(self.unit_field, "_who").annotate(**self.counts(since=since,
                                                                        until=until)))

    def parts(self, *, since, until, employee_ids=None):
        subtrees = self.subtrees(employee_ids)
        if not subtrees:
            return {}
        by_unit: dict[int, list[tuple]] = {}
        for unit, who, top, bottom in self._rows(since=since, until=until, subtrees=subtrees,
                                                 everyone=employee_ids is None):
            by_unit.setdefault(unit, []).append((who, top, bottom))
        out = {}
        for head, units in subtrees.items():
            top = bottom = 0
            for unit in units:
                for who, a, b in by_unit.get(unit, ()):
                    if who != head:
                        top, bottom = top + a, bottom + b
            out[head] = (top, bottom)
        return out

    def total(self, *, since, until, employee_ids=None):
        everyone = employee_ids is None
        subtrees = self.subtrees(employee_ids)
        if not subtrees:
            return None
        top = bottom = 0
        for _unit, who, a, b in self._rows(since=since, until=until, subtrees=subtrees,
                                           everyone=everyone):
            if everyone or who is None:
                top, bottom = top + a, bottom + b
        return self.combine(top, bottom)

    def records(self, *, since, until, employee_ids=None):
        rows = self.base(since=since, until=until).filter(self.counted(since=since,
                                                                       until=until))
        if employee_ids is None:
            return rows
        subtrees = self.subtrees(employee_ids)
        units = sorted(set().union(*subtrees.values())) if subtrees else []
        return rows.filter(**{f"{self.unit_field}__in": units}).exclude(
            **{f"{self.who_field}__in": list(subtrees)})

    def counted(self, *, since, until) -> Q:
        """Which of ``base`` are the records behind the figure (the numerator's)."""
        raise NotImplementedError

    def empty_parts(self):
        return (0, 0)

    def combine(self, top, bottom):
        return _ratio(top, bottom, self.places, _HUNDRED)

    def _head_unit(self, employee) -> int | None:
        from bizdept.org.models import Unit

        return (Unit.objects.filter(head_id=int(getattr(employee, "pk", employee)))
                .order_by("depth", "pk").values_list("pk", flat=True).first())

    def explain_url(self, *, since, until, employee=None, unit=None):
        if unit is None and employee is not None:
            unit = self._head_unit(employee)
        return self._link("org:employee_list", self.explain_params, unit=unit)

    explain_params: dict = {}


class _StaffTurnover(_HeadedUnits):
    """**staff_turnover** (团队成员流失率) — for a person heading units, the leavers of their
    subtree ÷ its headcount at the start of the period × 100 (%, 2 places, half up; lower
    is better).

    *Leavers*: employees of the subtree's units marked left (status ``left``) whose
    ``leave_date`` is in [since, until]. *Headcount at the start*: employees of those
    units hired on or before ``since`` and not left before it (no ``leave_date``, or one
    on or after ``since``). The unit is the employee's unit *now* (a left employee keeps
    the unit they left from); moves between units are not replayed. The head is left out
    of both. Nobody at the start: no value (someone hired and gone within the period
    still counts as a leaver when there is a headcount). Two queries."""

    who_field = "pk"
    explain_params = {"status": "left"}

    def base(self, *, since, until):
        from bizdept.org.models import Employee

        return Employee.objects.filter(self.counted(since=since, until=until)
                                       | self._at_start(since))

    @staticmethod
    def _at_start(since) -> Q:
        return Q(hire_date__lte=since) & (Q(leave_date__isnull=True)
                                          | Q(leave_date__gte=since))

    def counted(self, *, since, until) -> Q:
        from bizdept.org.choices import EmployeeStatus

        return Q(status=EmployeeStatus.LEFT, leave_date__gte=since, leave_date__lte=until)

    def counts(self, *, since, until):
        return {"left": Count("pk", filter=self.counted(since=since, until=until)),
                "at_start": Count("pk", filter=self._at_start(since))}


class _TeamPassRate(_HeadedUnits):
    """**team_pass_rate** (团队绩效达标率) — for a person heading units, the share of the
    appraisals of the people of their subtree graded C or better (S, A, B, C: 合格及以上)
    × 100 (%, 2 places, half up).

    The appraisals counted: those of *approved* appraisal cycles whose period lies within
    [since, until] (cycle ``since`` ≥ since and cycle ``until`` ≤ until), with a final
    grade (S–D; an appraisal without a grade counts for neither side), of the people
    whose unit *at the cycle's opening* (``Appraisal.unit``) is in the subtree; the head's
    own appraisal is left out. No such appraisal: no value. Two queries."""

    who_field = "employee_id"
    unit_field = "unit_id"

    def base(self, *, since, until):
        from bizdept.appraisal.choices import GRADES, CycleStatus
        from bizdept.appraisal.models import Appraisal

        return Appraisal.objects.filter(cycle__status=CycleStatus.APPROVED,
                                        cycle__since__gte=since, cycle__until__lte=until,
                                        grade__in=GRADES)

    def counted(self, *, since, until) -> Q:
        from bizdept.appraisal.choices import PASS_GRADES

        return Q(grade__in=PASS_GRADES)

    def counts(self, *, since, until):
        return {"passed": Count("pk", filter=self.counted(since=since, until=until)),
                "graded": Count("pk")}

    def records(self, *, since, until, employee_ids=None):
        """All the graded appraisals counted (passed or not: the denominator's)."""
        rows = self.base(since=since, until=until)
        if employee_ids is None:
            return rows
        subtrees = self.subtrees(employee_ids)
        units = sorted(set().union(*subtrees.values())) if subtrees else []
        return rows.filter(unit_id__in=units).exclude(employee_id__in=list(subtrees))


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


# Every PER-1 figure whose records exist: the plan metrics and the ones above. Not yet:
# training completion (needs training plans, DEV-1).
KPIS: dict[str, Measure] = {**MEASURES, **{m.code: m for m in (
    _CollectionRate("collection_rate", _("Collection rate"), PERCENT, 2, True, Domain.MONEY,
                    "contract__owner_id"),
    _AvgDailyVisits("avg_daily_visits", _("Average daily visits"), PER_DAY, 2, True,
                    Domain.SALES, "employee_id"),
    _CustomerCount("customer_count", _("Customers owned"), COUNT, 0, True, Domain.SALES,
                   "owner_id"),
    _Satisfaction("satisfaction", _("Customer satisfaction"), SCORE, 2, True, Domain.SALES,
                  "customer__owner_id"),
    _ComplaintResolution("complaint_resolution", _("Complaints resolved in time"), PERCENT,
                         2, True, Domain.SALES, "handler_id"),
    _ExpenseWithinBudget("expense_within_budget", _("Expenses against budget"), PERCENT, 2,
                         False, Domain.MONEY, "employee_id"),
    _YoyRevenueGrowth("yoy_revenue_growth", _("Revenue growth year on year"), PERCENT, 2,
                      True, Domain.MONEY, "owner_id"),
    _MarketShare("market_share", _("Market share"), PERCENT, 2, True, Domain.MONEY,
                 "owner_id"),
    _ProductMix("product_mix", _("Product mix against plan"), PERCENT, 2, True,
                Domain.MONEY, "contract__owner_id"),
    # Unit figures: the person is the head of the units (records are other people's).
    _StaffTurnover("staff_turnover", _("Staff turnover"), PERCENT, 2, False, Domain.PEOPLE,
                   "unit__head_id"),
    _TeamPassRate("team_pass_rate", _("Team appraisal pass rate"), PERCENT, 2, True,
                  Domain.PEOPLE, "unit__head_id"),
)}}


def measure(code: str) -> Measure:
    """The measure of a KPI code, plan metric or not (``KeyError`` for an unknown one)."""
    return KPIS[str(code)]


__all__ = ["KPIS", "MEASURES", "Measure", "measure", "achievement", "MONEY", "COUNT",
           "PERCENT", "SCORE", "PER_DAY", "local_range", "local_day_start", "a_year_earlier"]
