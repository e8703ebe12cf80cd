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

from .choices import DEFAULT_NUMBER_PATTERN, ContractNumberStatus
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
    # The contract that used the number. A plain id for now: the contracts part of this app
    # turns it into a foreign key to Contract.
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
# === Contracts (SAL-5) ==================================================================
# === Receivables (SAL-6) ================================================================
# === Expenses (SAL-7) ===================================================================
