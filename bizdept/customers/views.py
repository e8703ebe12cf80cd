"""Customer pages (CUS-1..8): lists, the pool, revisits due, detail with one timeline,
and the forms of a day's field work. Parse, call a service or selector, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from bizdept.core.errors import DomainError
from bizdept.core.pages import Column, DetailPage, ListPage, add_domain_errors
from bizdept.org.choices import Capability
from bizdept.org.models import Employee
from bizdept.org.scope import capabilities_of, employee_of
from bizdept.org.selectors import employee_list, heads_above

from . import selectors, services
from .filters import CustomerFilterSet
from .forms import (
    ContactForm,
    CustomerForm,
    GradeForm,
    ReleaseForm,
    TransferForm,
    VisitForm,
    VisitReviewForm,
)

CUSTOMER_COLUMNS = [
    Column("name", gettext_lazy("Name"), sort="name"),
    Column("get_stage_display", gettext_lazy("Stage"), sort="stage"),
    Column("grade", gettext_lazy("Grade"), sort="grade"),
    Column("owner.name", gettext_lazy("Owner"), sort="owner__name"),
    Column("region", gettext_lazy("Region"), sort="region"),
    Column("next_revisit_on", gettext_lazy("Next revisit due"), sort="next_revisit_on"),
    Column("last_followup_at", gettext_lazy("Last follow-up"), sort="last_followup_at"),
    Column("phone", gettext_lazy("Phone")),
    Column("credit_code", gettext_lazy("Unified social credit code")),
]


def _posted(request):
    return request.POST if request.method == "POST" else None


class CustomerListPage(ListPage):
    template_name = "customers/customer_list.html"
    row_template = "customers/_customer_row.html"
    title = gettext_lazy("Customers")
    filterset_class = CustomerFilterSet
    export_name = "customers"
    default_sort = "name"
    empty_text = gettext_lazy("No customer matches these filters.")
    create = ("customers:customer_create", gettext_lazy("New customer"), None)
    columns = CUSTOMER_COLUMNS

    def rows(self):
        return selectors.customer_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_transfer"] = Capability.MANAGE_TEAM in capabilities_of(self.request.user)
        return context


class PoolPage(CustomerListPage):
    title = gettext_lazy("Public pool")
    row_template = "customers/_pool_row.html"
    export_name = "public-pool"
    default_sort = "pooled_at"
    empty_text = gettext_lazy("The public pool is empty.")
    create = None
    columns = [
        Column("name", gettext_lazy("Name"), sort="name"),
        Column("region", gettext_lazy("Region"), sort="region"),
        Column("industry", gettext_lazy("Industry"), sort="industry"),
        Column("grade", gettext_lazy("Grade"), sort="grade"),
        Column("pooled_at", gettext_lazy("In the pool since"), sort="pooled_at"),
        Column("pk", "", value=lambda c: "", export=False),
    ]

    def rows(self):
        return selectors.pool_list(user=self.request.user)


class RevisitsPage(CustomerListPage):
    """CUS-4: revisits due today or overdue — mine, or my whole subtree for a head."""

    title = gettext_lazy("Revisits due")
    export_name = "revisits-due"
    default_sort = "next_revisit_on"
    empty_text = gettext_lazy("No revisit is due. Well done.")
    create = None

    def rows(self):
        mine = self.request.GET.get("who") != "team"
        return selectors.revisits_overdue(user=self.request.user, mine_only=mine)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["who"] = "team" if self.request.GET.get("who") == "team" else "mine"
        context["is_head"] = Capability.MANAGE_TEAM in capabilities_of(self.request.user)
        return context


class CustomerDetailPage(DetailPage):
    template_name = "customers/customer_detail.html"

    def get_object(self):
        return selectors.customer_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        customer = self.object
        user = self.request.user
        caps = capabilities_of(user)
        editable = services.can_edit(user, customer)
        context.update(
            contacts=list(customer.contacts.all()),
            timeline=selectors.customer_timeline(customer),
            can_edit=editable,
            can_claim=customer.owner_id is None and employee_of(user) is not None,
            can_manage=Capability.MANAGE_TEAM in caps and editable,
            overdue=bool(customer.next_revisit_on
                         and customer.next_revisit_on <= timezone.localdate()),
        )
        return context


def _customer_form_data(form) -> dict:
    return dict(form.cleaned_data)


@login_required
def customer_create(request):
    form = CustomerForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(by=request.user, **_customer_form_data(form))
        except PermissionDenied:
            raise
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Customer %s created.") % customer.name)
            return redirect("customers:customer_detail", pk=customer.pk)
    return render(request, "form_page.html", {
        "form": form, "title": _("New customer"),
        "cancel_url": reverse("customers:customer_list")})


@login_required
def customer_edit(request, pk):
    customer = selectors.customer_get(user=request.user, pk=pk)
    if not services.can_edit(request.user, customer):
        raise PermissionDenied
    initial = {f: getattr(customer, f) for f in CustomerForm.base_fields}
    form = CustomerForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_update(customer=customer, by=request.user,
                                     **_customer_form_data(form))
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("customers:customer_detail", pk=customer.pk)
    return render(request, "form_page.html", {
        "form": form, "title": _("Edit %s") % customer.name,
        "cancel_url": reverse("customers:customer_detail", args=[customer.pk])})


@login_required
def contact_create(request, pk):
    customer = selectors.customer_get(user=request.user, pk=pk)
    form = ContactForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_create(customer=customer, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Contact added."))
            return redirect("customers:customer_detail", pk=customer.pk)
    return render(request, "form_page.html", {
        "form": form, "title": _("New contact for %s") % customer.name,
        "cancel_url": reverse("customers:customer_detail", args=[customer.pk])})


@login_required
def contact_edit(request, pk):
    contact = selectors.contact_get(user=request.user, pk=pk)
    form = ContactForm(_posted(request), initial={f: getattr(contact, f)
                                                  for f in ContactForm.base_fields})
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(contact=contact, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("customers:customer_detail", pk=contact.customer_id)
    return render(request, "form_page.html", {
        "form": form, "title": _("Edit %s") % contact.name,
        "cancel_url": reverse("customers:customer_detail", args=[contact.customer_id])})


def _coaches(user):
    return employee_list(user=user).active().order_by("number")


@login_required
def visit_create(request, pk):
    """Log a visit, call or joint visit; the page can check in with the phone's location."""
    customer = selectors.customer_get(user=request.user, pk=pk)
    me = employee_of(request.user)
    coaches = heads_above(me) if me is not None else []
    form = VisitForm(_posted(request), customer=customer,
                     coaches=Employee.objects.filter(pk__in=[c.pk for c in coaches]))
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        try:
            services.visit_log(customer=customer, by=request.user,
                               check_in=request.POST.get("check_in") == "1", **data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Visit logged."))
            return redirect("customers:customer_detail", pk=customer.pk)
    return render(request, "customers/visit_form.html", {
        "form": form, "customer": customer, "title": _("Log a visit to %s") % customer.name})


@login_required
def visit_review(request, pk):
    visit = selectors.visit_get(user=request.user, pk=pk)
    form = VisitReviewForm(_posted(request), initial={
        "review": visit.coach_review, "improvement_points": visit.improvement_points})
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_review(visit=visit, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Review saved."))
            return redirect("customers:customer_detail", pk=visit.customer_id)
    return render(request, "form_page.html", {
        "form": form, "title": _("Review the joint visit to %s") % visit.customer.name,
        "cancel_url": reverse("customers:customer_detail", args=[visit.customer_id])})


@login_required
def customer_transfer(request):
    """Single or bulk transfer by a head (CUS-7): ids come from the list's checkboxes."""
    if Capability.MANAGE_TEAM not in capabilities_of(request.user):
        raise PermissionDenied
    raw_ids = request.POST.getlist("ids") or request.GET.getlist("ids")
    ids = [int(i) for i in raw_ids if str(i).isdigit()][:500]
    customers = list(selectors.customer_list(user=request.user).filter(pk__in=ids))
    form = TransferForm(request.POST if request.POST.get("reason") is not None else None,
                        owners=_coaches(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.customer_transfer(customers=customers, by=request.user,
                                               **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("%d customers transferred.") % moved)
            if len(customers) == 1:
                return redirect("customers:customer_detail", pk=customers[0].pk)
            return redirect("customers:customer_list")
    return render(request, "customers/transfer.html", {
        "form": form, "customers": customers, "title": _("Transfer customers")})


@login_required
@require_POST
def customer_claim(request, pk):
    customer = selectors.customer_get(user=request.user, pk=pk)
    try:
        services.customer_claim(customer=customer, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("customers:pool")
    messages.success(request, _("%s is now yours.") % customer.name)
    return redirect("customers:customer_detail", pk=customer.pk)


@login_required
def customer_release(request, pk):
    customer = selectors.customer_get(user=request.user, pk=pk)
    form = ReleaseForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_release(customer=customer, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("%s was released to the public pool.") % customer.name)
            return redirect("customers:customer_list")
    return render(request, "form_page.html", {
        "form": form, "title": _("Release %s to the public pool") % customer.name,
        "cancel_url": reverse("customers:customer_detail", args=[customer.pk])})


@login_required
def customer_grade(request, pk):
    customer = selectors.customer_get(user=request.user, pk=pk)
    form = GradeForm(_posted(request), initial={"grade": customer.grade,
                                                "reason": customer.grade_reason})
    if request.method == "POST" and request.POST.get("automatic") == "1":
        services.customer_grade_automatic(customer=customer, by=request.user)
        messages.success(request, _("The grade follows the rules again."))
        return redirect("customers:customer_detail", pk=customer.pk)
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_grade_override(customer=customer, by=request.user,
                                             **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Grade set."))
            return redirect("customers:customer_detail", pk=customer.pk)
    return render(request, "form_page.html", {
        "form": form, "title": _("Set the grade of %s by hand") % customer.name,
        "cancel_url": reverse("customers:customer_detail", args=[customer.pk])})
