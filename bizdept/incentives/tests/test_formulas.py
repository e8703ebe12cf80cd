"""The bonus arithmetic (INC-1) with hypothesis: more achievement never pays less, the
tiers add up to the piecewise formula, caps and gates always hold. No database."""

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bizdept.incentives import formulas
from bizdept.incentives.formulas import Gate, Inputs, Rules, Tier

CENT = Decimal("0.01")

money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000000"), places=2,
                    allow_nan=False, allow_infinity=False)
rates = st.decimals(min_value=Decimal(0), max_value=Decimal(30), places=2)


@st.composite
def tier_lists(draw):
    """Tiers starting at 0, each higher than the one before, rates never falling."""
    steps = draw(st.lists(st.decimals(min_value=Decimal("0.5"), max_value=Decimal(80),
                                      places=2), min_size=0, max_size=5))
    starts, at = [Decimal(0)], Decimal(0)
    for step in steps:
        at += step
        starts.append(at)
    found = sorted(draw(st.lists(rates, min_size=len(starts), max_size=len(starts))))
    return tuple(Tier(s, r) for s, r in zip(starts, found, strict=True))


def _rules(tiers, mode="tiered", **extra):
    values = {"base_amount": Decimal(0), "coefficient_basis": "grade", "coefficients": {},
              "commission_measure": "revenue", "commission_mode": mode, "tiers": tiers}
    values.update(extra)
    return Rules(**values)


def _piecewise(tiers, actual, target) -> Decimal:
    """The closed form: the full tiers below the one the actual is in, plus the part of
    that one — exact, no rounding."""
    bounds = [target * t.start / 100 for t in tiers]
    k = max(i for i, lower in enumerate(bounds) if actual >= lower)
    full = sum(((bounds[i + 1] - bounds[i]) * tiers[i].rate / 100 for i in range(k)),
               Decimal(0))
    return full + (actual - bounds[k]) * tiers[k].rate / 100


@settings(max_examples=300, deadline=None)
@given(tiers=tier_lists(), target=money, a=money, b=money,
       mode=st.sampled_from(["tiered", "whole"]))
def test_more_achievement_never_pays_less(tiers, target, a, b, mode):
    low, high = sorted((a, b))
    rules = _rules(tiers, mode)
    paid = [formulas.work_out(rules, Inputs(actual=x, target=target)).commission
            for x in (low, high)]
    assert paid[0] <= paid[1]


@settings(max_examples=300, deadline=None)
@given(tiers=tier_lists(), target=money, actual=money)
def test_the_tiers_add_up_to_the_piecewise_formula(tiers, target, actual):
    outcome = formulas.work_out(_rules(tiers), Inputs(actual=actual, target=target))
    assert outcome.commission == sum((s.commission for s in outcome.steps), Decimal(0))
    exact = _piecewise(tiers, actual, target)
    # each tier is rounded half up to the cent once: at most half a cent each
    assert abs(outcome.commission - exact) <= Decimal("0.005") * len(tiers)


@settings(max_examples=200, deadline=None)
@given(tiers=tier_lists(), target=money, actual=money)
def test_the_whole_mode_pays_the_reached_rate_on_everything(tiers, target, actual):
    outcome = formulas.work_out(_rules(tiers, "whole"), Inputs(actual=actual, target=target))
    reached = [t for t in tiers if actual * 100 >= target * t.start][-1]
    assert outcome.commission == (actual * reached.rate / 100).quantize(
        CENT, rounding=ROUND_HALF_UP)


@settings(max_examples=200, deadline=None)
@given(tiers=tier_lists(), target=money, actual=money,
       base=st.decimals(min_value=Decimal(0), max_value=Decimal(100000), places=2),
       grade=st.sampled_from(["S", "A", "B", "C", "D"]),
       commission_cap=st.none() | money, total_cap=st.none() | money)
