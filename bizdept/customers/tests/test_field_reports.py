"""CUS-8: salespeople report in from the field every working day (每日1-2次汇报); a day
with fewer reports than the minimum is flagged to the heads above them."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bizdept.core.calendar import is_working_day, working_days
from bizdept.core.models import CalendarDay
from bizdept.customers import selectors, services
from bizdept.customers.models import CustomerSettings, Visit
from bizdept.customers.tests.factories import make_customer
from bizdept.org.choices import EmployeeStatus
from bizdept.org.models import Employee
from bizdept.org.tests.factories import make_employee

# A week of October 2026: Thursday 1 to Wednesday 7 are 国庆节, Saturday 10 is worked.
HOLIDAY = datetime.date(2026, 10, 1)
MAKE_UP_SATURDAY = datetime.date(2026, 10, 10)
MONDAY = datetime.date(2026, 10, 12)


def at(day, hour=10, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def report(employee, day, hour=10, minute=0):
    """A visit logged by ``employee`` on ``day`` (bulk, as history would have it)."""
    customer = make_customer(employee)
    return Visit.objects.create(customer=customer, employee=employee, visited_at=at(day, hour,
                                                                                    minute),
                                summary="拜访")


def names(rows):
    return {(row.employee.name, row.day) for row in rows}


# --- the calendar ---------------------------------------------------------------------
def test_calendar_knows_holidays_and_make_up_days(db):
    assert not is_working_day(HOLIDAY)  # a Thursday, 国庆节
    assert is_working_day(MAKE_UP_SATURDAY)  # 调休上班
    assert not is_working_day(datetime.date(2026, 10, 11))  # an ordinary Sunday
    assert is_working_day(MONDAY)
    assert working_days(datetime.date(2026, 10, 1), datetime.date(2026, 10, 12)) == [
        datetime.date(2026, 10, 8), datetime.date(2026, 10, 9), MAKE_UP_SATURDAY, MONDAY]
    assert working_days(MONDAY, HOLIDAY) == []


def test_administrators_can_add_a_holiday(db):
    CalendarDay.objects.create(day=MONDAY, is_working=False, name="公司假日")
    assert not is_working_day(MONDAY)


# --- who is flagged ----------------------------------------------------------------------
def test_a_working_day_without_a_report_is_flagged(dept):
    report(dept.sales, MONDAY)
    rows = selectors.field_reports(user=dept.lead.user, since=MONDAY, until=MONDAY,
                                   missed_only=True)
    assert names(rows) == {(dept.sales_mate.name, MONDAY)}
    assert rows[0].reports == 0 and rows[0].required == 1 and rows[0].missed


def test_holidays_and_weekends_are_not_owed_but_make_up_days_are(dept):
    rows = selectors.field_reports(user=dept.lead.user, since=HOLIDAY,
                                   until=datetime.date(2026, 10, 11), missed_only=True)
    days = {row.day for row in rows}
    assert days == {datetime.date(2026, 10, 8), datetime.date(2026, 10, 9), MAKE_UP_SATURDAY}


def test_the_minimum_is_configurable(dept):
    report(dept.sales, MONDAY)
    CustomerSettings.objects.filter(pk=1).update(daily_reports_required=2)
    assert (dept.sales.name, MONDAY) in names(selectors.field_reports(
        user=dept.lead.user, since=MONDAY, until=MONDAY, missed_only=True))
    report(dept.sales, MONDAY, hour=16)
    assert (dept.sales.name, MONDAY) not in names(selectors.field_reports(
        user=dept.lead.user, since=MONDAY, until=MONDAY, missed_only=True))
    CustomerSettings.objects.filter(pk=1).update(daily_reports_required=0)
    assert selectors.field_reports(user=dept.lead.user, since=MONDAY, until=MONDAY,
                                   missed_only=True) == []


def test_a_late_evening_report_counts_for_that_local_day(dept):
    report(dept.sales, MONDAY, hour=23, minute=30)  # 15:30 UTC, the same day in Shanghai
    report(dept.sales_mate, MONDAY, hour=0, minute=30)  # 16:30 UTC the day before
    assert names(selectors.field_reports(user=dept.lead.user, since=MONDAY, until=MONDAY,
                                         missed_only=True)) == set()


def test_only_salespeople_owe_reports_and_only_while_employed(dept):
    late_joiner = make_employee(dept.team, name="新人", hire_date=MONDAY)
    leaver = make_employee(dept.team, name="离职者")
    Employee.objects.filter(pk=leaver.pk).update(status=EmployeeStatus.LEFT,
                                                 leave_date=MONDAY)
    rows = selectors.field_reports(user=dept.director.user,
                                   since=MONDAY - datetime.timedelta(days=3), until=MONDAY,
                                   missed_only=True)
    people = {row.employee.name for row in rows}
    assert {dept.sales.name, dept.sales_mate.name, dept.other_sales.name} <= people
    assert dept.lead.name not in people and dept.manager.name not in people
    assert leaver.name not in people
    assert {row.day for row in rows if row.employee.pk == late_joiner.pk} == {MONDAY}


def test_days_still_to_come_are_not_owed(dept):
    today = timezone.localdate()
    rows = selectors.field_reports(user=dept.lead.user, since=today,
                                   until=today + datetime.timedelta(days=10))
    assert {row.day for row in rows} <= {today}


# --- who sees the flags (ORG-4) -----------------------------------------------------------
@pytest.mark.parametrize("viewer, expected", [
    ("lead", {"sales", "sales_mate"}),
    ("manager", {"sales", "sales_mate", "other_sales"}),
    ("director", {"sales", "sales_mate", "other_sales"}),
    ("sales", {"sales"}),
    ("finance", set()),
    ("hr", set()),
])
def test_flags_follow_the_scope_rule(dept, viewer, expected):
    rows = selectors.field_reports(user=getattr(dept, viewer).user, since=MONDAY, until=MONDAY,
                                   missed_only=True)
    assert {row.employee.user.username for row in rows} == expected


def test_costs_four_queries_however_many_people_and_days_once_the_scope_is_known(dept):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            rows = selectors.field_reports(user=dept.director.user,
                                           since=MONDAY - datetime.timedelta(days=30),
                                           until=MONDAY)
            [row.employee.unit.name for row in rows]
        return len(ctx)

    count()  # resolves (and caches) the director's scope
    small = count()
    for n in range(5):
        person = make_employee(dept.other_team, name=f"加人{n}")
        report(person, MONDAY)
    assert count() == small == 4


# --- pages ----------------------------------------------------------------------------
def test_head_sees_missed_reports_on_my_day(as_user, dept):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    html = as_user(dept.lead).get(reverse("customers:revisits")).content.decode()
    assert 'id="missed-field-reports"' in html
    if is_working_day(yesterday):
        assert dept.sales.name in html


def test_salesperson_sees_their_own_count_today(as_user, dept):
    client = as_user(dept.sales)
    html = client.get(reverse("customers:revisits")).content.decode()
    if is_working_day(timezone.localdate()):
        assert 'id="my-field-reports"' in html and "alert-warning" in html
        services.visit_log(customer=make_customer(dept.sales), by=dept.sales.user,
                           summary="上门拜访")
        html = client.get(reverse("customers:revisits")).content.decode()
        assert "alert-success" in html
    assert 'id="missed-field-reports"' not in html  # not a head


def test_field_reports_page_filters_exports_and_refuses_a_long_period(as_user, dept):
    client = as_user(dept.lead)
    url = reverse("customers:field_reports")
    assert client.get(url).status_code == 200
    response = client.get(url, {"since": MONDAY, "until": MONDAY, "missed": "on"})
    html = response.content.decode()
    assert dept.sales.name in html and dept.other_sales.name not in html
    fragment = client.get(url, {"since": MONDAY, "until": MONDAY}, HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode()
    export = client.get(url, {"since": MONDAY, "until": MONDAY, "export": "xlsx"})
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    too_long = client.get(url, {"since": "2026-01-01", "until": "2026-12-31"})
    assert too_long.context["form"].errors["until"]
    backwards = client.get(url, {"since": "2026-10-12", "until": "2026-10-01"})
    assert backwards.context["form"].errors["until"]


def test_field_reports_page_costs_constant_queries(as_user, dept):
    client = as_user(dept.director)
    url = reverse("customers:field_reports")
    params = {"since": MONDAY - datetime.timedelta(days=14), "until": MONDAY}

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, params).status_code == 200
        return len(ctx)

    small = count()
    for n in range(4):
        make_employee(dept.other_team, name=f"又一人{n}")
    assert count() == small
