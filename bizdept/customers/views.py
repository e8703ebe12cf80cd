"""Customer pages (CUS-1..11): lists, the pool, revisits due, detail with one timeline,
the forms of a day's field work, complaints, surveys and market intelligence. Parse, call
a service or selector, render."""

import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from bizdept.core.excel import xlsx_response
from bizdept.core.pages import (
    Column,
    DetailPage,
    ListPage,
    form_page,
    is_fragment_request,
    post_action,
    posted,
    style_form,
)
from bizdept.imports.services import export_response
from bizdept.org.choices import Capability
from bizdept.org.models import Employee
from bizdept.org.scope import capabilities_of, employee_of
from bizdept.org.selectors import employee_list, heads_above

from . import selectors, services
from .choices import COMPLAINT_PENDING, COMPLAINT_TRANSITIONS
from .filters import (
    ComplaintFilterSet,
    CustomerFilterSet,
    MarketReportFilterSet,
    SurveyFilterSet,
)
from .forms import (
    ComplaintEditForm,
    ComplaintForm,
    ContactForm,
    CustomerForm,
    FieldReportFilterForm,
    GradeForm,
    MarketReportForm,
    ReassignForm,
    ReleaseForm,
    ResolveForm,
    SurveyForm,
    TransferForm,
    VisitForm,
    VisitReviewForm,
)
from .imports import CUSTOMERS as CUSTOMER_IMPORT
from .imports import CUSTOMERS_SHEET

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
        # --- Excel import (CUS-12) ---
        if type(self) is CustomerListPage and CUSTOMER_IMPORT.may_import(self.request.user):
            context["import_url"] = reverse("customers:customer_import")
        return context

    def export(self, queryset):
        """CUS-12: the import template's columns (then grade, revisit, follow-up, which
        the import ignores), so an exported list can be edited and imported again."""
        return export_response(CUSTOMERS_SHEET, queryset.iterator(chunk_size=2000),
                               filename=self.export_name)


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
        user = self.request.user
        context["who"] = "team" if self.request.GET.get("who") == "team" else "mine"
        context["is_head"] = Capability.MANAGE_TEAM in capabilities_of(user)
        if not is_fragment_request(self.request):
            # CUS-8: my own reports today; for a head, the team's missed days this week.
            context["my_reports"], context["missed_reports"] = \
                selectors.field_reports_for_my_day(user=user, head=context["is_head"])
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


@login_required
def customer_create(request):
    form = CustomerForm(posted(request))

    def save():
        customer = services.customer_create(by=request.user, **form.cleaned_data)
        return (reverse("customers:customer_detail", args=[customer.pk]),
                _("Customer %s created.") % customer.name)

    return form_page(request, form, save=save, title=_("New customer"),
                     cancel_url=reverse("customers:customer_list"))


@login_required
def customer_edit(request, pk):
    customer = selectors.customer_get(user=request.user, pk=pk)
    if not services.can_edit(request.user, customer):
        raise PermissionDenied
    form = CustomerForm(posted(request),
                        initial={f: getattr(customer, f) for f in CustomerForm.base_fields})
    url = reverse("customers:customer_detail", args=[customer.pk])

    def save():
        services.customer_update(customer=customer, by=request.user, **form.cleaned_data)
        return url, _("Changes saved.")

    return form_page(request, form, save=save, title=_("Edit %s") % customer.name,
                     cancel_url=url)


@login_required
def contact_create(request, pk):
    customer = selectors.customer_get(user=request.user, pk=pk)
    form = ContactForm(posted(request))
    url = reverse("customers:customer_detail", args=[customer.pk])

    def save():
        services.contact_create(customer=customer, by=request.user, **form.cleaned_data)
        return url, _("Contact added.")

    return form_page(request, form, save=save, title=_("New contact for %s") % customer.name,
                     cancel_url=url)


@login_required
def contact_edit(request, pk):
    contact = selectors.contact_get(user=request.user, pk=pk)
    form = ContactForm(posted(request),
                       initial={f: getattr(contact, f) for f in ContactForm.base_fields})
    url = reverse("customers:customer_detail", args=[contact.customer_id])

    def save():
        services.contact_update(contact=contact, by=request.user, **form.cleaned_data)
        return url, _("Changes saved.")

    return form_page(request, form, save=save, title=_("Edit %s") % contact.name,
                     cancel_url=url)


