from datetime import timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    COMPANY = "company", _("Company")
    INDIVIDUAL = "individual", _("Individual")


class Stage(models.TextChoices):
    """Lifecycle stage (CUS-1)."""

    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", _("Active")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")


class Source(models.TextChoices):
    REFERRAL = "referral", _("Referral")
    EXHIBITION = "exhibition", _("Exhibition")
    WEBSITE = "website", _("Website")
    COLD_CALL = "cold_call", _("Cold call")
    PARTNER = "partner", _("Partner")
    OTHER = "other", _("Other")


class Grade(models.TextChoices):
    """Customer grade (CUS-3), set by money received in the last 12 months."""

    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


class VisitKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    CALL = "call", _("Phone call")
    REVISIT = "revisit", _("Revisit")
    JOINT = "joint", _("Joint visit")
    ONLINE = "online", _("Online meeting")


class OwnerChangeKind(models.TextChoices):
    CREATED = "created", _("Created")
    TRANSFER = "transfer", _("Transfer")
    CLAIM = "claim", _("Claimed from the pool")
    RELEASE = "release", _("Released to the pool")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


# How long a complaint may stay unresolved, by severity (CUS-9).
COMPLAINT_DEADLINES = {
    Severity.CRITICAL: timedelta(hours=24),
    Severity.HIGH: timedelta(days=2),
    Severity.MEDIUM: timedelta(days=5),
    Severity.LOW: timedelta(days=10),
}


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# The complaint workflow (CUS-9), django-oscar style: the statuses each status may move to.
# ``services._set_status`` refuses every other move, naming the field ``status``.
COMPLAINT_TRANSITIONS: dict[str, frozenset[str]] = {
    ComplaintStatus.OPEN: frozenset({ComplaintStatus.IN_PROGRESS, ComplaintStatus.RESOLVED}),
    ComplaintStatus.IN_PROGRESS: frozenset({ComplaintStatus.RESOLVED}),
    ComplaintStatus.RESOLVED: frozenset({ComplaintStatus.CLOSED}),
    ComplaintStatus.CLOSED: frozenset(),
}

#: A complaint in these statuses is still being worked on: it has a deadline to meet.
COMPLAINT_PENDING = (ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS)


class ReportKind(models.TextChoices):
    """Market intelligence (市场信息反馈, CUS-11)."""

    COMPETITOR = "competitor", _("Competitor")
    DEMAND = "demand", _("Demand")
    PRICE = "price", _("Price")
    POLICY = "policy", _("Policy")
    OTHER = "other", _("Other")
