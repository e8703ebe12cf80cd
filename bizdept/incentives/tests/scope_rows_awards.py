"""INC-3 rows of the scope matrix: an award is a people record of the person awarded (the
person, the heads above them, HR and the director of their department). The award here
is confirmed, so the person sees it too (a proposal is not shown to the person yet:
``test_awards``)."""

from bizdept.core.tests.scope_matrix import ScopeRow
from bizdept.org.scope import Domain


def _award(dept, owner):
    """A confirmed year-end special award of the owner, written directly (the outsider's
    department has nobody who may propose or decide one)."""
    from decimal import Decimal

    from django.utils import timezone

    from bizdept.incentives.models import Award

    award, _ = Award.objects.get_or_create(
        employee=owner, kind="special_award", period="2026",
        defaults={"amount": Decimal("1000.00"), "reason": "范围测试", "status": "confirmed",
                  "proposed_by": dept.director, "decided_by": dept.director,
                  "decided_at": timezone.now()})
    return award


def _listed(response, award) -> bool:
    return any(row["id"] == award.pk for row in response.json()["items"])


ROWS = [
    ScopeRow("an award API", Domain.PEOPLE, _award,
             lambda a: f"/api/v1/incentives/awards/{a.pk}"),
    ScopeRow("award list API", Domain.PEOPLE, _award,
             lambda a: "/api/v1/incentives/awards?period=2026", kind="list",
             contains=_listed),
    ScopeRow("an award page", Domain.PEOPLE, _award,
             lambda a: f"/incentives/awards/{a.pk}/"),
]
