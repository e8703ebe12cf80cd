"""The inputs of the PER-1 figures that are not records of the business itself: the market
size of a region in a year (for **market_share**) and the planned product mix of a year
(for **product_mix**). HR or a director enters them (``services``); both keep their
history (who changed what, django-simple-history, through ``core.services.audited_save``).
"""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

YEAR_MIN = 2000
YEAR_MAX = 2100
# Decimal(16, 2) in the table; at most 15 significant digits in use, which SQLite (a REAL)
# reads back exactly: thirteen digits before the point (ten trillion).
SIZE_MAX = Decimal("9999999999999.99")


class MarketSize(models.Model):
    """The size of the market (money, a year's sales of the whole market) of one region
    (the same text as ``customers.Customer.region``) in one calendar year."""

    region = models.CharField(_("region"), max_length=50)
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(YEAR_MIN), MaxValueValidator(YEAR_MAX)])
    size = models.DecimalField(_("market size"), max_digits=16, decimal_places=2,
                               validators=[MinValueValidator(Decimal("0.01")),
                                           MaxValueValidator(SIZE_MAX)])
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-year", "region"]
        verbose_name = _("market size")
        verbose_name_plural = _("market sizes")
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="marketsize_unique"),
            models.CheckConstraint(condition=Q(size__gt=0), name="marketsize_size_positive"),
        ]

    def __str__(self):
        return f"{self.region} {self.year}"


class PlannedMix(models.Model):
    """The share (percent of the year's contract-line amounts) planned for one top-level
    product category in one year; a year's shares total exactly 100 (checked by
    ``services.planned_mix_set``, which writes a whole year at once)."""

    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(YEAR_MIN), MaxValueValidator(YEAR_MAX)])
    category = models.ForeignKey("sales.ProductCategory", on_delete=models.PROTECT,
                                 related_name="planned_mix", verbose_name=_("category"))
    percent = models.DecimalField(_("planned share (%)"), max_digits=5, decimal_places=2,
                                  validators=[MinValueValidator(Decimal("0.01")),
                                              MaxValueValidator(Decimal(100))])
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-year", "category__sort_order", "category__name"]
        verbose_name = _("planned product mix")
        verbose_name_plural = _("planned product mix")
        constraints = [
            models.UniqueConstraint(fields=["year", "category"], name="plannedmix_unique"),
            models.CheckConstraint(condition=Q(percent__gt=0, percent__lte=100),
                                   name="plannedmix_percent_range"),
        ]

    def __str__(self):
        return f"{self.year} {self.category}"
