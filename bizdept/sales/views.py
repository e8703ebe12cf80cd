"""Sales pages (SAL), one section per part of the app. Parse, call a service or selector,
render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from bizdept.core.errors import DomainError
from bizdept.core.pages import (
    Column,
    DetailPage,
    ListPage,
    add_domain_errors,
    form_page,
    is_fragment_request,
    post_action,
    posted,
)
from bizdept.imports.services import export_response
from bizdept.org.choices import Capability
from bizdept.org.scope import employee_of

from . import selectors, services
from .choices import CONTRACT_NUMBER_TRANSITIONS, ContractNumberStatus
from .filters import ContractNumberFilterSet, ProductFilterSet
from .forms import CategoryForm, IssueForm, ProductForm, ReasonForm
from .imports import PRODUCTS as PRODUCT_IMPORT
from .imports import PRODUCTS_SHEET
from .pricing import margin, margin_rate

# === Products (SAL-1) ==================================================================
PRODUCT_COLUMNS = [
    Column("code", gettext_lazy("Code"), sort="code"),
    Column("name", gettext_lazy("Product name"), sort="name"),
    Column("category.name", gettext_lazy("Category"), sort="category__name"),
    Column("unit", gettext_lazy("Unit of measure")),
    Column("list_price", gettext_lazy("List price"), sort="list_price"),
    Column("standard_cost", gettext_lazy("Standard cost"), sort="standard_cost"),
    Column("margin_rate", gettext_lazy("Gross margin %"),
           value=lambda p: margin_rate(p.list_price, p.standard_cost)),
    Column("is_active", gettext_lazy("On sale"), sort="is_active"),
]


class ProductListPage(ListPage):
    """The catalogue: everyone signed in reads it; those who maintain it add, edit and
    import (Capability.MANAGE_PRODUCTS)."""

    template_name = "sales/product_list.html"
    row_template = "sales/_product_row.html"
    title = gettext_lazy("Products")
    filterset_class = ProductFilterSet
    export_name = "products"
    default_sort = "code"
    empty_text = gettext_lazy("No product matches these filters.")
    create = ("sales:product_create", gettext_lazy("New product"), Capability.MANAGE_PRODUCTS)
    columns = PRODUCT_COLUMNS
    tab = "products"

    def rows(self):
        return selectors.product_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if PRODUCT_IMPORT.may_import(self.request.user):
            context["import_url"] = reverse("sales:product_import")
        return context

    def export(self, queryset):
        """The import template's columns (then the margin, which the import ignores), so
        an exported catalogue can be edited and imported again."""
        return export_response(PRODUCTS_SHEET, queryset.iterator(chunk_size=2000),
                               filename=self.export_name)


class ProductDetailPage(DetailPage):
    template_name = "sales/product_detail.html"

    def get_object(self):
        return selectors.product_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        product = self.object
        context.update(
            margin=margin(product.list_price, product.standard_cost),
            margin_rate=margin_rate(product.list_price, product.standard_cost),
            can_manage=services.can_manage_products(self.request.user),
        )
        return context


def _require_manage_products(request) -> None:
    if not services.can_manage_products(request.user):
        raise PermissionDenied


@login_required
def product_create(request):
    _require_manage_products(request)
    form = ProductForm(posted(request), categories=selectors.category_choices())

    def save():
        product = services.product_create(by=request.user, **form.cleaned_data)
        return (reverse("sales:product_detail", args=[product.pk]),
                _("Product %s created.") % product.code)

    return form_page(request, form, save=save, title=_("New product"),
                     cancel_url=reverse("sales:product_list"))


@login_required
def product_edit(request, pk):
    product = selectors.product_get(user=request.user, pk=pk)
    _require_manage_products(request)
    form = ProductForm(posted(request), categories=selectors.category_choices(),
                       initial={f: getattr(product, f) for f in ProductForm.base_fields})
    url = reverse("sales:product_detail", args=[product.pk])

    def save():
        services.product_update(product=product, by=request.user, **form.cleaned_data)
        return url, _("Changes saved.")

    return form_page(request, form, save=save, title=_("Edit %s") % product.code,
                     cancel_url=url)


def _product_action(request, pk, action, message):
    product = selectors.product_get(user=request.user, pk=pk)
    return post_action(request, lambda: action(product=product, by=request.user),
                       success=message % product.code,
                       url=reverse("sales:product_detail", args=[product.pk]))


@login_required
@require_POST
def product_deactivate(request, pk):
    return _product_action(request, pk, services.product_deactivate,
                           _("%s is no longer offered."))


@login_required
@require_POST
def product_activate(request, pk):
    return _product_action(request, pk, services.product_activate, _("%s is offered again."))


class CategoryListPage(ListPage):
    """The categories, with their product counts; maintained here by the catalogue's
    keepers."""

    template_name = "sales/category_list.html"
    row_template = "sales/_category_row.html"
    title = gettext_lazy("Product categories")
    export_name = "product-categories"
    default_sort = "sort_order"
    empty_text = gettext_lazy("No category yet.")
    create = ("sales:category_create", gettext_lazy("New category"),
              Capability.MANAGE_PRODUCTS)
    tab = "categories"
    columns = [
        Column("name", gettext_lazy("Category name"), sort="name"),
        Column("parent.name", gettext_lazy("Parent category"), sort="parent__name"),
        Column("sort_order", gettext_lazy("Sort order"), sort="sort_order"),
        Column("product_count", gettext_lazy("Products"), sort="product_count"),
    ]

    def rows(self):
        return selectors.category_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_manage"] = services.can_manage_products(self.request.user)
        return context


@login_required
def category_create(request):
    _require_manage_products(request)
    form = CategoryForm(posted(request), categories=selectors.category_choices())

    def save():
        category = services.category_create(by=request.user, **form.cleaned_data)
        return reverse("sales:category_list"), _("Category %s created.") % category.name

    return form_page(request, form, save=save, title=_("New product category"),
                     cancel_url=reverse("sales:category_list"))


@login_required
def category_edit(request, pk):
    category = selectors.category_get(user=request.user, pk=pk)
    _require_manage_products(request)
    form = CategoryForm(posted(request),
                        categories=selectors.category_choices().exclude(pk=category.pk),
                        initial={"name": category.name, "parent": category.parent_id,
                                 "sort_order": category.sort_order})

    def save():
        services.category_update(category=category, by=request.user, **form.cleaned_data)
        return reverse("sales:category_list"), _("Changes saved.")

    return form_page(request, form, save=save, title=_("Edit %s") % category.name,
                     cancel_url=reverse("sales:category_list"))


# === Contract number register (SAL-4) ==================================================
NUMBER_COLUMNS = [
    Column("number", gettext_lazy("Number"), sort="number"),
    Column("get_status_display", gettext_lazy("Status"), sort="status"),
    Column("issued_to.name", gettext_lazy("Issued to"), sort="issued_to__name"),
    Column("issued_to.unit.name", gettext_lazy("Unit")),
    Column("issued_by.name", gettext_lazy("Issued by")),
    Column("issued_at", gettext_lazy("Issued at"), sort="issued_at"),
    Column("used_at", gettext_lazy("Used at"), sort="used_at"),
    Column("contract_id", gettext_lazy("Contract")),
    Column("reason", gettext_lazy("Reason")),
]


class ContractNumberListPage(ListPage):
    """The register (合同领用登记): every number in the money scope, whatever its status."""

    template_name = "sales/number_list.html"
    row_template = "sales/_number_row.html"
    title = gettext_lazy("Contract number register")
    filterset_class = ContractNumberFilterSet
    export_name = "contract-numbers"
    default_sort = "-number"
    empty_text = gettext_lazy("No contract number matches these filters.")
    create = ("sales:number_issue", gettext_lazy("Issue numbers"), None)
    create_needs_employee = True
    columns = NUMBER_COLUMNS
    tab = "register"

    def rows(self):
        return selectors.contract_number_list(user=self.request.user)


class MyContractNumbersPage(ContractNumberListPage):
    """A salesperson's own numbers: those still to use first."""

    title = gettext_lazy("My contract numbers")
    export_name = "my-contract-numbers"
    empty_text = gettext_lazy("You hold no contract number. Take one with “Take a number”.")
    create = ("sales:number_issue", gettext_lazy("Take a number"), None)
    tab = "mine"

    def rows(self):
        return selectors.my_contract_numbers(user=self.request.user)


