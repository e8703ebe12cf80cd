"""Credit codes, phones and company-name keys are cleaned and judged one way (CUS-1/2/5).

Messages are checked in English (the source language), so these tests keep passing once
the zh-Hans catalog translates them.
"""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import assume, given
from hypothesis import strategies as st

from bizdept.core.validators import (
    CREDIT_CODE_ALPHABET,
    credit_code_check_char,
    normalize_company_name,
    normalize_credit_code,
    normalize_phone,
    validate_credit_code,
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def refusal(func, *args) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        func(*args)
    return info.value


def message(error: ValidationError) -> str:
    (text,) = error.messages
    return str(text)


# ------------------------------------------------------------------- credit codes

# Published codes, checked by hand against GB 32100-2015.
REAL_CODES = [
    "91350100M000100Y43",
    "91110000600037341L",
    "91310000MA1FL6MN13",
    "9144030071526726XG",
]

credit_chars = st.sampled_from(CREDIT_CODE_ALPHABET)
first_17 = st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=17, max_size=17)


def test_weights_are_the_ones_tabulated_in_the_standard():
    from bizdept.core.validators import _CREDIT_CODE_WEIGHTS

    assert _CREDIT_CODE_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def test_alphabet_leaves_out_the_confusable_letters():
    assert len(CREDIT_CODE_ALPHABET) == 31
    assert not set("IOZSV") & set(CREDIT_CODE_ALPHABET)


@pytest.mark.parametrize("code", REAL_CODES)
def test_published_codes_are_valid(code):
    assert credit_code_check_char(code[:17]) == code[17]
    assert validate_credit_code(code) == code


def test_check_value_31_is_written_as_0():
    # Σ = 0 gives 31 - 0 = 31, which the standard writes as 0.
    assert credit_code_check_char("0" * 17) == "0"
    assert validate_credit_code("0" * 18) == "0" * 18


@pytest.mark.parametrize(
    "raw",
    [
        " 9111 0000 6000 3734 1L ",
        "91110000600037341l",
        "９１１１００００６０００３７３４１Ｌ",
        "9111\u30000000600037341L",
        "\u200b91110000600037341L\ufeff",
    ],
)
def test_code_is_accepted_as_people_type_or_paste_it(raw):
    assert validate_credit_code(raw) == "91110000600037341L"


@pytest.mark.parametrize(
    "raw, length",
    [
        ("", 0),
        (None, 0),
        ("9111000060003734", 16),
        ("91110000600037341LL", 19),
    ],
)
def test_wrong_length_says_how_long_it_is(raw, length):
    error = refusal(validate_credit_code, raw)
    assert error.code == "length"
    assert message(error) == (f"A unified social credit code must be 18 characters, got {length}.")


@pytest.mark.parametrize(
    "raw, char, position",
    [
        ("91110000600O37341L", "O", 12),
        ("I1110000600037341L", "I", 1),
        ("91110000600037341Z", "Z", 18),
        ("9111-000600037341L", "-", 5),
    ],
)
def test_a_character_outside_the_alphabet_is_named_with_its_position(raw, char, position):
    error = refusal(validate_credit_code, raw)
    assert error.code == "character"
    text = message(error)
    assert f"“{char}”" in text
    assert f"position {position}" in text


def test_wrong_check_character_names_both_characters():
    error = refusal(validate_credit_code, "91110000600037341M")
    assert error.code == "checksum"
    assert message(error) == (
        "The check character (the last one) should be “L”, not “M”: the code was probably mistyped."
    )


def test_error_code_does_not_depend_on_the_language():
    with translation.override("zh-hans"):
        error = refusal(validate_credit_code, "123")
        assert "18" in message(error)
    assert error.code == "length"


def test_check_char_helper_refuses_bad_input():
    with pytest.raises(ValueError):
        credit_code_check_char("1234")
    with pytest.raises(ValueError):
        credit_code_check_char("O" * 17)


