"""CUS API: customers, the public pool, transfers, grades, contacts and visits.

Status codes (201 on create, 400 naming the field on a bad value, 403 when the role does
not allow the action, 404 out of scope or missing, 409 for a duplicate customer), the one
error body, and a constant number of queries per list however many rows there are.
"""

import datetime
import itertools
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bizdept.core.validators import credit_code_check_char
from bizdept.customers import services
from bizdept.customers.models import Contact, Customer, CustomerSettings, OwnerChange, Visit
from bizdept.org.tests.factories import make_employee

API = "/api/v1"
_serial = itertools.count(1)


# --- helpers -------------------------------------------------------------------------
def credit_code(n: int) -> str:
    first17 = f"91310000{n:09d}"
    return first17 + credit_code_check_char(first17)


def mobile(n: int) -> str:
    return f"1390013{n:04d}"


def make_customer(owner, name=None, **fields):
    return services.customer_create(by=owner.user, name=name or f"客户{next(_serial)}", **fields)


def get(client, path, **params):
    return client.get(API + path, params)


def send(client, method, path, body=None):
    return getattr(client, method)(API + path, data=json.dumps({} if body is None else body),
                                   content_type="application/json")


def post(client, path, body=None):
    return send(client, "post", path, body)


def patch(client, path, body=None):
    return send(client, "patch", path, body)


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.content[:800])
    return response.json() if response.content else None


def named(errors: dict, field: str) -> list | None:
    """The messages for ``field``. A malformed request body (422) may name its fields under
    the body parameter ("payload.name"): the shared error handler keeps that prefix."""
    return errors.get(field, errors.get(f"payload.{field}"))


def assert_error(response, status, field=None):
    """Every 4xx has the one error body; ``field`` is named in its errors."""
    assert response.status_code == status, (response.status_code, response.content[:800])
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert isinstance(body["detail"], str) and body["detail"]
    if field is not None:
        messages = named(body["errors"], field)
        assert messages, body
        assert all(isinstance(m, str) and m for m in messages)
    return body


def ids(response) -> set[int]:
    return {row["id"] for row in ok(response)["items"]}


def ref(employee) -> dict:
    return {"id": employee.pk, "number": employee.number, "name": employee.name}


# --- customers: create ---------------------------------------------------------------
def test_salesperson_creates_a_customer_they_own(as_user, dept):
    response = post(as_user(dept.sales), "/customers", {
        "name": "上海星河贸易有限公司", "credit_code": credit_code(1).lower(),
        "phone": "139 0013 0001", "region": "上海", "industry": "贸易", "stage": "active",
        "source": "referral"})
    body = ok(response, 201)
    customer = Customer.objects.get(pk=body["id"])
    assert customer.owner == dept.sales
    assert body["owner"] == ref(dept.sales)
    assert body["owner_unit"] == {"id": dept.team.pk, "name": "上海一所"}
    assert body["credit_code"] == credit_code(1)  # normalized
    assert body["phone"] == "+8613900130001"
    assert body["stage"] == "active" and body["source"] == "referral"
    assert body["in_pool"] is False and body["collaborators"] == []
    assert body["grade"] == "D" and body["grade_is_manual"] is False  # no money received yet
    assert body["next_revisit_on"] is not None and body["overdue"] is False
    assert OwnerChange.objects.filter(customer=customer, kind="created").count() == 1


def test_create_needs_only_a_name(as_user, dept):
    body = ok(post(as_user(dept.sales), "/customers", {"name": "个体户老王", "kind": "individual"}),
              201)
    assert body["kind"] == "individual" and body["credit_code"] == "" and body["phone"] == ""


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "甲公司", "credit_code": "91310000000000001X"}, "credit_code"),
    ({"name": "甲公司", "credit_code": "123"}, "credit_code"),
    ({"name": "甲公司", "phone": "12345"}, "phone"),
    ({"name": "甲公司", "phone": "not a phone"}, "phone"),
    ({"name": "   "}, "name"),
])
def test_bad_values_answer_400_naming_the_field_and_create_nothing(as_user, dept, body, field):
    assert_error(post(as_user(dept.sales), "/customers", body), 400, field)
    assert not Customer.objects.exists()


def test_every_bad_identifier_is_named_at_once(as_user, dept):
    body = assert_error(post(as_user(dept.sales), "/customers",
                             {"name": "甲公司", "credit_code": "X", "phone": "1"}), 400)
    assert set(body["errors"]) == {"credit_code", "phone"}


@pytest.mark.parametrize(("body", "field"), [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": "a\x00b"}, "name"),
    ({"name": "甲", "kind": "alien"}, "kind"),
    ({"name": "甲", "stage": "won"}, "stage"),
    ({"name": "甲", "owner": 0}, "owner"),
    ({"name": "甲", "owner": 2**63}, "owner"),
    ({"name": "甲", "notes": "x" * 2001}, "notes"),
    ({"name": "甲", "collaborators": list(range(1, 30))}, "collaborators"),
])
def test_malformed_input_answers_422_naming_the_field(as_user, dept, body, field):
    assert_error(post(as_user(dept.sales), "/customers", body), 422, field)


