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
from bizdept.core.pages import Column, DetailPage, ListPage, form_page, posted
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

    def rows(self):
        return selectors.product_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tab"] = "products"
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
    try:
        action(product=product, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, message % product.code)
    return redirect("sales:product_detail", pk=product.pk)


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
        context["tab"] = "categories"
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
    columns = NUMBER_COLUMNS
    tab = "register"

    def rows(self):
        return selectors.contract_number_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tab"] = self.tab
        if employee_of(self.request.user) is None:
            context.pop("create_url", None)
        return context


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
