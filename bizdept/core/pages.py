"""The list and detail patterns every page reuses.

A list page is a declarative subclass of ``ListPage``: where its rows come from (a
selector that starts from the scope rule), its FilterSet, its columns and sort keys, and
its Excel export. The same view answers the full page, the htmx table fragment and the
``?export=xlsx`` download, so all three always show the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from .excel import xlsx_response
from .history import history_entries


@dataclass
class Column:
    """One column of a list: header, how to read a row, and its sort key if sortable."""

    key: str
    label: Any
    sort: str | None = None
    value: Callable[[Any], Any] | None = None
    export: bool = True

    def read(self, row):
        if self.value is not None:
            return self.value(row)
        value = row
        for part in self.key.split("."):
            value = getattr(value, part, None)
            if value is None:
                return None
        return value() if callable(value) else value


def is_fragment_request(request) -> bool:
    """htmx asked for a piece of the page (not a boosted full navigation)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted


def style_form(form, *, small: bool = True) -> None:
    """Bootstrap classes on every widget, so templates can render fields plainly."""
    for field in form.fields.values():
        widget = field.widget
        if widget.__class__.__name__ == "CheckboxSelectMultiple":
            widget.attrs["class"] = "form-check-input"
            continue
        is_select = getattr(widget, "input_type", "") == "select" \
            or widget.__class__.__name__.endswith("Select")
        css = "form-select" if is_select else "form-control"
        if small:
            css += " form-select-sm" if is_select else " form-control-sm"
        widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class ListPage(LoginRequiredMixin, TemplateView):
    title: Any = ""
    filterset_class = None
    columns: list[Column] = []
    default_sort: str = ""
    export_name: str = "export"
    row_template: str = ""  # the <tr> for one row
    fragment_template = "partials/list.html#table"  # what htmx gets: table and pagination
    empty_text: Any = _("Nothing here yet.")
    create: tuple[str, Any, str] | None = None  # (url name, button label, capability)
    create_needs_employee = False  # the service refuses a login without an employee
    tab: str = ""  # which tab of the page's tab bar is active, if it has one

    def rows(self):
        """Scoped queryset of the rows; subclasses start from their selector."""
        raise NotImplementedError

    # --- request handling ------------------------------------------------------------
    def get(self, request, *args, **kwargs):
        rows = self.rows()
        self.filterset = None
        if self.filterset_class is not None:
            self.filterset = self.filterset_class(request.GET, queryset=rows, request=request)
            style_form(self.filterset.form)
            # Invalid filters show their errors above an empty table, never a crash.
            rows = self.filterset.qs if self.filterset.is_valid() else rows.none()
        queryset = rows
        self.sort = self._sort_key(request.GET.get("sort", ""))
        queryset = queryset.order_by(*self._ordering(self.sort))
        if request.GET.get("export") == "xlsx":
            return self.export(queryset)
        self.queryset = queryset
        context = self.get_context_data(**kwargs)
        if is_fragment_request(request):
            return self.response_class(request=request, template=[self.fragment_template],
                                       context=context)
        return self.render_to_response(context)

    def _sort_key(self, raw: str) -> str:
        keys = {c.key for c in self.columns if c.sort}
        return raw if raw.lstrip("-") in keys else self.default_sort

    def _ordering(self, sort: str) -> list[str]:
        if not sort:
            return ["pk"]
        desc = sort.startswith("-")
        column = next(c for c in self.columns if c.key == sort.lstrip("-"))
        field = column.sort
        return [f"-{field}" if desc else field, "-pk" if desc else "pk"]

    def page_size(self) -> int:
        try:
            size = int(self.request.GET.get("page_size", settings.BIZDEPT_PAGE_SIZE))
        except ValueError:
            size = settings.BIZDEPT_PAGE_SIZE
        return max(1, min(size, settings.BIZDEPT_MAX_PAGE_SIZE))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        paginator = Paginator(self.queryset, self.page_size())
        page = paginator.get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        for key in ("page", "sort", "export"):
            query.pop(key, None)
        context.update(
            title=self.title,
            filter=self.filterset,
            columns=self.columns,
            sort=self.sort,
            page_obj=page,
            rows=page.object_list,
            row_template=self.row_template,
            empty_text=self.empty_text,
            querystring=query.urlencode(),
            filtered=bool(self.filterset is not None and self.filterset.form.has_changed()),
            tab=self.tab,
            **self._create_button(),
        )
        return context

    def _create_button(self) -> dict:
        """The "New …" button, for those whose roles allow creating (the view checks too)."""
        if self.create is None:
            return {}
        from bizdept.org.scope import capabilities_of, employee_of

        url_name, label, capability = self.create
        if capability is not None and capability not in capabilities_of(self.request.user):
            return {}
        if self.create_needs_employee and employee_of(self.request.user) is None:
            return {}
        return {"create_url": reverse(url_name), "create_label": label}

    def export(self, queryset):
        columns = [c for c in self.columns if c.export]
        return xlsx_response(
            filename=self.export_name, sheet=str(self.title), headers=[c.label for c in columns],
            rows=([c.read(row) for c in columns] for row in queryset.iterator(chunk_size=2000)),
        )


class DetailPage(LoginRequiredMixin, TemplateView):
    """A record page with tabs; the History tab is loaded by htmx from ``?tab=history``."""

    tabs: list[tuple[str, Any]] = []

    def get_object(self):
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        tab = request.GET.get("tab", "")
        if tab == "history":
            return self.response_class(
                request=request, template=["partials/history.html"],
                context={"entries": history_entries(self.object), "object": self.object},
            )
        return self.render_to_response(self.get_context_data(object=self.object, **kwargs))


def add_domain_errors(form, exc) -> None:
    """Show a service's DomainError on the form: under its field, or above the form."""
    errors = exc.error_dict() or {"__all__": [str(exc.message)]}
    for name, messages in errors.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


def post_action(request, call, *, success, url, failure_url=None):
    """The one flow of a button that POSTs an action (start, close, pay, remove…):
    ``call()`` runs the service; a DomainError becomes an error message, success its
    message; either way the browser goes back to ``url`` (or ``failure_url``)."""
    from django.contrib import messages
    from django.shortcuts import redirect

    from .errors import DomainError

    try:
        call()
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(failure_url or url)
    messages.success(request, success)
    return redirect(url)


def posted(request):
    """Form data for a bound form on POST (even an empty one), else None."""
    return request.POST if request.method == "POST" else None


def form_page(request, form, *, save, title, cancel_url=None, template="form_page.html",
              extra_forms=(), context=None):
    """The one edit-page flow. On a POST where every form is valid, ``save()`` calls the
    service and returns ``(url, message)``; a DomainError lands on the form by field and
    nothing is written; success shows the message and redirects."""
    from django.contrib import messages
    from django.shortcuts import redirect, render

    from .errors import DomainError

    if request.method == "POST" and all(f.is_valid() for f in (form, *extra_forms)):
        try:
            url, message = save()
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, message)
            return redirect(url)
    return render(request, template, {"form": form, "extra_forms": list(extra_forms),
                                      "title": title, "cancel_url": cancel_url,
                                      **(context or {})})
