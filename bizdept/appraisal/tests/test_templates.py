"""PER-2 scorecard templates through the services: weights total exactly 100, every item
checked and named, HR or a director only, nothing half-written."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from bizdept.appraisal import selectors, services
from bizdept.appraisal.models import ScorecardItem, ScorecardTemplate
from bizdept.core.errors import Conflict, DomainError

from .factories import linear_item, make_template, manual_item, position, threshold_item


def refused(call, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(**kwargs)
    return caught.value


def create(by, items, **extra):
    return dict(by=by.user, name="模板", position=position(), period_kind="quarterly",
                items=items, **extra)


def test_director_creates_a_template_with_kpi_and_manual_items(director):
    template = make_template(director)
    assert template.version == 1 and template.is_active
    items = list(template.items.order_by("sort_order"))
    assert [i.kind for i in items] == ["kpi", "kpi", "manual"]
    assert sum(i.weight for i in items) == Decimal("100")
    assert items[0].name  # a KPI item without a name takes its measure's
    assert items[0].rule_params == {"full_points": "100.00", "cap_percent": "120.00",
                                    "higher_is_better": True}
    assert items[1].fixed_target == Decimal("60.00")
    assert template.history.count() == 1
    assert ScorecardItem.history.filter(template_id=template.pk).count() == 3


def test_hr_may_keep_templates_too(hr):
    assert make_template(hr).pk


@pytest.mark.parametrize("persona", ["manager", "lead", "sales", "finance"])
def test_others_cannot_write_templates(dept, persona):
    with pytest.raises(PermissionDenied):
        make_template(getattr(dept, persona))
    template = make_template(dept.director)
    with pytest.raises(PermissionDenied):
        services.template_update(template=template, by=getattr(dept, persona).user,
                                 name="改")
    with pytest.raises(PermissionDenied):
        services.template_deactivate(template=template, by=getattr(dept, persona).user)


def test_weights_not_totalling_100_are_refused_naming_the_total(director):
    error = refused(services.template_create, **create(director, [
        linear_item("60"), manual_item("39.5")]))
    assert list(error.errors) == ["items"]
    assert "99.5" in error.errors["items"][0]
    assert not ScorecardTemplate.objects.exists()


@pytest.mark.parametrize(("item", "field"), [
    (linear_item(rule_params={"full_points": 100, "cap_percent": 50}),
     "items[0].rule_params.cap_percent"),
    (threshold_item(rule_params={"steps": [[1, 10], [2, 20], [3, "x"]]}),
     "items[0].rule_params.steps[2].points"),
    (linear_item(code="no_such_kpi"), "items[0].kpi_code"),
    (linear_item(target_source="fixed"), "items[0].fixed_target"),
    (linear_item(target_source=None), "items[0].target_source"),
    (linear_item(fixed_target="5"), "items[0].fixed_target"),
    (manual_item(kpi_code="revenue"), "items[0].kpi_code"),
    (manual_item(target_source="plan"), "items[0].target_source"),
    (manual_item(name=" "), "items[0].name"),
    (linear_item("0"), "items[0].weight"),
    (linear_item("10.005"), "items[0].weight"),
    (linear_item(rule_kind="curve"), "items[0].rule_kind"),
    (linear_item(colour="red"), "items[0]"),
])
def test_a_bad_item_is_refused_naming_it(director, item, field):
    item = {k: v for k, v in item.items() if v is not None}
    error = refused(services.template_create, **create(director, [item]))
    assert field in error.errors, error.errors
    assert not ScorecardTemplate.objects.exists() and not ScorecardItem.objects.exists()


def test_kpi_codes_are_read_when_the_item_is_checked(director, monkeypatch):
    from bizdept.kpi import measures

    monkeypatch.setitem(measures.MEASURES, "complaint_resolution",
                        measures.MEASURES["visits"])
    assert make_template(director, items=[linear_item("100", code="complaint_resolution")])


def test_update_replaces_the_items_and_raises_the_version(director):
    template = make_template(director)
    updated = services.template_update(template=template, by=director.user, name="新名称",
                                       items=[manual_item("100")], version=1)
    assert updated.version == 2 and updated.name == "新名称"
    assert list(template.items.values_list("kind", flat=True)) == ["manual"]
    with pytest.raises(Conflict):
        services.template_update(template=template, by=director.user, notes="x", version=1)


def test_a_refused_update_changes_nothing(director):
    template = make_template(director)
    before = list(template.items.values_list("pk", "weight"))
    error = refused(services.template_update, template=template, by=director.user,
                    name="新名称", items=[manual_item("50")])
    assert "items" in error.errors
    template.refresh_from_db()
    assert template.name == "销售代表季度考核" and template.version == 1
    assert list(template.items.values_list("pk", "weight")) == before


def test_same_name_for_the_same_position_is_a_conflict(director):
    make_template(director)
    with pytest.raises(Conflict):
        make_template(director)
    assert make_template(director, position_=position("销售经理")).pk


def test_deactivate_keeps_the_template_readable(director, sales):
    template = services.template_deactivate(template=make_template(director),
                                            by=director.user)
    assert not template.is_active and template.version == 2
    assert selectors.template_detail(user=sales.user, pk=template.pk).pk == template.pk


def test_everyone_in_the_department_reads_templates(director, sales, dept):
    template = make_template(director)
    assert list(selectors.template_list(user=sales.user)) == [template]
    from django.contrib.auth.models import AnonymousUser

    assert not selectors.template_list(user=AnonymousUser()).exists()
