"""Approval pages (SAL-3): what waits for me, my requests, one request with its steps and
the decision form, my delegations, and the policies. Parse, call a service or selector,
render."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from bizdept.core.pages import Column, DetailPage, ListPage, form_page, post_action, posted
from bizdept.org.models import Employee
from bizdept.org.scope import employee_of

from . import registry, selectors, services
from .choices import RequestStatus, TaskStatus
from .filters import ApprovalRequestFilterSet
from .forms import CancelForm, DecisionForm, DelegationForm


def _type_label(key):
    return str(registry.label_of(key))


INBOX_COLUMNS = [
    Column("request.title", gettext_lazy("Document"), sort="request__title"),
    Column("request.document_type", gettext_lazy("Type"), sort="request__document_type",
           value=lambda t: _type_label(t.request.document_type)),
    Column("request.requested_by.name", gettext_lazy("Requested by"),
           sort="request__requested_by__name"),
    Column("name", gettext_lazy("Step"), sort="order"),
    Column("request.amount", gettext_lazy("Amount"), sort="request__amount"),
    Column("request.created_at", gettext_lazy("Submitted at"), sort="request__created_at"),
    Column("due_at", gettext_lazy("Due at"), sort="due_at"),
]


class InboxPage(ListPage):
    """Waiting for me: my steps and those of whoever delegated to me, oldest due first."""

    template_name = "approvals/inbox.html"
    row_template = "approvals/_task_row.html"
    title = gettext_lazy("Waiting for me")
    export_name = "approvals-waiting"
    default_sort = "due_at"
    empty_text = gettext_lazy("Nothing waits for your decision.")
    columns = INBOX_COLUMNS

    def rows(self):
        return selectors.inbox(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(tab="inbox", now=timezone.now(), me=employee_of(self.request.user))
        return context


REQUEST_COLUMNS = [
    Column("title", gettext_lazy("Document"), sort="title"),
    Column("document_type", gettext_lazy("Type"), sort="document_type",
           value=lambda r: _type_label(r.document_type)),
    Column("amount", gettext_lazy("Amount"), sort="amount"),
    Column("get_status_display", gettext_lazy("Status"), sort="status"),
    Column("round", gettext_lazy("Round"), sort="round"),
    Column("waiting", gettext_lazy("Waiting for"), export=False),
    Column("created_at", gettext_lazy("Submitted at"), sort="created_at"),
    Column("decided_at", gettext_lazy("Decided at"), sort="decided_at"),
]


class MyRequestsPage(ListPage):
    template_name = "approvals/my_requests.html"
    row_template = "approvals/_request_row.html"
    title = gettext_lazy("My requests")
    filterset_class = ApprovalRequestFilterSet
    export_name = "approvals-mine"
    default_sort = "-created_at"
    empty_text = gettext_lazy("You have not asked for any approval yet.")
    columns = REQUEST_COLUMNS
    tab = "mine"

    def rows(self):
        return selectors.my_requests(self.request.user)


class RequestDetailPage(DetailPage):
    template_name = "approvals/request_detail.html"

    def get_object(self):
        return selectors.request_get(self.request.user, self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        if request.GET.get("tab") == "history":
            approval = self.get_object()
            history = selectors.document_history_of(approval.content_type_id,
                                                    approval.object_id)
            return render(request, "approvals/_document_history.html",
                          {"approval_history": history, "current": approval})
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        approval, user = self.object, self.request.user
        tasks = list(approval.tasks.all())
        mine = next((t for t in tasks if t.status == TaskStatus.WAITING
                     and services.can_decide(user, _with_request(t, approval))), None)
        entry = registry.get(approval.document_type)
        context.update(
            tasks=tasks,
            decide_task=mine,
            acting_for=(mine.approver if mine is not None
                        and mine.approver_id != employee_of(user).pk else None),
            decision_form=DecisionForm() if mine is not None else None,
            can_cancel=services.can_cancel(user, approval),
            type_label=registry.label_of(approval.document_type),
            document_url=_document_url(entry, approval),
            now=timezone.now(),
        )
        return context


def _with_request(task, approval):
    task.request = approval  # already loaded: no query per task
    return task


def _document_url(entry, approval) -> str:
    if entry is None or entry.url is None:
        return ""
    document = approval.document
    return entry.url_of(document) if document is not None else ""


@login_required
def decide(request, pk):
    """The decision form (also posted from the request page): approve, reject, return."""
    task = selectors.task_get(request.user, pk)
    url = reverse("approvals:request_detail", args=[task.request_id])
    if not services.can_decide(request.user, task) and task.status == TaskStatus.WAITING:
        raise PermissionDenied
    form = DecisionForm(posted(request))
    labels = {"approve": _("Approved."), "reject": _("Rejected."),
              "return": _("Returned for changes.")}

    def save():
        services.approval_decide(task=task, by=request.user, **form.cleaned_data)
        return url, labels[form.cleaned_data["decision"]]

    return form_page(request, form, save=save, cancel_url=url,
                     title=_("Decide: %(title)s — %(step)s") % {"title": task.request.title,
                                                                 "step": task.name})


@login_required
def cancel(request, pk):
    approval = selectors.request_get(request.user, pk)
    if not services.can_cancel(request.user, approval):
        raise PermissionDenied
    form = CancelForm(posted(request))
    url = reverse("approvals:request_detail", args=[approval.pk])

    def save():
        services.approval_cancel(request=approval, by=request.user, **form.cleaned_data)
        return url, _("The request is cancelled.")

    return form_page(request, form, save=save, cancel_url=url,
                     title=_("Cancel the request %s") % approval.title)


# --- delegations ----------------------------------------------------------------------
DELEGATION_COLUMNS = [
    Column("from_employee.name", gettext_lazy("Approver"), sort="from_employee__name"),
    Column("to_employee.name", gettext_lazy("Delegate"), sort="to_employee__name"),
    Column("starts_on", gettext_lazy("From"), sort="starts_on"),
    Column("ends_on", gettext_lazy("Until"), sort="ends_on"),
    Column("document_types", gettext_lazy("Document types"),
           value=lambda d: ", ".join(_type_label(t) for t in d.type_list) or _("All")),
    Column("reason", gettext_lazy("Reason")),
    Column("ended_at", gettext_lazy("Ended at"), sort="ended_at"),
]


class DelegationListPage(ListPage):
    template_name = "approvals/delegations.html"
    row_template = "approvals/_delegation_row.html"
    title = gettext_lazy("Delegations")
    export_name = "delegations"
    default_sort = "-starts_on"
    empty_text = gettext_lazy("No delegation yet: while you are away, name who decides your "
                              "approvals.")
    columns = DELEGATION_COLUMNS
    create = ("approvals:delegation_create", gettext_lazy("New delegation"), None)

    def rows(self):
        return selectors.delegation_list(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        me = employee_of(self.request.user)
        context.update(tab="delegations", me_id=me.pk if me else None,
                       today=timezone.localdate())
        return context


def _document_type_choices():
    keys = sorted(services.known_document_types())
    return [(k, f"{registry.label_of(k)}" if registry.get(k) else k) for k in keys]


@login_required
def delegation_create(request):
    if employee_of(request.user) is None:
        raise PermissionDenied
    people = Employee.objects.active().with_card().order_by("number")
    form = DelegationForm(posted(request), people=people,
                          document_types=_document_type_choices())

    def save():
        data = form.cleaned_data
        services.delegation_create(by=request.user, to=data["to"], starts_on=data["starts_on"],
                                   ends_on=data["ends_on"],
                                   document_types=data["document_types"], reason=data["reason"])
        return (reverse("approvals:delegation_list"),
                _("%s will decide your approvals meanwhile.") % data["to"].name)

    return form_page(request, form, save=save, cancel_url=reverse("approvals:delegation_list"),
                     title=_("New delegation"))


@login_required
@require_POST
def delegation_end(request, pk):
    delegation = selectors.delegation_get(request.user, pk)
    return post_action(request, lambda: services.delegation_end(delegation=delegation,
                                                                by=request.user),
                       success=_("The delegation has ended."),
                       url=reverse("approvals:delegation_list"))


@login_required
def policies(request):
    return render(request, "approvals/policies.html", {
        "title": _("Approval policies"), "tab": "policies",
        "policies": [(p, registry.label_of(p.document_type)) for p in selectors.policy_list()],
        "statuses": RequestStatus,
    })
