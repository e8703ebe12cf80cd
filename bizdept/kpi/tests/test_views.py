"""The KPI library's pages (PER-1): the catalogue lists every figure with its definition;
the inputs page shows a year's market sizes and planned mix to everyone in the
department and lets HR or a director save each form, errors shown by the row."""

from decimal import Decimal

import pytest
from django.urls import reverse

from bizdept.kpi.measures import KPIS
from bizdept.kpi.models import MarketSize, PlannedMix
from bizdept.sales.models import ProductCategory

LIBRARY = "/kpi/"
INPUTS = "/kpi/inputs/"


def test_the_urls_are_wired():
    assert reverse("kpi:library") == LIBRARY and reverse("kpi:inputs") == INPUTS


def test_the_library_lists_every_kpi_with_its_definition(as_user, sales):
    response = as_user(sales).get(LIBRARY)
    assert response.status_code == 200
    html = response.content.decode()
    for code in KPIS:
        assert f'id="kpi-{code}"' in html
    rows = {k["code"]: k for k in response.context["kpis"]}
    assert rows["staff_turnover"]["higher_is_better"] is False
    assert rows["market_share"]["definition"].startswith("market_share (市场占有率) — ")
    assert rows["revenue"]["definition"].startswith("revenue (销售额) — the sum of")
    assert "\n" not in rows["product_mix"]["definition"]


def test_pages_need_a_login(client, db):
    for url in (LIBRARY, INPUTS):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response.url


@pytest.fixture
def categories(db):
    electric = ProductCategory.objects.create(name="电气")
    ProductCategory.objects.create(name="变频器", parent=electric)  # not offered: not top
    return {"electric": electric, "service": ProductCategory.objects.create(name="服务")}


def test_hr_saves_market_sizes_then_the_mix(as_user, hr, categories):
    client = as_user(hr)
    page = client.get(f"{INPUTS}?year=2026")
    assert page.status_code == 200 and b'id="save-sizes"' in page.content
    assert [r["category"].name for r in page.context["mix_rows"]] == ["服务", "电气"]
    saved = client.post(INPUTS, {"form": "sizes", "year": "2026",
                                 "region": ["上海", "杭州", ""], "size": ["1000", "500.5", ""]})
    assert saved.status_code == 302 and saved.url == f"{INPUTS}?year=2026"
    assert dict(MarketSize.objects.values_list("region", "size")) == {
        "上海": Decimal("1000.00"), "杭州": Decimal("500.50")}
    e, s = categories["electric"].pk, categories["service"].pk
    saved = client.post(INPUTS, {"form": "mix", "year": "2026", f"percent-{e}": "70",
                                 f"percent-{s}": "30"})
    assert saved.status_code == 302
    assert dict(PlannedMix.objects.values_list("category_id", "percent")) == {
        e: Decimal("70.00"), s: Decimal("30.00")}
    page = client.get(f"{INPUTS}?year=2026")
    assert page.context["mix_total"] == Decimal("100.00")
    assert [r["region"] for r in page.context["size_rows"]][:2] == ["上海", "杭州"]


def test_errors_show_by_the_row_and_nothing_is_saved(as_user, director, categories):
    client = as_user(director)
    page = client.post(INPUTS, {"form": "sizes", "year": "2026", "region": ["上海", "杭州"],
                                "size": ["1000", "-5"]})
    assert page.status_code == 200 and not MarketSize.objects.exists()
    rows = page.context["size_rows"]
    assert rows[0]["errors"] == [] and rows[1]["errors"] and rows[1]["size"] == "-5"
    e, s = categories["electric"].pk, categories["service"].pk
    page = client.post(INPUTS, {"form": "mix", "year": "2026", f"percent-{e}": "70",
                                f"percent-{s}": "20"})
    assert page.status_code == 200 and not PlannedMix.objects.exists()
    assert page.context["general_errors"] and b'id="input-errors"' in page.content
    assert {r["category"].pk: r["percent"] for r in page.context["mix_rows"]} == {
        e: "70", s: "20"}


def test_sales_reads_the_inputs_but_cannot_save(as_user, sales, categories):
    MarketSize.objects.create(region="上海", year=2026, size=Decimal(1000))
    client = as_user(sales)
    page = client.get(f"{INPUTS}?year=2026")
    assert page.status_code == 200 and b'id="save-sizes"' not in page.content
    assert b"\xe4\xb8\x8a\xe6\xb5\xb7" in page.content  # 上海
    denied = client.post(INPUTS, {"form": "sizes", "year": "2026", "region": [],
                                  "size": []})
    assert denied.status_code == 403
    assert MarketSize.objects.count() == 1


def test_a_bad_year_falls_back_to_a_valid_one(as_user, hr):
    client = as_user(hr)
    assert client.get(f"{INPUTS}?year=abc").status_code == 200
    assert client.get(f"{INPUTS}?year=99999").context["year"] == 2100
