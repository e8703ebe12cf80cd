"""Smoke test of bench/reports.py (RPT-1 dashboards) on a small scale database: the rows
come out, with figures and query counts. No timing is asserted (see bench/__init__.py)."""


def test_dashboard_rows_at_a_small_size(db, monkeypatch):
    from bench import report, reports
    from bizdept.customers import demo as customers_demo
    from bizdept.org.demo import DemoContext, build_scale
    from bizdept.sales import demo as sales_demo

    monkeypatch.setitem(customers_demo.SCALE, "S", (300, 600))
    monkeypatch.setitem(sales_demo.SCALE_DEALS, "S", (600, 1_500, 300))
    ctx = DemoContext.new()
    build_scale(ctx, "S")
    customers_demo.build_scale(ctx, "S")
    sales_demo.build_scale(ctx, "S")

    rows = reports.report_rows("S", iterations=2)

    assert [row.name for row in rows][:2] == [
        "director dashboard, figures, size S",
        "director dashboard, home page rendered, size S"]
    for row in rows:
        assert row.p95_ms >= row.median_ms >= 0
        assert isinstance(row.queries, int) and row.queries >= 5
    assert "department_monthly" in rows[0].notes
    assert "director dashboard" in report.plain(rows)
