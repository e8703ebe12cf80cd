"""PER-3..5 rows of the scope matrix: an appraisal is a people record of the person
appraised (the person, the heads above them, HR and the director of their department).
The cycle itself is the department's calendar (``test_cycle_api``); what the lists and
the calibration view show of it follows the scope rule."""

from decimal import Decimal

from bizdept.core.tests.scope_matrix import ScopeRow
from bizdept.org.scope import Domain

PERIOD = "2026-Q2"


def _department(unit):
    from bizdept.org.choices import UnitKind
    from bizdept.org.models import Unit

    return (Unit.objects.filter(pk__in=unit.ancestor_ids(), kind=UnitKind.DEPARTMENT)
            .order_by("-depth").first())


def _appraisal(dept, owner, *, department=None):
    """The owner's appraisal in their department's cycle (or ``department``'s), written
    directly (the outsider's department has nobody who may open a cycle), scored and
    graded."""
    import datetime

    from bizdept.appraisal.models import Appraisal, AppraisalCycle, ScorecardTemplate
    from bizdept.org.choices import UnitKind
    from bizdept.org.models import Unit

    department = department or _department(owner.unit)
    cycle, _ = AppraisalCycle.objects.get_or_create(
        unit=department, kind="quarterly", period=PERIOD,
        defaults={"name": f"{department.name} {PERIOD}", "since": datetime.date(2026, 4, 1),
                  "until": datetime.date(2026, 6, 30), "status": "calibration",
                  "grade_bands": {"S": "90", "A": "80", "B": "70", "C": "60"},
                  "created_by": owner})
    template, _ = ScorecardTemplate.objects.get_or_create(
        position=owner.position, name="范围测试模板", defaults={"period_kind": "quarterly"})
    division = (Unit.objects.filter(pk__in=owner.unit.ancestor_ids(), kind=UnitKind.DIVISION)
                .order_by("-depth").first())
    appraisal, _ = Appraisal.objects.get_or_create(
        cycle=cycle, employee=owner,
        defaults={"unit": owner.unit, "division": division, "reviewer": None,
                  "template": template, "template_version": template.version,
                  "total_score": Decimal("75.00"), "score_grade": "B", "grade": "B"})
    return appraisal


def _in_one_cycle(dept, owner):
    """Everyone's appraisal in one cycle every viewer reads (the company's): what the
    calibration view of a cycle shows is the scope rule's choice among its people."""
    return _appraisal(dept, owner, department=dept.company)


def _listed(response, appraisal) -> bool:
    return any(row["id"] == appraisal.pk for row in response.json()["items"])


def _calibrated(response, appraisal) -> bool:
    return any(row["id"] == appraisal.pk
               for unit in response.json() for row in unit["appraisals"])


ROWS = [
    ScopeRow("an appraisal API", Domain.PEOPLE, _appraisal,
             lambda a: f"/api/v1/appraisal/appraisals/{a.pk}"),
    ScopeRow("appraisal list API", Domain.PEOPLE, _appraisal,
             lambda a: f"/api/v1/appraisal/appraisals?employee={a.employee_id}",
             kind="list", contains=_listed),
    ScopeRow("calibration view API", Domain.PEOPLE, _in_one_cycle,
             lambda a: f"/api/v1/appraisal/cycles/{a.cycle_id}/calibration",
             kind="list", contains=_calibrated),
]
