"""Sales pages: the catalogue, its categories and the contract number register render,
answer htmx with their fragment, refuse what the role does not allow, and cost a
constant number of queries however many rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bizdept.sales import services
from bizdept.sales.models import ContractNumber, Product

from .factories import make_category, make_product, take_number

HTMX = {"HTTP_HX_REQUEST": "true"}
YEAR = timezone.localdate().year


# === Products (SAL-1) ==================================================================
def test_everyone_sees_the_catalogue_but_only_keepers_get_the_buttons(as_user, dept):
    product = make_product(dept.director, code="VFD-075", price="4680", cost="3120")
    html = as_user(dept.sales).get(reverse("sales:product_list")).content.decode()
    assert "VFD-075" in html and "4,680.00" in html and "33.33%" in html
    assert reverse("sales:product_create") not in html
    assert reverse("sales:product_import") not in html
    html = as_user(dept.director).get(reverse("sales:product_list")).content.decode()
    assert reverse("sales:product_create") in html and reverse("sales:product_import") in html
    page = as_user(dept.sales).get(reverse("sales:product_detail", args=[product.pk]))
    assert page.status_code == 200 and reverse("sales:product_edit", args=[product.pk]) \
        not in page.content.decode()


def test_the_list_filters_in_an_htmx_fragment(as_user, dept):
    make_product(dept.director, code="A-1", name="变频器")
    make_product(dept.director, code="B-1", name="流量计")
    response = as_user(dept.sales).get(reverse("sales:product_list"), {"q": "流量"}, **HTMX)
    html = response.content.decode()
    assert "B-1" in html and "A-1" not in html and "<html" not in html


def test_the_export_is_the_import_template(as_user, dept):
    make_product(dept.director, code="A-1")
    response = as_user(dept.sales).get(reverse("sales:product_list"), {"export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


@pytest.mark.parametrize("name", ["sales:product_create", "sales:category_create",
                                  "sales:product_import", "sales:product_import_template"])
def test_a_salesperson_is_refused_the_keepers_pages(as_user, dept, name):
    assert as_user(dept.sales).get(reverse(name)).status_code == 403


def test_director_creates_and_edits_a_product_in_the_browser(as_user, dept):
    category = make_category(dept.director, name="变频器与驱动")
    client = as_user(dept.director)
    response = client.post(reverse("sales:product_create"), {
        "code": "vfd-1", "name": "变频器", "category": category.pk, "unit": "台",
        "list_price": "100", "standard_cost": "60", "notes": ""})
    product = Product.objects.get(code="VFD-1")
    assert response.status_code == 302
    response = client.post(reverse("sales:product_create"), {
        "code": "VFD-1", "name": "重复", "category": category.pk, "unit": "台",
        "list_price": "1", "standard_cost": "1"})
    assert response.status_code == 200 and "VFD-1" in response.content.decode()  # on the form
    client.post(reverse("sales:product_edit", args=[product.pk]), {
        "code": "VFD-1", "name": "变频器 新款", "category": category.pk, "unit": "台",
        "list_price": "120", "standard_cost": "60"})
    client.post(reverse("sales:product_deactivate", args=[product.pk]))
    product.refresh_from_db()
    assert product.name == "变频器 新款" and not product.is_active
    history = client.get(reverse("sales:product_detail", args=[product.pk]), {"tab": "history"})
    assert history.status_code == 200 and dept.director.name in history.content.decode()
    assert as_user(dept.sales).post(reverse("sales:product_activate", args=[product.pk])) \
        .status_code == 403


def test_categories_page(as_user, dept):
    top = make_category(dept.director, name="自动化")
    client = as_user(dept.director)
    client.post(reverse("sales:category_create"), {"name": "PLC", "parent": top.pk,
                                                   "sort_order": 5})
    html = client.get(reverse("sales:category_list")).content.decode()
    assert "PLC" in html and "自动化" in html
    response = client.post(reverse("sales:category_edit", args=[top.pk]),
                           {"name": "PLC", "sort_order": 1})
    assert response.status_code == 200  # the duplicate name is shown on the form


# === Contract number register (SAL-4) ==================================================
def test_a_salesperson_takes_a_number_and_sees_it_in_my_numbers(as_user, dept):
    client = as_user(dept.sales)
    form = client.get(reverse("sales:number_issue")).content.decode()
    assert dept.sales.name in form and dept.sales_mate.name not in form
    response = client.post(reverse("sales:number_issue"), {"to": dept.sales.pk, "count": 2})
    assert response.status_code == 302 and response["Location"] == reverse("sales:number_mine")
    html = client.get(reverse("sales:number_mine")).content.decode()
    assert f"HT-{YEAR}-000001" in html and f"HT-{YEAR}-000002" in html
    response = client.post(reverse("sales:number_issue"), {"to": dept.sales_mate.pk,
                                                           "count": 1})
    assert response.status_code == 200 and ContractNumber.objects.count() == 2


def test_the_register_filters_and_exports(as_user, dept):
    take_number(dept.sales)
    voided = take_number(dept.sales_mate)
    services.contract_number_void(number=voided, by=dept.lead.user, reason="打印错误")
    client = as_user(dept.lead)
    html = client.get(reverse("sales:number_list"), {"status": "voided"}, **HTMX) \
        .content.decode()
    assert voided.number in html and f"HT-{YEAR}-000001" not in html and "<html" not in html
    export = client.get(reverse("sales:number_list"), {"export": "xlsx", "year": YEAR})
    assert export.status_code == 200


def test_void_and_return_pages(as_user, dept):
    first, second = take_number(dept.sales, count=2)
    client = as_user(dept.sales)
    page = client.get(reverse("sales:number_detail", args=[first.pk])).content.decode()
    assert reverse("sales:number_void", args=[first.pk]) in page
    response = client.post(reverse("sales:number_void", args=[first.pk]), {"reason": " "})
    assert response.status_code == 200
    client.post(reverse("sales:number_void", args=[first.pk]), {"reason": "损毁"})
    client.post(reverse("sales:number_return", args=[second.pk]), {"reason": "未用"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("voided", "returned")
    page = client.get(reverse("sales:number_detail", args=[first.pk])).content.decode()
    assert reverse("sales:number_void", args=[first.pk]) not in page and "损毁" in page
    history = client.get(reverse("sales:number_detail", args=[first.pk]), {"tab": "history"})
    assert history.status_code == 200


def test_someone_else_cannot_void_and_out_of_scope_is_404(as_user, dept):
    number = take_number(dept.sales)
    client = as_user(dept.other_sales)
    assert client.get(reverse("sales:number_void", args=[number.pk])).status_code == 404
    assert client.get(reverse("sales:number_detail", args=[number.pk])).status_code == 404


# --- query counts ------------------------------------------------------------------------
def _grow(dept, n):
    for _ in range(n):
        category = make_category(dept.director)
        make_product(dept.director, category=category)
        for person in (dept.sales, dept.sales_mate, dept.other_sales):
            number = take_number(person)
            services.contract_number_void(number=number, by=person.user, reason="作废")


@pytest.mark.parametrize("url_name", ["sales:product_list", "sales:category_list",
                                      "sales:number_list", "sales:number_mine"])
def test_list_pages_cost_constant_queries(as_user, dept, url_name):
    client = as_user(dept.director)

    def cost():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse(url_name))
        assert response.status_code == 200
        return len(ctx)

    _grow(dept, 2)
    small = cost()
    _grow(dept, 6)
    assert cost() == small


def test_detail_pages_cost_constant_queries(as_user, dept):
    client = as_user(dept.finance)
    _grow(dept, 1)
    product, number = Product.objects.first(), ContractNumber.objects.first()

    def cost():
        counts = []
        for url in (reverse("sales:product_detail", args=[product.pk]),
                    reverse("sales:number_detail", args=[number.pk])):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            counts.append(len(ctx))
        return counts

    before = cost()
    _grow(dept, 3)
    assert cost() == before


def test_the_navigation_has_a_sales_menu(as_user, dept):
    html = as_user(dept.sales).get(reverse("sales:product_list")).content.decode()
    assert reverse("sales:number_list") in html and reverse("sales:product_list") in html
