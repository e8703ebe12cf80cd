from django.db import models
from django.utils.translation import gettext_lazy as _


class PlanStatus(models.TextChoices):
    """A bonus plan version's life (INC-1): drafted, approved through the engine, then in
    force until a newer version of the same position and period is approved."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("In approval")
    APPROVED = "approved", _("In force")
    SUPERSEDED = "superseded", _("Superseded")


class CoefficientBasis(models.TextChoices):
    GRADE = "grade", _("Appraisal grade")
    SCORE = "score", _("Appraisal score")


class CommissionMeasure(models.TextChoices):
    """The plan metrics a commission may be paid on (their figures: ``kpi.measures``)."""

    NONE = "", _("No commission")
    REVENUE = "revenue", _("Revenue")
    GROSS_MARGIN = "gross_margin", _("Gross margin")
    COLLECTIONS = "collections", _("Collections")


class CommissionMode(models.TextChoices):
    TIERED = "tiered", _("Each tier's rate on the part inside it")
    WHOLE = "whole", _("The reached tier's rate on the whole amount")


class GateKind(models.TextChoices):
    KPI_BELOW = "kpi_below", _("A KPI under a floor")
    GRADE_IN = "grade_in", _("One of these grades")


class GateBlocks(models.TextChoices):
    BASE = "base", _("No base bonus")
    COMMISSION = "commission", _("No commission")
    ALL = "all", _("No bonus at all")


class RunStatus(models.TextChoices):
    """A bonus run's life (INC-2): worked out (and again on demand) while a draft,
    approved through the engine, then frozen."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("In approval")
    APPROVED = "approved", _("Approved")


# === Awards (INC-3) =======================================================================
class AwardKind(models.TextChoices):
    SPECIAL_AWARD = "special_award", _("Year-end special award")
    HONOR_TITLE = "honor_title", _("Honor title")
    PROMOTION = "promotion", _("Promotion recommendation")


class AwardStatus(models.TextChoices):
    """An award is proposed, then confirmed or declined by the director; both are final."""

    PROPOSED = "proposed", _("Proposed")
    CONFIRMED = "confirmed", _("Confirmed")
    DECLINED = "declined", _("Declined")


class RankingUnit(models.TextChoices):
    """Where people are ranked against each other for an honor title."""

    DEPARTMENT = "department", _("Department")
    DIVISION = "division", _("Division")
    TEAM = "team", _("Team")


APPRAISAL_SCORE = "appraisal_score"  # an honor title's basis besides the KPI codes
# A promotion is recommended after this many approved cycles in a row graded S or A.
PROMOTION_STREAK = {"quarterly": 3, "annual": 2}
TOP_GRADES = ("S", "A")
