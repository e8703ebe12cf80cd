"""Customers for tests, made the way the business makes them: through the services.

``make_customer(dept.sales)`` is a new customer of the salesperson with a unique name;
``FakeInflow`` stands in for the sales app's payments, the input of grading (CUS-3).
"""

from __future__ import annotations

import datetime
import itertools
from collections import defaultdict
from decimal import Decimal

from django.utils import timezone

from bizdept.core.validators import CREDIT_CODE_ALPHABET, credit_code_check_char
from bizdept.customers import selectors, services
from bizdept.customers.models import Customer, OwnerChange

_numbers = itertools.count(1)


def unique_name(prefix: str = "测试客户") -> str:
    return f"{prefix}{next(_numbers)}号科技有限公司"


def credit_code(n: int | None = None) -> str:
    """A valid unified social credit code, different for every ``n``."""
    n = next(_numbers) if n is None else n
    digits = []
    for _ in range(9):
        n, rest = divmod(n, len(CREDIT_CODE_ALPHABET))
        digits.append(CREDIT_CODE_ALPHABET[rest])
    first17 = "91310000" + "".join(reversed(digits))
    return first17 + credit_code_check_char(first17)


def mobile(n: int | None = None) -> str:
    """A valid Chinese mobile number in E.164, different for every ``n``."""
    n = next(_numbers) if n is None else n
    return f"+86139{n % 10**8:08d}"


def make_customer(owner, *, by=None, **fields) -> Customer:
    """A customer owned by ``owner`` (created by them unless ``by`` says otherwise)."""
    fields.setdefault("name", unique_name())
    if by is not None:
        fields.setdefault("owner", owner)
    return services.customer_create(by=(by or owner).user, **fields)


def make_pool_customer(owner=None, **fields) -> Customer:
    """A customer in the public pool, released by the employee who created it."""
    if owner is None:
        raise ValueError("say who created the customer before it went to the pool")
    customer = make_customer(owner, **fields)
    return services.customer_release(customer=customer, by=owner.user, reason="不再跟进")


def reload(customer: Customer) -> Customer:
    return Customer.objects.get(pk=customer.pk)


def backdate(customer: Customer, *, days: int, followed_up: bool = False) -> Customer:
    """Pretend the customer was created (and given to its owner) ``days`` ago, and last
    followed up then too when ``followed_up``."""
    then = timezone.now() - datetime.timedelta(days=days)
    Customer.objects.filter(pk=customer.pk).update(
        created_at=then, last_followup_at=then if followed_up else None)
    OwnerChange.objects.filter(customer=customer).update(at=then)
    return reload(customer)


class FakeInflow:
    """Money received per customer and day, answered like a registered inflow source.

    Use it as a context manager so it is unregistered whatever happens::

        with FakeInflow() as payments:
            payments.pay(customer, "300000", on=today)
    """

    def __init__(self):
        self.payments: list[tuple[int, datetime.date, Decimal]] = []
        self.calls = 0

    def pay(self, customer: Customer, amount, *, on: datetime.date | None = None) -> None:
        self.payments.append((customer.pk, on or timezone.localdate(), Decimal(str(amount))))

    def __call__(self, ids, since, until):
        self.calls += 1
        wanted = set(ids)
        totals: dict[int, Decimal] = defaultdict(Decimal)
        for customer_id, on, amount in self.payments:
            if customer_id in wanted and since <= on <= until:
                totals[customer_id] += amount
        return dict(totals)

    def __enter__(self) -> FakeInflow:
        selectors.register_inflow_source(self)
        return self

    def __exit__(self, *exc) -> None:
        selectors.unregister_inflow_source(self)
