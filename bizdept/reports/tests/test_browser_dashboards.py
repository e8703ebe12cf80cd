"""Browser test of the role dashboards (RPT-1): the charts draw (ECharts, SVG) beside
their tables for the director, a team lead and a salesperson, at 1280 px and on a 390 px
phone without sideways scrolling, and with no JavaScript error.

Reuses the live server, Chromium and personas of ``bizdept/core/tests/test_browser.py``;
skips, never fails, when Chromium or Playwright is missing. Screenshots go to
``$BIZDEPT_ARTIFACTS`` (default: the test's tmp_path).
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from bizdept.core.tests.test_browser import (  # noqa: F401 - fixtures used by name
    PHONE,
    artifacts,
    assert_fits_phone,
    browser,
    department,
    open_page,
    sign_in,
)

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}


def _figures(dept) -> None:
    """A revenue plan for the year (department by month, people by quarter) and contracts
    signed this month and last year, so every chart has something to draw."""
    from bizdept.sales.models import Contract
    from bizdept.sales.tests.contract_factories import plan, signed_contract
    from bizdept.targets.choices import Metric, PlanStatus
    from bizdept.targets.models import TargetCell, TargetPlan

    today = timezone.localdate()
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    target = TargetPlan.objects.create(fiscal_year=today.year, metric=Metric.REVENUE,
                                       unit=dept.department, created_by=dept.director,
                                       status=PlanStatus.APPROVED)
    cells = [TargetCell(plan=target, unit=dept.department, period=f"{today.year}-{m:02d}",
                        realistic=Decimal("100000"), stretch=Decimal("130000"))
             for m in range(1, 13)]
    cells += [TargetCell(plan=target, unit=unit, employee=person, period=quarter,
                         realistic=Decimal(value), stretch=Decimal(value) * 2)
              for unit, person, value in ((dept.division, None, "300000"),
                                          (dept.team, None, "200000"),
                                          (dept.team, dept.sales, "100000"),
                                          (dept.team, dept.sales_mate, "100000"),
                                          (dept.other_team, None, "100000"),
                                          (dept.other_team, dept.other_sales, "100000"))]
    TargetCell.objects.bulk_create(cells)
    for owner, amount, months_ago in ((dept.sales, "86000", 0), (dept.sales_mate, "23000", 0),
                                      (dept.other_sales, "54000", 0), (dept.sales, "61000", 12)):
        contract = signed_contract(owner, amount=amount)
        day = today.replace(year=today.year - 1) if months_ago else today
        Contract.objects.filter(pk=contract.pk).update(signed_on=day)
        if not months_ago:
            plan(contract, owner, (-45, str(Decimal(amount) / 2)))


def _check_dashboard(page, folder, name: str, panels: list[str]) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#dashboard")).to_be_visible()
    for key in panels:
        card = page.locator(f"#panel-{key}")
        expect(card).to_be_visible()
        expect(card.locator("table")).to_be_visible()
        expect(card.locator(f"#export-{key}")).to_be_visible()
        chart = card.locator(".chart")
        if chart.count():
            expect(chart.locator("svg").first).to_be_attached()
    page.screenshot(path=folder / f"{name}.png", full_page=True)


def test_dashboards_draw_at_desktop_and_phone_width(browser, live_server,  # noqa: F811
                                                    department, open_page,  # noqa: F811
                                                    artifacts):  # noqa: F811
    from playwright.sync_api import expect

    _figures(department)
    base = live_server.url
    desktop = open_page(viewport=DESKTOP)
    sign_in(desktop, base, "director")
    _check_dashboard(desktop, artifacts, "dashboard-director-1280",
                     ["department_monthly", "divisions", "trend"])
    # the figures are in the table for whoever cannot see the chart
    expect(desktop.locator("#table-department_monthly")).to_contain_text("163,000.00")
    desktop.select_option("#dashboard-metric", "gross_margin")
    with desktop.expect_navigation():
        desktop.click("#dashboard-form button[type=submit]")
    expect(desktop.locator("#dashboard-metric")).to_have_value("gross_margin")

    for username, panels in (("director", ["department_monthly", "divisions", "trend"]),
                             ("lead", ["team_ranking", "team_funnel", "team_receivables"]),
                             ("sales", ["my_targets", "my_receivables"])):
        phone = open_page(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                          has_touch=True)
        sign_in(phone, base, username)
        _check_dashboard(phone, artifacts, f"dashboard-{username}-390", panels)
        assert_fits_phone(phone, f"the {username}'s dashboard")
