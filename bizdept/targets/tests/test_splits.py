"""TGT-4 split helpers: exact sums, no negative part, the remainder where stated, even
parts within one unit of the last place, progressive parts in order (as stated in
``bizdept.targets.splits``)."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bizdept.targets.splits import split_even, split_progressive, split_weighted

places_st = st.sampled_from([0, 2])
remainder_st = st.sampled_from(["first", "last", "largest"])


@st.composite
def totals(draw, places):
    units = draw(st.integers(min_value=0, max_value=10**14))
    return Decimal(units).scaleb(-places)


def unit_of(places) -> Decimal:
    return Decimal(1).scaleb(-places)


@given(data=st.data(), places=places_st, n=st.integers(1, 40), remainder_to=remainder_st)
def test_even_parts_add_up_and_differ_by_one_unit_at_most(data, places, n, remainder_to):
    total = data.draw(totals(places))
    parts = split_even(total, n, places=places, remainder_to=remainder_to)
    assert len(parts) == n and sum(parts) == total
    assert all(p >= 0 and p == p.quantize(unit_of(places)) for p in parts)
    assert max(parts) - min(parts) <= unit_of(places)
    bigger = [i for i, p in enumerate(parts) if p > min(parts)]
    if bigger:  # the extra units sit at the stated end
        k = len(bigger)
        expected = list(range(k)) if remainder_to == "first" else list(range(n - k, n))
        assert bigger == expected


@given(data=st.data(), places=places_st, remainder_to=remainder_st,
       weights=st.lists(st.decimals(min_value=0, max_value=10**6, places=3), min_size=1,
                        max_size=30))
def test_weighted_parts_add_up_and_the_remainder_lands_where_stated(data, places,
                                                                    remainder_to, weights):
    total = data.draw(totals(places))
    parts = split_weighted(total, weights, places=places, remainder_to=remainder_to)
    assert sum(parts) == total and all(p >= 0 for p in parts)
    whole = sum(weights)
    if whole == 0:
        assert parts == split_even(total, len(weights), places=places,
                                   remainder_to=remainder_to)
        return
    unit = unit_of(places)
    # every part is its ideal share rounded down (exactly), except the one taking the
    # remainder, which gets less than one unit per part on top of its own
    floors = [Decimal(int(Fraction(total) * Fraction(w) / Fraction(whole) / Fraction(unit)))
              * unit for w in weights]
    if remainder_to == "first":
        at = 0
    elif remainder_to == "last":
        at = len(weights) - 1
    else:
        at = max(i for i, w in enumerate(weights) if w == max(weights))
    for i, (part, floor) in enumerate(zip(parts, floors, strict=True)):
        if i != at:
            assert part == floor
    assert 0 <= parts[at] - floors[at] < unit * len(weights)


@given(data=st.data(), places=places_st, n=st.integers(1, 12),
       step=st.decimals(min_value=0, max_value=100, places=2), remainder_to=remainder_st)
def test_progressive_parts_add_up_and_do_not_decrease(data, places, n, step, remainder_to):
    total = data.draw(totals(places))
    parts = split_progressive(total, n, step_percent=step, places=places,
                              remainder_to=remainder_to)
    assert sum(parts) == total and all(p >= 0 for p in parts)
    ordered = parts if remainder_to in ("last", "largest") else parts[1:]
    assert ordered == sorted(ordered)


def test_examples():
    assert split_even(Decimal("100.00"), 3) == [Decimal("33.33"), Decimal("33.33"),
                                                Decimal("33.34")]
    assert split_even(Decimal("100.00"), 3, remainder_to="first") == [
        Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    assert split_even(Decimal("0.02"), 3) == [Decimal("0.00"), Decimal("0.01"),
                                              Decimal("0.01")]
    assert split_weighted(Decimal("10"), [1, 3], places=0) == [Decimal("2"), Decimal("8")]
    assert split_weighted(Decimal("10.00"), [0, 0]) == [Decimal("5.00"), Decimal("5.00")]
    assert split_weighted(Decimal("1.00"), [1, 5, 1], remainder_to="largest") == [
        Decimal("0.14"), Decimal("0.72"), Decimal("0.14")]
    quarters = split_progressive(Decimal("1000000.00"), 4, step_percent=Decimal(10))
    assert quarters == [Decimal("215470.80"), Decimal("237017.88"), Decimal("260719.67"),
                        Decimal("286791.65")]


@pytest.mark.parametrize(("call", "error"), [
    (lambda: split_even(Decimal("1.005"), 2), ValueError),
    (lambda: split_even(Decimal("-1"), 2), ValueError),
    (lambda: split_even(Decimal("1"), 0), ValueError),
    (lambda: split_even(1.5, 2), TypeError),
    (lambda: split_weighted(Decimal("1"), [1, -1]), ValueError),
    (lambda: split_weighted(Decimal("1"), []), ValueError),
    (lambda: split_even(Decimal("1"), 2, remainder_to="middle"), ValueError),
    (lambda: split_progressive(Decimal("1"), 2, step_percent=-100), ValueError),
])
def test_bad_input(call, error):
    with pytest.raises(error):
        call()
