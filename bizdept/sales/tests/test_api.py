"""SAL API: products and categories (SAL-1), the contract number register (SAL-4).

Status codes (201 on create, 400 naming the field on a bad value, 403 when the role does
not allow it, 404 out of scope or missing, 409 for a duplicate code), the one error body,
and a constant number of queries per list however many rows there are.
"""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import Workbook

from bizdept.sales import services
from bizdept.sales.models import ContractNumber, Product

from .factories import make_category, make_product, take_number

API = "/api/v1"
YEAR = timezone.localdate().year


def get(client, path, **params):
    return client.get(API + path, params)


def send(client, method, path, body=None):
    return getattr(client, method)(API + path, data=json.dumps({} if body is None else body),
                                   content_type="application/json")


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.content[:800])
    return response.json()


def assert_error(response, status, field=None):
    assert response.status_code == status, (response.status_code, response.content[:800])
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["detail"]
    if field is not None:
        assert body["errors"].get(field) or body["errors"].get(f"payload.{field}"), body
    return body


def ids(response) -> set[int]:
    return {row["id"] for row in ok(response)["items"]}


def product_body(cat, **over):
    body = {"code": "VFD-075", "name": "通用变频器 7.5kW", "category": cat.pk, "unit": "台",
            "list_price": "4680.00", "standard_cost": 3120}
    body.update(over)
    return body


# === Products (SAL-1) ==================================================================
def test_director_creates_a_product(as_user, dept):
    category = make_category(dept.director)
    body = ok(send(as_user(dept.director), "post", "/products", product_body(category)), 201)
    assert body["code"] == "VFD-075" and body["category"] == {"id": category.pk,
                                                              "name": category.name}
    assert body["list_price"] == "4680.00" and body["standard_cost"] == "3120.00"
    assert body["margin"] == "1560.00" and body["margin_rate"] == "33.33"
    assert body["is_active"] is True


def test_a_salesperson_reads_but_may_not_write(as_user, dept):
    product = make_product(dept.director)
    client = as_user(dept.sales)
    assert ids(get(client, "/products")) == {product.pk}
    assert ok(get(client, f"/products/{product.pk}"))["code"] == product.code
    assert_error(send(client, "post", "/products", product_body(product.category, code="N")), 403)
    assert_error(send(client, "patch", f"/products/{product.pk}", {"list_price": 1}), 403)
    assert not Product.objects.filter(code="N").exists()


@pytest.mark.parametrize(("over", "field"), [
    ({"list_price": 0.001}, "list_price"), ({"standard_cost": 0.005}, "standard_cost"),
    ({"code": " "}, "code"), ({"category": 999999}, "category"),
])
def test_bad_values_answer_400_naming_the_field(as_user, dept, over, field):
    category = make_category(dept.director)
    assert_error(send(as_user(dept.director), "post", "/products",
                      product_body(category, **over)), 400, field)
    assert not Product.objects.exists()


@pytest.mark.parametrize(("over", "field"), [
    ({"list_price": "abc"}, "list_price"), ({"list_price": -1}, "list_price"),
    ({"list_price": True}, "list_price"), ({"list_price": "1e3"}, "list_price"),
    ({"owner": 1}, "owner"), ({"code": ""}, "code"),
])
def test_malformed_input_answers_422(as_user, dept, over, field):
    category = make_category(dept.director)
    assert_error(send(as_user(dept.director), "post", "/products",
                      product_body(category, **over)), 422, field)


def test_duplicate_code_answers_409(as_user, dept):
    product = make_product(dept.director, code="VFD-075")
    assert_error(send(as_user(dept.director), "post", "/products",
                      product_body(product.category)), 409, "code")


def test_patch_changes_only_what_is_sent_and_deactivates(as_user, dept):
    product = make_product(dept.director, price="100", cost="60")
    client = as_user(dept.admin)
    body = ok(send(client, "patch", f"/products/{product.pk}", {"list_price": 120.5}))
    assert body["list_price"] == "120.50" and body["standard_cost"] == "60.00"
    body = ok(send(client, "patch", f"/products/{product.pk}", {"is_active": False}))
    assert body["is_active"] is False
    assert ids(get(client, "/products", active="true")) == set()
    assert ids(get(client, "/products", active="false")) == {product.pk}
    assert_error(send(client, "patch", f"/products/{product.pk}", {"name": None}), 422)
    assert_error(send(client, "patch", "/products/999999", {"name": "x"}), 404)


