"""CUS rows of the scope matrix: customers, their contacts and visits are sales records.

Each record is built through the services by its owner, as it would be in real use.
"""

import itertools

from django.urls import reverse

from bizdept.core.tests.scope_matrix import ScopeRow
from bizdept.customers import services
from bizdept.org.scope import Domain

_serial = itertools.count(1)


def _customer(dept, owner):
    return services.customer_create(by=owner.user, name=f"{owner.name}的客户{next(_serial)}")


def _contact(dept, owner):
    return services.contact_create(customer=_customer(dept, owner), by=owner.user, name="联系人")


def _visit(dept, owner):
    return services.visit_log(customer=_customer(dept, owner), by=owner.user, summary="拜访")


def _in_api_list(response, record):
    return any(item["id"] == record.pk for item in response.json()["items"])


def _in_page(response, customer):
    return reverse("customers:customer_detail", args=[customer.pk]) in response.content.decode()


ROWS = [
    ScopeRow("customer page", Domain.SALES, _customer,
             lambda c: reverse("customers:customer_detail", args=[c.pk])),
    ScopeRow("customer list page", Domain.SALES, _customer,
             lambda c: reverse("customers:customer_list") + f"?q={c.name}", kind="list",
             contains=_in_page),
    ScopeRow("customer API", Domain.SALES, _customer, lambda c: f"/api/v1/customers/{c.pk}"),
    ScopeRow("customer list API", Domain.SALES, _customer,
             lambda c: f"/api/v1/customers?q={c.name}", kind="list", contains=_in_api_list),
    ScopeRow("customer contacts API", Domain.SALES, _contact,
             lambda c: f"/api/v1/customers/{c.customer_id}/contacts"),
    ScopeRow("contact API", Domain.SALES, _contact, lambda c: f"/api/v1/contacts/{c.pk}"),
    ScopeRow("visit API", Domain.SALES, _visit, lambda v: f"/api/v1/visits/{v.pk}"),
    ScopeRow("visit list API", Domain.SALES, _visit,
             lambda v: f"/api/v1/visits?customer={v.customer_id}", kind="list",
             contains=_in_api_list),
]
