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


# === Opportunities (SAL-2, 客户需求/商机) ===============================================
class OpportunityStage(models.TextChoices):
    NEED = "need", _("Need collected")
    APPROVAL = "approval", _("Manager approval")
    SOLUTION = "solution", _("Solution drafting")
    IMPLEMENTING = "implementing", _("Implementing the solution")
    FOLLOW_UP = "follow_up", _("Follow-up feedback")
    EVALUATED = "evaluated", _("Result evaluated")
    WON = "won", _("Opportunity won")
    LOST = "lost", _("Opportunity lost")


# The seed's workflow (需求收集 → 负责人审批 → 制定方案 → 实施 → 跟进反馈 → 成果评估), in order;
# won or lost may end it at any point. The approval stage is left only by the engine's
# decision (approved → solution, returned → need collected, rejected → lost).
OPPORTUNITY_FLOW: tuple[str, ...] = (
    OpportunityStage.NEED, OpportunityStage.APPROVAL, OpportunityStage.SOLUTION,
    OpportunityStage.IMPLEMENTING, OpportunityStage.FOLLOW_UP, OpportunityStage.EVALUATED,
)
OPPORTUNITY_CLOSED = frozenset({OpportunityStage.WON, OpportunityStage.LOST})
_ENDS = OPPORTUNITY_CLOSED
OPPORTUNITY_TRANSITIONS: dict[str, frozenset[str]] = {
    OpportunityStage.NEED: frozenset({OpportunityStage.APPROVAL}) | _ENDS,
    # Left by the engine's decision only (approved, returned, rejected).
    OpportunityStage.APPROVAL: frozenset({OpportunityStage.SOLUTION, OpportunityStage.NEED,
                                          OpportunityStage.LOST}),
    OpportunityStage.SOLUTION: frozenset({OpportunityStage.IMPLEMENTING}) | _ENDS,
    OpportunityStage.IMPLEMENTING: frozenset({OpportunityStage.FOLLOW_UP}) | _ENDS,
    OpportunityStage.FOLLOW_UP: frozenset({OpportunityStage.EVALUATED}) | _ENDS,
    OpportunityStage.EVALUATED: _ENDS,
    OpportunityStage.WON: frozenset(),
    OpportunityStage.LOST: frozenset(),
}
# "advance" moves one step along the flow; the approval stage is not advanced by hand.
OPPORTUNITY_NEXT: dict[str, str] = {
    OpportunityStage.SOLUTION: OpportunityStage.IMPLEMENTING,
    OpportunityStage.IMPLEMENTING: OpportunityStage.FOLLOW_UP,
}


# === Expenses (SAL-7, 费用控制在计划内) ==================================================
class ExpenseCategory(models.TextChoices):
    TRAVEL = "travel", _("Travel expense")
    ENTERTAINMENT = "entertainment", _("Client entertainment")
    TRANSPORT = "transport", _("Local transport")
    SAMPLES = "samples", _("Product samples")
    OTHER = "other", _("Other expense")


class ExpenseStatus(models.TextChoices):
    DRAFT = "draft", _("Claim draft")
    SUBMITTED = "submitted", _("Claim submitted")
    APPROVED = "approved", _("Claim approved")
    REJECTED = "rejected", _("Claim rejected")
    RETURNED = "returned", _("Claim returned for changes")
    PAID = "paid", _("Claim paid")


EXPENSE_TRANSITIONS: dict[str, frozenset[str]] = {
    ExpenseStatus.DRAFT: frozenset({ExpenseStatus.SUBMITTED}),
    ExpenseStatus.RETURNED: frozenset({ExpenseStatus.SUBMITTED}),
    ExpenseStatus.SUBMITTED: frozenset({ExpenseStatus.APPROVED, ExpenseStatus.REJECTED,
                                        ExpenseStatus.RETURNED, ExpenseStatus.DRAFT}),
    ExpenseStatus.APPROVED: frozenset({ExpenseStatus.PAID}),
    ExpenseStatus.REJECTED: frozenset(),
    ExpenseStatus.PAID: frozenset(),
}
EXPENSE_EDITABLE = frozenset({ExpenseStatus.DRAFT, ExpenseStatus.RETURNED})
# Counted against the budget: approved (and paid) spend, and what waits for approval.
EXPENSE_SPENT = frozenset({ExpenseStatus.APPROVED, ExpenseStatus.PAID})
EXPENSE_PENDING = frozenset({ExpenseStatus.SUBMITTED})
# === end of SAL-2 / SAL-7 choices ======================================================

# === Contracts (SAL-5) ==================================================================
class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REPORTED = "reported", _("Reported for approval")
    APPROVED = "approved", _("Approved for signing")
    SIGNED = "signed", _("Signed")
    EXECUTING = "executing", _("Being executed")
    COMPLETED = "completed", _("Completed")
    TERMINATED = "terminated", _("Terminated")


# The contract's workflow (签订前汇报 → 审批 → 签订 → 执行 → 完成): a draft is reported (its
# approval starts); the approval's outcome moves it to approved, or back to draft when it
# is returned, rejected or withdrawn; editing an approved contract sends it back to draft.
CONTRACT_TRANSITIONS: dict[str, frozenset[str]] = {
    ContractStatus.DRAFT: frozenset({ContractStatus.REPORTED}),
    ContractStatus.REPORTED: frozenset({ContractStatus.APPROVED, ContractStatus.DRAFT}),
    ContractStatus.APPROVED: frozenset({ContractStatus.SIGNED, ContractStatus.DRAFT}),
    ContractStatus.SIGNED: frozenset({ContractStatus.EXECUTING, ContractStatus.TERMINATED}),
    ContractStatus.EXECUTING: frozenset({ContractStatus.COMPLETED, ContractStatus.TERMINATED}),
    ContractStatus.COMPLETED: frozenset(),
    ContractStatus.TERMINATED: frozenset(),
}
# Lines, amount and dates change freely only before the report (an approved contract that
# is edited goes back to draft); once signed, only through an approved amendment.
CONTRACT_EDITABLE = frozenset({ContractStatus.DRAFT, ContractStatus.APPROVED})
CONTRACT_SIGNED = frozenset({ContractStatus.SIGNED, ContractStatus.EXECUTING,
                             ContractStatus.COMPLETED, ContractStatus.TERMINATED})
# Counted as business won (revenue, gross margin: bizdept.kpi.measures): signed and not
# terminated. A terminated contract stops counting, in the period it was signed in.
CONTRACT_COUNTED = frozenset({ContractStatus.SIGNED, ContractStatus.EXECUTING,
                              ContractStatus.COMPLETED})


class AmendmentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPLIED = "applied", _("Approved and applied")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned")
    CANCELLED = "cancelled", _("Withdrawn")


# === Receivables (SAL-6) ================================================================
class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Bank transfer")
    ACCEPTANCE = "acceptance", _("Bank acceptance bill")
    CHEQUE = "cheque", _("Cheque")
    CASH = "cash", _("Cash")
    OTHER = "other", _("Other method")


# Aging buckets of unpaid instalments, by days past due: (key, first day, last day or None).
AGING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("d0_30", 0, 30), ("d31_60", 31, 60), ("d61_90", 61, 90), ("d91_180", 91, 180),
    ("d180_plus", 181, None),
)

# === Opportunities (SAL-2) · Expenses (SAL-7) ============================================
# (to come)