def test_duplicate_name_answers_409_naming_the_owner_and_unit(as_user, dept):
    make_customer(dept.sales, name="杭州远洋科技有限公司")
    body = assert_error(post(as_user(dept.other_sales), "/customers",
                             {"name": "杭州 远洋科技（有限公司）"}), 409, "name")
    assert "业务员甲" in body["detail"] and "上海一所" in body["detail"]
    assert Customer.objects.count() == 1


def test_duplicate_credit_code_and_phone_answer_409(as_user, dept):
    make_customer(dept.sales, credit_code=credit_code(7), phone=mobile(7))
    client = as_user(dept.other_sales)
    body = assert_error(post(client, "/customers", {"name": "别名公司",
                                                    "credit_code": credit_code(7)}), 409,
                        "credit_code")
    assert "业务员甲" in body["detail"]
    assert_error(post(client, "/customers", {"name": "又一个", "phone": mobile(7)}), 409, "phone")


def test_duplicate_of_a_pool_customer_says_to_claim_it(as_user, dept):
    customer = make_customer(dept.sales, name="池中公司")
    services.customer_release(customer=customer, by=dept.sales.user, reason="不跟了")
    body = assert_error(post(as_user(dept.other_sales), "/customers", {"name": "池中公司"}), 409)
    assert "业务员甲" not in body["detail"]


def test_head_creates_a_customer_for_someone_in_their_unit(as_user, dept):
    body = ok(post(as_user(dept.lead), "/customers", {"name": "分配公司",
                                                      "owner": dept.sales.pk}), 201)
    assert body["owner"]["id"] == dept.sales.pk
    # ... and the salesperson sees it.
    ok(get(as_user(dept.sales), f"/customers/{body['id']}"))


def test_salesperson_cannot_create_for_someone_else(as_user, dept):
    assert_error(post(as_user(dept.sales), "/customers",
                      {"name": "越权公司", "owner": dept.sales_mate.pk}), 403)
    assert_error(post(as_user(dept.lead), "/customers",
                      {"name": "越权公司", "owner": dept.other_sales.pk}), 403)
    assert not Customer.objects.exists()


def test_unknown_owner_or_collaborator_answers_400_naming_the_field(as_user, dept):
    client = as_user(dept.lead)
    assert_error(post(client, "/customers", {"name": "甲", "owner": 999_999}), 400, "owner")
    assert_error(post(client, "/customers", {"name": "甲", "collaborators": [999_999]}), 400,
                 "collaborators")


def test_anyone_working_may_create_a_customer_and_owns_it(as_user, dept):
    body = ok(post(as_user(dept.finance), "/customers", {"name": "财务介绍的客户"}), 201)
    assert body["owner"]["id"] == dept.finance.pk


# --- customers: detail and edit ------------------------------------------------------
def test_customer_detail_by_scope(as_user, dept):
    customer = make_customer(dept.sales)
    for persona, status in (("sales", 200), ("sales_mate", 404), ("lead", 200),
                            ("manager", 200), ("director", 200), ("other_sales", 404),
                            ("finance", 404), ("hr", 404), ("admin", 200), ("outsider", 404)):
        response = get(as_user(getattr(dept, persona)), f"/customers/{customer.pk}")
        assert response.status_code == status, persona


def test_out_of_scope_and_missing_customers_answer_the_same_404(as_user, dept):
    customer = make_customer(dept.other_sales)
    client = as_user(dept.sales)
    hidden = assert_error(get(client, f"/customers/{customer.pk}"), 404)
    assert hidden == assert_error(get(client, "/customers/999999"), 404)
    assert_error(patch(client, f"/customers/{customer.pk}", {"stage": "lost"}), 404)
    assert_error(post(client, f"/customers/{customer.pk}/visits", {"summary": "x"}), 404)


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "1.5", str(2**70)])
def test_customer_detail_with_a_bad_id_answers_422(as_user, director, bad):
    assert_error(get(as_user(director), f"/customers/{bad}"), 422, "customer_id")


def test_collaborator_sees_the_customer(as_user, dept):
    customer = make_customer(dept.sales)
    body = ok(patch(as_user(dept.sales), f"/customers/{customer.pk}",
                    {"collaborators": [dept.other_sales.pk]}))
    assert body["collaborators"] == [ref(dept.other_sales)]
    ok(get(as_user(dept.other_sales), f"/customers/{customer.pk}"))


def test_collaborators_can_be_replaced(as_user, dept):
    """Replacing one collaborator by another removes and adds in one request."""
    customer = make_customer(dept.sales)
    client = as_user(dept.sales)
    ok(patch(client, f"/customers/{customer.pk}", {"collaborators": [dept.sales_mate.pk]}))
    body = ok(patch(client, f"/customers/{customer.pk}", {"collaborators": [dept.lead.pk]}))
    assert body["collaborators"] == [ref(dept.lead)]
    assert ok(patch(client, f"/customers/{customer.pk}", {"collaborators": []}))[
        "collaborators"] == []


@pytest.mark.parametrize("body", [[None, None], [], 5, "text", True])
def test_a_body_that_is_not_an_object_answers_422(as_user, dept, body):
    customer = make_customer(dept.sales)
    assert_error(patch(as_user(dept.sales), f"/customers/{customer.pk}", body), 422)


