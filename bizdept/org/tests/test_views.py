"""Org pages: they render, answer htmx with the fragment, and cost constant queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bizdept.org.tests.factories import make_employee, make_unit


def count_queries(client, url, **headers):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
    assert response.status_code == 200, response.status_code
    return len(ctx)


def test_home_shows_my_unit_head_colleagues_and_duties(as_user, dept):
    response = as_user(dept.sales).get(reverse("home"))
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("上海一所", "所长", "业务员乙", "负责客户开发"):
        assert text in html


def test_home_for_a_login_without_employee_explains_itself(client, django_user_model):
    user = django_user_model.objects.create_user("bare", password="x-pass-123")
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "empty-state" in response.content.decode()


def test_pages_need_sign_in(client, dept):
    for url in (reverse("home"), reverse("org:employee_list"), reverse("org:org_chart"),
                reverse("org:unit_detail", args=[dept.team.pk]), reverse("profile")):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_people_list_without_filters_shows_everyone_in_scope(as_user, dept):
    html = as_user(dept.lead).get(reverse("org:employee_list")).content.decode()
    assert "业务员甲" in html and "业务员乙" in html and "业务员丙" not in html
    assert "empty-state" not in html


def test_people_list_filters_and_sorts(as_user, dept):
    client = as_user(dept.director)
    url = reverse("org:employee_list")
    html = client.get(url, {"unit": dept.other_team.pk}).content.decode()
    assert "业务员丙" in html and "业务员甲" not in html
    html = client.get(url, {"q": "业务员", "sort": "-name"}).content.decode()
    assert html.index("业务员甲") < html.index("业务员乙") < html.index("业务员丙")
    html = client.get(url, {"role": "lead"}).content.decode()
    assert "所长" in html and "业务员甲" not in html


def test_people_list_ignores_unknown_sort_keys(as_user, dept):
    response = as_user(dept.director).get(reverse("org:employee_list"), {"sort": "user__password"})
    assert response.status_code == 200


def test_people_list_with_bad_filter_shows_the_error_not_a_crash(as_user, dept):
    response = as_user(dept.director).get(reverse("org:employee_list"), {"unit": "999999"})
    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()


def test_people_list_answers_htmx_with_the_table_only(as_user, dept):
    response = as_user(dept.director).get(reverse("org:employee_list"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<table" in html and "<nav class=\"navbar" not in html


def test_people_list_exports_the_filtered_rows_to_excel(as_user, dept):
    import io

    from openpyxl import load_workbook

    response = as_user(dept.director).get(reverse("org:employee_list"),
                                          {"unit": dept.team.pk, "export": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
                .iter_rows(values_only=True))
    assert rows[0][1] in ("Name", "姓名")
    assert sorted(r[1] for r in rows[1:]) == sorted(["所长", "业务员甲", "业务员乙"])


def test_people_list_empty_state(as_user, dept):
    response = as_user(dept.director).get(reverse("org:employee_list"), {"q": "无此人"})
    html = response.content.decode()
    assert "empty-state" in html


def test_org_chart_shows_the_tree(as_user, dept):
    html = as_user(dept.sales).get(reverse("org:org_chart")).content.decode()
    for name in ("经营部", "华东事业部", "上海一所", "杭州所"):
        assert name in html


def test_unit_detail_lists_only_members_in_scope(as_user, dept):
    html = as_user(dept.sales).get(reverse("org:unit_detail", args=[dept.team.pk])).content.decode()
    assert "业务员甲" in html and "业务员乙" not in html.split("Members you can see")[-1] \
        or "业务员乙" not in html


def test_employee_detail_history_tab_shows_changes(as_user, dept):
    from bizdept.org import services

    services.employee_update(employee=dept.sales, phone="13912345678", by=dept.hr)
    response = as_user(dept.lead).get(reverse("org:employee_detail", args=[dept.sales.pk]),
                                      {"tab": "history"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "13912345678" in html and "人事" in html


def test_unknown_unit_is_404(as_user, dept):
    assert as_user(dept.sales).get(reverse("org:unit_detail", args=[999999])).status_code == 404


# --- query counts: constant in the number of rows -------------------------------------
def _grow(dept, teams=3, per_team=6):
    for t in range(teams):
        team = make_unit(f"扩展所{t}", parent=dept.division)
        for _ in range(per_team):
            make_employee(team)


@pytest.mark.parametrize("url_name", ["org:employee_list", "org:org_chart", "home"])
def test_page_query_count_does_not_grow_with_rows(as_user, dept, url_name):
    client = as_user(dept.director)
    url = reverse(url_name)
    small = count_queries(client, url)
    _grow(dept)
    assert count_queries(client, url) == small


def test_people_list_fragment_and_export_query_count_constant(as_user, dept):
    client = as_user(dept.director)
    url = reverse("org:employee_list")
    small = (count_queries(client, url, HTTP_HX_REQUEST="true"),
             count_queries(client, url + "?export=xlsx"))
    _grow(dept)
    assert (count_queries(client, url, HTTP_HX_REQUEST="true"),
            count_queries(client, url + "?export=xlsx")) == small


def test_unit_detail_query_count_constant(as_user, dept):
    client = as_user(dept.director)
    url = reverse("org:unit_detail", args=[dept.division.pk])
    small = count_queries(client, url)
    _grow(dept)
    assert count_queries(client, url) == small


def test_history_tab_query_count_constant(as_user, dept):
    from bizdept.org import services

    client = as_user(dept.director)
    url = reverse("org:employee_detail", args=[dept.sales.pk]) + "?tab=history"
    services.employee_update(employee=dept.sales, phone="1", by=dept.hr)
    small = count_queries(client, url)
    for i in range(5):
        services.employee_update(employee=dept.sales, phone=str(i + 2), by=dept.hr)
    assert count_queries(client, url) == small


def test_unit_detail_charts_headcount_with_the_same_figures_as_its_table(as_user, dept):
    import json
    import re

    html = as_user(dept.director).get(
        reverse("org:unit_detail", args=[dept.division.pk])).content.decode()
    data = json.loads(re.search(r'id="headcount-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert data["yAxis"]["data"][::-1] == ["上海一所", "杭州所"]
    assert data["series"][0]["data"][::-1] == [3, 2]
    assert "vendor/echarts/echarts.min.js" in html