@given(first_17)
def test_appending_the_check_char_gives_a_valid_code(first):
    code = first + credit_code_check_char(first)
    assert validate_credit_code(code) == code


@given(first_17, st.integers(min_value=0, max_value=17), credit_chars)
def test_any_single_changed_character_is_caught(first, position, replacement):
    code = first + credit_code_check_char(first)
    assume(code[position] != replacement)
    typo = code[:position] + replacement + code[position + 1 :]
    error = refusal(validate_credit_code, typo)
    assert error.code == "checksum"


@given(first_17, st.integers(min_value=0, max_value=15))
def test_swapping_neighbours_in_the_first_17_is_caught(first, position):
    code = first + credit_code_check_char(first)
    assume(code[position] != code[position + 1])
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    assert refusal(validate_credit_code, swapped).code == "checksum"


@given(st.text())
def test_normalizing_a_credit_code_is_idempotent(raw):
    once = normalize_credit_code(raw)
    assert normalize_credit_code(once) == once


# ------------------------------------------------------------------------ phones


@pytest.mark.parametrize(
    "raw, e164",
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("138-0013-8000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("+86-138-0013-8000", "+8613800138000"),
        ("0086 13800138000", "+8613800138000"),
        ("86-13800138000", "+8613800138000"),
        ("８６－１３８００１３８０００", "+8613800138000"),
        ("１３８　００１３　８０００", "+8613800138000"),
        ("138\u200b0013 8000", "+8613800138000"),
        ("010-12345678", "+861012345678"),
        ("(021) 6123 4567", "+862161234567"),
        ("（０２１）６１２３４５６７", "+862161234567"),
        ("0755-8888 9999", "+8675588889999"),
        ("+86 10 6552 9988", "+861065529988"),
        ("400-810-8888", "+864008108888"),
        ("+1 650-253-0000", "+16502530000"),
        ("+852 2123 4567", "+85221234567"),
    ],
)
def test_common_ways_of_writing_a_number_give_e164(raw, e164):
    assert normalize_phone(raw) == e164


def test_region_is_the_default_country_for_numbers_without_one():
    assert normalize_phone("(650) 253-0000", region="US") == "+16502530000"


@pytest.mark.parametrize("raw", ["", "   ", "\u3000", None])
def test_no_number_is_no_number(raw):
    assert normalize_phone(raw) == ""


@pytest.mark.parametrize(
    "raw, problem",
    [
        ("123", "is too short to be a phone number"),
        ("1380013800", "is not a valid phone number"),
        ("138001380001", "is not a valid phone number"),
        ("12345678", "is not a valid phone number"),
        ("abc", "does not look like a phone number"),
        ("1-800-FLOWERS", "contains letters"),
        ("138abc00138000", "contains letters"),
        ("010-12345678 ext 123", "has an extension"),
        ("010-12345678转123", "has an extension"),
        ("010-12345678 分机 123", "has an extension"),
        ("+999 1234 5678", "has no known country code"),
        ("1" * 300, "is too long to be a phone number"),
    ],
)
def test_a_bad_number_is_refused_saying_why(raw, problem):
    error = refusal(normalize_phone, raw)
    assert error.code == "phone"
    text = message(error)
    assert problem in text
    assert f"“{raw.strip()}”" in text  # the user sees which number is meant


# ------------------------------------------------------------------ company names


