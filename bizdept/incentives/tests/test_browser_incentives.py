"""Browser test of the incentives pages (INC-1, INC-2): the issue's "done when".

Last quarter's appraisal cycle is approved and a bonus plan is in force for the sales
position. The director drafts a new version of the plan with a higher tier rate, compares
it with the plan in force on that cycle (what-if), and submits it; finance approves it in
the approvals inbox. The director then works out the bonus run of the cycle and submits
it; finance approves it. A salesperson opens "My bonus", then their line, and follows
the arithmetic: the commission and the total on the page are the line's. The line page
fits a phone's width.

Reuses the live server, Chromium and personas of ``bizdept/core/tests/test_browser.py``;
skips, never fails, when Chromium or Playwright is missing. Screenshots go to
``$BIZDEPT_ARTIFACTS`` (default: the test's tmp_path).
"""

import re
from decimal import Decimal

import pytest

from bizdept.core.tests.test_browser import (  # noqa: F401 - fixtures used by name
    PHONE,
    _approve_in_inbox,
    artifacts,
    assert_fits_phone,
    browser,
    department,
    open_page,
    sign_in,
)

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1366, "height": 900}}


def _click_and_wait(page, selector) -> None:
    with page.expect_navigation():
        page.click(selector)


def _success(page) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#messages .alert-success")).to_be_visible()


def _yuan(value: Decimal) -> str:
    return f"¥{value:,.2f}"


def _last_quarter_with_a_plan_in_force(dept):
    """Last quarter's cycle approved (the salesperson graded A, above target), a target
    plan, and the salespeople's bonus plan in force; finance approves plans and runs."""
    from bizdept.appraisal.tests.cycles import cycle_policy
    from bizdept.kpi.tests import records
    from bizdept.targets.models import TargetCell
    from bizdept.targets.tests.factories import approved_plan

    from .factories import PERIOD, Q3_DAY, approved_cycle, plan_in_force, policies

    cycle_policy(dept.director)
    policies(dept.finance)
    approved_plan(dept)
    target = TargetCell.objects.get(plan__metric="revenue", employee=dept.sales,
                                    period=PERIOD).realistic
    records.contract(dept.sales, total=str((target * Decimal("1.3")).quantize(
        Decimal("0.01"))), signed_on=Q3_DAY)
    cycle = approved_cycle(dept, grades={dept.sales: "A", dept.sales_mate: "B"},
                           revenue_source="plan")
    return cycle, plan_in_force(dept)


def _director_drafts_compares_and_submits_a_plan(director, base, plan, cycle, shots):
    """The plan part: a new version with the 100–120 % tier at 6 %, compared with the plan
    in force on last quarter (what-if), then submitted. Returns the draft."""
    from playwright.sync_api import expect

    from bizdept.incentives import selectors
    from bizdept.incentives.models import BonusPlan

    director.goto(f"{base}/incentives/plans/{plan.pk}/")
    _click_and_wait(director, "#new-version")
    _success(director)
    draft = BonusPlan.objects.exclude(pk=plan.pk).get(position=plan.position)
    assert draft.status == "draft" and draft.number == plan.number + 1
    expect(director).to_have_url(f"{base}/incentives/plans/{draft.pk}/")
    _click_and_wait(director, "#edit-plan")
    rate = director.locator("input[name=tier-2-rate]")
    expect(rate).to_have_value(re.compile(r"^5(\.0+)?$"))
    rate.fill("6")
    _click_and_wait(director, "#save-plan")
    _success(director)
    draft.refresh_from_db()
    assert Decimal(draft.tiers[2]["rate"]) == 6
    # what-if on last quarter: the plan in force against the draft
    expect(director).to_have_url(f"{base}/incentives/plans/{draft.pk}/")
    director.select_option("#what-if-form select[name=cycle]", str(cycle.pk))
    _click_and_wait(director, "#open-what-if")
    found = selectors.what_if(user=draft.created_by.user, plan=draft, cycle=cycle)
    assert found.draft_total > found.current_total
    expect(director.locator("#what-if-current-total")).to_have_text(
        f"¥{found.current_total:,.2f}")
    expect(director.locator("#what-if-draft-total")).to_have_text(f"¥{found.draft_total:,.2f}")
    expect(director.locator("#what-if-raised")).to_have_text(str(found.raised))
    # the salesperson's draft line, explained in place: the third tier at 6 %
    sales_row = next(r for r in found.rows if r.employee.user.username == "sales")
    director.click(f'tr.what-if-row[data-employee="{sales_row.employee.pk}"] button')
    explained = director.locator(f"#ex-{sales_row.employee.pk} .bonus-explanation")
    expect(explained).to_be_visible()
    expect(explained.locator(".ex-tier").nth(2)).to_contain_text("× 6%")
    expect(explained.locator(".ex-total")).to_have_text(f"¥{sales_row.draft:,.2f}")
    director.screenshot(path=shots / "incentives-1-what-if.png", full_page=True)
    director.goto(f"{base}/incentives/plans/{draft.pk}/")
    director.fill("#submit-form input[name=comment]", "第三档提成由 5% 提高到 6%")
    _click_and_wait(director, "#submit-plan")
    _success(director)
    draft.refresh_from_db()
    assert draft.status == "submitted"
    return draft


