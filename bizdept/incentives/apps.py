from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncentivesConfig(AppConfig):
    name = "bizdept.incentives"
    label = "incentives"
    verbose_name = _("Incentives")

    def ready(self):
        register_approvals()


# === Plans and runs are approved through the engine (SAL-3) ============================
def register_approvals():
    from django.urls import NoReverseMatch, reverse

    from bizdept import approvals

    from . import services
    from .models import BonusPlan, BonusRun

    def url_of(name):
        def url(document):
            try:
                return reverse(name, args=[document.pk])
            except NoReverseMatch:  # the pages are not wired yet
                return ""
        return url

    approvals.register(
        services.PLAN_TYPE, model=BonusPlan, label=_("Bonus plan"),
        title=services.plan_title,
        on_approved=services.plan_approved, on_rejected=services.plan_not_approved,
        on_returned=services.plan_not_approved, on_cancelled=services.plan_not_approved,
        url=url_of("incentives:plan_detail"))
    approvals.register(
        services.RUN_TYPE, model=BonusRun, label=_("Bonus run"),
        title=services.run_title, amount=services.run_amount,
        on_approved=services.run_approved, on_rejected=services.run_not_approved,
        on_returned=services.run_not_approved, on_cancelled=services.run_not_approved,
        url=url_of("incentives:run_detail"))