class ContractNumberDetailPage(DetailPage):
    template_name = "sales/number_detail.html"

    def get_object(self):
        return selectors.contract_number_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        number = self.object
        open_ = number.status == ContractNumberStatus.ISSUED
        context.update(
            can_close=open_ and services.can_close(self.request.user, number),
            next_statuses=CONTRACT_NUMBER_TRANSITIONS.get(number.status, frozenset()),
        )
        return context


@login_required
def number_issue(request):
    """Issue numbers to someone in one's money scope (a salesperson: to themselves)."""
    me = employee_of(request.user)
    if me is None:
        raise PermissionDenied
    holders = selectors.number_holders(user=request.user)
    form = IssueForm(posted(request), holders=holders, initial={"to": me.pk})

    def save():
        numbers = services.contract_number_issue(by=request.user, **form.cleaned_data)
        if len(numbers) == 1:
            message = _("Number %(number)s issued to %(name)s.") % {
                "number": numbers[0].number, "name": form.cleaned_data["to"].name}
        else:
            message = _("Numbers %(first)s to %(last)s issued to %(name)s.") % {
                "first": numbers[0].number, "last": numbers[-1].number,
                "name": form.cleaned_data["to"].name}
        url = (reverse("sales:number_mine") if form.cleaned_data["to"].pk == me.pk
               else reverse("sales:number_list"))
        return url, message

    return form_page(request, form, save=save, title=_("Issue contract numbers"),
                     cancel_url=reverse("sales:number_list"))


def _close_page(request, pk, action, title, message):
    number = selectors.contract_number_get(user=request.user, pk=pk)
    if not services.can_close(request.user, number):
        raise PermissionDenied
    form = ReasonForm(posted(request))
    url = reverse("sales:number_detail", args=[number.pk])

    def save():
        action(number=number, by=request.user, **form.cleaned_data)
        return url, message % number.number

    return form_page(request, form, save=save, title=title % number.number, cancel_url=url)


@login_required
def number_void(request, pk):
    return _close_page(request, pk, services.contract_number_void,
                       _("Void the number %s"), _("%s is voided."))


@login_required
def number_return(request, pk):
    return _close_page(request, pk, services.contract_number_return,
                       _("Return the number %s"), _("%s is returned."))


# === Opportunities (SAL-2) ==============================================================
# === Contracts (SAL-5) ==================================================================
# === Receivables (SAL-6) ================================================================
# === Expenses (SAL-7) ===================================================================


# === Opportunities (SAL-2) ==============================================================
import datetime  # noqa: E402 - this section's own imports

from django.http import Http404  # noqa: E402
from django.shortcuts import render  # noqa: E402

from bizdept.approvals.selectors import document_history  # noqa: E402
from bizdept.core.excel import xlsx_response  # noqa: E402
from bizdept.core.periods import current_month, period_bounds  # noqa: E402
from bizdept.customers.models import Customer  # noqa: E402
from bizdept.org.models import Employee  # noqa: E402

from .choices import (  # noqa: E402
    EXPENSE_EDITABLE,
    OPPORTUNITY_CLOSED,
    OPPORTUNITY_FLOW,
    ExpenseStatus,
    OpportunityStage,
)
from .filters import ExpenseFilterSet, OpportunityFilterSet  # noqa: E402
from .forms import (  # noqa: E402
    BudgetForm,
    CommentForm,
    EvaluationForm,
    ExpenseForm,
    OpportunityForm,
    SolutionLineForm,
)
from .models import Product  # noqa: E402

