"""Validators and normalizers for the identifiers customers are known by (CUS-1, CUS-2, CUS-5).

Plain functions, no models: forms, services, the API and the Excel import all call the
same ones, so a value is cleaned and judged the same way wherever it comes in.

* Unified social credit code (统一社会信用代码, GB 32100-2015): normalized, then checked
  for length, alphabet and the check character.
* Phone numbers: parsed with ``phonenumbers`` (Google's libphonenumber metadata) and
  stored as E.164, so "138 0013 8000" and "+86-13800138000" are the same number.
* Company names: reduced to a key for duplicate detection (查重/撞单), so spacing,
  full-width characters, brackets and the legal form (有限公司, Co., Ltd.) do not hide
  a duplicate.

Every refusal is a Django ``ValidationError`` with a translated message that says what
is wrong and a stable ``code``.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

__all__ = [
    "CREDIT_CODE_ALPHABET",
    "CREDIT_CODE_LENGTH",
    "credit_code_check_char",
    "normalize_company_name",
    "normalize_credit_code",
    "normalize_phone",
    "validate_credit_code",
]


# --------------------------------------------------------------------------- helpers


# Characters that are invisible but get pasted along with identifiers copied from web
# pages, PDFs and chat apps: every kind of space and the format characters
# (zero-width space, BOM, soft hyphen, ...).
def _is_invisible(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in {"Cf", "Cc", "Zs", "Zl", "Zp"}


def _drop_invisible(text: str) -> str:
    return "".join(c for c in text if not _is_invisible(c))


def _nfkc(text: str) -> str:
    """Full-width → half-width (ＡＢＣ１２３ → ABC123, （）→ ()), compatibility forms unified."""
    return unicodedata.normalize("NFKC", text)


def _until_stable(step, text: str) -> str:
    """Apply ``step`` until the text stops changing, so normalizing twice changes nothing.

    One pass is not always enough: dropping a space can bring a letter next to a
    combining accent that NFKC then joins, and NFKC can turn a compatibility character
    into a space plus an accent. Real input settles in one or two passes.
    """
    for _pass in range(10):
        done = step(text)
        if done == text:
            break
        text = done
    return text


# ------------------------------------------------------- unified social credit code

#: The 31 characters GB 32100-2015 allows, in value order (a character's value is its
#: index). I, O, Z, S and V are left out because they are easily confused with 1, 0, 2,
#: 5 and U.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_LENGTH = 18

_CREDIT_CODE_VALUE = {char: value for value, char in enumerate(CREDIT_CODE_ALPHABET)}
#: Weight of positions 1..17: 3^(i-1) mod 31, as tabulated in GB 32100-2015.
_CREDIT_CODE_WEIGHTS = tuple(pow(3, i, 31) for i in range(CREDIT_CODE_LENGTH - 1))


def normalize_credit_code(raw: str | None) -> str:
    """Clean a credit code as people type or paste it, before judging it.

    Codes arrive with spaces ("9111 0000 6000 3734 1L"), in full-width characters from
    Chinese input methods, or in lower case; none of that changes which code is meant.
    Spaces (and invisible characters) are removed, full-width becomes half-width and
    letters become upper case. Nothing else is changed: a wrong character stays wrong so
    that validation can name it.
    """
    if not raw:
        return ""
    return _until_stable(lambda text: _drop_invisible(_nfkc(_nfkc(text).upper())), str(raw))


def credit_code_check_char(first17: str) -> str:
    """The 18th (check) character for the first 17 characters of a credit code.

    GB 32100-2015: C18 = 31 - (Σ value(Ci) × Wi mod 31), with 31 written as 0, where
    Wi = 3^(i-1) mod 31. Because 31 is prime and every weight is non-zero, the check
    catches any single mistyped character and any swap of two neighbouring characters
    among the first 17.

    ``first17`` must already be normalized; anything else is a programming error and
    raises ``ValueError``.
    """
    if len(first17) != CREDIT_CODE_LENGTH - 1:
        raise ValueError(f"expected 17 characters, got {len(first17)}: {first17!r}")
    try:
        total = sum(
            _CREDIT_CODE_VALUE[char] * weight
            for char, weight in zip(first17, _CREDIT_CODE_WEIGHTS, strict=True)
        )
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]!r} is not a credit-code character") from None
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(raw: str | None) -> str:
    """Return the normalized credit code, or refuse it saying exactly what is wrong.

    The code identifies a company across the whole system (CUS-1, duplicate detection in
    CUS-5), so a mistyped code must not get in. Checks, in order: 18 characters; each one
    from the GB 32100 alphabet (the first wrong one is named with its position); the
    check character. Only the standard's own rules are applied: the structure of
    positions 1-17 (registration authority, category, administrative division,
    organization code) is not checked further, since a valid check character already
    catches any single typo.

    Raises ``ValidationError`` with code ``"length"``, ``"character"`` or ``"checksum"``.
    """
    code = normalize_credit_code(raw)
    if len(code) != CREDIT_CODE_LENGTH:
        raise ValidationError(
            _("A unified social credit code must be 18 characters, got %(length)d."),
            code="length",
            params={"length": len(code)},
        )
    for position, char in enumerate(code, start=1):
        if char not in _CREDIT_CODE_VALUE:
            raise ValidationError(
                _(
                    "Character “%(char)s” at position %(position)d is not allowed in a "
                    "unified social credit code: only digits 0-9 and capital letters A-Y "
                    "except I, O, S and V are used."
                ),
                code="character",
                params={"char": char, "position": position},
            )
    expected = credit_code_check_char(code[:-1])
    if code[-1] != expected:
        raise ValidationError(
            _(
                "The check character (the last one) should be “%(expected)s”, not "
                "“%(actual)s”: the code was probably mistyped."
            ),
            code="checksum",
            params={"expected": expected, "actual": code[-1]},
        )
    return code


# ------------------------------------------------------------------------ phones

# Chinese ways of writing an extension, which libphonenumber does not recognise.
_CHINESE_EXTENSION = re.compile(r"转|分机")

_PARSE_ERRORS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: _(
        "“%(value)s” has no known country code; start an international number with + "
        "and the country code."
    ),
    phonenumbers.NumberParseException.NOT_A_NUMBER: _(
        "“%(value)s” does not look like a phone number."
    ),
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: _(
        "“%(value)s” is too short to be a phone number."
    ),
    phonenumbers.NumberParseException.TOO_SHORT_NSN: _(
        "“%(value)s” is too short to be a phone number."
    ),
    phonenumbers.NumberParseException.TOO_LONG: _("“%(value)s” is too long to be a phone number."),
}
_REASON_ERRORS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: _PARSE_ERRORS[
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE
    ],
    phonenumbers.ValidationResult.TOO_SHORT: _PARSE_ERRORS[
        phonenumbers.NumberParseException.TOO_SHORT_NSN
    ],
    phonenumbers.ValidationResult.TOO_LONG: _PARSE_ERRORS[
        phonenumbers.NumberParseException.TOO_LONG
    ],
}
_INVALID_NUMBER = _(
    "“%(value)s” is not a valid phone number: check the digits, and give a landline "
    "with its area code (e.g. 010-12345678)."
)
_HAS_EXTENSION = _(
    "“%(value)s” has an extension, which cannot be stored: enter the number without it."
)
_HAS_LETTERS = _("“%(value)s” contains letters; a phone number has only digits.")


def _phone_error(message, value: str) -> ValidationError:
    return ValidationError(message, code="phone", params={"value": value})


def normalize_phone(raw: str | None, region: str = "CN") -> str:
    """Return the number in E.164 ("+8613800138000"), "" for no number, or refuse it.

    Contacts' phones (CUS-2) are compared for duplicates (CUS-5) and dialled from
    anywhere, so one spelling is stored: E.164. Accepted are the ways numbers are
    written in China — "138 0013 8000", "138-0013-8000", "+86 138 0013 8000",
    "0086 13800138000", "86-13800138000", full-width digits, and landlines with their
    area code such as "010-12345678", "(021) 6123 4567", "0755-8888 9999" — and any
    international number starting with "+". A number without a country code is read as
    one from ``region``.

    Refused, with ``ValidationError(code="phone")`` saying why: text that is not a
    number, numbers too short or too long, numbers not valid in their country by
    libphonenumber's metadata, numbers with an extension (E.164 has no place for one,
    and silently dropping it would lose data), and numbers with letters (libphonenumber
    would turn "1-800-FLOWERS" into digits; nobody in China writes numbers that way).

    Empty input gives "": a phone is optional in most places.
    """
    if raw is None:
        return ""
    text = _nfkc(str(raw)).strip()
    if not _drop_invisible(text):
        return ""
    value = str(raw).strip()
    if _CHINESE_EXTENSION.search(text):
        raise _phone_error(_HAS_EXTENSION, value)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        message = _PARSE_ERRORS.get(exc.error_type, _INVALID_NUMBER)
        raise _phone_error(message, value) from None
    if number.extension:
        raise _phone_error(_HAS_EXTENSION, value)
    if any(unicodedata.category(c).startswith("L") for c in text):
        raise _phone_error(_HAS_LETTERS, value)
    if not phonenumbers.is_valid_number(number):
        reason = phonenumbers.is_possible_number_with_reason(number)
        raise _phone_error(_REASON_ERRORS.get(reason, _INVALID_NUMBER), value)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# ------------------------------------------------------------------- company names

#: Legal-form endings that do not tell two companies apart, longest first so that
#: "有限公司" is removed whole rather than leaving "有限". "集团" is a real part of the
#: name (a group is not its subsidiary) and is kept. English forms are listed as they
#: look once spaces and punctuation are gone ("Co., Ltd." → "coltd"). A lone "Co." is
#: not removed: with the spaces gone it could not be told from the end of a word
#: (Costco, Cisco, Tesco).
_LEGAL_FORMS = tuple(
    sorted(
        {
            "股份有限公司",
            "有限责任公司",
            "有限公司",
            "股份公司",
            "公司",
            "corporation",
            "incorporated",
            "colimited",
            "limited",
            "company",
            "coltd",
            "corp",
            "ltd",
            "llc",
            "inc",
        },
        key=len,
        reverse=True,
    )
)


def _squash(text: str) -> str:
    """Drop whitespace, invisible characters and punctuation (every Unicode P* category)."""
    return "".join(
        c for c in text if not _is_invisible(c) and not unicodedata.category(c).startswith("P")
    )


def normalize_company_name(name: str | None) -> str:
    """A key for finding the same company under different spellings (CUS-5 查重/撞单).

    "北京 华远科技（集团）有限公司" and "北京华远科技(集团)有限责任公司" are one company
    typed twice, and so are "ＡＢＣ Trading Co., Ltd." and "abc trading". The key is:
    full-width → half-width (NFKC), case folded, all whitespace and punctuation removed
    (（）()·-_.,、 and the like), then legal-form endings (股份有限公司, 有限责任公司,
    有限公司, 股份公司, 公司, Co., Ltd., Limited, Inc., LLC, Corp., ...) removed from the
    end, again and again while one is there. The key is for comparing, never for
    showing.

    Never returns "" for a name that has any visible character: if removing legal forms
    would leave nothing ("有限公司"), the key keeps them; if the name is nothing but
    punctuation, the key keeps the punctuation.
    """
    if not name:
        return ""
    folded = _until_stable(lambda text: _nfkc(_nfkc(text).casefold()), str(name))
    squashed = _until_stable(lambda text: _nfkc(_squash(text)), folded)
    if not squashed:
        return _until_stable(lambda text: _nfkc(_drop_invisible(text)), folded)
    key = squashed
    while True:
        for form in _LEGAL_FORMS:
            if key.endswith(form):
                key = key[: -len(form)]
                break
        else:
            break
    return key or squashed
