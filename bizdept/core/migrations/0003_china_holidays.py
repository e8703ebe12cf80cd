"""China's public holidays and make-up working days (国务院办公厅 notices) for 2025 and
2026. Administrators add later years under Administration → Calendar days."""

import datetime

from django.db import migrations

# (first day, last day, name) of each holiday, and the weekend days worked instead.
HOLIDAYS = [
    ("2025-01-01", "2025-01-01", "元旦"),
    ("2025-01-28", "2025-02-04", "春节"),
    ("2025-04-04", "2025-04-06", "清明节"),
    ("2025-05-01", "2025-05-05", "劳动节"),
    ("2025-05-31", "2025-06-02", "端午节"),
    ("2025-10-01", "2025-10-08", "国庆节、中秋节"),
    ("2026-01-01", "2026-01-03", "元旦"),
    ("2026-02-15", "2026-02-23", "春节"),
    ("2026-04-04", "2026-04-06", "清明节"),
    ("2026-05-01", "2026-05-05", "劳动节"),
    ("2026-06-19", "2026-06-21", "端午节"),
    ("2026-09-25", "2026-09-27", "中秋节"),
    ("2026-10-01", "2026-10-07", "国庆节"),
]
MAKE_UP_DAYS = [
    ("2025-01-26", "春节调休上班"), ("2025-02-08", "春节调休上班"),
    ("2025-04-27", "劳动节调休上班"), ("2025-09-28", "国庆节调休上班"),
    ("2025-10-11", "国庆节调休上班"),
    ("2026-01-04", "元旦调休上班"), ("2026-02-14", "春节调休上班"),
    ("2026-02-28", "春节调休上班"), ("2026-05-09", "劳动节调休上班"),
    ("2026-09-20", "国庆节调休上班"), ("2026-10-10", "国庆节调休上班"),
]


def load(apps, schema_editor):
    CalendarDay = apps.get_model("core", "CalendarDay")
    for first, last, name in HOLIDAYS:
        day, end = datetime.date.fromisoformat(first), datetime.date.fromisoformat(last)
        while day <= end:
            CalendarDay.objects.update_or_create(day=day, defaults={"is_working": False,
                                                                    "name": name})
            day += datetime.timedelta(days=1)
    for day, name in MAKE_UP_DAYS:
        CalendarDay.objects.update_or_create(day=datetime.date.fromisoformat(day),
                                             defaults={"is_working": True, "name": name})


class Migration(migrations.Migration):
    dependencies = [("core", "0002_calendarday")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