OPPORTUNITY_COLUMNS = [
    Column("title", gettext_lazy("Opportunity subject"), sort="title"),
    Column("customer.name", gettext_lazy("Customer"), sort="customer__name"),
    Column("owner.name", gettext_lazy("Opportunity owner"), sort="owner__name"),
    Column("get_stage_display", gettext_lazy("Opportunity stage"), sort="stage"),
    Column("expected_amount", gettext_lazy("Expected amount"), sort="expected_amount"),
    Column("expected_close_on", gettext_lazy("Expected close date"), sort="expected_close_on"),
    Column("created_at", gettext_lazy("Created at"), sort="created_at"),
]


class OpportunityListPage(ListPage):
    """Opportunities in the sales scope (客户需求/商机)."""

    template_name = "sales/opportunity_list.html"
    row_template = "sales/_opportunity_row.html"
    title = gettext_lazy("Opportunities")
    filterset_class = OpportunityFilterSet
    export_name = "opportunities"
    default_sort = "-created_at"
    empty_text = gettext_lazy("No opportunity matches these filters.")
    create = ("sales:opportunity_create", gettext_lazy("New opportunity"), None)
    create_needs_employee = True
    columns = OPPORTUNITY_COLUMNS
    tab = "opportunities"

    def rows(self):
        return selectors.opportunity_list(user=self.request.user)


class OpportunityDetailPage(DetailPage):
    template_name = "sales/opportunity_detail.html"

    def get_object(self):
        return selectors.opportunity_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        o = self.object
        lines = list(o.lines.all())
        history = document_history(o)
        threshold = selectors.discount_threshold()
        may = services.can_work_on(self.request.user, o)
        pending = history.is_pending
        flow = list(OPPORTUNITY_FLOW)
        reached = flow.index(o.stage) if o.stage in flow else -1
        needs_discount = max((line.discount_percent for line in lines), default=0) > threshold
        context.update(
            lines=lines, totals=selectors.solution_totals(lines),
            stage_changes=list(selectors.stage_changes(o)),
            approval_history=history,
            stage_bar=[{"stage": s, "label": OpportunityStage(s).label, "done": n < reached,
                        "current": n == reached} for n, s in enumerate(flow)],
            may=may and not o.is_closed,
            may_evaluate=may and o.stage in (OpportunityStage.FOLLOW_UP,
                                              OpportunityStage.EVALUATED,
                                              *OPPORTUNITY_CLOSED),
            lines_editable=may and o.stage == OpportunityStage.SOLUTION and not pending,
            threshold=threshold, needs_discount=needs_discount,
            discount_ok=not needs_discount or services.discount_approved(o),
            pending=pending,
        )
        return context


def _opportunity_for_action(request, pk):
    opportunity = selectors.opportunity_get(user=request.user, pk=pk)
    if not services.can_work_on(request.user, opportunity):
        raise PermissionDenied
    return opportunity


def _my_customers(request):
    me = employee_of(request.user)
    rows = Customer.objects.visible_to(request.user).order_by("name")
    return rows.filter(owner=me) if me is not None else rows


@login_required
def opportunity_create(request):
    """From the list, or from a customer's page (``?customer=<id>``)."""
    if employee_of(request.user) is None:
        raise PermissionDenied
    customers = _my_customers(request)
    initial = {}
    customer_id = request.GET.get("customer")
    if customer_id and customer_id.isdigit():
        given = Customer.objects.visible_to(request.user).filter(pk=customer_id)
        if given.exists():
            customers = given
            initial["customer"] = int(customer_id)
    form = OpportunityForm(posted(request), customers=customers, initial=initial,
                           owners=selectors.opportunity_owners(user=request.user))

    def save():
        data = dict(form.cleaned_data)
        if data.get("expected_amount") is None:
            data["expected_amount"] = 0
        opportunity = services.opportunity_create(by=request.user, **data)
        return (reverse("sales:opportunity_detail", args=[opportunity.pk]),
                _("Opportunity “%s” created.") % opportunity.title)

    return form_page(request, form, save=save, title=_("New opportunity"),
                     cancel_url=reverse("sales:opportunity_list"))


@login_required
def opportunity_edit(request, pk):
    opportunity = _opportunity_for_action(request, pk)
    form = OpportunityForm(posted(request), edit=True,
                           owners=selectors.opportunity_owners(user=request.user),
                           initial={"title": opportunity.title, "need": opportunity.need,
                                    "expected_amount": opportunity.expected_amount,
                                    "expected_close_on": opportunity.expected_close_on,
                                    "owner": opportunity.owner_id})
    url = reverse("sales:opportunity_detail", args=[opportunity.pk])

    def save():
        data = dict(form.cleaned_data)
        if data.get("expected_amount") is None:
            data["expected_amount"] = 0
        services.opportunity_update(opportunity=opportunity, by=request.user, **data)
        return url, _("Changes saved.")

    return form_page(request, form, save=save, title=_("Edit %s") % opportunity.title,
                     cancel_url=url)


def _comment_action(request, pk, action, title, message):
    opportunity = _opportunity_for_action(request, pk)
    form = CommentForm(posted(request))
    url = reverse("sales:opportunity_detail", args=[opportunity.pk])

    def save():
        action(opportunity=opportunity, by=request.user, **form.cleaned_data)
        return url, message

    return form_page(request, form, save=save, title=title % opportunity.title,
                     cancel_url=url)


@login_required
def opportunity_submit(request, pk):
    return _comment_action(request, pk, services.opportunity_submit,
                           _("Submit “%s” for the manager's approval"),
                           _("Submitted for the manager's approval."))


@login_required
def opportunity_advance(request, pk):
    return _comment_action(request, pk, services.opportunity_advance,
                           _("Move “%s” on to the next stage"), _("The opportunity moved on."))


