"""SAL-4: the contract number register (合同领用登记) — numbers issued to a person, then
used, voided or returned; none lost, none issued twice; the pattern is validated and its
changes audited."""

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from bizdept.core.errors import Conflict, DomainError
from bizdept.core.history import history_entries
from bizdept.org.choices import EmployeeStatus
from bizdept.org.services import employee_set_status
from bizdept.sales import selectors, services
from bizdept.sales.choices import ContractNumberStatus
from bizdept.sales.models import ContractNumber, ContractNumberCounter, ContractNumberSetting
from bizdept.sales.numbering import number_regex, render_number, validate_number_pattern

from .factories import take_number

YEAR = timezone.localdate().year


def seqs() -> list[int]:
    return list(ContractNumber.objects.filter(year=YEAR).order_by("seq")
                .values_list("seq", flat=True))


# --- issuing ---------------------------------------------------------------------------
def test_a_salesperson_takes_the_next_number_for_themselves(dept):
    first = take_number(dept.sales)
    second = take_number(dept.sales_mate)
    assert first.number == f"HT-{YEAR}-000001" and second.number == f"HT-{YEAR}-000002"
    assert (first.status, first.issued_to, first.issued_by) == (
        ContractNumberStatus.ISSUED, dept.sales, dept.sales)
    assert ContractNumberCounter.objects.get(year=YEAR).last_seq == 2


def test_a_salesperson_cannot_issue_to_someone_else(dept):
    with pytest.raises(PermissionDenied):
        services.contract_number_issue(by=dept.sales.user, to=dept.sales_mate)
    assert not ContractNumber.objects.exists()
    assert seqs() == []


def test_a_head_issues_to_their_subtree_only(dept):
    numbers = services.contract_number_issue(by=dept.lead.user, to=dept.sales, count=3)
    assert [n.seq for n in numbers] == [1, 2, 3]
    assert {n.issued_by for n in numbers} == {dept.lead}
    with pytest.raises(PermissionDenied):
        services.contract_number_issue(by=dept.lead.user, to=dept.other_sales)
    services.contract_number_issue(by=dept.manager.user, to=dept.other_sales)


def test_finance_issues_department_wide_but_not_outside(dept):
    services.contract_number_issue(by=dept.finance.user, to=dept.other_sales, count=2)
    with pytest.raises(PermissionDenied):
        services.contract_number_issue(by=dept.finance.user, to=dept.outsider)
    with pytest.raises(PermissionDenied):  # HR's money scope is their own
        services.contract_number_issue(by=dept.hr.user, to=dept.sales)


@pytest.mark.parametrize("count", [0, -1, 51, True, "2"])
def test_count_is_1_to_50(dept, count):
    with pytest.raises(DomainError) as refused:
        services.contract_number_issue(by=dept.sales.user, to=dept.sales, count=count)
    assert "count" in refused.value.errors
    assert seqs() == []


def test_nobody_issues_to_someone_who_left(dept):
    employee_set_status(employee=dept.sales_mate, status=EmployeeStatus.LEFT)
    dept.sales_mate.refresh_from_db()
    with pytest.raises(DomainError) as refused:
        services.contract_number_issue(by=dept.lead.user, to=dept.sales_mate)
    assert "to" in refused.value.errors


def test_a_failed_issue_takes_back_its_sequence_numbers(dept, monkeypatch):
    take_number(dept.sales)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ContractNumber.objects, "bulk_create", boom)  # after the counter moved
    with pytest.raises(RuntimeError):
        services.contract_number_issue(by=dept.sales.user, to=dept.sales, count=5)
    monkeypatch.undo()
    take_number(dept.sales)
    assert seqs() == [1, 2]  # no gap where the failed issue was


def test_each_year_has_its_own_sequence(dept):
    take_number(dept.sales)
    ContractNumberCounter.objects.create(year=YEAR - 1, last_seq=41)
    assert ContractNumberCounter.objects.get(year=YEAR).last_seq == 1


def test_every_issue_is_in_the_history(dept):
    number = take_number(dept.sales)
    entries = history_entries(number)
    assert [e.who for e in entries] == [dept.sales.name]


# --- the lifecycle -----------------------------------------------------------------------
def test_the_holder_uses_an_issued_number_once(dept):
    number = take_number(dept.sales)
    used = services.contract_number_use(number=number, by=dept.sales.user, contract_id=7)
    assert (used.status, used.contract_id) == (ContractNumberStatus.USED, 7)
    assert used.used_at is not None
    with pytest.raises(DomainError) as refused:
        services.contract_number_use(number=number, by=dept.sales.user, contract_id=8)
    assert refused.value.code == "transition" and "status" in refused.value.errors


def test_only_the_holder_may_use_a_number(dept):
    number = take_number(dept.sales)
    for other in (dept.sales_mate, dept.lead, dept.director):
        with pytest.raises(DomainError) as refused:
            services.contract_number_use(number=number, by=other.user, contract_id=1)
        assert refused.value.code == "not_yours"


