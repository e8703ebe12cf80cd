"""INC-2 rows of the scope matrix: a bonus line is pay, a money record of the person paid
(the person, the heads above them, finance and the director of their department), and
HR, who make the department's runs, see their lines too (``BONUS_LINE``). Each line is in
the run of its person's department, written directly (the outsider's department has
nobody who may run a bonus), on the appraisals the appraisal rows build. A run's own
lines list (``/runs/{id}/lines``) answers 404 for a run of another department; it is
checked by role in ``test_api``."""

from decimal import Decimal

from bizdept.appraisal.tests.scope_rows import _appraisal
from bizdept.core.tests.scope_matrix import BONUS_LINE, ScopeRow


def _line(dept, owner):
    """The owner's line in the bonus run of their department's cycle, paid by a plan of
    their position."""
    from bizdept.incentives.models import BonusLine, BonusPlan, BonusRun

    appraisal = _appraisal(dept, owner)
    run, _ = BonusRun.objects.get_or_create(
        cycle=appraisal.cycle, defaults={"name": f"{appraisal.cycle.name} 奖金",
                                         "created_by": owner, "status": "approved"})
    plan, _ = BonusPlan.objects.get_or_create(
        position=owner.position, period_kind="quarterly", number=1,
        defaults={"name": "范围测试方案", "status": "approved", "base_amount": Decimal("5000"),
                  "coefficients": {"B": "1.00"}, "created_by": owner})
    line, _ = BonusLine.objects.get_or_create(
        run=run, employee=owner,
        defaults={"unit": owner.unit, "appraisal": appraisal, "plan": plan, "grade": "B",
                  "score": Decimal("75.00"), "coefficient": Decimal("1"),
                  "base_bonus": Decimal("5000.00"), "commission": Decimal("0.00"),
                  "total": Decimal("5000.00"), "explanation": {"total": "5000.00"}})
    return line


def _listed(response, line) -> bool:
    return any(row["id"] == line.pk for row in response.json()["items"])


ROWS = [
    ScopeRow("a bonus line API", BONUS_LINE, _line,
             lambda line: f"/api/v1/incentives/lines/{line.pk}"),
    ScopeRow("bonus line list API", BONUS_LINE, _line,
             lambda line: f"/api/v1/incentives/lines?employee={line.employee_id}",
             kind="list", contains=_listed),
]
