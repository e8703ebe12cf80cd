"""The demo department's customers look like a real year's work, and the scale builder
writes consistent data. The demo is built once for the class (in a transaction that is
rolled back afterwards); each test runs in its own savepoint inside it."""

import datetime
from collections import Counter

import pytest
from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from bizdept.core.management.commands.demo import build
from bizdept.core.validators import normalize_phone, validate_credit_code
from bizdept.customers import demo as customers_demo
from bizdept.customers import selectors, services
from bizdept.customers.choices import COMPLAINT_DEADLINES, Grade, OwnerChangeKind, Stage, VisitKind
from bizdept.customers.models import (
    Complaint,
    Contact,
    Customer,
    MarketReport,
    OwnerChange,
    Survey,
    Visit,
)
from bizdept.org.choices import EmployeeStatus, RoleCode
from bizdept.org.demo import DemoContext
from bizdept.org.demo import build_scale as org_build_scale
from bizdept.org.models import Employee


@pytest.fixture(scope="class")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield build("demo")
        transaction.set_rollback(True)


def _salespeople():
    return Employee.objects.filter(roles__code=RoleCode.SALES)


@pytest.mark.usefixtures("demo", "db")
class TestDemoCustomers:
    def test_every_working_salesperson_owns_eight_to_sixteen_customers(self):
        owned = dict(_salespeople().exclude(status=EmployeeStatus.LEFT)
                     .annotate(n=Count("customers")).values_list("user__username", "n"))
        assert len(owned) == 44
        assert min(owned.values()) >= 6 and max(owned.values()) <= 18, owned
        assert 8 <= sum(owned.values()) / len(owned) <= 15

    def test_salespeople_report_in_on_most_working_days_of_the_last_four_weeks(self):
        director = Employee.objects.get(user__username="director")
        yesterday = timezone.localdate() - datetime.timedelta(days=1)
        days = selectors.field_reports(user=director.user, since=yesterday
                                       - datetime.timedelta(days=27), until=yesterday)
        missed = [d for d in days if d.missed]
        assert days and 0 < len(missed) <= len(days) * 0.12, (len(missed), len(days))

    def test_the_leaver_s_customers_were_handed_over_with_a_reason(self):
        leaver = _salespeople().get(status=EmployeeStatus.LEFT)
        assert not Customer.objects.filter(owner=leaver).exists()
        handed = OwnerChange.objects.filter(kind=OwnerChangeKind.TRANSFER, from_owner=leaver)
        assert handed.count() >= 6
        assert all(c.reason and c.at.date() <= leaver.leave_date + datetime.timedelta(days=1)
                   for c in handed)

    def test_customers_are_in_their_team_s_city(self, demo):
        for team in demo.teams:
            cities = {customers_demo.CITIES[c].region
                      for c in customers_demo.TEAM_CITIES[team.name]}
            regions = set(Customer.objects.filter(owner__unit=team)
                          .values_list("region", flat=True))
            assert regions and regions <= cities, (team.name, regions)

    def test_some_revisits_are_overdue_for_the_owner_and_their_lead(self, demo):
        director = demo.by_username["director"].user
        overdue = selectors.revisits_overdue(user=director)
        assert 20 <= overdue.count() <= 120
        assert {c.grade for c in overdue} <= {Grade.A, Grade.B, Grade.C}
        owner = overdue.first().owner
        assert selectors.revisits_overdue(user=owner.user, mine_only=True).exists()
        lead = owner.unit.head
        assert selectors.revisits_overdue(user=lead.user).filter(owner=owner).exists()

    def test_the_public_pool_is_not_empty(self, demo):
        pool = selectors.pool_list(user=demo.by_username["sales"].user)
        assert 9 <= pool.count() <= 20
        assert all(c.pooled_at and c.next_revisit_on is None for c in pool)
        released = OwnerChange.objects.filter(kind=OwnerChangeKind.RELEASE)
        assert set(released.values_list("customer", flat=True)) == {c.pk for c in pool}
        assert all(r.reason for r in released)

    def test_every_credit_code_is_valid_and_unique(self):
        codes = list(Customer.objects.values_list("credit_code", flat=True))
        assert all(validate_credit_code(code) == code for code in codes)
        assert len(set(codes)) == len(codes)

    def test_every_phone_is_stored_as_e164(self):
        phones = [*Customer.objects.values_list("phone", flat=True),
                  *Contact.objects.values_list("mobile", flat=True),
                  *Contact.objects.exclude(phone="").values_list("phone", flat=True)]
        assert phones and all(p.startswith("+86") and normalize_phone(p) == p for p in phones)

    def test_every_customer_has_contacts_and_one_key_person(self):
        counts = Customer.objects.annotate(n=Count("contacts"), keys=Count(
            "contacts", filter=Q(contacts__is_key=True)))
        assert all(1 <= c.n <= 3 and c.keys == 1 for c in counts)

    def test_joint_visits_name_a_coach_and_older_ones_carry_a_review(self):
        joint = Visit.objects.filter(kind=VisitKind.JOINT)
        assert joint.count() > 50
        assert not joint.filter(coach__isnull=True).exists()
        assert not joint.filter(coach=F("employee")).exists()
        week_ago = timezone.now() - datetime.timedelta(days=8)
        assert not joint.filter(visited_at__lt=week_ago, coach_review="").exists()
        assert joint.exclude(coach_review="").exclude(improvement_points="").exists()

    def test_visits_follow_the_grade_rhythm_within_the_last_year(self):
        now = timezone.now()
        assert not Visit.objects.filter(visited_at__gt=now).exists()
        assert not Visit.objects.filter(
            visited_at__lt=now - datetime.timedelta(days=367)).exists()
        per_grade = dict(Customer.objects.filter(owner__isnull=False, stage=Stage.ACTIVE,
                                                 created_at__lt=now - datetime.timedelta(days=366))
                         .values("grade").annotate(n=Count("visits")).values_list("grade", "n"))
        customers = Counter(Customer.objects.filter(
            owner__isnull=False, stage=Stage.ACTIVE,
            created_at__lt=now - datetime.timedelta(days=366)).values_list("grade", flat=True))
        a, c = per_grade["A"] / customers["A"], per_grade["C"] / customers["C"]
        assert a > 40 and 10 < c < 20
        checked_in = Visit.objects.filter(latitude__isnull=False)
        assert checked_in.count() > 1000
        assert not checked_in.filter(checked_in_at__isnull=True).exists()

    def test_last_follow_up_is_the_latest_visit(self):
        rows = Customer.objects.annotate(latest=Max("visits__visited_at"))
        assert all(c.last_followup_at == c.latest for c in rows)

    def test_grades_a_to_d_appear_and_hand_set_ones_say_why(self):
        grades = Counter(Customer.objects.values_list("grade", "grade_is_manual"))
        assert {g for g, _ in grades} == {"A", "B", "C", "D"}
        manual = Customer.objects.filter(grade_is_manual=True)
        assert all(c.grade_reason.startswith("演示数据") for c in manual)
        assert manual.first().history.filter(
            history_change_reason=manual.first().grade_reason).exists()

    def test_the_services_recompute_agrees_with_the_demo(self):
        before = dict(Customer.objects.values_list("pk", "next_revisit_on"))
        assert services.customer_grade_recompute() == 0
        assert dict(Customer.objects.values_list("pk", "next_revisit_on")) == before

    def test_the_daily_sweep_takes_only_the_dormant_customers(self):
        dormant = set(Customer.objects.filter(owner__isnull=False, stage=Stage.DORMANT)
                      .values_list("pk", flat=True))
        released = services.pool_release_stale()
        assert 0 < released <= len(dormant)
        newly = OwnerChange.objects.filter(kind=OwnerChangeKind.RELEASE, by__isnull=True)
        assert set(newly.values_list("customer", flat=True)) <= dormant

    def test_complaints_have_deadlines_by_severity_and_some_are_overdue(self):
        complaints = list(Complaint.objects.all())
        assert len(complaints) == 20
        assert all(c.deadline_at == c.received_at + COMPLAINT_DEADLINES[c.severity]
                   for c in complaints)
        assert len({c.severity for c in complaints}) == 4
        open_ = [c for c in complaints if c.status in ("open", "in_progress")]
        assert sum(c.deadline_at < timezone.now() for c in open_) >= 3
        resolved = [c for c in complaints if c.resolved_at]
        assert len(resolved) >= 8 and all(c.resolution for c in resolved)
        assert any(c.escalated_to for c in complaints)

    def test_active_customers_are_surveyed_each_quarter_mostly_well(self):
        surveys = Survey.objects.select_related("customer")
        assert surveys.count() > 500
        periods = set(surveys.values_list("period", flat=True))
        assert len(periods) == 4
        scores = Counter(s for row in surveys.values_list("service", "delivery", "product")
                         for s in row)
        assert (scores[3] + scores[4] + scores[5]) / sum(scores.values()) > 0.85
        assert not surveys.exclude(customer__stage=Stage.ACTIVE).exists()

    def test_market_reports_span_kinds_and_regions(self):
        reports = MarketReport.objects.all()
        assert reports.count() == 30
        assert len(set(reports.values_list("kind", flat=True))) >= 4
        assert len(set(reports.values_list("region", flat=True))) >= 4

    def test_history_and_owner_changes_are_dated_in_the_story(self):
        created = OwnerChange.objects.filter(kind=OwnerChangeKind.CREATED).select_related(
            "customer")
        assert all(c.at == c.customer.created_at for c in created)
        assert Customer.objects.filter(
            created_at__lt=timezone.now() - datetime.timedelta(days=365)).count() > 200


