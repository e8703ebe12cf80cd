"""Smoke test of bench/appraisal.py (a full appraisal cycle, PER-3..5) on a small scale
department: every step's row comes out with its queries and memory, the cycle gets
approved, and the runs leave the database as it was. No timing is asserted (see
bench/__init__.py)."""


def test_cycle_rows_at_a_small_size(db):
    from bench import appraisal, report
    from bizdept.appraisal.models import Appraisal, AppraisalCycle, ScorecardTemplate
    from bizdept.org.demo import DemoContext, build_scale

    build_scale(DemoContext.new(), "S")

    rows = appraisal.cycle_rows("S", runs=1)

    assert [row.name.split(": ", 1)[1].split(",")[0] for row in rows] == [
        *appraisal.STEPS, "whole cycle"]
    people = rows[0].visible
    assert people > 80  # everyone with a scorecard: the salespeople, leads, managers
    for row in rows:
        assert row.p95_ms >= row.median_ms >= 0
        assert isinstance(row.queries, int) and row.queries >= 1
        assert "MB" in row.notes
    by_step = dict(zip(appraisal.STEPS, rows, strict=False))
    assert "cycle approved" in by_step["approve"].notes
    assert f"{people:,} graded" in by_step["approve"].notes
    assert f"{people:,} ranked" in by_step["to calibration"].notes
    # the figures are read for everyone at once: far fewer queries than people
    for step in ("open", "to self-assessment", "to calibration"):
        assert by_step[step].queries < people, step
    assert by_step["reviews"].queries >= people  # one service call per person (a loop)
    assert "whole cycle" in report.plain(rows)
    # every run was rolled back; the templates stay
    assert not AppraisalCycle.objects.exists() and not Appraisal.objects.exists()
    assert ScorecardTemplate.objects.filter(period_kind="quarterly").count() == 3