def test_a_contract_takes_one_number(dept):
    first, second = take_number(dept.sales, count=2)
    services.contract_number_use(number=first, by=dept.sales.user, contract_id=42)
    with pytest.raises(Conflict) as refused:
        services.contract_number_use(number=second, by=dept.sales.user, contract_id=42)
    assert "contract_id" in refused.value.errors
    second.refresh_from_db()
    assert second.status == ContractNumberStatus.ISSUED


@pytest.mark.parametrize("contract_id", [0, -3, None, "5", True])
def test_use_needs_a_contract(dept, contract_id):
    number = take_number(dept.sales)
    with pytest.raises(DomainError) as refused:
        services.contract_number_use(number=number, by=dept.sales.user, contract_id=contract_id)
    assert "contract_id" in refused.value.errors


@pytest.mark.parametrize(("action", "status"), [
    (services.contract_number_void, ContractNumberStatus.VOIDED),
    (services.contract_number_return, ContractNumberStatus.RETURNED),
])
def test_void_and_return_need_a_reason_and_are_final(dept, action, status):
    number = take_number(dept.sales)
    with pytest.raises(DomainError) as refused:
        action(number=number, by=dept.sales.user, reason="  ")
    assert "reason" in refused.value.errors
    with pytest.raises(DomainError) as refused:
        action(number=number, by=dept.sales.user, reason="x" * 201)
    assert "reason" in refused.value.errors
    closed = action(number=number, by=dept.sales.user, reason="打印错误")
    assert (closed.status, closed.reason, closed.closed_by) == (status, "打印错误", dept.sales)
    for move in (services.contract_number_void, services.contract_number_return):
        with pytest.raises(DomainError) as refused:
            move(number=number, by=dept.sales.user, reason="再来")
        assert refused.value.code == "transition"
    with pytest.raises(DomainError):
        services.contract_number_use(number=number, by=dept.sales.user, contract_id=1)
    changes = {c.name for c in history_entries(closed)[0].changes}
    assert {"status", "reason"} <= changes


def test_a_used_number_cannot_be_voided_or_returned(dept):
    number = take_number(dept.sales)
    services.contract_number_use(number=number, by=dept.sales.user, contract_id=1)
    with pytest.raises(DomainError):
        services.contract_number_void(number=number, by=dept.sales.user, reason="不要了")
    with pytest.raises(DomainError):
        services.contract_number_return(number=number, by=dept.sales.user, reason="不要了")


def test_heads_and_finance_may_void_numbers_in_their_scope_others_may_not(dept):
    numbers = take_number(dept.sales, count=4)
    services.contract_number_void(number=numbers[0], by=dept.lead.user, reason="所长作废")
    services.contract_number_return(number=numbers[1], by=dept.finance.user, reason="财务收回")
    for other in (dept.sales_mate, dept.other_lead, dept.hr, dept.outsider):
        with pytest.raises(PermissionDenied):
            services.contract_number_void(number=numbers[2], by=other.user, reason="不行")


def test_voided_and_returned_numbers_are_never_issued_again(dept):
    first, second = take_number(dept.sales, count=2)
    services.contract_number_void(number=first, by=dept.sales.user, reason="作废")
    services.contract_number_return(number=second, by=dept.sales.user, reason="退回")
    third = take_number(dept.sales)
    assert third.seq == 3 and third.number == f"HT-{YEAR}-000003"
    assert seqs() == [1, 2, 3]
    assert set(ContractNumber.objects.values_list("status", flat=True)) == {
        ContractNumberStatus.VOIDED, ContractNumberStatus.RETURNED, ContractNumberStatus.ISSUED}


def test_someone_who_left_can_do_nothing(dept):
    number = take_number(dept.sales)
    employee_set_status(employee=dept.sales, status=EmployeeStatus.LEFT)
    dept.sales.refresh_from_db()
    user = dept.sales.user
    for user_cache in ("_bizdept_capabilities", "_bizdept_scopes"):
        user.__dict__.pop(user_cache, None)
    with pytest.raises(PermissionDenied):
        services.contract_number_issue(by=user, to=dept.sales)
    with pytest.raises(PermissionDenied):
        services.contract_number_use(number=number, by=user, contract_id=3)


def test_my_numbers_and_the_holders_offered(dept):
    mine = take_number(dept.sales)
    take_number(dept.sales_mate)
    assert list(selectors.my_contract_numbers(user=dept.sales.user)) == [mine]
    assert list(selectors.number_holders(user=dept.sales.user)) == [dept.sales]
    lead_holders = set(selectors.number_holders(user=dept.lead.user))
    assert lead_holders == {dept.lead, dept.sales, dept.sales_mate}
    finance_holders = set(selectors.number_holders(user=dept.finance.user))
    assert dept.other_sales in finance_holders and dept.outsider not in finance_holders


# --- the pattern -------------------------------------------------------------------------
def test_the_default_pattern_renders_the_issue_example():
    assert render_number("HT-{year}-{seq:06d}", year=2026, seq=123) == "HT-2026-000123"


