from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppraisalConfig(AppConfig):
    name = "bizdept.appraisal"
    label = "appraisal"
    verbose_name = _("Appraisal")

    def ready(self):
        register_cycle_approvals()


# === Cycles (PER-3): approved through the engine (SAL-3) ===============================
def register_cycle_approvals():
    from django.urls import NoReverseMatch, reverse

    from bizdept import approvals

    from . import services
    from .models import AppraisalCycle

    def url(cycle):
        try:
            return reverse("appraisal:cycle_detail", args=[cycle.pk])
        except NoReverseMatch:  # the pages are not wired yet
            return ""

    approvals.register(
        services.CYCLE_TYPE, model=AppraisalCycle, label=_("Appraisal cycle"),
        title=services.cycle_title, requester=lambda c: c.created_by,
        on_approved=services.cycle_approved, on_rejected=services.cycle_not_approved,
        on_returned=services.cycle_not_approved, on_cancelled=services.cycle_not_approved,
        url=url)
