"""SAL-1: the product catalogue — everyone reads it, the director and the administrator
keep it; prices are money (≥ 0, 2 decimals); a product is deactivated, never deleted."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db.models import ProtectedError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from bizdept.core.errors import Conflict, DomainError
from bizdept.core.history import history_entries
from bizdept.core.money import to_cents
from bizdept.org.choices import Capability, RoleCode
from bizdept.org.scope import capabilities_of
from bizdept.sales import selectors, services
from bizdept.sales.models import Product
from bizdept.sales.pricing import line_amount, margin, margin_rate

from .factories import make_category, make_product


# --- who may keep the catalogue -------------------------------------------------------
def test_only_director_and_admin_may_manage_products(dept):
    keepers = {e.user.username for e in (dept.director, dept.admin)}
    for employee in (dept.director, dept.manager, dept.lead, dept.sales, dept.finance,
                     dept.hr, dept.admin, dept.outsider):
        allowed = Capability.MANAGE_PRODUCTS in capabilities_of(employee.user)
        assert allowed == (employee.user.username in keepers), employee.user.username


@pytest.mark.parametrize("who", ["sales", "lead", "manager", "finance", "hr"])
def test_others_cannot_create_or_change_products(dept, who):
    product = make_product(dept.director)
    user = getattr(dept, who).user
    with pytest.raises(PermissionDenied):
        services.product_create(by=user, code="X-1", name="变频器", category=product.category,
                                unit="台", list_price=Decimal("1"), standard_cost=Decimal("1"))
    with pytest.raises(PermissionDenied):
        services.product_update(product=product, by=user, list_price=Decimal("2"))
    with pytest.raises(PermissionDenied):
        services.product_deactivate(product=product, by=user)
    with pytest.raises(PermissionDenied):
        services.category_create(by=user, name="新类别")


def test_everyone_signed_in_reads_the_whole_catalogue(dept):
    product = make_product(dept.director)
    for employee in (dept.sales, dept.other_sales, dept.finance, dept.hr, dept.outsider):
        assert list(selectors.product_list(user=employee.user)) == [product]


def test_admin_keeps_the_catalogue_too(dept):
    product = make_product(dept.admin, code="adm-1")
    assert product.code == "ADM-1"  # codes are kept in capitals


# --- rules ------------------------------------------------------------------------------
def test_create_validates_every_field_and_names_each(dept):
    category = make_category(dept.director)
    with translation.override("en"), pytest.raises(DomainError) as refused:
        services.product_create(by=dept.director.user, code=" ", name="", category=category,
                                unit="", list_price="-1", standard_cost="1.234")
    errors = refused.value.errors
    assert set(errors) == {"code", "name", "unit", "list_price", "standard_cost"}
    assert "negative" in str(errors["list_price"][0])
    assert "2 decimal" in str(errors["standard_cost"][0])
    assert not Product.objects.exists()


@pytest.mark.parametrize(("value", "message"), [
    ("abc", "amount"), ("NaN", "amount"), ("1e400", "too large"), ("1000000000000", "too large"),
    (True, "amount"), (None, "Enter an amount"), ("0.001", "2 decimal"),
])
def test_bad_amounts_are_refused_naming_the_field(dept, value, message):
    with translation.override("en"), pytest.raises(DomainError) as refused:
        make_product(dept.director, price=value)
    assert message in str(refused.value.errors["list_price"][0])


def test_amounts_are_stored_to_the_cent(dept):
    product = make_product(dept.director, price="1,280.5", cost="0")
    product.refresh_from_db()
    assert product.list_price == Decimal("1280.50") and product.standard_cost == Decimal("0")


def test_a_duplicate_code_is_a_conflict_naming_the_code(dept):
    make_product(dept.director, code="VFD-1")
    with pytest.raises(Conflict) as refused:
        make_product(dept.director, code="vfd-1")
    assert refused.value.status == 409 and "code" in refused.value.errors
    other = make_product(dept.director, code="VFD-2")
    with pytest.raises(Conflict):
        services.product_update(product=other, by=dept.director.user, code="VFD-1")


def test_unknown_fields_are_refused(dept):
    product = make_product(dept.director)
    with pytest.raises(DomainError) as refused:
        services.product_update(product=product, by=dept.director.user, created_at=None)
    assert "created_at" in refused.value.errors


def test_deactivate_keeps_the_product_and_its_history(dept):
    product = make_product(dept.director)
    services.product_update(product=product, by=dept.director.user, list_price=Decimal("1500"))
    services.product_deactivate(product=product, by=dept.director.user)
    product.refresh_from_db()
    assert not product.is_active and product.list_price == Decimal("1500.00")
    entries = history_entries(product)
    assert [e.who for e in entries] == [dept.director.name] * 3
    assert {c.name for c in entries[1].changes} == {"list_price"}
    services.product_activate(product=product, by=dept.admin.user)
    product.refresh_from_db()
    assert product.is_active


def test_a_category_with_products_cannot_be_deleted(dept):
    product = make_product(dept.director)
    with pytest.raises(ProtectedError):
        product.category.delete()


def test_categories_nest_without_cycles_and_names_are_unique(dept):
    top = make_category(dept.director, name="自动化")
    child = make_category(dept.director, name="PLC", parent=top)
    with pytest.raises(DomainError) as refused:
        services.category_update(category=top, by=dept.director.user, parent=child)
    assert "parent" in refused.value.errors
    with pytest.raises(Conflict):
        make_category(dept.director, name="PLC")
    with pytest.raises(DomainError) as refused:
        make_category(dept.director, name=" ")
    assert "name" in refused.value.errors


# --- money and margins ---------------------------------------------------------------
def test_to_cents_rounds_half_up_and_reads_floats_through_text():
    assert to_cents("2.675") == Decimal("2.68")
    assert to_cents("-2.675") == Decimal("-2.68")
    assert to_cents(0.1 + 0.2) == Decimal("0.30")
    assert to_cents(None) == Decimal("0.00")


def test_margin_helpers():
    assert margin("1280.50", "1000", 3) == Decimal("841.50")
    assert margin("10", "12.005", 1) == Decimal("-2.01")  # half up, away from zero
    assert margin_rate("200", "150") == Decimal("25.00")
    assert margin_rate("3", "2") == Decimal("33.33")
    assert margin_rate("0", "5") is None
    assert line_amount("0.125", 1) == Decimal("0.13")


cents = st.decimals(min_value=0, max_value=10**9, places=2)


@given(price=cents, cost=cents, qty=st.integers(min_value=0, max_value=10_000))
def test_margin_is_exact_decimal_arithmetic_rounded_once(price, cost, qty):
    assert margin(price, cost, qty) == (price - cost) * qty  # exact: cents × whole qty
    assert margin(price, cost, qty) == line_amount(price, qty) - line_amount(cost, qty)


@given(price=cents.filter(lambda p: p > 0), cost=cents)
def test_margin_rate_has_two_places(price, cost):
    rate = margin_rate(price, cost)
    assert rate == rate.quantize(Decimal("0.01"))
    assert abs(rate - (price - cost) * 100 / price) <= Decimal("0.005")


def test_director_role_is_the_one_that_grants_it(dept):
    from bizdept.org.choices import ROLE_CAPABILITIES

    holders = {role for role, caps in ROLE_CAPABILITIES.items()
               if Capability.MANAGE_PRODUCTS in caps}
    assert holders == {RoleCode.DIRECTOR, RoleCode.ADMIN}