@login_required
def opportunity_request_discount(request, pk):
    return _comment_action(request, pk, services.opportunity_request_discount,
                           _("Ask for the discount approval of “%s”"),
                           _("The discount was sent for approval."))


def _outcome(request, pk, action, title, message):
    opportunity = _opportunity_for_action(request, pk)
    form = ReasonForm(posted(request))
    url = reverse("sales:opportunity_detail", args=[opportunity.pk])

    def save():
        action(opportunity=opportunity, by=request.user, **form.cleaned_data)
        return url, message

    return form_page(request, form, save=save, title=title % opportunity.title,
                     cancel_url=url)


@login_required
def opportunity_win(request, pk):
    return _outcome(request, pk, services.opportunity_win, _("Mark “%s” won"),
                    _("The opportunity is won."))


@login_required
def opportunity_lose(request, pk):
    return _outcome(request, pk, services.opportunity_lose, _("Mark “%s” lost"),
                    _("The opportunity is marked lost."))


@login_required
def opportunity_evaluate(request, pk):
    opportunity = _opportunity_for_action(request, pk)
    form = EvaluationForm(posted(request), initial={"score": opportunity.evaluation_score or 3,
                                                    "lessons": opportunity.lessons})
    url = reverse("sales:opportunity_detail", args=[opportunity.pk])

    def save():
        services.opportunity_evaluate(opportunity=opportunity, by=request.user,
                                      **form.cleaned_data)
        return url, _("Evaluation saved.")

    return form_page(request, form, save=save, title=_("Evaluate “%s”") % opportunity.title,
                     cancel_url=url)


def _active_products():
    return Product.objects.filter(is_active=True).order_by("code")


@login_required
def solution_line_add(request, pk):
    opportunity = _opportunity_for_action(request, pk)
    form = SolutionLineForm(posted(request), products=_active_products())
    url = reverse("sales:opportunity_detail", args=[opportunity.pk])

    def save():
        services.solution_line_add(opportunity=opportunity, by=request.user,
                                   **form.cleaned_data)
        return url, _("Line added.")

    return form_page(request, form, save=save, title=_("Add a solution line"), cancel_url=url)


@login_required
def solution_line_edit(request, pk):
    line = selectors.line_get(user=request.user, pk=pk)
    if not services.can_work_on(request.user, line.opportunity):
        raise PermissionDenied
    form = SolutionLineForm(posted(request), edit=True,
                            initial={"quantity": line.quantity, "unit_price": line.unit_price,
                                     "discount_percent": line.discount_percent})
    url = reverse("sales:opportunity_detail", args=[line.opportunity_id])

    def save():
        services.solution_line_update(line=line, by=request.user, **form.cleaned_data)
        return url, _("Changes saved.")

    return form_page(request, form, save=save,
                     title=_("Edit the line %s") % line.product.code, cancel_url=url)


@login_required
@require_POST
def solution_line_remove(request, pk):
    line = selectors.line_get(user=request.user, pk=pk)
    return post_action(request, lambda: services.solution_line_remove(line=line, by=request.user),
                       success=_("Line removed."),
                       url=reverse("sales:opportunity_detail", args=[line.opportunity_id]))


def _funnel_chart(funnel) -> dict:
    """ECharts funnel: how many reached each stage (the same figures as the table)."""
    return {
        "tooltip": {"trigger": "item", "formatter": "{b}: {c}"},
        "series": [{"type": "funnel", "name": str(gettext_lazy("Opportunities")),
                    "sort": "none", "left": "10%", "width": "80%", "minSize": "8%",
                    "label": {"show": True, "position": "inside", "formatter": "{b} {c}"},
                    "data": [{"name": row.label, "value": row.reached}
                             for row in funnel.rows]}],
    }


def _date_param(request, name):
    raw = request.GET.get(name, "")
    try:
        return datetime.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@login_required
def opportunity_funnel(request):
    """The funnel of a unit the user may see (default: the user's own scope), over the
    opportunities created in a period; chart and table side by side; Excel export."""
    units = list(selectors.funnel_units(user=request.user))
    unit = None
    raw = request.GET.get("unit", "")
    if raw.isdigit():
        unit = next((u for u in units if u.pk == int(raw)), None)
        if unit is None:
            raise Http404
    since, until = _date_param(request, "since"), _date_param(request, "until")
    funnel = selectors.opportunity_funnel(user=request.user, unit=unit, since=since,
                                          until=until)
    if request.GET.get("export") == "xlsx":
        headers = [_("Opportunity stage"), _("Now at this stage"), _("Expected amount"),
                   _("Reached"), _("Conversion %")]
        rows = [[r.label, r.count, r.amount, r.reached, r.conversion] for r in funnel.rows]
        rows += [[_("Opportunity won"), funnel.won, funnel.won_amount, None, funnel.win_rate],
                 [_("Opportunity lost"), funnel.lost, None, None, None]]
        return xlsx_response(filename="opportunity-funnel", sheet=str(_("Funnel")),
                             headers=headers, rows=iter(rows))
    return render(request, "sales/opportunity_funnel.html", {
        "title": _("Opportunity funnel"), "units": units, "unit": unit, "since": since,
        "until": until, "funnel": funnel, "chart": _funnel_chart(funnel), "tab": "funnel",
        "querystring": request.GET.urlencode(),
    })
# === end of Opportunities (SAL-2) pages =================================================


# === Contracts (SAL-5) ==================================================================
# (datetime, render, Http404, document_history, xlsx_response, CommentForm and Product
# come from the opportunities' section above)
from decimal import Decimal  # noqa: E402

from django.conf import settings  # noqa: E402
from django.core.paginator import Paginator  # noqa: E402
from django.http import FileResponse  # noqa: E402

from bizdept.core.money import rmb_upper  # noqa: E402

