from django.core.management import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = (
        "Remind approvers of steps past their deadline and escalate those past the "
        "escalation time to the head above (SAL-3). Deadlines count working days. Meant to "
        "run every hour or so, from cron or a systemd timer: `bizdept remind_approvals`. "
        "Running it twice does nothing the second time."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="count what would happen, change nothing, send nothing")

    def handle(self, *args, dry_run=False, **options):
        from bizdept.approvals import services

        with transaction.atomic():
            reminded, escalated = services.approvals_remind_and_escalate()
            if dry_run:
                transaction.set_rollback(True)
        if dry_run:
            message = _("%(reminded)d reminder(s) would be sent and %(escalated)d step(s) "
                        "escalated.")
        else:
            message = _("Sent %(reminded)d reminder(s) and escalated %(escalated)d step(s).")
        self.stdout.write(message % {"reminded": reminded, "escalated": escalated})
