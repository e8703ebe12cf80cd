"""Personas every test can ask for by name (DESIGN: tests read like the business).

The department: 经营部 (head: director) → 华东事业部 (head: manager) → 上海一所 (head:
lead; members: sales, sales_mate) and 杭州所 (head: other_lead; member: other_sales);
finance, hr and admin sit in the department itself. ``outsider`` works in another
department of the same company.
"""

import pytest

from bizdept.org.tests.factories import DepartmentFactory


@pytest.fixture(autouse=True, scope="session")
def _media_root(tmp_path_factory):
    """Uploaded files (contract scans, SAL-5) go to a temporary folder, never to the
    real MEDIA_ROOT, for every test and for the demo built inside the tests."""
    from django.conf import settings

    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))


@pytest.fixture
def dept(db):
    return DepartmentFactory.build_department()


@pytest.fixture
def director(dept):
    return dept.director


@pytest.fixture
def manager(dept):
    return dept.manager


@pytest.fixture
def lead(dept):
    return dept.lead


@pytest.fixture
def sales(dept):
    return dept.sales


@pytest.fixture
def sales_mate(dept):
    return dept.sales_mate


@pytest.fixture
def other_sales(dept):
    return dept.other_sales


@pytest.fixture
def finance(dept):
    return dept.finance


@pytest.fixture
def hr(dept):
    return dept.hr


@pytest.fixture
def admin_employee(dept):
    return dept.admin


def signed_in(client, employee):
    client.force_login(employee.user)
    return client


@pytest.fixture
def as_user(client):
    """``as_user(employee)`` gives a test client signed in as that employee."""
    return lambda employee: signed_in(client, employee)
