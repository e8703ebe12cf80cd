"""Appraisal pages (PER-2..5 in the browser): scorecard templates, cycles and their
results, one person's appraisal (and its printable report), my appraisals, my team's,
and the calibration view.

The rules are the services' (test_templates.py, test_cycles.py); here: each page renders
for the right people and answers 404/403 to the others, forms post and show the
service's errors on the field they name, the export is a workbook, and the list pages
cost the same number of queries however many rows they have."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bizdept.appraisal import services
from bizdept.appraisal.choices import CycleStatus, ImprovementStatus
from bizdept.appraisal.models import AppraisalCycle, ImprovementItem, ScorecardTemplate
from bizdept.org.choices import RoleCode
from bizdept.org.tests.factories import make_employee

from .factories_cycles import (
    appraisal_of,
    calibrating_cycle,
    cycle_policy,
    last_quarter,
    manual_orders,
    open_cycle,
    review_all,
    sales_template,
    to_stage,
)


def in_english(employee):
    """Pages speak the user's own language (zh-Hans by default): tests reading English
    text ask for English."""
    employee.user.language = "en"
    employee.user.save(update_fields=["language"])
    return employee


def url(name, *args):
    return reverse(f"appraisal:{name}", args=args)


def body(response) -> str:
    return response.content.decode()


# --- scorecard templates -------------------------------------------------------------------
def test_template_list_and_detail_for_everyone_new_and_edit_for_hr(as_user, dept):
    template = sales_template(dept.hr)
    client = as_user(dept.sales)
    page = body(client.get(url("template_list")))
    assert url("template_detail", template.pk) in page
    assert url("template_create") not in page
    detail = client.get(url("template_detail", template.pk))
    assert detail.status_code == 200 and "工作态度" in body(detail)
    assert url("template_edit", template.pk) not in body(detail)
    assert client.get(url("template_create")).status_code == 403
    assert client.get(url("template_edit", template.pk)).status_code == 403
    client = as_user(dept.hr)
    assert url("template_create") in body(client.get(url("template_list")))
    assert client.get(url("template_create")).status_code == 200
    assert client.get(url("template_edit", template.pk)).status_code == 200


def test_template_detail_describes_each_rule_in_words(as_user, dept):
    template = sales_template(dept.hr)
    page = body(as_user(in_english(dept.sales)).get(url("template_detail", template.pk)))
    assert "Points = 100 × actual ÷ target, at most 120 % of 100" in page
    assert "≥ 1: 50 points; ≥ 3: 100 points" in page


def test_template_pages_need_an_employee_record(client, dept):
    from bizdept.org.tests.factories import UserFactory

    template = sales_template(dept.hr)
    client.force_login(UserFactory())
    assert url("template_detail", template.pk) not in body(client.get(url("template_list")))
    assert client.get(url("template_detail", template.pk)).status_code == 404


def _item_post(n, **values):
    return {f"items-{n}-{k}": v for k, v in values.items()}


def _template_post(**extra):
    from bizdept.org.models import Position

    position = Position.objects.get_or_create(name="岗位-sales")[0]
    data = {"name": "业务员季度考核", "position": position.pk, "period_kind": "quarterly",
            "notes": ""}
    data.update(_item_post(0, kind="kpi", kpi_code="revenue", name="", weight="70",
                           target_source="plan", rule_kind="linear", full_points="100",
                           cap_percent="120"))
    data.update(_item_post(1, kind="kpi", kpi_code="visits", name="", weight="10",
                           target_source="fixed", fixed_target="60", rule_kind="threshold",
                           steps="40 60\n60 100"))
    data.update(_item_post(5, kind="manual", name="团队合作", weight="20", rule_kind="table",
                           steps="0 60 0\n60 - 100"))
    data.update(extra)
    return data


def test_new_template_posts_its_item_rows(as_user, dept):
    response = as_user(dept.hr).post(url("template_create"), _template_post())
    template = ScorecardTemplate.objects.get(name="业务员季度考核")
    assert response.status_code == 302
    assert response["Location"] == url("template_detail", template.pk)
    items = list(template.items.order_by("sort_order"))
    assert [i.kpi_code or i.name for i in items] == ["revenue", "visits", "团队合作"]
    assert items[1].rule_params["steps"][0] == {"threshold": "40.0000", "points": "60.00"} \
        or items[1].rule_params["steps"][0]["points"] in ("60", "60.00")
    assert items[2].rule_params["rows"][1]["to"] is None


def test_template_error_lands_on_the_item_field_it_names(as_user, dept):
    client = as_user(in_english(dept.hr))
    post = _template_post(**{"items-5-weight": "abc"})
    response = client.post(url("template_create"), post)
    assert response.status_code == 200
    page = body(response)
    assert not ScorecardTemplate.objects.exists()
    # the third row (items[2]) carries the error under its weight input
    assert 'name="items-2-weight"' in page
    assert "Enter a number." in page
    rows = page.split('class="item-row"')
    assert "Enter a number." in rows[3]  # 0: before the rows, 1..3: the rows
    # the weights that do not total 100 are refused above the rows, naming "items"
    response = client.post(url("template_create"), _template_post(**{"items-5-weight": "25"}))
    assert 'data-field="items"' in body(response)
    assert "total exactly 100" in body(response)


def test_template_rule_parameter_error_names_the_line(as_user, dept):
    client = as_user(in_english(dept.hr))
    response = client.post(url("template_create"),
                           _template_post(**{"items-1-steps": "40 60\n60 x"}))
    rows = body(response).split('class="item-row"')
    assert "Line 2:" in rows[2]


def test_edit_template_replaces_the_items(as_user, dept):
    template = sales_template(dept.hr)
    client = as_user(dept.hr)
    page = body(client.get(url("template_edit", template.pk)))
    assert 'name="items-2-name" value="工作态度"' in page
    response = client.post(url("template_edit", template.pk),
                           _template_post(version=str(template.version)))
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.items.count() == 3 and template.version == 2
    # a stale version is refused (someone else saved meanwhile)
    response = as_user(in_english(dept.hr)).post(url("template_edit", template.pk),
                                                 _template_post(version="1"))
    assert response.status_code == 200 and "Someone changed this template" in body(response)


def test_deactivate_a_template(as_user, dept):
    template = sales_template(dept.hr)
    assert as_user(dept.sales).post(url("template_deactivate", template.pk)).status_code == 403
    response = as_user(dept.hr).post(url("template_deactivate", template.pk))
    assert response.status_code == 302
    template.refresh_from_db()
    assert not template.is_active
    assert 'id="deactivate-template"' not in body(
        as_user(dept.hr).get(url("template_detail", template.pk)))


# --- cycles ---------------------------------------------------------------------------------
def test_cycle_list_for_everyone_open_button_for_hr_and_director(as_user, dept):
    cycle = open_cycle(dept)
    for who in (dept.sales, dept.lead):
        page = body(as_user(who).get(url("cycle_list")))
        assert url("cycle_detail", cycle.pk) in page
        assert url("cycle_open") not in page
        assert as_user(who).get(url("cycle_open")).status_code == 403
    for who in (dept.hr, dept.director):
        assert url("cycle_open") in body(as_user(who).get(url("cycle_list")))
    # another department's people do not read the cycle
    assert as_user(dept.outsider).get(url("cycle_detail", cycle.pk)).status_code == 404


def test_open_a_cycle_through_the_form(as_user, dept):
    sales_template(dept.hr)
    client = as_user(dept.director)
    page = body(client.get(url("cycle_open")))
    assert "SA 20 / B 70 / CD 10" in page
    period = last_quarter()
    response = client.post(url("cycle_open"), {
        "kind": "quarterly", "period": period, "name": "", "band_s": "90", "band_a": "80",
        "band_b": "70", "band_c": "60", "distribution": "SA 20 / B 70 / CD 10",
        "distribution_level": "division", "bottom_percent": "10"})
    cycle = AppraisalCycle.objects.get(period=period)
    assert response.status_code == 302
    assert response["Location"] == url("cycle_detail", cycle.pk)
    assert cycle.distribution[0] == {"grades": ["S", "A"], "percent": "20.00"} \
        or cycle.distribution[0]["grades"] == ["S", "A"]
    assert cycle.appraisals.count() == 3  # sales, sales_mate, other_sales


def test_open_cycle_errors_land_on_their_fields(as_user, dept):
    client = as_user(in_english(dept.hr))
    data = {"kind": "quarterly", "period": "2026", "name": "", "band_s": "90",
            "band_a": "80", "band_b": "85", "band_c": "60",
            "distribution": "SA 20 / B 70 / CD 10", "distribution_level": "division",
            "bottom_percent": "10"}
    response = client.post(url("cycle_open"), data)
    assert response.status_code == 200
    assert "Enter a quarter such as 2026-Q3." in body(response)
    data["period"] = last_quarter()
    page = body(client.post(url("cycle_open"), data))
    assert "Each grade needs a lower score than the one above it." in page
    data["band_b"] = "70"
    data["distribution"] = "SA 20 / B 60 / CD 10"
    page = body(client.post(url("cycle_open"), data))
    assert "The shares must total 100" in page
    assert not AppraisalCycle.objects.exists()


def test_cycle_detail_shows_actions_per_permission(as_user, dept):
    cycle = open_cycle(dept)
    hr_page = body(as_user(dept.hr).get(url("cycle_detail", cycle.pk)))
    assert 'id="advance-cycle"' in hr_page and 'id="refresh-cycle"' in hr_page
    assert 'id="submit-cycle"' not in hr_page
    sales_page = body(as_user(dept.sales).get(url("cycle_detail", cycle.pk)))
    assert 'id="advance-cycle"' not in sales_page and 'id="refresh-cycle"' not in sales_page
    # a salesperson's results table holds only themself
    assert dept.sales.name in sales_page and dept.other_sales.name not in sales_page
    assert as_user(dept.sales).post(url("cycle_advance", cycle.pk)).status_code == 403


def test_advance_and_refresh_buttons_move_the_cycle(as_user, dept):
    cycle = open_cycle(dept)
    client = as_user(dept.hr)
    response = client.post(url("cycle_advance", cycle.pk))
    assert response.status_code == 302
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.SELF_ASSESSMENT
    assert client.post(url("cycle_refresh", cycle.pk)).status_code == 302
    client.post(url("cycle_advance", cycle.pk))
    # calibration needs every review: refused with a message, the stage stays
    response = as_user(in_english(dept.hr)).post(url("cycle_advance", cycle.pk), follow=True)
    assert "are not reviewed yet" in body(response)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.MANAGER_REVIEW


def test_results_filter_sort_and_export(as_user, dept):
    import openpyxl

    cycle = calibrating_cycle(dept)
    client = as_user(dept.director)
    page = body(client.get(url("cycle_detail", cycle.pk), {"unit": dept.other_team.pk}))
    assert dept.other_sales.name in page and dept.sales_mate.name not in page
    page = body(client.get(url("cycle_detail", cycle.pk), {"sort": "-total_score"}))
    assert dept.sales.name in page
    response = client.get(url("cycle_detail", cycle.pk), {"export": "xlsx"})
    assert response.status_code == 200
    assert "spreadsheetml" in response["Content-Type"]
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 4  # header + 3 people
    assert all(isinstance(r[6], (int, float)) for r in rows[1:])  # the total: a number
    names = {r[0] for r in rows[1:]}
    assert names == {dept.sales.name, dept.sales_mate.name, dept.other_sales.name}
    # the htmx table fragment
    fragment = client.get(url("cycle_detail", cycle.pk), HTTP_HX_REQUEST="true")
    assert "<html" not in body(fragment) and dept.sales.name in body(fragment)


def test_cycle_history_tab(as_user, dept):
    cycle = open_cycle(dept)
    response = as_user(dept.hr).get(url("cycle_detail", cycle.pk), {"tab": "history"})
    assert response.status_code == 200 and "<html" not in body(response)


def test_submit_and_reopen_through_the_pages(as_user, dept):
    cycle_policy(dept.director)
    cycle = calibrating_cycle(dept)
    client = as_user(dept.hr)
    assert 'id="submit-cycle"' in body(client.get(url("cycle_detail", cycle.pk)))
    assert client.post(url("cycle_submit", cycle.pk), {"comment": "请审批"}).status_code == 302
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.SUBMITTED
    services.cycle_approved(cycle)
    cycle.refresh_from_db()
    assert 'id="reopen-cycle"' in body(client.get(url("cycle_detail", cycle.pk)))
    response = as_user(in_english(dept.hr)).post(url("cycle_reopen", cycle.pk), {"reason": ""})
    assert response.status_code == 200 and "This field is required." in body(response)
    response = client.post(url("cycle_reopen", cycle.pk), {"reason": "数据更正"})
    assert response.status_code == 302
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.CALIBRATION and cycle.reopen_reason == "数据更正"
    assert as_user(dept.sales).get(url("cycle_reopen", cycle.pk)).status_code == 403


# --- one person's appraisal ----------------------------------------------------------------
def test_appraisal_page_for_the_person_their_heads_hr_not_colleagues(as_user, dept):
    cycle = open_cycle(dept)
    appraisal = appraisal_of(cycle, dept.sales)
    for who in (dept.sales, dept.lead, dept.manager, dept.director, dept.hr):
        response = as_user(who).get(url("appraisal_detail", appraisal.pk))
        assert response.status_code == 200, who.name
    for who in (dept.sales_mate, dept.other_lead, dept.other_sales, dept.outsider):
        response = as_user(who).get(url("appraisal_detail", appraisal.pk))
        assert response.status_code == 404, who.name


def test_appraisal_page_links_each_kpi_to_its_records_and_prints(as_user, dept):
    cycle = open_cycle(dept)
    appraisal = appraisal_of(cycle, dept.sales)
    client = as_user(dept.lead)
    page = body(client.get(url("appraisal_detail", appraisal.pk)))
    assert page.count('class="explain-link"') == 2  # the two KPI lines
    printed = client.get(url("appraisal_detail", appraisal.pk), {"print": "1"})
    assert printed.status_code == 200
    assert 'id="appraisal-report"' in body(printed)
    assert "navbar" not in body(printed)


def test_self_assessment_save_then_submit(as_user, dept):
    cycle = to_stage(open_cycle(dept), dept.hr, CycleStatus.SELF_ASSESSMENT)
    appraisal = appraisal_of(cycle, dept.sales)
    order = manual_orders(appraisal)[0]
    client = as_user(in_english(dept.sales))
    assert 'id="self-form"' in body(client.get(url("appraisal_detail", appraisal.pk)))
    response = client.post(url("self_assess", appraisal.pk),
                           {f"self-points-{order}": "", "self-comment": "努力", "save": "1"})
    assert response.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.self_comment == "努力" and appraisal.self_submitted_at is None
    # handing in needs every manual item: the error is on that item's field
    response = client.post(url("self_assess", appraisal.pk),
                           {f"self-points-{order}": "", "self-comment": "努力", "submit": "1"})
    assert response.status_code == 200
    assert "This field is required." in body(response)
    response = client.post(url("self_assess", appraisal.pk),
                           {f"self-points-{order}": "150", "submit": "1"})
    assert "Ensure this value is less than or equal to 100." in body(response)
    response = client.post(url("self_assess", appraisal.pk),
                           {f"self-points-{order}": "85", "submit": "1"})
    assert response.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.self_submitted_at is not None
    # a colleague's reviewer or the person's mate may not
    assert as_user(dept.lead).post(url("self_assess", appraisal.pk),
                                   {f"self-points-{order}": "85"}).status_code == 403


def test_review_interview_signatures_and_improvement_plan(as_user, dept):
    cycle = to_stage(open_cycle(dept), dept.hr, CycleStatus.MANAGER_REVIEW)
    appraisal = appraisal_of(cycle, dept.sales)
    order = manual_orders(appraisal)[0]
    lead = as_user(in_english(dept.lead))
    assert 'id="review-form"' in body(lead.get(url("appraisal_detail", appraisal.pk)))
    response = lead.post(url("review", appraisal.pk), {"review-comment": "好"})
    assert response.status_code == 200 and "This field is required." in body(response)
    response = lead.post(url("review", appraisal.pk),
                         {f"review-points-{order}": "90", "review-comment": "好"})
    assert response.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.reviewed_at is not None and appraisal.total_score is not None
    # the interview: not in the future (the service's rule, shown on the date field)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = lead.post(url("interview", appraisal.pk),
                         {"on": tomorrow.isoformat(), "notes": "谈了目标"})
    assert response.status_code == 200
    assert "The interview cannot be in the future." in body(response)
    today = timezone.localdate().isoformat()
    assert lead.post(url("interview", appraisal.pk),
                     {"on": today, "notes": "谈了目标"}).status_code == 302
    # both sign
    assert lead.post(url("sign", appraisal.pk)).status_code == 302
    employee = as_user(dept.sales)
    page = body(employee.get(url("appraisal_detail", appraisal.pk)))
    assert 'id="sign-interview"' in page and 'id="interview-form"' not in page
    assert employee.post(url("sign", appraisal.pk)).status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.employee_signed_at and appraisal.reviewer_signed_at
    # the improvement plan: the reviewer adds, the employee marks done
    lead = as_user(in_english(dept.lead))
    response = lead.post(url("improvement_add", appraisal.pk),
                         {"action": "", "owner": dept.sales.pk, "due_on": today})
    assert response.status_code == 200 and "This field is required." in body(response)
    response = lead.post(url("improvement_add", appraisal.pk),
                         {"action": "每周拜访 5 家客户", "owner": dept.sales.pk, "due_on": today})
    assert response.status_code == 302
    item = ImprovementItem.objects.get(appraisal=appraisal)
    employee = as_user(in_english(dept.sales))
    response = employee.post(url("improvement_update", appraisal.pk, item.pk),
                             {f"imp{item.pk}-status": "dropped", f"imp{item.pk}-note": ""},
                             follow=True)
    assert "Give the reason." in body(response)
    employee.post(url("improvement_update", appraisal.pk, item.pk),
                  {f"imp{item.pk}-status": "done", f"imp{item.pk}-note": "完成"})
    item.refresh_from_db()
    assert item.status == ImprovementStatus.DONE
    # the employee cannot add to their own plan
    assert employee.post(url("improvement_add", appraisal.pk),
                         {"action": "x", "owner": dept.sales.pk,
                          "due_on": today}).status_code == 403


def test_my_appraisals_newest_first(as_user, dept):
    cycle = open_cycle(dept)
    older = services.cycle_open(by=dept.hr.user, kind="quarterly", period="2025-Q1")
    page = body(as_user(dept.sales).get(url("my_appraisals")))
    mine, old = appraisal_of(cycle, dept.sales), appraisal_of(older, dept.sales)
    assert page.index(url("appraisal_detail", mine.pk)) < page.index(
        url("appraisal_detail", old.pk))
    assert url("appraisal_detail", appraisal_of(cycle, dept.sales_mate).pk) not in page


def test_my_team_shows_what_is_pending(as_user, dept):
    cycle = to_stage(open_cycle(dept), dept.hr, CycleStatus.SELF_ASSESSMENT)
    client = as_user(in_english(dept.lead))
    page = body(client.get(url("team"), {"cycle": cycle.pk}))
    assert dept.sales.name in page and dept.sales_mate.name in page
    assert dept.other_sales.name not in page
    assert "Self-assessment" in page and "Review" in page
    assert client.get(url("team"), {"cycle": "999999"}).status_code == 404
    # a salesperson heads nobody: an empty list, not an error
    response = as_user(dept.sales).get(url("team"))
    assert response.status_code == 200 and dept.sales_mate.name not in body(response)


# --- calibration ---------------------------------------------------------------------------
def test_calibration_page_shows_where_each_unit_stands(as_user, dept):
    from bizdept.appraisal.choices import DEFAULT_DISTRIBUTION

    cycle = calibrating_cycle(dept, distribution=DEFAULT_DISTRIBUTION)
    page = body(as_user(dept.director).get(url("calibration", cycle.pk)))
    assert f'id="unit-{dept.division.pk}"' in page
    assert "unit-exempt" in page  # three people: exempt from the distribution
    assert page.count('class="d-flex flex-wrap gap-1 calibrate-row"') == 3
    assert as_user(dept.sales).get(url("calibration", cycle.pk)).status_code == 403
    lead_page = body(as_user(dept.lead).get(url("calibration", cycle.pk)))
    assert dept.other_sales.name not in lead_page and dept.sales.name in lead_page


def test_calibrate_a_grade_with_a_reason_from_the_calibration_page(as_user, dept):
    cycle = calibrating_cycle(dept)
    appraisal = appraisal_of(cycle, dept.sales)
    back = url("calibration", cycle.pk)
    other = next(g for g in "SABCD" if g != appraisal.score_grade)
    client = as_user(in_english(dept.director))
    response = client.post(url("calibrate", appraisal.pk),
                           {"grade": other, "reason": "", "next": back}, follow=True)
    assert "Give the reason." in body(response)
    appraisal.refresh_from_db()
    assert appraisal.grade == appraisal.score_grade
    response = client.post(url("calibrate", appraisal.pk),
                           {"grade": other, "reason": "客户投诉", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    appraisal.refresh_from_db()
    assert appraisal.grade == other and appraisal.grade_reason == "客户投诉"
    # the person themself and a colleague's lead may not
    assert as_user(dept.other_lead).post(url("calibrate", appraisal.pk),
                                         {"grade": "S", "next": back}).status_code in (403, 404)


# --- scope and logins -----------------------------------------------------------------------
def test_pages_need_a_login(client, dept):
    cycle = open_cycle(dept)
    appraisal = appraisal_of(cycle, dept.sales)
    for address in (url("template_list"), url("cycle_list"), url("cycle_detail", cycle.pk),
                    url("appraisal_detail", appraisal.pk), url("my_appraisals"), url("team"),
                    url("calibration", cycle.pk)):
        response = client.get(address)
        assert response.status_code == 302 and "/login/" in response["Location"], address


def test_navbar_has_the_appraisal_menu(as_user, dept):
    page = body(as_user(dept.sales).get(reverse("home")))
    assert 'id="nav-appraisal"' in page
    assert url("my_appraisals") in page


# --- query counts -------------------------------------------------------------------------
def _cost(client, address) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(address)
    assert response.status_code == 200, address
    return len(ctx)


def _grow_cycle(dept, n):
    """n more salespeople appraised (a fresh cycle over everyone)."""
    for _ in range(n):
        make_employee(dept.team, role=RoleCode.SALES)


@pytest.mark.parametrize("page", ["templates", "cycles", "results", "mine", "team",
                                  "calibration"])
def test_list_pages_cost_constant_queries(as_user, dept, page):
    sales_template(dept.hr)

    def build(period):
        cycle = services.cycle_open(by=dept.hr.user, kind="quarterly", period=period)
        cycle = to_stage(cycle, dept.hr, CycleStatus.MANAGER_REVIEW)
        review_all(cycle)
        return to_stage(cycle, dept.hr, CycleStatus.CALIBRATION)

    def address(cycle):
        return {"templates": url("template_list"), "cycles": url("cycle_list"),
                "results": url("cycle_detail", cycle.pk), "mine": url("my_appraisals"),
                "team": url("team") + f"?cycle={cycle.pk}",
                "calibration": url("calibration", cycle.pk)}[page]

    who = {"mine": dept.sales, "team": dept.lead}.get(page, dept.director)
    client = as_user(who)
    _grow_cycle(dept, 2)
    small_cycle = build("2025-Q1")
    client.get(address(small_cycle))  # warm the per-process caches (content types)
    small = _cost(client, address(small_cycle))
    _grow_cycle(dept, 6)
    sales_template(dept.hr, name="另一个模板")  # one more template row
    big_cycle = build("2025-Q2")
    services.cycle_open(by=dept.hr.user, kind="quarterly", period="2024-Q4")  # one more cycle
    assert _cost(client, address(big_cycle)) == small


@pytest.mark.parametrize("page", ["templates", "cycles", "mine", "team"])
def test_every_list_page_exports_a_workbook(as_user, dept, page):
    import openpyxl

    cycle = to_stage(open_cycle(dept), dept.hr, CycleStatus.SELF_ASSESSMENT)
    address = {"templates": url("template_list"), "cycles": url("cycle_list"),
               "mine": url("my_appraisals"), "team": url("team") + f"?cycle={cycle.pk}"}[page]
    who = {"mine": dept.sales, "team": dept.lead}.get(page, dept.hr)
    response = as_user(who).get(address + ("&" if "?" in address else "?") + "export=xlsx")
    assert response.status_code == 200 and "spreadsheetml" in response["Content-Type"]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == {"templates": 2, "cycles": 2, "mine": 2, "team": 3}[page]


def test_calibrate_in_place_answers_the_units_block(as_user, dept):
    cycle = calibrating_cycle(dept)
    appraisal = appraisal_of(cycle, dept.sales)
    back = url("calibration", cycle.pk)
    other = next(g for g in "SABCD" if g != appraisal.score_grade)
    client = as_user(in_english(dept.director))
    response = client.post(url("calibrate", appraisal.pk),
                           {"grade": other, "reason": "", "next": back}, HTTP_HX_REQUEST="true")
    page = body(response)
    assert response.status_code == 200 and "<html" not in page
    assert f'id="unit-{dept.division.pk}"' in page and "Give the reason." in page
    response = client.post(url("calibrate", appraisal.pk),
                           {"grade": other, "reason": "表现突出", "next": back},
                           HTTP_HX_REQUEST="true")
    assert "calibrate-saved" in body(response)
    appraisal.refresh_from_db()
    assert appraisal.grade == other


def test_appraisal_page_costs_constant_queries(as_user, dept):
    cycle = to_stage(open_cycle(dept), dept.hr, CycleStatus.MANAGER_REVIEW)
    review_all(cycle)
    appraisal = appraisal_of(cycle, dept.sales)
    client = as_user(dept.lead)
    address = url("appraisal_detail", appraisal.pk)

    def plan(n):
        for i in range(n):
            services.improvement_add(appraisal=appraisal, by=dept.lead.user,
                                     action=f"改进 {i}", owner=dept.sales,
                                     due_on=timezone.localdate())

    plan(1)
    client.get(address)  # warm the per-process caches
    small = _cost(client, address)
    plan(5)
    assert _cost(client, address) == small
