from django.db import models
from django.utils.translation import gettext_lazy as _


class PeriodKind(models.TextChoices):
    QUARTERLY = "quarterly", _("Quarterly")
    ANNUAL = "annual", _("Annual")


class ItemKind(models.TextChoices):
    KPI = "kpi", _("KPI (computed from the records)")
    MANUAL = "manual", _("Manual (scored by the reviewer)")


class TargetSource(models.TextChoices):
    PLAN = "plan", _("The person's target in the approved plan")
    FIXED = "fixed", _("A fixed target")


class RuleKind(models.TextChoices):
    LINEAR = "linear", _("Linear (optionally capped)")
    THRESHOLD = "threshold", _("Threshold steps")
    TABLE = "table", _("Table of ranges")


class CycleStatus(models.TextChoices):
    """A cycle's stage (PER-3); it only moves forward, except an audited reopening."""

    OPEN = "open", _("Open")
    SELF_ASSESSMENT = "self_assessment", _("Self-assessment")
    MANAGER_REVIEW = "manager_review", _("Manager review")
    CALIBRATION = "calibration", _("Calibration")
    SUBMITTED = "submitted", _("In approval")
    APPROVED = "approved", _("Approved")


CYCLE_FLOW = (CycleStatus.OPEN, CycleStatus.SELF_ASSESSMENT, CycleStatus.MANAGER_REVIEW,
              CycleStatus.CALIBRATION)
# Before calibration the KPI values follow the records; from calibration on they hold
# still (what is calibrated is what is approved), and approval freezes them for good.
LIVE_STATUSES = (CycleStatus.OPEN, CycleStatus.SELF_ASSESSMENT, CycleStatus.MANAGER_REVIEW)


class Grade(models.TextChoices):
    S = "S", "S"
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


GRADES = ("S", "A", "B", "C", "D")  # best first
PASS_GRADES = ("S", "A", "B", "C")  # 合格及以上
DEFAULT_GRADE_BANDS = {"S": "90", "A": "80", "B": "70", "C": "60"}  # D: below C's band
DEFAULT_DISTRIBUTION = [{"grades": ["S", "A"], "percent": "20"},
                        {"grades": ["B"], "percent": "70"},
                        {"grades": ["C", "D"], "percent": "10"}]


class ImprovementStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")
