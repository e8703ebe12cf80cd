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
