"""Money at the edges (DESIGN rule 4): ``Decimal``, rounded ROUND_HALF_UP to the cent.

Amounts are kept exact inside a computation and rounded once where they are shown,
stored or compared with a threshold. SQLite sums DecimalFields as REAL, so an aggregate
read back from it goes through ``to_cents`` too (floats are read through ``str``, so no
binary fraction creeps in: ``to_cents(0.1 + 0.2) == Decimal("0.30")``).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_decimal(value) -> Decimal:
    """``value`` (Decimal, int, float, numeric text, None as 0) as an exact Decimal."""
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not an amount")
    try:
        return Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


def to_cents(value) -> Decimal:
    """``value`` rounded to the cent, half up (2.675 → 2.68, -2.675 → -2.68)."""
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
