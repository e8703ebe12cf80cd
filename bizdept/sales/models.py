"""SAL: products, opportunities, contracts, receivables, expenses.

One section per part of the app; each part's models keep their invariants here and their
rules in ``services``.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from bizdept.org.models import Employee
from bizdept.org.scope import Domain, ScopedQuerySet

from .choices import (
    DEFAULT_NUMBER_PATTERN,
    AmendmentStatus,
    ContractNumberStatus,
    ContractStatus,
    PaymentMethod,
)
from .numbering import NUMBER_MAX, PATTERN_MAX, validate_number_pattern

MONEY_MAX = 10**12 - 1  # Decimal(14, 2): twelve digits before the point


def money_field(label, **kwargs):
    return models.DecimalField(label, max_digits=14, decimal_places=2,
                               validators=[MinValueValidator(0), MaxValueValidator(MONEY_MAX)],
                               **kwargs)


# === Products (SAL-1) ==================================================================
class ProductCategory(models.Model):
    """A group of products (optionally under another), for the catalogue and the mix."""

    name = models.CharField(_("category name"), max_length=100, unique=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="children", verbose_name=_("parent category"))
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")

    def __str__(self):
        return self.name


class Product(models.Model):
    """A product or service the department sells: the catalogue every salesperson quotes
    from, with the standard cost that gross margins are computed against.

    A product is never deleted (contract lines will point at it): it is deactivated."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("product name"), max_length=200)
    category = models.ForeignKey(ProductCategory, on_delete=models.PROTECT,
                                 related_name="products", verbose_name=_("category"))
    unit = models.CharField(_("unit of measure"), max_length=20)
    list_price = money_field(_("list price"))
    standard_cost = money_field(_("standard cost"))
    is_active = models.BooleanField(_("on sale"), default=True, db_index=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["code"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(condition=Q(list_price__gte=0),
                                   name="product_price_not_negative"),
            models.CheckConstraint(condition=Q(standard_cost__gte=0),
                                   name="product_cost_not_negative"),
        ]
        indexes = [models.Index(fields=["name"], name="product_name")]

    def __str__(self):
        return f"{self.code} {self.name}"


# === Contract number register (SAL-4, 合同领用登记) ======================================
class ContractNumberSetting(models.Model):
    """How contract numbers look (a single row). Changing it is audited (history); numbers
    already issued keep their text."""

    pattern = models.CharField(
        _("number pattern"), max_length=PATTERN_MAX, default=DEFAULT_NUMBER_PATTERN,
        validators=[validate_number_pattern],
        help_text=_("Text with {year} and {seq}, e.g. HT-{year}-{seq:06d} gives "
                    "HT-2026-000123; the sequence starts again at 1 every year."))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contract number setting")
        verbose_name_plural = _("contract number settings")

    def __str__(self):
        return self.pattern

    @classmethod
    def current(cls) -> "ContractNumberSetting":
        return cls.objects.get_or_create(pk=1)[0]


class ContractNumberCounter(models.Model):
    """The last sequence number issued in a year. Issuing locks this row
    (``select_for_update``), so concurrent issues queue and the sequence stays gapless."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    last_seq = models.PositiveIntegerField(_("last sequence number"), default=0)

    class Meta:
        verbose_name = _("contract number counter")
        verbose_name_plural = _("contract number counters")

    def __str__(self):
        return f"{self.year}: {self.last_seq}"


class ContractNumberQuerySet(ScopedQuerySet):
    # Money records (finance sees them department-wide), owned by whom they were issued to.
    scope_owner_fields = ("issued_to",)
    scope_domain = Domain.MONEY


class ContractNumber(models.Model):
    """One number of the register. Every sequence number of a year, from 1 to the last,
    has exactly one row, whatever became of it: used, voided or returned numbers stay."""

    number = models.CharField(_("number"), max_length=NUMBER_MAX, unique=True)
    year = models.PositiveSmallIntegerField(_("year"))
    seq = models.PositiveIntegerField(_("sequence number"))
    status = models.CharField(_("status"), max_length=20, choices=ContractNumberStatus.choices,
                              default=ContractNumberStatus.ISSUED, db_index=True)
    issued_to = models.ForeignKey(Employee, on_delete=models.PROTECT,
                                  related_name="contract_numbers", verbose_name=_("issued to"))
    issued_by = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("issued by"))
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    # The contract that used the number, as a plain id kept by ``contract_number_use``:
    # the real foreign key is ``Contract.number`` (SAL-5), one-to-one, seen from here as
    # ``used_by``.
    contract_id = models.PositiveBigIntegerField(_("contract"), null=True, blank=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    closed_by = models.ForeignKey(Employee, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("voided or returned by"))
    closed_at = models.DateTimeField(_("voided or returned at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    objects = ContractNumberQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-year", "-seq"]
        verbose_name = _("contract number")
        verbose_name_plural = _("contract numbers")
        constraints = [
            models.UniqueConstraint(fields=["year", "seq"], name="contractnumber_unique_seq"),
            # A contract uses one number.
            models.UniqueConstraint(fields=["contract_id"], condition=Q(contract_id__isnull=False),
                                    name="contractnumber_one_per_contract"),
            models.CheckConstraint(condition=Q(seq__gte=1), name="contractnumber_seq_positive"),
        ]
        indexes = [models.Index(fields=["issued_to", "status"], name="contractnumber_holder")]

    def __str__(self):
        return self.number


# === Opportunities (SAL-2) ==============================================================
from bizdept.customers.models import Customer  # noqa: E402 - this section's own import

from .choices import ExpenseCategory, ExpenseStatus, OpportunityStage  # noqa: E402

PERCENT_MAX = 100


class OpportunitySettings(models.Model):
    """The department's opportunity rules (a single row): above which discount a solution
    needs the discount approval (document type ``sales.discount``)."""

    discount_approval_threshold = models.DecimalField(
        _("discount needing approval above (%)"), max_digits=5, decimal_places=2, default=15,
        validators=[MinValueValidator(0), MaxValueValidator(PERCENT_MAX)],
        help_text=_("A solution line discounted by more than this needs the discount "
                    "approval before the opportunity moves on from the solution."))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("opportunity settings")
        verbose_name_plural = _("opportunity settings")

    def __str__(self):
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> "OpportunitySettings":
        return cls.objects.get_or_create(pk=1)[0]


class OpportunityQuerySet(ScopedQuerySet):
    scope_owner_fields = ("owner",)
    scope_domain = Domain.SALES


class Opportunity(models.Model):
    """A customer's need (客户需求/商机), followed from collection to the evaluated result;
    won or lost at any point with the reason."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT,
                                 related_name="opportunities", verbose_name=_("customer"))
    owner = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="opportunities",
                              verbose_name=_("opportunity owner"))
    title = models.CharField(_("opportunity subject"), max_length=200)
    need = models.TextField(_("customer need"), blank=True)
    expected_amount = money_field(_("expected amount"), default=0)
    expected_close_on = models.DateField(_("expected close date"), null=True, blank=True)
    stage = models.CharField(_("opportunity stage"), max_length=20,
                             choices=OpportunityStage.choices, default=OpportunityStage.NEED)
    close_reason = models.CharField(_("won or lost reason"), max_length=200, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    evaluation_score = models.PositiveSmallIntegerField(
        _("evaluation score"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)])
    lessons = models.TextField(_("lessons learned"), blank=True)
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True)
    # When the solution's lines last changed: a discount approval older than this no
    # longer covers them.
    lines_changed_at = models.DateTimeField(_("solution changed at"), null=True, blank=True)
    created_by = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = OpportunityQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        constraints = [
            models.CheckConstraint(
                condition=Q(evaluation_score__isnull=True)
                | Q(evaluation_score__gte=1, evaluation_score__lte=5),
                name="opportunity_score_1_to_5"),
            models.CheckConstraint(condition=Q(expected_amount__gte=0),
                                   name="opportunity_amount_not_negative"),
        ]
        indexes = [
            models.Index(fields=["owner", "stage"], name="opportunity_owner_stage"),
            models.Index(fields=["stage", "created_at"], name="opportunity_stage_created"),
            models.Index(fields=["created_at"], name="opportunity_created"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_closed(self) -> bool:
        return self.stage in (OpportunityStage.WON, OpportunityStage.LOST)


class OpportunityStageChange(models.Model):
    """Every move of an opportunity (the first row has no old stage: it was created)."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE,
                                    related_name="stage_changes",
                                    verbose_name=_("opportunity"))
    old_stage = models.CharField(_("from stage"), max_length=20, blank=True,
                                 choices=OpportunityStage.choices)
    new_stage = models.CharField(_("to stage"), max_length=20, choices=OpportunityStage.choices)
    by = models.ForeignKey(Employee, on_delete=models.PROTECT, null=True, blank=True,
                           related_name="+", verbose_name=_("changed by"))
    at = models.DateTimeField(_("changed at"), default=timezone.now)
    comment = models.CharField(_("comment"), max_length=500, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("opportunity stage change")
        verbose_name_plural = _("opportunity stage changes")
        indexes = [models.Index(fields=["new_stage", "opportunity"],
                                name="oppstagechange_reached")]

    def __str__(self):
        return f"{self.old_stage or '—'} → {self.new_stage}"


class SolutionLine(models.Model):
    """One priced line of an opportunity's solution; the product's standard cost is copied
    when the line is added, so later catalogue changes do not move the margin."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="lines",
                                    verbose_name=_("opportunity"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("product"))
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2,
                                   validators=[MinValueValidator(0)])
    unit_price = money_field(_("unit price"))
    discount_percent = models.DecimalField(
        _("discount %"), max_digits=5, decimal_places=2, default=0,
        validators=[MinValueValidator(0), MaxValueValidator(PERCENT_MAX)])
    standard_cost = money_field(_("standard cost"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("solution line")
        verbose_name_plural = _("solution lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="solutionline_qty_positive"),
            models.CheckConstraint(condition=Q(discount_percent__gte=0,
                                               discount_percent__lte=PERCENT_MAX),
                                   name="solutionline_discount_0_100"),
        ]

    def __str__(self):
        return f"{self.product_id} × {self.quantity}"

    # Figures of the line (pricing.py rounds each once, half up, to the cent).
    @property
    def amount(self):
        from .pricing import discounted_amount

        return discounted_amount(self.unit_price, self.quantity, self.discount_percent)

    @property
    def cost(self):
        from .pricing import line_amount

        return line_amount(self.standard_cost, self.quantity)

    @property
    def margin(self):
        return self.amount - self.cost

    @property
    def margin_rate(self):
        from .pricing import rate_of

        return rate_of(self.margin, self.amount)

    @property
    def discount_amount(self):
        from .pricing import line_amount

        return line_amount(self.unit_price, self.quantity) - self.amount
# === Contracts (SAL-5) ==================================================================
SCAN_MAX_BYTES = 20 * 1024 * 1024
SCAN_EXTENSIONS = ("pdf", "jpg", "jpeg", "png")


def validate_scan(upload) -> None:
    """The signed contract's scan: a PDF or a JPEG/PNG image, at most 20 MB, checked by its
    extension and its first bytes (a renamed file is refused)."""
    from django.core.exceptions import ValidationError

    name = (getattr(upload, "name", "") or "").lower()
    if name.rsplit(".", 1)[-1] not in SCAN_EXTENSIONS:
        raise ValidationError(_("Upload the scan as a PDF, JPEG or PNG file."), code="type")
    size = getattr(upload, "size", 0) or 0
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    if size > SCAN_MAX_BYTES:
        raise ValidationError(_("The file is too large (20 MB at most)."), code="size")
    head = b""
    try:
        upload.seek(0)
        head = upload.read(8)
        upload.seek(0)
    except (AttributeError, OSError, ValueError):
        pass
    if not (head.startswith(b"%PDF") or head.startswith(b"\xff\xd8\xff")
            or head.startswith(b"\x89PNG")):
        raise ValidationError(_("Upload the scan as a PDF, JPEG or PNG file."), code="type")


def contract_scan_path(contract, filename: str) -> str:
    ext = filename.lower().rsplit(".", 1)[-1]
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    return f"contracts/{contract.signed_on.year if contract.signed_on else 'unsigned'}/" \
           f"contract-{contract.pk}-{stamp}.{ext}"


class ContractQuerySet(ScopedQuerySet):
    # Money records (finance sees them department-wide to record payments), owned by the
    # salesperson who made the contract.
    scope_owner_fields = ("owner",)
    scope_domain = Domain.MONEY


class Contract(models.Model):
    """A sales contract (SAL-5): reported before signing (签订前汇报) with its feasibility
    checklist, approved by amount through the engine (``sales.contract``), signed with
    the scan of the original filed (原件存档), executed, completed or terminated. After
    signing, lines and dates change only through an approved ``ContractAmendment``.

    ``total`` is the sum of the rounded lines, kept by the services whenever lines change.
    """

    number = models.OneToOneField(ContractNumber, on_delete=models.PROTECT,
                                  related_name="used_by", verbose_name=_("contract number"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="contracts", verbose_name=_("customer"))
    owner = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="contracts",
                              verbose_name=_("owner"))
    # The opportunity it came from (SAL-2), when there was one.
    opportunity = models.ForeignKey("Opportunity", on_delete=models.SET_NULL, null=True,
                                    blank=True, related_name="contracts",
                                    verbose_name=_("opportunity"))
    title = models.CharField(_("contract title"), max_length=200)
    status = models.CharField(_("status"), max_length=20, choices=ContractStatus.choices,
                              default=ContractStatus.DRAFT, db_index=True)
    signed_on = models.DateField(_("signed on"), null=True, blank=True, db_index=True)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    total = money_field(_("contract amount"), default=0)
    # The pre-signing report's feasibility checklist (工期 / 技术 / 安装条件).
    delivery_terms = models.TextField(_("delivery time (工期)"), blank=True)
    technical_terms = models.TextField(_("technical conditions"), blank=True)
    installation_terms = models.TextField(_("installation conditions"), blank=True)
    feasibility_confirmed_by = models.ForeignKey(
        Employee, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("feasibility confirmed by"))
    feasibility_confirmed_at = models.DateTimeField(_("feasibility confirmed at"), null=True,
                                                    blank=True)
    scan = models.FileField(_("signed scan"), upload_to=contract_scan_path, blank=True,
                            max_length=200, validators=[validate_scan])
    archived = models.BooleanField(_("original filed"), default=False)
    terminated_on = models.DateField(_("terminated on"), null=True, blank=True)
    termination_reason = models.CharField(_("termination reason"), max_length=200,
                                          blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ContractQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="contract_total_not_negative"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(starts_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")), name="contract_dates_in_order"),
        ]
        indexes = [models.Index(fields=["owner", "status"], name="contract_owner_status"),
                   models.Index(fields=["customer", "status"], name="contract_customer"),
                   # A person's revenue and margin for a period (bizdept.kpi.measures).
                   # Revenue of a period per person (kpi.measures), from the index alone.
                   models.Index(fields=["owner", "signed_on", "status", "total"],
                                name="contract_owner_signed")]

    def __str__(self):
        return f"{self.number.number} {self.title}" if self.number_id else self.title

    @property
    def feasibility_filled(self) -> bool:
        return all(v.strip() for v in (self.delivery_terms, self.technical_terms,
                                       self.installation_terms))


class ContractLine(models.Model):
    """One line of a contract: a product, its quantity and price, and the product's
    standard cost at the time (the margin stays what it was when the contract was made)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="lines",
                                 verbose_name=_("contract"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("product"))
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2,
                                   validators=[MinValueValidator(0)])
    unit_price = money_field(_("unit price"))
    unit_cost = money_field(_("unit cost"))
    amount = money_field(_("amount"))
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["sort_order", "pk"]
        verbose_name = _("contract line")
        verbose_name_plural = _("contract lines")
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0),
                                              name="contractline_quantity_positive")]

    def __str__(self):
        return f"{self.product_id} × {self.quantity}"


class AmendmentQuerySet(ScopedQuerySet):
    scope_owner_fields = ("contract__owner",)
    scope_domain = Domain.MONEY


class ContractAmendment(models.Model):
    """A change to a signed contract (lines and/or dates) with its reason, approved like the
    contract (``sales.contract_amendment``) and applied by the approval's callback.

    ``lines`` is the complete new list of lines (``[{"product": id, "quantity": "2",
    "unit_price": "100.00", "unit_cost": "60.00"}]``) or null when only dates change."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="amendments",
                                 verbose_name=_("contract"))
    seq = models.PositiveSmallIntegerField(_("amendment number"))
    reason = models.CharField(_("reason"), max_length=200)
    lines = models.JSONField(_("new lines"), null=True, blank=True)
    starts_on = models.DateField(_("new start date"), null=True, blank=True)
    ends_on = models.DateField(_("new end date"), null=True, blank=True)
    old_total = money_field(_("amount before"))
    new_total = money_field(_("amount after"))
    status = models.CharField(_("status"), max_length=20, choices=AmendmentStatus.choices,
                              default=AmendmentStatus.PENDING, db_index=True)
    requested_by = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("requested by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    objects = AmendmentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "seq"]
        verbose_name = _("contract amendment")
        verbose_name_plural = _("contract amendments")
        constraints = [models.UniqueConstraint(fields=["contract", "seq"],
                                               name="amendment_unique_seq")]

    def __str__(self):
        return f"{self.contract_id}-{self.seq}"


# === Receivables (SAL-6) ================================================================
class ReceivableQuerySet(ScopedQuerySet):
    scope_owner_fields = ("contract__owner",)
    scope_domain = Domain.MONEY


class PaymentPlan(models.Model):
    """One instalment of a contract's payment plan (回款计划): due date and amount. The
    instalments of a contract never add up to more than its amount; the plan is complete
    when they add up to exactly it."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE,
                                 related_name="instalments", verbose_name=_("contract"))
    seq = models.PositiveSmallIntegerField(_("instalment"))
    due_on = models.DateField(_("due on"), db_index=True)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2,
                                 validators=[MinValueValidator(0), MaxValueValidator(MONEY_MAX)])
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ReceivableQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "due_on", "seq"]
        verbose_name = _("payment plan instalment")
        verbose_name_plural = _("payment plan instalments")
        constraints = [
            models.UniqueConstraint(fields=["contract", "seq"], name="paymentplan_unique_seq"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="paymentplan_amount_positive"),
        ]

    def __str__(self):
        return f"{self.contract_id}#{self.seq} {self.due_on} {self.amount}"


class Payment(models.Model):
    """Money received on a contract (回款), entered by finance. Never edited nor deleted:
    a correction is a reversal, a negative entry linked to the payment it cancels."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="payments",
                                 verbose_name=_("contract"))
    received_on = models.DateField(_("received on"))  # indexed by payment_day_contract
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2,
                                 validators=[MinValueValidator(-MONEY_MAX),
                                             MaxValueValidator(MONEY_MAX)])
    method = models.CharField(_("payment method"), max_length=20, choices=PaymentMethod.choices,
                              default=PaymentMethod.TRANSFER)
    reference = models.CharField(_("bank reference"), max_length=100, blank=True)
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="reversal", verbose_name=_("reverses"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    entered_by = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("entered by"))
    entered_at = models.DateTimeField(_("entered at"), default=timezone.now)

    objects = ReceivableQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-received_on", "-pk"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            # A payment is positive; a reversal is negative and names what it reverses.
            models.CheckConstraint(
                condition=(Q(reverses__isnull=True, amount__gt=0)
                           | Q(reverses__isnull=False, amount__lt=0)),
                name="payment_sign_matches_kind"),
        ]
        # Both cover what they serve (the amount included): what a contract was paid by a
        # day (aging), and a period's payments per owner (kpi collections).
        indexes = [models.Index(fields=["contract", "received_on", "amount"],
                                name="payment_contract_day"),
                   models.Index(fields=["received_on", "contract", "amount"],
                                name="payment_day_contract")]

    def __str__(self):
        return f"{self.contract_id} {self.received_on} {self.amount}"


# === Expenses (SAL-7) ===================================================================
PERIOD_MAX = 7  # "2026-07" or "2026-Q3"


class ExpenseBudgetQuerySet(ScopedQuerySet):
    scope_owner_fields = ("employee",)
    scope_domain = Domain.MONEY


class ExpenseBudget(models.Model):
    """What one person may spend in a month (``2026-07``) or a quarter (``2026-Q3``)."""

    employee = models.ForeignKey(Employee, on_delete=models.PROTECT,
                                 related_name="expense_budgets", verbose_name=_("employee"))
    period = models.CharField(_("budget period"), max_length=PERIOD_MAX)
    amount = money_field(_("budget amount"))
    set_by = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("set by"))
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    objects = ExpenseBudgetQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-period", "employee"]
        verbose_name = _("expense budget")
        verbose_name_plural = _("expense budgets")
        constraints = [
            models.UniqueConstraint(fields=["employee", "period"],
                                    name="expensebudget_one_per_period"),
        ]
        indexes = [models.Index(fields=["period"], name="expensebudget_period")]

    def __str__(self):
        return f"{self.period} {self.amount}"


