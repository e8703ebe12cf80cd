"""Contracts and receivables (SAL-5, SAL-6) made through the services, as people would."""

import datetime
import itertools
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from bizdept.approvals import services as approval_services
from bizdept.approvals.choices import TaskStatus
from bizdept.approvals.demo import ensure_default_policies
from bizdept.approvals.models import ApprovalTask
from bizdept.customers import services as customer_services
from bizdept.sales import services
from bizdept.sales.models import Contract, Product

from .factories import make_product, take_number

_serial = itertools.count(1)
FEASIBLE = {"delivery_terms": "签约后30天交货", "technical_terms": "现场380V供电",
            "installation_terms": "甲方提供吊装条件"}


def scan(name="scan.pdf", body=b"%PDF-1.4 signed original"):
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def make_customer(owner, name=None):
    return customer_services.customer_create(by=owner.user,
                                             name=name or f"合同客户{next(_serial)}")


def product_for(by=None) -> Product:
    """A product of the catalogue (made by the director, who keeps it, when there is none)."""
    from bizdept.org.models import Employee

    keeper = by or Employee.objects.filter(roles__code="director").first()
    return Product.objects.filter(is_active=True).first() or make_product(keeper)


def make_contract(owner, *, amount="50000.00", customer=None, filled=True, director=None,
                  **fields) -> Contract:
    """A draft contract of ``owner`` with one line of ``amount`` (quantity 1)."""
    product = product_for(director)
    lines = fields.pop("lines", None)
    if lines is None:
        lines = [{"product": product, "quantity": "1", "unit_price": Decimal(amount)}]
    return services.contract_create(
        by=owner.user, number=take_number(owner), customer=customer or make_customer(owner),
        title=fields.pop("title", "变频改造项目"), lines=lines,
        **(FEASIBLE if filled else {}), **fields)


def waiting_tasks(document):
    return list(ApprovalTask.objects.filter(request__object_id=document.pk,
                                            request__document_type=document_type(document),
                                            status=TaskStatus.WAITING)
                .select_related("approver"))


def document_type(document) -> str:
    return (services.CONTRACT_DOCUMENT if isinstance(document, Contract)
            else services.AMENDMENT_DOCUMENT)


def approve_all(document) -> list:
    """Each waiting step approved by its approver, in turn; returns who approved."""
    approvers = []
    for _round in range(10):
        tasks = waiting_tasks(document)
        if not tasks:
            break
        task = tasks[0]
        approval_services.approval_decide(task=task, by=task.approver.user, decision="approve")
        approvers.append(task.approver)
    return approvers


def signed_contract(owner, *, amount="50000.00", signed_on=None, **fields) -> Contract:
    ensure_default_policies()
    contract = make_contract(owner, amount=amount, **fields)
    services.contract_report(contract=contract, by=owner.user)
    approve_all(contract)
    contract.refresh_from_db()
    return services.contract_sign(contract=contract, by=owner.user,
                                  signed_on=signed_on or timezone.localdate(), scan=scan())


def plan(contract, by, *parts):
    """Instalments as (days from today, amount)."""
    today = timezone.localdate()
    return services.contract_plan_set(contract=contract, by=by.user, instalments=[
        {"due_on": today + datetime.timedelta(days=d), "amount": Decimal(a)} for d, a in parts])
