"""The demo's opportunities (SAL-2) and expenses (SAL-7): a believable year, decided
through the engine, deterministic."""

import datetime

from django.db.models import Count
from django.utils import timezone

from bizdept.approvals import demo as approvals_demo
from bizdept.approvals.models import ApprovalRequest
from bizdept.customers import demo as customers_demo
from bizdept.org import demo as org_demo
from bizdept.org.demo import DemoContext
from bizdept.sales import demo
from bizdept.sales.models import (
    ExpenseBudget,
    ExpenseClaim,
    Opportunity,
    OpportunityStageChange,
    SolutionLine,
)


def test_demo_opportunities_and_expenses(db):
    ctx = DemoContext.new()
    for module in (org_demo, customers_demo, approvals_demo, demo):
        module.build_demo(ctx)
    opportunities = list(Opportunity.objects.all())
    assert len(opportunities) > 50
    stages = {o.stage for o in opportunities}
    assert {"need", "approval", "solution", "won", "lost"} <= stages
    old = [o for o in opportunities
           if o.created_at < timezone.now() - datetime.timedelta(days=120)]
    closed = [o for o in old if o.stage in ("won", "lost")]
    assert len(closed) >= 0.5 * len(old)
    assert all(o.evaluation_score for o in closed)
    assert SolutionLine.objects.exists()
    assert ApprovalRequest.objects.filter(document_type="sales.opportunity",
                                          status="approved").exists()
    assert ApprovalRequest.objects.filter(document_type="sales.expense").exists()
    per = OpportunityStageChange.objects.values("opportunity").annotate(n=Count("pk"))
    assert min(row["n"] for row in per) >= 1
    assert ExpenseBudget.objects.count() >= 12
    assert ExpenseClaim.objects.filter(over_budget_by__gt=0).exists()
    assert ExpenseClaim.objects.filter(status="paid").exists()