class ExpenseClaimQuerySet(ScopedQuerySet):
    scope_owner_fields = ("employee",)
    scope_domain = Domain.MONEY


class ExpenseClaim(models.Model):
    """An expense a person claims back; approved through the engine (``sales.expense``),
    then paid by finance. Over budget is allowed but recorded at submission."""

    employee = models.ForeignKey(Employee, on_delete=models.PROTECT,
                                 related_name="expense_claims", verbose_name=_("claimant"))
    category = models.CharField(_("expense category"), max_length=20,
                                choices=ExpenseCategory.choices)
    amount = money_field(_("claimed amount"))
    spent_on = models.DateField(_("spent on"))
    description = models.TextField(_("expense description"), blank=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="expense_claims", verbose_name=_("customer"))
    status = models.CharField(_("claim status"), max_length=20, choices=ExpenseStatus.choices,
                              default=ExpenseStatus.DRAFT)
    # At submission: how far the claim took its period over the budget (0: within it).
    over_budget_by = models.DecimalField(_("over budget by"), max_digits=14, decimal_places=2,
                                         null=True, blank=True)
    budget_period = models.CharField(_("budget period"), max_length=PERIOD_MAX, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    paid_by = models.ForeignKey(Employee, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("paid by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ExpenseClaimQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-spent_on", "-pk"]
        verbose_name = _("expense claim")
        verbose_name_plural = _("expense claims")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="expenseclaim_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["employee", "spent_on"], name="expenseclaim_employee_day"),
            models.Index(fields=["status", "spent_on"], name="expenseclaim_status_day"),
        ]

    def __str__(self):
        return f"{self.get_category_display()} {self.amount}"