from .choices import AGING_BUCKETS, CONTRACT_EDITABLE, ContractStatus  # noqa: E402
from .filters import ContractFilterSet  # noqa: E402
from .forms import (  # noqa: E402
    AmendLineFormSet,
    AmendmentForm,
    CollectionFilterForm,
    ContractForm,
    ContractLineForm,
    InstalmentFormSet,
    PaymentForm,
    ReceivablesFilterForm,
    SignForm,
)

CONTRACT_COLUMNS = [
    Column("number.number", gettext_lazy("Contract number"), sort="number__number"),
    Column("title", gettext_lazy("Contract title"), sort="title"),
    Column("customer.name", gettext_lazy("Customer"), sort="customer__name"),
    Column("owner.name", gettext_lazy("Owner"), sort="owner__name"),
    Column("owner.unit.name", gettext_lazy("Unit")),
    Column("get_status_display", gettext_lazy("Status"), sort="status"),
    Column("total", gettext_lazy("Contract amount"), sort="total"),
    Column("signed_on", gettext_lazy("Signed on"), sort="signed_on"),
    Column("ends_on", gettext_lazy("Ends on"), sort="ends_on"),
    Column("archived", gettext_lazy("Original filed"), sort="archived"),
]


class ContractListPage(ListPage):
    """Contracts in the money scope, filtered by status, owner, unit, customer and signing
    date; exportable."""

    template_name = "sales/contract_list.html"
    row_template = "sales/_contract_row.html"
    title = gettext_lazy("Contracts")
    filterset_class = ContractFilterSet
    export_name = "contracts"
    default_sort = "-signed_on"
    empty_text = gettext_lazy("No contract matches these filters.")
    create = ("sales:contract_create", gettext_lazy("New contract"), None)
    create_needs_employee = True
    columns = CONTRACT_COLUMNS
    tab = "contracts"

    def rows(self):
        return selectors.contract_list(user=self.request.user)


class ContractDetailPage(DetailPage):
    template_name = "sales/contract_detail.html"

    def get_object(self):
        return selectors.contract_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contract, user = self.object, self.request.user
        manage = services.can_manage_contract(user, contract)
        finance = services.can_enter_payments(user)
        status = contract.status
        plan = selectors.contract_plan(contract)
        context.update(
            lines=list(contract.lines.all()), figures=selectors.contract_figures(contract),
            total_upper=rmb_upper(contract.total), plan=plan,
            plan_total=sum((p.amount for p in plan), Decimal("0.00")),
            payments=selectors.contract_payments(contract),
            amendments=selectors.contract_amendments(contract),
            approval_history=document_history(contract),
            may=manage, finance=finance,
            may_edit=manage and status in CONTRACT_EDITABLE,
            may_report=manage and status == ContractStatus.DRAFT,
            may_confirm=(services.can_confirm_feasibility(user, contract)
                         and status not in services.CONTRACT_SIGNED_OR_ENDED
                         and contract.feasibility_filled),
            may_sign=manage and status == ContractStatus.APPROVED,
            may_execute=manage and status == ContractStatus.SIGNED,
            may_complete=manage and status == ContractStatus.EXECUTING,
            may_terminate=manage and status in (ContractStatus.SIGNED,
                                                ContractStatus.EXECUTING),
            may_amend=manage and status in (ContractStatus.SIGNED, ContractStatus.EXECUTING),
            may_plan=(manage or finance) and status not in (ContractStatus.COMPLETED,
                                                            ContractStatus.TERMINATED),
            may_pay=finance and status in services.RECEIVING,
        )
        return context


def _contract(request, pk):
    return selectors.contract_get(user=request.user, pk=pk)


def _contract_url(contract) -> str:
    return reverse("sales:contract_detail", args=[contract.pk])


@login_required
def contract_create(request):
    if employee_of(request.user) is None:
        raise PermissionDenied
    form = ContractForm(posted(request), numbers=selectors.free_numbers(user=request.user),
                        customers=selectors.contract_customers(user=request.user),
                        initial={"customer": request.GET.get("customer")})

    def save():
        contract = services.contract_create(by=request.user, **form.cleaned_data)
        return _contract_url(contract), _("Contract %s created.") % contract.number.number

    return form_page(request, form, save=save, title=_("New contract"),
                     cancel_url=reverse("sales:contract_list"))


@login_required
def contract_edit(request, pk):
    contract = _contract(request, pk)
    if not services.can_manage_contract(request.user, contract):
        raise PermissionDenied
    fields = [f for f in ContractForm.base_fields if f != "number"]
    form = ContractForm(posted(request), edit=True,
                        customers=selectors.contract_customers(user=request.user),
                        initial={f: getattr(contract, f"{f}_id" if f == "customer" else f)
                                 for f in fields})
    url = _contract_url(contract)

    def save():
        services.contract_update(contract=contract, by=request.user, **form.cleaned_data)
        return url, _("Changes saved.")

    return form_page(request, form, save=save, title=_("Edit %s") % contract.number.number,
                     cancel_url=url)


@login_required
def contract_line_add(request, pk):
    contract = _contract(request, pk)
    if not services.can_manage_contract(request.user, contract):
        raise PermissionDenied
    form = ContractLineForm(posted(request),
                            products=Product.objects.filter(is_active=True).order_by("code"))
    url = _contract_url(contract)

    def save():
        services.contract_line_add(contract=contract, by=request.user, **form.cleaned_data)
        return url, _("Line added.")

    return form_page(request, form, save=save, title=_("Add a contract line"), cancel_url=url)


@login_required
@require_POST
def contract_line_remove(request, pk, line_pk):
    contract = _contract(request, pk)
    line = contract.lines.filter(pk=line_pk).first()
    if line is None:
        raise Http404
    return post_action(
        request, lambda: services.contract_line_remove(contract=contract, by=request.user,
                                                       line=line),
        success=_("Line removed."), url=_contract_url(contract))


