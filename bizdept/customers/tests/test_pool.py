"""The public pool (公海, CUS-6): release by hand and by the sweep, claims within limits."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bizdept.core.errors import Conflict, DomainError
from bizdept.core.history import history_entries
from bizdept.customers import selectors, services
from bizdept.customers.choices import OwnerChangeKind
from bizdept.customers.models import Customer, CustomerSettings, OwnerChange, Visit
from bizdept.org.choices import EmployeeStatus
from bizdept.org.services import employee_set_status

from .factories import backdate, make_customer, make_pool_customer, reload


def sweep(days_later: int = 0) -> int:
    return services.pool_release_stale(now=timezone.now() + datetime.timedelta(days=days_later))


def set_pool_rules(**values) -> None:
    CustomerSettings.objects.filter(pk=CustomerSettings.current().pk).update(**values)


# --- the pool is everyone's to see and nobody's to edit -------------------------------
def test_pool_customers_are_visible_to_everyone_but_editable_by_nobody_until_claimed(dept):
    pooled = make_pool_customer(dept.other_sales)
    everyone = [dept.director, dept.manager, dept.lead, dept.sales, dept.sales_mate,
                dept.other_lead, dept.other_sales, dept.finance, dept.hr, dept.outsider]
    for employee in everyone:
        assert list(selectors.pool_list(user=employee.user)) == [pooled], employee.name
        assert not services.can_edit(employee.user, pooled), employee.name
    with pytest.raises(PermissionDenied):
        services.customer_update(customer=pooled, by=dept.other_sales.user, region="杭州")
    with pytest.raises(PermissionDenied):
        services.visit_log(customer=pooled, by=dept.manager.user, summary="路过")
    with pytest.raises(PermissionDenied):
        services.contact_create(customer=pooled, by=dept.lead.user, name="张")
    claimed = services.customer_claim(customer=pooled, by=dept.sales.user)
    assert services.can_edit(dept.sales.user, claimed)
    assert not services.can_edit(dept.other_sales.user, claimed)
    assert not selectors.pool_list(user=dept.sales.user).exists()


def test_someone_who_left_neither_sees_nor_claims_the_pool(dept):
    pooled = make_pool_customer(dept.other_sales)
    gone = employee_set_status(employee=dept.sales, status=EmployeeStatus.LEFT)
    assert not selectors.pool_list(user=gone.user).exists()
    with pytest.raises(PermissionDenied):
        services.customer_claim(customer=pooled, by=gone.user)


# --- releasing by hand ---------------------------------------------------------------
def test_the_owner_releases_with_a_reason_and_collaborators_go_with_the_owner(dept):
    customer = make_customer(dept.sales, collaborators=[dept.sales_mate])
    with pytest.raises(DomainError) as refused:
        services.customer_release(customer=customer, by=dept.sales.user, reason=" ")
    assert "reason" in refused.value.errors
    services.customer_release(customer=customer, by=dept.sales.user, reason="客户已转行")
    customer = reload(customer)
    assert customer.owner is None and customer.pooled_at is not None
    assert customer.next_revisit_on is None and not customer.collaborators.exists()
    change = customer.owner_changes.first()
    assert (change.kind, change.from_owner, change.by, change.reason) == (
        OwnerChangeKind.RELEASE, dept.sales, dept.sales, "客户已转行")


def test_a_collaborator_may_not_give_the_customer_away_but_a_head_may(dept):
    customer = make_customer(dept.sales, collaborators=[dept.other_sales])
    with pytest.raises(PermissionDenied):
        services.customer_release(customer=customer, by=dept.other_sales.user, reason="不要了")
    with pytest.raises(PermissionDenied):
        services.customer_release(customer=customer, by=dept.other_lead.user, reason="不要了")
    services.customer_release(customer=customer, by=dept.lead.user, reason="长期无进展")
    assert reload(customer).owner is None


def test_releasing_twice_is_a_conflict(dept):
    customer = make_customer(dept.sales)
    stale = reload(customer)
    services.customer_release(customer=customer, by=dept.sales.user, reason="不再跟进")
    with pytest.raises(Conflict):
        services.customer_release(customer=stale, by=dept.sales.user, reason="不再跟进")
    assert OwnerChange.objects.filter(kind=OwnerChangeKind.RELEASE).count() == 1


def test_a_pooled_customer_is_nobodys_overdue_revisit(dept):
    customer = make_customer(dept.sales)
    services.customer_release(customer=customer, by=dept.sales.user, reason="不再跟进")
    later = timezone.localdate() + datetime.timedelta(days=365)
    assert not selectors.revisits_overdue(user=dept.director.user, today=later).exists()


# --- the sweep -------------------------------------------------------------------------
def test_stale_customers_are_released_by_the_sweep_and_it_is_idempotent(dept):
    stale = backdate(make_customer(dept.sales, collaborators=[dept.sales_mate]),
                     days=45, followed_up=True)
    never = backdate(make_customer(dept.sales_mate), days=31)
    fresh = backdate(make_customer(dept.other_sales), days=45, followed_up=True)
    services.visit_log(customer=fresh, by=dept.other_sales.user, summary="回访")
    new = make_customer(dept.sales)
    assert services.pool_release_stale() == 2
    assert services.pool_release_stale() == 0
    assert {c.pk for c in Customer.objects.in_pool()} == {stale.pk, never.pk}
    assert reload(fresh).owner == dept.other_sales and reload(new).owner == dept.sales
    stale = reload(stale)
    assert stale.pooled_at is not None and stale.next_revisit_on is None
    assert not stale.collaborators.exists()
    change = stale.owner_changes.first()
    assert (change.kind, change.from_owner, change.by) == (OwnerChangeKind.RELEASE, dept.sales,
                                                           None)
    assert "30" in change.reason
    assert stale.history.first().owner_id is None
    assert OwnerChange.objects.filter(kind=OwnerChangeKind.RELEASE).count() == 2


def test_the_sweep_period_is_configurable(dept):
    customer = backdate(make_customer(dept.sales), days=10, followed_up=True)
    assert services.pool_release_stale() == 0
    set_pool_rules(pool_release_days=7)
    assert services.pool_release_stale() == 1
    assert reload(customer).owner is None


def test_the_sweep_counts_days_from_the_last_follow_up_not_a_day_less(dept):
    customer = make_customer(dept.sales)
    services.visit_log(customer=customer, by=dept.sales.user, summary="拜访")
    assert sweep(days_later=29) == 0
    assert sweep(days_later=31) == 1


def test_a_customer_just_given_to_a_new_owner_gets_the_full_period(dept):
    transferred = backdate(make_customer(dept.sales), days=60, followed_up=True)
    claimed = backdate(make_customer(dept.sales_mate), days=60, followed_up=True)
    services.customer_release(customer=claimed, by=dept.sales_mate.user, reason="不再跟进")
    services.customer_transfer(customers=[transferred], to_owner=dept.sales_mate,
                               by=dept.lead.user, reason="调整")
    services.customer_claim(customer=claimed, by=dept.other_sales.user)
    assert services.pool_release_stale() == 0
    assert reload(transferred).owner == dept.sales_mate
    assert sweep(days_later=31) == 2


def test_the_history_tab_shows_who_released_and_why(dept):
    customer = backdate(make_customer(dept.sales), days=40)
    services.pool_release_stale()
    entry = history_entries(reload(customer))[0]
    assert entry.who and "owner" in [c.name for c in entry.changes]


def test_the_sweep_costs_the_same_queries_for_5_or_30_customers(dept):
    def cost(n):
        for _ in range(n):
            backdate(make_customer(dept.sales, collaborators=[dept.sales_mate]), days=40)
        with CaptureQueriesContext(connection) as queries:
            assert services.pool_release_stale() == n
        Customer.objects.all().delete()
        return len(queries)

    assert cost(5) == cost(30)


# --- claiming --------------------------------------------------------------------------
def test_claiming_makes_the_customer_mine_and_schedules_a_revisit(dept):
    pooled = make_pool_customer(dept.other_sales)
    claimed = services.customer_claim(customer=pooled, by=dept.sales.user)
    claimed = reload(claimed)
    assert claimed.owner == dept.sales and claimed.pooled_at is None
    assert claimed.next_revisit_on == timezone.localdate() + datetime.timedelta(days=90)
    change = claimed.owner_changes.first()
    assert (change.kind, change.to_owner, change.by) == (OwnerChangeKind.CLAIM, dept.sales,
                                                         dept.sales)


def test_claim_limit_per_day(dept):
    set_pool_rules(daily_claim_limit=2)
    pooled = [make_pool_customer(dept.other_sales) for _ in range(4)]
    for customer in pooled[:2]:
        services.customer_claim(customer=customer, by=dept.sales.user)
    with pytest.raises(DomainError) as refused:
        services.customer_claim(customer=pooled[2], by=dept.sales.user)
    assert refused.value.code == "limit" and "2" in str(refused.value.message)
    assert reload(pooled[2]).owner is None
    services.customer_claim(customer=pooled[2], by=dept.sales_mate.user)  # a limit per person
    # Yesterday's claims do not count today.
    OwnerChange.objects.filter(kind=OwnerChangeKind.CLAIM, by=dept.sales).update(
        at=timezone.now() - datetime.timedelta(days=1))
    services.customer_claim(customer=pooled[3], by=dept.sales.user)


def test_claim_limit_on_customers_owned(dept):
    set_pool_rules(owned_limit=2)
    make_customer(dept.sales)
    first, second = make_pool_customer(dept.other_sales), make_pool_customer(dept.other_sales)
    services.customer_claim(customer=first, by=dept.sales.user)
    with pytest.raises(DomainError) as refused:
        services.customer_claim(customer=second, by=dept.sales.user)
    assert refused.value.code == "limit"
    set_pool_rules(owned_limit=0)  # no limit
    services.customer_claim(customer=second, by=dept.sales.user)


def test_a_customer_someone_owns_cannot_be_claimed(dept):
    theirs = make_customer(dept.other_sales)
    with pytest.raises(Conflict):
        services.customer_claim(customer=theirs, by=dept.sales.user)
    assert reload(theirs).owner == dept.other_sales


def test_concurrent_claim_gives_a_conflict(dept):
    """Both saw the customer in the pool; the one who comes second is told, with a 409."""
    pooled = make_pool_customer(dept.other_sales)
    seen_by_sales, seen_by_mate = reload(pooled), reload(pooled)
    services.customer_claim(customer=seen_by_sales, by=dept.sales.user)
    with pytest.raises(Conflict) as refused:
        services.customer_claim(customer=seen_by_mate, by=dept.sales_mate.user)
    assert refused.value.status == 409
    assert reload(pooled).owner == dept.sales
    assert OwnerChange.objects.filter(kind=OwnerChangeKind.CLAIM).count() == 1


@pytest.mark.skipif(connection.vendor == "sqlite",
                    reason="threads need a real server; SQLite's write lock serializes anyway")
@pytest.mark.django_db(transaction=True)
def test_claims_racing_in_parallel_give_one_owner_and_conflicts(dept):
    pooled = make_pool_customer(dept.other_sales)
    claimants = [dept.sales, dept.sales_mate, dept.lead, dept.other_lead]
    barrier = threading.Barrier(len(claimants))
    outcomes = []

    def claim(employee):
        try:
            barrier.wait()
            services.customer_claim(customer=pooled, by=employee.user)
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=claim, args=(e,)) for e in claimants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 3 + ["won"]
    assert OwnerChange.objects.filter(kind=OwnerChangeKind.CLAIM).count() == 1


def test_visits_made_before_the_release_are_there_for_the_next_owner(dept):
    customer = make_customer(dept.other_sales)
    visit = services.visit_log(customer=customer, by=dept.other_sales.user, summary="初次拜访")
    services.customer_release(customer=customer, by=dept.other_sales.user, reason="不再跟进")
    assert list(Visit.objects.visible_to(dept.sales.user)) == [visit]
    services.customer_claim(customer=customer, by=dept.sales.user)
    assert list(selectors.visit_list(user=dept.sales.user)) == [visit]


@pytest.mark.skipif(connection.vendor == "sqlite",
                    reason="threads need a real server; SQLite's write lock serializes anyway")
@pytest.mark.django_db(transaction=True)
def test_one_persons_parallel_claims_cannot_slip_past_the_daily_limit(dept):
    set_pool_rules(daily_claim_limit=1)
    pooled = [make_pool_customer(dept.other_sales) for _ in range(3)]
    barrier = threading.Barrier(len(pooled))
    outcomes = []

    def claim(customer):
        try:
            barrier.wait()
            services.customer_claim(customer=customer, by=dept.sales.user)
            outcomes.append("won")
        except DomainError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(c,)) for c in pooled]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["limit", "limit", "won"]
    assert Customer.objects.filter(owner=dept.sales).count() == 1
