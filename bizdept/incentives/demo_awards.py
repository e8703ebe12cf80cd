"""Honor titles and awards for the demo department (INC-3), through the services as the
people would, after the appraisal demo approved its cycles:

* the default honor titles: 销售冠军 (revenue, the department's top 1), 优秀业务所长 (the
  appraisal's total score among the team leads, top 1) and 回款之星 (collections, the
  department's top 1), all from quarterly cycles;
* HR proposes from the last approved quarter (titles to the rankings' top, promotion
  recommendations to anyone with three quarters of S or A in a row);
* the director confirms the honor titles and leaves the rest waiting for a decision;
* a team lead proposes a year-end special award for one of their people, left for the
  director to decide.

``build_demo(ctx)`` runs after ``bizdept.incentives.demo`` (it reads the approved cycles
and the demo's logins); ``build_scale`` does nothing.
"""

from __future__ import annotations

from django.db import transaction

DEFAULT_TITLES = [
    # name, English name, basis, per, top, position key (bizdept.org.demo.POSITIONS)
    ("销售冠军", "Sales champion", "revenue", "department", 1, None),
    ("优秀业务所长", "Outstanding team lead", "appraisal_score", "department", 1, "lead"),
    ("回款之星", "Collections star", "collections", "department", 1, None),
]


def ensure_titles(by) -> list:
    """The default honor titles (those missing are created)."""
    from bizdept.org.demo import POSITIONS
    from bizdept.org.models import Position

    from . import services
    from .models import HonorTitle

    made = []
    for name, name_en, basis, per, top, position_key in DEFAULT_TITLES:
        found = HonorTitle.objects.filter(name=name).first()
        if found is None:
            position = (Position.objects.filter(name=POSITIONS[position_key][0]).first()
                        if position_key else None)
            found = services.title_create(by=by, name=name, name_en=name_en, basis=basis,
                                          per=per, top=top, position=position)
        made.append(found)
    return made


@transaction.atomic
def build_demo(ctx) -> None:
    from bizdept.appraisal.models import AppraisalCycle

    from . import services
    from .choices import AwardKind, AwardStatus
    from .models import Award

    hr, director = ctx.by_username.get("hr"), ctx.by_username.get("director")
    if hr is None or director is None:
        return
    ensure_titles(hr.user)
    last = (AppraisalCycle.objects.filter(kind="quarterly", status="approved",
                                          unit=director.unit).order_by("-since").first())
    if last is None:
        return
    services.awards_propose(by=hr.user, cycle=last)
    for award in Award.objects.filter(cycle=last, kind=AwardKind.HONOR_TITLE,
                                      status=AwardStatus.PROPOSED).order_by("pk"):
        services.award_confirm(award=award, by=director.user, note="表现突出，同意授予。")
    lead = ctx.by_username.get("lead1")
    if lead is not None:
        member = (lead.unit.members.exclude(pk=lead.pk).filter(status="active")
                  .order_by("number").first())
        if member is not None:
            services.special_award_propose(
                by=lead.user, employee=member, period=str(last.since.year),
                amount="10000", reason="全年业绩突出，签下本所最大订单，带教两名新人。")


def build_scale(ctx, size: str) -> None:
    """No awards in the scale departments."""