@login_required
def contract_report(request, pk):
    """签订前汇报: report the contract for approval before signing."""
    contract = _contract(request, pk)
    if not services.can_manage_contract(request.user, contract):
        raise PermissionDenied
    form = CommentForm(posted(request))
    url = _contract_url(contract)

    def save():
        services.contract_report(contract=contract, by=request.user, **form.cleaned_data)
        return url, _("%s is reported and waits for approval.") % contract.number.number

    return form_page(request, form, save=save,
                     title=_("Report %s before signing") % contract.number.number,
                     cancel_url=url)


def _contract_post(request, pk, action, message):
    contract = _contract(request, pk)
    return post_action(request, lambda: action(contract=contract, by=request.user),
                       success=message % contract.number.number, url=_contract_url(contract))


@login_required
@require_POST
def contract_feasibility_confirm(request, pk):
    return _contract_post(request, pk, services.contract_feasibility_confirm,
                          _("Feasibility of %s confirmed."))


@login_required
@require_POST
def contract_execute(request, pk):
    return _contract_post(request, pk, services.contract_execute,
                          _("%s is being executed."))


@login_required
@require_POST
def contract_complete(request, pk):
    return _contract_post(request, pk, services.contract_complete, _("%s is completed."))


@login_required
def contract_sign(request, pk):
    contract = _contract(request, pk)
    if not services.can_manage_contract(request.user, contract):
        raise PermissionDenied
    form = SignForm(request.POST if request.method == "POST" else None,
                    request.FILES if request.method == "POST" else None,
                    initial={"signed_on": datetime.date.today()})
    url = _contract_url(contract)

    def save():
        services.contract_sign(contract=contract, by=request.user, **form.cleaned_data)
        return url, _("%s is signed; the original is filed.") % contract.number.number

    return form_page(request, form, save=save, title=_("Sign %s") % contract.number.number,
                     cancel_url=url, template="sales/upload_form.html")


@login_required
def contract_terminate(request, pk):
    contract = _contract(request, pk)
    if not services.can_manage_contract(request.user, contract):
        raise PermissionDenied
    form = ReasonForm(posted(request))
    url = _contract_url(contract)

    def save():
        services.contract_terminate(contract=contract, by=request.user, **form.cleaned_data)
        return url, _("%s is terminated.") % contract.number.number

    return form_page(request, form, save=save,
                     title=_("Terminate %s") % contract.number.number, cancel_url=url)


def _line_initial(contract) -> list[dict]:
    return [{"product": line.product_id, "quantity": line.quantity,
             "unit_price": line.unit_price, "unit_cost": line.unit_cost}
            for line in contract.lines.all()]


@login_required
def contract_amend(request, pk):
    """Ask to change a signed contract: new dates and/or the complete new lines, with the
    reason; approved like the contract, applied when approved."""
    contract = _contract(request, pk)
    if not services.can_manage_contract(request.user, contract):
        raise PermissionDenied
    products = Product.objects.order_by("code")
    form = AmendmentForm(posted(request))
    formset = AmendLineFormSet(posted(request), initial=_line_initial(contract),
                               form_kwargs={"products": products}, prefix="lines")
    url = _contract_url(contract)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        lines = None
        if data.pop("change_lines"):
            lines = [row for row in formset.cleaned_data if row and row.get("product")]
        try:
            services.contract_amend(contract=contract, by=request.user, lines=lines, **data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("The amendment waits for approval."))
            return redirect(url)
    return render(request, "sales/contract_amend.html", {
        "title": _("Amend %s") % contract.number.number, "form": form, "formset": formset,
        "cancel_url": url, "object": contract})


@login_required
def contract_print(request, pk):
    """A clean page to print: the contract with its amount in figures and in Chinese
    capital numerals (大写)."""
    contract = _contract(request, pk)
    return render(request, "sales/contract_print.html", {
        "object": contract, "lines": list(contract.lines.all()),
        "total_upper": rmb_upper(contract.total), "plan": selectors.contract_plan(contract)})


@login_required
def contract_scan(request, pk):
    """The signed scan, to whoever may see the contract (never a public media URL)."""
    contract = _contract(request, pk)
    if not contract.scan:
        raise Http404
    return FileResponse(contract.scan.open("rb"), as_attachment=False,
                        filename=contract.scan.name.rsplit("/", 1)[-1])


# === Receivables (SAL-6) ================================================================
@login_required
def contract_plan_edit(request, pk):
    """The payment plan editor: instalments (due date, amount) adding up to no more than
    the contract amount."""
    contract = _contract(request, pk)
    if not services.can_edit_plan(request.user, contract):
        raise PermissionDenied
    initial = [{"due_on": p.due_on, "amount": p.amount, "note": p.note}
               for p in contract.instalments.order_by("due_on", "seq")]
    formset = InstalmentFormSet(posted(request), initial=initial, prefix="plan")
    url = _contract_url(contract)
    errors = []
    if request.method == "POST" and formset.is_valid():
        rows = [row for row in formset.cleaned_data
                if row and (row.get("due_on") or row.get("amount"))]
        try:
            services.contract_plan_set(contract=contract, by=request.user, instalments=rows)
        except DomainError as exc:
            errors.append(exc.message)
        else:
            messages.success(request, _("Payment plan saved."))
            return redirect(url)
    return render(request, "sales/contract_plan.html", {
        "title": _("Payment plan of %s") % contract.number.number, "formset": formset,
        "errors": errors, "cancel_url": url, "object": contract})


@login_required
def payment_record(request, pk):
    contract = _contract(request, pk)
    if not services.can_enter_payments(request.user):
        raise PermissionDenied
    form = PaymentForm(posted(request), initial={"received_on": datetime.date.today()})
    url = _contract_url(contract)

    def save():
        services.payment_record(contract=contract, by=request.user, **form.cleaned_data)
        return url, _("Payment recorded.")

    return form_page(request, form, save=save,
                     title=_("Record a payment on %s") % contract.number.number,
                     cancel_url=url)


