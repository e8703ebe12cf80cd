"""The working calendar: Monday–Friday, except the days ``CalendarDay`` lists (Chinese
public holidays and their make-up working days, 调休). Field reports (CUS-8), average daily
visits (PER-1) and the daily amount still needed (TGT-5) all count working days here.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from .models import CalendarDay


def exceptions(since: datetime.date, until: datetime.date) -> dict[datetime.date, bool]:
    """{day: is_working} for the listed days in [since, until]; one query."""
    return dict(CalendarDay.objects.filter(day__gte=since, day__lte=until)
                .values_list("day", "is_working"))


def working_days(since: datetime.date, until: datetime.date) -> list[datetime.date]:
    """Every working day in [since, until], in order; one query whatever the span."""
    if until < since:
        return []
    listed = exceptions(since, until)
    return [day for day in _days(since, until) if listed.get(day, day.weekday() < 5)]


def is_working_day(day: datetime.date) -> bool:
    return bool(working_days(day, day))


def _days(since: datetime.date, until: datetime.date) -> Iterator[datetime.date]:
    day = since
    while day <= until:
        yield day
        day += datetime.timedelta(days=1)
