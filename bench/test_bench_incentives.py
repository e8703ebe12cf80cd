"""Smoke test of bench/incentives.py (a bonus run, INC-2) on a small scale department:
every step's row comes out with its queries and memory, the reads take a constant
number of queries, and the database is left as it was. No timing is asserted (see
bench/__init__.py)."""


def test_run_rows_at_a_small_size(db):
    from bench import incentives, report
    from bizdept.appraisal.models import AppraisalCycle
    from bizdept.incentives.models import BonusLine, BonusPlan, BonusRun
    from bizdept.org.demo import DemoContext, build_scale

    build_scale(DemoContext.new(), "S")

    rows = incentives.run_rows("S", runs=1)

    assert [row.name.split(": ", 1)[1].split(",")[0] for row in rows] == [
        s.split(",")[0] for s in incentives.STEPS]
    people = rows[0].visible
    assert people > 80  # the salespeople, leads and managers
    for row in rows:
        assert row.p95_ms >= row.median_ms >= 0
        assert isinstance(row.queries, int) and row.queries >= 1
        assert "MB" in row.notes
    by_step = dict(zip(incentives.STEPS, rows, strict=True))
    # constant queries, whatever the number of people (writes: a bulk insert per 500)
    for step in incentives.STEPS:
        assert by_step[step].queries < people, step
    assert " people, change ¥" in by_step["what-if"].notes  # the salespeople's
    assert "KiB xlsx" in by_step["payroll export"].notes
    print(report.plain(rows))
    assert "bonus run" in report.plain(rows)
    # everything was rolled back
    assert not AppraisalCycle.objects.exists() and not BonusRun.objects.exists()
    assert not BonusLine.objects.exists() and not BonusPlan.objects.exists()
