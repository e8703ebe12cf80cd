"""ORG-4 on every endpoint: pages, API, exports answer by the one scope rule."""

import pytest

from .scope_matrix import OWNERS, VIEWERS, VISIBLE, all_rows

CASES = [pytest.param(row, viewer, id=f"{row.name}|{viewer}")
         for row in all_rows() for viewer in VIEWERS]


@pytest.mark.parametrize(("row", "viewer"), CASES)
def test_scope_matrix(client, dept, row, viewer):
    """For one endpoint and one viewer, every owner's record: seen exactly when in scope."""
    client.force_login(getattr(dept, viewer).user)
    wrong = []
    for owner in OWNERS:
        record = row.make(dept, getattr(dept, owner))
        response = client.get(row.url(record))
        may_see = owner in VISIBLE[row.domain][viewer]
        if row.kind == "detail":
            got = response.status_code
            expected = 200 if may_see else 404
        else:
            got = (response.status_code, row.contains(response, record))
            expected = (200, may_see)
        if got != expected:
            wrong.append(f"{owner}'s record: expected {expected}, got {got}")
    assert not wrong, wrong
