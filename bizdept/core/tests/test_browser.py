"""Browser tests: Playwright driving Debian's Chromium against the live server.

A desktop walk (sign in, switch language, org chart, a unit's History tab) and a phone
walk at 390 px (no horizontal scroll, the navbar menu opens). They skip, never fail,
when Chromium or Playwright is not available. Screenshots go to ``$BIZDEPT_ARTIFACTS``
(default: the test's tmp_path).
"""

import os
import re
from pathlib import Path

import pytest

from bizdept.org.tests.factories import PASSWORD, DepartmentFactory

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("BIZDEPT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module; skips when it cannot be started."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is in the [test] extra
        pytest.skip("browser tests need Playwright for Python (pip install -e '.[test]')")
    # Playwright's sync API keeps an event loop running in this thread, and Django
    # refuses database work "from an async context" unless told otherwise; the test
    # code itself stays synchronous, so this is safe here (and only in this module).
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        playwright = sync_playwright().start()
        try:
            try:
                chromium = playwright.chromium.launch(
                    executable_path=CHROMIUM,
                    headless=True,
                    args=CHROMIUM_ARGS,
                    timeout=30_000,
                )
            except Exception as exc:  # any launch failure means "skip", not "fail"
                first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else exc
                pytest.skip(f"Playwright could not launch {CHROMIUM}: {first_line}")
            yield chromium
            chromium.close()
        finally:
            playwright.stop()


@pytest.fixture
def artifacts(tmp_path) -> Path:
    path = Path(os.environ.get("BIZDEPT_ARTIFACTS") or tmp_path)
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def department(transactional_db):
    return DepartmentFactory.build_department()


@pytest.fixture
def open_page(browser):
    """``open_page(**context_options)`` gives a fresh page; JS errors fail the test."""
    contexts, errors = [], []

    def make(**options):
        context = browser.new_context(locale="zh-CN", **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def sign_in(page, base_url: str, username: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("#login-form button[type=submit]")
    expect(page).to_have_url(f"{base_url}/")


def horizontal_overflow(page, width: int) -> int:
    """How many CSS pixels the document is wider than ``width`` (0 or less: it fits).

    Measured against the device width, not ``innerWidth``: a mobile browser widens its
    layout viewport to whatever overflows, so innerWidth would hide the overflow.
    """
    return (
        page.evaluate(
            "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        )
        - width
    )


def test_sign_in_switch_language_and_org_chart(
    browser, live_server, department, open_page, artifacts
):
    from playwright.sync_api import expect

    base = live_server.url
    page = open_page(viewport={"width": 1280, "height": 900})

    sign_in(page, base, "lead")
    # People and the org chart sit in the "Organization" menu of the navbar.
    org_menu = page.locator("#mainnav #nav-organization")
    org_chart_link = page.locator('#mainnav a.dropdown-item[href="/org/units/"]')
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("#my-unit")).to_contain_text("上海一所")
    expect(page.locator("#language-select")).to_have_value("zh-hans")
    expect(org_chart_link).to_be_hidden()
    org_menu.click()
    expect(org_chart_link).to_be_visible()
    expect(org_chart_link).not_to_have_text("Org chart")  # the navigation speaks Chinese

    # The language select submits its form on change; the choice sticks to the account.
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    expect(page).to_have_url(f"{base}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#language-select")).to_have_value("en")
    expect(org_menu).to_have_text("Organization")
    org_menu.click()
    expect(org_chart_link).to_have_text("Org chart")
    expect(page.locator("#my-unit")).to_contain_text("上海一所")
    lead_user = department.lead.user
    lead_user.refresh_from_db()
    assert lead_user.language == "en"
    page.screenshot(path=artifacts / "desktop-home-en.png", full_page=True)

    # The org chart: department and division open, teams folded until "Expand all".
    with page.expect_navigation():
        org_chart_link.click()
    expect(page).to_have_url(f"{base}/org/units/")
    tree = page.locator("#org-tree")
    expect(tree.get_by_role("link", name="经营部", exact=True)).to_be_visible()
    expect(tree.get_by_role("link", name="华东事业部", exact=True)).to_be_visible()
    team_link = tree.get_by_role("link", name="上海一所", exact=True, include_hidden=True)
    expect(team_link).to_have_count(1)
    expect(team_link).to_be_hidden()
    page.click("#expand-all")
    expect(team_link).to_be_visible()
    expect(tree.get_by_role("link", name="杭州所", exact=True)).to_be_visible()
    page.screenshot(path=artifacts / "desktop-org-chart.png", full_page=True)

    # A unit's page, and its History tab fetched by htmx.
    with page.expect_navigation():
        team_link.click()
    expect(page).to_have_url(f"{base}/org/units/{department.team.pk}/")
    expect(page.locator("h1")).to_have_text("上海一所")
    with page.expect_response(lambda r: "tab=history" in r.url and r.status == 200):
        page.click("#history-tab")
    history = page.locator("#tab-history")
    expect(history).to_be_visible()
    expect(history.locator("ol.history > li").first).to_be_visible()
    expect(history).not_to_contain_text("Loading")
    expect(history).to_contain_text("Created")
    # Appointing the head was recorded as a change of that field, shown by name.
    expect(history).to_contain_text("Changed")
    expect(history).to_contain_text("所长")
    # Bootstrap fades the pane in; wait for it so the screenshot shows the history.
    expect(history).to_have_class(re.compile(r"\bshow\b"))
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('#tab-history')).opacity === '1'"
    )
    page.screenshot(path=artifacts / "desktop-unit-history.png", full_page=True)


