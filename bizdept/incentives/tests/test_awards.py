"""Awards (INC-3) on the database: honor titles proposed from rankings checked against
hand-arranged results (top N per unit, ties at the boundary, a position filter, a KPI),
promotion recommendations from streaks of top grades, the director's decision, proposing
twice, and who sees which award."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from bizdept.core.errors import Conflict, DomainError
from bizdept.incentives import selectors, services
from bizdept.incentives.choices import AwardKind, AwardStatus
from bizdept.incentives.models import Award
from bizdept.kpi.tests import records

from .awards_data import Q3_DAY, cycle

pytestmark = pytest.mark.django_db


def _title(dept, **values):
    data = {"name": "优秀员工", "basis": "appraisal_score", "per": "department", "top": 1}
    data.update(values)
    return services.title_create(by=dept.hr.user, **data)


def _winners(title, cycle_=None):
    rows = Award.objects.filter(title=title)
    if cycle_ is not None:
        rows = rows.filter(cycle=cycle_)
    return {a.employee.name: a.evidence for a in rows}


# --- honor titles from rankings ---------------------------------------------------------
def test_the_best_score_of_the_department_gets_the_title(dept):
    title = _title(dept)
    q3 = cycle(dept, results={dept.sales: (91, "S"), dept.sales_mate: (85, "A"),
                              dept.other_sales: (70, "B")})
    assert services.awards_propose(by=dept.hr.user, cycle=q3) == 1
    winners = _winners(title)
    assert list(winners) == [dept.sales.name]
    evidence = winners[dept.sales.name]
    assert evidence["rank"] == 1 and evidence["of"] == 3 and evidence["value"] == "91.00"
    assert evidence["unit"]["name"] == "经营部" and evidence["tied"] == 1
    award = Award.objects.get(title=title)
    assert award.status == AwardStatus.PROPOSED and award.period == "2026-Q3"
    assert award.proposed_by == dept.hr


def test_top_two_per_team(dept):
    title = _title(dept, per="team", top=2)
    q3 = cycle(dept, results={dept.sales: (91, "S"), dept.sales_mate: (85, "A"),
                              dept.lead: (80, "A"), dept.other_sales: (60, "C")})
    services.awards_propose(by=dept.hr.user, cycle=q3)
    winners = _winners(title)
    # 上海一所: sales, sales_mate (not the lead, third); 杭州所: other_sales alone
    assert set(winners) == {dept.sales.name, dept.sales_mate.name, dept.other_sales.name}
    assert winners[dept.sales_mate.name]["rank"] == 2
    assert winners[dept.other_sales.name]["unit"]["name"] == "杭州所"


def test_everyone_tied_at_the_boundary_is_proposed_and_it_says_so(dept):
    title = _title(dept, top=1)
    q3 = cycle(dept, results={dept.sales: (88, "A"), dept.sales_mate: (88, "A"),
                              dept.other_sales: (70, "B")})
    assert services.awards_propose(by=dept.hr.user, cycle=q3) == 2
    winners = _winners(title)
    assert set(winners) == {dept.sales.name, dept.sales_mate.name}
    assert all(e["rank"] == 1 and e["tied"] == 2 and e["beyond_top"]
               for e in winners.values())
    text = selectors.evidence_text(Award.objects.filter(title=title).first())
    assert "88.00" in text


def test_a_title_for_a_position_ranks_its_holders_only(dept):
    title = _title(dept, name="优秀业务所长", position=dept.lead.position.pk)
    q3 = cycle(dept, results={dept.sales: (99, "S"), dept.lead: (82, "A"),
                              dept.other_lead: (86, "A")})
    services.awards_propose(by=dept.hr.user, cycle=q3)
    assert list(_winners(title)) == [dept.other_lead.name]


def test_a_title_by_revenue_ranks_the_records_of_the_cycle(dept):
    title = _title(dept, name="销售冠军", basis="revenue")
    records.contract(dept.sales, total="120000.00", signed_on=Q3_DAY)
    records.contract(dept.other_sales, total="150000.00", signed_on=Q3_DAY)
    records.contract(dept.sales_mate, total="900000.00",  # another quarter: not counted
                     signed_on=Q3_DAY.replace(month=4))
    q3 = cycle(dept, results={dept.sales: (80, "A"), dept.sales_mate: (80, "A"),
                              dept.other_sales: (80, "A")})
    services.awards_propose(by=dept.hr.user, cycle=q3)
    winners = _winners(title)
    assert list(winners) == [dept.other_sales.name]
    assert winners[dept.other_sales.name]["value"] == "150000.00"
    text = selectors.evidence_text(Award.objects.get(title=title))
    assert "¥150,000.00" in text and "经营部" in text


def test_nobody_with_nothing_done_gets_a_kpi_title(dept):
    title = _title(dept, name="回款之星", basis="collections")
    q3 = cycle(dept, results={dept.sales: (80, "A")})
    assert services.awards_propose(by=dept.hr.user, cycle=q3) == 0
    assert not _winners(title)


def test_titles_of_the_other_period_kind_and_inactive_ones_are_not_proposed(dept):
    _title(dept, name="年度之星", period_kind="annual")
    old = _title(dept, name="旧称号")
    services.title_deactivate(title=old, by=dept.hr.user)
    q3 = cycle(dept, results={dept.sales: (91, "S")})
    assert services.awards_propose(by=dept.hr.user, cycle=q3) == 0


def test_proposing_twice_adds_nothing_new(dept):
    title = _title(dept)
    q3 = cycle(dept, results={dept.sales: (91, "S"), dept.sales_mate: (85, "A")})
    assert services.awards_propose(by=dept.hr.user, cycle=q3) == 1
    assert services.awards_propose(by=dept.director.user, cycle=q3) == 0
    assert Award.objects.filter(title=title).count() == 1


def test_proposing_reads_a_constant_number_of_queries(dept, django_assert_max_num_queries):
    from bizdept.org.tests.factories import make_employee

    _title(dept)
    _title(dept, name="销售冠军", basis="revenue", per="team")
    _title(dept, name="回款率之星", basis="collection_rate", per="division")
    team = dept.sales.unit
    people = [make_employee(team) for _ in range(12)]
    results = {p: (60 + i, "A") for i, p in enumerate(people)}
    q1 = cycle(dept, "2026-Q1", results=results)
    q2 = cycle(dept, "2026-Q2", results=results)
    q3 = cycle(dept, results=results)
    for p in people:
        records.contract(p, total="1000.00", signed_on=Q3_DAY)
    assert q1 and q2
    with django_assert_max_num_queries(30):
        added = services.awards_propose(by=dept.hr.user, cycle=q3)
    assert added == 1 + 12 + 12  # the best; everyone tied on revenue; 12 streaks


def test_only_an_approved_cycle_of_my_department_and_only_hr_or_the_director(dept):
    q3 = cycle(dept, status="calibration", results={dept.sales: (91, "S")})
    with pytest.raises(DomainError) as exc:
        services.awards_propose(by=dept.hr.user, cycle=q3)
    assert exc.value.code == "not_approved"
    for someone in (dept.lead, dept.sales, dept.finance):
        with pytest.raises(PermissionDenied):
            services.awards_propose(by=someone.user, cycle=q3)
    q3.status = "approved"
    q3.unit = dept.outsider.unit  # another department's cycle
    q3.save()
    with pytest.raises(DomainError) as exc:
        services.awards_propose(by=dept.hr.user, cycle=q3)
    assert "cycle" in exc.value.errors
    assert not Award.objects.exists()


# --- promotion recommendations -------------------------------------------------------------
def test_three_quarters_of_s_or_a_recommend_a_promotion(dept):
    for period, grade in (("2026-Q1", "A"), ("2026-Q2", "S")):
        cycle(dept, period, results={dept.sales: (90, grade), dept.sales_mate: (90, "A")})
    q3 = cycle(dept, results={dept.sales: (85, "A"), dept.sales_mate: (75, "B")})
    services.awards_propose(by=dept.hr.user, cycle=q3)
    promotion = Award.objects.get(kind=AwardKind.PROMOTION)
    assert promotion.employee == dept.sales
    assert [(c["period"], c["grade"]) for c in promotion.evidence["streak"]] == [
        ("2026-Q1", "A"), ("2026-Q2", "S"), ("2026-Q3", "A")]
    text = selectors.evidence_text(promotion)
    assert "2026-Q1 A, 2026-Q2 S, 2026-Q3 A" in text


def test_a_b_in_between_breaks_the_streak(dept):
    cycle(dept, "2026-Q1", results={dept.sales: (90, "S")})
    cycle(dept, "2026-Q2", results={dept.sales: (75, "B")})
    q3 = cycle(dept, results={dept.sales: (90, "S")})
    services.awards_propose(by=dept.hr.user, cycle=q3)
    assert not Award.objects.filter(kind=AwardKind.PROMOTION).exists()


def test_too_few_cycles_or_a_cycle_missed_is_no_streak(dept):
    cycle(dept, "2026-Q2", results={dept.sales: (90, "S")})
    q3 = cycle(dept, results={dept.sales: (90, "S")})
    services.awards_propose(by=dept.hr.user, cycle=q3)
    assert not Award.objects.filter(kind=AwardKind.PROMOTION).exists()
    cycle(dept, "2026-Q1", results={dept.sales_mate: (90, "S")})  # sales not appraised
    services.awards_propose(by=dept.hr.user, cycle=q3)
    assert not Award.objects.filter(kind=AwardKind.PROMOTION).exists()


def test_two_years_of_top_grades_for_annual_cycles(dept):
    cycle(dept, "2025", results={dept.sales: (90, "A")})
    year = cycle(dept, "2026", results={dept.sales: (95, "S")})
    services.awards_propose(by=dept.hr.user, cycle=year)
    promotion = Award.objects.get(kind=AwardKind.PROMOTION)
    assert [c["period"] for c in promotion.evidence["streak"]] == ["2025", "2026"]


def test_a_pending_recommendation_is_not_repeated_next_quarter(dept):
    for period in ("2026-Q1", "2026-Q2", "2026-Q3"):
        found = cycle(dept, period, results={dept.sales: (90, "A")})
    services.awards_propose(by=dept.hr.user, cycle=found)
    q4 = cycle(dept, "2026-Q4", results={dept.sales: (90, "A")})
    assert services.awards_propose(by=dept.hr.user, cycle=q4) == 0


# --- special awards ------------------------------------------------------------------------
def test_a_head_above_proposes_a_year_end_special_award(dept):
    award = services.special_award_propose(by=dept.lead.user, employee=dept.sales,
                                           period="2026", amount="8000", reason="大单突破")
    assert award.kind == AwardKind.SPECIAL_AWARD and award.amount == Decimal("8000.00")
    assert award.status == AwardStatus.PROPOSED
    with pytest.raises(Conflict):
        services.special_award_propose(by=dept.hr.user, employee=dept.sales, period="2026",
                                       amount="100", reason="再次")


@pytest.mark.parametrize("field,values", [
    ("amount", {"amount": "0"}), ("amount", {"amount": "-5"}), ("amount", {"amount": "1.005"}),
    ("amount", {"amount": "abc"}), ("period", {"period": "2026-Q3"}),
    ("period", {"period": "26"}), ("reason", {"reason": "  "}),
])
def test_a_special_award_needs_a_year_an_amount_and_a_reason(dept, field, values):
    data = {"period": "2026", "amount": "100", "reason": "贡献"}
    data.update(values)
    with pytest.raises(DomainError) as exc:
        services.special_award_propose(by=dept.director.user, employee=dept.sales, **data)
    assert field in exc.value.errors


def test_who_may_propose_a_special_award(dept):
    data = {"period": "2026", "amount": "100", "reason": "贡献"}
    for someone in (dept.sales_mate, dept.finance):
        with pytest.raises(PermissionDenied):
            services.special_award_propose(by=someone.user, employee=dept.sales, **data)
    for someone, employee in ((dept.other_lead, dept.sales), (dept.lead, dept.lead),
                              (dept.hr, dept.outsider)):
        with pytest.raises(DomainError) as exc:
            services.special_award_propose(by=someone.user, employee=employee, **data)
        assert "employee" in exc.value.errors


# --- the director's decision ---------------------------------------------------------------
def _proposal(dept):
    return services.special_award_propose(by=dept.lead.user, employee=dept.sales,
                                          period="2026", amount="5000", reason="贡献")


def test_only_the_director_confirms_and_it_is_final(dept):
    award = _proposal(dept)
    for someone in (dept.hr, dept.lead, dept.manager, dept.finance, dept.sales):
        with pytest.raises(PermissionDenied):
            services.award_confirm(award=award, by=someone.user)
    award = services.award_confirm(award=award, by=dept.director.user, note="同意")
    assert award.status == AwardStatus.CONFIRMED and award.decided_by == dept.director
    assert award.decision_note == "同意" and award.decided_at is not None
    with pytest.raises(Conflict):
        services.award_decline(award=award, by=dept.director.user, note="改主意")
    with pytest.raises(Conflict):
        services.award_confirm(award=award, by=dept.director.user)


def test_declining_needs_a_note(dept):
    award = _proposal(dept)
    with pytest.raises(DomainError) as exc:
        services.award_decline(award=award, by=dept.director.user, note=" ")
    assert "note" in exc.value.errors
    award = services.award_decline(award=award, by=dept.director.user, note="预算不足")
    assert award.status == AwardStatus.DECLINED


# --- honor titles ---------------------------------------------------------------------------
def test_titles_are_kept_by_hr_or_the_director(dept):
    title = _title(dept)
    with pytest.raises(PermissionDenied):
        services.title_create(by=dept.lead.user, name="x", basis="revenue")
    with pytest.raises(DomainError) as exc:
        services.title_create(by=dept.hr.user, name="x", basis="nonsense")
    assert "basis" in exc.value.errors
    with pytest.raises(DomainError) as exc:
        services.title_create(by=dept.hr.user, name="x", basis="revenue", top=0)
    assert "top" in exc.value.errors
    with pytest.raises(DomainError) as exc:
        services.title_create(by=dept.hr.user, name="优秀员工", basis="revenue")
    assert "name" in exc.value.errors
    title = services.title_update(title=title, by=dept.director.user, top=3, name_en="Star",
                                  version=title.version)
    assert title.top == 3 and title.name_en == "Star"
    with pytest.raises(Conflict):
        services.title_update(title=title, by=dept.director.user, top=2, version=1)


# --- who sees what ---------------------------------------------------------------------------
def test_proposals_are_seen_above_and_the_person_sees_theirs_once_confirmed(dept):
    mine = _proposal(dept)
    theirs = services.special_award_propose(by=dept.other_lead.user, employee=dept.other_sales,
                                            period="2026", amount="100", reason="贡献")

    def seen(employee):
        return set(selectors.award_list(user=employee.user))

    assert seen(dept.sales) == set()
    assert seen(dept.lead) == {mine}
    assert seen(dept.manager) == seen(dept.director) == seen(dept.hr) == {mine, theirs}
    assert seen(dept.outsider) == seen(dept.finance) == set()
    services.award_confirm(award=mine, by=dept.director.user)
    assert seen(dept.sales) == {mine}
    assert list(selectors.awards_of(user=dept.sales.user, employee=dept.sales)) == [mine]
    assert list(selectors.awards_of(user=dept.sales_mate.user, employee=dept.sales)) == []
