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


def _save(page, form="#edit-form"):
    """Submit an edit page and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")


def _approve_in_inbox(page, base: str, title_part: str) -> None:
    """From "Waiting for me", open the request and approve it."""
    from playwright.sync_api import expect

    page.goto(f"{base}/approvals/")
    link = page.locator("#list-table tbody a", has_text=title_part)
    expect(link).to_have_count(1)
    with page.expect_navigation():
        link.click()
    expect(page.locator("#decision-form")).to_be_visible()
    page.check("#decision-form input[name=decision][value=approve]")
    _save(page, "#decision-form")
    expect(page.locator("#decision-form")).to_have_count(0)


def test_a_need_becomes_a_paid_contract(browser, live_server, department, open_page,
                                        artifacts, tmp_path):
    """The issue's "done when": a need becomes an approved opportunity, then a contract
    routed by amount (lead → manager), signed with its scan, planned in two instalments
    and paid; the customer's grade and the collection rate follow the money."""
    import datetime
    from decimal import Decimal

    from django.utils import timezone
    from playwright.sync_api import expect

    from bizdept.approvals.choices import TaskStatus
    from bizdept.approvals.demo import ensure_default_policies
    from bizdept.approvals.models import ApprovalTask
    from bizdept.customers import services as customer_services
    from bizdept.customers.models import Customer, CustomerSettings, GradeRule
    from bizdept.sales.models import Contract, Opportunity
    from bizdept.sales.tests.factories import make_product

    base = live_server.url
    # What migrations seed is flushed between transactional tests: the default grade rules
    # (customers 0002) and the default approval policies (SAL-3) are made again here.
    for grade, amount, days in (("A", "1000000", 7), ("B", "300000", 14),
                                ("C", "50000", 30), ("D", "0", 90)):
        GradeRule.objects.get_or_create(grade=grade, defaults={
            "min_received": Decimal(amount), "revisit_days": days})
    CustomerSettings.objects.get_or_create(pk=1)
    ensure_default_policies()
    customer = customer_services.customer_create(by=department.sales.user,
                                                 name="上海浦江精密机械有限公司")
    product = make_product(department.director, code="VFD-300", name="变频器", price="100000.00",
                           cost="60000.00")
    desktop = {"viewport": {"width": 1280, "height": 900}}

    # --- sales: the need, from the customer's page, submitted for approval ---
    page = open_page(**desktop)
    sign_in(page, base, "sales")
    page.goto(f"{base}/customers/{customer.pk}/")
    with page.expect_navigation():
        page.click("#new-opportunity")
    expect(page.locator("#id_customer")).to_have_value(str(customer.pk))
    page.fill("#id_title", "产线变频改造")
    page.fill("#id_need", "三条产线的风机改为变频驱动。")
    page.fill("#id_expected_amount", "300000")
    _save(page)
    opportunity = Opportunity.objects.get(customer=customer)
    expect(page).to_have_url(f"{base}/sales/opportunities/{opportunity.pk}/")
    with page.expect_navigation():
        page.click("#submit-opportunity")
    _save(page)
    expect(page).to_have_url(f"{base}/sales/opportunities/{opportunity.pk}/")
    opportunity.refresh_from_db()
    assert opportunity.stage == "approval"
    expect(page.locator("#submit-opportunity")).to_have_count(0)
    page.screenshot(path=artifacts / "deal-1-opportunity-submitted.png", full_page=True)

    # --- lead (the direct head): approves it in "Waiting for me" ---
    lead_page = open_page(**desktop)
    sign_in(lead_page, base, "lead")
    _approve_in_inbox(lead_page, base, "产线变频改造")
    opportunity.refresh_from_db()
    assert opportunity.stage == "solution"

    # --- sales: the solution, then on to implementing ---
    page.goto(f"{base}/sales/opportunities/{opportunity.pk}/")
    with page.expect_navigation():
        page.click("#add-line")
    page.select_option("#id_product", str(product.pk))
    page.fill("#id_quantity", "3")
    _save(page)
    expect(page.locator("#solution-totals")).to_contain_text("300,000.00")
    with page.expect_navigation():
        page.click("#advance-opportunity")
    _save(page)
    opportunity.refresh_from_db()
    assert opportunity.stage == "implementing"
    page.screenshot(path=artifacts / "deal-2-opportunity-implementing.png", full_page=True)

    # --- sales: a contract number from "My numbers", then the contract ---
    page.goto(f"{base}/sales/contract-numbers/mine/")
    with page.expect_navigation():
        page.click('main a[href="/sales/contract-numbers/issue/"]')
    expect(page.locator("#id_to")).to_have_value(str(department.sales.pk))
    _save(page)
    expect(page).to_have_url(f"{base}/sales/contract-numbers/mine/")
    number = department.sales.contract_numbers.get()
    expect(page.locator("#list-table tbody")).to_contain_text(number.number)
    page.goto(f"{base}/sales/contracts/new/?customer={customer.pk}")
    page.select_option("#id_number", str(number.pk))
    expect(page.locator("#id_customer")).to_have_value(str(customer.pk))
    page.fill("#id_title", "产线变频改造合同")
    page.fill("#id_delivery_terms", "签约后30天交货")
    page.fill("#id_technical_terms", "现场380V供电")
    page.fill("#id_installation_terms", "甲方提供吊装条件")
    _save(page)
    contract = Contract.objects.get(customer=customer)
    assert contract.number == number
    contract_url = f"{base}/sales/contracts/{contract.pk}/"
    expect(page).to_have_url(contract_url)
    with page.expect_navigation():
        page.click("#add-line")
    page.select_option("#id_product", str(product.pk))
    page.fill("#id_quantity", "1")
    page.fill("#id_unit_price", "300000")
    _save(page)
    expect(page.locator("#contract-total")).to_contain_text("300,000.00")
    with page.expect_navigation():
        page.click("#report-contract")
    _save(page)
    contract.refresh_from_db()
    assert contract.status == "reported"
    page.screenshot(path=artifacts / "deal-3-contract-reported.png", full_page=True)

    # --- lead: confirms feasibility, approves the first step ---
    lead_page.goto(contract_url)
    with lead_page.expect_navigation():
        lead_page.click("#confirm-feasibility")
    expect(lead_page.locator("#feasibility-confirmed")).to_contain_text(department.lead.name)
    _approve_in_inbox(lead_page, base, "产线变频改造合同")

    # --- manager: 300,000 is above the manager's threshold, so the manager decides too ---
    manager_page = open_page(**desktop)
    sign_in(manager_page, base, "manager")
    _approve_in_inbox(manager_page, base, "产线变频改造合同")
    manager_page.screenshot(path=artifacts / "deal-4-contract-approved.png", full_page=True)
    contract.refresh_from_db()
    assert contract.status == "approved"
    steps = ApprovalTask.objects.filter(request__document_type="sales.contract",
                                        request__object_id=contract.pk)
    approved = set(steps.filter(status=TaskStatus.APPROVED)
                   .values_list("approver__user__username", flat=True))
    assert approved == {"lead", "manager"}  # routed by the amount (≥ 100,000: the manager)
    assert not steps.filter(approver=department.director, status=TaskStatus.WAITING).exists()

    # --- sales: signs with the scan ---
    scan = tmp_path / "signed.pdf"
    scan.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    page.goto(contract_url)
    with page.expect_navigation():
        page.click("#sign-contract")
    page.set_input_files("#id_scan", str(scan))
    _save(page)
    expect(page).to_have_url(contract_url)
    expect(page.locator("#contract-archived")).to_be_visible()
    expect(page.locator("#contract-scan")).to_be_visible()
    contract.refresh_from_db()
    assert contract.status == "signed"

    # --- finance: the plan in two instalments, and two payments of 150,000 ---
    today = timezone.localdate()
    first_due = max(today - datetime.timedelta(days=1), today.replace(month=1, day=1))
    finance_page = open_page(**desktop)
    sign_in(finance_page, base, "finance")
    finance_page.goto(contract_url)
    with finance_page.expect_navigation():
        finance_page.click("#edit-plan")
    for n, due in enumerate((first_due, today)):
        finance_page.fill(f"#id_plan-{n}-due_on", due.isoformat())
        finance_page.fill(f"#id_plan-{n}-amount", "150000")
    _save(finance_page, "#plan-form")
    expect(finance_page).to_have_url(contract_url)
    expect(finance_page.locator("#plan-total")).to_contain_text("300,000.00")
    for _n in range(2):
        with finance_page.expect_navigation():
            finance_page.click("#record-payment")
        finance_page.fill("#id_amount", "150000")
        _save(finance_page)
        expect(finance_page).to_have_url(contract_url)
    expect(finance_page.locator("#contract-received")).to_contain_text("300,000.00")
    expect(finance_page.locator("#contract-balance")).to_contain_text("0.00")
    finance_page.screenshot(path=artifacts / "deal-5-contract-paid.png", full_page=True)

    # --- sales: the customer is graded B (300,000 received in 12 months) ---
    page.goto(f"{base}/customers/{customer.pk}/")
    expect(page.locator("main .badge.grade-B")).to_be_visible()
    assert Customer.objects.get(pk=customer.pk).grade == "B"
    page.screenshot(path=artifacts / "deal-6-customer-graded.png", full_page=True)

    # --- the collection rate of the salesperson shows the money ---
    page.goto(f"{base}/sales/receivables/collection/")
    row = page.locator("#collection-people tbody tr", has_text=department.sales.name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("300,000.00")
    expect(row.locator("td").last).to_have_text("100.00")
    page.screenshot(path=artifacts / "deal-7-collection-rate.png", full_page=True)

    # --- the contract page at phone width does not scroll sideways ---
    phone_page = open_page(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                           has_touch=True)
    sign_in(phone_page, base, "sales")
    phone_page.goto(contract_url)
    expect(phone_page.locator("#contract-status")).to_be_visible()
    phone_page.screenshot(path=artifacts / "deal-8-phone-contract.png", full_page=True)
    assert_fits_phone(phone_page, "the contract page")
