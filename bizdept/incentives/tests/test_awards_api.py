"""The awards API (INC-3): status codes, the error body naming the field, scope, and a
list costing the same queries however many rows it has."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bizdept.incentives import services
from bizdept.incentives.models import Award
from bizdept.org.tests.factories import make_employee

from .awards_data import cycle

pytestmark = pytest.mark.django_db

API = "/api/v1/incentives"


def post(client, path, data=None):
    return client.post(f"{API}{path}", data or {}, content_type="application/json")


def test_titles_created_by_hr_read_by_everyone(as_user, dept):
    client = as_user(dept.hr)
    created = post(client, "/titles", {"name": "销售冠军", "basis": "revenue", "top": 1,
                                       "position": dept.sales.position.pk})
    assert created.status_code == 201, created.json()
    title = created.json()
    assert title["position"]["id"] == dept.sales.position.pk and title["per"] == "department"
    bad = post(client, "/titles", {"name": "x", "basis": "nonsense"})
    assert bad.status_code == 400 and "basis" in bad.json()["errors"]
    again = post(client, "/titles", {"name": "销售冠军", "basis": "revenue"})
    assert again.status_code == 400 and "name" in again.json()["errors"]
    assert post(client, "/titles", {"name": "y", "basis": "revenue", "top": 0}
                ).status_code == 422
    sales = as_user(dept.sales)
    assert sales.get(f"{API}/titles").json()["count"] == 1
    assert post(sales, "/titles", {"name": "z", "basis": "revenue"}).status_code == 403
    client = as_user(dept.hr)  # one test client: sign in again
    changed = client.patch(f"{API}/titles/{title['id']}", {"top": 2, "version": 1},
                           content_type="application/json")
    assert changed.status_code == 200 and changed.json()["top"] == 2
    stale = client.patch(f"{API}/titles/{title['id']}", {"top": 3, "version": 1},
                         content_type="application/json")
    assert stale.status_code == 409
    assert post(client, f"/titles/{title['id']}/deactivate").json()["is_active"] is False
    assert post(client, f"/titles/{title['id']}/deactivate").status_code == 409


def test_propose_then_confirm_or_decline(as_user, dept):
    services.title_create(by=dept.hr.user, name="优秀员工", basis="appraisal_score")
    q3 = cycle(dept, results={dept.sales: (91, "S"), dept.sales_mate: (80, "A")})
    hr = as_user(dept.hr)
    assert post(hr, "/awards/propose", {"cycle": q3.pk}).json() == {"added": 1}
    assert post(hr, "/awards/propose", {"cycle": q3.pk}).json() == {"added": 0}
    assert post(as_user(dept.lead), "/awards/propose", {"cycle": q3.pk}).status_code == 403
    hr = as_user(dept.hr)
    assert post(hr, "/awards/propose", {"cycle": 999999}).status_code == 400
    award = Award.objects.get()
    got = hr.get(f"{API}/awards/{award.pk}").json()
    assert got["evidence"]["rank"] == 1 and "经营部" in got["evidence_text"]
    assert post(hr, f"/awards/{award.pk}/confirm").status_code == 403
    director = as_user(dept.director)
    no_note = post(director, f"/awards/{award.pk}/decline")
    assert no_note.status_code == 400 and "note" in no_note.json()["errors"]
    confirmed = post(director, f"/awards/{award.pk}/confirm", {"note": "好"})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert post(director, f"/awards/{award.pk}/decline", {"note": "x"}).status_code == 409


def test_special_award_codes(as_user, dept):
    lead = as_user(dept.lead)
    data = {"employee": dept.sales.pk, "period": "2026", "amount": "8000", "reason": "突破"}
    created = post(lead, "/awards/special", data)
    assert created.status_code == 201 and created.json()["amount"] == "8000.00"
    assert post(lead, "/awards/special", data).status_code == 409
    other = post(lead, "/awards/special", {**data, "employee": dept.other_sales.pk})
    assert other.status_code == 400 and "employee" in other.json()["errors"]
    zero = post(lead, "/awards/special", {**data, "employee": dept.sales_mate.pk,
                                          "amount": "0"})
    assert zero.status_code == 400 and "amount" in zero.json()["errors"]
    assert post(lead, "/awards/special", {**data, "period": "2026-Q1"}).status_code == 422
    assert post(as_user(dept.sales), "/awards/special",
                {**data, "employee": dept.sales_mate.pk}).status_code == 403


def test_scope_of_awards(as_user, dept):
    award = services.special_award_propose(by=dept.lead.user, employee=dept.sales,
                                           period="2026", amount="100", reason="x")
    for viewer, status in ((dept.sales, 404), (dept.lead, 200), (dept.manager, 200),
                           (dept.hr, 200), (dept.other_lead, 404), (dept.outsider, 404),
                           (dept.finance, 404)):
        assert as_user(viewer).get(f"{API}/awards/{award.pk}").status_code == status, viewer
    services.award_confirm(award=award, by=dept.director.user)
    sales = as_user(dept.sales)
    assert sales.get(f"{API}/awards/{award.pk}").status_code == 200
    assert sales.get(f"{API}/awards").json()["count"] == 1
    assert as_user(dept.sales_mate).get(f"{API}/awards").json()["count"] == 0
    sales = as_user(dept.sales)
    assert sales.get(f"{API}/awards?title=999999").status_code == 400
    assert sales.get(f"{API}/awards?period=2026").json()["count"] == 1
    assert sales.get(f"{API}/awards?period=2025").json()["count"] == 0


def _count(client, address) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(address).status_code == 200
    return len(ctx)


def test_the_award_list_costs_the_same_queries_for_more_rows(as_user, dept):
    services.title_create(by=dept.hr.user, name="优秀员工", basis="appraisal_score", top=50)
    people = [make_employee(dept.sales.unit) for _ in range(2)]
    services.awards_propose(by=dept.hr.user,
                            cycle=cycle(dept, "2026-Q2", results={p: (80, "A") for p in people}))
    client = as_user(dept.director)
    few = _count(client, f"{API}/awards")
    people += [make_employee(dept.other_sales.unit) for _ in range(6)]
    services.awards_propose(by=dept.hr.user, cycle=cycle(
        dept, results={p: (70 + i, "A") for i, p in enumerate(people)}))
    assert _count(client, f"{API}/awards") == few
