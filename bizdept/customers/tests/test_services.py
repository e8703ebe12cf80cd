"""Customers, contacts, duplicates, transfers, visits and revisits (CUS-1, 2, 4, 5, 7, 8),
and who sees which of them (ORG-4)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from bizdept.core.errors import DomainError
from bizdept.core.history import history_entries
from bizdept.core.tests.scope_matrix import OWNERS, VIEWERS, VISIBLE
from bizdept.customers import selectors, services
from bizdept.customers.choices import OwnerChangeKind, Stage, VisitKind
from bizdept.customers.models import Contact, Customer, OwnerChange, Visit
from bizdept.customers.services import DuplicateCustomer
from bizdept.org.choices import EmployeeStatus
from bizdept.org.scope import Domain
from bizdept.org.services import employee_set_status

from .factories import credit_code, make_customer, make_pool_customer, mobile, reload, unique_name


def leave(employee):
    return employee_set_status(employee=employee, status=EmployeeStatus.LEFT)


def days_ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


# --- customers (CUS-1, CUS-2) --------------------------------------------------------------
def test_the_creator_owns_the_new_customer_and_it_is_on_record(dept):
    customer = make_customer(dept.sales, region="上海", stage=Stage.PROSPECT)
    assert customer.owner == dept.sales
    change = OwnerChange.objects.get(customer=customer)
    assert (change.kind, change.to_owner, change.by) == (OwnerChangeKind.CREATED, dept.sales,
                                                         dept.sales)
    assert customer.history.first().history_user == dept.sales.user


def test_a_new_customer_starts_at_the_lowest_grade_with_its_first_revisit_due(dept):
    customer = make_customer(dept.sales)
    assert customer.grade == "D" and not customer.grade_is_manual
    assert customer.next_revisit_on == timezone.localdate() + datetime.timedelta(days=90)
    assert customer.history.count() == 1  # one row for the creation, not one per step


def test_credit_code_is_checked_and_stored_the_one_way(dept):
    code = credit_code()
    spaced = " ".join([code[:4], code[4:10].lower(), code[10:]])
    customer = make_customer(dept.sales, credit_code=spaced)
    assert customer.credit_code == code


def test_a_mistyped_credit_code_is_refused_on_its_field_and_nothing_is_written(dept):
    code = credit_code()
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(DomainError) as refused:
        make_customer(dept.sales, credit_code=wrong)
    assert "credit_code" in refused.value.errors
    assert not Customer.objects.exists() and not OwnerChange.objects.exists()


@pytest.mark.parametrize("typed", ["138 0013 8000", "+86-138-0013-8000", "0086 13800138000",
                                   "１３８００１３８０００"])
def test_phone_is_stored_in_e164(dept, typed):
    assert make_customer(dept.sales, phone=typed).phone == "+8613800138000"


def test_a_bad_phone_and_an_empty_name_are_refused_on_their_fields(dept):
    with pytest.raises(DomainError) as refused:
        services.customer_create(by=dept.sales.user, name="  ", phone="12345")
    assert set(refused.value.errors) == {"name", "phone"}
    assert not Customer.objects.exists()


def test_a_field_the_service_does_not_know_is_refused(dept):
    with pytest.raises(DomainError) as refused:
        make_customer(dept.sales, grade="A")
    assert "grade" in refused.value.errors


def test_an_overlong_name_is_refused_on_the_name(dept):
    with pytest.raises(DomainError) as refused:
        make_customer(dept.sales, name="长" * 201)
    assert "name" in refused.value.errors


def test_a_lead_may_create_a_customer_for_a_team_member_but_not_for_another_team(dept):
    customer = make_customer(dept.sales, by=dept.lead)
    assert customer.owner == dept.sales
    assert OwnerChange.objects.get(customer=customer).by == dept.lead
    with pytest.raises(PermissionDenied):
        make_customer(dept.other_sales, by=dept.lead)


def test_sales_cannot_create_a_customer_for_a_colleague(dept):
    with pytest.raises(PermissionDenied):
        make_customer(dept.sales_mate, by=dept.sales)


def test_owner_and_collaborators_may_edit_but_others_may_not(dept):
    customer = make_customer(dept.sales, collaborators=[dept.other_sales, dept.sales])
    assert list(customer.collaborators.all()) == [dept.other_sales]  # the owner is not one
    services.customer_update(customer=customer, by=dept.other_sales.user, industry="制造业")
    services.customer_update(customer=customer, by=dept.lead.user, region="上海")
    with pytest.raises(PermissionDenied):
        services.customer_update(customer=customer, by=dept.sales_mate.user, region="北京")
    with pytest.raises(PermissionDenied):
        services.customer_update(customer=customer, by=dept.other_lead.user, region="北京")
    customer = reload(customer)
    assert (customer.industry, customer.region) == ("制造业", "上海")


def test_someone_who_left_edits_nothing_even_as_a_collaborator(dept):
    customer = make_customer(dept.sales, collaborators=[dept.sales_mate])
    gone = leave(dept.sales_mate)
    assert not services.can_edit(gone.user, customer)
    with pytest.raises(PermissionDenied):
        services.customer_update(customer=customer, by=gone.user, region="北京")


def test_a_collaborator_who_left_cannot_be_added(dept):
    gone = leave(dept.sales_mate)
    customer = make_customer(dept.sales)
    with pytest.raises(DomainError) as refused:
        services.customer_set_collaborators(customer=customer, by=dept.sales.user,
                                            collaborators=[gone])
    assert "collaborators" in refused.value.errors


def test_replacing_collaborators_is_one_history_entry_and_no_change_is_none(dept):
    customer = make_customer(dept.sales, collaborators=[dept.sales_mate])
    assert customer.history.count() == 1  # created with its collaborator
    services.customer_set_collaborators(customer=customer, by=dept.sales.user,
                                        collaborators=[dept.lead])
    assert customer.history.count() == 2
    entry = history_entries(customer)[0]
    assert entry.who == dept.sales.name
    [change] = entry.changes
    assert (change.old, change.new) == (str(dept.sales_mate), str(dept.lead))
    services.customer_set_collaborators(customer=customer, by=dept.sales.user,
                                        collaborators=[dept.lead])
    assert customer.history.count() == 2
    assert list(reload(customer).collaborators.all()) == [dept.lead]


def test_contact_phones_are_stored_in_e164_and_bad_ones_refused(dept):
    customer = make_customer(dept.sales)
    contact = services.contact_create(customer=customer, by=dept.sales.user, name="王经理",
                                      mobile="139 1234 5678", phone="(021) 6123 4567",
                                      is_key=True)
    assert (contact.mobile, contact.phone) == ("+8613912345678", "+862161234567")
    with pytest.raises(DomainError) as refused:
        services.contact_update(contact=contact, by=dept.sales.user, mobile="abc")
    assert "mobile" in refused.value.errors
    assert reload(customer).contacts.get().mobile == "+8613912345678"


def test_only_who_may_edit_the_customer_edits_its_contacts(dept):
    customer = make_customer(dept.sales)
    contact = services.contact_create(customer=customer, by=dept.sales.user, name="王经理")
    with pytest.raises(PermissionDenied):
        services.contact_create(customer=customer, by=dept.other_sales.user, name="李")
    with pytest.raises(PermissionDenied):
        services.contact_delete(contact=contact, by=dept.other_sales.user)
    services.contact_delete(contact=contact, by=dept.lead.user)
    assert not Contact.objects.exists()


# --- duplicates (CUS-5) ----------------------------------------------------------------
def test_duplicate_name_is_refused_naming_the_owner_and_unit_only(dept):
    existing = make_customer(dept.other_sales, name="上海华远科技有限公司", phone="13800138000",
                             credit_code=credit_code(), address="浦东新区某路1号")
    with pytest.raises(DuplicateCustomer) as refused:
        make_customer(dept.sales, name="上海 华远科技（有限责任公司）")
    error = refused.value
    assert error.status == 409 and error.code == "duplicate" and "name" in error.errors
    message = str(error.message)
    assert dept.other_sales.name in message and "杭州所" in message
    for secret in (existing.phone, existing.credit_code, existing.address, "华东事业部"):
        assert secret not in message
    assert Customer.objects.count() == 1


def test_duplicate_credit_code_is_refused(dept):
    code = credit_code()
    make_customer(dept.other_sales, credit_code=code)
    with pytest.raises(DuplicateCustomer) as refused:
        make_customer(dept.sales, credit_code=code.lower())
    assert "credit_code" in refused.value.errors


def test_duplicate_phone_is_refused_also_when_it_is_a_contacts_phone(dept):
    first = make_customer(dept.other_sales, phone=mobile(1))
    services.contact_create(customer=first, by=dept.other_sales.user, name="张", mobile=mobile(2))
    for typed in ("139 0000 0001", "+86 139-0000-0002"):
        with pytest.raises(DuplicateCustomer) as refused:
            make_customer(dept.sales, phone=typed)
        assert "phone" in refused.value.errors
        assert dept.other_sales.name in str(refused.value.message)


def test_a_contact_with_another_customers_phone_is_refused_too(dept):
    make_customer(dept.other_sales, phone=mobile(3))
    mine = make_customer(dept.sales)
    with pytest.raises(DuplicateCustomer) as refused:
        services.contact_create(customer=mine, by=dept.sales.user, name="张", mobile=mobile(3))
    assert "mobile" in refused.value.errors
    contact = services.contact_create(customer=mine, by=dept.sales.user, name="张",
                                      mobile=mobile(4))
    services.contact_update(contact=contact, by=dept.sales.user, title="采购")  # its own phone


def test_a_duplicate_in_the_pool_says_to_claim_it(dept):
    pooled = make_pool_customer(dept.other_sales)
    with pytest.raises(DuplicateCustomer) as refused:
        make_customer(dept.sales, name=pooled.name)
    assert dept.other_sales.name not in str(refused.value.message)


def test_renaming_into_another_customers_name_is_refused_but_keeping_ones_own_is_fine(dept):
    theirs = make_customer(dept.other_sales)
    mine = make_customer(dept.sales, phone=mobile())
    services.customer_update(customer=mine, by=dept.sales.user, name=mine.name + " ",
                             phone=mine.phone)
    with pytest.raises(DuplicateCustomer):
        services.customer_update(customer=mine, by=dept.sales.user, name=theirs.name)
    assert reload(mine).name == mine.name.strip()


def test_a_duplicate_lost_in_a_race_is_still_a_409(dept, monkeypatch):
    existing = make_customer(dept.other_sales)
    monkeypatch.setattr(selectors, "duplicate_of", lambda **kw: None)  # both checked first
    with pytest.raises(DuplicateCustomer) as refused:
        make_customer(dept.sales, name=existing.name)
    assert refused.value.status == 409
    assert Customer.objects.count() == 1


# --- transfers (CUS-7) -----------------------------------------------------------------
def test_sales_cannot_transfer_customers(dept):
    customer = make_customer(dept.sales)
    for by in (dept.sales, dept.finance, dept.hr, dept.outsider):
        with pytest.raises(PermissionDenied):
            services.customer_transfer(customers=[customer], to_owner=dept.sales_mate,
                                       by=by.user, reason="调整")
    assert reload(customer).owner == dept.sales


def test_lead_transfers_a_customer_within_the_team_with_a_reason(dept):
    customer = make_customer(dept.sales)
    moved = services.customer_transfer(customers=[customer], to_owner=dept.sales_mate,
                                       by=dept.lead.user, reason="区域调整")
    assert moved == 1
    customer = reload(customer)
    assert customer.owner == dept.sales_mate
    change = customer.owner_changes.first()
    assert (change.kind, change.from_owner, change.to_owner, change.by, change.reason) == (
        OwnerChangeKind.TRANSFER, dept.sales, dept.sales_mate, dept.lead, "区域调整")


def test_a_transfer_needs_a_reason(dept):
    customer = make_customer(dept.sales)
    for reason in ("", "   ", "很" * 201):
        with pytest.raises(DomainError) as refused:
            services.customer_transfer(customers=[customer], to_owner=dept.sales_mate,
                                       by=dept.lead.user, reason=reason)
        assert "reason" in refused.value.errors
    assert reload(customer).owner == dept.sales


def test_a_long_reason_is_kept_whole_on_the_change_and_shortened_in_the_history(dept):
    customer = make_customer(dept.sales)
    reason = "客户" * 75  # 150 characters; the history column holds 100
    services.customer_transfer(customers=[customer], to_owner=dept.sales_mate,
                               by=dept.lead.user, reason=reason)
    services.customer_grade_override(customer=reload(customer), by=dept.lead.user, grade="A",
                                     reason=reason)
    customer = reload(customer)
    assert customer.owner_changes.first().reason == reason
    assert customer.grade_reason == reason
    for row in customer.history.all()[:2]:
        assert len(row.history_change_reason) == 100
        assert reason.startswith(row.history_change_reason.removesuffix("…"))


def test_lead_cannot_transfer_to_or_from_another_team(dept):
    mine, theirs = make_customer(dept.sales), make_customer(dept.other_sales)
    with pytest.raises(PermissionDenied):
        services.customer_transfer(customers=[mine], to_owner=dept.other_sales,
                                   by=dept.lead.user, reason="调整")
    with pytest.raises(PermissionDenied):
        services.customer_transfer(customers=[theirs], to_owner=dept.sales,
                                   by=dept.lead.user, reason="调整")
    with pytest.raises(PermissionDenied):  # one customer out of scope spoils the batch
        services.customer_transfer(customers=[mine, theirs], to_owner=dept.sales_mate,
                                   by=dept.lead.user, reason="调整")
    assert reload(mine).owner == dept.sales and reload(theirs).owner == dept.other_sales


def test_nobody_receives_customers_after_leaving(dept):
    customer = make_customer(dept.sales)
    gone = leave(dept.sales_mate)
    with pytest.raises(DomainError) as refused:
        services.customer_transfer(customers=[customer], to_owner=gone, by=dept.lead.user,
                                   reason="调整")
    assert "to_owner" in refused.value.errors


def test_a_leavers_customers_are_handed_over_by_the_head(dept):
    customers = [make_customer(dept.sales) for _ in range(3)]
    leave(dept.sales)
    moved = services.customer_transfer(customers=customers, to_owner=dept.sales_mate,
                                       by=dept.lead.user, reason="离职交接")
    assert moved == 3
    assert set(Customer.objects.values_list("owner", flat=True)) == {dept.sales_mate.pk}


def test_manager_transfers_in_bulk_between_teams_recorded_in_changes_and_history(dept):
    customers = [make_customer(dept.sales, collaborators=[dept.sales_mate]) for _ in range(3)]
    customers.append(make_customer(dept.other_sales))
    moved = services.customer_transfer(customers=customers, to_owner=dept.other_sales,
                                       by=dept.manager.user, reason="杭州所接手")
    assert moved == 3  # the fourth was theirs already
    assert OwnerChange.objects.filter(kind=OwnerChangeKind.TRANSFER, by=dept.manager,
                                      reason="杭州所接手").count() == 3
    for customer in customers[:3]:
        customer = reload(customer)
        assert customer.owner == dept.other_sales
        latest = customer.history.first()
        assert latest.history_user == dept.manager.user
        assert latest.history_change_reason == "杭州所接手"
        assert latest.owner_id == dept.other_sales.pk
        # The History tab shows the owner change, and the collaborators did not vanish.
        entry = history_entries(customer)[0]
        assert [c.name for c in entry.changes] == ["owner"]
        assert list(customer.collaborators.all()) == [dept.sales_mate]


def test_a_new_owner_who_was_a_collaborator_stops_being_one(dept):
    customer = make_customer(dept.sales, collaborators=[dept.sales_mate])
    services.customer_transfer(customers=[customer], to_owner=dept.sales_mate,
                               by=dept.lead.user, reason="调整")
    assert not reload(customer).collaborators.exists()


def test_a_bulk_transfer_costs_the_same_queries_for_3_or_30_customers(dept):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost(n):
        customers = [make_customer(dept.sales, collaborators=[dept.other_sales])
                     for _ in range(n)]
        user = type(dept.lead.user).objects.get(pk=dept.lead.user.pk)  # no cached scope
        with CaptureQueriesContext(connection) as queries:
            services.customer_transfer(customers=customers, to_owner=dept.sales_mate,
                                       by=user, reason="调整")
        Customer.objects.all().delete()
        return len(queries)

    assert cost(3) == cost(30)


# --- visits (CUS-8) and revisits (CUS-4) ----------------------------------------------
def test_visit_moves_next_revisit_by_grade_interval(dept):
    customer = make_customer(dept.sales)
    services.customer_grade_override(customer=customer, by=dept.lead.user, grade="B",
                                     reason="战略客户")
    visited = days_ago(2)
    services.visit_log(customer=customer, by=dept.sales.user, summary="介绍新产品",
                       visited_at=visited)
    customer = reload(customer)
    assert customer.last_followup_at == visited
    assert customer.next_revisit_on == timezone.localdate(visited) + datetime.timedelta(days=14)


def test_an_older_visit_logged_late_does_not_move_the_last_follow_up_back(dept):
    customer = make_customer(dept.sales)
    services.visit_log(customer=customer, by=dept.sales.user, summary="新", visited_at=days_ago(1))
    services.visit_log(customer=customer, by=dept.sales.user, summary="旧", visited_at=days_ago(9))
    assert timezone.localdate(reload(customer).last_followup_at) == timezone.localdate(days_ago(1))


def test_the_agreed_next_date_wins_when_sooner_and_survives_a_recompute(dept):
    customer = make_customer(dept.sales)
    soon = timezone.localdate() + datetime.timedelta(days=3)
    services.visit_log(customer=customer, by=dept.sales.user, summary="报价",
                       next_step="送样", next_on=soon)
    assert reload(customer).next_revisit_on == soon
    services.customer_grade_recompute()
    assert reload(customer).next_revisit_on == soon
    services.visit_log(customer=customer, by=dept.sales.user, summary="送样完毕")
    assert reload(customer).next_revisit_on == timezone.localdate() + datetime.timedelta(days=90)


def test_a_next_date_before_the_visit_or_a_visit_in_the_future_is_refused(dept):
    customer = make_customer(dept.sales)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    with pytest.raises(DomainError) as refused:
        services.visit_log(customer=customer, by=dept.sales.user, summary="x", next_on=yesterday)
    assert "next_on" in refused.value.errors
    with pytest.raises(DomainError) as refused:
        services.visit_log(customer=customer, by=dept.sales.user, summary="x",
                           visited_at=timezone.now() + datetime.timedelta(hours=2))
    assert "visited_at" in refused.value.errors
    assert not Visit.objects.exists()


def test_a_visit_needs_a_summary(dept):
    customer = make_customer(dept.sales)
    with pytest.raises(DomainError) as refused:
        services.visit_log(customer=customer, by=dept.sales.user, summary="")
    assert "summary" in refused.value.errors


def test_a_visit_wakes_a_dormant_customer(dept):
    customer = make_customer(dept.sales, stage=Stage.DORMANT)
    services.visit_log(customer=customer, by=dept.sales.user, kind=VisitKind.CALL, summary="问候")
    assert reload(customer).stage == Stage.ACTIVE


def test_checking_in_records_where_and_when(dept):
    customer = make_customer(dept.sales)
    with pytest.raises(DomainError) as refused:
        services.visit_log(customer=customer, by=dept.sales.user, summary="到访", check_in=True)
    assert "latitude" in refused.value.errors
    visit = services.visit_log(customer=customer, by=dept.sales.user, summary="到访",
                               check_in=True, latitude=31.2304161, longitude=121.4737012,
                               accuracy_m=15)
    assert visit.checked_in_at is not None
    assert visit.latitude == Decimal("31.230416")
    for bad in ({"latitude": 91, "longitude": 0}, {"latitude": "abc", "longitude": 1},
                {"latitude": 30}):
        with pytest.raises(DomainError):
            services.visit_log(customer=customer, by=dept.sales.user, summary="到访", **bad)


def test_a_visit_without_location_is_not_a_check_in(dept):
    customer = make_customer(dept.sales)
    visit = services.visit_log(customer=customer, by=dept.sales.user, summary="电话",
                               kind=VisitKind.CALL)
    assert visit.checked_in_at is None


def test_a_visit_names_a_contact_of_the_same_customer_only(dept):
    mine, theirs = make_customer(dept.sales), make_customer(dept.other_sales)
    stranger = services.contact_create(customer=theirs, by=dept.other_sales.user, name="外人")
    with pytest.raises(DomainError) as refused:
        services.visit_log(customer=mine, by=dept.sales.user, summary="x", contact=stranger)
    assert "contact" in refused.value.errors


def test_nobody_logs_visits_on_someone_elses_customer(dept):
    theirs = make_customer(dept.other_sales)
    with pytest.raises(PermissionDenied):
        services.visit_log(customer=theirs, by=dept.sales.user, summary="x")


def test_joint_visit_is_reviewed_by_its_coaching_manager_only(dept):
    customer = make_customer(dept.sales)
    with pytest.raises(DomainError) as refused:
        services.visit_log(customer=customer, by=dept.sales.user, summary="陪同",
                           kind=VisitKind.JOINT)
    assert "coach" in refused.value.errors
    visit = services.visit_log(customer=customer, by=dept.sales.user, summary="陪同拜访",
                               kind=VisitKind.JOINT, coach=dept.lead)
    for outsider in (dept.sales, dept.manager, dept.sales_mate):
        with pytest.raises(PermissionDenied):
            services.visit_review(visit=visit, by=outsider.user, review="好",
                                  improvement_points="")
    with pytest.raises(DomainError) as refused:
        services.visit_review(visit=visit, by=dept.lead.user, review="  ", improvement_points="")
    assert "coach_review" in refused.value.errors
    services.visit_review(visit=visit, by=dept.lead.user, review="开场准备充分",
                          improvement_points="多问客户预算")
    visit.refresh_from_db()
    assert (visit.coach_review, visit.improvement_points) == ("开场准备充分", "多问客户预算")


def test_the_coaching_manager_is_someone_above_the_visitor(dept):
    customer = make_customer(dept.sales)
    for coach in (dept.sales, dept.sales_mate, dept.other_lead):
        with pytest.raises(DomainError) as refused:
            services.visit_log(customer=customer, by=dept.sales.user, summary="陪同",
                               kind=VisitKind.JOINT, coach=coach)
        assert "coach" in refused.value.errors
    for coach in (dept.lead, dept.manager, dept.director):
        visit = services.visit_log(customer=customer, by=dept.sales.user, summary="陪同",
                                   kind=VisitKind.JOINT, coach=coach)
        assert Visit.objects.visible_to(coach.user).filter(pk=visit.pk).exists()


def test_only_a_joint_visit_names_a_coach_and_only_it_is_reviewed(dept):
    customer = make_customer(dept.sales)
    with pytest.raises(DomainError) as refused:
        services.visit_log(customer=customer, by=dept.sales.user, summary="x", coach=dept.lead)
    assert "coach" in refused.value.errors


def test_owner_sees_their_overdue_revisits(dept):
    mine = make_customer(dept.sales)
    make_customer(dept.sales_mate)
    today = timezone.localdate()
    assert not selectors.revisits_overdue(user=dept.sales.user, today=today).exists()
    later = today + datetime.timedelta(days=91)
    assert list(selectors.revisits_overdue(user=dept.sales.user, today=later)) == [mine]


def test_head_sees_overdue_revisits_of_the_team(dept):
    customers = {p: make_customer(getattr(dept, p))
                 for p in ("sales", "sales_mate", "other_sales", "outsider")}
    make_pool_customer(dept.sales)  # nobody's revisit
    later = timezone.localdate() + datetime.timedelta(days=91)

    def overdue(viewer, **kw):
        rows = selectors.revisits_overdue(user=getattr(dept, viewer).user, today=later, **kw)
        return {p for p, c in customers.items() if c in rows}

    assert overdue("lead") == {"sales", "sales_mate"}
    assert overdue("other_lead") == {"other_sales"}
    assert overdue("manager") == overdue("director") == {"sales", "sales_mate", "other_sales"}
    assert overdue("sales") == {"sales"}
    assert overdue("finance") == overdue("hr") == set()
    assert overdue("lead", mine_only=True) == set()


def test_a_revisit_due_today_is_already_on_the_list(dept):
    customer = make_customer(dept.sales)
    due = reload(customer).next_revisit_on
    assert customer in selectors.revisits_overdue(user=dept.sales.user, today=due)
    yesterday = due - datetime.timedelta(days=1)
    assert customer not in selectors.revisits_overdue(user=dept.sales.user, today=yesterday)


# --- who sees what (ORG-4) -------------------------------------------------------------
@pytest.fixture
def owned(dept):
    """One customer, contact and visit of each owner of the scope matrix."""
    rows = {}
    for name in OWNERS:
        owner = getattr(dept, name)
        customer = make_customer(owner)
        contact = services.contact_create(customer=customer, by=owner.user, name=f"{name}的联系人")
        visit = services.visit_log(customer=customer, by=owner.user, summary=f"{name}的拜访")
        rows[name] = (customer, contact, visit)
    return rows


@pytest.mark.parametrize("viewer", VIEWERS)
def test_customers_contacts_and_visits_follow_the_scope_rule(dept, owned, viewer):
    user = getattr(dept, viewer).user
    expected = VISIBLE[Domain.SALES][viewer]
    for index, model in enumerate((Customer, Contact, Visit)):
        visible = set(model.objects.visible_to(user).values_list("pk", flat=True))
        seen = {name for name, rows in owned.items() if rows[index].pk in visible}
        assert seen == expected, (model.__name__, viewer)
        assert len(visible) == len(seen), "rows out of the matrix appeared"


def test_sales_sees_the_customers_they_collaborate_on_with_their_contacts_and_visits(dept):
    theirs = make_customer(dept.other_sales, collaborators=[dept.sales])
    contact = services.contact_create(customer=theirs, by=dept.other_sales.user, name="赵")
    visit = services.visit_log(customer=theirs, by=dept.other_sales.user, summary="拜访")
    user = dept.sales.user
    assert list(Customer.objects.visible_to(user)) == [theirs]  # once, not once per collaborator
    assert list(Contact.objects.visible_to(user)) == [contact]
    assert list(Visit.objects.visible_to(user)) == [visit]
    assert not Customer.objects.visible_to(dept.sales_mate.user).exists()


def test_a_visit_stays_visible_to_who_made_it_after_the_customer_moves_on(dept):
    customer = make_customer(dept.sales)
    visit = services.visit_log(customer=customer, by=dept.sales.user, summary="拜访")
    services.customer_transfer(customers=[customer], to_owner=dept.other_sales,
                               by=dept.manager.user, reason="调整")
    assert list(Visit.objects.visible_to(dept.sales.user)) == [visit]
    assert list(Visit.objects.visible_to(dept.other_sales.user)) == [visit]
    assert not Customer.objects.visible_to(dept.sales.user).exists()


def test_someone_who_left_sees_nothing_not_even_the_pool(dept):
    make_pool_customer(dept.sales_mate)
    make_customer(dept.sales)
    gone = leave(dept.sales)
    assert not Customer.objects.visible_to(gone.user).exists()
    assert not Visit.objects.visible_to(gone.user).exists()


def test_customer_get_answers_404_out_of_scope(dept):
    from django.http import Http404

    theirs = make_customer(dept.other_sales)
    with pytest.raises(Http404):
        selectors.customer_get(user=dept.sales.user, pk=theirs.pk)
    assert selectors.customer_get(user=dept.manager.user, pk=theirs.pk) == theirs


def test_duplicates_are_found_whoever_owns_them_but_unique_names_pass(dept):
    make_customer(dept.outsider, name="研发部的客户有限公司")
    with pytest.raises(DuplicateCustomer):
        make_customer(dept.sales, name="研发部的客户")
    make_customer(dept.sales, name=unique_name())

