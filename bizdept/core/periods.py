"""Periods the department plans and measures by: a month ``2026-07``, a quarter ``2026-Q3``
and (where a caller allows it) a year ``2026``. Expense budgets (SAL-7) use months and
quarters; target plans (TGT-3) split a year into quarters and each quarter into months.

``period_bounds`` gives the first and last day; anything else is refused naming the field.
"""

from __future__ import annotations

import calendar
import datetime
import re

from django.utils.translation import gettext as _

from bizdept.core.errors import DomainError

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_QUARTER = re.compile(r"(\d{4})-Q([1-4])")
_YEAR = re.compile(r"\d{4}")


def period_bounds(period: str, field: str = "period", *,
                  years: bool = False) -> tuple[datetime.date, datetime.date]:
    """First and last day of ``period``; a bare year is accepted only with ``years=True``."""
    text = (period or "").strip()
    month = _MONTH.fullmatch(text)
    quarter = _QUARTER.fullmatch(text)
    if month:
        year, first_month, months = int(month[1]), int(month[2]), 1
    elif quarter:
        year, first_month, months = int(quarter[1]), (int(quarter[2]) - 1) * 3 + 1, 3
    elif years and _YEAR.fullmatch(text):
        year, first_month, months = int(text), 1, 12
    elif years:
        raise DomainError(_("Enter a year such as 2026, a quarter such as 2026-Q3 or a "
                            "month such as 2026-07."), field=field, code="invalid")
    else:
        raise DomainError(_("Enter a month such as 2026-07 or a quarter such as 2026-Q3."),
                          field=field, code="invalid")
    if not 2000 <= year <= 2999:
        raise DomainError(_("Enter a year between 2000 and 2999."), field=field,
                          code="invalid")
    last_month = first_month + months - 1
    return (datetime.date(year, first_month, 1),
            datetime.date(year, last_month, calendar.monthrange(year, last_month)[1]))


def clean_period(period: str, field: str = "period") -> str:
    period_bounds(period, field)
    return period.strip()


def month_of(day: datetime.date) -> str:
    return f"{day.year}-{day.month:02d}"


def quarter_of(day: datetime.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def current_month() -> str:
    from django.utils import timezone

    return month_of(timezone.localdate())


# --- The fiscal year's tree (TGT-3): year → quarters → months ---------------------------
def year_quarters(year: int) -> list[str]:
    return [f"{year}-Q{q}" for q in range(1, 5)]


def quarter_months(quarter: str) -> list[str]:
    year, q = quarter.split("-Q")
    return [f"{year}-{m:02d}" for m in range((int(q) - 1) * 3 + 1, int(q) * 3 + 1)]


def year_periods(year: int) -> list[str]:
    """Every period a plan for ``year`` holds, in reading order: the year, its quarters,
    its months."""
    return [str(year), *year_quarters(year),
            *(m for q in year_quarters(year) for m in quarter_months(q))]


def period_children(period: str) -> list[str]:
    """The periods that must add up to ``period``: a year's quarters, a quarter's months,
    nothing for a month."""
    if _YEAR.fullmatch(period):
        return year_quarters(int(period))
    if _QUARTER.fullmatch(period):
        return quarter_months(period)
    return []


def period_kind(period: str) -> str:
    """``year``, ``quarter`` or ``month``."""
    if _YEAR.fullmatch(period):
        return "year"
    return "quarter" if _QUARTER.fullmatch(period) else "month"
