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


# --- amounts in Chinese capital numerals (大写金额), for contracts and receipts ------------
_UPPER_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UPPER_PLACES = ("", "拾", "佰", "仟")
_UPPER_GROUPS = ("", "万", "亿")  # 4-digit groups: up to 9999,9999,9999
UPPER_MAX = Decimal(10**12) - CENT


def rmb_upper(amount: Decimal) -> str:
    """The amount in Chinese capital numerals as written on a contract or a cheque, without
    the 人民币 prefix: ``Decimal("1280000.50")`` → ``壹佰贰拾捌万元零伍角整``.

    The rules (《支付结算办法》附件一, 正确写法) with one choice where they allow two:

    * the amount is first rounded to the cent (ROUND_HALF_UP); a negative one starts 负;
    * digits 零壹贰叁肆伍陆柒捌玖, places 拾佰仟 inside groups of four, groups 万 and 亿
      (a group that is all zeros has no 万); 10 is 壹拾, never 拾;
    * zeros: every run of zeros lying between two non-zero digits — inside a group, across
      a group, or across the 元 into the 角/分 — is written as one 零 (壹拾万零柒仟元,
      壹亿零壹元, 壹元零伍分, 壹拾元零伍角). The rules make 零 optional in some of those
      places (元位 or 万位 zero); it is always written here, so the text is unambiguous;
    * 元 follows the yuan part when there is one; an amount under one yuan starts with its
      角 or 分 (伍角整, 伍分); zero is 零元整;
    * 整 ends an amount without 分 (壹拾元整, 伍角整); an amount with 分 has no 整.

    Amounts of 10¹² or more (beyond the 千亿 place) raise ``ValueError``.
    """
    value = to_cents(amount)
    if abs(value) > UPPER_MAX:
        raise ValueError(f"too large for capital numerals: {value}")
    sign = "负" if value < 0 else ""
    cents = int(abs(value) * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if cents == 0:
        return "零元整"
    out: list[str] = []
    pending_zero = False
    digits = str(yuan) if yuan else ""
    length = len(digits)
    group_has_digit = False
    for index, char in enumerate(digits):
        power = length - 1 - index
        digit = int(char)
        if digit == 0:
            pending_zero = True
        else:
            if pending_zero:
                out.append("零")
            out.append(_UPPER_DIGITS[digit] + _UPPER_PLACES[power % 4])
            pending_zero = False
            group_has_digit = True
        if power % 4 == 0:
            if group_has_digit and power:
                out.append(_UPPER_GROUPS[power // 4])
            group_has_digit = False
    if yuan:
        out.append("元")
        # the units digit was zero (or the 角 is): zeros stand between 元 and what follows
        pending_zero = yuan % 10 == 0
    for digit, place in ((jiao, "角"), (fen, "分")):
        if digit == 0:
            pending_zero = bool(out)
            continue
        if pending_zero and out:
            out.append("零")
        out.append(_UPPER_DIGITS[digit] + place)
        pending_zero = False
    if fen == 0:
        out.append("整")
    return sign + "".join(out)