@pytest.mark.parametrize(("body", "field"), [
    ({"owner": 1}, "owner"),            # not editable here: transfer it
    ({"grade": "A"}, "grade"),          # not editable here: POST .../grade
    ({"stage": "active", "colour": "red"}, "colour"),
    ({"notes": 5}, "notes"),
])
def test_unknown_or_mistyped_fields_are_refused_not_ignored(as_user, dept, body, field):
    customer = make_customer(dept.sales)
    assert_error(patch(as_user(dept.sales), f"/customers/{customer.pk}", body), 422, field)
    assert Customer.objects.get(pk=customer.pk).stage == "prospect"


@pytest.mark.parametrize("body", [
    {"summary": "x", "contact": "1"}, {"summary": "x", "check_in": "true"},
    {"summary": "x", "next_on": 0}, {"summary": "x", "visited_at": 1700000000},
    {"summary": "x", "latitude": "31.2", "longitude": 121},
])
def test_visit_numbers_dates_and_flags_must_have_their_json_type(as_user, dept, body):
    customer = make_customer(dept.sales)
    assert_error(post(as_user(dept.sales), f"/customers/{customer.pk}/visits", body), 422)


def test_a_whole_float_is_an_id(as_user, dept):
    """JSON (and JSON Schema) count 7.0 as the integer 7."""
    customer = make_customer(dept.sales)
    body = ok(patch(as_user(dept.sales), f"/customers/{customer.pk}",
                    {"collaborators": [float(dept.sales_mate.pk)]}))
    assert body["collaborators"] == [ref(dept.sales_mate)]


def test_owner_edits_their_customer(as_user, dept):
    customer = make_customer(dept.sales)
    body = ok(patch(as_user(dept.sales), f"/customers/{customer.pk}",
                    {"stage": "active", "phone": "021-6123 4567", "notes": "大客户"}))
    assert body["stage"] == "active" and body["phone"] == "+862161234567"
    assert body["notes"] == "大客户" and body["name"] == customer.name  # untouched


def test_edit_with_a_bad_phone_answers_400_and_changes_nothing(as_user, dept):
    customer = make_customer(dept.sales)
    assert_error(patch(as_user(dept.sales), f"/customers/{customer.pk}",
                       {"phone": "123", "notes": "改了"}), 400, "phone")
    customer.refresh_from_db()
    assert customer.phone == "" and customer.notes == ""


def test_edit_to_a_duplicate_name_answers_409(as_user, dept):
    make_customer(dept.other_sales, name="已有公司")
    customer = make_customer(dept.sales)
    body = assert_error(patch(as_user(dept.sales), f"/customers/{customer.pk}",
                              {"name": "已有公司"}), 409, "name")
    assert "业务员丙" in body["detail"] and "杭州所" in body["detail"]


def test_edit_null_is_not_a_value(as_user, dept):
    customer = make_customer(dept.sales)
    assert_error(patch(as_user(dept.sales), f"/customers/{customer.pk}", {"name": None}), 422,
                 "name")


def test_head_edits_a_customer_in_their_unit(as_user, dept):
    customer = make_customer(dept.sales)
    ok(patch(as_user(dept.lead), f"/customers/{customer.pk}", {"region": "浦东"}))
    assert Customer.objects.get(pk=customer.pk).region == "浦东"


# --- customers: list -----------------------------------------------------------------
def test_customer_list_row_is_small(as_user, dept):
    customer = make_customer(dept.sales, credit_code=credit_code(3), phone=mobile(3))
    body = ok(get(as_user(dept.sales), "/customers"))
    assert set(body) == {"items", "count", "page", "page_size"} and body["count"] == 1
    assert body["items"][0] == {
        "id": customer.pk, "name": customer.name, "kind": "company",
        "credit_code": credit_code(3), "region": "", "stage": "prospect", "grade": "D",
        "phone": "+86" + mobile(3), "owner": ref(dept.sales), "last_followup_at": None,
        "next_revisit_on": customer.next_revisit_on.isoformat(), "overdue": False,
    }


def test_customer_list_follows_the_scope_rule(as_user, dept):
    mine = make_customer(dept.sales)
    mate = make_customer(dept.sales_mate)
    other = make_customer(dept.other_sales)
    outsider = make_customer(dept.outsider)
    assert ids(get(as_user(dept.sales), "/customers")) == {mine.pk}
    assert ids(get(as_user(dept.lead), "/customers")) == {mine.pk, mate.pk}
    assert ids(get(as_user(dept.manager), "/customers")) == {mine.pk, mate.pk, other.pk}
    assert ids(get(as_user(dept.finance), "/customers")) == set()
    assert ids(get(as_user(dept.admin), "/customers")) == {mine.pk, mate.pk, other.pk,
                                                           outsider.pk}


@pytest.fixture
def book(dept):
    """A few customers in the division, in different states."""
    today = timezone.localdate()
    book = {
        "star": make_customer(dept.sales, name="星辰科技", credit_code=credit_code(11),
                              phone=mobile(11), region="上海浦东", stage="active"),
        "quiet": make_customer(dept.sales_mate, name="静水贸易", region="上海徐汇",
                               stage="dormant"),
        "far": make_customer(dept.other_sales, name="远山物流", region="杭州"),
        "pooled": make_customer(dept.sales, name="池塘公司"),
    }
    services.customer_release(customer=book["pooled"], by=dept.sales.user, reason="无意向")
    services.customer_grade_override(customer=book["star"], by=dept.lead.user, grade="A",
                                     reason="战略客户")
    Customer.objects.filter(pk=book["quiet"].pk).update(
        next_revisit_on=today - datetime.timedelta(days=1))
    Customer.objects.filter(pk=book["far"].pk).update(next_revisit_on=today)
    return book


