"""The demo's default policies: one per document type the next apps use, idempotent."""

from bizdept.approvals.demo import DEFAULT_POLICIES, build_demo, ensure_default_policies
from bizdept.approvals.models import ApprovalPolicy
from bizdept.core.management.commands.demo import DEMO_MODULES


def test_default_policies_once(db):
    assert "bizdept.approvals.demo" in DEMO_MODULES
    build_demo(None)
    assert ensure_default_policies() == 0
    types = set(ApprovalPolicy.objects.filter(active=True).values_list("document_type",
                                                                        flat=True))
    assert types == {t for t, _n, _s in DEFAULT_POLICIES} >= {
        "sales.opportunity", "sales.contract", "sales.discount", "sales.expense",
        "targets.plan", "appraisal.cycle", "incentives.bonus_run", "people.resignation"}
    contract = ApprovalPolicy.objects.get(document_type="sales.contract")
    assert [(s.role_code, int(s.min_amount)) for s in contract.steps.order_by("order")] == [
        ("lead", 0), ("manager", 100000), ("director", 1000000)]
