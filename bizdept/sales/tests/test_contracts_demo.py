"""The demo's year of contracts and money (SAL-5, SAL-6): numbers used once, approvals
through the engine, plans adding up, payments by finance with some late and a reversal,
aging and collection rates alive, customers re-graded."""

import pytest
from django.db import transaction
from django.db.models import Count, Sum

from bizdept.core.management.commands.demo import build
from bizdept.org.models import Employee
from bizdept.sales import selectors
from bizdept.sales.choices import ContractStatus
from bizdept.sales.models import Contract, ContractAmendment, ContractNumber, Payment


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield build("demo")
        transaction.set_rollback(True)


@pytest.mark.usefixtures("demo", "db")
def test_the_demo_year_of_contracts_and_money():
    contracts = Contract.objects.all()
    assert contracts.count() > 40
    statuses = set(contracts.values_list("status", flat=True))
    assert {ContractStatus.DRAFT, ContractStatus.REPORTED, ContractStatus.SIGNED,
            ContractStatus.EXECUTING, ContractStatus.COMPLETED} <= statuses
    assert ContractStatus.TERMINATED in statuses
    # each contract on its own number, issued to its owner, marked used
    for contract in contracts.select_related("number"):
        assert contract.number.issued_to_id == contract.owner_id
        assert contract.number.status == "used" and contract.number.contract_id == contract.pk
    assert ContractNumber.objects.filter(status="used").count() == contracts.count()
    signed = contracts.filter(signed_on__isnull=False)
    assert all(c.archived and c.scan for c in signed)
    # plans add up to the amount; money never above it
    sums = dict(signed.annotate(p=Sum("instalments__amount")).values_list("pk", "p"))
    for contract in signed:
        assert sums[contract.pk] == contract.total, contract.pk
        assert selectors.contract_figures(contract)["received"] <= contract.total
    assert Payment.objects.filter(amount__lt=0, reverses__isnull=False).count() == 2
    assert ContractAmendment.objects.filter(status="applied").count() == 1
    director = Employee.objects.get(user__username="director")
    aging = selectors.receivables_aging(user=director.user)
    assert aging.overdue_total > 0 and len([v for v in aging.buckets.values() if v > 0]) >= 3
    year = selectors.collection_rate(user=director.user,
                                     since=aging.as_of.replace(month=1, day=1),
                                     until=aging.as_of)
    assert year["rate"] is not None and 30 < year["rate"] < 150
    graded = (Contract.objects.filter(payments__isnull=False)
              .values("customer__grade").annotate(n=Count("pk")))
    assert {row["customer__grade"] for row in graded} & {"A", "B", "C"}
