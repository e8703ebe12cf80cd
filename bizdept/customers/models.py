"""CUS-1..11: customers and their contacts, grades, the public pool, field work,
complaints, satisfaction surveys and market intelligence."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from bizdept.org.models import Employee, EmployeeStatus
from bizdept.org.scope import Domain, ScopedQuerySet, employee_of

from .choices import (
    ComplaintStatus,
    CustomerKind,
    Grade,
    OwnerChangeKind,
    ReportKind,
    Severity,
    Source,
    Stage,
    VisitKind,
)


class CustomerQuerySet(ScopedQuerySet):
    scope_owner_fields = ("owner", "collaborators")
    scope_domain = Domain.SALES

    def also_visible(self, user):
        """The public pool is open to every active employee, to claim from (CUS-6)."""
        me = employee_of(user)
        if me is not None and me.status != EmployeeStatus.LEFT:
            return Q(owner__isnull=True)
        return None

    def in_pool(self):
        return self.filter(owner__isnull=True)


class Customer(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=CustomerKind.choices,
                            default=CustomerKind.COMPANY)
    name = models.CharField(_("name"), max_length=200)
    # Normalized name (full/half width, spaces, case, legal-form suffix) for CUS-5.
    name_key = models.CharField(max_length=200, editable=False)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    industry = models.CharField(_("industry"), max_length=50, blank=True)
    region = models.CharField(_("region"), max_length=50, blank=True, db_index=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices,
                              default=Source.OTHER)
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices,
                             default=Stage.PROSPECT, db_index=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    owner = models.ForeignKey(Employee, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="customers", verbose_name=_("owner"))
    collaborators = models.ManyToManyField(Employee, blank=True, related_name="shared_customers",
                                           verbose_name=_("collaborators"))
    pooled_at = models.DateTimeField(_("in the pool since"), null=True, blank=True)

    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True,
                             db_index=True)
    grade_is_manual = models.BooleanField(_("grade set by hand"), default=False)
    grade_reason = models.CharField(_("reason for the manual grade"), max_length=200, blank=True)
    graded_at = models.DateTimeField(_("graded at"), null=True, blank=True)
    last_followup_at = models.DateTimeField(_("last follow-up"), null=True, blank=True,
                                            db_index=True)
    next_revisit_on = models.DateField(_("next revisit due"), null=True, blank=True,
                                       db_index=True)

    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CustomerQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[collaborators],
                                excluded_fields=["name_key", "updated_at"])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            # CUS-5: one customer per credit code and per normalized name, even under races.
            models.UniqueConstraint(fields=["credit_code"], condition=~Q(credit_code=""),
                                    name="customer_unique_credit_code"),
            models.UniqueConstraint(fields=["name_key"], name="customer_unique_name_key"),
        ]
        indexes = [
            models.Index(fields=["owner", "next_revisit_on"], name="customer_owner_revisit"),
            # The lists' default orders: a wide scope walks them instead of sorting.
            models.Index(fields=["created_at"], name="customer_created"),
            models.Index(fields=["name"], name="customer_name"),
        ]

    def __str__(self):
        return self.name


class ContactQuerySet(ScopedQuerySet):
    scope_owner_fields = ()  # a contact has no owner of its own
    scope_domain = Domain.SALES

    def also_visible(self, user):
        """A contact is seen by whoever sees its customer (owner, collaborator, pool)."""
        return Q(customer__in=Customer.objects.visible_to(user).values("pk"))


class Contact(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts",
                                 verbose_name=_("customer"))
    name = models.CharField(_("name"), max_length=50)
    title = models.CharField(_("title"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True, db_index=True)
    email = models.EmailField(_("email"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=50, blank=True)
    is_key = models.BooleanField(_("key person"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = ContactQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-is_key", "name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self):
        return self.name


class GradeRule(models.Model):
    """CUS-3: a grade is earned by money received in the last 12 months; each grade has
    its revisit interval (CUS-4)."""

    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, unique=True)
    min_received = models.DecimalField(_("received in 12 months, at least"), max_digits=14,
                                       decimal_places=2, validators=[MinValueValidator(0)])
    revisit_days = models.PositiveSmallIntegerField(
        _("revisit every (days)"), validators=[MinValueValidator(1), MaxValueValidator(365)])

    history = HistoricalRecords()

    class Meta:
        ordering = ["-min_received"]
        verbose_name = _("grade rule")
        verbose_name_plural = _("grade rules")

    def __str__(self):
        return f"{self.grade} ≥ {self.min_received}"


class CustomerSettings(models.Model):
    """The department's customer rules (a single row): pool release and claim limits."""

    pool_release_days = models.PositiveSmallIntegerField(
        _("release to the pool after days without follow-up"), default=30,
        validators=[MinValueValidator(1), MaxValueValidator(3650)])
    daily_claim_limit = models.PositiveSmallIntegerField(
        _("claims from the pool per person per day"), default=5,
        validators=[MaxValueValidator(1000)])
    owned_limit = models.PositiveIntegerField(
        _("customers one person may own (0: no limit)"), default=0)
    daily_reports_required = models.PositiveSmallIntegerField(
        _("field reports per salesperson per working day (0: none required)"), default=1,
        validators=[MaxValueValidator(10)],
        help_text=_("每日1-2次汇报: a working day with fewer is flagged to the lead."))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("customer settings")
        verbose_name_plural = _("customer settings")

    def __str__(self):
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> "CustomerSettings":
        return cls.objects.get_or_create(pk=1)[0]