def test_phone_layout_has_no_horizontal_scroll(
    browser, live_server, department, open_page, artifacts
):
    from playwright.sync_api import expect

    base = live_server.url
    page = open_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)

    page.goto(f"{base}/login/")
    assert horizontal_overflow(page, PHONE["width"]) <= 1, "the sign-in page scrolls sideways"
    page.screenshot(path=artifacts / "phone-login.png", full_page=True)
    sign_in(page, base, "sales")

    pages = [("home", "/"), ("people", "/org/people/"), ("org-chart", "/org/units/")]
    for name, path in pages:
        if page.url != f"{base}{path}":
            page.goto(f"{base}{path}")
        expect(page.locator("main h1").first).to_be_visible()
        if name == "people":
            # The directory lists at least the signed-in salesperson's own record.
            expect(page.locator("#list-table tbody")).to_contain_text(department.sales.number)
        if name == "org-chart":
            page.click("#expand-all")
            expect(page.locator("#org-tree").get_by_role("link", name="上海一所")).to_be_visible()
        page.screenshot(path=artifacts / f"phone-{name}.png", full_page=True)
        overflow = horizontal_overflow(page, PHONE["width"])
        assert overflow <= 1, f"{path} is {overflow}px wider than a 390px phone screen"
        # The language switch stays reachable without opening the menu.
        expect(page.locator("#language-select")).to_be_visible()

    # The menu is folded behind the toggler, and the toggler opens it.
    menu = page.locator("#mainnav")
    people_link = menu.locator('a.dropdown-item[href="/org/people/"]')
    expect(people_link).to_be_hidden()
    toggler = page.locator(".navbar-toggler")
    expect(toggler).to_be_visible()
    toggler.click()
    expect(menu).to_have_class(re.compile(r"\bshow\b"))
    menu.locator("#nav-organization").click()
    expect(people_link).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    page.screenshot(path=artifacts / "phone-menu-open.png", full_page=True)
    assert horizontal_overflow(page, PHONE["width"]) <= 1, "the open menu scrolls sideways"
    with page.expect_navigation():
        people_link.click()
    expect(page).to_have_url(f"{base}/org/people/")


# Where the phone says it is (People's Square, Shanghai), for the check-in.
SHANGHAI = {"latitude": 31.2304, "longitude": 121.4737, "accuracy": 20}


def assert_fits_phone(page, what: str) -> None:
    overflow = horizontal_overflow(page, PHONE["width"])
    assert overflow <= 1, f"{what} is {overflow}px wider than a 390px phone screen"


