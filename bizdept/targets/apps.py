from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TargetsConfig(AppConfig):
    name = "bizdept.targets"
    label = "targets"
    verbose_name = _("Targets")

    def ready(self):
        register_plan_approvals()


# === Plans (TGT-1..4): approved through the engine (SAL-3) ===============================
def register_plan_approvals():
    from django.urls import NoReverseMatch, reverse

    from bizdept import approvals

    from . import services
    from .models import TargetPlan

    def url(plan):
        try:
            return reverse("targets:plan_detail", args=[plan.pk])
        except NoReverseMatch:  # the pages are not wired yet
            return ""

    approvals.register(
        services.PLAN_TYPE, model=TargetPlan, label=_("Target plan"),
        title=services.plan_title, amount=services.plan_amount,
        requester=lambda p: p.created_by, on_approved=services.plan_approved,
        on_rejected=services.plan_not_approved, on_returned=services.plan_not_approved,
        on_cancelled=services.plan_not_approved, url=url)
