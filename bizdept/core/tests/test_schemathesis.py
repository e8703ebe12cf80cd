"""Schemathesis over the whole OpenAPI, in-process, as part of the suite.

The schema is read from the running app (``/api/v1/openapi.json`` through the WSGI
application) and every operation is fuzzed against the same application, in the test's
own thread and database transaction (see ``in_test_transaction``): the persona
department built by the ``dept`` fixture is what the API sees, on SQLite and on
PostgreSQL. Every response must be declared and match its schema (the one error body on
4xx), and none may be a 500. Two passes: the director (widest scope) and a salesperson
(narrowest), each with a personal token.

The run is deterministic (``derandomize``, no example database), so CI is stable; raise
``EXAMPLES`` locally to fuzz harder.

Also here: the OpenAPI document itself and the docs page, which must load its JS/CSS from
local static files (DESIGN rule 7: no CDN).
"""

import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from bizdept.core.services import api_token_create
from bizdept.org.models import Employee, Position, Unit
from bizdept.wsgi import application

EXAMPLES = 40

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)

fuzz_settings = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # The department is built once per operation (a function-scoped fixture) on purpose:
    # the operations are read-only, so every example sees the same data.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def known_references(ctx, response, case):
    """``positive_data_acceptance``, except for one documented rule of the list filters.

    ``unit`` and ``position`` are ids of existing rows; a well-formed id that names no
    row answers 400 with the error body naming that field (the same FilterSet serves the
    page, which shows the same message). Anything else schema-valid must be accepted.
    """
    if response.status_code == 400 and case.operation.path == "/api/v1/employees":
        errors = response.json().get("errors") or {}
        if errors and set(errors) <= {"unit", "position"}:
            return True
    return positive_data_acceptance(ctx, response, case)


# Ids of rows that exist in this test's database, by parameter name; filled by the
# fixtures below. Random ids almost never name a row, so the hooks swap a well-formed id
# for a real one half of the time: details answer 200 (or 404 out of scope) with real
# bodies, and the list filters match real subtrees.
KNOWN: dict[str, list[int]] = {}


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 2**62


def _with_known_ids(values):
    swappable = [name for name, value in (values or {}).items()
                 if KNOWN.get(name) and _is_id(value)]
    if not swappable:
        return st.just(values)
    known = st.fixed_dictionaries({name: st.sampled_from(KNOWN[name]) for name in swappable})
    return st.one_of(st.just(values), known.map(lambda ids: {**values, **ids}))


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    return _with_known_ids(path_parameters)


@schema.hook
def flatmap_query(context, query):
    return _with_known_ids(query)


@pytest.fixture
def in_test_transaction(db):
    """Requests reach the app in the test's own database transaction, as with Django's
    test client: without this, the end of every request closes the connection
    (``close_old_connections``), a no-op on SQLite's in-memory test database but, on
    PostgreSQL, the end of the test's transaction and of everything it built."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def known_ids(dept, in_test_transaction):
    units = sorted(Unit.objects.values_list("pk", flat=True))
    employees = sorted(Employee.objects.values_list("pk", flat=True))
    KNOWN.update(unit_id=units, unit=units, employee_id=employees,
                 position=sorted(Position.objects.values_list("pk", flat=True)))
    yield KNOWN
    KNOWN.clear()


CHECKS = {"excluded_checks": [positive_data_acceptance], "additional_checks": [known_references]}


def token_header(employee) -> dict[str, str]:
    _, key = api_token_create(user=employee.user, name="schemathesis")
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def as_director(dept, known_ids):
    return token_header(dept.director)


@pytest.fixture
def as_sales(dept, known_ids):
    return token_header(dept.sales)


@schema.parametrize()
@fuzz_settings
def test_api_as_director(case, as_director):
    """The director sees the whole department: the most rows, the widest scope."""
    case.call_and_validate(headers=as_director, **CHECKS)


@schema.parametrize()
@settings(fuzz_settings, max_examples=EXAMPLES // 2)
def test_api_as_salesperson(case, as_sales):
    """A salesperson sees only themselves: most reads of other people answer 404."""
    case.call_and_validate(headers=as_sales, **CHECKS)


# --- the document and the docs page ---------------------------------------------------
def test_openapi_document_lists_every_endpoint(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {
        "/api/v1/units", "/api/v1/units/tree", "/api/v1/units/{unit_id}",
        "/api/v1/employees", "/api/v1/employees/me", "/api/v1/employees/{employee_id}",
    }
    schemes = doc["components"]["securitySchemes"]
    assert schemes["TokenAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["SessionAuth"]["in"] == "cookie"
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            # every operation documents the one error body for the client errors it can cause
            for status in ("401", "404", "422"):
                ref = operation["responses"][status]["content"]["application/json"]["schema"]
                assert ref == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, status)


def test_docs_page_loads_its_assets_from_local_static_files(client, db):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("swagger-ui.css") for a in assets)
    for asset in assets:
        assert asset.startswith("/static/"), asset
        served = client.get(asset)
        assert served.status_code == 200, asset
        served.close()
    assert "//" not in "".join(assets)
    for cdn in ("cdn.", "jsdelivr", "unpkg", "cdnjs", "googleapis", "http://", "https://"):
        assert cdn not in html, cdn
    # no "valid schema" badge fetched from validator.swagger.io
    assert '"validatorUrl": null' in html
