"""PER-2 scoring rules: linear (capped, never negative, monotone), threshold steps, tables
of half-open ranges; 2 decimals, half up (as stated in ``bizdept.appraisal.scoring``)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bizdept.appraisal.scoring import (
    score_linear,
    score_rule,
    score_table,
    score_threshold,
    validate_rule,
)
from bizdept.core.errors import DomainError

CENT = Decimal("0.01")
values = st.decimals(min_value=-10**6, max_value=10**9, places=2)
targets = st.decimals(min_value=0, max_value=10**9, places=2)
full_points = st.decimals(min_value=0, max_value=1000, places=2)
caps = st.one_of(st.none(), st.decimals(min_value=100, max_value=1000, places=2))


def two_places(x: Decimal) -> bool:
    return x == x.quantize(CENT) and x.as_tuple().exponent == -2


# --- linear ---------------------------------------------------------------------------
@given(a=values, b=values, target=targets, full=full_points, cap=caps, higher=st.booleans())
def test_linear_is_monotone_capped_and_never_negative(a, b, target, full, cap, higher):
    low, high = sorted((a, b))
    at_low = score_linear(low, target, full_points=full, cap_percent=cap,
                          higher_is_better=higher)
    at_high = score_linear(high, target, full_points=full, cap_percent=cap,
                           higher_is_better=higher)
    assert (at_low <= at_high) if higher else (at_low >= at_high)
    for points in (at_low, at_high):
        assert points >= 0 and two_places(points)
        effective_cap = cap if cap is not None else (None if higher else Decimal(100))
        if effective_cap is not None:
            assert points <= (full * effective_cap / 100).quantize(CENT)


def test_linear_hand_cases():
    assert score_linear(Decimal("80"), Decimal("100"), full_points=Decimal("100")) == \
        Decimal("80.00")
    assert score_linear(200, 100, full_points=100, cap_percent=120) == Decimal("120.00")
    assert score_linear(200, 100, full_points=100) == Decimal("200.00")  # no cap
    assert score_linear(-5, 100, full_points=100) == Decimal("0.00")
    assert score_linear(1, 3, full_points=100) == Decimal("33.33")
    assert score_linear(Decimal("2.0"), Decimal("3"), full_points=Decimal("0.01")) == \
        Decimal("0.01")  # 0.00666… rounds half up
    # lower is better: spending under budget earns more, up to the cap (100 % without one)
    assert score_linear(80, 100, full_points=100, higher_is_better=False) == Decimal("100.00")
    assert score_linear(80, 100, full_points=100, cap_percent=120,
                        higher_is_better=False) == Decimal("120.00")
    assert score_linear(125, 100, full_points=100, higher_is_better=False) == Decimal("80.00")
    assert score_linear(0, 100, full_points=50, cap_percent=110,
                        higher_is_better=False) == Decimal("55.00")
    # a target of 0
    assert score_linear(0, 0, full_points=100, cap_percent=120) == Decimal("100.00")
    assert score_linear(5, 0, full_points=100, cap_percent=120) == Decimal("120.00")
    assert score_linear(5, 0, full_points=100) == Decimal("100.00")
    assert score_linear(-1, 0, full_points=100) == Decimal("0.00")
    assert score_linear(0, 0, full_points=100, higher_is_better=False) == Decimal("100.00")
    assert score_linear(1, 0, full_points=100, higher_is_better=False) == Decimal("0.00")
    with pytest.raises(ValueError):
        score_linear(1, -1, full_points=100)


# --- threshold ------------------------------------------------------------------------
@st.composite
def step_lists(draw, higher):
    thresholds = draw(st.lists(st.decimals(min_value=-1000, max_value=1000, places=2),
                               min_size=1, max_size=8, unique=True))
    points = sorted(draw(st.lists(st.decimals(min_value=0, max_value=1000, places=2),
                                  min_size=len(thresholds), max_size=len(thresholds))))
    ordered = sorted(thresholds, reverse=not higher)  # worst → best
    return list(zip(ordered, points, strict=True))


@given(data=st.data(), higher=st.booleans(), a=values, b=values)
def test_threshold_is_a_monotone_step_function(data, higher, a, b):
    steps = data.draw(step_lists(higher))
    validate_rule("threshold", {"steps": steps, "higher_is_better": higher})  # accepted
    low, high = sorted((a, b))
    at_low = score_threshold(low, steps=steps, higher_is_better=higher)
    at_high = score_threshold(high, steps=steps, higher_is_better=higher)
    assert (at_low <= at_high) if higher else (at_low >= at_high)
    allowed = {p.quantize(CENT) for _t, p in steps} | {Decimal("0.00")}
    assert at_low in allowed and at_high in allowed
    assert two_places(at_low) and two_places(at_high)


def test_threshold_hand_cases():
    steps = [(Decimal(60), Decimal(60)), (Decimal(80), Decimal(80)), (Decimal(100), 100)]
    assert score_threshold(59, steps=steps) == Decimal("0.00")
    assert score_threshold(60, steps=steps) == Decimal("60.00")
    assert score_threshold(99, steps=steps) == Decimal("80.00")
    assert score_threshold(500, steps=steps) == Decimal("100.00")
    budget = [(Decimal(1000), Decimal(100)), (Decimal(1200), Decimal(60))]
    assert score_threshold(900, steps=budget, higher_is_better=False) == Decimal("100.00")
    assert score_threshold(1100, steps=budget, higher_is_better=False) == Decimal("60.00")
    assert score_threshold(1201, steps=budget, higher_is_better=False) == Decimal("0.00")


# --- table ----------------------------------------------------------------------------
@st.composite
def table_rows(draw):
    cuts = sorted(draw(st.lists(st.decimals(min_value=-1000, max_value=1000, places=2),
                                min_size=2, max_size=9, unique=True)))
    rows = []
    for low, high in zip(cuts, cuts[1:], strict=False):
        if draw(st.booleans()) or not rows:  # leave gaps sometimes
            rows.append((low, high, draw(st.decimals(min_value=0, max_value=1000, places=2))))
    return rows


@given(data=st.data())
def test_table_gives_the_row_points_inside_its_range(data):
    rows = data.draw(table_rows())
    validate_rule("table", {"rows": rows})  # no overlap: accepted
    low, high, points = data.draw(st.sampled_from(rows))
    inside = data.draw(st.decimals(min_value=low, max_value=high, places=2)
                       .filter(lambda v: v < high))
    assert score_table(inside, rows=rows) == points.quantize(CENT)
    outside = data.draw(st.decimals(min_value=-2000, max_value=2000, places=2))
    if not any(lo <= outside < hi for lo, hi, _p in rows):
        assert score_table(outside, rows=rows) == Decimal("0.00")
    assert two_places(score_table(outside, rows=rows))


def test_table_hand_cases_and_open_ends():
    rows = [(None, 60, 0), (60, 80, Decimal("70.5")), (80, None, 100)]
    assert score_table(-10**9, rows=rows) == Decimal("0.00")
    assert score_table(60, rows=rows) == Decimal("70.50")
    assert score_table(Decimal("79.99"), rows=rows) == Decimal("70.50")
    assert score_table(80, rows=rows) == Decimal("100.00")
    assert score_table(5, rows=[(10, 20, 5)]) == Decimal("0.00")


# --- validate_rule --------------------------------------------------------------------
def error_field(kind, params) -> str:
    with pytest.raises(DomainError) as caught:
        validate_rule(kind, params)
    return next(iter(caught.value.errors))


def test_validate_rule_normalizes():
    assert validate_rule("linear", {"full_points": 100, "cap_percent": 120.5}) == {
        "full_points": "100.00", "cap_percent": "120.50", "higher_is_better": True}
    assert validate_rule("threshold", {"steps": [{"threshold": 80, "points": 80},
                                                 [60, "60"]]}) == {
        "steps": [{"threshold": "60.0000", "points": "60.00"},
                  {"threshold": "80.0000", "points": "80.00"}], "higher_is_better": True}
    params = validate_rule("table", {"rows": [[60, None, 100], [None, 60, 0]]})
    assert params["rows"][0] == {"from": None, "to": "60.0000", "points": "0.00"}
    assert score_rule("table", params, value=59) == Decimal("0.00")
    assert score_rule("table", params, value=60) == Decimal("100.00")
    assert score_rule("linear", validate_rule("linear", {"full_points": 50}), value=50,
                      target=100) == Decimal("25.00")


def test_validate_rule_names_the_bad_parameter():
    assert error_field("linear", {}) == "params.full_points"
    assert error_field("linear", {"full_points": -1}) == "params.full_points"
    assert error_field("linear", {"full_points": 10, "cap_percent": 50}) == "params.cap_percent"
    assert error_field("linear", {"full_points": 10, "higher_is_better": "yes"}) == \
        "params.higher_is_better"
    assert error_field("linear", {"full_points": 10, "bonus": 1}) == "params"
    assert error_field("threshold", {"steps": []}) == "params.steps"
    assert error_field("threshold", {"steps": [[1, 10], [2, 20], [3, "x"]]}) == \
        "params.steps[2].points"
    assert error_field("threshold", {"steps": [[1, 10], [2, 20], [3, 5]]}) == \
        "params.steps[2].points"  # a better threshold earning fewer points
    assert error_field("threshold", {"steps": [[1, 10], [1, 20]]}) == \
        "params.steps[1].threshold"
    assert error_field("table", {"rows": [[0, 10, 5], [5, 20, 6]]}) == "params.rows[1].from"
    assert error_field("table", {"rows": [[None, 10, 5], [None, 5, 6]]}) == \
        "params.rows[1].from"
    assert error_field("table", {"rows": [[10, 10, 5]]}) == "params.rows[0].to"
    assert error_field("table", {"rows": [[0, 10, "1.001"]]}) == "params.rows[0].points"
    assert error_field("table", "rows") == "params"
    assert error_field("nonsense", {}) == "rule_kind"