@login_required
def payment_reverse(request, pk):
    payment = selectors.payment_get(user=request.user, pk=pk)
    if not services.can_enter_payments(request.user):
        raise PermissionDenied
    form = ReasonForm(posted(request))
    url = reverse("sales:contract_detail", args=[payment.contract_id])

    def save():
        services.payment_reverse(payment=payment, by=request.user, **form.cleaned_data)
        return url, _("Payment reversed.")

    return form_page(request, form, save=save, title=_("Reverse the payment of %s")
                     % payment.amount, cancel_url=url)


def _bucket_labels() -> list[tuple[str, str]]:
    labels = []
    for key, first, last in AGING_BUCKETS:
        labels.append((key, _("%(a)d–%(b)d days") % {"a": first, "b": last} if last is not None
                       else _("Over %d days") % (first - 1)))
    return labels


def _aging_chart(report, labels) -> dict:
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 90, "right": 20, "top": 20, "bottom": 30},
        "xAxis": {"type": "category", "data": [str(label) for _k, label in labels]},
        "yAxis": {"type": "value"},
        "series": [{"type": "bar", "name": str(_("Due and unpaid")),
                    "data": [float(report.buckets[k]) for k, _label in labels]}],
    }


def _receivables_filters(request):
    form = ReceivablesFilterForm(request.GET or None)
    as_of, unit = None, None
    if form.is_bound and form.is_valid():
        as_of, unit = form.cleaned_data["as_of"], form.cleaned_data["unit"]
    return form, as_of, unit


@login_required
def receivables(request):
    """Aging of receivables (per person, with the bar chart) in the money scope."""
    form, as_of, unit = _receivables_filters(request)
    report = selectors.receivables_aging(user=request.user, unit=unit, as_of=as_of)
    labels = _bucket_labels()
    if request.GET.get("export") == "xlsx":
        headers = [_("Owner"), _("Unit"), *[label for _k, label in labels], _("Total")]
        rows = [[r["name"], r["unit"], *[r["buckets"][k] for k, _l in labels], r["total"]]
                for r in report.rows]
        rows.append([_("Total"), "", *[report.buckets[k] for k, _l in labels],
                     report.overdue_total])
        return xlsx_response(filename="receivables-aging", sheet=str(_("Aging")),
                             headers=headers, rows=iter(rows))
    context = {"title": _("Receivables"), "tab": "aging", "form": form, "report": report,
               "labels": labels, "chart": _aging_chart(report, labels),
               "querystring": request.GET.urlencode(),
               "balances": selectors.receivable_balances(user=request.user, by="unit",
                                                         unit=unit, as_of=as_of)}
    if is_fragment_request(request):
        return render(request, "sales/receivables.html#report", context)
    return render(request, "sales/receivables.html", context)