def test_product_filters_and_ordering(as_user, dept):
    top = make_category(dept.director, name="自动化")
    child = make_category(dept.director, name="PLC", parent=top)
    other = make_category(dept.director, name="仪表")
    a = make_product(dept.director, code="A-1", category=child, price="10", name="小型PLC")
    b = make_product(dept.director, code="B-1", category=other, price="30", name="流量计")
    c = make_product(dept.director, code="C-1", category=top, price="20", name="控制柜")
    client = as_user(dept.sales)
    assert ids(get(client, "/products", category=top.pk)) == {a.pk, c.pk}
    assert ids(get(client, "/products", q="流量")) == {b.pk}
    rows = ok(get(client, "/products", ordering="-list_price"))["items"]
    assert [r["code"] for r in rows] == ["B-1", "C-1", "A-1"]
    assert_error(get(client, "/products", ordering="margin"), 422, "ordering")
    assert_error(get(client, "/products", category=999999), 400, "category")


def test_categories_list(as_user, dept):
    top = make_category(dept.director, name="自动化", sort_order=2)
    child = make_category(dept.director, name="PLC", parent=top, sort_order=1)
    make_product(dept.director, category=child)
    rows = ok(get(as_user(dept.outsider), "/product-categories"))["items"]
    assert rows == [
        {"id": child.pk, "name": "PLC", "parent": {"id": top.pk, "name": "自动化"},
         "sort_order": 1, "product_count": 1},
        {"id": top.pk, "name": "自动化", "parent": None, "sort_order": 2, "product_count": 0},
    ]


def test_product_endpoints_need_authentication(client, dept):
    for path in ("/products", "/product-categories", "/contract-numbers"):
        assert_error(get(client, path), 401)