@pytest.mark.parametrize(("params", "expected"), [
    ({}, {"star", "quiet", "far", "pooled"}),
    ({"q": "星辰"}, {"star"}),
    ({"q": credit_code(11)}, {"star"}),
    ({"q": mobile(11)[3:]}, {"star"}),
    ({"q": "  "}, {"star", "quiet", "far", "pooled"}),
    ({"stage": "dormant"}, {"quiet"}),
    ({"grade": "A"}, {"star"}),
    ({"region": "上海"}, {"star", "quiet"}),
    ({"overdue": "true"}, {"quiet", "far"}),
    ({"overdue": "false"}, {"star", "pooled"}),
    ({"pool": "true"}, {"pooled"}),
    ({"pool": "false"}, {"star", "quiet", "far"}),
    ({"unit": "TEAM"}, {"star", "quiet"}),
    ({"unit": "OTHER_TEAM"}, {"far"}),
    ({"owner": "SALES"}, {"star"}),
    ({"region": "上海", "overdue": "true"}, {"quiet"}),
])
def test_customer_list_filters(as_user, dept, book, params, expected):
    values = {"TEAM": dept.team.pk, "OTHER_TEAM": dept.other_team.pk, "SALES": dept.sales.pk}
    params = {k: values.get(v, v) for k, v in params.items()}
    found = ids(get(as_user(dept.manager), "/customers", **params))
    assert found == {book[name].pk for name in expected}


def test_filters_do_not_widen_the_scope(as_user, dept, book):
    client = as_user(dept.sales)
    assert ids(get(client, "/customers", unit=dept.division.pk)) == {book["star"].pk}
    assert ids(get(client, "/customers", q="远山")) == set()


def test_customer_list_ordering(as_user, dept, book):
    client = as_user(dept.manager)

    def names(ordering):
        rows = ok(get(client, "/customers", ordering=ordering))["items"]
        return [row["name"] for row in rows]

    assert names("-created_at") == ["池塘公司", "远山物流", "静水贸易", "星辰科技"]
    assert names("created_at") == ["星辰科技", "静水贸易", "远山物流", "池塘公司"]
    assert names("name") == sorted(names("name"))
    assert names("-name") == names("name")[::-1]
    assert names("grade")[0] == "星辰科技"  # A, then the D customers
    assert names("-grade")[-1] == "星辰科技"
    due = [name for name in names("next_revisit_on") if name != "池塘公司"]
    assert due[:2] == ["静水贸易", "远山物流"]


@pytest.mark.parametrize(("params", "field"), [
    ({"stage": "won"}, "stage"),
    ({"grade": "E"}, "grade"),
    ({"owner": "0"}, "owner"),
    ({"unit": "x"}, "unit"),
    ({"overdue": "maybe"}, "overdue"),
    ({"pool": "yes"}, "pool"),
    ({"ordering": "owner__user__password"}, "ordering"),
    ({"q": "x" * 101}, "q"),
    ({"region": "a\x00"}, "region"),
    ({"page_size": "1000"}, "page_size"),
])
def test_invalid_filter_values_answer_422_naming_the_field(as_user, director, params, field):
    assert_error(get(as_user(director), "/customers", **params), 422, field)


@pytest.mark.parametrize("field", ["owner", "unit"])
def test_unknown_owner_or_unit_answers_400_naming_the_field(as_user, director, field):
    assert_error(get(as_user(director), "/customers", **{field: 999_999}), 400, field)


def test_customer_endpoints_need_authentication(client, dept):
    customer = make_customer(dept.sales)
    for path in ("/customers", f"/customers/{customer.pk}", "/visits",
                 f"/customers/{customer.pk}/contacts"):
        assert_error(get(client, path), 401)
    assert_error(post(client, "/customers", {"name": "甲"}), 401)


# --- pool: release and claim ---------------------------------------------------------
def test_release_then_someone_else_claims_from_the_pool(as_user, dept):
    customer = make_customer(dept.sales)
    body = ok(post(as_user(dept.sales), f"/customers/{customer.pk}/release",
                   {"reason": "客户无预算"}))
    assert body["in_pool"] is True and body["owner"] is None and body["pooled_at"]
    assert body["next_revisit_on"] is None

    claimer = as_user(dept.other_sales)
    assert ids(get(claimer, "/customers", pool="true")) == {customer.pk}
    body = ok(post(claimer, f"/customers/{customer.pk}/claim"))
    assert body["owner"] == ref(dept.other_sales) and body["in_pool"] is False
    kinds = list(OwnerChange.objects.filter(customer=customer).values_list("kind", flat=True))
    assert sorted(kinds) == ["claim", "created", "release"]
    # No longer in the pool, and no longer the first salesperson's.
    assert_error(get(as_user(dept.sales), f"/customers/{customer.pk}"), 404)


def test_claiming_a_customer_someone_owns_answers_409(as_user, dept):
    customer = make_customer(dept.sales)
    assert_error(post(as_user(dept.lead), f"/customers/{customer.pk}/claim"), 409)


