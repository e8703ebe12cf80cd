"""Every read of the appraisal app (PER-2..5), starting from the acting user.

Scorecard templates are the department's rules, not anyone's records: everyone working
in the department reads them (a salesperson sees how they will be appraised); a visitor
without an active employee record (or the administrator's capability) reads none.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404

from bizdept.org.choices import Capability
from bizdept.org.scope import capabilities_of, employee_of

from .models import ScorecardItem, ScorecardTemplate


def _may_read(user) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if Capability.ADMINISTER in capabilities_of(user):
        return True
    me = employee_of(user)
    return me is not None and not me.is_left


def template_list(*, user):
    """Templates the user may read (all of them, or none), with position and items:
    three queries for a page of any size (count, the page, its items)."""
    rows = ScorecardTemplate.objects.select_related("position").prefetch_related(
        Prefetch("items", queryset=ScorecardItem.objects.order_by("sort_order", "pk")))
    return rows if _may_read(user) else rows.none()


def template_detail(*, user, pk) -> ScorecardTemplate:
    """One template, or 404."""
    try:
        return template_list(user=user).get(pk=pk)
    except (ScorecardTemplate.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def template_find(*, user, pk) -> ScorecardTemplate:
    """The template a write acts on (no items loaded), or 404 when the user may not read
    it; whether they may change it is the service's question (403)."""
    rows = ScorecardTemplate.objects.all() if _may_read(user) else ScorecardTemplate.objects.none()
    try:
        return rows.get(pk=pk)
    except (ScorecardTemplate.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
