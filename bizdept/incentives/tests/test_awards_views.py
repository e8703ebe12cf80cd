"""Awards pages (INC-3 in the browser): the list with its forms and the director's
buttons, one award's evidence in words, honor titles, and the panel on the person's
record. The rules are the services' (test_awards.py); here: who sees what, forms post
through the services, the export is a workbook, the list costs the same queries however
many rows it has."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bizdept.incentives import services
from bizdept.incentives.choices import AwardStatus
from bizdept.incentives.models import Award, HonorTitle
from bizdept.org.tests.factories import make_employee

from .awards_data import cycle

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"incentives:{name}", args=args)


def body(response) -> str:
    return response.content.decode()


def in_english(employee):
    employee.user.language = "en"
    employee.user.save(update_fields=["language"])
    return employee


def _special(dept, employee=None, by=None):
    return services.special_award_propose(by=(by or dept.lead).user,
                                          employee=employee or dept.sales, period="2026",
                                          amount="6000", reason="大单突破")


def test_hr_proposes_from_a_cycle_and_the_director_confirms_on_the_list(as_user, dept):
    services.title_create(by=dept.hr.user, name="优秀员工", basis="appraisal_score")
    q3 = cycle(dept, results={dept.sales: (91, "S"), dept.sales_mate: (80, "A")})
    client = as_user(dept.hr)
    page = body(client.get(url("award_list")))
    assert 'id="award-propose-form"' in page and 'id="special-award-form"' in page
    assert 'id="confirm-' not in page
    response = client.post(url("award_propose"), {"cycle": q3.pk})
    assert response.status_code == 302
    award = Award.objects.get()
    page = body(client.get(url("award_list")))
    assert "优秀员工" in page and "经营部" in page and f'id="confirm-{award.pk}"' not in page
    client = as_user(dept.director)
    page = body(client.get(url("award_list")))
    assert f'id="confirm-{award.pk}"' in page
    response = client.post(url("award_confirm", award.pk), {"note": "同意",
                                                            "next": url("award_list")})
    assert response.status_code == 302 and response.url == url("award_list")
    award.refresh_from_db()
    assert award.status == AwardStatus.CONFIRMED and award.decision_note == "同意"


def test_hr_cannot_confirm_and_a_decline_without_a_note_is_refused(as_user, dept):
    award = _special(dept)
    assert as_user(dept.hr).post(url("award_confirm", award.pk)).status_code == 403
    client = as_user(dept.director)
    client.post(url("award_decline", award.pk), {"note": ""})
    award.refresh_from_db()
    assert award.status == AwardStatus.PROPOSED
    client.post(url("award_decline", award.pk), {"note": "预算不足"})
    award.refresh_from_db()
    assert award.status == AwardStatus.DECLINED


def test_a_head_proposes_a_special_award_from_the_page(as_user, dept):
    client = as_user(dept.lead)
    page = body(client.get(url("award_list")))
    assert 'id="special-award-form"' in page and 'id="award-propose-form"' not in page
    response = client.post(url("award_special"), {"employee": dept.sales.pk, "period": "2026",
                                                  "amount": "8000.00", "reason": "贡献突出"})
    award = Award.objects.get()
    assert response.status_code == 302 and response.url == url("award_detail", award.pk)
    assert award.proposed_by == dept.lead
    # someone outside their team is not among the choices
    client.post(url("award_special"), {"employee": dept.other_sales.pk, "period": "2026",
                                       "amount": "1", "reason": "x"})
    assert Award.objects.count() == 1
    assert as_user(dept.sales).post(url("award_special"), {}).status_code == 403
    assert as_user(dept.lead).post(url("award_propose"), {}).status_code == 403


def test_the_detail_says_why_in_words(as_user, dept):
    for period in ("2026-Q1", "2026-Q2"):
        cycle(dept, period, results={dept.sales: (90, "A")})
    q3 = cycle(dept, results={dept.sales: (95, "S")})
    services.awards_propose(by=dept.hr.user, cycle=q3)
    award = Award.objects.get()
    client = as_user(in_english(dept.director))
    page = body(client.get(url("award_detail", award.pk)))
    assert "3 quarters in a row graded S or A: 2026-Q1 A, 2026-Q2 A, 2026-Q3 S" in page
    assert 'id="confirm-award"' in page
    history = client.get(url("award_detail", award.pk) + "?tab=history")
    assert history.status_code == 200


def test_who_opens_an_award(as_user, dept):
    award = _special(dept)
    assert as_user(dept.sales).get(url("award_detail", award.pk)).status_code == 404
    assert as_user(dept.other_lead).get(url("award_detail", award.pk)).status_code == 404
    assert as_user(dept.outsider).get(url("award_detail", award.pk)).status_code == 404
    assert as_user(dept.manager).get(url("award_detail", award.pk)).status_code == 200
    services.award_confirm(award=award, by=dept.director.user)
    page = body(as_user(dept.sales).get(url("award_detail", award.pk)))
    assert "6,000.00" in page and 'id="confirm-award"' not in page


def test_the_persons_record_shows_their_awards(as_user, dept):
    award = _special(dept)
    record = reverse("org:employee_detail", args=[dept.sales.pk])
    assert url("award_detail", award.pk) in body(as_user(dept.lead).get(record))
    page = body(as_user(dept.sales).get(record))
    assert 'id="awards-panel"' in page and url("award_detail", award.pk) not in page
    services.award_confirm(award=award, by=dept.director.user)
    assert url("award_detail", award.pk) in body(as_user(dept.sales).get(record))


def test_filters_fragment_and_export(as_user, dept):
    _special(dept)
    _special(dept, dept.other_sales, by=dept.other_lead)
    client = as_user(dept.director)
    page = body(client.get(url("award_list") + f"?q={dept.other_sales.name}"))
    assert dept.other_sales.name in page and f">{dept.sales.name}<" not in page
    fragment = client.get(url("award_list") + "?status=proposed", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and "<html" not in body(fragment)
    bad = client.get(url("award_list") + "?kind=nonsense")
    assert bad.status_code == 200
    export = client.get(url("award_list") + "?export=xlsx")
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")


def _queries(client, address) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(address)
    assert response.status_code == 200
    return len(ctx)


def test_the_list_costs_the_same_queries_for_more_rows(as_user, dept):
    services.title_create(by=dept.hr.user, name="优秀员工", basis="appraisal_score", top=50)
    people = [make_employee(dept.sales.unit) for _ in range(3)]
    q2 = cycle(dept, "2026-Q2", results={p: (80, "A") for p in people})
    services.awards_propose(by=dept.hr.user, cycle=q2)
    client = as_user(dept.director)
    few = _queries(client, url("award_list"))
    people += [make_employee(dept.other_sales.unit) for _ in range(8)]
    q3 = cycle(dept, results={p: (70 + i, "A") for i, p in enumerate(people)})
    services.awards_propose(by=dept.hr.user, cycle=q3)
    assert Award.objects.count() > 12
    assert _queries(client, url("award_list")) == few


def test_titles_are_read_by_everyone_and_kept_by_hr(as_user, dept):
    title = services.title_create(by=dept.hr.user, name="销售冠军", basis="revenue")
    page = body(as_user(dept.sales).get(url("title_list")))
    assert "销售冠军" in page and url("title_create") not in page
    assert as_user(dept.sales).get(url("title_create")).status_code == 403
    client = as_user(dept.hr)
    assert url("title_create") in body(client.get(url("title_list")))
    response = client.post(url("title_create"), {
        "name": "回款之星", "basis": "collections", "per": "division", "top": "2",
        "period_kind": "quarterly"})
    assert response.status_code == 302
    assert HonorTitle.objects.get(name="回款之星").per == "division"
    response = client.post(url("title_create"), {
        "name": "销售冠军", "basis": "revenue", "per": "team", "top": "1",
        "period_kind": "quarterly"})
    assert response.status_code == 200 and HonorTitle.objects.count() == 2
    response = client.post(url("title_edit", title.pk), {
        "name": "销售冠军", "basis": "revenue", "per": "team", "top": "3",
        "period_kind": "quarterly", "position": dept.lead.position.pk})
    title.refresh_from_db()
    assert response.status_code == 302 and title.top == 3 and title.position == dept.lead.position
    client.post(url("title_deactivate", title.pk))
    title.refresh_from_db()
    assert not title.is_active


def test_the_title_list_costs_the_same_queries_for_more_rows(as_user, dept):
    services.title_create(by=dept.hr.user, name="称号0", basis="revenue",
                          position=dept.lead.position)
    client = as_user(dept.hr)
    few = _queries(client, url("title_list"))
    api_few = _queries(client, "/api/v1/incentives/titles")
    for n in range(1, 6):
        services.title_create(by=dept.hr.user, name=f"称号{n}", basis="appraisal_score",
                              position=dept.sales.position)
    assert _queries(client, url("title_list")) == few
    assert _queries(client, "/api/v1/incentives/titles") == api_few