@login_required
def visit_create(request, pk):
    """Log a visit, call or joint visit; the page can check in with the phone's location."""
    customer = selectors.customer_get(user=request.user, pk=pk)
    me = employee_of(request.user)
    coaches = heads_above(me) if me is not None else []
    form = VisitForm(posted(request), customer=customer,
                     coaches=Employee.objects.filter(pk__in=[c.pk for c in coaches]))

    def save():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        services.visit_log(customer=customer, by=request.user,
                           check_in=request.POST.get("check_in") == "1", **data)
        return reverse("customers:customer_detail", args=[customer.pk]), _("Visit logged.")

    return form_page(request, form, save=save, template="customers/visit_form.html",
                     title=_("Log a visit to %s") % customer.name,
                     context={"customer": customer})


@login_required
def visit_review(request, pk):
    visit = selectors.visit_get(user=request.user, pk=pk)
    form = VisitReviewForm(posted(request), initial={
        "review": visit.coach_review, "improvement_points": visit.improvement_points})
    url = reverse("customers:customer_detail", args=[visit.customer_id])

    def save():
        services.visit_review(visit=visit, by=request.user, **form.cleaned_data)
        return url, _("Review saved.")

    return form_page(request, form, save=save, cancel_url=url,
                     title=_("Review the joint visit to %s") % visit.customer.name)


def _people_in_scope(user):
    return employee_list(user=user).active().order_by("number")


@login_required
def customer_transfer(request):
    """Single or bulk transfer by a head (CUS-7): ids come from the list's checkboxes."""
    if Capability.MANAGE_TEAM not in capabilities_of(request.user):
        raise PermissionDenied
    raw_ids = request.POST.getlist("ids") or request.GET.getlist("ids")
    ids = [int(i) for i in raw_ids if str(i).isdigit()][:500]
    customers = list(selectors.customer_list(user=request.user).filter(pk__in=ids))
    form = TransferForm(posted(request), owners=_people_in_scope(request.user))

    def save():
        moved = services.customer_transfer(customers=customers, by=request.user,
                                           **form.cleaned_data)
        if len(customers) == 1:
            url = reverse("customers:customer_detail", args=[customers[0].pk])
        else:
            url = reverse("customers:customer_list")
        return url, _("%d customers transferred.") % moved

    return form_page(request, form, save=save, template="customers/transfer.html",
                     title=_("Transfer customers"), context={"customers": customers})


@login_required
@require_POST
def customer_claim(request, pk):
    customer = selectors.customer_get(user=request.user, pk=pk)
    return post_action(request, lambda: services.customer_claim(customer=customer,
                                                                by=request.user),
                       success=_("%s is now yours.") % customer.name,
                       url=reverse("customers:customer_detail", args=[customer.pk]),
                       failure_url=reverse("customers:pool"))


@login_required
def customer_release(request, pk):
    customer = selectors.customer_get(user=request.user, pk=pk)
    form = ReleaseForm(posted(request))

    def save():
        services.customer_release(customer=customer, by=request.user, **form.cleaned_data)
        return (reverse("customers:customer_list"),
                _("%s was released to the public pool.") % customer.name)

    return form_page(request, form, save=save,
                     title=_("Release %s to the public pool") % customer.name,
                     cancel_url=reverse("customers:customer_detail", args=[customer.pk]))


@login_required
def customer_grade(request, pk):
    customer = selectors.customer_get(user=request.user, pk=pk)
    url = reverse("customers:customer_detail", args=[customer.pk])
    if request.method == "POST" and request.POST.get("automatic") == "1":
        services.customer_grade_automatic(customer=customer, by=request.user)
        messages.success(request, _("The grade follows the rules again."))
        return redirect(url)
    form = GradeForm(posted(request), initial={"grade": customer.grade,
                                               "reason": customer.grade_reason})

    def save():
        services.customer_grade_override(customer=customer, by=request.user,
                                         **form.cleaned_data)
        return url, _("Grade set.")

    return form_page(request, form, save=save, cancel_url=url,
                     title=_("Set the grade of %s by hand") % customer.name)


# --- field reports (CUS-8) -----------------------------------------------------------
FIELD_REPORT_COLUMNS = [
    Column("employee.name", gettext_lazy("Name")),
    Column("employee.unit.name", gettext_lazy("Unit")),
    Column("day", gettext_lazy("Day")),
    Column("reports", gettext_lazy("Reports")),
    Column("required", gettext_lazy("Required")),
]


