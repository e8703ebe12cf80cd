"""PER-2 scorecard templates over the API: 201/200 for HR and directors, 403 for the rest,
400 naming the field, 409 on a stale version, 422 for a malformed body; the list costs
the same queries however many templates it holds."""

import pytest

from bizdept.appraisal.models import ScorecardTemplate

from .factories import linear_item, make_template, manual_item, position, sample_items

URL = "/api/v1/appraisal/templates"


def body(**extra):
    return {"name": "销售代表年度考核", "position": position().pk, "period_kind": "annual",
            "items": sample_items(), **extra}


def test_director_creates_reads_and_updates_a_template(as_user, director):
    client = as_user(director)
    created = client.post(URL, body(), content_type="application/json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert [i["kind"] for i in data["items"]] == ["kpi", "kpi", "manual"]
    assert data["items"][0]["weight"] == "60.00" and data["version"] == 1
    url = f"{URL}/{data['id']}"
    assert client.get(url).json()["name"] == "销售代表年度考核"
    changed = client.put(url, {"notes": "新", "items": [manual_item("100")], "version": 1},
                         content_type="application/json")
    assert changed.status_code == 200, changed.json()
    assert changed.json()["version"] == 2 and len(changed.json()["items"]) == 1
    stale = client.put(url, {"notes": "旧", "version": 1}, content_type="application/json")
    assert stale.status_code == 409 and "version" in stale.json()["errors"]


def test_sales_reads_but_cannot_write(as_user, director, sales):
    template = make_template(director)
    client = as_user(sales)
    assert client.get(f"{URL}/{template.pk}").status_code == 200
    assert client.post(URL, body(), content_type="application/json").status_code == 403
    put = client.put(f"{URL}/{template.pk}", {"name": "改"}, content_type="application/json")
    assert put.status_code == 403
    assert ScorecardTemplate.objects.get().name == template.name


@pytest.mark.parametrize(("items", "status", "field"), [
    ([linear_item("60"), manual_item("30")], 400, "items"),
    ([linear_item("100", rule_params={"steps": []}, rule_kind="threshold")], 400,
     "items[0].rule_params.steps"),
    ([linear_item("100", code="nope")], 400, "items[0].kpi_code"),
    ([linear_item("101")], 400, "items[0].weight"),
    ([linear_item("100", colour="red")], 422, "items.0.colour"),
    ([], 422, "items"),
])
def test_bad_input_answers_4xx_naming_the_field(as_user, hr, items, status, field):
    response = as_user(hr).post(URL, body(items=items), content_type="application/json")
    assert response.status_code == status, response.json()
    assert field in response.json()["errors"], response.json()
    assert not ScorecardTemplate.objects.exists()


def test_unknown_position_and_template(as_user, director):
    client = as_user(director)
    response = client.post(URL, body(position=10**9), content_type="application/json")
    assert response.status_code == 400 and "position" in response.json()["errors"]
    assert client.get(f"{URL}/{10**9}").status_code == 404
    assert client.put(f"{URL}/{10**9}", {}, content_type="application/json").status_code == 404


def test_anonymous_is_refused(client, db):
    assert client.get(URL).status_code == 401


def test_list_query_count_does_not_grow(as_user, director):
    client = as_user(director)
    make_template(director)
    client.get(URL)  # warm the session and the user's caches

    def count() -> tuple[int, int]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            response = client.get(URL)
        assert response.status_code == 200
        return len(ctx.captured_queries), response.json()["count"]

    few, n1 = count()
    for i in range(5):
        make_template(director, name=f"模板{i}", position_=position(f"岗位{i}"))
    many, n2 = count()
    assert (n1, n2) == (1, 6)
    assert many == few
