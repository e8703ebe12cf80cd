"""Records written straight to the tables, with exactly the dates, statuses and amounts a
figure's test needs (the services' own rules — approvals, no future dates — are tested in
their apps; here only the arithmetic of the measures is)."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

from django.utils import timezone

from bizdept.customers.models import Customer, Visit
from bizdept.sales.models import (
    Contract,
    ContractLine,
    ContractNumber,
    ExpenseClaim,
    Payment,
    Product,
    ProductCategory,
)

_serial = itertools.count(1)


def product() -> Product:
    found = Product.objects.first()
    if found is not None:
        return found
    category = ProductCategory.objects.create(name=f"类别{next(_serial)}")
    return Product.objects.create(code=f"KPI-{next(_serial)}", name="变频器", category=category,
                                  unit="台", list_price=Decimal("100.00"),
                                  standard_cost=Decimal("60.00"))


def customer(owner, *, created_at=None) -> Customer:
    n = next(_serial)
    row = Customer.objects.create(name=f"指标客户{n}", name_key=f"kpi-{n}", owner=owner)
    if created_at is not None:
        Customer.objects.filter(pk=row.pk).update(created_at=created_at)
    return row


def contract(owner, *, total="0.00", signed_on=None, status="signed", lines=()) -> Contract:
    """A contract with ``lines`` as (quantity, unit price, unit cost); the total is the sum
    of the lines' amounts (price × quantity to the cent) when lines are given."""
    n = next(_serial)
    number = ContractNumber.objects.create(number=f"KPI-{n:06d}", year=2026, seq=n,
                                           status="used", issued_to=owner, issued_by=owner)
    row = Contract.objects.create(number=number, customer=customer(owner), owner=owner,
                                  title="指标合同", status=status, signed_on=signed_on,
                                  total=Decimal(total))
    if lines:
        total = Decimal(0)
        for qty, price, cost in lines:
            amount = (Decimal(qty) * Decimal(price)).quantize(Decimal("0.01"),
                                                              rounding="ROUND_HALF_UP")
            ContractLine.objects.create(contract=row, product=product(), quantity=Decimal(qty),
                                        unit_price=Decimal(price), unit_cost=Decimal(cost),
                                        amount=amount)
            total += amount
        Contract.objects.filter(pk=row.pk).update(total=total)
        row.total = total
    return row


def payment(contract_, amount, received_on, *, reverses=None) -> Payment:
    return Payment.objects.create(contract=contract_, amount=Decimal(amount),
                                  received_on=received_on, reverses=reverses,
                                  entered_by=contract_.owner)


def visit(employee, visited_at, *, customer_=None) -> Visit:
    return Visit.objects.create(customer=customer_ or customer(employee), employee=employee,
                                visited_at=visited_at, summary="拜访")


def claim(employee, amount, spent_on, *, status="approved") -> ExpenseClaim:
    return ExpenseClaim.objects.create(employee=employee, category="travel",
                                       amount=Decimal(amount), spent_on=spent_on,
                                       status=status)


def local(year, month, day, hour=0, minute=0) -> datetime.datetime:
    """An aware datetime at local time (settings.TIME_ZONE)."""
    return timezone.make_aware(datetime.datetime(year, month, day, hour, minute),
                               timezone.get_default_timezone())
