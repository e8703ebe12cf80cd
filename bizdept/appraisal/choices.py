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
