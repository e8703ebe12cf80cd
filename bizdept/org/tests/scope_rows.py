"""ORG rows of the scope matrix: employee records are people records."""

from django.urls import reverse

from bizdept.core.tests.scope_matrix import ScopeRow
from bizdept.org.scope import Domain


def _employee(dept, owner):
    return owner


def _in_api_list(response, employee):
    return any(item["id"] == employee.pk for item in response.json()["items"])


def _in_page(response, employee):
    return reverse("org:employee_detail", args=[employee.pk]) in response.content.decode()


def _in_export(response, employee):
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return any(row[0] == employee.number for row in sheet.iter_rows(values_only=True))


ROWS = [
    ScopeRow("employee page", Domain.PEOPLE, _employee,
             lambda e: reverse("org:employee_detail", args=[e.pk])),
    ScopeRow("employee history tab", Domain.PEOPLE, _employee,
             lambda e: reverse("org:employee_detail", args=[e.pk]) + "?tab=history"),
    ScopeRow("employee API", Domain.PEOPLE, _employee, lambda e: f"/api/v1/employees/{e.pk}"),
    ScopeRow("people list page", Domain.PEOPLE, _employee,
             lambda e: reverse("org:employee_list") + f"?q={e.number}", kind="list",
             contains=_in_page),
    ScopeRow("people list export", Domain.PEOPLE, _employee,
             lambda e: reverse("org:employee_list") + f"?q={e.number}&export=xlsx", kind="list",
             contains=_in_export),
    ScopeRow("employee list API", Domain.PEOPLE, _employee,
             lambda e: f"/api/v1/employees?q={e.number}", kind="list", contains=_in_api_list),
]