def test_the_director_pays_a_plan_and_a_salesperson_follows_their_line(
        browser, live_server, department, open_page, artifacts):  # noqa: F811
    from playwright.sync_api import expect

    from bizdept.incentives.models import BonusLine, BonusPlan, BonusRun

    base = live_server.url
    dept = department
    cycle, plan = _last_quarter_with_a_plan_in_force(dept)

    director = open_page(**DESKTOP)
    sign_in(director, base, "director")
    finance = open_page(**DESKTOP)
    sign_in(finance, base, "finance")

    # --- the plan: new version, what-if, submitted; finance approves it ---
    draft = _director_drafts_compares_and_submits_a_plan(director, base, plan, cycle,
                                                         artifacts)
    _approve_in_inbox(finance, base, draft.name)
    draft.refresh_from_db()
    assert draft.status == "approved"
    plan.refresh_from_db()
    assert plan.status == "superseded"
    in_force = BonusPlan.objects.get(position=plan.position, status="approved")

    # --- the director works the bonus out from "Bonus runs" and submits it ---
    director.goto(f"{base}/")
    director.click("#mainnav #nav-incentives")
    _click_and_wait(director, '#mainnav a.dropdown-item[href="/incentives/runs/"]')
    expect(director.locator("#run-create-form")).to_be_visible()
    director.select_option("#run-create-form select[name=cycle]", str(cycle.pk))
    _click_and_wait(director, "#create-run")
    _success(director)
    run = BonusRun.objects.get(cycle=cycle)
    expect(director).to_have_url(f"{base}/incentives/runs/{run.pk}/")
    expect(director.locator("#total-people")).to_have_text(str(run.people))
    expect(director.locator("#list-table tbody tr.line-row")).to_have_count(run.people)
    expect(director.locator("#total-bonus")).to_have_text(f"{run.total:,.2f}")
    director.screenshot(path=artifacts / "incentives-2-run.png", full_page=True)
    director.fill("#submit-form input[name=comment]", "请审批第三季度奖金")
    _click_and_wait(director, "#submit-run")
    _success(director)
    run.refresh_from_db()
    assert run.status == "submitted"
    _approve_in_inbox(finance, base, run.name)
    run.refresh_from_db()
    assert run.status == "approved"
    director.reload()
    expect(director.locator('#run-stepper [aria-current="step"]')).to_have_attribute(
        "data-stage", "approved")
    expect(director.locator("#submit-run")).to_have_count(0)

    # --- the salesperson opens "My bonus", then their line, and follows the arithmetic ---
    line = BonusLine.objects.get(run=run, employee=dept.sales)
    assert line.plan == in_force == draft and line.commission > 0
    sales = open_page(**DESKTOP)
    sign_in(sales, base, "sales")
    sales.click("#mainnav #nav-incentives")
    _click_and_wait(sales, '#mainnav a.dropdown-item[href="/incentives/my/"]')
    expect(sales.locator("#list-table tbody tr.my-line")).to_have_count(1)
    _click_and_wait(sales, f'#list-table a[href="/incentives/lines/{line.pk}/"]')
    explanation = sales.locator(".bonus-explanation")
    steps = line.explanation["commission"]["steps"]
    expect(explanation.locator(".ex-tier")).to_have_count(len(steps))
    for i, step in enumerate(steps):
        expect(explanation.locator(".ex-tier-commission").nth(i)).to_have_text(
            _yuan(Decimal(step["commission"])))
    expect(explanation.locator(".ex-commission")).to_have_text(_yuan(line.commission))
    expect(explanation.locator(".ex-total")).to_have_text(_yuan(line.total))
    expect(sales.locator("#line-total")).to_have_text(f"{line.total:,.2f}")
    sales.screenshot(path=artifacts / "incentives-3-my-line.png", full_page=True)
    # a teammate's line is not theirs to see
    mate = BonusLine.objects.get(run=run, employee=dept.sales_mate)
    response = sales.goto(f"{base}/incentives/lines/{mate.pk}/")
    assert response.status == 404

    # --- on a phone the line page fits the width ---
    phone = open_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    sign_in(phone, base, "sales")
    for name, path in (("line", f"/incentives/lines/{line.pk}/"), ("mine", "/incentives/my/")):
        phone.goto(f"{base}{path}")
        expect(phone.locator("main h1").first).to_be_visible()
        phone.screenshot(path=artifacts / f"incentives-phone-{name}.png", full_page=True)
        assert_fits_phone(phone, f"the incentives {name} page")

