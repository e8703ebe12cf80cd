"""Browser test of the target plan pages (TGT-2..4): "A director plans next year".

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


def _split(page, row_id: str, form: str, screenshot=None, **choices) -> None:
    """Open a row's split helpers (loaded by htmx into the dialog), choose, and split."""
    from playwright.sync_api import expect

    page.click(f"#{row_id} .split-link")
    expect(page.locator(f"#split-modal #{form}")).to_be_visible()
    for name, value in choices.items():
        page.select_option(f"#{form} select[name={name}]", value)
    if screenshot is not None:
        page.screenshot(path=screenshot)
    with page.expect_navigation():
        page.click(f"#{form} button[type=submit]")
    expect(page.locator("#messages .alert-success")).to_be_visible()


def _open_row(page, row_id: str) -> None:
    with page.expect_navigation():
        page.click(f"#{row_id} a.row-link")


def _differences_are_zero(page) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#grid-diff td.diff-off")).to_have_count(0)
    expect(page.locator("#plan-grid td.cell-mismatch")).to_have_count(0)
    cells = page.locator("#grid-diff td")
    assert set(cells.all_text_contents()) == {"0.00"}


def test_a_director_plans_next_year(browser, live_server, department,  # noqa: F811
                                    open_page, artifacts):  # noqa: F811
    from django.utils import timezone
    from playwright.sync_api import expect

    from bizdept.approvals.services import approval_policy_create
    from bizdept.org.choices import RoleCode
    from bizdept.org.tests.factories import make_employee
    from bizdept.targets.choices import PlanStatus
    from bizdept.targets.models import TargetCell, TargetPlan

    base = live_server.url
    dept = department
    year = timezone.localdate().year + 1
    # The plan is approved by the head above the director: the company's general manager.
    company = dept.company
    gm = make_employee(company, role=RoleCode.DIRECTOR, username="gm", name="总经理",
                       head_of=company)
    approval_policy_create(document_type="targets.plan", name="目标计划审批", steps=[
        {"name": "总经理审批", "approver_kind": "direct_head", "deadline_days": 3,
         "escalate_after_days": 1}])

    page = open_page(viewport={"width": 1366, "height": 900})
    sign_in(page, base, "director")

    # --- a new revenue plan for next year (the year is preset) ---
    page.goto(f"{base}/targets/plans/")
    with page.expect_navigation():
        page.click('main a[href="/targets/plans/new/"]')
    expect(page.locator("#id_fiscal_year")).to_have_value(str(year))
    expect(page.locator("#id_metric")).to_have_value("revenue")
    _save(page)
    plan = TargetPlan.objects.get(fiscal_year=year, metric="revenue")
    expect(page).to_have_url(f"{base}/targets/plans/{plan.pk}/grid/")
    root, division = f"u{dept.department.pk}", f"u{dept.division.pk}"
    expect(page.locator(f"#{root}")).to_be_visible()
    expect(page.locator(f"#{division}")).to_be_visible()

    # --- a figure that is not a number: marked as typed, refused by Save, nothing saved ---
    division_year = page.locator(f'input[name="c-{dept.division.pk}--{year}"]')
    division_year.fill("12万")
    expect(division_year).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator(f'#grid-sum td[data-period="{year}"]')).to_have_text("?")
    with page.expect_navigation():
        page.click("#save-grid")
    expect(page.locator("#grid-errors")).to_be_visible()
    expect(page.locator(f'[id="err-c-{dept.division.pk}--{year}"]')).to_be_visible()
    page.screenshot(path=artifacts / "plan-0-refused-cell.png", full_page=True)
    assert not TargetCell.objects.filter(plan=plan).exists()
    division_year.fill("0")
    # Cells pasted from Excel fill rightwards; Enter moves down the column.
    q1 = page.locator(f'input[name="c-{dept.division.pk}--{year}-Q1"]')
    q1.focus()
    page.evaluate("""(text) => {
        const data = new DataTransfer();
        data.setData('text/plain', text);
        document.activeElement.dispatchEvent(new ClipboardEvent('paste', {
            clipboardData: data, bubbles: true, cancelable: true}));
    }""", "1\t2\t3\t4\r\n")
    expect(page.locator(f'input[name="c-{dept.division.pk}--{year}-Q4"]')).to_have_value("4")
    expect(page.locator(f'#u{dept.division.pk} td[data-period="{year}"]')).to_have_class(
        re.compile(r"\bcell-mismatch\b"))  # 1+2+3+4 is not the year's 0
    for q in range(1, 5):
        page.locator(f'input[name="c-{dept.division.pk}--{year}-Q{q}"]').fill("0")
    page.locator(f'input[name="c-{dept.department.pk}--{year}-Q1"]').focus()
    page.keyboard.press("Enter")
    expect(q1).to_be_focused()

    # --- the department's year figure; the sums follow as it is typed ---
    year_input = page.locator(f'input[name="c-{dept.department.pk}--{year}"]')
    year_input.fill("12,000,000")
    year_diff = page.locator(f'#grid-diff td[data-period="{year}"]')
    expect(year_diff).to_have_text("-12,000,000.00")
    expect(year_diff).to_have_class(re.compile(r"\bdiff-off\b"))
    # The quarters (all 0) no longer add up to the year: the year cell is marked.
    expect(page.locator(f'#{root} td[data-period="{year}"]')).to_have_class(
        re.compile(r"\bcell-mismatch\b"))
    # Exact cents in the browser: 0.10 + 0.20 is 0.30, not 0.30000000000000004.
    assert page.evaluate(
        "() => bizdeptGrid.format(bizdeptGrid.toCents('0.10') + bizdeptGrid.toCents('0.20'), 2)"
    ) == "0.30"
    expect(page.locator("#grid-changes")).not_to_be_empty()
    with page.expect_navigation():
        page.click("#save-grid")
    expect(page.locator("#messages .alert-success")).to_be_visible()
    assert TargetCell.objects.get(plan=plan, unit=dept.department, employee=None,
                                  period=str(year)).realistic == 12_000_000

    # --- the plan's page lists what does not add up, and holds the submit button ---
    page.goto(f"{base}/targets/plans/{plan.pk}/")
    expect(page.locator("#submit-plan")).to_be_disabled()
    expect(page.locator("#submit-blocked")).to_be_visible()
    expect(page.locator("#mismatches tbody tr").first).to_be_visible()
    page.screenshot(path=artifacts / "plan-1-mismatches.png", full_page=True)
    with page.expect_navigation():
        page.locator("#mismatches tbody a").first.click()  # to the row in its grid
    expect(page).to_have_url(re.compile(rf"/targets/plans/{plan.pk}/grid/\?unit=\d+.*#u\d+"))
    page.goto(f"{base}/targets/plans/{plan.pk}/grid/")

    # --- quarters progressively (+10 % each), months evenly, in one split ---
    _split(page, root, "split-periods-form", period="all", how="progressive",
           screenshot=artifacts / "plan-1-split-dialog.png")
    expect(page.locator(f"#{root} td.cell-mismatch")).to_have_count(0)
    q1 = page.locator(f'#{root} td[data-period="{year}-Q1"] input').input_value()
    q4 = page.locator(f'#{root} td[data-period="{year}-Q4"] input').input_value()
    assert float(q1.replace(",", "")) < float(q4.replace(",", ""))
    page.screenshot(path=artifacts / "plan-1-department-split.png", full_page=True)

    # --- to the divisions, by last year's actuals (none yet: evenly), every period ---
    _split(page, root, "split-children-form", period="all", how="last_year")
    _differences_are_zero(page)

    # --- a division to its teams, each team to its people ---
    _open_row(page, division)
    expect(page.locator("#grid-crumbs")).to_contain_text(dept.department.name)
    _split(page, division, "split-children-form", period="all", how="even")
    _differences_are_zero(page)
    for team in (dept.team, dept.other_team):
        _open_row(page, f"u{team.pk}")
        _split(page, f"u{team.pk}", "split-children-form", period="all", how="even")
        _differences_are_zero(page)
        page.screenshot(path=artifacts / f"plan-2-team-{team.pk}.png", full_page=True)
        with page.expect_navigation():  # back up the tree by the breadcrumbs
            page.locator("#grid-crumbs a", has_text=dept.division.name).click()
    expect(page.locator("#plan-grid tbody tr")).to_have_count(3)  # division + two teams

    # --- the stretch view, the plan page, and submit ---
    with page.expect_navigation():
        page.click("#show-stretch")
    expect(page.locator("#show-stretch")).to_have_class(re.compile(r"\bactive\b"))
    with page.expect_navigation():
        page.click("#back-to-plan")
    expect(page.locator("#no-mismatch")).to_be_visible()
    with page.expect_navigation():
        page.click("#submit-plan")
    expect(page.locator("#messages .alert-success")).to_be_visible()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED
    page.screenshot(path=artifacts / "plan-3-submitted.png", full_page=True)

    # --- the general manager approves it in "Waiting for me" ---
    gm_page = open_page(viewport={"width": 1366, "height": 900})
    sign_in(gm_page, base, gm.user.username)
    _approve_in_inbox(gm_page, base, str(year))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
    page.reload()
    expect(page.locator("#plan-status .badge")).to_have_class(re.compile(r"text-bg-success"))
    expect(page.locator("#open-grid")).to_be_visible()
    expect(page.locator("#revise-plan")).to_be_visible()

    # --- a salesperson sees their own target, on a phone, read-only ---
    mine = TargetCell.objects.get(plan=plan, employee=dept.sales, period=str(year))
    phone = open_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    sign_in(phone, base, "sales")
    phone.goto(f"{base}/targets/plans/{plan.pk}/grid/")
    own_row = phone.locator(f"#e{dept.sales.pk}")
    expect(own_row).to_be_visible()
    expect(phone.locator(f"#e{dept.sales_mate.pk}")).to_have_count(0)
    expect(own_row.locator(f'td[data-period="{year}"]')).to_have_text(f"{mine.realistic:,.2f}")
    expect(own_row.locator("input")).to_have_count(0)
    # The team's sums still count the colleagues' rows this salesperson does not see.
    team_year = TargetCell.objects.get(plan=plan, unit=dept.team, employee=None,
                                       period=str(year)).realistic
    expect(phone.locator(f'#grid-sum td[data-period="{year}"]')).to_have_text(
        f"{team_year:,.2f}")
    expect(phone.locator(f'#grid-diff td[data-period="{year}"]')).to_have_text("0.00")
    phone.screenshot(path=artifacts / "plan-4-phone-own-target.png", full_page=True)
    assert_fits_phone(phone, "the plan grid")
    # The director's pages at phone width: the tables scroll inside their boxes.
    director_phone = open_page(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                               has_touch=True)
    sign_in(director_phone, base, "director")
    for name, path in (("list", "/targets/plans/"), ("detail", f"/targets/plans/{plan.pk}/"),
                       ("grid", f"/targets/plans/{plan.pk}/grid/?unit={dept.team.pk}"),
                       ("tracking", "/targets/tracking/"),
                       ("rankings", "/targets/tracking/rankings/")):
        director_phone.goto(f"{base}{path}")
        expect(director_phone.locator("main h1").first).to_be_visible()
        director_phone.screenshot(path=artifacts / f"plan-phone-{name}.png", full_page=True)
        assert_fits_phone(director_phone, f"the plan {name} page")
    # "My targets" (the tracking pages) shows the same figure for the year.
    phone.goto(f"{base}/targets/tracking/mine/?year={year}")
    expect(phone.locator("main")).to_contain_text(f"{mine.realistic:,.2f}")
    phone.screenshot(path=artifacts / "plan-5-phone-my-targets.png", full_page=True)
    assert_fits_phone(phone, "my targets")
