"""Choices of the sales app (SAL), one section per part of it."""

from django.db import models
from django.utils.translation import gettext_lazy as _

# === Products (SAL-1) ==================================================================
# (none: a product is active or not)


# === Contract number register (SAL-4) ==================================================
class ContractNumberStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    USED = "used", _("Used")
    VOIDED = "voided", _("Voided")
    RETURNED = "returned", _("Returned")


# The register's workflow: an issued number is used by one contract, voided (spoiled) or
# returned unused; each of those is final. A voided or returned number stays on the
# register and is never issued again (the sequence is gapless, SAL-4).
CONTRACT_NUMBER_TRANSITIONS: dict[str, frozenset[str]] = {
    ContractNumberStatus.ISSUED: frozenset({ContractNumberStatus.USED,
                                            ContractNumberStatus.VOIDED,
                                            ContractNumberStatus.RETURNED}),
    ContractNumberStatus.USED: frozenset(),
    ContractNumberStatus.VOIDED: frozenset(),
    ContractNumberStatus.RETURNED: frozenset(),
}

DEFAULT_NUMBER_PATTERN = "HT-{year}-{seq:06d}"

# === Opportunities (SAL-2) · Contracts (SAL-5) · Receivables (SAL-6) · Expenses (SAL-7) ==
# (to come)
