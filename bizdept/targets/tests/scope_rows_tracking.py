"""TGT-5, 6 rows of the scope matrix: a person's row in the tracking and the rankings
follows the scope of the measure's records — money metrics (revenue...) the money scope
(finance: the department), customers and visits the sales scope."""

from django.urls import reverse

from bizdept.core.tests.scope_matrix import ScopeRow
from bizdept.org.scope import Domain

PERIOD = "2026-10"


def _person(dept, owner):
    return owner


def _in_tracking(response, person):
    return any(row["employee"] and row["employee"]["id"] == person.pk
               for row in response.json()["rows"])


def _in_ranking(response, person):
    return any(r["row"]["employee"]["id"] == person.pk for r in response.json()["people"])


def _in_page(response, person):
    return any(row.employee is not None and row.employee.pk == person.pk
               for row in response.context["report"].rows)


ROWS = [
    ScopeRow("tracking API (money)", Domain.MONEY, _person,
             lambda p: f"/api/v1/targets/tracking?metric=revenue&period={PERIOD}",
             kind="list", contains=_in_tracking),
    ScopeRow("tracking API (sales)", Domain.SALES, _person,
             lambda p: f"/api/v1/targets/tracking?metric=visits&period={PERIOD}",
             kind="list", contains=_in_tracking),
    ScopeRow("rankings API", Domain.MONEY, _person,
             lambda p: f"/api/v1/targets/rankings?metric=collections&period={PERIOD}",
             kind="list", contains=_in_ranking),
    ScopeRow("tracking page", Domain.MONEY, _person,
             lambda p: reverse("targets:tracking") + f"?metric=expenses&period={PERIOD}",
             kind="list", contains=_in_page),
]
