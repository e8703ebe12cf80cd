"""A document type for the tests: a customer discount, registered over ``customers.Customer``
(no production app owns it). Its amount is set per customer; the callbacks record what
they were called with, so a test can check each ran exactly once."""

import itertools
from decimal import Decimal

from bizdept import approvals
from bizdept.approvals import services
from bizdept.customers import services as customer_services
from bizdept.customers.models import Customer

TEST_TYPE = "test.customer_discount"
AMOUNTS: dict[int, Decimal] = {}
CALLS: list[tuple[str, int]] = []
_serial = itertools.count(1)


def register_test_type() -> None:
    approvals.register(
        TEST_TYPE, model=Customer, label="Customer discount", title=lambda c: f"折扣 {c.name}",
        amount=lambda c: AMOUNTS.get(c.pk), requester=lambda c: c.owner,
        on_approved=lambda c: CALLS.append(("approved", c.pk)),
        on_rejected=lambda c: CALLS.append(("rejected", c.pk)),
        on_returned=lambda c: CALLS.append(("returned", c.pk)),
        on_cancelled=lambda c: CALLS.append(("cancelled", c.pk)),
        url=lambda c: f"/customers/{c.pk}/",
    )


def unregister_test_type() -> None:
    approvals.unregister(TEST_TYPE)
    AMOUNTS.clear()
    CALLS.clear()


def document(owner, amount=None) -> Customer:
    customer = customer_services.customer_create(by=owner.user,
                                                 name=f"审批测试客户{next(_serial)}")
    if amount is not None:
        AMOUNTS[customer.pk] = Decimal(str(amount))
    return customer


def amount_policy(**step_fields):
    """The issue's example: the lead from 0, the manager above 100,000, the director above
    1,000,000."""
    return services.approval_policy_create(
        document_type=TEST_TYPE, name="折扣审批", steps=[
            {"name": "Team lead", "approver_kind": "role", "role_code": "lead", **step_fields},
            {"name": "Division manager", "approver_kind": "role", "role_code": "manager",
             "min_amount": Decimal("100000"), **step_fields},
            {"name": "Director", "approver_kind": "role", "role_code": "director",
             "min_amount": Decimal("1000000"), **step_fields},
        ])


def head_policy(**step_fields):
    return services.approval_policy_create(
        document_type=TEST_TYPE, name="直属上级审批",
        steps=[{"name": "Direct head", "approver_kind": "direct_head", **step_fields}])


def submit(owner, amount=None, **kwargs):
    doc = document(owner, amount)
    return services.approval_submit(document=doc, by=owner.user, **kwargs)
