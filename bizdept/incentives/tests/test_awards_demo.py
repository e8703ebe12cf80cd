"""Awards of the demo (INC-3): the default honor titles, proposals from the last approved
quarter with their evidence, the titles confirmed by the director, a special award
waiting for the director's decision."""

import pytest

from bizdept.core.management.commands.demo import DEMO_MODULES, build
from bizdept.incentives import demo_awards, selectors
from bizdept.incentives.models import Award, HonorTitle


@pytest.mark.django_db
def test_demo_awards():
    assert DEMO_MODULES.index("bizdept.incentives.demo_awards") > DEMO_MODULES.index(
        "bizdept.appraisal.demo")
    ctx = build("demo")
    assert set(HonorTitle.objects.values_list("name", flat=True)) >= {
        "销售冠军", "优秀业务所长", "回款之星"}
    titles = Award.objects.filter(kind="honor_title")
    assert titles.exists() and all(a.status == "confirmed" for a in titles)
    champion = titles.filter(title__name="优秀业务所长").first()
    if champion is not None:
        assert champion.employee.position.name == "业务所长"
    for award in titles:
        assert selectors.evidence_text(award)
    special = Award.objects.get(kind="special_award")
    assert special.status == "proposed" and special.amount > 0
    director = ctx.by_username["director"]
    assert special in set(selectors.award_list(user=director.user))
    # building again adds nothing twice
    before = Award.objects.count()
    demo_awards.ensure_titles(ctx.by_username["hr"].user)
    assert HonorTitle.objects.count() == 3 and Award.objects.count() == before
