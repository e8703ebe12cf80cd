"""Gross margin (SAL-1), for the catalogue now and for solutions and contract lines later.

Amounts are exact Decimals inside; each helper rounds its result once, ROUND_HALF_UP to
the cent (``core.money.to_cents``), so a line's margin is what a person with a calculator
gets and a sum of lines is the sum of the rounded lines.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from bizdept.core.money import to_cents, to_decimal

HUNDRED = Decimal(100)


def line_amount(price, qty=1) -> Decimal:
    """Price × quantity, to the cent."""
    return to_cents(to_decimal(price) * to_decimal(qty))


def margin(price, cost, qty=1) -> Decimal:
    """Gross margin of ``qty`` units sold at ``price`` that cost ``cost`` each:
    (price − cost) × qty, to the cent (negative when sold below cost)."""
    return to_cents((to_decimal(price) - to_decimal(cost)) * to_decimal(qty))


def margin_rate(price, cost) -> Decimal | None:
    """Gross margin as a percentage of the price, 2 places (ROUND_HALF_UP); None for a
    price of zero (a free item has no rate)."""
    price = to_decimal(price)
    if price == 0:
        return None
    rate = (price - to_decimal(cost)) * HUNDRED / price
    return rate.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# === Solution lines (SAL-2): discounted amount and rates ===============================
def discounted_amount(price, qty=1, discount_percent=0) -> Decimal:
    """Price × quantity less the discount (percent of it), to the cent, rounded once."""
    factor = (HUNDRED - to_decimal(discount_percent)) / HUNDRED
    return to_cents(to_decimal(price) * to_decimal(qty) * factor)


def rate_of(part, whole) -> Decimal | None:
    """``part`` as a percentage of ``whole``, 2 places (ROUND_HALF_UP); None for a whole of
    zero."""
    whole = to_decimal(whole)
    if whole == 0:
        return None
    return (to_decimal(part) * HUNDRED / whole).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
