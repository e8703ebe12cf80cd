"""Every read of customers and their field work; each starts from the scope rule (ORG-4)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as _field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from bizdept.org.choices import EmployeeStatus, RoleCode
from bizdept.org.models import Employee
from bizdept.org.scope import Domain, employee_of, scope_for

from .choices import COMPLAINT_PENDING
from .models import (
    Complaint,
    Contact,
    Customer,
    CustomerSettings,
    GradeRule,
    MarketReport,
    OwnerChange,
    Survey,
    Visit,
)

# --- money received: the input of grading (CUS-3) -------------------------------------
# A source answers {customer id: money received between since and until}. The sales app
# registers its payments here when it is installed; grading sums every registered source.
InflowSource = Callable[[list[int], datetime.date, datetime.date], dict[int, Decimal]]
INFLOW_SOURCES: list[InflowSource] = []


CENT = Decimal("0.01")


def register_inflow_source(source: InflowSource) -> InflowSource:
    if source not in INFLOW_SOURCES:
        INFLOW_SOURCES.append(source)
    return source


def unregister_inflow_source(source: InflowSource) -> None:
    """Forget a source (an app being unloaded, a test's fake source); unknown ones are fine."""
    if source in INFLOW_SOURCES:
        INFLOW_SOURCES.remove(source)


def grading_window(as_of: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The last 12 months up to and including ``as_of``: from the day after the same date a
    year earlier (2025-07-01..2026-06-30; for 29 February, from 1 March)."""
    try:
        year_ago = as_of.replace(year=as_of.year - 1)
    except ValueError:  # 29 February: a year earlier there is no such day
        year_ago = as_of.replace(year=as_of.year - 1, day=28)
    return year_ago + datetime.timedelta(days=1), as_of


def money_received(customer_ids: Iterable[int], *, since: datetime.date,
                   until: datetime.date) -> dict[int, Decimal]:
    """Money received from each customer in [since, until], from every registered source
    (one aggregate query per source, whatever the number of customers).

    Totals are rounded to the cent (ROUND_HALF_UP): SQLite sums money as REAL, and
    299999.99999997 must not miss a 300000 threshold. A source may answer floats or
    strings; they are read through ``str`` so no binary fraction creeps in.
    """
    ids = list(customer_ids)
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for source in INFLOW_SOURCES:
        for customer_id, amount in source(ids, since, until).items():
            totals[customer_id] += Decimal(str(amount or 0))
    return {customer_id: totals.get(customer_id, Decimal("0")).quantize(CENT, ROUND_HALF_UP)
            for customer_id in ids}


def grade_rules() -> list[GradeRule]:
    return list(GradeRule.objects.order_by("-min_received"))


# --- customers -----------------------------------------------------------------------
def customer_list(*, user):
    return Customer.objects.visible_to(user).select_related("owner__unit")


def customer_get(*, user, pk) -> Customer:
    return (Customer.objects.select_related("owner__unit")
            .prefetch_related("collaborators")
            .get_visible_or_404(user, pk=pk))


def pool_list(*, user):
    """The public pool (CUS-6): customers nobody owns, oldest in the pool first."""
    return customer_list(user=user).in_pool().order_by("pooled_at", "pk")


def revisits_overdue(*, user, today: datetime.date | None = None, mine_only: bool = False):
    """Customers whose revisit is due by today (CUS-4): the owner's own, or for a head
    everything in their subtree (the scope rule does the rolling up)."""
    today = today or timezone.localdate()
    rows = customer_list(user=user).filter(owner__isnull=False, next_revisit_on__lte=today)
    if mine_only:
        me = employee_of(user)
        rows = rows.filter(owner=me) if me else rows.none()
    return rows.order_by("next_revisit_on", "pk")


def duplicate_of(*, name_key: str, credit_code: str = "", phones: Iterable[str] = (),
                 exclude_pk: int | None = None) -> tuple[Customer, str] | None:
    """The existing customer a new one would duplicate (CUS-5), and on what, or None.

    Each test is one lookup on a unique or plain index, so it stays one round trip per
    key at a million customers. It deliberately ignores scope: a duplicate is a duplicate
    whoever owns it (callers only ever show its owner's name and unit). The same rule as
    a batch of rows checks (``duplicate_index``), for one row.
    """
    phones = [p for p in phones if p]
    index = duplicate_index(credit_codes=[credit_code] if credit_code else [],
                            name_keys=[name_key] if name_key else [], phones=phones)
    return index.match(name_key=name_key, credit_code=credit_code, phones=phones,
                       exclude_pk=exclude_pk)


@dataclass
class DuplicateIndex:
    """The existing customers that some candidate keys hit (CUS-5), from one query per key
    kind; ``match`` applies the rule to one candidate: credit code first, then name, then
    phone (a customer's own, then any customer's contact)."""

    by_credit_code: dict[str, Customer] = _field(default_factory=dict)
    by_name_key: dict[str, Customer] = _field(default_factory=dict)
    by_phone: dict[str, list[Customer]] = _field(default_factory=dict)
    by_contact_phone: dict[str, list[Customer]] = _field(default_factory=dict)

    def match(self, *, name_key: str, credit_code: str = "", phones: Iterable[str] = (),
              exclude_pk: int | None = None) -> tuple[Customer, str] | None:
        def other(customer):
            return customer is not None and customer.pk != exclude_pk

        found = self.by_credit_code.get(credit_code) if credit_code else None
        if other(found):
            return found, "credit_code"
        found = self.by_name_key.get(name_key) if name_key else None
        if other(found):
            return found, "name"
        phones = [p for p in phones if p]
        for table in (self.by_phone, self.by_contact_phone):
            for phone in phones:
                for customer in table.get(phone, ()):
                    if other(customer):
                        return customer, "phone"
        return None


def duplicate_index(*, credit_codes: Iterable[str] = (), name_keys: Iterable[str] = (),
                    phones: Iterable[str] = ()) -> DuplicateIndex:
    """Existing customers by the keys of many candidates at once: at most four queries
    (credit codes, names, customers' phones, contacts' phones) however many candidates."""
    base = Customer.objects.select_related("owner__unit").order_by("-created_at", "-pk")
    index = DuplicateIndex()
    credit_codes = sorted({c for c in credit_codes if c})
    name_keys = sorted({k for k in name_keys if k})
    phones = sorted({p for p in phones if p})
    if credit_codes:
        # The unique index on credit codes is partial (WHERE credit_code <> ''): SQLite
        # uses it only when the query repeats that condition, else it scans every customer
        # (EXPLAIN QUERY PLAN; bench/duplicates.py checks it).
        index.by_credit_code = {c.credit_code: c for c in base.filter(credit_code__in=credit_codes)
                                .exclude(credit_code="")}
    if name_keys:
        index.by_name_key = {c.name_key: c for c in base.filter(name_key__in=name_keys)}
    if phones:
        for customer in base.filter(phone__in=phones):
            index.by_phone.setdefault(customer.phone, []).append(customer)
        wanted = set(phones)
        for contact in (Contact.objects.select_related("customer__owner__unit")
                        .filter(Q(phone__in=phones) | Q(mobile__in=phones))
                        .order_by("-created_at", "-pk")):
            for phone in {contact.phone, contact.mobile} & wanted:
                index.by_contact_phone.setdefault(phone, []).append(contact.customer)
    return index


# --- contacts, visits, history -------------------------------------------------------
def contact_list(*, user):
    return Contact.objects.visible_to(user).select_related("customer")


def contact_get(*, user, pk) -> Contact:
    return Contact.objects.select_related("customer").get_visible_or_404(user, pk=pk)


def visit_list(*, user):
    return (Visit.objects.visible_to(user)
            .select_related("customer", "employee", "contact", "coach"))


def visit_get(*, user, pk) -> Visit:
    return (Visit.objects.select_related("customer", "employee", "contact", "coach")
            .get_visible_or_404(user, pk=pk))


def owner_changes(customer: Customer):
    return (OwnerChange.objects.filter(customer=customer)
            .select_related("from_owner", "to_owner", "by"))



# --- the customer's timeline (CUS-8): visits, complaints, surveys, owner changes, edits --
# Derived fields, and the owner (its changes are on the timeline as owner changes).
TIMELINE_QUIET_FIELDS = {"last_followup_at", "next_revisit_on", "graded_at", "pooled_at",
                         "owner"}


def customer_timeline(customer: Customer, *, limit: int = 100) -> list[dict]:
    """One list, newest first, from a constant number of queries (one per kind)."""
    from bizdept.core.history import history_entries

    items: list[dict] = []
    for visit in (customer.visits.select_related("employee", "contact", "coach")
                  .order_by("-visited_at")[:limit]):
        items.append({"when": visit.visited_at, "type": "visit", "object": visit})
    for complaint in customer.complaints.select_related("handler").order_by("-received_at")[:limit]:
        items.append({"when": complaint.received_at, "type": "complaint", "object": complaint})
    for survey in customer.surveys.select_related("surveyed_by").order_by("-surveyed_on")[:limit]:
        when = timezone.make_aware(datetime.datetime.combine(survey.surveyed_on,
                                                             datetime.time(12)))
        items.append({"when": when, "type": "survey", "object": survey})
    for change in owner_changes(customer)[:limit]:
        items.append({"when": change.at, "type": "owner", "object": change})
    for entry in history_entries(customer, limit=limit):
        # Fields the system derives (follow-up, revisit date, grade time) are not news.
        entry.changes = [c for c in entry.changes if c.name not in TIMELINE_QUIET_FIELDS]
        if entry.changes:
            items.append({"when": entry.when, "type": "edit", "object": entry})
    items.sort(key=lambda item: item["when"], reverse=True)
    return items[:limit]


# --- field reports (CUS-8: 每日1-2次汇报) ----------------------------------------------
# A field report is a visit, call or meeting a salesperson logs: the record of their day
# in the field. Each working day (``core.calendar``) every active salesperson owes
# ``CustomerSettings.daily_reports_required`` of them; a day with fewer is flagged to
# the heads above them, who see it through the scope rule like every sales record.
FIELD_REPORT_MAX_DAYS = 62


def field_report_minimum() -> int:
    return CustomerSettings.current().daily_reports_required


@dataclass(frozen=True)
class FieldDay:
    employee: Employee
    day: datetime.date
    reports: int
    required: int

    @property
    def missed(self) -> bool:
        return self.reports < self.required


def field_reports(*, user, since: datetime.date, until: datetime.date,
                  missed_only: bool = False, employee: Employee | None = None,
                  required: int | None = None) -> list[FieldDay]:
    """Per salesperson in the user's sales scope and per working day in [since, until]
    (days after today are not owed yet; nor days before a hire or after a leave): how
    many reports they logged against the minimum. Four queries, whatever the number of
    people and days: settings, calendar, people, one grouped count of visits."""
    from bizdept.core.calendar import working_days

    if required is None:
        required = field_report_minimum()
    until = min(until, timezone.localdate())
    if missed_only and required == 0:
        return []
    days = working_days(since, until)
    if not days:
        return []
    people = Employee.objects.filter(scope_for(user, Domain.SALES).q(""))
    if employee is not None:
        people = people.filter(pk=employee.pk)
    people = list(
        people
        .filter(roles__code=RoleCode.SALES, hire_date__lte=until)
        .exclude(leave_date__lt=since).exclude(status=EmployeeStatus.LEFT)
        .select_related("unit").order_by("unit__path", "number"))
    if not people:
        return []
    zone = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.datetime.combine(days[0], datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(
        days[-1] + datetime.timedelta(days=1), datetime.time.min))
    counts = {
        (row["employee_id"], row["day"]): row["n"]
        for row in Visit.objects.filter(employee__in=[p.pk for p in people],
                                        visited_at__gte=start, visited_at__lt=end)
        .annotate(day=TruncDate("visited_at", tzinfo=zone))
        .values("employee_id", "day").annotate(n=Count("pk")).order_by()
    }
    rows = []
    for person in people:
        for day in days:
            if day < person.hire_date or (person.leave_date and day > person.leave_date):
                continue
            row = FieldDay(person, day, counts.get((person.pk, day), 0), required)
            if row.missed or not missed_only:
                rows.append(row)
    return rows


def field_reports_for_my_day(*, user, head: bool) -> tuple[FieldDay | None, list[FieldDay]]:
    """What "My day" shows (CUS-8): my own count today (None if I owe none) and, for a
    head, the days their people missed in the last seven days before today. One call."""
    me = employee_of(user)
    if me is None:
        return None, []
    today = timezone.localdate()
    if head:
        rows = field_reports(user=user, since=today - datetime.timedelta(days=7), until=today)
    else:
        rows = field_reports(user=user, since=today, until=today, employee=me)
    mine = next((r for r in rows if r.employee.pk == me.pk and r.day == today), None)
    return mine, [r for r in rows if r.missed and r.day < today]


# --- complaints, surveys, market intelligence (CUS-9..11) ----------------------------
def complaint_list(*, user):
    return (Complaint.objects.visible_to(user)
            .select_related("customer", "handler__unit", "escalated_to"))


def complaint_get(*, user, pk) -> Complaint:
    return (Complaint.objects.select_related("customer__owner", "handler__unit",
                                             "escalated_to__unit")
            .get_visible_or_404(user, pk=pk))


def complaints_overdue(user, *, now: datetime.datetime | None = None):
    """Complaints still being worked on past their deadline, most overdue first."""
    now = now or timezone.now()
    return (complaint_list(user=user)
            .filter(status__in=COMPLAINT_PENDING, deadline_at__lt=now)
            .order_by("deadline_at", "pk"))


def survey_list(*, user):
    return Survey.objects.visible_to(user).select_related("customer", "surveyed_by")


def survey_get(*, user, pk) -> Survey:
    return (Survey.objects.select_related("customer__owner__unit", "surveyed_by")
            .get_visible_or_404(user, pk=pk))


def survey_averages(queryset) -> dict:
    """Average score per dimension (2 places, ROUND_HALF_UP) and how many surveys, in one
    aggregate query; the averages are None when there is no survey."""
    found = queryset.order_by().aggregate(service=Avg("service"), delivery=Avg("delivery"),
                                          product=Avg("product"), count=Count("pk"))

    def rounded(value):
        return None if value is None else Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)

    return {"service": rounded(found["service"]), "delivery": rounded(found["delivery"]),
            "product": rounded(found["product"]), "count": found["count"]}


def market_report_list(*, user):
    return MarketReport.objects.visible_to(user).select_related("reporter", "customer")


def market_report_get(*, user, pk) -> MarketReport:
    return (MarketReport.objects.select_related("reporter__unit", "customer")
            .get_visible_or_404(user, pk=pk))
