"""Scale data of the sales app (``demo.build_scale_deals``): contracts on gapless numbers,
payment plans adding up to each total, payments never above it, opportunities for the
funnel; and the aging and funnel selectors run on it."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from bizdept.org import demo as org_demo
from bizdept.org.demo import DemoContext
from bizdept.sales import demo, selectors
from bizdept.sales.choices import ContractNumberStatus, ContractStatus
from bizdept.sales.models import (
    Contract,
    ContractLine,
    ContractNumber,
    ContractNumberCounter,
    Opportunity,
    OpportunityStageChange,
    Payment,
    PaymentPlan,
)


@pytest.fixture
def scale_s(db, monkeypatch):
    """Size S people and sales data, on fewer customers (the real S has 5,000)."""
    from bizdept.customers import demo as customers_demo

    monkeypatch.setitem(customers_demo.SCALE, "S", (1_000, 1_000))
    ctx = DemoContext.new()
    org_demo.build_scale(ctx, "S")
    customers_demo.build_scale(ctx, "S")
    demo.build_scale(ctx, "S")
    return ctx


def check_deals_consistent():
    n_contracts, n_payments, n_opportunities = demo.SCALE_DEALS["S"]
    assert Contract.objects.count() == n_contracts
    assert Opportunity.objects.count() == n_opportunities
    assert abs(Payment.objects.count() - n_payments) < n_payments * 0.15
    statuses = dict(Contract.objects.values_list("status").annotate(n=Count("pk")))
    assert set(statuses) == {s.value for s in ContractStatus} - {
        ContractStatus.REPORTED, ContractStatus.APPROVED}
    receivable = sum(statuses[s] for s in selectors.RECEIVABLE)
    assert receivable > n_contracts * 0.85

    # Lines: 1 to 3 products of the catalogue; the total is their sum.
    lines = (Contract.objects.annotate(n=Count("lines"), amount=Sum("lines__amount"))
             .values_list("total", "n", "amount"))
    for total, n, amount in lines:
        assert 1 <= n <= 3 and total == amount > 0
    assert not ContractLine.objects.filter(product__is_active=False).exists()

    # Plans of 1 to 4 instalments, exactly the total; none on drafts.
    plans = (Contract.objects.exclude(status=ContractStatus.DRAFT)
             .annotate(n=Count("instalments"), planned=Sum("instalments__amount"))
             .values_list("total", "n", "planned"))
    for total, n, planned in plans:
        assert 1 <= n <= 4 and planned == total
    assert not PaymentPlan.objects.filter(contract__status=ContractStatus.DRAFT).exists()

    # Payments never above the total; a few reversals, each cancelling a payment.
    over = (Contract.objects.annotate(paid=Sum("payments__amount"))
            .filter(paid__gt=0).values_list("total", "paid", "owner_id", "customer__owner_id"))
    assert len(over) > n_contracts * 0.5
    for total, paid, owner, customer_owner in over:
        assert paid <= total
        assert owner == customer_owner  # the salesperson owning the customer
    reversals = list(Payment.objects.filter(reverses__isnull=False)
                     .values_list("amount", "reverses__amount", "contract_id",
                                  "reverses__contract_id"))
    assert reversals
    for amount, original, contract, original_contract in reversals:
        assert amount == -original < 0 and contract == original_contract
    assert not Payment.objects.filter(received_on__gt=timezone.localdate()).exists()
    late = Payment.objects.filter(reverses__isnull=True).count()
    assert late > 0


def check_numbers_gapless_and_used_once():
    years = ContractNumber.objects.values("year").annotate(
        n=Count("pk"), last=Max("seq")).order_by("year")
    assert len(years) >= 3
    counters = dict(ContractNumberCounter.objects.values_list("year", "last_seq"))
    for row in years:
        assert row["n"] == row["last"] == counters[row["year"]]
    used = ContractNumber.objects.filter(status=ContractNumberStatus.USED)
    assert used.count() == Contract.objects.count()
    assert not ContractNumber.objects.filter(~Q(status=ContractNumberStatus.USED),
                                             contract_id__isnull=False).exists()
    pairs = set(Contract.objects.values_list("pk", "number_id"))
    assert pairs == {(n.contract_id, n.pk) for n in used.only("pk", "contract_id")}
    assert ContractNumber.objects.filter(status__in=[ContractNumberStatus.VOIDED,
                                                     ContractNumberStatus.RETURNED]).exists()
    # Numbers follow the days: a later sequence number is never used earlier.
    for year in counters:
        days = list(ContractNumber.objects.filter(year=year, status=ContractNumberStatus.USED)
                    .order_by("seq").values_list("used_at", flat=True))
        assert days == sorted(days)


def check_aging_and_funnel_run():
    User = get_user_model()
    director = User.objects.get(username="director")
    report = selectors.receivables_aging(user=director)
    assert report.overdue_total > 0 and report.not_due >= 0
    assert report.overdue_total == sum(report.buckets.values(), Decimal("0.00"))
    assert sum((p["total"] for p in report.rows), Decimal("0.00")) == report.overdue_total

    manager = User.objects.get(username="manager1")
    unit = manager.employee.unit
    funnel = selectors.opportunity_funnel(user=manager, unit=unit,
                                          since=datetime.date(timezone.localdate().year, 1, 1))
    assert funnel.total > 0 and funnel.won > 0
    assert funnel.rows[0].reached >= funnel.rows[1].reached
    # Every opportunity has its creation row; closed ones end on their closing stage.
    assert (OpportunityStageChange.objects.filter(old_stage="")
            .values("opportunity").distinct().count() == Opportunity.objects.count())


def test_scale_deals_at_size_s(scale_s):
    """One build (about 10 s), every check on it."""
    check_deals_consistent()
    check_numbers_gapless_and_used_once()
    check_aging_and_funnel_run()
    # Money went to customers graded by hand only: re-grading by the rules changes nothing.
    from bizdept.customers.services import customer_grade_recompute

    assert customer_grade_recompute() == 0
