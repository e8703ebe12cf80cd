"""Contract number patterns (SAL-4): text + year + sequence, the sequence reset yearly.

A pattern is Python format text with exactly two placeholders, ``{year}`` and ``{seq}``,
each either plain or zero-padded to a width (``{seq:06d}``); everything else is literal
text (no spaces). ``HT-{year}-{seq:06d}`` renders seq 123 of 2026 as ``HT-2026-000123``.

The grammar is deliberately small: with zero padding and decimal digits only, two
different sequence numbers of one year never render to the same text (a fill character
or a left alignment could: ``{seq:1<3}`` renders both 1 and 111 as ``111``), and the
year is in every number, so a sequence that starts again in January cannot repeat last
year's numbers. The register's unique index on the number is the last guard anyway.
"""

from __future__ import annotations

import re
import string

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

PLACEHOLDERS = ("year", "seq")
PATTERN_MAX = 60
NUMBER_MAX = 50  # the register's column
_SPEC = re.compile(r"(0[1-9][0-9]?)?d?")
_WIDTH_MAX = 12
# The renders every pattern is tried with: the widest year and sequence there will be.
_TRIAL = ((2026, 1), (2026, 2), (2027, 1), (9999, 999_999_999))


def render_number(pattern: str, *, year: int, seq: int) -> str:
    return pattern.format(year=year, seq=seq)


def validate_number_pattern(pattern: str) -> None:
    """Refuse (ValidationError, translated) a pattern that cannot number contracts."""
    pattern = pattern or ""
    if not pattern.strip():
        raise ValidationError(_("Enter the pattern, e.g. HT-{year}-{seq:06d}."),
                              code="required")
    if len(pattern) > PATTERN_MAX:
        raise ValidationError(_("The pattern is too long (%d characters at most).")
                              % PATTERN_MAX, code="too_long")
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise ValidationError(_("The braces of the pattern do not match: write {year} and "
                                "{seq}, and {{ or }} for a brace itself."),
                              code="braces") from exc
    seen: list[str] = []
    for literal, name, spec, conversion in parts:
        if any(ch.isspace() or not ch.isprintable() for ch in literal):
            raise ValidationError(_("A contract number cannot contain spaces or control "
                                    "characters."), code="spaces")
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            raise ValidationError(_("Unknown placeholder {%(name)s}: only {year} and {seq} "
                                    "may be used.") % {"name": name}, code="placeholder")
        if name in seen:
            raise ValidationError(_("{%(name)s} may appear only once.") % {"name": name},
                                  code="repeated")
        seen.append(name)
        if conversion is not None or not _SPEC.fullmatch(spec or ""):
            raise ValidationError(
                _("{%(name)s} takes no format or a zero-padded width such as {%(name)s:06d}.")
                % {"name": name}, code="format")
        if spec and spec[0] == "0" and int(spec.rstrip("d")) > _WIDTH_MAX:
            raise ValidationError(_("A width of at most %d digits.") % _WIDTH_MAX,
                                  code="format")
    if "seq" not in seen:
        raise ValidationError(_("The pattern must contain {seq}, the sequence number."),
                              code="no_seq")
    if "year" not in seen:
        raise ValidationError(_("The pattern must contain {year}: the sequence starts again "
                                "every year, so the year keeps numbers unique."),
                              code="no_year")
    renders = set()
    for year, seq in _TRIAL:
        try:
            text = render_number(pattern, year=year, seq=seq)
        except (ValueError, TypeError, KeyError, IndexError) as exc:  # pragma: no cover
            raise ValidationError(_("The pattern cannot be rendered: %s") % exc,
                                  code="render") from exc
        if len(text) > NUMBER_MAX:
            raise ValidationError(_("Numbers made by this pattern would be longer than %d "
                                    "characters.") % NUMBER_MAX, code="too_long")
        renders.add(text)
    if len(renders) != len(_TRIAL):  # pragma: no cover - the grammar rules it out
        raise ValidationError(_("This pattern gives different contracts the same number."),
                              code="not_unique")


def number_regex(pattern: str) -> re.Pattern:
    """A regular expression matching exactly the numbers the pattern renders, with the
    groups ``year`` and ``seq`` (tests and imports read numbers back with it)."""
    out = []
    for literal, name, spec, _conversion in string.Formatter().parse(pattern):
        out.append(re.escape(literal))
        if name is not None:
            width = int(spec.rstrip("d")) if spec and spec.rstrip("d") else 0
            if width:  # zero-padded: more digits only when the value needs them
                digits = rf"(?:\d{{{width}}}|[1-9]\d{{{width},}})"
            elif name == "year":  # a year is written with four digits
                digits = r"\d{4}"
            else:
                digits = r"(?:0|[1-9]\d*)"
            out.append(f"(?P<{name}>{digits})")
    return re.compile("".join(out))
