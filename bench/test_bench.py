"""Smoke test: the benchmark code still runs against today's models and scope rule.

No timing is asserted here, ever (see bench/__init__.py); the numbers come from
``python -m bench``.
"""

from bench import report, scope
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
