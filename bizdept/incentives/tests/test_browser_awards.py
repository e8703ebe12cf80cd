"""Browser test of awards (INC-3): HR proposes from last quarter's approved cycle, the
director reads why and confirms the honor title on the list, the salesperson finds it on
their own record; the awards page fits a phone's width.

Reuses the live server, Chromium and personas of ``bizdept/core/tests/test_browser.py``;
skips, never fails, when Chromium or Playwright is missing."""

import pytest

from bizdept.core.tests.test_browser import (  # noqa: F401 - fixtures used by name
    PHONE,
    artifacts,
    assert_fits_phone,
    browser,
    department,
    open_page,
    sign_in,
)

from .awards_data import cycle

pytestmark = pytest.mark.browser


def test_awards_in_the_browser(browser, live_server, department, open_page, artifacts):  # noqa: F811
    from playwright.sync_api import expect

    from bizdept.incentives import services
    from bizdept.incentives.models import Award

    dept = department
    services.title_create(by=dept.hr.user, name="优秀员工", basis="appraisal_score")
    q3 = cycle(dept, results={dept.sales: (93, "S"), dept.sales_mate: (81, "A")})
    base = live_server.url

    page = open_page(viewport={"width": 1366, "height": 900})
    sign_in(page, base, "hr")
    page.goto(f"{base}/incentives/awards/")
    page.select_option("#award-propose-form select[name=cycle]", str(q3.pk))
    with page.expect_navigation():
        page.click("#propose-awards")
    expect(page.locator("#messages .alert-success")).to_be_visible()
    award = Award.objects.get()
    expect(page.locator(f"#award-{award.pk}")).to_contain_text(dept.sales.name)
    page.context.clear_cookies()

    sign_in(page, base, "director")
    page.goto(f"{base}/incentives/awards/{award.pk}/")
    expect(page.locator("#award-evidence")).to_contain_text("93.00")
    page.goto(f"{base}/incentives/awards/?status=proposed")
    page.fill(f"#award-{award.pk} input[name=note]", "实至名归")
    with page.expect_navigation():
        page.click(f"#confirm-{award.pk}")
    expect(page.locator("#messages .alert-success")).to_be_visible()
    page.screenshot(path=artifacts / "awards-confirmed.png", full_page=True)
    award.refresh_from_db()
    assert award.status == "confirmed" and award.decision_note == "实至名归"
    page.context.clear_cookies()

    phone = open_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    sign_in(phone, base, "sales")
    phone.goto(f"{base}/org/people/{dept.sales.pk}/")
    expect(phone.locator("#awards-panel")).to_contain_text("优秀员工")
    phone.goto(f"{base}/incentives/awards/")
    expect(phone.locator(f"#award-{award.pk}")).to_be_visible()
    assert_fits_phone(phone, "the awards page")
    phone.screenshot(path=artifacts / "awards-phone.png", full_page=True)
