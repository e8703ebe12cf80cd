"""Entering the KPI inputs (PER-1): HR or a director replaces a year's market sizes or
planned mix at once; every bad row is refused naming its field, and nothing is written;
anyone else is refused; every change keeps who made it."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from bizdept.core.errors import DomainError
from bizdept.kpi import services
from bizdept.kpi.models import MarketSize, PlannedMix
from bizdept.sales.models import ProductCategory


@pytest.fixture
def categories(db):
    electric = ProductCategory.objects.create(name="电气")
    return {"electric": electric,
            "drives": ProductCategory.objects.create(name="变频器", parent=electric),
            "service": ProductCategory.objects.create(name="服务"),
            "software": ProductCategory.objects.create(name="软件")}


def test_hr_replaces_a_years_market_sizes_and_history_names_them(hr, director):
    services.market_sizes_set(by=hr.user, year=2026, items=[
        {"region": " 上海 ", "size": "1000000"}, {"region": "杭州", "size": 500000.5}])
    services.market_sizes_set(by=director.user, year=2025, items=[
        {"region": "上海", "size": "800000"}])
    rows = services.market_sizes_set(by=director.user, year=2026, items=[
        {"region": "上海", "size": "1200000.00"}, {"region": "苏州", "size": "300000"}])
    assert [(r.region, r.size) for r in rows] == [("上海", Decimal("1200000.00")),
                                                  ("苏州", Decimal("300000.00"))]
    assert set(MarketSize.objects.filter(year=2026).values_list("region", flat=True)) == {
        "上海", "苏州"}  # 杭州 removed
    assert MarketSize.objects.filter(year=2025).count() == 1  # another year: untouched
    shanghai = MarketSize.objects.get(year=2026, region="上海")
    assert [h.history_user for h in shanghai.history.order_by("history_date")] == [
        hr.user, director.user]
    removed = MarketSize.history.get(region="杭州", history_type="-")
    assert removed.history_user == director.user
    services.market_sizes_set(by=hr.user, year=2026, items=[])
    assert not MarketSize.objects.filter(year=2026).exists()


@pytest.mark.parametrize(("items", "field", "code"), [
    ([{"region": "上海", "size": "-5"}], "items[0].size", "range"),
    ([{"region": "上海", "size": "0"}], "items[0].size", "range"),
    ([{"region": "上海", "size": "1.234"}], "items[0].size", "decimals"),
    ([{"region": "上海", "size": "abc"}], "items[0].size", "invalid"),
    ([{"region": "上海", "size": "1e20"}], "items[0].size", "range"),
    ([{"region": "上海"}], "items[0].size", "required"),
    ([{"region": "  ", "size": "5"}], "items[0].region", "required"),
    ([{"region": "区" * 51, "size": "5"}], "items[0].region", "too_long"),
    ([{"region": "上海", "size": "5"}, {"region": "上海", "size": "6"}], "items[1].region",
     "duplicate"),
    ([{"region": "上海", "size": "5", "colour": "red"}], "items[0]", "unknown"),
    ("上海", "items", "invalid"),
])
def test_bad_market_sizes_name_their_field_and_change_nothing(hr, items, field, code):
    MarketSize.objects.create(region="北京", year=2026, size=Decimal(7))
    with pytest.raises(DomainError) as exc:
        services.market_sizes_set(by=hr.user, year=2026, items=items)
    assert field in exc.value.errors and exc.value.code == code
    assert list(MarketSize.objects.values_list("region", "year")) == [("北京", 2026)]


@pytest.mark.parametrize("year", [None, "", "abc", 1999, 2101, True])
def test_the_year_is_checked(hr, year):
    with pytest.raises(DomainError) as exc:
        services.market_sizes_set(by=hr.user, year=year, items=[])
    assert "year" in exc.value.errors


def test_only_hr_or_a_director_writes_the_inputs(dept, categories):
    for who in (dept.sales, dept.lead, dept.manager, dept.finance, dept.outsider):
        with pytest.raises(PermissionDenied):
            services.market_sizes_set(by=who.user, year=2026,
                                      items=[{"region": "上海", "size": "1"}])
        with pytest.raises(PermissionDenied):
            services.planned_mix_set(by=who.user, year=2026, items=[
                {"category": categories["service"].pk, "percent": "100"}])
    assert not MarketSize.objects.exists() and not PlannedMix.objects.exists()
    assert services.can_manage_inputs(dept.hr.user)
    assert services.can_manage_inputs(dept.director.user)


def test_hr_replaces_a_years_planned_mix(hr, director, categories):
    c = categories
    services.planned_mix_set(by=hr.user, year=2026, items=[
        {"category": c["electric"].pk, "percent": "60"},
        {"category": c["service"], "percent": 25.5},
        {"category": c["software"].pk, "percent": "14.50"}])
    rows = services.planned_mix_set(by=director.user, year=2026, items=[
        {"category": c["service"].pk, "percent": "40"},
        {"category": c["electric"].pk, "percent": "60.00"}])
    assert [(r.category, r.percent) for r in rows] == [
        (c["service"], Decimal("40.00")), (c["electric"], Decimal("60.00"))]
    assert dict(PlannedMix.objects.values_list("category__name", "percent")) == {
        "服务": Decimal("40.00"), "电气": Decimal("60.00")}
    electric = PlannedMix.objects.get(category=c["electric"])
    assert electric.history.count() == 1  # unchanged: not written again
    assert PlannedMix.objects.get(category=c["service"]).history.latest().history_user \
        == director.user
    services.planned_mix_set(by=hr.user, year=2026, items=[])
    assert not PlannedMix.objects.exists()


@pytest.mark.parametrize(("rows", "field", "code"), [
    ([("electric", "60"), ("service", "30")], "items", "total"),         # 90
    ([("electric", "60"), ("service", "40.01")], "items", "total"),      # 100.01
    ([("electric", "100"), ("service", "0")], "items[1].percent", "range"),
    ([("electric", "110")], "items[0].percent", "range"),
    ([("electric", "-10"), ("service", "110")], "items[0].percent", "range"),
    ([("electric", "99.999"), ("service", "0.001")], "items[0].percent", "decimals"),
    ([("drives", "100")], "items[0].category", "not_top_level"),
    ([("electric", "50"), ("electric", "50")], "items[1].category", "duplicate"),
    ([(10**9, "100")], "items[0].category", "unknown"),
    ([("1", "100")], "items[0].category", "unknown"),
])
def test_bad_planned_mix_names_its_field_and_changes_nothing(hr, categories, rows, field,
                                                             code):
    PlannedMix.objects.create(year=2026, category=categories["software"],
                              percent=Decimal(100))
    items = [{"category": categories[name].pk if name in categories else name,
              "percent": percent} for name, percent in rows]
    with pytest.raises(DomainError) as exc:
        services.planned_mix_set(by=hr.user, year=2026, items=items)
    assert field in exc.value.errors and exc.value.code == code, exc.value.errors
    assert list(PlannedMix.objects.values_list("category__name", "percent")) == [
        ("软件", Decimal("100.00"))]


def test_messages_are_in_the_users_language(hr, categories):
    from django.utils import translation

    with translation.override("en"), pytest.raises(DomainError) as exc:
        services.planned_mix_set(by=hr.user, year=2026, items=[
            {"category": categories["service"].pk, "percent": "50"}])
    assert "100" in str(exc.value.message) and "50" in str(exc.value.message)
