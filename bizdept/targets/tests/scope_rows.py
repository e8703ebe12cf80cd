"""TGT rows of the scope matrix: a person's targets in a plan are sales records of that
person. The plan itself is read by everyone in its department (``test_plan_api``); its
cells follow the scope rule: one's own, a head's subtree, the director all of it."""

from decimal import Decimal

from bizdept.core.tests.scope_matrix import ScopeRow
from bizdept.org.scope import Domain

from .factories import raw_plan


def _department(unit):
    from bizdept.org.choices import UnitKind
    from bizdept.org.models import Unit

    return (Unit.objects.filter(pk__in=unit.ancestor_ids(), kind=UnitKind.DEPARTMENT)
            .order_by("-depth").first())


def _person_targets(dept, owner):
    """The owner's department's plan with the owner's year and January set."""
    from bizdept.targets.models import TargetCell

    plan = raw_plan(_department(owner.unit), owner)
    for period in ("2026", "2026-01"):
        TargetCell.objects.get_or_create(plan=plan, unit=owner.unit, employee=owner,
                                         period=period,
                                         defaults={"realistic": Decimal("100.00"),
                                                   "stretch": Decimal("120.00")})
    return (plan, owner)


ROWS = [
    ScopeRow("a person's targets in a plan API", Domain.SALES, _person_targets,
             lambda r: f"/api/v1/targets/plans/{r[0].pk}/people/{r[1].pk}"),
]