class OwnerChange(models.Model):
    """CUS-7: every change of owner — created, transferred, claimed, released — with why."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="owner_changes",
                                 verbose_name=_("customer"))
    kind = models.CharField(_("kind"), max_length=20, choices=OwnerChangeKind.choices)
    from_owner = models.ForeignKey(Employee, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("from"))
    to_owner = models.ForeignKey(Employee, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("to"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    by = models.ForeignKey(Employee, on_delete=models.PROTECT, null=True, blank=True,
                           related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("owner change")
        verbose_name_plural = _("owner changes")
        indexes = [models.Index(fields=["by", "kind", "at"], name="ownerchange_by_kind_at")]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.customer_id}"


class VisitQuerySet(ScopedQuerySet):
    """Visits someone in scope made, and every visit to a customer the user sees (its
    owner's, a collaborator's, the pool's), as the customer's timeline shows them."""

    scope_owner_fields = ("employee",)
    scope_domain = Domain.SALES

    def also_visible(self, user):
        return Q(customer__in=Customer.objects.visible_to(user).values("pk"))


class Visit(models.Model):
    """CUS-8: a visit, call, revisit, joint visit or online meeting, with an optional
    check-in location (外出报备/签到)."""

    # No single-column indexes: the two composite indexes below lead with these columns.
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="visits",
                                 verbose_name=_("customer"), db_index=False)
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="visits",
                                 verbose_name=_("by"), db_index=False)
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="visits", verbose_name=_("contact"))
    kind = models.CharField(_("kind"), max_length=20, choices=VisitKind.choices,
                            default=VisitKind.VISIT)
    visited_at = models.DateTimeField(_("when"))  # indexed by visit_time_employee
    summary = models.TextField(_("summary"))
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_on = models.DateField(_("next date"), null=True, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True,
                                   blank=True, validators=[MinValueValidator(-90),
                                                           MaxValueValidator(90)])
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True,
                                    blank=True, validators=[MinValueValidator(-180),
                                                            MaxValueValidator(180)])
    accuracy_m = models.FloatField(_("accuracy (m)"), null=True, blank=True,
                                   validators=[MinValueValidator(0)])
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    coach = models.ForeignKey(Employee, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="coached_visits", verbose_name=_("coaching manager"))
    coach_review = models.TextField(_("coach's review"), blank=True)
    improvement_points = models.TextField(_("points to improve"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = VisitQuerySet.as_manager()

    class Meta:
        ordering = ["-visited_at", "-pk"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        indexes = [models.Index(fields=["customer", "-visited_at"], name="visit_customer_time"),
                   models.Index(fields=["employee", "-visited_at"], name="visit_employee_time"),
                   # Visits of a period per person (kpi.measures, field reports) counted
                   # from the index alone.
                   models.Index(fields=["visited_at", "employee"], name="visit_time_employee")]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.customer} · {self.visited_at:%Y-%m-%d}"


class ComplaintQuerySet(ScopedQuerySet):
    # The head an overdue complaint was escalated to always sees it (CUS-9).
    scope_owner_fields = ("customer__owner", "handler", "escalated_to")
    scope_domain = Domain.SALES


class Complaint(models.Model):
    """CUS-9: a complaint with a deadline by severity; overdue ones go to the unit head."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="complaints",
                                 verbose_name=_("customer"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    severity = models.CharField(_("severity"), max_length=20, choices=Severity.choices,
                                default=Severity.MEDIUM)
    status = models.CharField(_("status"), max_length=20, choices=ComplaintStatus.choices,
                              default=ComplaintStatus.OPEN, db_index=True)
    handler = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="complaints",
                                verbose_name=_("handler"))
    received_at = models.DateTimeField(_("received at"))
    deadline_at = models.DateTimeField(_("deadline"), db_index=True)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    escalated_to = models.ForeignKey(Employee, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="escalated_complaints",
                                     verbose_name=_("escalated to"))
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)

    objects = ComplaintQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")

    def __str__(self):
        return self.title


class SurveyQuerySet(ScopedQuerySet):
    scope_owner_fields = ("customer__owner", "surveyed_by")
    scope_domain = Domain.SALES


SCORE = [MinValueValidator(1), MaxValueValidator(5)]


class Survey(models.Model):
    """CUS-10: satisfaction per dimension (1–5) for one customer and period."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="surveys",
                                 verbose_name=_("customer"))
    surveyed_on = models.DateField(_("surveyed on"))
    period = models.CharField(_("period"), max_length=7, help_text=_("e.g. 2026-Q3"))
    service = models.PositiveSmallIntegerField(_("service"), validators=SCORE)
    delivery = models.PositiveSmallIntegerField(_("delivery"), validators=SCORE)
    product = models.PositiveSmallIntegerField(_("product"), validators=SCORE)
    comment = models.TextField(_("comment"), blank=True)
    surveyed_by = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="surveys",
                                    verbose_name=_("surveyed by"))

    objects = SurveyQuerySet.as_manager()

    class Meta:
        ordering = ["-surveyed_on", "-pk"]
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        constraints = [models.UniqueConstraint(fields=["customer", "period"],
                                               name="survey_one_per_customer_period")]

    def __str__(self):
        return f"{self.customer_id} · {self.period}"


class MarketReportQuerySet(ScopedQuerySet):
    scope_owner_fields = ("reporter",)
    scope_domain = Domain.SALES


class MarketReport(models.Model):
    """CUS-11: what the field hears about competitors, demand and prices."""

    reporter = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="market_reports",
                                 verbose_name=_("reporter"))
    kind = models.CharField(_("kind"), max_length=20, choices=ReportKind.choices)
    region = models.CharField(_("region"), max_length=50, blank=True)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("report"))
    reported_on = models.DateField(_("reported on"))
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="market_reports", verbose_name=_("customer"))

    objects = MarketReportQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-reported_on", "-pk"]
        verbose_name = _("market report")
        verbose_name_plural = _("market reports")

    def __str__(self):
        return self.title
