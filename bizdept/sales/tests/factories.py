"""Records of the sales app, made through the services as a user would make them."""

import itertools

from bizdept.sales import services
from bizdept.sales.models import ProductCategory

_serial = itertools.count(1)


def make_category(by, name=None, **fields) -> ProductCategory:
    return services.category_create(by=by.user, name=name or f"类别{next(_serial)}", **fields)


def make_product(by, *, category=None, code=None, price="1000.00", cost="600.00", **fields):
    category = category or ProductCategory.objects.first() or make_category(by)
    return services.product_create(
        by=by.user, code=code or f"P-{next(_serial):05d}", name=fields.pop("name", "变频器"),
        category=category, unit=fields.pop("unit", "台"), list_price=price,
        standard_cost=cost, **fields)


def take_number(employee, count=1):
    """Numbers a salesperson takes for themselves."""
    numbers = services.contract_number_issue(by=employee.user, to=employee, count=count)
    return numbers[0] if count == 1 else numbers


# === Opportunities (SAL-2) · Expenses (SAL-7) ===========================================
def make_customer(owner, name=None):
    from bizdept.customers import services as customer_services

    return customer_services.customer_create(by=owner.user,
                                             name=name or f"商机客户{next(_serial)}")


def make_opportunity(owner, *, customer=None, amount="100000.00", title=None, **fields):
    customer = customer or make_customer(owner)
    return services.opportunity_create(by=owner.user, customer=customer,
                                       title=title or f"需求{next(_serial)}",
                                       expected_amount=amount, **fields)


def waiting_task(document):
    """The step of the document's pending request whose turn it is."""
    from django.contrib.contenttypes.models import ContentType

    from bizdept.approvals.models import ApprovalTask

    return (ApprovalTask.objects.select_related("approver")
            .get(request__content_type=ContentType.objects.get_for_model(document),
                 request__object_id=document.pk, request__status="pending",
                 status="waiting"))


def decide(document, decision="approve", comment=""):
    """The approver whose turn it is decides (every step until the request ends, when
    approving)."""
    from bizdept.approvals import services as approval_services

    while True:
        task = waiting_task(document)
        approval_services.approval_decide(task=task, by=task.approver.user, decision=decision,
                                          comment=comment)
        if decision != "approve":
            return
        if not type(task).objects.filter(request_id=task.request_id, status="waiting").exists():
            return


def to_solution(owner, **kwargs):
    """An opportunity through the manager's approval, at the solution stage."""
    opportunity = make_opportunity(owner, **kwargs)
    services.opportunity_submit(opportunity=opportunity, by=owner.user)
    decide(opportunity)
    opportunity.refresh_from_db()
    return opportunity


def make_claim(employee, *, amount="500.00", spent_on=None, category="travel", **fields):
    from django.utils import timezone

    return services.expense_claim_create(by=employee.user, category=category, amount=amount,
                                         spent_on=spent_on or timezone.localdate(), **fields)