def test_claiming_out_of_scope_answers_404(as_user, dept):
    customer = make_customer(dept.other_sales)
    assert_error(post(as_user(dept.sales), f"/customers/{customer.pk}/claim"), 404)


def test_daily_claim_limit_answers_400(as_user, dept):
    CustomerSettings.objects.filter(pk=1).update(daily_claim_limit=1)
    first, second = make_customer(dept.sales), make_customer(dept.sales)
    for customer in (first, second):
        services.customer_release(customer=customer, by=dept.sales.user, reason="放弃")
    client = as_user(dept.sales_mate)
    ok(post(client, f"/customers/{first.pk}/claim"))
    assert_error(post(client, f"/customers/{second.pk}/claim"), 400)


def test_release_needs_a_reason(as_user, dept):
    customer = make_customer(dept.sales)
    client = as_user(dept.sales)
    assert_error(post(client, f"/customers/{customer.pk}/release", {}), 422, "reason")
    assert_error(post(client, f"/customers/{customer.pk}/release", {"reason": "   "}), 400,
                 "reason")
    assert_error(post(client, f"/customers/{customer.pk}/release", {"reason": "x" * 101}), 422,
                 "reason")
    assert Customer.objects.get(pk=customer.pk).owner == dept.sales


def test_colleague_cannot_release_what_they_only_see_in_the_pool(as_user, dept):
    customer = make_customer(dept.sales)
    services.customer_release(customer=customer, by=dept.sales.user, reason="放弃")
    assert_error(post(as_user(dept.sales_mate), f"/customers/{customer.pk}/release",
                      {"reason": "再放一次"}), 403)


# --- transfer ------------------------------------------------------------------------
def test_head_transfers_customers_in_bulk(as_user, dept):
    first, second = make_customer(dept.sales), make_customer(dept.sales)
    body = ok(post(as_user(dept.lead), "/customers/transfer", {
        "customer_ids": [first.pk, second.pk], "to_owner": dept.sales_mate.pk,
        "reason": "业务员甲调岗"}))
    assert body == {"moved": 2}
    assert set(Customer.objects.values_list("owner", flat=True)) == {dept.sales_mate.pk}
    change = OwnerChange.objects.get(customer=first, kind="transfer")
    assert (change.from_owner, change.to_owner, change.by, change.reason) == (
        dept.sales, dept.sales_mate, dept.lead, "业务员甲调岗")


def test_salesperson_cannot_transfer(as_user, dept):
    customer = make_customer(dept.sales)
    body = assert_error(post(as_user(dept.sales), "/customers/transfer", {
        "customer_ids": [customer.pk], "to_owner": dept.sales.pk, "reason": "想转"}), 403)
    assert body["errors"] == {}
    assert_error(post(as_user(dept.sales), "/customers/transfer", {
        "customer_ids": [customer.pk], "to_owner": dept.sales_mate.pk, "reason": "想转"}), 403)
    assert Customer.objects.get(pk=customer.pk).owner == dept.sales


def test_head_cannot_transfer_outside_their_unit(as_user, dept):
    customer = make_customer(dept.sales)
    assert_error(post(as_user(dept.lead), "/customers/transfer", {
        "customer_ids": [customer.pk], "to_owner": dept.other_sales.pk, "reason": "跨所"}), 403)


def test_transfer_of_unseen_or_missing_customers_answers_400_naming_them(as_user, dept):
    hidden = make_customer(dept.other_sales)
    mine = make_customer(dept.sales)
    body = assert_error(post(as_user(dept.lead), "/customers/transfer", {
        "customer_ids": [mine.pk, hidden.pk, 999_999], "to_owner": dept.sales_mate.pk,
        "reason": "整理"}), 400, "customer_ids")
    assert str(hidden.pk) in body["detail"] and "999999" in body["detail"]
    assert Customer.objects.get(pk=mine.pk).owner == dept.sales


@pytest.mark.parametrize(("body", "field", "status"), [
    ({"customer_ids": [], "to_owner": 1, "reason": "x"}, "customer_ids", 422),
    ({"customer_ids": [1], "reason": "x"}, "to_owner", 422),
    ({"customer_ids": [1], "to_owner": 1}, "reason", 422),
    ({"customer_ids": [1], "to_owner": 999_999, "reason": "x"}, "to_owner", 400),
])
def test_transfer_input_errors(as_user, dept, body, field, status):
    customer = make_customer(dept.sales)
    body = {**body, "customer_ids": [customer.pk] if body["customer_ids"] else []}
    assert_error(post(as_user(dept.lead), "/customers/transfer", body), status, field)


# --- grade ---------------------------------------------------------------------------
def test_head_sets_a_grade_by_hand_and_drops_it(as_user, dept):
    customer = make_customer(dept.sales)
    client = as_user(dept.lead)
    body = ok(post(client, f"/customers/{customer.pk}/grade", {"grade": "A",
                                                              "reason": "集团战略客户"}))
    assert body["grade"] == "A" and body["grade_is_manual"] is True
    assert body["grade_reason"] == "集团战略客户"
    body = ok(client.delete(f"{API}/customers/{customer.pk}/grade"))
    assert body["grade"] == "D" and body["grade_is_manual"] is False


