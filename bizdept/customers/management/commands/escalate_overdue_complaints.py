from django.core.management import BaseCommand
from django.db import transaction
from django.utils.translation import ngettext


class Command(BaseCommand):
    help = (
        "Escalate every complaint still open or in progress past its deadline to the head "
        "above its handler (CUS-9). Meant to run every hour or so, from cron or a systemd "
        "timer: `bizdept escalate_overdue_complaints`. Running it twice escalates nothing "
        "the second time."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="count the complaints that would escalate, change nothing")

    def handle(self, *args, dry_run=False, **options):
        from bizdept.customers import services

        with transaction.atomic():
            escalated = services.complaints_escalate_overdue()
            if dry_run:
                transaction.set_rollback(True)
        if dry_run:
            message = ngettext("%(count)d overdue complaint would be escalated.",
                               "%(count)d overdue complaints would be escalated.", escalated)
        else:
            message = ngettext("Escalated %(count)d overdue complaint.",
                               "Escalated %(count)d overdue complaints.", escalated)
        self.stdout.write(message % {"count": escalated})
