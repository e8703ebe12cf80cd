"""Smoke test of the tracking benchmark (bench/targets.py) on the persona department: it
runs, both ways give identical figures, and the tracking's queries do not grow with the
people. No timing is asserted (see bench/__init__.py)."""

import datetime

from django.utils import timezone

from bench import targets
from bizdept.kpi.tests import records as r


def test_tracking_rows_compare_with_the_naive_figures(dept):
    today = timezone.localdate()
    for person in (dept.sales, dept.sales_mate, dept.other_sales):
        c = r.contract(person, total="12.34", signed_on=today, lines=[("1", "12.34", "0.07")])
        r.payment(c, "0.07", today)
        r.visit(person, timezone.now() - datetime.timedelta(minutes=1))
        r.claim(person, "0.10", today)

    rows = targets.tracking_rows("S", iterations=1)

    tracked, naive = rows
    assert "identical figures" in tracked.notes and "identical figures" in naive.notes
    assert tracked.visible == naive.visible >= 3
    assert naive.queries >= 6 * tracked.visible
    assert tracked.queries < 6 * 12  # a few per metric, whatever the people