def test_salesperson_cannot_set_a_grade(as_user, dept):
    customer = make_customer(dept.sales)
    assert_error(post(as_user(dept.sales), f"/customers/{customer.pk}/grade",
                      {"grade": "A", "reason": "我觉得是A"}), 403)
    assert Customer.objects.get(pk=customer.pk).grade == "D"


@pytest.mark.parametrize(("body", "field", "status"), [
    ({"grade": "S", "reason": "x"}, "grade", 422),
    ({"grade": "A"}, "reason", 422),
    ({"grade": "A", "reason": " "}, "reason", 400),
])
def test_grade_input_errors(as_user, dept, body, field, status):
    customer = make_customer(dept.sales)
    assert_error(post(as_user(dept.lead), f"/customers/{customer.pk}/grade", body), status,
                 field)


# --- contacts ------------------------------------------------------------------------
def test_contact_crud(as_user, dept):
    customer = make_customer(dept.sales)
    client = as_user(dept.sales)
    body = ok(post(client, f"/customers/{customer.pk}/contacts", {
        "name": "王经理", "title": "采购部经理", "mobile": "139-0013-0099",
        "email": "wang@example.com", "is_key": True}), 201)
    contact_id = body["id"]
    assert body["customer"] == {"id": customer.pk, "name": customer.name}
    assert body["mobile"] == "+8613900130099" and body["is_key"] is True

    ok(post(client, f"/customers/{customer.pk}/contacts", {"name": "李会计"}), 201)
    rows = ok(get(client, f"/customers/{customer.pk}/contacts"))["items"]
    assert [row["name"] for row in rows] == ["王经理", "李会计"]  # key people first

    body = ok(patch(client, f"/contacts/{contact_id}", {"title": "副总", "wechat": "wang88"}))
    assert body["title"] == "副总" and body["wechat"] == "wang88" and body["name"] == "王经理"
    assert ok(get(client, f"/contacts/{contact_id}"))["title"] == "副总"

    response = client.delete(f"{API}/contacts/{contact_id}")
    assert response.status_code == 204 and response.content == b""
    assert_error(get(client, f"/contacts/{contact_id}"), 404)
    assert Contact.objects.count() == 1


@pytest.mark.parametrize(("body", "field", "status"), [
    ({"name": "王", "phone": "12"}, "phone", 400),
    ({"name": "王", "mobile": "abc"}, "mobile", 400),
    ({"name": "王", "email": "not-an-email"}, "email", 400),
    ({}, "name", 422),
    ({"name": "x" * 51}, "name", 422),
    ({"name": "王", "is_key": "perhaps"}, "is_key", 422),
])
def test_contact_input_errors(as_user, dept, body, field, status):
    customer = make_customer(dept.sales)
    assert_error(post(as_user(dept.sales), f"/customers/{customer.pk}/contacts", body), status,
                 field)
    assert not Contact.objects.exists()


def test_contacts_follow_their_customer_scope(as_user, dept):
    customer = make_customer(dept.sales)
    contact = services.contact_create(customer=customer, by=dept.sales.user, name="王经理")
    other = as_user(dept.other_sales)
    assert_error(get(other, f"/contacts/{contact.pk}"), 404)
    assert_error(get(other, f"/customers/{customer.pk}/contacts"), 404)
    assert_error(patch(other, f"/contacts/{contact.pk}", {"title": "x"}), 404)
    assert_error(other.delete(f"{API}/contacts/{contact.pk}"), 404)
    assert_error(post(other, f"/customers/{customer.pk}/contacts", {"name": "插足"}), 404)
    assert ok(get(as_user(dept.lead), f"/contacts/{contact.pk}"))["name"] == "王经理"


def test_pool_customer_contacts_are_seen_but_not_edited_by_colleagues(as_user, dept):
    customer = make_customer(dept.sales)
    contact = services.contact_create(customer=customer, by=dept.sales.user, name="王经理")
    services.customer_release(customer=customer, by=dept.sales.user, reason="放弃")
    mate = as_user(dept.sales_mate)
    ok(get(mate, f"/contacts/{contact.pk}"))
    assert_error(patch(mate, f"/contacts/{contact.pk}", {"title": "x"}), 403)
    assert_error(mate.delete(f"{API}/contacts/{contact.pk}"), 403)
    assert Contact.objects.filter(pk=contact.pk).exists()


# --- visits --------------------------------------------------------------------------
def test_visit_with_check_in_sets_the_follow_up(as_user, dept):
    customer = make_customer(dept.sales)
    contact = services.contact_create(customer=customer, by=dept.sales.user, name="王经理")
    next_on = timezone.localdate() + datetime.timedelta(days=3)
    body = ok(post(as_user(dept.sales), f"/customers/{customer.pk}/visits", {
        "summary": "介绍新产品，客户有兴趣", "contact": contact.pk, "next_step": "报价",
        "next_on": next_on.isoformat(), "latitude": 31.2304162, "longitude": 121.4737012,
        "accuracy_m": 12.5, "check_in": True}), 201)
    assert body["checked_in_at"] is not None
    assert body["latitude"] == pytest.approx(31.230416)
    assert body["longitude"] == pytest.approx(121.473701)
    assert body["accuracy_m"] == 12.5
    assert body["employee"] == ref(dept.sales)
    assert body["contact"] == {"id": contact.pk, "name": "王经理"}
    assert body["customer"] == {"id": customer.pk, "name": customer.name}
    customer.refresh_from_db()
    assert customer.last_followup_at is not None
    assert customer.next_revisit_on == next_on
    assert ok(get(as_user(dept.sales), f"/visits/{body['id']}"))["summary"] == \
        "介绍新产品，客户有兴趣"