@login_required
def receivables_overdue(request):
    """Unpaid instalments past due, most overdue first, a page at a time (the export has
    them all)."""
    form, as_of, unit = _receivables_filters(request)
    overdue = selectors.overdue_instalments(user=request.user, unit=unit, as_of=as_of)
    if request.GET.get("export") == "xlsx":
        headers = [_("Contract number"), _("Customer"), _("Owner"), _("Unit"),
                   _("Instalment"), _("Due on"), _("Amount"), _("Unpaid"), _("Days overdue")]
        rows = ([r["number"], r["customer"], r["owner"], r["unit"], r["seq"], r["due_on"],
                 r["amount"], r["unpaid"], r["days_overdue"]] for r in overdue)
        return xlsx_response(filename="receivables-overdue", sheet=str(_("Overdue")),
                             headers=headers, rows=rows)
    page = Paginator(overdue, settings.BIZDEPT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    for key in ("page", "export"):
        query.pop(key, None)
    context = {"title": _("Overdue instalments"), "tab": "overdue", "form": form,
               "page_obj": page, "rows": page.object_list, "querystring": query.urlencode()}
    if is_fragment_request(request):
        part = "table" if request.htmx.target == "list-table" else "report"
        return render(request, f"sales/receivables_overdue.html#{part}", context)
    return render(request, "sales/receivables_overdue.html", context)


@login_required
def receivables_collection(request):
    """Collection rate per person and per unit for a period (default: this year so far)."""
    today = datetime.date.today()
    form = CollectionFilterForm(request.GET or None,
                                initial={"since": today.replace(month=1, day=1),
                                         "until": today})
    since, until, unit = today.replace(month=1, day=1), today, None
    result = None
    if form.is_bound and form.is_valid():
        since, until, unit = (form.cleaned_data["since"], form.cleaned_data["until"],
                              form.cleaned_data["unit"])
    try:
        result = selectors.collection_rate(user=request.user, since=since, until=until,
                                           unit=unit)
    except DomainError as exc:
        add_domain_errors(form, exc)
    if result is not None and request.GET.get("export") == "xlsx":
        headers = [_("Owner"), _("Unit"), _("Due in the period"), _("Collected in the period"),
                   _("Collection rate %")]
        rows = [[r["name"], r["unit"], r["due"], r["collected"], r["rate"]]
                for r in result["people"]]
        rows += [[_("Unit"), r["name"], r["due"], r["collected"], r["rate"]]
                 for r in result["units"]]
        return xlsx_response(filename="collection-rate", sheet=str(_("Collection rate")),
                             headers=headers, rows=iter(rows))
    context = {"title": _("Collection rate"), "tab": "collection", "form": form,
               "result": result, "querystring": request.GET.urlencode()}
    if is_fragment_request(request):
        return render(request, "sales/receivables_collection.html#report", context)
    return render(request, "sales/receivables_collection.html", context)
# === end of Contracts (SAL-5) and receivables (SAL-6) pages =============================


# === Expenses (SAL-7) ===================================================================
EXPENSE_COLUMNS = [
    Column("spent_on", gettext_lazy("Spent on"), sort="spent_on"),
    Column("employee.name", gettext_lazy("Claimant"), sort="employee__name"),
    Column("get_category_display", gettext_lazy("Expense category"), sort="category"),
    Column("amount", gettext_lazy("Claimed amount"), sort="amount"),
    Column("customer.name", gettext_lazy("Customer")),
    Column("get_status_display", gettext_lazy("Claim status"), sort="status"),
    Column("over_budget_by", gettext_lazy("Over budget by"), sort="over_budget_by"),
    Column("description", gettext_lazy("Expense description")),
]


class MyExpensesPage(ListPage):
    template_name = "sales/expense_list.html"
    row_template = "sales/_expense_row.html"
    title = gettext_lazy("My expense claims")
    filterset_class = ExpenseFilterSet
    export_name = "my-expenses"
    default_sort = "-spent_on"
    empty_text = gettext_lazy("No expense claim here yet.")
    create = ("sales:expense_create", gettext_lazy("New expense claim"), None)
    create_needs_employee = True
    columns = EXPENSE_COLUMNS
    tab = "mine"

    def rows(self):
        return selectors.my_expenses(user=self.request.user)


class TeamExpensesPage(MyExpensesPage):
    """Claims of the people under a head (finance and the director: the department)."""

    title = gettext_lazy("Team expense claims")
    export_name = "team-expenses"
    empty_text = gettext_lazy("No claim of your team matches these filters.")
    create = None
    tab = "team"

    def rows(self):
        return selectors.team_expenses(user=self.request.user)


class ExpenseDetailPage(DetailPage):
    template_name = "sales/expense_detail.html"

    def get_object(self):
        return selectors.expense_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        claim = self.object
        me = employee_of(self.request.user)
        mine = me is not None and claim.employee_id == me.pk
        position = services.budget_position(claim.employee, claim.spent_on, exclude_pk=claim.pk)
        context.update(
            approval_history=document_history(claim),
            may_edit=mine and claim.status in EXPENSE_EDITABLE,
            may_pay=claim.status == ExpenseStatus.APPROVED and services.is_finance(
                self.request.user),
            position=position,
        )
        return context


@login_required
def expense_create(request):
    if employee_of(request.user) is None:
        raise PermissionDenied
    form = ExpenseForm(posted(request), customers=_my_customers(request),
                       initial={"spent_on": datetime.date.today()})

    def save():
        claim = services.expense_claim_create(by=request.user, **form.cleaned_data)
        return reverse("sales:expense_detail", args=[claim.pk]), _("Claim saved as a draft.")

    return form_page(request, form, save=save, title=_("New expense claim"),
                     cancel_url=reverse("sales:expense_mine"))


@login_required
def expense_edit(request, pk):
    claim = selectors.expense_get(user=request.user, pk=pk)
    form = ExpenseForm(posted(request), customers=_my_customers(request),
                       initial={"category": claim.category, "amount": claim.amount,
                                "spent_on": claim.spent_on, "description": claim.description,
                                "customer": claim.customer_id})
    url = reverse("sales:expense_detail", args=[claim.pk])

    def save():
        services.expense_claim_update(claim=claim, by=request.user, **form.cleaned_data)
        return url, _("Changes saved.")

    return form_page(request, form, save=save, title=_("Edit the expense claim"),
                     cancel_url=url)


def _claim_action(request, pk, action, message):
    claim = selectors.expense_get(user=request.user, pk=pk)
    return post_action(request, lambda: action(claim=claim, by=request.user), success=message,
                       url=reverse("sales:expense_detail", args=[claim.pk]))


@login_required
@require_POST
def expense_submit(request, pk):
    return _claim_action(request, pk, services.expense_claim_submit,
                         _("Claim submitted for approval."))


@login_required
@require_POST
def expense_pay(request, pk):
    return _claim_action(request, pk, services.expense_mark_paid, _("Claim marked paid."))


@login_required
def expense_budgets(request):
    """Budget use per person for a month or a quarter, with the form to set a budget for
    the people in one's scope (heads, finance, the director)."""
    period = (request.GET.get("period") or current_month()).strip()
    try:
        since, until = period_bounds(period)
    except DomainError as exc:
        messages.error(request, exc.message)
        period = current_month()
        since, until = period_bounds(period)
    people = list(selectors.budget_people(user=request.user))
    rows = selectors.budget_use(user=request.user, period=period, people=people)
    settable = [p for p in people if services.can_set_budget(request.user, p)]
    form = None
    if settable:
        form = BudgetForm(posted(request), people=Employee.objects.filter(
            pk__in=[p.pk for p in settable]).select_related("unit").order_by("number"),
            initial={"period": period})
        if request.method == "POST" and form.is_valid():
            try:
                services.expense_budget_set(by=request.user, **form.cleaned_data)
            except DomainError as exc:

                add_domain_errors(form, exc)
            else:
                messages.success(request, _("Budget saved."))
                return redirect(reverse("sales:expense_budgets")
                                + f"?period={form.cleaned_data['period']}")
    elif request.method == "POST":
        raise PermissionDenied
    if request.GET.get("export") == "xlsx":
        headers = [_("Employee"), _("Unit"), _("Budget amount"), _("Approved"),
                   _("Pending approval"), _("Remaining"), _("Over budget by")]
        return xlsx_response(filename=f"expense-budgets-{period}", sheet=period,
                             headers=headers,
                             rows=([r.employee.name, r.employee.unit.name, r.budget,
                                    r.approved, r.pending, r.remaining, r.over]
                                   for r in rows))
    return render(request, "sales/expense_budgets.html", {
        "title": _("Expense budgets"), "period": period, "since": since, "until": until,
        "rows": rows, "form": form, "tab": "budgets",
    })
# === end of Expenses (SAL-7) pages ======================================================
