"""Browser test of the appraisal pages (PER-3..5): "A lead appraises a salesperson end to
end; the director calibrates a division".

The director opens last quarter's cycle and moves it to self-assessment; the salesperson
self-assesses; the lead reviews, records the review interview (绩效面谈), both sign, and
the lead adds an improvement item; the director calibrates the division (a grade changed
with its reason) and submits; the general manager approves in the approvals inbox; the
cycle shows approved.

Reuses the live server, Chromium and personas of ``bizdept/core/tests/test_browser.py``;
skips, never fails, when Chromium or Playwright is missing. Screenshots go to
``$BIZDEPT_ARTIFACTS`` (default: the test's tmp_path).
"""

import re

import pytest

from bizdept.core.tests.test_browser import (  # noqa: F401 - fixtures used by name
    PHONE,
    _approve_in_inbox,
    _save,
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


def test_a_lead_appraises_a_salesperson_and_the_director_calibrates(
        browser, live_server, department, open_page, artifacts):  # noqa: F811
    from django.utils import timezone
    from playwright.sync_api import expect

    from bizdept.appraisal.choices import CycleStatus, ImprovementStatus
    from bizdept.appraisal.models import AppraisalCycle, ImprovementItem
    from bizdept.approvals.services import approval_policy_create
    from bizdept.org.choices import RoleCode
    from bizdept.org.tests.factories import make_employee

    from .factories_cycles import (
        appraisal_of,
        last_quarter,
        manual_orders,
        review_all,
        sales_template,
    )

    base = live_server.url
    dept = department
    period = last_quarter()
    today = timezone.localdate().isoformat()
    # The cycle is approved by the head above the director: the general manager.
    gm = make_employee(dept.company, role=RoleCode.DIRECTOR, username="gm", name="总经理",
                       head_of=dept.company)
    approval_policy_create(document_type="appraisal.cycle", name="考核结果审批", steps=[
        {"name": "总经理审批", "approver_kind": "direct_head", "deadline_days": 3}])
    sales_template(dept.hr)  # HR keeps the salespeople's quarterly scorecard

    # --- the director opens last quarter's cycle and starts the self-assessment ---
    director = open_page(**DESKTOP)
    sign_in(director, base, "director")
    director.click("#mainnav #nav-appraisal")
    _click_and_wait(director, '#mainnav a.dropdown-item[href="/appraisal/cycles/"]')
    _click_and_wait(director, 'main a[href="/appraisal/cycles/new/"]')
    director.fill("#id_period", period)
    _save(director)
    cycle = AppraisalCycle.objects.get(period=period)
    expect(director).to_have_url(f"{base}/appraisal/cycles/{cycle.pk}/")
    _success(director)
    expect(director.locator("#count-total")).to_have_text("3")
    expect(director.locator("#list-table tbody tr.result-row")).to_have_count(3)
    director.screenshot(path=artifacts / "appraisal-1-cycle-open.png", full_page=True)
    _click_and_wait(director, "#advance-cycle")
    _success(director)
    expect(director.locator('#cycle-stepper [aria-current="step"]')).to_have_attribute(
        "data-stage", CycleStatus.SELF_ASSESSMENT)

    # --- the salesperson self-assesses from "My appraisals" ---
    appraisal = appraisal_of(cycle, dept.sales)
    order = manual_orders(appraisal)[0]
    sales = open_page(**DESKTOP)
    sign_in(sales, base, "sales")
    sales.goto(f"{base}/appraisal/mine/")
    _click_and_wait(sales, f'#list-table a[href="/appraisal/{appraisal.pk}/"]')
    expect(sales.locator("#lines tbody tr")).to_have_count(3)
    expect(sales.locator("#lines a.explain-link")).to_have_count(2)  # the KPI lines
    sales.fill(f"#id_self-points-{order}", "85")
    sales.fill("#id_self-comment", "本季度拜访客户较多，回款还需加强。")
    _click_and_wait(sales, "#self-submit")
    _success(sales)
    expect(sales.locator("#self-submitted")).to_be_visible()
    sales.screenshot(path=artifacts / "appraisal-2-self-assessed.png", full_page=True)

    # --- the director moves on to the manager review ---
    director.reload()
    expect(director.locator("#count-self")).to_have_text("1 / 3")
    _click_and_wait(director, "#advance-cycle")
    _success(director)

    # --- the lead reviews from "My team", records the interview, signs, plans ---
    lead = open_page(**DESKTOP)
    sign_in(lead, base, "lead")
    lead.goto(f"{base}/appraisal/team/?cycle={cycle.pk}")
    expect(lead.locator("#list-table tbody tr")).to_have_count(2)  # sales and sales_mate
    _click_and_wait(lead, f'#list-table a[href="/appraisal/{appraisal.pk}/"]')
    expect(lead.locator(f"#id_review-points-{order}")).to_have_value("85")  # theirs, to start
    lead.fill(f"#id_review-points-{order}", "")
    _click_and_wait(lead, "#review-save")  # every manual item needs points
    expect(lead.locator("#review-form .invalid-feedback")).to_be_visible()
    lead.fill(f"#id_review-points-{order}", "90")
    lead.fill("#id_review-comment", "态度积极，继续保持。")
    _click_and_wait(lead, "#review-save")
    _success(lead)
    expect(lead.locator("#reviewed")).to_be_visible()
    expect(lead.locator("#total-score")).not_to_have_text("—")
    lead.fill("#interview-form input[name=on]", today)
    lead.fill("#interview-form textarea[name=notes]", "回顾了本季度的目标与差距，约定下季度重点。")
    _click_and_wait(lead, "#interview-save")
    _success(lead)
    _click_and_wait(lead, "#sign-interview")
    _success(lead)
    expect(lead.locator("#reviewer-signed")).to_contain_text(dept.lead.name)
    lead.fill("#improvement-form input[name=action]", "每周新增拜访 5 家重点客户")
    lead.select_option("#improvement-form select[name=owner]", str(dept.sales.pk))
    lead.fill("#improvement-form input[name=due_on]", today)
    _click_and_wait(lead, "#improvement-add")
    _success(lead)
    expect(lead.locator("#improvement-items li")).to_have_count(1)
    lead.screenshot(path=artifacts / "appraisal-3-reviewed.png", full_page=True)

    # --- the salesperson signs the interview and sees the plan ---
    sales.reload()
    expect(sales.locator("#interview-notes")).to_contain_text("约定下季度重点")
    _click_and_wait(sales, "#sign-interview")
    _success(sales)
    expect(sales.locator("#employee-signed")).to_contain_text(dept.sales.name)
    expect(sales.locator("#sign-interview")).to_have_count(0)
    item = ImprovementItem.objects.get(appraisal=appraisal)
    assert item.owner == dept.sales and item.status == ImprovementStatus.OPEN
    appraisal.refresh_from_db()
    assert appraisal.employee_signed_at and appraisal.reviewer_signed_at

    # --- the other people are reviewed by their leads; the director moves to calibration
    review_all(cycle)
    director.reload()
    expect(director.locator("#count-reviewed")).to_have_text("3 / 3")
    _click_and_wait(director, "#advance-cycle")
    _success(director)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.CALIBRATION

    # --- the director calibrates the division: one grade changed, with its reason ---
    _click_and_wait(director, "#open-calibration")
    unit = director.locator(f"#unit-{dept.division.pk}")
    expect(unit).to_be_visible()
    expect(unit.locator(".calibration-table tbody tr")).to_have_count(3)
    appraisal.refresh_from_db()
    other = "A" if appraisal.score_grade != "A" else "B"
    # the grade is set in place (htmx): the unit's block is drawn again, the page stays
    director.evaluate("() => { window.__samePage = true; }")
    row = director.locator(f"#calibrate-{appraisal.pk}")
    row.locator("select[name=grade]").select_option(other)
    row.locator("button[type=submit]").click()  # no reason: refused next to the row
    expect(director.locator(f"#calibrate-{appraisal.pk} .calibrate-error")).to_be_visible()
    appraisal.refresh_from_db()
    assert appraisal.grade == appraisal.score_grade
    row = director.locator(f"#calibrate-{appraisal.pk}")
    row.locator("select[name=grade]").select_option(other)
    row.locator("input[name=reason]").fill("大客户回款提前完成，上调一级")
    row.locator("button[type=submit]").click()
    expect(director.locator(f"#calibrate-{appraisal.pk} .calibrate-saved")).to_be_visible()
    expect(unit.locator(f'.grade-counts [data-grade="{other}"]')).to_contain_text("1")
    assert director.evaluate("() => window.__samePage === true")
    appraisal.refresh_from_db()
    assert appraisal.grade == other and appraisal.grade_reason
    expect(director.locator(f"#calibrate-{appraisal.pk}")).to_have_class(
        re.compile(r"\btable-info\b"))
    director.screenshot(path=artifacts / "appraisal-4-calibration.png", full_page=True)
    _click_and_wait(director, "#submit-cycle")
    _success(director)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.SUBMITTED

    # --- the general manager approves it in "Waiting for me" ---
    gm_page = open_page(**DESKTOP)
    sign_in(gm_page, base, gm.user.username)
    _approve_in_inbox(gm_page, base, cycle.name)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.APPROVED
    director.goto(f"{base}/appraisal/cycles/{cycle.pk}/")
    expect(director.locator("#cycle-status .badge")).to_have_class(
        re.compile(r"text-bg-success"))
    expect(director.locator("#reopen-cycle")).to_be_visible()
    expect(director.locator("#advance-cycle")).to_have_count(0)
    director.screenshot(path=artifacts / "appraisal-5-approved.png", full_page=True)

    # --- the printable report shows the final grade and the reason, without the navbar ---
    sales.goto(f"{base}/appraisal/{appraisal.pk}/?print=1")
    expect(sales.locator("#print-grade")).to_have_text(other)
    expect(sales.locator("nav.navbar")).to_have_count(0)
    sales.screenshot(path=artifacts / "appraisal-6-report.png", full_page=True)

    # --- on a phone the pages fit the width (wide tables scroll inside their boxes) ---
    phone = open_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    sign_in(phone, base, "director")
    for name, path in (("cycle", f"/appraisal/cycles/{cycle.pk}/"),
                       ("appraisal", f"/appraisal/{appraisal.pk}/"),
                       ("calibration", f"/appraisal/cycles/{cycle.pk}/calibration/"),
                       ("templates", "/appraisal/templates/"),
                       ("team", f"/appraisal/team/?cycle={cycle.pk}")):
        phone.goto(f"{base}{path}")
        expect(phone.locator("main h1").first).to_be_visible()
        phone.screenshot(path=artifacts / f"appraisal-phone-{name}.png", full_page=True)
        assert_fits_phone(phone, f"the appraisal {name} page")


def test_hr_builds_a_scorecard_template(browser, live_server, department, open_page,  # noqa: F811
                                        artifacts):  # noqa: F811
    """Item rows added and removed in place, the weights' total live, the service's error
    on the row and field it names, then saved."""
    from playwright.sync_api import expect

    from bizdept.appraisal.models import ScorecardTemplate
    from bizdept.org.models import Position

    base = live_server.url
    position = Position.objects.get(name="岗位-sales")
    page = open_page(**DESKTOP)
    sign_in(page, base, "hr")
    page.goto(f"{base}/appraisal/templates/")
    _click_and_wait(page, 'main a[href="/appraisal/templates/new/"]')
    page.fill("#id_name", "业务员季度考核")
    page.select_option("#id_position", str(position.pk))
    rows = page.locator("#item-rows tr.item-row")
    expect(rows).to_have_count(2)  # a KPI item and a manual one to start with
    first, second = rows.nth(0), rows.nth(1)
    first.locator("select[name$=-kpi_code]").select_option("revenue")
    first.locator("input[name$=-weight]").fill("60")
    first.locator("input[name$=-cap_percent]").fill("120")
    expect(second.locator("select[name$=-kpi_code]")).to_be_hidden()  # manual: no KPI
    second.locator("input[name$=-name]").fill("工作态度")
    second.locator("input[name$=-weight]").fill("30")
    expect(page.locator("#weights-total")).to_have_text("90")
    expect(page.locator("#weights-off")).to_be_visible()
    page.click("#add-item")
    expect(rows).to_have_count(3)
    third = rows.nth(2)
    third.locator("select[name$=-kind]").select_option("kpi")
    third.locator("select[name$=-kpi_code]").select_option("visits")
    third.locator("select[name$=-target_source]").select_option("fixed")
    expect(third.locator("input[name$=-fixed_target]")).to_be_visible()
    third.locator("input[name$=-fixed_target]").fill("60")
    third.locator("select[name$=-rule_kind]").select_option("threshold")
    expect(third.locator("textarea[name$=-steps]")).to_be_visible()
    expect(third.locator("input[name$=-full_points]")).to_be_hidden()
    third.locator("textarea[name$=-steps]").fill("40 60\n60 100")
    third.locator("input[name$=-weight]").fill("10")
    expect(page.locator("#weights-total")).to_have_text("100")
    expect(page.locator("#weights-off")).to_be_hidden()
    page.click("#add-item")  # one too many: removed again
    expect(rows).to_have_count(4)
    rows.nth(3).locator(".remove-item").click()
    expect(rows).to_have_count(3)
    # a step whose points fall for a better threshold: refused on that row's steps
    third.locator("textarea[name$=-steps]").fill("40 60\n60 50")
    _click_and_wait(page, "#save-template")
    assert not ScorecardTemplate.objects.exists()
    errors = page.locator("#item-rows tr.item-row").nth(2).locator(".invalid-feedback")
    expect(errors).to_have_count(1)
    page.screenshot(path=artifacts / "template-1-refused.png", full_page=True)
    page.locator("#item-rows tr.item-row").nth(2).locator("textarea[name$=-steps]").fill(
        "40 60\n60 100")
    _click_and_wait(page, "#save-template")
    _success(page)
    template = ScorecardTemplate.objects.get(name="业务员季度考核")
    expect(page).to_have_url(f"{base}/appraisal/templates/{template.pk}/")
    expect(page.locator("#template-items tbody tr")).to_have_count(3)
    expect(page.locator("#weight-total")).to_have_text("100")
    page.screenshot(path=artifacts / "template-2-saved.png", full_page=True)
