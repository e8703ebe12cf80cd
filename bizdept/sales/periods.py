"""Budget periods of the expenses part (SAL-7): a month ``2026-07`` or a quarter ``2026-Q3``.

``period_bounds`` gives the first and last day; anything else is refused naming ``period``.
"""

from __future__ import annotations

import calendar
import datetime
import re

from django.utils.translation import gettext as _

from bizdept.core.errors import DomainError

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_QUARTER = re.compile(r"(\d{4})-Q([1-4])")


def period_bounds(period: str, field: str = "period") -> tuple[datetime.date, datetime.date]:
    text = (period or "").strip()
    month = _MONTH.fullmatch(text)
    quarter = _QUARTER.fullmatch(text)
    if month:
        year, first_month, months = int(month[1]), int(month[2]), 1
    elif quarter:
        year, first_month, months = int(quarter[1]), (int(quarter[2]) - 1) * 3 + 1, 3
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