def test_caps_are_never_exceeded_and_the_line_adds_up(tiers, target, actual, base, grade,
                                                      commission_cap, total_cap):
    rules = _rules(tiers, base_amount=base, coefficients={"S": "1.5", "A": "1.2", "B": "1",
                                                          "C": "0.8"},
                   commission_cap=commission_cap, total_cap=total_cap)
    outcome = formulas.work_out(rules, Inputs(grade=grade, actual=actual, target=target))
    if commission_cap is not None:
        assert outcome.commission <= commission_cap
    if total_cap is not None:
        assert outcome.total <= total_cap
    before_caps = outcome.base_bonus + sum((s.commission for s in outcome.steps), Decimal(0))
    assert outcome.total == before_caps - outcome.capped_by
    assert outcome.total >= 0


@settings(max_examples=200, deadline=None)
@given(tiers=tier_lists(), target=money, actual=money,
       rate=st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=2),
       floor=st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=2),
       grade=st.sampled_from(["S", "A", "B", "C", "D"]))
def test_gates_take_away_what_they_block(tiers, target, actual, rate, floor, grade):
    rules = _rules(tiers, base_amount=Decimal(1000), coefficients={"S": "1", "A": "1",
                                                                   "B": "1", "C": "1",
                                                                   "D": "1"},
                   gates=(Gate(kind="kpi_below", kpi="collection_rate", floor=floor,
                               blocks="commission"),
                          Gate(kind="grade_in", grades=("D",), blocks="all")))
    outcome = formulas.work_out(rules, Inputs(grade=grade, actual=actual, target=target,
                                              kpis={"collection_rate": rate}))
    if grade == "D":
        assert outcome.total == 0
    elif rate < floor:
        assert outcome.commission == 0 and outcome.total == Decimal("1000.00")
    else:
        assert outcome.commission == sum((s.commission for s in outcome.steps), Decimal(0))


def test_the_issue_example_by_hand():
    """Target 100,000, actual 130,000: 0 below 80 %, 3 % on 80–100 k, 5 % on 100–120 k,
    8 % on 120–130 k = 600 + 1,000 + 800."""
    tiers = (Tier(Decimal(0), Decimal(0)), Tier(Decimal(80), Decimal(3)),
             Tier(Decimal(100), Decimal(5)), Tier(Decimal(120), Decimal(8)))
    outcome = formulas.work_out(_rules(tiers), Inputs(actual=Decimal(130000),
                                                      target=Decimal(100000)))
    assert [s.commission for s in outcome.steps] == [Decimal("0.00"), Decimal("600.00"),
                                                     Decimal("1000.00"), Decimal("800.00")]
    assert outcome.commission == Decimal("2400.00")
    assert outcome.achievement == Decimal("130.00")
    whole = formulas.work_out(_rules(tiers, "whole"), Inputs(actual=Decimal(130000),
                                                             target=Decimal(100000)))
    assert whole.commission == Decimal("10400.00")


def test_no_target_or_nothing_sold_pays_no_commission():
    tiers = (Tier(Decimal(0), Decimal(5)),)
    assert formulas.work_out(_rules(tiers), Inputs(actual=Decimal(5), target=None)
                             ).no_commission_reason == "no_target"
    assert formulas.work_out(_rules(tiers), Inputs(actual=Decimal(5), target=Decimal(0))
                             ).commission == 0
    assert formulas.work_out(_rules(tiers), Inputs(actual=Decimal(-5), target=Decimal(10))
                             ).no_commission_reason == "no_actual"


def test_score_bands_take_the_highest_reached():
    rules = Rules(base_amount=Decimal(1000), coefficient_basis="score",
                  coefficients=[{"from": "90", "coefficient": "1.5"},
                                {"from": "70", "coefficient": "1"}])
    assert formulas.work_out(rules, Inputs(score=Decimal("90.00"))).base_bonus == Decimal(
        "1500.00")
    assert formulas.work_out(rules, Inputs(score=Decimal("89.99"))).base_bonus == Decimal(
        "1000.00")
    assert formulas.work_out(rules, Inputs(score=Decimal("69.99"))).base_bonus == 0
    assert formulas.work_out(rules, Inputs(score=None)).base_bonus == 0