@login_required
def field_reports(request):
    """Who reported in from the field, day by day (每日汇报); missed days are what a head
    is flagged. Everyone sees the people in their own sales scope (a salesperson: self)."""
    today = timezone.localdate()
    data = request.GET if "since" in request.GET else {
        "since": today - datetime.timedelta(days=7), "until": today - datetime.timedelta(days=1),
        "missed": "on"}
    form = FieldReportFilterForm(data)
    style_form(form)
    rows = []
    required = selectors.field_report_minimum()
    if form.is_valid():
        rows = selectors.field_reports(user=request.user, since=form.cleaned_data["since"],
                                       until=form.cleaned_data["until"],
                                       missed_only=form.cleaned_data["missed"],
                                       required=required)
    if request.GET.get("export") == "xlsx":
        return xlsx_response(filename="field-reports", sheet=str(_("Field reports")),
                             headers=[c.label for c in FIELD_REPORT_COLUMNS],
                             rows=([c.read(r) for c in FIELD_REPORT_COLUMNS] for r in rows))
    page = Paginator(rows, settings.BIZDEPT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    for key in ("page", "export"):
        query.pop(key, None)
    template = "customers/field_reports.html"
    if is_fragment_request(request):
        template += "#table"
    return render(request, template, {
        "title": _("Field reports"), "form": form, "page_obj": page, "rows": page.object_list,
        "columns": FIELD_REPORT_COLUMNS, "querystring": query.urlencode() or urlencode(data),
        "required": required,
    })


# --- complaints (CUS-9) --------------------------------------------------------------
COMPLAINT_COLUMNS = [
    Column("title", gettext_lazy("Subject"), sort="title"),
    Column("customer.name", gettext_lazy("Customer"), sort="customer__name"),
    Column("get_severity_display", gettext_lazy("Severity"), sort="severity"),
    Column("get_status_display", gettext_lazy("Status"), sort="status"),
    Column("handler.name", gettext_lazy("Handler"), sort="handler__name"),
    Column("received_at", gettext_lazy("Received at"), sort="received_at"),
    Column("deadline_at", gettext_lazy("Deadline"), sort="deadline_at"),
    Column("escalated_to.name", gettext_lazy("Escalated to"), sort="escalated_to__name"),
]


class ComplaintListPage(ListPage):
    """CUS-9: complaints in scope; tabs for the overdue ones and those escalated to me."""

    template_name = "customers/complaint_list.html"
    row_template = "customers/_complaint_row.html"
    title = gettext_lazy("Complaints")
    filterset_class = ComplaintFilterSet
    export_name = "complaints"
    default_sort = "-received_at"
    empty_text = gettext_lazy("No complaint matches these filters.")
    columns = COMPLAINT_COLUMNS

    def rows(self):
        return selectors.complaint_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        get = self.request.GET
        context["view"] = ("overdue" if get.get("overdue") == "true"
                           else "escalated" if get.get("escalated_to_me") == "true" else "all")
        context["is_head"] = Capability.MANAGE_TEAM in capabilities_of(self.request.user)
        context["now"] = timezone.now()
        return context


class ComplaintDetailPage(DetailPage):
    template_name = "customers/complaint_detail.html"

    def get_object(self):
        return selectors.complaint_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        complaint, user = self.object, self.request.user
        can_act = services.can_handle_complaint(user, complaint)
        pending = complaint.status in COMPLAINT_PENDING
        context.update(
            can_act=can_act,
            can_reassign=(can_act and pending
                          and Capability.MANAGE_TEAM in capabilities_of(user)),
            next_statuses=COMPLAINT_TRANSITIONS.get(complaint.status, frozenset()),
            overdue=pending and complaint.deadline_at < timezone.now(),
            resolve_form=ResolveForm(),
        )
        return context


@login_required
def complaint_create(request, pk):
    """Log a complaint from the customer's page (whoever may edit the customer)."""
    customer = selectors.customer_get(user=request.user, pk=pk)
    if not services.can_edit(request.user, customer):
        raise PermissionDenied
    form = ComplaintForm(posted(request), handlers=_people_in_scope(request.user))
    url = reverse("customers:customer_detail", args=[customer.pk])

    def save():
        complaint = services.complaint_create(customer=customer, by=request.user,
                                              **form.cleaned_data)
        return (reverse("customers:complaint_detail", args=[complaint.pk]),
                _("Complaint logged; it is due by %s.")
                % timezone.localtime(complaint.deadline_at).strftime("%Y-%m-%d %H:%M"))

    return form_page(request, form, save=save, cancel_url=url,
                     title=_("Log a complaint from %s") % customer.name)


@login_required
def complaint_edit(request, pk):
    complaint = selectors.complaint_get(user=request.user, pk=pk)
    if not services.can_handle_complaint(request.user, complaint):
        raise PermissionDenied
    form = ComplaintEditForm(posted(request), initial={
        f: getattr(complaint, f) for f in ComplaintEditForm.base_fields})
    url = reverse("customers:complaint_detail", args=[complaint.pk])

    def save():
        services.complaint_update(complaint=complaint, by=request.user, **form.cleaned_data)
        return url, _("Changes saved.")

    return form_page(request, form, save=save, cancel_url=url,
                     title=_("Edit the complaint %s") % complaint.title)


def _complaint_action(request, pk, action, message):
    complaint = selectors.complaint_get(user=request.user, pk=pk)
    return post_action(request, lambda: action(complaint=complaint, by=request.user),
                       success=message,
                       url=reverse("customers:complaint_detail", args=[complaint.pk]))


@login_required
@require_POST
def complaint_start(request, pk):
    return _complaint_action(request, pk, services.complaint_start,
                             _("Work on the complaint has started."))


@login_required
@require_POST
def complaint_close(request, pk):
    return _complaint_action(request, pk, services.complaint_close,
                             _("The complaint is closed."))


@login_required
def complaint_resolve(request, pk):
    complaint = selectors.complaint_get(user=request.user, pk=pk)
    form = ResolveForm(posted(request), initial={"resolution": complaint.resolution})
    url = reverse("customers:complaint_detail", args=[complaint.pk])

    def save():
        services.complaint_resolve(complaint=complaint, by=request.user, **form.cleaned_data)
        return url, _("The complaint is resolved.")

    return form_page(request, form, save=save, cancel_url=url,
                     title=_("Resolve the complaint %s") % complaint.title)


@login_required
def complaint_reassign(request, pk):
    complaint = selectors.complaint_get(user=request.user, pk=pk)
    if Capability.MANAGE_TEAM not in capabilities_of(request.user):
        raise PermissionDenied
    form = ReassignForm(posted(request), handlers=_people_in_scope(request.user),
                        initial={"handler": complaint.handler_id})
    url = reverse("customers:complaint_detail", args=[complaint.pk])

    def save():
        services.complaint_reassign(complaint=complaint, by=request.user, **form.cleaned_data)
        return url, _("The complaint now goes to %s.") % form.cleaned_data["handler"].name

    return form_page(request, form, save=save, cancel_url=url,
                     title=_("Reassign the complaint %s") % complaint.title)


# --- satisfaction surveys (CUS-10) ---------------------------------------------------
SURVEY_COLUMNS = [
    Column("customer.name", gettext_lazy("Customer"), sort="customer__name"),
    Column("period", gettext_lazy("Period"), sort="period"),
    Column("surveyed_on", gettext_lazy("Surveyed on"), sort="surveyed_on"),
    Column("service", gettext_lazy("Service"), sort="service"),
    Column("delivery", gettext_lazy("Delivery"), sort="delivery"),
    Column("product", gettext_lazy("Product"), sort="product"),
    Column("surveyed_by.name", gettext_lazy("Surveyed by"), sort="surveyed_by__name"),
    Column("comment", gettext_lazy("Comment")),
]


class SurveyListPage(ListPage):
    """CUS-10: surveys in scope, with the average of what the filters select above."""

    template_name = "customers/survey_list.html"
    row_template = "customers/_survey_row.html"
    fragment_template = "customers/survey_list.html#fragment"
    title = gettext_lazy("Satisfaction surveys")
    filterset_class = SurveyFilterSet
    export_name = "satisfaction-surveys"
    default_sort = "-surveyed_on"
    empty_text = gettext_lazy("No survey matches these filters.")
    columns = SURVEY_COLUMNS

    def rows(self):
        return selectors.survey_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        averages = selectors.survey_averages(self.queryset)
        context["averages"] = averages
        context["averages_list"] = [
            (_("Service"), averages["service"]), (_("Delivery"), averages["delivery"]),
            (_("Product"), averages["product"]), (_("Surveys"), averages["count"])]
        return context


@login_required
def survey_create(request, pk):
    customer = selectors.customer_get(user=request.user, pk=pk)
    if not services.can_edit(request.user, customer):
        raise PermissionDenied
    form = SurveyForm(posted(request))
    url = reverse("customers:customer_detail", args=[customer.pk])

    def save():
        services.survey_record(customer=customer, by=request.user, **form.cleaned_data)
        return url, _("Survey recorded.")

    return form_page(request, form, save=save, cancel_url=url,
                     title=_("Record a satisfaction survey of %s") % customer.name)


@login_required
def survey_edit(request, pk):
    survey = selectors.survey_get(user=request.user, pk=pk)
    me = employee_of(request.user)
    if not (services.can_edit(request.user, survey.customer)
            or (me is not None and survey.surveyed_by_id == me.pk)):
        raise PermissionDenied
    form = SurveyForm(posted(request), initial={f: getattr(survey, f)
                                                for f in SurveyForm.base_fields})
    url = reverse("customers:customer_detail", args=[survey.customer_id])

    def save():
        services.survey_update(survey=survey, by=request.user, **form.cleaned_data)
        return url, _("Changes saved.")

    return form_page(request, form, save=save, cancel_url=url,
                     title=_("Edit the survey of %(customer)s for %(period)s")
                     % {"customer": survey.customer.name, "period": survey.period})


# --- market intelligence (CUS-11) ----------------------------------------------------
MARKET_REPORT_COLUMNS = [
    Column("title", gettext_lazy("Subject"), sort="title"),
    Column("get_kind_display", gettext_lazy("Kind"), sort="kind"),
    Column("region", gettext_lazy("Region"), sort="region"),
    Column("reported_on", gettext_lazy("Reported on"), sort="reported_on"),
    Column("reporter.name", gettext_lazy("Reporter"), sort="reporter__name"),
    Column("customer.name", gettext_lazy("Customer"), sort="customer__name"),
]


class MarketReportListPage(ListPage):
    """CUS-11: what the field hears about competitors, demand and prices."""

    template_name = "customers/market_report_list.html"
    row_template = "customers/_market_report_row.html"
    title = gettext_lazy("Market intelligence")
    filterset_class = MarketReportFilterSet
    export_name = "market-intelligence"
    default_sort = "-reported_on"
    empty_text = gettext_lazy("No market report matches these filters.")
    create = ("customers:market_report_create", gettext_lazy("New market report"), None)
    columns = MARKET_REPORT_COLUMNS

    def rows(self):
        return selectors.market_report_list(user=self.request.user)


class MarketReportDetailPage(DetailPage):
    template_name = "customers/market_report_detail.html"

    def get_object(self):
        return selectors.market_report_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_change"] = services.can_change_report(self.request.user, self.object)
        return context


def _report_customer(request):
    """The customer a new report comes from (``?customer=``), read through the scope."""
    raw = request.POST.get("customer") or request.GET.get("customer") or ""
    if not raw.isdigit():
        return None
    return selectors.customer_get(user=request.user, pk=int(raw))


@login_required
def market_report_create(request):
    customer = _report_customer(request)
    form = MarketReportForm(posted(request),
                            initial={"region": customer.region} if customer else None)

    def save():
        report = services.market_report_create(by=request.user, customer=customer,
                                               **form.cleaned_data)
        return (reverse("customers:market_report_detail", args=[report.pk]),
                _("Market report saved."))

    cancel = (reverse("customers:customer_detail", args=[customer.pk]) if customer
              else reverse("customers:market_report_list"))
    title = (_("New market report from %s") % customer.name if customer
             else _("New market report"))
    return form_page(request, form, save=save, cancel_url=cancel, title=title)


@login_required
def market_report_edit(request, pk):
    report = selectors.market_report_get(user=request.user, pk=pk)
    if not services.can_change_report(request.user, report):
        raise PermissionDenied
    form = MarketReportForm(posted(request), initial={
        f: getattr(report, f) for f in MarketReportForm.base_fields})
    url = reverse("customers:market_report_detail", args=[report.pk])

    def save():
        services.market_report_update(report=report, by=request.user, **form.cleaned_data)
        return url, _("Changes saved.")

    return form_page(request, form, save=save, cancel_url=url,
                     title=_("Edit %s") % report.title)


@login_required
@require_POST
def market_report_delete(request, pk):
    report = selectors.market_report_get(user=request.user, pk=pk)
    services.market_report_delete(report=report, by=request.user)
    messages.success(request, _("Market report %s deleted.") % report.title)
    return redirect("customers:market_report_list")
