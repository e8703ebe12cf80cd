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


# === Opportunities (SAL-2: sales records of their owner) · Expenses (SAL-7: money) ======
def _opportunity(dept, owner):
    from .factories import make_opportunity

    return make_opportunity(owner, title=f"范围商机{owner.pk}")


def _claim(dept, owner):
    from .factories import make_claim

    return make_claim(owner, description=f"范围费用{owner.pk}")


def _opportunity_in_page(response, opportunity):
    return reverse("sales:opportunity_detail", args=[opportunity.pk]) in \
        response.content.decode()


def _claim_in_page(response, claim):
    return reverse("sales:expense_detail", args=[claim.pk]) in response.content.decode()


ROWS += [
    ScopeRow("opportunity page", Domain.SALES, _opportunity,
             lambda o: reverse("sales:opportunity_detail", args=[o.pk])),
    ScopeRow("opportunity list page", Domain.SALES, _opportunity,
             lambda o: reverse("sales:opportunity_list") + f"?q={o.title}", kind="list",
             contains=_opportunity_in_page),
    ScopeRow("opportunity API", Domain.SALES, _opportunity,
             lambda o: f"/api/v1/opportunities/{o.pk}"),
    ScopeRow("opportunity list API", Domain.SALES, _opportunity,
             lambda o: f"/api/v1/opportunities?q={o.title}", kind="list",
             contains=_in_api_list),
    ScopeRow("expense claim page", Domain.MONEY, _claim,
             lambda c: reverse("sales:expense_detail", args=[c.pk])),
    ScopeRow("team expense claims page", Domain.MONEY, _claim,
             lambda c: reverse("sales:expense_team") + f"?q={c.description}", kind="list",
             contains=_claim_in_page),
    ScopeRow("expense claim API", Domain.MONEY, _claim,
             lambda c: f"/api/v1/expenses/{c.pk}"),
    ScopeRow("expense claim list API", Domain.MONEY, _claim,
             lambda c: f"/api/v1/expenses?q={c.description}", kind="list",
             contains=_in_api_list),
]


# --- contracts and receivables (SAL-5, SAL-6): money records of the contract's owner ------
def _contract(dept, owner):
    from .contract_factories import make_contract

    return make_contract(owner)


def _contract_in_page(response, contract):
    return reverse("sales:contract_detail", args=[contract.pk]) in response.content.decode()


ROWS += [
    ScopeRow("contract page", Domain.MONEY, _contract,
             lambda c: reverse("sales:contract_detail", args=[c.pk])),
    ScopeRow("contract print page", Domain.MONEY, _contract,
             lambda c: reverse("sales:contract_print", args=[c.pk])),
    ScopeRow("contract list page", Domain.MONEY, _contract,
             lambda c: reverse("sales:contract_list") + f"?q={c.number.number}", kind="list",
             contains=_contract_in_page),
    ScopeRow("contract API", Domain.MONEY, _contract, lambda c: f"/api/v1/contracts/{c.pk}"),
    ScopeRow("contract list API", Domain.MONEY, _contract,
             lambda c: f"/api/v1/contracts?q={c.number.number}", kind="list",
             contains=_in_api_list),
    ScopeRow("contract plan API", Domain.MONEY, _contract,
             lambda c: f"/api/v1/contracts/{c.pk}/plan"),
    ScopeRow("contract payments API", Domain.MONEY, _contract,
             lambda c: f"/api/v1/contracts/{c.pk}/payments"),
]
