"""Excel import pages (CUS-12), for every kind of import: upload (with the template
download), the job page with its live progress bar and report, the error report, and
"My imports". Parse, call ``imports.services``, render."""

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bizdept.core.errors import DomainError
from bizdept.core.forms import BootstrapForm
from bizdept.core.pages import Column, ListPage, add_domain_errors, is_fragment_request

from . import services as imports
from .models import ImportMode

ISSUES_PER_PAGE = 50


class ImportForm(BootstrapForm):
    file = forms.FileField(label=gettext_lazy("Excel file (.xlsx)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}))
    mode = forms.ChoiceField(label=gettext_lazy("If some rows are wrong"),
                             choices=ImportMode.choices, initial=ImportMode.KEEP_VALID,
                             widget=forms.RadioSelect)
    sheets = forms.MultipleChoiceField(label=gettext_lazy("Sheets to import"),
                                       widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, kind: imports.ImportKind, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(s.key, s.label) for s in kind.sheets]
        self.fields["sheets"].choices = choices
        self.fields["sheets"].initial = [key for key, _label in choices]
        self.fields["mode"].widget.attrs["class"] = "form-check-input"


@login_required
def upload(request, kind: str, template_url: str = "", back_url: str = ""):
    spec = imports.kind_of(kind)
    if not spec.may_import(request.user):
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None, kind=spec)
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.import_job_create(by=request.user, kind=kind,
                                            upload=form.cleaned_data["file"],
                                            mode=form.cleaned_data["mode"],
                                            sheets=form.cleaned_data["sheets"])
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            return redirect("imports:job", pk=job.pk)
    return render(request, "imports/upload.html", {
        "form": form, "title": _("Import %s from Excel") % str(spec.label).lower(),
        "template_url": reverse(template_url) if template_url else "",
        "back_url": reverse(back_url) if back_url else "",
        "max_mb": settings.BIZDEPT_IMPORT_MAX_BYTES // 1024 // 1024,
    })


@login_required
def template(request, kind: str, filename: str = "import-template"):
    spec = imports.kind_of(kind)
    if not spec.may_import(request.user):
        raise PermissionDenied
    return imports.template_response(spec, filename=filename)


@login_required
def job_page(request, pk: int):
    """The job: a progress bar polled by htmx while it runs (``?fragment=status``; it stops
    polling when the job ends, and reloads the page for the report), then the counts and
    the issues, paginated."""
    job = imports.job_get(user=request.user, pk=pk)
    progress = imports.live_progress(job)
    context = {"job": job, "live": progress, "title": _("Import %s") % (job.filename or job.pk),
               "running": not job.finished, "kind_label": _kind_label(job.kind)}
    if request.GET.get("fragment") == "status":
        response = render(request, "imports/job.html#status", context)
        if job.finished and request.headers.get("HX-Request") == "true":
            response["HX-Refresh"] = "true"  # now the whole report
        return response
    paginator = Paginator(job.issues.order_by("pk"), ISSUES_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    context.update(page_obj=page, issues=page.object_list, querystring="")
    if is_fragment_request(request):
        return render(request, "imports/job.html#issues", context)
    return render(request, "imports/job.html", context)


def _kind_label(key: str) -> str:
    try:
        return str(imports.kind_of(key).label)
    except DomainError:
        return key


@login_required
def issues_xlsx(request, pk: int):
    job = imports.job_get(user=request.user, pk=pk)
    return imports.issues_response(job)


class ImportListPage(ListPage):
    """My imports: newest first."""

    template_name = "imports/job_list.html"
    row_template = "imports/_job_row.html"
    title = gettext_lazy("My imports")
    export_name = "imports"
    default_sort = "-created_at"
    empty_text = gettext_lazy("You have not imported anything yet.")
    columns = [
        Column("created_at", gettext_lazy("Uploaded at"), sort="created_at"),
        Column("filename", gettext_lazy("File"), sort="filename"),
        Column("kind", gettext_lazy("Kind"), value=lambda j: _kind_label(j.kind)),
        Column("get_mode_display", gettext_lazy("Mode")),
        Column("get_status_display", gettext_lazy("Status"), sort="status"),
        Column("rows_created", gettext_lazy("Imported"), sort="rows_created"),
        Column("rows_rejected", gettext_lazy("Rejected"), sort="rows_rejected"),
    ]

    def rows(self):
        return imports.job_list(user=self.request.user)