def test_visit_without_location_is_not_checked_in(as_user, dept):
    customer = make_customer(dept.sales)
    body = ok(post(as_user(dept.sales), f"/customers/{customer.pk}/visits",
                   {"summary": "电话沟通", "kind": "call"}), 201)
    assert body["checked_in_at"] is None and body["latitude"] is None and body["kind"] == "call"


def test_naive_visit_time_is_read_in_the_department_time_zone(as_user, dept):
    customer = make_customer(dept.sales)
    body = ok(post(as_user(dept.sales), f"/customers/{customer.pk}/visits",
                   {"summary": "上门", "visited_at": "2025-03-01T09:30:00"}), 201)
    visited_at = datetime.datetime.fromisoformat(body["visited_at"].replace("Z", "+00:00"))
    assert visited_at == datetime.datetime(2025, 3, 1, 1, 30, tzinfo=datetime.UTC)


@pytest.mark.parametrize(("body", "field", "status"), [
    ({"summary": "x", "check_in": True}, "latitude", 400),
    ({"summary": "x", "latitude": 31.2}, "latitude", 400),
    ({"summary": "x", "latitude": 91, "longitude": 0}, "latitude", 422),
    ({"summary": "x", "latitude": 0, "longitude": -180.5}, "longitude", 422),
    ({"summary": "x", "accuracy_m": -1}, "accuracy_m", 422),
    ({"summary": "x", "visited_at": "2999-01-01T00:00:00+08:00"}, "visited_at", 400),
    ({"summary": "x", "visited_at": "0001-01-01T00:00:00+01:00"}, "visited_at", 400),
    ({"summary": "x", "visited_at": "yesterday"}, "visited_at", 422),
    ({"summary": "x", "kind": "joint"}, "coach", 400),
    ({"summary": "x", "coach": 999_999}, "coach", 400),
    ({"summary": "x", "contact": 999_999}, "contact", 400),
    ({"summary": ""}, "summary", 422),
    ({"summary": "x", "kind": "party"}, "kind", 422),
])
def test_visit_input_errors(as_user, dept, body, field, status):
    customer = make_customer(dept.sales)
    assert_error(post(as_user(dept.sales), f"/customers/{customer.pk}/visits", body), status,
                 field)
    assert not Visit.objects.exists()


def test_visit_with_another_customers_contact_answers_400(as_user, dept):
    customer, other = make_customer(dept.sales), make_customer(dept.sales)
    contact = services.contact_create(customer=other, by=dept.sales.user, name="别家的人")
    assert_error(post(as_user(dept.sales), f"/customers/{customer.pk}/visits",
                      {"summary": "x", "contact": contact.pk}), 400, "contact")


def test_joint_visit_is_reviewed_by_its_coach_only(as_user, dept):
    customer = make_customer(dept.sales)
    body = ok(post(as_user(dept.sales), f"/customers/{customer.pk}/visits",
                   {"summary": "陪同拜访", "kind": "joint", "coach": dept.lead.pk}), 201)
    assert body["coach"] == ref(dept.lead)
    path = f"/visits/{body['id']}/review"
    assert_error(post(as_user(dept.sales), path, {"review": "自评"}), 403)
    assert_error(post(as_user(dept.manager), path, {"review": "我来评"}), 403)
    assert_error(post(as_user(dept.other_sales), path, {"review": "路过"}), 404)
    assert_error(post(as_user(dept.lead), path, {"review": " "}), 400, "coach_review")
    body = ok(post(as_user(dept.lead), path, {"review": "开场好", "improvement_points": "多问"}))
    assert body["coach_review"] == "开场好" and body["improvement_points"] == "多问"


def test_a_visit_without_a_coach_is_reviewed_by_nobody(as_user, dept):
    customer = make_customer(dept.sales)
    visit = services.visit_log(customer=customer, by=dept.sales.user, summary="普通拜访")
    assert_error(post(as_user(dept.lead), f"/visits/{visit.pk}/review", {"review": "好"}), 403)


def test_visit_list_filters_and_scope(as_user, dept):
    mine = make_customer(dept.sales)
    mate = make_customer(dept.sales_mate)
    day = timezone.now() - datetime.timedelta(days=10)
    old = services.visit_log(customer=mine, by=dept.sales.user, summary="旧", kind="call",
                             visited_at=day)
    new = services.visit_log(customer=mine, by=dept.sales.user, summary="新")
    mates = services.visit_log(customer=mate, by=dept.sales_mate.user, summary="乙的")
    lead = as_user(dept.lead)
    assert ids(get(lead, "/visits")) == {old.pk, new.pk, mates.pk}
    rows = ok(get(lead, "/visits"))["items"]
    assert rows[-1]["id"] == old.pk  # newest first
    assert ids(get(lead, "/visits", customer=mine.pk)) == {old.pk, new.pk}
    assert ids(get(lead, "/visits", employee=dept.sales_mate.pk)) == {mates.pk}
    assert ids(get(lead, "/visits", kind="call")) == {old.pk}
    local_day = timezone.localdate(day)
    assert ids(get(lead, "/visits", until=local_day.isoformat())) == {old.pk}
    assert ids(get(lead, "/visits", since=(local_day + datetime.timedelta(days=1)).isoformat())) \
        == {new.pk, mates.pk}
    assert ids(get(as_user(dept.sales), "/visits")) == {old.pk, new.pk}
    assert ids(get(as_user(dept.sales), "/visits", customer=mate.pk)) == set()
    assert_error(get(as_user(dept.other_sales), f"/visits/{old.pk}"), 404)


