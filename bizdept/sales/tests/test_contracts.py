"""Contracts (SAL-5): the lifecycle 签订前汇报 → approval by amount → signing with the scan
(原件存档) → execution → completion or termination; edits frozen while under approval and
once signed; amendments approved the same way; the number used exactly once; the API,
the pages and their query counts."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bizdept.approvals import services as approval_services
from bizdept.approvals.demo import ensure_default_policies
from bizdept.core.errors import Conflict, DomainError
from bizdept.sales import services
from bizdept.sales.choices import AmendmentStatus, ContractNumberStatus, ContractStatus
from bizdept.sales.models import Contract, ContractNumber

from .contract_factories import (
    approve_all,
    make_contract,
    make_customer,
    product_for,
    scan,
    signed_contract,
    waiting_tasks,
)
from .factories import take_number

API = "/api/v1"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def policies(db):
    ensure_default_policies()


def report(contract, by):
    return services.contract_report(contract=contract, by=by.user)


# --- approval by amount ------------------------------------------------------------------
@pytest.mark.parametrize(("amount", "steps"), [
    ("50000.00", ["lead"]),
    ("500000.00", ["lead", "manager"]),
    ("5000000.00", ["lead", "manager", "director"]),
])
def test_report_is_routed_by_amount(dept, policies, amount, steps):
    contract = make_contract(dept.sales, amount=amount)
    report(contract, dept.sales)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.REPORTED
    approvers = approve_all(contract)
    assert approvers == [getattr(dept, s) for s in steps]
    contract.refresh_from_db()
    assert contract.status == ContractStatus.APPROVED


def test_report_needs_lines_and_the_feasibility_checklist(dept, policies):
    bare = make_contract(dept.sales, filled=False)
    with pytest.raises(DomainError) as refused:
        report(bare, dept.sales)
    assert "delivery_terms" in refused.value.errors
    empty = make_contract(dept.sales, lines=[])
    with pytest.raises(DomainError) as refused:
        report(empty, dept.sales)
    assert "lines" in refused.value.errors


def test_feasibility_is_confirmed_by_a_head_not_the_owner(dept, policies):
    contract = make_contract(dept.sales)
    with pytest.raises(PermissionDenied):
        services.contract_feasibility_confirm(contract=contract, by=dept.sales.user)
    with pytest.raises(PermissionDenied):  # another team's lead
        services.contract_feasibility_confirm(contract=contract, by=dept.other_lead.user)
    done = services.contract_feasibility_confirm(contract=contract, by=dept.lead.user)
    assert done.feasibility_confirmed_by == dept.lead and done.feasibility_confirmed_at
    # changing the checklist clears the confirmation
    changed = services.contract_update(contract=done, by=dept.sales.user,
                                       delivery_terms="签约后45天交货")
    assert changed.feasibility_confirmed_at is None


def test_returned_goes_back_to_draft_and_may_be_reported_again(dept, policies):
    contract = make_contract(dept.sales)
    report(contract, dept.sales)
    task = waiting_tasks(contract)[0]
    approval_services.approval_decide(task=task, by=dept.lead.user, decision="return",
                                      comment="补充安装条件")
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT
    services.contract_update(contract=contract, by=dept.sales.user,
                             installation_terms="甲方提供吊车")
    report(contract, dept.sales)
    approve_all(contract)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.APPROVED


# --- edits frozen -------------------------------------------------------------------------
def _lines(amount):
    return [{"product": product_for(), "quantity": "2", "unit_price": Decimal(amount)}]


def test_lines_cannot_change_while_reported_or_signed(dept, policies):
    contract = make_contract(dept.sales)
    report(contract, dept.sales)
    with pytest.raises(DomainError) as refused:
        services.contract_lines_set(contract=contract, by=dept.sales.user, lines=_lines("1"))
    assert refused.value.code == "under_approval" and "lines" in refused.value.errors
    with pytest.raises(DomainError):
        services.contract_update(contract=contract, by=dept.sales.user, title="改名")
    signed = signed_contract(dept.sales)
    with pytest.raises(DomainError) as refused:
        services.contract_lines_set(contract=signed, by=dept.sales.user, lines=_lines("1"))
    assert refused.value.code == "signed"
    with pytest.raises(DomainError):
        services.contract_line_add(contract=signed, by=dept.sales.user,
                                   product=product_for(), quantity="1", unit_price="5")


def test_editing_an_approved_contract_sends_it_back_to_draft(dept, policies):
    contract = make_contract(dept.sales)
    report(contract, dept.sales)
    approve_all(contract)
    contract.refresh_from_db()
    edited = services.contract_lines_set(contract=contract, by=dept.sales.user,
                                         lines=_lines("30000.005"[:-1]))
    assert edited.status == ContractStatus.DRAFT
    assert edited.total == Decimal("60000.00")
    with pytest.raises(DomainError):  # needs a new approval
        services.contract_sign(contract=edited, by=dept.sales.user,
                               signed_on=timezone.localdate(), scan=scan())


def test_total_is_the_sum_of_rounded_lines(dept):
    product = product_for()
    contract = make_contract(dept.sales, lines=[
        {"product": product, "quantity": "3", "unit_price": "0.335"[:-1]},
        {"product": product, "quantity": "1.5", "unit_price": "10.01"},
    ])
    # 3 × 0.33 = 0.99; 1.5 × 10.01 = 15.015 → 15.02
    assert contract.total == Decimal("16.01")
    assert [line.unit_cost for line in contract.lines.all()] == [product.standard_cost] * 2


# --- signing --------------------------------------------------------------------------------
def test_sign_needs_the_approval_and_the_scan(dept, policies, media):
    contract = make_contract(dept.sales)
    with pytest.raises(DomainError) as refused:
        services.contract_sign(contract=contract, by=dept.sales.user,
                               signed_on=timezone.localdate(), scan=scan())
    assert refused.value.code == "not_approved"
    report(contract, dept.sales)
    approve_all(contract)
    contract.refresh_from_db()
    with pytest.raises(DomainError) as refused:
        services.contract_sign(contract=contract, by=dept.sales.user,
                               signed_on=timezone.localdate(), scan=None)
    assert "scan" in refused.value.errors
    with pytest.raises(DomainError) as refused:
        services.contract_sign(contract=contract, by=dept.sales.user,
                               signed_on=timezone.localdate(),
                               scan=scan("scan.pdf", b"MZ not a pdf"))
    assert "scan" in refused.value.errors
    signed = services.contract_sign(contract=contract, by=dept.sales.user,
                                    signed_on=timezone.localdate(),
                                    scan=scan("scan.png", b"\x89PNG\r\n\x1a\n..."))
    assert signed.status == ContractStatus.SIGNED and signed.archived
    assert signed.scan.name.startswith("contracts/") and (media / signed.scan.name).exists()


def test_sign_refuses_a_future_date(dept, policies):
    contract = make_contract(dept.sales)
    report(contract, dept.sales)
    approve_all(contract)
    contract.refresh_from_db()
    with pytest.raises(DomainError) as refused:
        services.contract_sign(contract=contract, by=dept.sales.user, scan=scan(),
                               signed_on=timezone.localdate() + datetime.timedelta(days=1))
    assert "signed_on" in refused.value.errors


def test_execute_complete_and_terminate(dept, policies):
    contract = signed_contract(dept.sales)
    with pytest.raises(DomainError):
        services.contract_complete(contract=contract, by=dept.sales.user)
    services.contract_execute(contract=contract, by=dept.sales.user)
    done = services.contract_complete(contract=contract, by=dept.sales.user)
    assert done.status == ContractStatus.COMPLETED
    with pytest.raises(DomainError):
        services.contract_terminate(contract=done, by=dept.sales.user, reason="客户违约")
    other = signed_contract(dept.sales)
    with pytest.raises(DomainError) as refused:
        services.contract_terminate(contract=other, by=dept.sales.user, reason=" ")
    assert "reason" in refused.value.errors
    ended = services.contract_terminate(contract=other, by=dept.lead.user, reason="客户违约")
    assert ended.status == ContractStatus.TERMINATED and ended.termination_reason == "客户违约"
    with pytest.raises(PermissionDenied):  # not theirs, not their head
        services.contract_execute(contract=signed_contract(dept.sales),
                                  by=dept.other_sales.user)


# --- the number register ---------------------------------------------------------------------
def test_the_number_is_used_exactly_once(dept):
    number = take_number(dept.sales)
    contract = services.contract_create(by=dept.sales.user, number=number,
                                        customer=make_customer(dept.sales), title="合同A")
    number.refresh_from_db()
    assert (number.status, number.contract_id) == (ContractNumberStatus.USED, contract.pk)
    assert contract.number == number and number.used_by == contract
    with pytest.raises(DomainError) as refused:
        services.contract_create(by=dept.sales.user, number=number,
                                 customer=make_customer(dept.sales), title="合同B")
    assert "number" in refused.value.errors
    assert Contract.objects.count() == 1


def test_only_my_own_numbers_and_customers(dept):
    theirs = take_number(dept.sales_mate)
    with pytest.raises(DomainError) as refused:
        services.contract_create(by=dept.sales.user, number=theirs,
                                 customer=make_customer(dept.sales), title="合同")
    assert "number" in refused.value.errors
    with pytest.raises(DomainError) as refused:
        services.contract_create(by=dept.sales.user, number=take_number(dept.sales),
                                 customer=make_customer(dept.other_sales), title="合同")
    assert "customer" in refused.value.errors
    assert ContractNumber.objects.filter(status=ContractNumberStatus.USED).count() == 0


# --- amendments ---------------------------------------------------------------------------------
def test_amendment_round_trip(dept, policies):
    contract = signed_contract(dept.sales, amount="500000.00")
    new_end = timezone.localdate() + datetime.timedelta(days=200)
    amendment = services.contract_amend(
        contract=contract, by=dept.sales.user, reason="增加一台设备", ends_on=new_end,
        lines=[{"product": product_for(), "quantity": "1", "unit_price": "500000"},
               {"product": product_for(), "quantity": "1", "unit_price": "100000.50"}])
    assert (amendment.status, amendment.old_total, amendment.new_total) == (
        AmendmentStatus.PENDING, Decimal("500000.00"), Decimal("600000.50"))
    with pytest.raises(Conflict):
        services.contract_amend(contract=contract, by=dept.sales.user, reason="再改",
                                ends_on=new_end)
    contract.refresh_from_db()
    assert contract.total == Decimal("500000.00")  # nothing changes before approval
    assert approve_all(amendment) == [dept.lead, dept.manager]
    amendment.refresh_from_db()
    contract.refresh_from_db()
    assert amendment.status == AmendmentStatus.APPLIED and amendment.applied_at
    assert contract.total == Decimal("600000.50") and contract.ends_on == new_end
    assert contract.lines.count() == 2 and contract.status == ContractStatus.SIGNED


def test_a_rejected_amendment_changes_nothing(dept, policies):
    contract = signed_contract(dept.sales)
    amendment = services.contract_amend(contract=contract, by=dept.sales.user, reason="延期",
                                        ends_on=timezone.localdate() + datetime.timedelta(9))
    task = waiting_tasks(amendment)[0]
    approval_services.approval_decide(task=task, by=dept.lead.user, decision="reject",
                                      comment="不同意")
    amendment.refresh_from_db()
    contract.refresh_from_db()
    assert amendment.status == AmendmentStatus.REJECTED and contract.ends_on is None


def test_amendment_needs_a_signed_contract_and_a_change(dept, policies):
    draft = make_contract(dept.sales)
    with pytest.raises(DomainError):
        services.contract_amend(contract=draft, by=dept.sales.user, reason="改",
                                ends_on=timezone.localdate())
    signed = signed_contract(dept.sales)
    with pytest.raises(DomainError) as refused:
        services.contract_amend(contract=signed, by=dept.sales.user, reason="改")
    assert "lines" in refused.value.errors


# --- API ---------------------------------------------------------------------------------------
def send(client, method, path, body=None):
    return getattr(client, method)(API + path, data=json.dumps({} if body is None else body),
                                   content_type="application/json")


def test_api_lifecycle(as_user, dept, policies):
    client = as_user(dept.sales)
    number = take_number(dept.sales)
    customer = make_customer(dept.sales)
    product = product_for()
    response = send(client, "post", "/contracts", {
        "number": number.pk, "customer": customer.pk, "title": "API合同",
        "lines": [{"product": product.pk, "quantity": "2", "unit_price": "640000.25"}],
        "delivery_terms": "30天", "technical_terms": "380V", "installation_terms": "吊装"})
    assert response.status_code == 201, response.content
    body = response.json()
    pk = body["id"]
    assert body["number"] == number.number and body["status"] == "draft"
    assert body["total"] == "1280000.50"
    assert body["total_in_words"] == "壹佰贰拾捌万元零伍角整"
    response = send(client, "patch", f"/contracts/{pk}", {"title": "API合同(改)"})
    assert response.status_code == 200 and response.json()["title"] == "API合同(改)"
    assert send(client, "post", f"/contracts/{pk}/report").json()["status"] == "reported"
    response = send(client, "put", f"/contracts/{pk}/lines", {"lines": []})
    assert response.status_code == 400 and "lines" in response.json()["errors"]
    response = client.post(f"{API}/contracts/{pk}/sign",
                           {"signed_on": timezone.localdate().isoformat(), "scan": scan()})
    assert response.status_code == 400  # not approved yet
    assert approve_all(Contract.objects.get(pk=pk)) == [dept.lead, dept.manager, dept.director]
    response = client.post(f"{API}/contracts/{pk}/sign",
                           {"signed_on": timezone.localdate().isoformat()})
    assert response.status_code == 400 and "scan" in response.json()["errors"]
    response = client.post(f"{API}/contracts/{pk}/sign",
                           {"signed_on": timezone.localdate().isoformat(), "scan": scan()})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "signed" and response.json()["archived"]
    assert send(client, "post", f"/contracts/{pk}/execute").json()["status"] == "executing"
    response = send(client, "post", f"/contracts/{pk}/amendments",
                    {"reason": "延期", "ends_on": "2099-01-01"})
    assert response.status_code == 201 and response.json()["status"] == "pending"
    assert len(client.get(f"{API}/contracts/{pk}/amendments").json()) == 1
    response = send(client, "post", f"/contracts/{pk}/terminate", {"reason": "客户违约"})
    assert response.json()["status"] == "terminated"
    response = send(client, "post", f"/contracts/{pk}/complete")
    assert response.status_code == 400 and "status" in response.json()["errors"]


def test_api_lines_and_scope(as_user, dept):
    contract = make_contract(dept.sales, amount="100.00")
    client = as_user(dept.sales)
    product = product_for()
    response = send(client, "post", f"/contracts/{contract.pk}/lines",
                    {"product": product.pk, "quantity": 1, "unit_price": "50.5"})
    assert response.status_code == 201 and response.json()["total"] == "150.50"
    lines = client.get(f"{API}/contracts/{contract.pk}/lines").json()
    assert len(lines) == 2
    response = client.delete(f"{API}/contracts/{contract.pk}/lines/{lines[0]['id']}")
    assert response.status_code == 200 and response.json()["total"] == "50.50"
    assert as_user(dept.other_sales).get(f"{API}/contracts/{contract.pk}").status_code == 404
    assert as_user(dept.finance).get(f"{API}/contracts/{contract.pk}").status_code == 200
    assert as_user(dept.lead).get(f"{API}/contracts/{contract.pk}").status_code == 200
    response = send(as_user(dept.other_sales), "post", "/contracts", {
        "number": take_number(dept.sales).pk, "customer": contract.customer_id, "title": "x"})
    assert response.status_code == 400 and "number" in response.json()["errors"]


def test_api_list_filters(as_user, dept, policies):
    signed = signed_contract(dept.sales, amount="1000.00")
    make_contract(dept.sales)
    make_contract(dept.other_sales)
    client = as_user(dept.lead)
    body = client.get(f"{API}/contracts", {"page_size": 50}).json()
    assert body["count"] == 2  # the lead's team only
    body = client.get(f"{API}/contracts", {"status": "signed"}).json()
    assert [i["id"] for i in body["items"]] == [signed.pk]
    today = timezone.localdate().isoformat()
    body = as_user(dept.director).get(f"{API}/contracts", {"signed_from": today,
                                                            "unit": dept.sales.unit_id}).json()
    assert body["count"] == 1
    response = client.get(f"{API}/contracts", {"owner": 999999})
    assert response.status_code == 400


# --- pages ------------------------------------------------------------------------------------
def test_pages_render(as_user, dept, policies):
    contract = signed_contract(dept.sales, amount="1280000.50")
    client = as_user(dept.sales)
    for name, args in (("sales:contract_list", []), ("sales:contract_create", []),
                       ("sales:contract_detail", [contract.pk]),
                       ("sales:contract_amend", [contract.pk]),
                       ("sales:contract_terminate", [contract.pk]),
                       ("sales:contract_plan", [contract.pk])):
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200, name
    html = client.get(reverse("sales:contract_print", args=[contract.pk])).content.decode()
    assert "人民币壹佰贰拾捌万元零伍角整" in html and "¥1,280,000.50" in html
    detail = client.get(reverse("sales:contract_detail", args=[contract.pk])).content.decode()
    assert contract.number.number in detail and 'id="contract-archived"' in detail
    assert client.get(reverse("sales:contract_scan", args=[contract.pk])).status_code == 200
    assert as_user(dept.other_sales).get(
        reverse("sales:contract_detail", args=[contract.pk])).status_code == 404
    client = as_user(dept.sales)  # the one test client, signed in again
    fragment = client.get(reverse("sales:contract_list"), HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and b"<html" not in fragment.content
    assert contract.number.number in fragment.content.decode()


def test_create_and_report_through_the_pages(as_user, dept, policies):
    client = as_user(dept.sales)
    number, customer = take_number(dept.sales), make_customer(dept.sales)
    response = client.post(reverse("sales:contract_create"), {
        "number": number.pk, "customer": customer.pk, "title": "页面合同",
        "delivery_terms": "30天", "technical_terms": "380V", "installation_terms": "吊装"})
    assert response.status_code == 302
    contract = Contract.objects.get(number=number)
    response = client.post(reverse("sales:contract_line_add", args=[contract.pk]), {
        "product": product_for().pk, "quantity": "1", "unit_price": "88000"})
    assert response.status_code == 302
    response = client.post(reverse("sales:contract_report", args=[contract.pk]), {})
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.status == ContractStatus.REPORTED
    response = as_user(dept.lead).post(reverse("sales:contract_feasibility", args=[contract.pk]))
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.feasibility_confirmed_by == dept.lead
    approve_all(contract)
    client = as_user(dept.sales)
    response = client.post(reverse("sales:contract_sign", args=[contract.pk]), {
        "signed_on": timezone.localdate().isoformat(), "scan": scan()})
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.status == ContractStatus.SIGNED and contract.archived


def _grow(dept, n):
    for _ in range(n):
        for person in (dept.sales, dept.sales_mate, dept.other_sales):
            make_contract(person)


def test_contract_list_page_and_endpoint_cost_constant_queries(as_user, dept, policies):
    client = as_user(dept.director)

    def cost(url, **params):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, params)
        assert response.status_code == 200
        return len(ctx)

    _grow(dept, 1)
    contract = Contract.objects.first()
    urls = [(reverse("sales:contract_list"), {}), (f"{API}/contracts", {"page_size": 100}),
            (reverse("sales:contract_detail", args=[contract.pk]), {}),
            (f"{API}/contracts/{contract.pk}", {})]
    small = [cost(u, **p) for u, p in urls]
    _grow(dept, 4)
    assert [cost(u, **p) for u, p in urls] == small


def test_form_pages_render(as_user, dept, policies):
    draft = make_contract(dept.sales)
    approved = make_contract(dept.sales)
    report(approved, dept.sales)
    approve_all(approved)
    client = as_user(dept.sales)
    for name, contract in (("sales:contract_edit", draft), ("sales:contract_report", draft),
                           ("sales:contract_line_add", draft),
                           ("sales:contract_sign", approved)):
        response = client.get(reverse(name, args=[contract.pk]))
        assert response.status_code == 200, name
    html = client.get(reverse("sales:contract_sign", args=[approved.pk])).content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert as_user(dept.other_sales).get(
        reverse("sales:contract_edit", args=[draft.pk])).status_code == 404


def test_admin_lists_contracts_and_money_read_only(client, dept, policies):
    from django.contrib.auth import get_user_model

    contract = signed_contract(dept.sales)
    services.payment_record(contract=contract, by=dept.finance.user,
                            received_on=timezone.localdate(), amount="10")
    client.force_login(get_user_model().objects.create_superuser("root", "r@example.cn", "x"))
    for model in ("contract", "contractamendment", "paymentplan", "payment"):
        assert client.get(f"/admin/sales/{model}/").status_code == 200, model
    assert client.get(f"/admin/sales/contract/{contract.pk}/change/").status_code == 200
    assert client.get("/admin/sales/payment/add/").status_code == 403