@pytest.mark.parametrize(
    "a, b",
    [
        ("北京 华远科技（集团）有限公司", "北京华远科技(集团)有限责任公司"),
        ("北京华远科技(集团)有限责任公司", "北京华远科技集团"),
        ("ＡＢＣ Trading Co., Ltd.", "abc trading"),
        ("ABC Trading Co.Ltd", "abc trading"),
        ("ABC Trading Co., Limited", "ABC TRADING"),
        ("ABC Trading Inc.", "abc trading"),
        ("ABC Trading LLC", "abc trading"),
        ("ABC Trading Corp.", "abc trading"),
        ("华远股份有限公司", "华远"),
        ("华远股份公司", "华远"),
        ("华远公司", "华远"),
        ("思科系统（中国）网络技术有限公司 Co., Ltd.", "思科系统中国网络技术"),
        ("上海·华远-科技_有限公司", "上海华远科技"),
        ("华远\u200b科技\t有限公司\n", "华远科技"),
    ],
)
def test_spellings_of_one_company_share_a_key(a, b):
    assert normalize_company_name(a) == normalize_company_name(b)


@pytest.mark.parametrize(
    "name, key",
    [
        ("北京 华远科技（集团）有限公司", "北京华远科技集团"),
        ("ＡＢＣ Trading Co., Ltd.", "abctrading"),
        ("Costco", "costco"),  # a lone "co" is part of a word, not a legal form
        ("华远有限公司北京分公司", "华远有限公司北京分"),  # a branch stays apart from its parent
    ],
)
def test_key(name, key):
    assert normalize_company_name(name) == key


@pytest.mark.parametrize(
    "a, b",
    [
        ("华远科技", "华远信息"),
        ("华远集团", "华远"),  # a group is not its subsidiary
        ("北京华远", "上海华远"),
    ],
)
def test_different_companies_keep_different_keys(a, b):
    assert normalize_company_name(a) != normalize_company_name(b)


@pytest.mark.parametrize(
    "name, key",
    [
        ("有限公司", "有限公司"),
        ("Co., Ltd.", "coltd"),
        ("公司 有限公司", "公司有限公司"),
        ("（）", "()"),
        ("...", "..."),
        ("", ""),
        (None, ""),
        ("  \u3000 ", ""),
    ],
)
def test_a_name_never_vanishes(name, key):
    assert normalize_company_name(name) == key


LEGAL_FORMS = [
    "有限公司",
    "股份有限公司",
    "有限责任公司",
    "公司",
    "股份公司",
    " Co., Ltd.",
    " Limited",
    " Inc.",
    " LLC",
    " Corp.",
    "（集团）有限公司",
]
name_chars = st.sampled_from(
    list("北京上海深圳华远科技信息贸易集团有限责任股份公司中国")
    + list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    + list(" .,-_()&·（）、，。【】《》")
)
company_names = st.builds(
    lambda body, suffixes: body + "".join(suffixes),
    st.text(alphabet=name_chars, min_size=1, max_size=30),
    st.lists(st.sampled_from(LEGAL_FORMS), max_size=3),
)


def full_width(text: str) -> str:
    """Half-width ASCII → its full-width twin, space → ideographic space."""
    return "".join(
        "\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text
    )


@given(st.text())
def test_company_key_is_idempotent_for_any_text(name):
    key = normalize_company_name(name)
    assert normalize_company_name(key) == key


@given(company_names)
def test_company_key_is_idempotent(name):
    key = normalize_company_name(name)
    assert normalize_company_name(key) == key
    assert key or not name.strip()


@given(company_names, st.data())
def test_inserting_spaces_does_not_change_the_key(name, data):
    positions = data.draw(st.lists(st.integers(min_value=0, max_value=len(name))))
    spaces = data.draw(st.sampled_from([" ", "  ", "\u3000", "\t"]))
    spaced = name
    for position in sorted(positions, reverse=True):
        spaced = spaced[:position] + spaces + spaced[position:]
    assert normalize_company_name(spaced) == normalize_company_name(name)


@given(company_names)
def test_full_width_does_not_change_the_key(name):
    assert normalize_company_name(full_width(name)) == normalize_company_name(name)


@given(company_names, st.sampled_from([str.upper, str.lower, str.swapcase, str.title]))
def test_case_does_not_change_the_key(name, change):
    assert normalize_company_name(change(name)) == normalize_company_name(name)
