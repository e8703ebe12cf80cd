"""PER-3..5 over the API: cycles (open, stages, submit, reopen, calibration standing),
appraisals (lists, detail, self-assessment, review, calibration, interview, signatures,
improvement plan). 403 for a role or person that may not, 404 outside the scope, 400
naming the field, 409 at the wrong stage; list endpoints cost the same queries however
many rows they hold."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bizdept.appraisal.models import Appraisal, AppraisalCycle, ImprovementItem

from .factories_api import advance_to, appraisal_of, cycle_at, cycle_templates, open_cycle

API = "/api/v1/appraisal"
JSON = "application/json"
TODAY = datetime.date.today


@pytest.fixture
def as_user(db):
    """``as_user(employee)``: a client of its own signed in as them (several people act in
    one test, each keeping their client)."""
    from django.test import Client

    def signed_in(employee):
        client = Client()
        client.force_login(employee.user)
        return client
    return signed_in


def post(client, url, body=None):
    return client.post(url, body or {}, content_type=JSON)


def names(response) -> set[str]:
    assert response.status_code == 200, response.json()
    return {row["employee"]["name"] for row in response.json()["items"]}


def field_error(response, status, field):
    assert response.status_code == status, response.json()
    assert field in response.json()["errors"], response.json()


# --- cycles -------------------------------------------------------------------------------
def test_hr_opens_a_cycle_and_everyone_in_the_department_reads_it(as_user, dept):
    cycle_templates(dept.hr)
    client = as_user(dept.hr)
    created = post(client, f"{API}/cycles", {
        "kind": "quarterly", "period": "2026-Q2", "grade_bands": {"S": 95, "A": "85",
                                                                  "B": 75, "C": 60.5},
        "distribution": [{"grades": ["S", "A"], "percent": 20}, {"grades": ["B"],
                                                                 "percent": "70"},
                         {"grades": ["C", "D"], "percent": 10}],
        "distribution_level": "team", "bottom_percent": "15"})
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["status"] == "open" and data["period"] == "2026-Q2"
    assert data["since"] == "2026-04-01" and data["until"] == "2026-06-30"
    assert data["grade_bands"] == {"S": "95.00", "A": "85.00", "B": "75.00", "C": "60.50"}
    assert data["distribution"][1] == {"grades": ["B"], "percent": "70.00"}
    assert data["bottom_percent"] == "15.00" and data["distribution_level"] == "team"
    assert data["unit"]["id"] == dept.department.pk
    assert data["created_by"]["id"] == dept.hr.pk and data["computed_at"]
    # one appraisal per person whose position has a template: 2 leads and 3 salespeople
    assert Appraisal.objects.filter(cycle_id=data["id"]).count() == 5
    sales = as_user(dept.sales)
    assert sales.get(f"{API}/cycles/{data['id']}").json()["name"] == data["name"]
    listed = sales.get(f"{API}/cycles", {"kind": "quarterly", "status": "open",
                                         "period": "2026-Q2"})
    assert [c["id"] for c in listed.json()["items"]] == [data["id"]]
    for miss in ({"kind": "annual"}, {"status": "approved"}, {"period": "2026-Q3"}):
        assert sales.get(f"{API}/cycles", miss).json()["count"] == 0


def test_defaults_of_a_new_cycle(as_user, dept):
    cycle_templates(dept.director, kind="annual")
    response = post(as_user(dept.director), f"{API}/cycles",
                    {"kind": "annual", "period": "2025"})
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["grade_bands"] == {"S": "90.00", "A": "80.00", "B": "70.00", "C": "60.00"}
    assert data["distribution"] == [] and data["bottom_percent"] == "10.00"
    assert data["since"] == "2025-01-01" and data["until"] == "2025-12-31"


@pytest.mark.parametrize("who", ["sales", "lead", "manager", "finance"])
def test_only_hr_and_the_director_open_cycles(as_user, dept, who):
    cycle_templates(dept.hr)
    response = post(as_user(getattr(dept, who)), f"{API}/cycles",
                    {"kind": "quarterly", "period": "2026-Q2"})
    assert response.status_code == 403, response.json()
    assert not AppraisalCycle.objects.exists()


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"period": "2026"}, 400, "period"),
    ({"kind": "annual", "period": "2026-Q2"}, 400, "period"),
    ({"period": "1999-Q4"}, 400, "period"),
    ({"period": "2026-Q5"}, 422, "period"),
    ({"kind": "monthly"}, 422, "kind"),
    ({"name": "   "}, 400, "name"),
    ({"grade_bands": {"S": 90, "A": 95, "B": 70, "C": 60}}, 400, "grade_bands.A"),
    ({"grade_bands": {"S": 90, "A": 80, "B": 70}}, 422, "grade_bands.C"),
    ({"grade_bands": {"S": "1001", "A": 80, "B": 70, "C": 60}}, 400, "grade_bands.S"),
    ({"distribution": [{"grades": ["S", "A"], "percent": 20},
                       {"grades": ["B", "C", "D"], "percent": 70}]}, 400, "distribution"),
    ({"distribution": [{"grades": ["S", "A"], "percent": 30},
                       {"grades": ["B", "C"], "percent": 70}]}, 400, "distribution"),
    ({"distribution": [{"grades": ["S"], "percent": "101"},
                       {"grades": ["A", "B", "C", "D"], "percent": 0}]}, 400,
     "distribution[0].percent"),
    ({"distribution": [{"grades": ["X"], "percent": 100}]}, 422, "distribution.0.grades.0"),
    ({"distribution_level": "unit"}, 422, "distribution_level"),
    ({"bottom_percent": "101"}, 400, "bottom_percent"),
    ({"bottom_percent": "1.234"}, 422, "bottom_percent"),
    ({"bottom_percent": True}, 422, "bottom_percent"),
    ({"colour": "red"}, 422, "colour"),
])
def test_opening_refuses_bad_input_naming_the_field(as_user, dept, body, status, field):
    cycle_templates(dept.hr)
    response = post(as_user(dept.hr), f"{API}/cycles",
                    {"kind": "quarterly", "period": "2026-Q2", **body})
    field_error(response, status, field)
    assert not AppraisalCycle.objects.exists()


def test_a_second_cycle_for_the_same_period_is_a_conflict(as_user, dept):
    open_cycle(dept)
    response = post(as_user(dept.hr), f"{API}/cycles", {"kind": "quarterly",
                                                         "period": "2026-Q2"})
    field_error(response, 409, "period")
    assert AppraisalCycle.objects.count() == 1


def test_stages_move_forward_and_refuse_the_wrong_moves(as_user, dept):
    cycle = open_cycle(dept)
    hr = as_user(dept.hr)
    url = f"{API}/cycles/{cycle.pk}"
    moved = post(hr, f"{url}/advance")
    assert moved.status_code == 200 and moved.json()["status"] == "self_assessment"
    assert moved.json()["version"] == cycle.version + 1
    refreshed = post(hr, f"{url}/refresh")
    assert refreshed.status_code == 200, refreshed.json()
    assert post(hr, f"{url}/advance").json()["status"] == "manager_review"
    # calibration waits for every review
    field_error(post(hr, f"{url}/advance"), 400, "status")
    field_error(post(hr, f"{url}/submit"), 409, "status")
    field_error(post(hr, f"{url}/reopen", {"reason": "再看"}), 409, "status")
    sales = as_user(dept.sales)
    for action in ("advance", "refresh"):
        assert post(sales, f"{url}/{action}").status_code == 403
    assert post(sales, f"{url}/submit").status_code == 403
    assert AppraisalCycle.objects.get().status == "manager_review"
    assert post(sales, f"{API}/cycles/{10**9}/advance").status_code == 404


def test_in_calibration_figures_hold_still_and_submit_approve_reopen(as_user, dept):
    cycle = cycle_at(dept, "calibration")
    hr = as_user(dept.hr)
    url = f"{API}/cycles/{cycle.pk}"
    field_error(post(hr, f"{url}/refresh"), 409, "status")
    field_error(post(hr, f"{url}/advance"), 409, "status")
    from bizdept.approvals.demo import ensure_default_policies

    ensure_default_policies()
    submitted = post(hr, f"{url}/submit", {"comment": "请审批"})
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["status"] == "submitted" and submitted.json()["submitted_at"]
    field_error(post(hr, f"{url}/submit"), 409, "status")
    advance_to(AppraisalCycle.objects.get(), dept, "approved")
    client = as_user(dept.director)
    assert client.get(url).json()["status"] == "approved"
    field_error(post(client, f"{url}/reopen", {"reason": "  "}), 400, "reason")
    field_error(post(client, f"{url}/reopen", {}), 422, "reason")
    assert post(as_user(dept.manager), f"{url}/reopen", {"reason": "复核"}).status_code == 403
    reopened = post(as_user(dept.director), f"{url}/reopen", {"reason": "复核申诉"})
    assert reopened.status_code == 200, reopened.json()
    assert reopened.json()["status"] == "calibration"
    assert reopened.json()["reopen_reason"] == "复核申诉"


def test_submit_is_refused_while_the_forced_distribution_is_broken(as_user, dept):
    # five people of one division, all S: above the 20 % ceiling
    cycle = cycle_at(dept, "calibration", grade_bands={"S": 40, "A": 30, "B": 20, "C": 10},
                     distribution=[
        {"grades": ["S", "A"], "percent": "20"}, {"grades": ["B"], "percent": "70"},
        {"grades": ["C", "D"], "percent": "10"}])
    from bizdept.approvals.demo import ensure_default_policies

    ensure_default_policies()
    response = post(as_user(dept.hr), f"{API}/cycles/{cycle.pk}/submit")
    field_error(response, 400, "distribution")
    assert AppraisalCycle.objects.get().status == "calibration"


def test_calibration_shows_where_each_unit_stands(as_user, dept):
    marks = {dept.sales.pk: "100", dept.sales_mate.pk: "100", dept.other_sales.pk: "60",
             dept.lead.pk: "80", dept.other_lead.pk: "80"}
    cycle = cycle_at(dept, "calibration", marks=marks, distribution=[
        {"grades": ["S", "A"], "percent": "20"}, {"grades": ["B"], "percent": "70"},
        {"grades": ["C", "D"], "percent": "10"}])
    url = f"{API}/cycles/{cycle.pk}/calibration"
    response = as_user(dept.director).get(url)
    assert response.status_code == 200, response.json()
    [division] = response.json()
    assert division["unit"]["id"] == dept.division.pk and division["size"] == 5
    assert division["exempt"] is False
    assert sum(division["grade_counts"].values()) == 5
    best, middle, worst = division["groups"]
    assert (best["kind"], best["limit"], best["percent"]) == ("max", 1, "20.00")
    assert middle["limit"] is None and middle["ok"] is True
    assert worst["kind"] == "min"
    totals = [a["total_score"] for a in division["appraisals"]]
    assert totals == sorted(totals, key=lambda t: -float(t))
    assert division["ok"] is (best["ok"] and worst["ok"])
    # a unit narrows the people; a lead sees their team's people only
    team = as_user(dept.director).get(url, {"unit": dept.team.pk}).json()
    assert {a["employee"]["name"] for a in team[0]["appraisals"]} == {
        dept.sales.name, dept.sales_mate.name, dept.lead.name}
    mine = as_user(dept.lead).get(url).json()
    assert {a["employee"]["id"] for u in mine for a in u["appraisals"]} == {
        dept.sales.pk, dept.sales_mate.pk, dept.lead.pk}
    assert as_user(dept.sales).get(url).json()[0]["size"] == 1
    field_error(as_user(dept.director).get(url, {"unit": 10**9}), 400, "unit")
    assert as_user(dept.director).get(f"{API}/cycles/{10**9}/calibration").status_code == 404


# --- appraisals: who sees which ----------------------------------------------------------
def test_lists_follow_the_scope(as_user, dept):
    cycle = open_cycle(dept)
    everyone = {dept.sales.name, dept.sales_mate.name, dept.other_sales.name, dept.lead.name,
                dept.other_lead.name}
    url = f"{API}/appraisals"
    assert names(as_user(dept.director).get(url)) == everyone
    assert names(as_user(dept.hr).get(url)) == everyone
    assert names(as_user(dept.manager).get(url)) == everyone
    assert names(as_user(dept.lead).get(url)) == {dept.sales.name, dept.sales_mate.name,
                                                   dept.lead.name}
    assert names(as_user(dept.sales).get(url)) == {dept.sales.name}
    assert names(as_user(dept.finance).get(url)) == set()
    assert names(as_user(dept.outsider).get(url)) == set()
    mine = as_user(dept.sales).get(f"{API}/my").json()
    assert [a["cycle"]["id"] for a in mine["items"]] == [cycle.pk]
    assert mine["items"][0]["employee"]["id"] == dept.sales.pk
    assert as_user(dept.director).get(f"{API}/my").json()["count"] == 0


def test_appraisal_filters_and_ordering(as_user, dept):
    marks = {dept.sales.pk: "100", dept.sales_mate.pk: "90", dept.other_sales.pk: "20",
             dept.lead.pk: "70", dept.other_lead.pk: "60"}
    # totals 60, 54, 12, 42, 36 (visits count 40 %: none, 0 points)
    cycle = cycle_at(dept, "calibration", marks=marks,
                     grade_bands={"S": 55, "A": 45, "B": 35, "C": 20})
    client = as_user(dept.director)
    url = f"{API}/appraisals"
    assert names(client.get(url, {"cycle": cycle.pk, "unit": dept.team.pk})) == {
        dept.sales.name, dept.sales_mate.name, dept.lead.name}
    assert names(client.get(url, {"employee": dept.other_sales.pk})) == {dept.other_sales.name}
    assert names(client.get(url, {"q": "业务员"})) == {
        dept.sales.name, dept.sales_mate.name, dept.other_sales.name}
    # bottom 10 % of the division (rounded up: 1 person), plus every D
    assert names(client.get(url, {"flagged": "bottom"})) == {dept.other_sales.name}
    assert names(client.get(url, {"flagged": "elimination"})) == set()
    grade = appraisal_of(cycle, dept.sales).grade
    assert dept.sales.name in names(client.get(url, {"grade": grade}))
    ranked = client.get(url, {"ordering": "-total_score"}).json()["items"]
    assert [a["employee"]["id"] for a in ranked][:2] == [dept.sales.pk, dept.sales_mate.pk]
    assert ranked[0]["rank_department"] == 1 and ranked[0]["total_score"] is not None
    by_name = client.get(url, {"ordering": "employee"}).json()["items"]
    assert [a["employee"]["name"] for a in by_name] == sorted(a["employee"]["name"]
                                                              for a in by_name)
    field_error(client.get(url, {"cycle": 10**9}), 400, "cycle")
    field_error(client.get(url, {"unit": 10**9}), 400, "unit")
    field_error(client.get(url, {"employee": 10**9}), 400, "employee")
    field_error(client.get(url, {"flagged": "top"}), 422, "flagged")
    field_error(client.get(url, {"ordering": "salary"}), 422, "ordering")


def test_detail_has_lines_with_their_explanation_and_the_plan(as_user, dept):
    cycle = cycle_at(dept, "calibration")
    appraisal = appraisal_of(cycle, dept.sales)
    response = as_user(dept.lead).get(f"{API}/appraisals/{appraisal.pk}")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert [line["kind"] for line in data["lines"]] == ["kpi", "manual", "manual"]
    kpi, attitude, _teamwork = data["lines"]
    assert kpi["kpi_code"] == "visits" and kpi["explain_url"]
    assert kpi["target"] == "60.00" and kpi["weight"] == "40.00"
    assert attitude["explain_url"] is None and attitude["actual"] == "80.00"
    assert attitude["points"] == "80.00" and data["total_score"] is not None
    assert data["improvements"] == [] and data["reviewer"]["id"] == dept.lead.pk
    assert data["may"]["calibrate"] is True and data["may"]["self_assess"] is False
    assert as_user(dept.sales).get(f"{API}/appraisals/{appraisal.pk}").status_code == 200
    for outsider in (dept.sales_mate, dept.other_lead, dept.finance, dept.outsider):
        got = as_user(outsider).get(f"{API}/appraisals/{appraisal.pk}")
        assert got.status_code == 404, outsider
    assert as_user(dept.director).get(f"{API}/appraisals/{10**9}").status_code == 404


# --- the employee and the reviewer --------------------------------------------------------
def test_self_assessment(as_user, dept):
    cycle = cycle_at(dept, "self_assessment")
    appraisal = appraisal_of(cycle, dept.sales)
    url = f"{API}/appraisals/{appraisal.pk}/self-assessment"
    client = as_user(dept.sales)
    saved = post(client, url, {"points": {"1": 90}, "comment": "努力"})
    assert saved.status_code == 200, saved.json()
    assert saved.json()["lines"][1]["self_points"] == "90.00"
    assert saved.json()["self_comment"] == "努力" and saved.json()["self_submitted_at"] is None
    field_error(post(client, url, {"points": {"1": 90}, "submit": True}), 400, "points.2")
    field_error(post(client, url, {"points": {"0": 90}}), 400, "points.0")  # a KPI line
    field_error(post(client, url, {"points": {"1": "100.5"}}), 400, "points.1")
    field_error(post(client, url, {"points": {"1": -1}}), 400, "points.1")
    bad_key = post(client, url, {"points": {"x": 1}})
    assert bad_key.status_code == 422 and "points.x.[key]" in bad_key.json()["errors"]
    handed = post(client, url, {"points": {"1": 90, "2": "85.5"}, "submit": True})
    assert handed.status_code == 200 and handed.json()["self_submitted_at"]
    # someone else's: the lead may not (403), a colleague does not see it (404)
    assert post(as_user(dept.lead), url, {"points": {}}).status_code == 403
    assert post(as_user(dept.sales_mate), url, {"points": {}}).status_code == 404
    advance_to(cycle, dept, "manager_review")
    field_error(post(client, url, {"points": {"1": 50}}), 409, "status")
    assert Appraisal.objects.get(pk=appraisal.pk).lines.get(sort_order=1).self_points == 90


def test_review_by_the_lead_not_by_the_salesperson(as_user, dept):
    cycle = cycle_at(dept, "self_assessment")
    appraisal = appraisal_of(cycle, dept.sales)
    url = f"{API}/appraisals/{appraisal.pk}/review"
    body = {"points": {"1": 70, "2": "90"}, "comment": "继续努力"}
    field_error(post(as_user(dept.lead), url, body), 409, "status")
    advance_to(cycle, dept, "manager_review")
    assert post(as_user(dept.sales), url, body).status_code == 403  # their own
    mate = appraisal_of(cycle, dept.sales_mate)
    assert post(as_user(dept.sales), f"{API}/appraisals/{mate.pk}/review",
                body).status_code == 404  # a colleague's: not in their scope
    assert post(as_user(dept.other_lead), url, body).status_code == 404
    lead = as_user(dept.lead)
    field_error(post(lead, url, {"points": {"1": 70}}), 400, "points.2")
    field_error(post(lead, url, {"points": {"1": 70, "2": "100.01"}}), 400, "points.2")
    field_error(post(lead, url, {}), 422, "points")
    reviewed = post(lead, url, body)
    assert reviewed.status_code == 200, reviewed.json()
    data = reviewed.json()
    assert data["reviewed_at"] and data["review_comment"] == "继续努力"
    assert data["manual_score"] == "48.00"  # 70 × 30 % + 90 × 30 %
    assert data["total_score"] is not None and data["score_grade"]
    # the manager (a head above) and the director may review too
    assert post(as_user(dept.manager), url, body).status_code == 200
    lead_appraisal = appraisal_of(cycle, dept.lead)
    assert post(lead, f"{API}/appraisals/{lead_appraisal.pk}/review",
                body).status_code == 403  # their own


def test_calibration_of_a_grade(as_user, dept):
    cycle = cycle_at(dept, "calibration")
    appraisal = appraisal_of(cycle, dept.sales)
    url = f"{API}/appraisals/{appraisal.pk}/calibrate"
    by_score = appraisal.score_grade
    other = "S" if by_score != "S" else "A"
    field_error(post(as_user(dept.director), url, {"grade": other}), 400, "reason")
    field_error(post(as_user(dept.director), url, {"grade": "E"}), 422, "grade")
    assert post(as_user(dept.sales), url, {"grade": other, "reason": "x"}).status_code == 403
    assert post(as_user(dept.other_lead), url, {"grade": other,
                                                 "reason": "x"}).status_code == 404
    done = post(as_user(dept.lead), url, {"grade": other, "reason": "大客户突破"})
    assert done.status_code == 200, done.json()
    assert done.json()["grade"] == other and done.json()["grade_reason"] == "大客户突破"
    assert done.json()["score_grade"] == by_score
    again = post(as_user(dept.hr), url, {"grade": by_score})
    assert again.json()["grade"] == by_score and again.json()["grade_reason"] == ""
    advance_to(AppraisalCycle.objects.get(), dept, "approved")
    field_error(post(as_user(dept.director), url, {"grade": other, "reason": "晚了"}), 409,
                "status")


def test_interview_and_both_signatures(as_user, dept):
    from bizdept.appraisal import services

    from .factories_api import marks_for

    cycle = cycle_at(dept, "manager_review")
    appraisal = appraisal_of(cycle, dept.sales)
    services.appraisal_review(appraisal=appraisal, by=dept.lead.user,
                              points=marks_for(appraisal), comment="")
    base = f"{API}/appraisals/{appraisal.pk}"
    lead = as_user(dept.lead)
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    assert post(lead, f"{base}/interview", {"on": yesterday, "notes": "谈过"}).status_code == 200
    field_error(post(lead, f"{base}/interview", {"on": tomorrow, "notes": "谈过"}), 400, "on")
    field_error(post(lead, f"{base}/interview", {"on": yesterday, "notes": "  "}), 400,
                "notes")
    field_error(post(lead, f"{base}/interview", {"on": "2026-13-01", "notes": "x"}), 422, "on")
    sales = as_user(dept.sales)
    assert post(sales, f"{base}/interview", {"on": yesterday, "notes": "我"}).status_code == 403
    signed = post(sales, f"{base}/sign")
    assert signed.status_code == 200 and signed.json()["employee_signed_at"]
    field_error(post(sales, f"{base}/sign"), 409, "signature")
    both = post(lead, f"{base}/sign")
    assert both.json()["reviewer_signed_at"] and both.json()["interview_notes"] == "谈过"
    assert post(as_user(dept.manager), f"{base}/sign").status_code == 403
    # a changed interview asks both again
    changed = post(lead, f"{base}/interview", {"on": yesterday, "notes": "补充"})
    assert changed.json()["employee_signed_at"] is None
    mate = appraisal_of(cycle, dept.sales_mate)  # not reviewed yet
    field_error(post(lead, f"{API}/appraisals/{mate.pk}/interview",
                     {"on": yesterday, "notes": "x"}), 400, "on")
    field_error(post(as_user(dept.sales_mate), f"{API}/appraisals/{mate.pk}/sign"), 400,
                "interview_on")


def test_improvement_plan(as_user, dept):
    cycle = cycle_at(dept, "calibration")
    appraisal = appraisal_of(cycle, dept.sales)
    url = f"{API}/appraisals/{appraisal.pk}/improvements"
    due = (TODAY() + datetime.timedelta(days=30)).isoformat()
    body = {"action": "每周拜访十家客户", "owner": dept.sales.pk, "due_on": due}
    assert post(as_user(dept.sales), url, body).status_code == 403
    assert post(as_user(dept.sales_mate), url, body).status_code == 404
    lead = as_user(dept.lead)
    field_error(post(lead, url, {**body, "owner": dept.outsider.pk}), 400, "owner")
    field_error(post(lead, url, {**body, "owner": dept.director.pk}), 400, "owner")
    field_error(post(lead, url, {**body, "action": "  "}), 400, "action")
    field_error(post(lead, url, {**body, "due_on": "soon"}), 422, "due_on")
    added = post(lead, url, body)
    assert added.status_code == 201, added.json()
    item = added.json()
    assert item["owner"]["id"] == dept.sales.pk and item["status"] == "open"
    assert item["created_by"] == dept.lead.pk
    detail = as_user(dept.sales).get(f"{API}/appraisals/{appraisal.pk}").json()
    assert [i["action"] for i in detail["improvements"]] == ["每周拜访十家客户"]
    patch = f"{API}/improvements/{item['id']}"
    sales = as_user(dept.sales)
    field_error(sales.patch(patch, {"status": "dropped"}, content_type=JSON), 400, "note")
    field_error(sales.patch(patch, {"status": "lost"}, content_type=JSON), 422, "status")
    assert as_user(dept.sales_mate).patch(patch, {"status": "done"},
                                          content_type=JSON).status_code == 404
    assert as_user(dept.hr).patch(patch, {"status": "done"},
                                  content_type=JSON).status_code == 403
    done = sales.patch(patch, {"status": "done", "note": "完成"}, content_type=JSON)
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "done" and done.json()["done_on"] == \
        timezone.localdate().isoformat()
    assert ImprovementItem.objects.get().note == "完成"
    assert as_user(dept.director).patch(f"{API}/improvements/{10**9}", {"status": "done"},
                                        content_type=JSON).status_code == 404


def test_anonymous_is_refused(client, dept):
    cycle = open_cycle(dept)
    assert client.get(f"{API}/cycles").status_code == 401
    assert client.get(f"{API}/appraisals").status_code == 401
    assert post(client, f"{API}/cycles/{cycle.pk}/advance").status_code == 401


# --- query counts -------------------------------------------------------------------------
def _queries(client, url, params=None) -> tuple[int, int]:
    client.get(url, params or {})  # warm the session and the user's caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.json()
    return len(ctx.captured_queries), response.json()["count"]


@pytest.mark.parametrize(("url", "params", "rows"), [
    (f"{API}/cycles", {}, (1, 2)),
    (f"{API}/appraisals", {}, (5, 10)),
    (f"{API}/appraisals", {"unit": "team", "q": "业", "ordering": "employee"}, (2, 4)),
    (f"{API}/my", {}, (1, 2)),
])
def test_list_query_counts_do_not_grow_with_the_rows(as_user, dept, url, params, rows):
    params = {k: (dept.team.pk if v == "team" else v) for k, v in params.items()}
    viewer = dept.lead if url.endswith("/my") else dept.director
    client = as_user(viewer)
    open_cycle(dept, period="2026-Q1")
    few, n1 = _queries(client, url, params)
    open_cycle(dept, period="2026-Q2", templates=False)
    many, n2 = _queries(client, url, params)
    assert (n1, n2) == rows
    assert many == few


def test_calibration_query_count_does_not_grow(as_user, dept):
    from bizdept.org.tests.factories import make_employee

    cycle = cycle_at(dept, "calibration")
    client = as_user(dept.director)
    url = f"{API}/cycles/{cycle.pk}/calibration"
    few, _ = _calibration_queries(client, url)
    for i in range(4):
        make_employee(dept.other_team, name=f"新人{i}")
    big = cycle_at(dept, "calibration", period="2026-Q3", templates=False)
    many, size = _calibration_queries(client, f"{API}/cycles/{big.pk}/calibration")
    assert size == 9
    assert many == few


def _calibration_queries(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.json()
    return len(ctx.captured_queries), sum(u["size"] for u in response.json())


def test_refresh_reads_the_records_again_before_calibration(as_user, dept):
    from bizdept.customers import services as customer_services

    today = timezone.localdate()
    period = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    cycle = open_cycle(dept, period=period)
    appraisal = appraisal_of(cycle, dept.sales)
    url = f"{API}/appraisals/{appraisal.pk}"
    assert as_user(dept.sales).get(url).json()["lines"][0]["actual"] == "0.00"
    customer = customer_services.customer_create(by=dept.sales.user, name="刷新测试客户")
    customer_services.visit_log(customer=customer, by=dept.sales.user, summary="拜访")
    assert as_user(dept.sales).get(url).json()["lines"][0]["actual"] == "0.00"
    refreshed = post(as_user(dept.hr), f"{API}/cycles/{cycle.pk}/refresh")
    assert refreshed.status_code == 200, refreshed.json()
    assert as_user(dept.sales).get(url).json()["lines"][0]["actual"] == "1.00"


def test_another_department_does_not_read_the_cycle(as_user, dept):
    cycle = open_cycle(dept)
    client = as_user(dept.outsider)
    assert client.get(f"{API}/cycles/{cycle.pk}").status_code == 404
    assert client.get(f"{API}/cycles").json()["count"] == 0


def test_a_long_reason_reopens_the_cycle(as_user, dept):
    cycle = cycle_at(dept, "approved")
    reason = "复" * 200
    response = post(as_user(dept.director), f"{API}/cycles/{cycle.pk}/reopen",
                    {"reason": reason})
    assert response.status_code == 200
    assert response.json()["reopen_reason"] == reason