@pytest.mark.parametrize(("params", "field"), [
    ({"kind": "party"}, "kind"), ({"since": "last week"}, "since"), ({"until": "0"}, "until"),
    ({"since": "20250101"}, "since"), ({"customer": "0"}, "customer"),
    ({"employee": str(2**63)}, "employee"),
])
def test_visit_list_invalid_filters_answer_422(as_user, director, params, field):
    """Dates are ISO text: "until=0" is not 1970-01-01."""
    assert_error(get(as_user(director), "/visits", **params), 422, field)


# --- 403 body ------------------------------------------------------------------------
def test_forbidden_has_the_one_error_body_in_the_users_language(as_user, dept):
    customer = make_customer(dept.sales)
    client = as_user(dept.sales)
    body = assert_error(post(client, f"/customers/{customer.pk}/grade",
                             {"grade": "A", "reason": "x"}), 403)
    assert body == {"detail": "您的角色无权进行此操作。", "errors": {}}
    dept.sales.user.language = "en"
    dept.sales.user.save()
    body = assert_error(post(client, f"/customers/{customer.pk}/grade",
                             {"grade": "A", "reason": "x"}), 403)
    assert body == {"detail": "Your role does not allow this.", "errors": {}}


# --- query counts --------------------------------------------------------------------
def _queries(client, path, **params):
    with CaptureQueriesContext(connection) as ctx:
        response = get(client, path, **params)
    assert response.status_code == 200, response.content[:500]
    return len(ctx), response.json()


def _grow(dept, n, customer):
    """n more customers per salesperson, each with a contact, a visit and a collaborator;
    n more contacts and visits on ``customer``."""
    for owner, mate in ((dept.sales, dept.sales_mate), (dept.sales_mate, dept.sales),
                        (dept.other_sales, dept.sales)):
        for _ in range(n):
            c = make_customer(owner, phone=mobile(next(_serial)))
            services.customer_set_collaborators(customer=c, by=owner.user, collaborators=[mate])
            contact = services.contact_create(customer=c, by=owner.user, name="联系人")
            services.visit_log(customer=c, by=owner.user, summary="拜访", contact=contact,
                               kind="joint", coach=dept.manager)
    for _ in range(n):
        contact = services.contact_create(customer=customer, by=dept.sales.user,
                                          name=f"联系人{next(_serial)}")
        services.visit_log(customer=customer, by=dept.sales.user, summary="再访",
                           contact=contact)


@pytest.mark.parametrize(("path", "params"), [
    ("/customers", {"page_size": 200}),
    ("/customers", {"page_size": 200, "unit": "DIVISION", "overdue": "false",
                    "ordering": "-next_revisit_on"}),
    ("/customers", {"page_size": 200, "owner": "SALES", "q": "客户"}),
    ("/customers/CUSTOMER/contacts", {"page_size": 200}),
    ("/visits", {"page_size": 200}),
    ("/visits", {"page_size": 200, "customer": "CUSTOMER", "kind": "visit"}),
])
def test_list_endpoints_cost_the_same_queries_for_n_and_3n_rows(as_user, dept, path, params):
    customer = make_customer(dept.sales)
    values = {"DIVISION": dept.division.pk, "SALES": dept.sales.pk, "CUSTOMER": customer.pk}
    params = {k: values.get(v, v) for k, v in params.items()}
    path = path.replace("CUSTOMER", str(customer.pk))
    client = as_user(dept.manager)
    n = 3
    _grow(dept, n, customer)
    small, body = _queries(client, path, **params)
    small_rows = body["count"]
    _grow(dept, 2 * n, customer)
    large, body = _queries(client, path, **params)
    assert body["count"] > small_rows and len(body["items"]) == body["count"]
    assert small == large, (small, large)


def test_detail_endpoints_cost_a_constant_number_of_queries(as_user, dept):
    customer = make_customer(dept.sales)
    client = as_user(dept.manager)

    def costs():
        contact = Contact.objects.filter(customer=customer).first()
        visit = Visit.objects.filter(customer=customer).first()
        return [_queries(client, f"/customers/{customer.pk}")[0],
                _queries(client, f"/contacts/{contact.pk}")[0],
                _queries(client, f"/visits/{visit.pk}")[0]]

    _grow(dept, 1, customer)
    services.customer_set_collaborators(customer=customer, by=dept.sales.user,
                                        collaborators=[dept.sales_mate])
    before = costs()
    _grow(dept, 3, customer)
    extra = make_employee(dept.team, name="新人")
    services.customer_set_collaborators(customer=customer, by=dept.sales.user,
                                        collaborators=[dept.sales_mate, dept.other_sales, extra])
    assert costs() == before