def test_scale_builds_consistent_customers_and_visits(db, monkeypatch):
    monkeypatch.setitem(customers_demo.SCALE, "S", (300, 3_000))
    monkeypatch.setattr(customers_demo, "SCALE_BATCH", 120)
    ctx = DemoContext.new()
    org_build_scale(ctx, "S")
    customers_demo.build_scale(ctx, "S")

    assert Customer.objects.count() == 300
    assert Visit.objects.count() == 3_000
    assert Contact.objects.filter(is_key=True).count() == 300
    codes = list(Customer.objects.values_list("credit_code", flat=True))
    assert len(set(codes)) == 300 and all(validate_credit_code(c) == c for c in codes)
    assert all(normalize_phone(p) == p for p in Customer.objects.values_list("phone", flat=True))
    assert {g for g in Customer.objects.values_list("grade", flat=True)} == set(Grade.values)
    assert Customer.objects.filter(owner__isnull=True).exists()
    assert Customer.objects.filter(owner__isnull=False,
                                   next_revisit_on__lte=timezone.localdate()).exists()
    assert all(c.last_followup_at == c.latest
               for c in Customer.objects.annotate(latest=Max("visits__visited_at")))
    assert not Visit.objects.filter(kind=VisitKind.JOINT, coach__isnull=True).exists()
    assert not Customer.history.exists()
    before = dict(Customer.objects.values_list("pk", "next_revisit_on"))
    assert services.customer_grade_recompute() == 0
    assert dict(Customer.objects.values_list("pk", "next_revisit_on")) == before
