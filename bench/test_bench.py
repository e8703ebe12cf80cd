"""Smoke test: the benchmark code still runs against today's models and scope rule.

No timing is asserted here, ever (see bench/__init__.py); the numbers come from
``python -m bench``.
"""

import pytest

from bench import duplicates, load, report, scope
from bizdept.org.demo import DemoContext, build_scale


def test_scope_rows_at_size_s(db):
    build_scale(DemoContext.new(), "S")

    rows = scope.scope_rows("S", iterations=3)

    assert [row.name for row in rows] == [
        "scope resolution, director, size S",
        "scope resolution, lead, size S",
        "scope resolution, salesperson, size S",
    ]
    for row in rows:
        assert isinstance(row.median_ms, float) and row.median_ms >= 0
        assert row.p95_ms >= row.median_ms
        assert isinstance(row.queries, int) and row.queries >= 2
    director, lead, salesperson = rows
    assert director.visible == 100
    assert director.visible > lead.visible > salesperson.visible == 1
    assert "scope resolution, director, size S" in report.plain(rows)
    assert report.markdown(rows).count("\n") == len(rows) + 1


def test_percentile_is_a_measured_value():
    assert report.percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert report.percentile([float(i) for i in range(1, 101)], 95) == 95.0


@pytest.fixture
def small_scale(db, monkeypatch):
    """Size S people with a few hundred customers (the real S has 5,000)."""
    from bizdept.customers import demo as customers_demo

    monkeypatch.setitem(customers_demo.SCALE, "S", (300, 600))
    ctx = DemoContext.new()
    build_scale(ctx, "S")
    customers_demo.build_scale(ctx, "S")
    return ctx


def test_duplicate_rows_at_a_small_size(small_scale):
    rows = duplicates.duplicate_rows("S", checks=60, refusals=6)

    names = [row.name for row in rows]
    assert names[0] == "duplicate check, no match (new keys), size S"
    assert "duplicate check, mix, size S" in names
    assert names[-1] == "customer create refused as duplicate, size S"
    by_name = {row.name: row for row in rows}
    # A new customer pays every lookup: credit code, name, customer phone, contact phone.
    assert by_name["duplicate check, no match (new keys), size S"].queries == 4
    for row in rows:
        assert row.queries is None or 1 <= row.queries <= 4
        assert row.p95_ms >= row.median_ms >= 0
        assert "SCANS" not in row.notes, row.notes  # every lookup uses an index


def test_query_plans_name_a_full_scan(small_scale):
    from django.db import connection

    from bizdept.customers.models import Customer

    recorder = duplicates._Recorder()
    with connection.execute_wrapper(recorder):
        list(Customer.objects.filter(notes="nothing")[:1])  # notes has no index
        list(Customer.objects.filter(phone="+8613700000000")[:1])
    plans = duplicates.query_plans(recorder.statements)
    if connection.vendor != "sqlite":
        assert plans == []
        return
    assert len(plans) == 2
    assert [line.split()[:2] for line in duplicates.scans(plans)] == [
        ["SCAN", "customers_customer"]]


def test_list_api_paths_answer_for_each_persona(small_scale, client):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    for _name, path, _what in load.ENDPOINTS:
        seen = {}
        for label, username in load.PERSONAS:
            client.force_login(User.objects.get(username=username))
            response = client.get(path)
            assert response.status_code == 200, (path, label, response.content[:200])
            seen[label] = response.json()["count"]
        assert seen["director"] > seen["salesperson"] >= 1, (path, seen)


def test_sales_rows_at_a_small_size(small_scale, monkeypatch):
    from bench import sales
    from bizdept.sales import demo as sales_demo

    monkeypatch.setitem(sales_demo.SCALE_DEALS, "S", (600, 1_500, 300))
    sales_demo.build_scale(small_scale, "S")

    rows = sales.sales_rows("S", aging_runs=2, funnel_runs=2)

    assert [row.name for row in rows] == ["receivables aging, director, size S",
                                          "opportunity funnel, division, size S"]
    for row in rows:
        assert row.p95_ms >= row.median_ms >= 0
        assert isinstance(row.queries, int) and row.queries >= 2
        assert row.visible and row.visible > 0
