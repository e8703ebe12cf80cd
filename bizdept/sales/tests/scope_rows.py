"""SAL rows of the scope matrix: contract numbers are money records owned by whom they
were issued to (finance sees them department-wide). Products are a catalogue every
signed-in user reads, so they have no rows here (``test_products`` checks that)."""

from django.urls import reverse

from bizdept.core.tests.scope_matrix import ScopeRow
from bizdept.org.scope import Domain

from .factories import take_number


def _number(dept, owner):
    return take_number(owner)


def _in_api_list(response, record):
    return any(item["id"] == record.pk for item in response.json()["items"])


def _in_page(response, number):
    return reverse("sales:number_detail", args=[number.pk]) in response.content.decode()


ROWS = [
    ScopeRow("contract number page", Domain.MONEY, _number,
             lambda n: reverse("sales:number_detail", args=[n.pk])),
    ScopeRow("contract number register page", Domain.MONEY, _number,
             lambda n: reverse("sales:number_list") + f"?q={n.number}", kind="list",
             contains=_in_page),
    ScopeRow("contract number API", Domain.MONEY, _number,
             lambda n: f"/api/v1/contract-numbers/{n.pk}"),
    ScopeRow("contract number list API", Domain.MONEY, _number,
             lambda n: f"/api/v1/contract-numbers?q={n.number}", kind="list",
             contains=_in_api_list),
]