def test_a_day_of_field_work_on_a_phone(browser, live_server, department, open_page, artifacts):
    """The issue's "done when": a salesperson sees revisits due, checks in, logs a visit
    and adds a contact at phone width; their head sees the visit and the team's overdue
    list."""
    import datetime

    from django.utils import timezone
    from playwright.sync_api import expect

    from bizdept.customers import services
    from bizdept.customers.models import Customer, Visit

    base = live_server.url
    mine = services.customer_create(by=department.sales.user, name="上海浦江精密机械有限公司")
    mates = services.customer_create(by=department.sales_mate.user,
                                     name="上海申港物流股份有限公司")
    overdue_since = timezone.localdate() - datetime.timedelta(days=3)
    Customer.objects.filter(pk__in=[mine.pk, mates.pk]).update(next_revisit_on=overdue_since)
    phone = {"viewport": PHONE, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}

    # The salesperson, out in the field with a phone that shares its location.
    page = open_page(**phone, permissions=["geolocation"], geolocation=SHANGHAI)
    sign_in(page, base, "sales")
    page.locator(".navbar-toggler").click()  # the menu is folded at this width
    with page.expect_navigation():
        page.locator('#mainnav a.nav-link[href="/customers/revisits/"]').click()
    expect(page).to_have_url(re.compile(r"/customers/revisits/"))
    rows = page.locator("#list-table tbody")
    expect(rows).to_contain_text(mine.name)
    expect(rows).not_to_contain_text(mates.name)  # a colleague's customer is not mine
    expect(rows).to_contain_text(overdue_since.isoformat())
    page.screenshot(path=artifacts / "phone-my-day.png", full_page=True)
    assert_fits_phone(page, "My day")

    with page.expect_navigation():
        rows.get_by_role("link", name=mine.name).click()
    expect(page).to_have_url(f"{base}/customers/{mine.pk}/")
    expect(page.locator("main h1")).to_have_text(mine.name)
    expect(page.locator("main .badge.text-bg-danger")).to_be_visible()  # revisit overdue
    assert_fits_phone(page, "the customer page")

    # Log a visit, checked in where the phone is.
    with page.expect_navigation():
        page.click("#log-visit")
    expect(page).to_have_url(f"{base}/customers/{mine.pk}/visits/new/")
    page.click("#check-in")
    expect(page.locator("#check-in-status")).to_contain_text("20")  # "±20 m"
    expect(page.locator("#id_check_in")).to_have_value("1")
    expect(page.locator("#id_latitude")).to_have_value("31.230400")
    expect(page.locator("#id_longitude")).to_have_value("121.473700")
    summary = "拜访采购部王经理，确认下季度备件需求。"
    page.fill("#id_summary", summary)
    page.screenshot(path=artifacts / "phone-log-visit.png", full_page=True)
    assert_fits_phone(page, "the visit form")
    with page.expect_navigation():
        page.click("#visit-form button[type=submit]")
    expect(page).to_have_url(f"{base}/customers/{mine.pk}/")
    visit = page.locator("#timeline li.timeline-visit").first
    expect(visit).to_contain_text(summary)
    expect(visit.locator(".badge.text-bg-success")).to_be_visible()  # checked in
    expect(page.locator("main .badge.text-bg-danger")).to_have_count(0)  # no longer overdue
    assert_fits_phone(page, "the customer page with its visit")
    logged = Visit.objects.get(customer=mine)
    assert logged.checked_in_at is not None
    assert (float(logged.latitude), float(logged.longitude)) == (31.2304, 121.4737)
    assert logged.employee == department.sales

    # Add the person met, with a Chinese mobile number typed the way people type it.
    with page.expect_navigation():
        page.click(f'main a[href="/customers/{mine.pk}/contacts/new/"]')
    page.fill("#id_name", "王经理")
    page.fill("#id_title", "采购部经理")
    page.fill("#id_mobile", "139 1234 5678")
    page.screenshot(path=artifacts / "phone-add-contact.png", full_page=True)
    assert_fits_phone(page, "the contact form")
    with page.expect_navigation():
        page.click("#edit-form button[type=submit]")
    expect(page).to_have_url(f"{base}/customers/{mine.pk}/")
    contacts = page.locator("#contacts")
    expect(contacts).to_contain_text("王经理")
    expect(contacts.locator('a[href="tel:+8613912345678"]')).to_be_visible()
    page.screenshot(path=artifacts / "phone-customer-after-visit.png", full_page=True)
    assert_fits_phone(page, "the customer page with its contact")

    # The head of the team: the visit is on the customer's timeline, and My day shows
    # the team's overdue revisits.
    page = open_page(**phone)
    sign_in(page, base, "lead")
    page.goto(f"{base}/customers/{mine.pk}/")
    visit = page.locator("#timeline li.timeline-visit").first
    expect(visit).to_contain_text(summary)
    expect(visit).to_contain_text(department.sales.name)
    expect(visit.locator(".badge.text-bg-success")).to_be_visible()
    assert_fits_phone(page, "the customer page, for the head")
    page.goto(f"{base}/customers/revisits/")
    with page.expect_navigation():
        page.locator('main a.nav-link[href="?who=team"]').click()
    rows = page.locator("#list-table tbody")
    expect(rows).to_contain_text(mates.name)
    expect(rows).not_to_contain_text(mine.name)  # visited today: no longer due
    # My day has no bulk transfer, so no selection boxes that would do nothing.
    expect(rows.locator("input[type=checkbox]")).to_have_count(0)
    page.screenshot(path=artifacts / "phone-my-team.png", full_page=True)
    assert_fits_phone(page, "My day, My team")
