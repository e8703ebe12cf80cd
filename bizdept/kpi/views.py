"""Pages of the KPI library (PER-1): the catalogue of figures, and the inputs HR or a
director enters (market sizes per region, the planned product mix) for a year."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from bizdept.core.errors import DomainError
from bizdept.sales.models import ProductCategory

from . import selectors, services
from .models import YEAR_MAX, YEAR_MIN

EXTRA_ROWS = 3  # blank market-size rows offered below the year's regions


@login_required
def kpi_library(request):
    """Every KPI: code, name, unit, whether higher or lower is better, its definition."""
    if not selectors.may_read(request.user):
        raise PermissionDenied
    return render(request, "kpi/library.html", {
        "title": _("KPI library"), "kpis": selectors.kpi_catalogue(user=request.user),
        "can_edit": services.can_manage_inputs(request.user)})


def _year(request) -> int:
    raw = request.POST.get("year") or request.GET.get("year")
    try:
        year = int(raw) if raw else timezone.localdate().year
    except ValueError:
        year = timezone.localdate().year
    return min(max(year, YEAR_MIN), YEAR_MAX)


def _posted_sizes(post) -> list[dict]:
    """The filled rows of the market-size form (a row with neither field is skipped)."""
    rows = []
    for region, size in zip(post.getlist("region"), post.getlist("size"), strict=False):
        if region.strip() or size.strip():
            rows.append({"region": region, "size": size.strip()})
    return rows


def _posted_mix(post, categories) -> list[dict]:
    """One row per top-level category given a percent (blank: not in the plan)."""
    rows = []
    for category in categories:
        percent = post.get(f"percent-{category.pk}", "").strip()
        if percent:
            rows.append({"category": category.pk, "percent": percent})
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def kpi_inputs(request):
    """A year's market sizes and planned mix: read by everyone in the department, each
    form saved (the whole year's list at once) by HR or a director."""
    if not selectors.may_read(request.user):
        raise PermissionDenied
    year = _year(request)
    categories = list(ProductCategory.objects.filter(parent__isnull=True)
                      .order_by("sort_order", "name"))
    which = request.POST.get("form") if request.method == "POST" else None
    errors: dict[str, list[str]] = {}
    posted_sizes = posted_mix = None
    if which in ("sizes", "mix"):
        if not services.can_manage_inputs(request.user):
            raise PermissionDenied
        try:
            if which == "sizes":
                posted_sizes = _posted_sizes(request.POST)
                services.market_sizes_set(by=request.user, year=year, items=posted_sizes)
                messages.success(request, _("The market sizes of %s are saved.") % year)
            else:
                posted_mix = _posted_mix(request.POST, categories)
                services.planned_mix_set(by=request.user, year=year, items=posted_mix)
                messages.success(request, _("The planned product mix of %s is saved.") % year)
        except DomainError as exc:
            errors = exc.error_dict() or {"__all__": [str(exc.message)]}
        else:
            return redirect(f"{reverse('kpi:inputs')}?year={year}")
    elif request.method == "POST":
        return redirect(f"{reverse('kpi:inputs')}?year={year}")

    sizes = list(selectors.market_sizes(user=request.user, year=year))
    size_rows = ([{"region": r.region, "size": r.size} for r in sizes]
                 if posted_sizes is None else posted_sizes)
    size_rows = [{**row, "errors": _row_errors(errors, i, "region", "size")}
                 for i, row in enumerate(size_rows)]
    size_rows += [{"region": "", "size": "", "errors": []} for _n in range(EXTRA_ROWS)]
    saved = {r.category_id: r.percent for r in selectors.planned_mix(user=request.user,
                                                                     year=year)}
    planned, index = saved, {}
    if posted_mix is not None:
        planned = {row["category"]: row["percent"] for row in posted_mix}
        index = {row["category"]: i for i, row in enumerate(posted_mix)}
    mix_rows = [{"category": c, "percent": planned.get(c.pk, ""),
                 "errors": _row_errors(errors, index[c.pk], "percent", "category")
                 if c.pk in index else []} for c in categories]
    general = [m for name, msgs in errors.items() if not _ROW_FIELD.fullmatch(name)
               for m in msgs]
    return render(request, "kpi/inputs.html", {
        "title": _("KPI inputs"), "year": year, "years": range(year - 2, year + 3),
        "size_rows": size_rows, "mix_rows": mix_rows, "mix_total": sum(saved.values(), 0),
        "failed": which if errors else None, "general_errors": general,
        "can_edit": services.can_manage_inputs(request.user)})


_ROW_FIELD = re.compile(r"items\[\d+\]\.(region|size|percent|category)")


def _row_errors(errors: dict, i: int, *fields: str) -> list[str]:
    return [m for f in fields for m in errors.get(f"items[{i}].{f}", [])]
