from django.db import models
from django.utils.translation import gettext_lazy as _


class Metric(models.TextChoices):
    """What a target plan sets (TGT-1). How each is measured from the records lives in
    ``bizdept.kpi.measures`` — the one implementation the tracking and the appraisal share."""

    REVENUE = "revenue", _("Revenue")  # 销售额: value of contracts signed
    GROSS_MARGIN = "gross_margin", _("Gross margin")  # 毛利
    COLLECTIONS = "collections", _("Collections")  # 回款
    NEW_CUSTOMERS = "new_customers", _("New customers")
    VISITS = "visits", _("Visits")
    EXPENSES = "expenses", _("Expense budget")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for approval")
    APPROVED = "approved", _("Approved")
    SUPERSEDED = "superseded", _("Superseded by a revision")


# Who may move a plan where (one transition table, as elsewhere). A returned or rejected
# submission goes back to draft; an approved plan is only superseded, by its revision.
PLAN_TRANSITIONS: dict[str, frozenset[str]] = {
    PlanStatus.DRAFT: frozenset({PlanStatus.SUBMITTED}),
    PlanStatus.SUBMITTED: frozenset({PlanStatus.DRAFT, PlanStatus.APPROVED}),
    PlanStatus.APPROVED: frozenset({PlanStatus.SUPERSEDED}),
    PlanStatus.SUPERSEDED: frozenset(),
}