def _xlsx(rows) -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "产品"
    sheet.append(["编码", "名称", "类别", "单位", "标准售价", "标准成本"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("products.xlsx", buffer.getvalue())


def test_import_upload_answers_202_and_only_for_catalogue_keepers(
        as_user, dept, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    category = make_category(dept.director, name="仪表")
    client = as_user(dept.director)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(API + "/products/import",
                               {"file": _xlsx([["PT-100", "压力变送器", category.name, "台",
                                                1860, 1020]]), "mode": "all_or_nothing"})
    job = ok(response, 202)
    assert job["kind"] == "products"
    assert ok(get(client, f"/imports/{job['id']}"))["status"] == "done"  # tests run tasks now
    assert Product.objects.get(code="PT-100").list_price == 1860
    response = as_user(dept.sales).post(API + "/products/import",
                                        {"file": _xlsx([["X", "x", "仪表", "台", 1, 1]])})
    assert_error(response, 403)
    client = as_user(dept.admin)
    response = client.post(API + "/products/import", {"file": SimpleUploadedFile("a.xlsx", b"no")})
    assert_error(response, 400, "file")


# === Contract number register (SAL-4) ==================================================
def test_a_salesperson_takes_a_number(as_user, dept):
    rows = ok(send(as_user(dept.sales), "post", "/contract-numbers/issue", {}), 201)
    assert len(rows) == 1
    row = rows[0]
    assert row["number"] == f"HT-{YEAR}-000001" and row["status"] == "issued"
    assert row["issued_to"]["id"] == dept.sales.pk and row["issued_by"]["id"] == dept.sales.pk


def test_finance_issues_several_to_a_salesperson(as_user, dept):
    rows = ok(send(as_user(dept.finance), "post", "/contract-numbers/issue",
                   {"to": dept.other_sales.pk, "count": 3}), 201)
    assert [r["seq"] for r in rows] == [1, 2, 3]
    assert {r["issued_to"]["id"] for r in rows} == {dept.other_sales.pk}


def test_issue_refusals(as_user, dept):
    client = as_user(dept.sales)
    assert_error(send(client, "post", "/contract-numbers/issue", {"to": dept.sales_mate.pk}), 403)
    assert_error(send(client, "post", "/contract-numbers/issue", {"to": 999999}), 400, "to")
    assert_error(send(client, "post", "/contract-numbers/issue", {"count": 51}), 422, "count")
    assert_error(send(client, "post", "/contract-numbers/issue", {"count": "2"}), 422, "count")
    assert not ContractNumber.objects.exists()


def test_void_and_return_through_the_api(as_user, dept):
    first, second = take_number(dept.sales, count=2)
    client = as_user(dept.sales)
    body = ok(send(client, "post", f"/contract-numbers/{first.pk}/void", {"reason": "打印错误"}))
    assert (body["status"], body["reason"], body["closed_by"]["id"]) == (
        "voided", "打印错误", dept.sales.pk)
    assert_error(send(client, "post", f"/contract-numbers/{first.pk}/return",
                      {"reason": "再退"}), 400, "status")
    assert_error(send(client, "post", f"/contract-numbers/{second.pk}/return",
                      {"reason": "   "}), 400, "reason")
    assert_error(send(client, "post", f"/contract-numbers/{second.pk}/return", {}), 422,
                 "reason")
    body = ok(send(client, "post", f"/contract-numbers/{second.pk}/return", {"reason": "不用了"}))
    assert body["status"] == "returned"


def test_out_of_scope_numbers_answer_404(as_user, dept):
    number = take_number(dept.other_sales)
    client = as_user(dept.sales)
    assert_error(get(client, f"/contract-numbers/{number.pk}"), 404)
    assert_error(send(client, "post", f"/contract-numbers/{number.pk}/void", {"reason": "x"}),
                 404)
    assert ok(get(as_user(dept.finance), f"/contract-numbers/{number.pk}"))["id"] == number.pk


def test_register_filters(as_user, dept):
    mine = take_number(dept.sales)
    theirs = take_number(dept.sales_mate)
    services.contract_number_void(number=theirs, by=dept.lead.user, reason="作废")
    client = as_user(dept.lead)
    assert ids(get(client, "/contract-numbers")) == {mine.pk, theirs.pk}
    assert ids(get(client, "/contract-numbers", status="voided")) == {theirs.pk}
    assert ids(get(client, "/contract-numbers", person=dept.sales.pk)) == {mine.pk}
    assert ids(get(client, "/contract-numbers", year=YEAR - 1)) == set()
    assert ids(get(client, "/contract-numbers", q="作废")) == {theirs.pk}
    rows = ok(get(client, "/contract-numbers", ordering="number"))["items"]
    assert [r["id"] for r in rows] == [mine.pk, theirs.pk]
    assert ids(get(as_user(dept.sales), "/contract-numbers", mine="true")) == {mine.pk}
    assert_error(get(client, "/contract-numbers", year=1999), 422, "year")
    assert_error(get(client, "/contract-numbers", status="lost"), 422, "status")


# --- query counts --------------------------------------------------------------------------
def _queries(client, path, **params):
    with CaptureQueriesContext(connection) as ctx:
        response = get(client, path, **params)
    assert response.status_code == 200, response.content[:500]
    return len(ctx), response.json()


def _grow(dept, n):
    for _ in range(n):
        category = make_category(dept.director)
        make_product(dept.director, category=category)
        for person in (dept.sales, dept.sales_mate, dept.other_sales):
            number = take_number(person)
            services.contract_number_void(number=number, by=dept.finance.user, reason="作废")
            take_number(person)


@pytest.mark.parametrize(("path", "params"), [
    ("/products", {"page_size": 200}),
    ("/products", {"page_size": 200, "active": "true", "q": "变频", "ordering": "-list_price"}),
    ("/product-categories", {"page_size": 200}),
    ("/contract-numbers", {"page_size": 200}),
    ("/contract-numbers", {"page_size": 200, "status": "voided", "q": "HT"}),
])
def test_list_endpoints_cost_the_same_queries_for_n_and_3n_rows(as_user, dept, path, params):
    client = as_user(dept.manager if "contract" in path else dept.sales)
    _grow(dept, 2)
    small, body = _queries(client, path, **params)
    small_rows = body["count"]
    _grow(dept, 4)
    large, body = _queries(client, path, **params)
    assert body["count"] > small_rows and len(body["items"]) == body["count"]
    assert small == large, (small, large)


def test_detail_endpoints_cost_a_constant_number_of_queries(as_user, dept):
    _grow(dept, 1)
    product = Product.objects.first()
    number = ContractNumber.objects.first()
    client = as_user(dept.finance)
    before = [_queries(client, f"/products/{product.pk}")[0],
              _queries(client, f"/contract-numbers/{number.pk}")[0]]
    _grow(dept, 3)
    assert [_queries(client, f"/products/{product.pk}")[0],
            _queries(client, f"/contract-numbers/{number.pk}")[0]] == before
