"""The KPI inputs over the API (PER-1): everyone in the department reads a year's market
sizes and planned mix; HR or a director replaces them (403 for the rest); a bad row
answers 400 naming it, a malformed body 422; reads cost the same queries however many
rows."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bizdept.kpi.models import MarketSize, PlannedMix
from bizdept.sales.models import ProductCategory

SIZES = "/api/v1/kpi/market-sizes"
MIX = "/api/v1/kpi/planned-mix"


@pytest.fixture
def categories(db):
    electric = ProductCategory.objects.create(name="电气")
    return {"electric": electric,
            "drives": ProductCategory.objects.create(name="变频器", parent=electric),
            "service": ProductCategory.objects.create(name="服务")}


def put(client, url, items, year=2026):
    return client.put(f"{url}?year={year}", {"items": items}, content_type="application/json")


def test_hr_replaces_the_market_sizes_and_sales_reads_them(as_user, hr, sales, client):
    hr_client = as_user(hr)
    response = put(hr_client, SIZES, [{"region": "上海", "size": "1000000.50"},
                                      {"region": "杭州", "size": 500000}])
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["year"] == 2026
    assert [(i["region"], i["size"]) for i in body["items"]] == [
        ("上海", "1000000.50"), ("杭州", "500000.00")]
    client.force_login(sales.user)
    read = client.get(f"{SIZES}?year=2026")
    assert read.status_code == 200 and len(read.json()["items"]) == 2
    assert client.get(f"{SIZES}?year=2025").json() == {"year": 2025, "items": []}


def test_director_replaces_the_planned_mix(as_user, director, categories):
    c = categories
    response = put(as_user(director), MIX, [{"category": c["electric"].pk, "percent": "60"},
                                            {"category": c["service"].pk, "percent": 40}])
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["total"] == "100.00"
    assert [(i["category"]["name"], i["percent"]) for i in body["items"]] == [
        ("服务", "40.00"), ("电气", "60.00")]  # the catalogue's order (by name here)
    assert PlannedMix.objects.count() == 2


def test_others_read_but_cannot_write(as_user, sales, lead, finance, categories):
    MarketSize.objects.create(region="上海", year=2026, size=Decimal(1))
    for who in (sales, lead, finance):
        client = as_user(who)
        assert client.get(f"{SIZES}?year=2026").status_code == 200
        assert put(client, SIZES, []).status_code == 403
        assert put(client, MIX, [{"category": categories["service"].pk,
                                  "percent": "100"}]).status_code == 403
    assert MarketSize.objects.count() == 1 and not PlannedMix.objects.exists()


def test_anonymous_gets_401(client):
    assert client.get(f"{SIZES}?year=2026").status_code == 401
    assert client.get(f"{MIX}?year=2026").status_code == 401


@pytest.mark.parametrize(("url", "items", "status", "field"), [
    (SIZES, [{"region": "上海", "size": "0"}], 400, "items[0].size"),
    (SIZES, [{"region": "上海", "size": "1.234"}], 422, "items.0.size"),
    (SIZES, [{"region": "上海", "size": 1.234}], 400, "items[0].size"),
    (SIZES, [{"region": "上海", "size": "5"}, {"region": "上海", "size": "6"}], 400,
     "items[1].region"),
    (SIZES, [{"region": "", "size": "5"}], 422, "items.0.region"),
    (SIZES, [{"region": "上海", "size": "5", "colour": "red"}], 422, "items.0.colour"),
    (MIX, [{"category": "electric", "percent": "60"}, {"category": "service",
                                                       "percent": "30"}], 400, "items"),
    (MIX, [{"category": "drives", "percent": "100"}], 400, "items[0].category"),
    (MIX, [{"category": 10**9, "percent": "100"}], 400, "items[0].category"),
    (MIX, [{"category": "electric", "percent": "101"}], 400, "items[0].percent"),
    (MIX, [{"category": "electric", "percent": "-1"}], 422, "items.0.percent"),
])
def test_bad_input_answers_4xx_naming_the_field(as_user, hr, categories, url, items, status,
                                                field):
    for item in items:
        if item.get("category") in categories:
            item["category"] = categories[item["category"]].pk
    response = put(as_user(hr), url, items)
    assert response.status_code == status, response.json()
    assert field in response.json()["errors"], response.json()
    assert not MarketSize.objects.exists() and not PlannedMix.objects.exists()


@pytest.mark.parametrize("query", ["", "?year=abc", "?year=1999", "?year=2101"])
def test_the_year_is_required_and_in_range(as_user, hr, query):
    client = as_user(hr)
    assert client.get(f"{SIZES}{query}").status_code == 422
    assert put(client, MIX, []).status_code == 200  # an empty list clears a year
    assert client.put(f"{MIX}{query}", {"items": []},
                      content_type="application/json").status_code == 422


def test_reads_cost_the_same_however_many_rows(as_user, sales, categories):
    client = as_user(sales)

    def cost(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"{url}?year=2026").status_code == 200
        return len(ctx)

    few = cost(SIZES), cost(MIX)
    for n in range(20):
        MarketSize.objects.create(region=f"地区{n}", year=2026, size=Decimal(n + 1))
        category = ProductCategory.objects.create(name=f"类别{n}")
        PlannedMix.objects.create(year=2026, category=category, percent=Decimal(5))
    assert (cost(SIZES), cost(MIX)) == few
