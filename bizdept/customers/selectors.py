"""Every read of customers and their field work; each starts from the scope rule (ORG-4)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils import timezone

from bizdept.org.scope import employee_of

from .models import Contact, Customer, GradeRule, OwnerChange, Visit

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
    whoever owns it (callers only ever show its owner's name and unit).
    """
    base = Customer.objects.select_related("owner__unit")
    if exclude_pk:
        base = base.exclude(pk=exclude_pk)
    if credit_code:
        found = base.filter(credit_code=credit_code).first()
        if found:
            return found, "credit_code"
    if name_key:
        found = base.filter(name_key=name_key).first()
        if found:
            return found, "name"
    phones = [p for p in phones if p]
    if phones:
        found = base.filter(phone__in=phones).first()
        if found:
            return found, "phone"
        contact = (Contact.objects.select_related("customer__owner__unit")
                   .filter(Q(phone__in=phones) | Q(mobile__in=phones)))
        if exclude_pk:
            contact = contact.exclude(customer_id=exclude_pk)
        contact = contact.first()
        if contact:
            return contact.customer, "phone"
    return None


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
