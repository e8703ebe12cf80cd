"""Scorecard templates (PER-2), made through the services as a user would."""

from bizdept.appraisal import services
from bizdept.org.models import Position


def position(name="销售代表") -> Position:
    return Position.objects.get_or_create(name=name)[0]


def linear_item(weight="60", *, code="revenue", **extra) -> dict:
    return {"kind": "kpi", "kpi_code": code, "weight": weight, "target_source": "plan",
            "rule_kind": "linear", "rule_params": {"full_points": "100", "cap_percent": "120"},
            **extra}


def threshold_item(weight="20", *, code="visits", **extra) -> dict:
    return {"kind": "kpi", "kpi_code": code, "weight": weight, "target_source": "fixed",
            "fixed_target": "60", "rule_kind": "threshold",
            "rule_params": {"steps": [[40, 60], [60, 100]]}, **extra}


def manual_item(weight="20", *, name="工作态度", **extra) -> dict:
    return {"kind": "manual", "name": name, "weight": weight, "rule_kind": "table",
            "rule_params": {"rows": [[0, 60, 0], [60, 101, 100]]}, **extra}


def sample_items() -> list[dict]:
    return [linear_item(), threshold_item(), manual_item()]


def make_template(by, *, name="销售代表季度考核", position_=None, period_kind="quarterly",
                  items=None):
    return services.template_create(by=by.user, name=name, position=position_ or position(),
                                    period_kind=period_kind,
                                    items=sample_items() if items is None else items)