@pytest.mark.parametrize("pattern", [
    "HT-{year}-{seq:06d}", "{year}{seq:04d}", "合同{year}第{seq}号", "HT/{year}/{seq:6d}",
    "{seq}-{year}", "HT-{{x}}-{year}-{seq:012}",
])
def test_good_patterns(pattern):
    if " " in render_number(pattern, year=2026, seq=1):
        with pytest.raises(ValidationError):
            validate_number_pattern(pattern)
    else:
        validate_number_pattern(pattern)


@pytest.mark.parametrize(("pattern", "code"), [
    ("", "required"), ("HT-{year}", "no_seq"), ("HT-{seq:06d}", "no_year"),
    ("HT-{year}-{seq:06d}-{month}", "placeholder"), ("HT-{year}-{seq", "braces"),
    ("HT-{year}-{seq}}", "braces"), ("HT-{year}-{seq!r}", "format"),
    ("HT-{year}-{seq:1<3}", "format"), ("HT-{year}-{seq:x}", "format"),
    ("HT-{year}-{seq:{year}}", "format"), ("HT-{0}-{seq}", "placeholder"),
    ("HT-{year.real}-{seq}", "placeholder"), ("HT {year}-{seq}", "spaces"),
    ("HT-{year}-{seq}-{seq}", "repeated"), ("HT-{year}-{seq:099d}", "format"),
    ("X" * 45 + "{year}{seq:06d}", "too_long"), ("X" * 61, "too_long"),
])
def test_bad_patterns_are_refused_with_a_reason(pattern, code):
    with pytest.raises(ValidationError) as refused:
        validate_number_pattern(pattern)
    assert refused.value.code == code


patterns = st.builds(
    lambda prefix, sep, width, order: (
        f"{prefix}{{seq:0{width}d}}{sep}{{year}}" if order else
        f"{prefix}{{year}}{sep}{{seq:0{width}d}}"),
    st.text(alphabet="ABCHTXZ合同编号-/_#", max_size=8), st.sampled_from(["-", "/", "", "·"]),
    st.integers(min_value=1, max_value=9), st.booleans())


@given(pattern=patterns, year=st.integers(min_value=2000, max_value=9999),
       seqs=st.lists(st.integers(min_value=1, max_value=10**9), min_size=2, max_size=20,
                     unique=True))
def test_rendered_numbers_are_unique_and_read_back(pattern, year, seqs):
    validate_number_pattern(pattern)
    regex = number_regex(pattern)
    rendered = [render_number(pattern, year=year, seq=s) for s in seqs]
    assert len(set(rendered)) == len(rendered)
    for text, seq in zip(rendered, seqs, strict=True):
        match = regex.fullmatch(text)
        assert match and int(match["seq"]) == seq and int(match["year"]) == year


@given(year=st.integers(min_value=2000, max_value=9999),
       seq=st.integers(min_value=1, max_value=999_999))
def test_the_default_pattern_is_fixed_width(year, seq):
    assert re.fullmatch(rf"HT-{year}-\d{{6}}", render_number("HT-{year}-{seq:06d}",
                                                             year=year, seq=seq))


def test_changing_the_pattern_is_audited_and_applies_to_new_numbers(dept):
    old = take_number(dept.sales)
    with pytest.raises(PermissionDenied):
        services.number_setting_update(by=dept.director.user, pattern="HTX{year}{seq:05d}")
    with pytest.raises(DomainError) as refused:
        services.number_setting_update(by=dept.admin.user, pattern="HT-{seq}")
    assert "pattern" in refused.value.errors
    services.number_setting_update(by=dept.admin.user, pattern="HTX{year}{seq:05d}")
    new = take_number(dept.sales)
    old.refresh_from_db()
    assert old.number == f"HT-{YEAR}-000001" and new.number == f"HTX{YEAR}00002"
    entries = history_entries(ContractNumberSetting.current())
    assert entries[0].who == dept.admin.name
    assert [(c.old, c.new) for c in entries[0].changes] == [("HT-{year}-{seq:06d}",
                                                             "HTX{year}{seq:05d}")]


def test_a_pattern_that_repeats_an_old_number_is_refused_without_losing_a_number(dept):
    take_number(dept.sales, count=2)  # HT-<year>-000001, -000002
    services.number_setting_update(by=dept.admin.user, pattern="HT-{year}-00000{seq}")
    ContractNumberCounter.objects.filter(year=YEAR).update(last_seq=1)  # a restored counter
    with pytest.raises(Conflict):
        take_number(dept.sales)
    assert ContractNumberCounter.objects.get(year=YEAR).last_seq == 1


def test_numbers_carry_the_local_year(dept, monkeypatch):
    new_year = timezone.make_aware(datetime.datetime(YEAR + 1, 1, 1, 0, 30))
    monkeypatch.setattr(timezone, "now", lambda: new_year)
    number = take_number(dept.sales)
    assert (number.year, number.seq) == (YEAR + 1, 1)
    assert number.number == f"HT-{YEAR + 1}-000001"
