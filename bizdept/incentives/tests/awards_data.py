"""Hand-arranged appraisal results for the awards tests (INC-3): approved cycles of the
persona department written directly, each person's total score and grade as given, so a
ranking or a streak can be checked by eye."""

from __future__ import annotations

import datetime
from decimal import Decimal

from bizdept.appraisal.models import Appraisal, AppraisalCycle, ScorecardTemplate
from bizdept.org.choices import UnitKind
from bizdept.org.models import Unit

QUARTERS = {"2026-Q1": (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31)),
            "2026-Q2": (datetime.date(2026, 4, 1), datetime.date(2026, 6, 30)),
            "2026-Q3": (datetime.date(2026, 7, 1), datetime.date(2026, 9, 30)),
            "2026-Q4": (datetime.date(2026, 10, 1), datetime.date(2026, 12, 31))}
Q3_DAY = datetime.date(2026, 8, 10)


def department(dept) -> Unit:
    return dept.director.unit


def cycle(dept, period="2026-Q3", *, status="approved", results=None) -> AppraisalCycle:
    """An approved quarterly cycle of the persona department with ``results``:
    {employee: (total score, grade)}."""
    if period.isdigit():
        since, until, kind = datetime.date(int(period), 1, 1), \
            datetime.date(int(period), 12, 31), "annual"
    else:
        (since, until), kind = QUARTERS[period], "quarterly"
    unit = department(dept)
    found = AppraisalCycle.objects.create(
        unit=unit, kind=kind, period=period, name=f"{unit.name} {period}", since=since,
        until=until, status=status, grade_bands={"S": "90", "A": "80", "B": "70", "C": "60"},
        created_by=dept.hr)
    for employee, (score, grade) in (results or {}).items():
        appraise(found, employee, score, grade)
    return found


def appraise(cycle_, employee, score, grade) -> Appraisal:
    template, _ = ScorecardTemplate.objects.get_or_create(
        position=employee.position, period_kind=cycle_.kind,
        defaults={"name": f"{employee.position.name}模板"})
    division = (Unit.objects.filter(pk__in=employee.unit.ancestor_ids(),
                                    kind=UnitKind.DIVISION).order_by("-depth").first())
    return Appraisal.objects.create(
        cycle=cycle_, employee=employee, unit=employee.unit, division=division,
        template=template, template_version=template.version,
        total_score=None if score is None else Decimal(str(score)), score_grade=grade,
        grade=grade)
