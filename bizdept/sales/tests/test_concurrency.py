"""SAL-4 under load: numbers issued from many connections at once are gapless and unique.

Each thread has its own database connection (Django gives every thread one) and issues
numbers in its own transactions, all released together by a barrier, so the issues really
overlap; the year's counter row (``select_for_update``) makes them queue. SQLite has one
writer at a time anyway (IMMEDIATE transactions), so the race is run on PostgreSQL only.
"""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from bizdept.sales import services
from bizdept.sales.models import ContractNumber, ContractNumberCounter, ContractNumberSetting
from bizdept.sales.numbering import number_regex

THREADS = 16
ISSUES = 25  # per thread: 400 numbers in all


@pytest.mark.skipif(connection.vendor == "sqlite",
                    reason="concurrent connections need PostgreSQL; SQLite's single writer "
                           "serializes the issues anyway (run with DATABASE_URL=postgres://…)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_give_a_gapless_unique_sequence(dept):
    people = [dept.sales, dept.sales_mate, dept.lead, dept.other_sales]
    issuers = [(dept.finance.user, people[i % len(people)]) for i in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    issued: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def work(by, to):
        try:
            barrier.wait()
            for _ in range(ISSUES):
                numbers = services.contract_number_issue(by=by, to=to)
                with lock:
                    issued.extend(n.number for n in numbers)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=work, args=pair) for pair in issuers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not failures, failures[:3]
    total = THREADS * ISSUES
    year = timezone.localdate().year
    rows = list(ContractNumber.objects.filter(year=year).order_by("seq")
                .values_list("seq", "number"))
    assert [seq for seq, _number in rows] == list(range(1, total + 1))  # no gap, no repeat
    assert len({number for _seq, number in rows}) == total
    assert sorted(issued) == sorted(number for _seq, number in rows)
    regex = number_regex(ContractNumberSetting.current().pattern)
    for seq, number in rows:
        match = regex.fullmatch(number)
        assert match and int(match["seq"]) == seq and int(match["year"]) == year
    assert ContractNumberCounter.objects.get(year=year).last_seq == total
