"""Every read of the sales app (SAL); owned records start from the scope rule (ORG-4)."""

from __future__ import annotations

from django.db.models import Count
from django.http import Http404

from bizdept.org.models import Employee
from bizdept.org.scope import Domain, employee_of, scope_for

from .models import ContractNumber, Product, ProductCategory


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


# === Products (SAL-1) ==================================================================
# The catalogue is no one's record: everyone signed in reads all of it.
def product_list(*, user):
    if not _signed_in(user):
        return Product.objects.none()
    return Product.objects.select_related("category")


def product_get(*, user, pk) -> Product:
    try:
        return product_list(user=user).get(pk=pk)
    except (Product.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def category_list(*, user):
    if not _signed_in(user):
        return ProductCategory.objects.none()
    return (ProductCategory.objects.select_related("parent")
            .annotate(product_count=Count("products")))


def category_get(*, user, pk) -> ProductCategory:
    try:
        return category_list(user=user).get(pk=pk)
    except (ProductCategory.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def category_choices():
    """Categories as a form offers them (parents first, by sort order)."""
    return ProductCategory.objects.select_related("parent").order_by("sort_order", "name")


# === Contract number register (SAL-4) ==================================================
def contract_number_list(*, user):
    return ContractNumber.objects.visible_to(user).select_related(
        "issued_to__unit", "issued_by", "closed_by")


def contract_number_get(*, user, pk) -> ContractNumber:
    return (ContractNumber.objects.select_related("issued_to__unit", "issued_by", "closed_by")
            .get_visible_or_404(user, pk=pk))


def my_contract_numbers(*, user):
    me = employee_of(user)
    rows = contract_number_list(user=user)
    return rows.filter(issued_to=me) if me is not None else rows.none()


def number_holders(*, user):
    """People the user may issue numbers to: those in their money scope, still working
    (a salesperson: themselves; finance: the department)."""
    scope = scope_for(user, Domain.MONEY)
    if scope.nothing:
        return Employee.objects.none()
    return (Employee.objects.filter(scope.q("")).active().select_related("unit")
            .order_by("number"))


def number_years(*, user) -> list[int]:
    return list(contract_number_list(user=user).order_by("-year")
                .values_list("year", flat=True).distinct())
