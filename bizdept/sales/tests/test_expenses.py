"""Expenses (SAL-7, 费用控制在计划内): budgets per person and period, claims through the
approval engine, over budget recorded at submission and shown to the approver, paid by
finance only, money scope, budget use in a constant number of queries."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bizdept.approvals.demo import ensure_default_policies
from bizdept.approvals.selectors import document_history
from bizdept.core.errors import DomainError
from bizdept.core.periods import month_of, period_bounds, quarter_of
from bizdept.sales import selectors, services
from bizdept.sales.choices import ExpenseStatus

from .factories import decide, make_claim

TODAY = timezone.localdate()
MONTH = month_of(TODAY)
FIRST = TODAY.replace(day=1)


@pytest.fixture(autouse=True)
def policies(db):
    ensure_default_policies()


def test_periods_are_months_or_quarters():
    assert period_bounds("2026-02") == (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))
    assert period_bounds("2026-Q3") == (datetime.date(2026, 7, 1), datetime.date(2026, 9, 30))
    assert quarter_of(datetime.date(2026, 11, 5)) == "2026-Q4"
    for bad in ("2026-13", "2026-Q5", "26-01", "2026-1", "", "1999-01"):
        with pytest.raises(DomainError) as exc:
            period_bounds(bad)
        assert "period" in exc.value.errors


def test_who_sets_budgets(dept):
    services.expense_budget_set(by=dept.lead.user, employee=dept.sales, period=MONTH,
                                amount="3000")
    services.expense_budget_set(by=dept.finance.user, employee=dept.other_sales, period=MONTH,
                                amount="2000")
    budget = services.expense_budget_set(by=dept.director.user, employee=dept.sales,
                                         period=MONTH, amount="3500")
    assert budget.amount == Decimal("3500.00") and budget.set_by == dept.director
    for by, whom in ((dept.sales, dept.sales), (dept.lead, dept.lead),
                     (dept.lead, dept.other_sales), (dept.hr, dept.sales)):
        with pytest.raises(PermissionDenied):
            services.expense_budget_set(by=by.user, employee=whom, period=MONTH, amount=1)


def test_a_claim_within_budget_is_approved_and_paid_by_finance(dept):
    services.expense_budget_set(by=dept.lead.user, employee=dept.sales, period=MONTH,
                                amount="1000")
    claim = make_claim(dept.sales, amount="400.00", spent_on=TODAY)
    claim = services.expense_claim_submit(claim=claim, by=dept.sales.user)
    assert claim.status == ExpenseStatus.SUBMITTED and claim.over_budget_by == 0
    assert claim.budget_period == MONTH
    with pytest.raises(DomainError) as exc:
        services.expense_claim_update(claim=claim, by=dept.sales.user, amount="1")
    assert "status" in exc.value.errors
    decide(claim)
    claim.refresh_from_db()
    assert claim.status == ExpenseStatus.APPROVED and claim.decided_at
    for who in (dept.sales, dept.lead, dept.director):
        with pytest.raises(PermissionDenied):
            services.expense_mark_paid(claim=claim, by=who.user)
    claim = services.expense_mark_paid(claim=claim, by=dept.finance.user)
    assert claim.status == ExpenseStatus.PAID and claim.paid_by == dept.finance
    with pytest.raises(DomainError) as exc:
        services.expense_mark_paid(claim=claim, by=dept.finance.user)
    assert "status" in exc.value.errors


def test_over_budget_is_allowed_recorded_and_shown_to_the_approver(dept):
    services.expense_budget_set(by=dept.lead.user, employee=dept.sales, period=MONTH,
                                amount="1000")
    first = services.expense_claim_submit(claim=make_claim(dept.sales, amount="700",
                                                           spent_on=FIRST),
                                          by=dept.sales.user)
    assert first.over_budget_by == Decimal("0.00")
    second = services.expense_claim_submit(claim=make_claim(dept.sales, amount="450.50",
                                                            spent_on=FIRST),
                                           by=dept.sales.user)
    assert second.over_budget_by == Decimal("150.50")  # 700 + 450.50 − 1000
    title = document_history(second).latest.title
    assert "150.50" in title
    use = {r.employee.pk: r for r in selectors.budget_use(user=dept.lead.user, period=MONTH)}
    row = use[dept.sales.pk]
    assert (row.budget, row.approved, row.pending) == (Decimal("1000.00"), 0, Decimal("1150.50"))
    assert row.over == Decimal("150.50") and row.remaining == Decimal("-150.50")
    decide(first)
    row = {r.employee.pk: r for r in selectors.budget_use(user=dept.lead.user,
                                                         period=MONTH)}[dept.sales.pk]
    assert (row.approved, row.pending) == (Decimal("700.00"), Decimal("450.50"))


def test_without_a_budget_the_whole_claim_is_over(dept):
    claim = services.expense_claim_submit(claim=make_claim(dept.sales, amount="80"),
                                          by=dept.sales.user)
    assert claim.over_budget_by == Decimal("80.00")


def test_a_quarter_budget_covers_its_months(dept):
    quarter = quarter_of(TODAY)
    services.expense_budget_set(by=dept.lead.user, employee=dept.sales, period=quarter,
                                amount="5000")
    claim = services.expense_claim_submit(claim=make_claim(dept.sales, amount="80"),
                                          by=dept.sales.user)
    assert (claim.budget_period, claim.over_budget_by) == (quarter, Decimal("0.00"))


def test_returned_and_rejected_claims(dept):
    claim = services.expense_claim_submit(claim=make_claim(dept.sales), by=dept.sales.user)
    decide(claim, "return", "缺发票")
    claim.refresh_from_db()
    assert claim.status == ExpenseStatus.RETURNED
    services.expense_claim_update(claim=claim, by=dept.sales.user, description="补发票")
    services.expense_claim_submit(claim=claim, by=dept.sales.user)
    decide(claim, "reject", "不合规")
    claim.refresh_from_db()
    assert claim.status == ExpenseStatus.REJECTED
    with pytest.raises(DomainError):
        services.expense_claim_submit(claim=claim, by=dept.sales.user)


@pytest.mark.parametrize(("field", "value"), [
    ("amount", "0"), ("amount", "-5"), ("amount", "1.234"), ("category", "party"),
    ("spent_on", TODAY + datetime.timedelta(days=1)),
])
def test_bad_claims_name_their_field(dept, field, value):
    kwargs = {"category": "travel", "amount": "10", "spent_on": TODAY, field: value}
    with pytest.raises(DomainError) as exc:
        services.expense_claim_create(by=dept.sales.user, **kwargs)
    assert field in exc.value.errors


def test_only_the_claimant_changes_or_submits(dept):
    claim = make_claim(dept.sales)
    for who in (dept.lead, dept.finance, dept.sales_mate):
        with pytest.raises(PermissionDenied):
            services.expense_claim_submit(claim=claim, by=who.user)


def test_money_scope_finance_sees_every_claim(dept):
    mine, mates, other = (make_claim(e) for e in (dept.sales, dept.sales_mate,
                                                  dept.other_sales))

    def seen(who):
        return set(selectors.expense_list(user=who.user).values_list("pk", flat=True))

    assert seen(dept.sales) == {mine.pk}
    assert seen(dept.lead) == {mine.pk, mates.pk}
    assert seen(dept.finance) == seen(dept.director) == {mine.pk, mates.pk, other.pk}
    assert seen(dept.hr) == set()
    assert set(selectors.team_expenses(user=dept.lead.user).values_list("pk", flat=True)) \
        == {mine.pk, mates.pk}


def test_budget_use_costs_three_queries_however_many(dept):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            rows = selectors.budget_use(user=dept.finance.user, period=MONTH)
        return len(ctx), rows

    count()
    small, _ = count()
    for e in (dept.sales, dept.sales_mate, dept.other_sales):
        services.expense_budget_set(by=dept.finance.user, employee=e, period=MONTH,
                                    amount="100")
        services.expense_claim_submit(claim=make_claim(e, amount="30"), by=e.user)
        make_claim(e, amount="20")
    grown, rows = count()
    assert grown == small == 3
    assert sum(r.pending for r in rows) == Decimal("90.00")
