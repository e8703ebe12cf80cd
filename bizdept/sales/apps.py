from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "bizdept.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self):
        register_opportunity_approvals()
        register_contract_approvals()
        register_expense_approvals()


# === Opportunities (SAL-2): manager approval and discount approval ======================
def register_opportunity_approvals():
    from django.urls import reverse

    from bizdept import approvals

    from . import services
    from .models import Opportunity

    def url(o):
        return reverse("sales:opportunity_detail", args=[o.pk])

    approvals.register(
        services.OPPORTUNITY_TYPE, model=Opportunity, label=_("Opportunity"),
        title=lambda o: f"{o.customer.name} · {o.title}"[:200],
        amount=lambda o: o.expected_amount, requester=lambda o: o.owner,
        on_approved=services.opportunity_approved, on_rejected=services.opportunity_rejected,
        on_returned=services.opportunity_returned, on_cancelled=services.opportunity_withdrawn,
        url=url)
    approvals.register(
        services.DISCOUNT_TYPE, model=Opportunity, label=_("Solution discount"),
        title=lambda o: (f"{o.customer.name} · {o.title} · "
                         + str(_("discount up to %s%%") % services.max_discount(o)))[:200],
        amount=services.discount_given, requester=lambda o: o.owner,
        on_approved=services.discount_decided, on_rejected=services.discount_decided,
        on_returned=services.discount_decided, url=url)


# === Contracts (SAL-5) and receivables (SAL-6) ===========================================
def register_contract_approvals():
    """The contract's pre-signing approval and its amendments' (routed by amount), and the
    payments as an inflow source of customer grading (CUS-3)."""
    from django.urls import reverse

    from bizdept import approvals
    from bizdept.customers.selectors import register_inflow_source

    from . import selectors, services
    from .models import Contract, ContractAmendment

    approvals.register(
        services.CONTRACT_DOCUMENT, model=Contract, label=_("Contract"),
        title=lambda c: f"{c.number.number} · {c.customer.name} · {c.title}"[:200],
        amount=lambda c: c.total, requester=lambda c: c.owner,
        on_approved=services.contract_approved, on_rejected=services.contract_not_approved,
        on_returned=services.contract_not_approved,
        on_cancelled=services.contract_not_approved,
        url=lambda c: reverse("sales:contract_detail", args=[c.pk]))
    approvals.register(
        services.AMENDMENT_DOCUMENT, model=ContractAmendment, label=_("Contract amendment"),
        title=lambda a: f"{a.contract.number.number} · {a.seq} · {a.reason}"[:200],
        amount=lambda a: a.new_total, requester=lambda a: a.contract.owner,
        on_approved=services.amendment_approved, on_rejected=services.amendment_rejected,
        on_returned=services.amendment_returned, on_cancelled=services.amendment_cancelled,
        url=lambda a: reverse("sales:contract_detail", args=[a.contract_id]))
    register_inflow_source(selectors.payments_by_customer)


# === Expenses (SAL-7) ===================================================================
def register_expense_approvals():
    from django.urls import reverse

    from bizdept import approvals

    from . import services
    from .models import ExpenseClaim

    approvals.register(
        services.EXPENSE_TYPE, model=ExpenseClaim, label=_("Expense claim"),
        title=services.expense_title, amount=lambda c: c.amount,
        requester=lambda c: c.employee, on_approved=services.expense_approved,
        on_rejected=services.expense_rejected, on_returned=services.expense_returned,
        on_cancelled=services.expense_withdrawn,
        url=lambda c: reverse("sales:expense_detail", args=[c.pk]))
