"""The scope matrix (ORG-4): role × endpoint × whose record → may they see it?

Each app lists its endpoints as ``ScopeRow``s in ``<app>/tests/scope_rows.py`` and adds
its module to ``ROW_MODULES``; the matrix test does the rest. Who may see whose record is
written once here, per domain, in the business's words.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bizdept.org.scope import Domain

ROW_MODULES = ["bizdept.org.tests.scope_rows", "bizdept.customers.tests.scope_rows",
               "bizdept.approvals.tests.scope_rows", "bizdept.sales.tests.scope_rows",
               "bizdept.targets.tests.scope_rows", "bizdept.targets.tests.scope_rows_tracking",
               "bizdept.appraisal.tests.scope_rows",
               "bizdept.incentives.tests.scope_rows",
               "bizdept.incentives.tests.scope_rows_awards"]

# Viewers are personas of the root conftest; owners are the people whose records are read:
# the viewer-independent cast is sales (team 上海一所), sales_mate (same team),
# other_sales (杭州所, same division) and outsider (another department).
VIEWERS = ["director", "manager", "lead", "sales", "finance", "hr", "admin", "outsider"]
OWNERS = ["sales", "sales_mate", "other_sales", "outsider"]
_DEPARTMENT = {"sales", "sales_mate", "other_sales"}
_EVERYONE = {*_DEPARTMENT, "outsider"}

VISIBLE: dict[str, dict[str, set[str]]] = {
    Domain.SALES: {
        "director": _DEPARTMENT, "manager": _DEPARTMENT, "lead": {"sales", "sales_mate"},
        "sales": {"sales"}, "finance": set(), "hr": set(), "admin": _EVERYONE,
        "outsider": {"outsider"},
    },
}
VISIBLE[Domain.PEOPLE] = {**VISIBLE[Domain.SALES], "hr": _DEPARTMENT}
VISIBLE[Domain.MONEY] = {**VISIBLE[Domain.SALES], "finance": _DEPARTMENT}
# INC-2: a bonus line is pay (money), and HR, who make the department's runs, see its lines.
BONUS_LINE = "bonus_line"
VISIBLE[BONUS_LINE] = {**VISIBLE[Domain.MONEY], "hr": _DEPARTMENT}


@dataclass(frozen=True)
class ScopeRow:
    """One endpoint whose answers depend on scope.

    ``make(dept, owner)`` builds (or returns) the record owned by ``owner``; ``url(record)``
    is what the viewer requests. A ``detail`` row expects 200 or 404; a ``list`` row expects
    200 either way and asks ``contains(response, record)``.
    """

    name: str
    domain: str
    make: Callable[[Any, Any], Any]
    url: Callable[[Any], str]
    kind: str = "detail"
    contains: Callable[[Any, Any], bool] | None = None


def all_rows() -> list[ScopeRow]:
    rows: list[ScopeRow] = []
    for name in ROW_MODULES:
        rows.extend(importlib.import_module(name).ROWS)
    return rows
