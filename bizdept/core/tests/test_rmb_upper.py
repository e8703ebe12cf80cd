"""``core.money.rmb_upper``: amounts in Chinese capital numerals (大写金额), checked against
known cases and by a round trip through an independent parser written here."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bizdept.core.money import UPPER_MAX, rmb_upper

DIGITS = {c: n for n, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
PLACES = {"拾": 10, "佰": 100, "仟": 1000}


def _section(text: str) -> int:
    """A group below 万 (e.g. 壹仟零壹拾) as an int; 零 only marks skipped places."""
    total, digit = 0, None
    for char in text:
        if char in DIGITS:
            digit = DIGITS[char]
        elif char in PLACES:
            assert digit not in (None, 0), text  # every place has its digit (壹拾, not 拾)
            total += digit * PLACES[char]
            digit = None
        else:
            raise AssertionError(f"unexpected {char!r} in {text!r}")
    return total + (digit or 0)


def parse_upper(text: str) -> Decimal:
    """The inverse of ``rmb_upper``, written independently of it."""
    sign = 1
    if text.startswith("负"):
        sign, text = -1, text[1:]
    if text == "零元整":
        return Decimal("0.00")
    whole, fraction = (text.split("元") + [""])[:2] if "元" in text else ("", text)
    yuan = 0
    if whole:
        rest = whole
        if "亿" in rest:
            high, rest = rest.split("亿")
            yuan += _section(high) * 10**8
        if "万" in rest:
            high, rest = rest.split("万")
            yuan += _section(high) * 10**4
        yuan += _section(rest)
    cents = 0
    fraction = fraction.removesuffix("整").removeprefix("零")
    if "角" in fraction:
        jiao, fraction = fraction.split("角")
        cents += DIGITS[jiao] * 10
        fraction = fraction.removeprefix("零")
    if "分" in fraction:
        fen, fraction = fraction.split("分")
        cents += DIGITS[fen]
    assert fraction == "", text
    return sign * (Decimal(yuan) + Decimal(cents) / 100).quantize(Decimal("0.01"))


KNOWN = [
    ("0.00", "零元整"),
    ("10.00", "壹拾元整"),
    ("100005.20", "壹拾万零伍元贰角整"),
    ("1000000000.01", "壹拾亿元零壹分"),
    ("1280000.50", "壹佰贰拾捌万元零伍角整"),
    ("1680.32", "壹仟陆佰捌拾元零叁角贰分"),
    ("107000.53", "壹拾万零柒仟元零伍角叁分"),
    ("1.05", "壹元零伍分"),
    ("0.05", "伍分"),
    ("0.50", "伍角整"),
    ("0.55", "伍角伍分"),
    ("1.00", "壹元整"),
    ("15.00", "壹拾伍元整"),
    ("100.00", "壹佰元整"),
    ("1010.00", "壹仟零壹拾元整"),
    ("10001.00", "壹万零壹元整"),
    ("10000.00", "壹万元整"),
    ("100000000.00", "壹亿元整"),
    ("100000001.00", "壹亿零壹元整"),
    ("101000000.00", "壹亿零壹佰万元整"),
    ("110000000.00", "壹亿壹仟万元整"),
    ("100010000.00", "壹亿零壹万元整"),
    ("325.04", "叁佰贰拾伍元零肆分"),
    ("6007.14", "陆仟零柒元壹角肆分"),
    ("-3.20", "负叁元贰角整"),
    ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
]


@pytest.mark.parametrize(("amount", "text"), KNOWN)
def test_known_amounts(amount, text):
    assert rmb_upper(Decimal(amount)) == text
    assert parse_upper(text) == Decimal(amount)


def test_rounds_half_up_to_the_cent_first():
    assert rmb_upper(Decimal("2.675")) == "贰元陆角捌分"
    assert rmb_upper(Decimal("0.004")) == "零元整"


def test_too_large_is_refused():
    with pytest.raises(ValueError):
        rmb_upper(Decimal("1000000000000"))


amounts = st.decimals(min_value=-UPPER_MAX, max_value=UPPER_MAX, places=2,
                      allow_nan=False, allow_infinity=False)
small = st.integers(min_value=0, max_value=10**6).map(lambda c: Decimal(c) / 100)
# Sparse digits: the zeros are where the rules are.
sparse = st.lists(st.sampled_from([0, 0, 0, 1, 5, 9]), min_size=1, max_size=14).map(
    lambda ds: Decimal(int("".join(map(str, ds)))) / 100)


@settings(max_examples=500, derandomize=True, database=None)
@given(st.one_of(amounts, small, sparse))
def test_round_trip(amount):
    text = rmb_upper(amount)
    assert parse_upper(text) == amount.quantize(Decimal("0.01"))
    assert "零零" not in text
    body = text.removeprefix("负")
    assert not body.startswith("零") or body == "零元整"
    assert body == "零元整" or not any(f"零{unit}" in text for unit in "万亿元角分整")
    assert text.endswith("整") != text.endswith("分")
