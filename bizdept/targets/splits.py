"""Splitting a target into parts (TGT-4): pure functions, exact Decimal arithmetic.

Every split works in whole units of the last place (cents at ``places=2``, ones at
``places=0``): each part is first the ideal share rounded *down* to that place, which
keeps every part ≥ 0 and their sum ≤ the total; what is left (fewer units than there are
parts) then goes where ``remainder_to`` says, so the parts add up to the total exactly.

* ``split_even``: the remainder is handed out one unit per part, starting from the first
  or the last part, so even parts differ by at most one unit of the last place.
  ``largest`` means ``last`` here (all shares are equal; ties go to the last).
* ``split_weighted`` / ``split_progressive``: the whole remainder goes to one part: the
  first, the last, or the one with the largest weight (ties: the last of them).

What holds for ``split_progressive`` with ``step_percent ≥ 0`` after rounding: the ideal
shares are non-decreasing and rounding down keeps that order, so with ``remainder_to``
``last`` or ``largest`` (both the last part) the parts are non-decreasing; with ``first``
the parts from the second on are non-decreasing (the first carries the remainder, less
than one unit per part).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

REMAINDER_TO = ("first", "last", "largest")


def _units(total, places: int) -> int:
    """``total`` in whole units of the last place (it must have at most ``places``
    decimals and not be negative)."""
    if isinstance(total, bool) or not isinstance(total, (Decimal, int)):
        raise TypeError("total must be a Decimal or an int")
    if places < 0:
        raise ValueError("places must be 0 or more")
    value = Decimal(total)
    if not value.is_finite() or value < 0:
        raise ValueError("total must be a finite amount ≥ 0")
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"total has more than {places} decimals")
    return int(scaled)


def _amount(units: int, places: int) -> Decimal:
    return Decimal(units).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def _check_remainder(remainder_to: str) -> None:
    if remainder_to not in REMAINDER_TO:
        raise ValueError(f"remainder_to must be one of {REMAINDER_TO}")


def split_even(total, n: int, *, places: int = 2, remainder_to: str = "last") -> list[Decimal]:
    """``total`` in ``n`` equal parts (to one unit of the last place)."""
    _check_remainder(remainder_to)
    if n < 1:
        raise ValueError("n must be at least 1")
    units = _units(total, places)
    base, left = divmod(units, n)
    parts = [base] * n
    order = range(n) if remainder_to == "first" else range(n - 1, -1, -1)
    for index in list(order)[:left]:
        parts[index] += 1
    return [_amount(p, places) for p in parts]


def split_weighted(total, weights: Sequence, *, places: int = 2,
                   remainder_to: str = "last") -> list[Decimal]:
    """``total`` in parts proportional to ``weights`` (numbers ≥ 0; all zero: even)."""
    _check_remainder(remainder_to)
    exact = [_fraction(w) for w in weights]
    if not exact:
        raise ValueError("at least one weight is needed")
    if any(w < 0 for w in exact):
        raise ValueError("weights must be ≥ 0")
    whole = sum(exact)
    if whole == 0:
        return split_even(total, len(exact), places=places, remainder_to=remainder_to)
    units = _units(total, places)
    parts = [int(units * w / whole) for w in exact]  # floor: every share is ≥ 0
    left = units - sum(parts)
    if remainder_to == "first":
        index = 0
    elif remainder_to == "last":
        index = len(parts) - 1
    else:
        biggest = max(exact)
        index = max(i for i, w in enumerate(exact) if w == biggest)
    parts[index] += left
    return [_amount(p, places) for p in parts]


def progressive_weights(n: int, step_percent) -> list[Fraction]:
    """1, (1 + s), (1 + s)², … for ``n`` parts, exactly."""
    step = _fraction(step_percent) / 100
    if step <= -1:
        raise ValueError("step_percent must be above -100")
    return [(1 + step) ** k for k in range(n)]


def split_progressive(total, n: int, *, step_percent, places: int = 2,
                      remainder_to: str = "last") -> list[Decimal]:
    """``total`` in ``n`` parts, each ``step_percent`` above the one before (before
    rounding), scaled to add up to the total."""
    if n < 1:
        raise ValueError("n must be at least 1")
    return split_weighted(total, progressive_weights(n, step_percent), places=places,
                          remainder_to=remainder_to)


def _fraction(value) -> Fraction:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError("weights must be finite")
    return Fraction(value)


def round_half_up(value: Decimal, places: int = 2) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
