"""The tracking, my-targets, rankings and records pages (TGT-5, 6), and their API."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from bizdept.kpi.measures import MEASURES
from bizdept.kpi.tests import records as r

from . import test_tracking as tracking_tests
from .test_tracking import OCT

D = datetime.date


@pytest.fixture
def october(db):
    tracking_tests.october_calendar()


@pytest.fixture
def revenue_plan(dept, october):
    return tracking_tests.revenue_setup(dept)
Q4 = {"since": D(2026, 10, 1), "until": D(2026, 12, 31)}


@pytest.mark.parametrize("persona", ["director", "manager", "lead", "sales", "finance", "hr"])
def test_pages_render_for_every_role(revenue_plan, dept, as_user, persona):
    client = as_user(getattr(dept, persona))
    for name in ("targets:tracking", "targets:my_targets", "targets:rankings"):
        response = client.get(reverse(name), {"metric": "revenue", "period": OCT})
        assert response.status_code == 200, name


def test_tracking_page_links_each_figure_to_its_records(revenue_plan, dept, as_user):
    client = as_user(dept.lead)
    response = client.get(reverse("targets:tracking"), {"metric": "revenue", "period": OCT})
    html = response.content.decode()
    assert 'id="tracking-table"' in html and "业务员甲" in html and "业务员丙" not in html
    link = MEASURES["revenue"].explain_url(since=D(2026, 10, 1), until=D(2026, 10, 31),
                                           employee=dept.sales)
    assert link.replace("&", "&amp;") in html
    fragment = client.get(reverse("targets:tracking"), {"metric": "revenue", "period": OCT},
                          HTTP_HX_REQUEST="true")
    assert fragment.content.decode().lstrip().startswith('<div id="report">')


def test_tracking_export_and_bad_input(revenue_plan, dept, as_user):
    client = as_user(dept.director)
    response = client.get(reverse("targets:tracking"),
                          {"metric": "revenue", "period": OCT, "export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert _sheet(response)[1][0] == "经营部"
    bad = client.get(reverse("targets:tracking"), {"metric": "revenue", "period": "2026-13"})
    assert bad.status_code == 200 and bad.context["report"] is None
    assert bad.context["form"].errors["period"]
    hidden = as_user(dept.lead).get(reverse("targets:tracking"),
                                    {"metric": "revenue", "period": OCT,
                                     "unit": dept.other_team.pk})
    assert hidden.status_code == 200 and "unit" in hidden.context["form"].errors


def test_rankings_page_highlights_who_is_behind(revenue_plan, dept, as_user):
    client = as_user(dept.director)
    response = client.get(reverse("targets:rankings"), {"metric": "revenue", "period": OCT})
    html, result = response.content.decode(), response.context["result"]
    assert html.count('class="table-danger behind"') == (
        sum(1 for x in [*result.people, *result.units] if x.behind))
    assert any(x.behind for x in result.people)
    export = client.get(reverse("targets:rankings"),
                        {"metric": "revenue", "period": OCT, "export": "xlsx"})
    assert export.status_code == 200
    assert _sheet(export)[1][:2] == [1, "业务员丙"]


def test_records_page_lists_exactly_the_payments_behind_collections(dept, as_user):
    mine = r.contract(dept.sales, total="900.00", signed_on=D(2026, 1, 1))
    theirs = r.contract(dept.sales_mate, total="900.00", signed_on=D(2026, 1, 1))
    paid = r.payment(mine, "300.10", D(2026, 10, 1))
    r.payment(mine, "-300.10", D(2026, 12, 31), reverses=paid)
    r.payment(mine, "50.00", D(2026, 12, 31))
    r.payment(mine, "70.00", D(2027, 1, 1))
    r.payment(theirs, "11.00", D(2026, 11, 1))
    url = MEASURES["collections"].explain_url(**Q4, employee=dept.sales)
    response = as_user(dept.sales).get(url)
    assert response.status_code == 200
    assert response.context["total"] == Decimal("50.00")
    assert len(response.context["rows"]) == 3
    # a salesperson asking for a colleague's records sees none of them
    other = as_user(dept.sales).get(MEASURES["collections"].explain_url(
        **Q4, employee=dept.sales_mate))
    assert other.context["total"] == Decimal("0.00") and other.context["rows"] == []
    team = as_user(dept.lead).get(MEASURES["collections"].explain_url(**Q4, unit=dept.team))
    assert team.context["total"] == Decimal("61.00")


def test_records_page_for_visits_and_bad_links(dept, as_user):
    r.visit(dept.sales, r.local(2026, 10, 1, 0, 0))
    r.visit(dept.sales, r.local(2026, 9, 30, 23, 59))
    client = as_user(dept.sales)
    response = client.get(MEASURES["visits"].explain_url(**Q4, employee=dept.sales))
    assert response.context["total"] == Decimal(1)
    for url in (reverse("targets:records", args=["profit"]) + "?since=2026-10-01&until=2026-10-31",
                reverse("targets:records", args=["visits"]) + "?since=2026-10-31",
                reverse("targets:records", args=["visits"]) + "?since=2026-10-31&until=2026-10-01"):
        assert client.get(url).status_code == 404


def _sheet(response) -> list[list]:
    import io

    from openpyxl import load_workbook

    content = b"".join(response.streaming_content)
    return [list(row) for row in load_workbook(io.BytesIO(content)).active.iter_rows(
        values_only=True)]


# --- API ----------------------------------------------------------------------------------
def test_api_tracking_rankings_and_my_targets(revenue_plan, dept, as_user):
    client = as_user(dept.manager)
    response = client.get("/api/v1/targets/tracking",
                          {"metric": "revenue", "period": OCT, "as_of": "2026-10-14"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["unit"]["id"] == dept.division.pk and body["working_days"] == 18
    me = next(row for row in body["rows"]
              if row["employee"] and row["employee"]["name"] == "业务员甲")
    assert me["pace"] == "behind" and me["daily_needed"] == "1083.33"
    ranking = client.get("/api/v1/targets/rankings",
                         {"metric": "revenue", "period": OCT, "by": "actual",
                          "as_of": "2026-10-14"})
    assert ranking.status_code == 200
    assert ranking.json()["people"][0]["row"]["employee"]["name"] == "业务员甲"
    mine = as_user(dept.sales).get("/api/v1/targets/my", {"year": 2026, "as_of": "2026-10-14"})
    assert mine.status_code == 200
    assert [m["metric"] for m in mine.json()["metrics"]][0] == "revenue"
    assert mine.json()["metrics"][0]["periods"][2]["period"] == OCT


def test_api_refuses_bad_input_and_hides_other_units(revenue_plan, dept, as_user):
    client = as_user(dept.lead)
    assert client.get("/api/v1/targets/tracking",
                      {"metric": "profit", "period": OCT}).status_code == 422
    assert client.get("/api/v1/targets/tracking",
                      {"metric": "revenue", "period": "2026-13"}).status_code == 422
    old = client.get("/api/v1/targets/tracking", {"metric": "revenue", "period": "1999"})
    assert old.status_code == 400 and "period" in old.json()["errors"]
    assert client.get("/api/v1/targets/tracking", {"metric": "revenue", "period": OCT,
                                                   "unit": dept.other_team.pk}
                      ).status_code == 404
    assert client.get("/api/v1/targets/rankings", {"metric": "revenue", "period": OCT,
                                                   "by": "luck"}).status_code == 422
    assert client.get("/api/v1/targets/my", {"year": 1999}).status_code == 422


@pytest.mark.parametrize("url", ["/targets/tracking/", "/api/v1/targets/tracking",
                                 "/api/v1/targets/rankings", "/targets/tracking/rankings/"])
def test_pages_and_api_cost_the_same_queries_for_more_people(revenue_plan, dept, as_user,
                                                            url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bizdept.org.tests.factories import make_employee

    client = as_user(dept.director)
    query = {"metric": "revenue", "period": OCT}

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, query).status_code == 200
        return len(captured)

    count()
    before = count()
    for n in range(12):
        person = make_employee(dept.other_team if n % 2 else dept.team)
        tracking_tests.cell(revenue_plan, person.unit, person, "100")
        r.contract(person, total="10.00", signed_on=D(2026, 10, 12))
    assert count() == before
