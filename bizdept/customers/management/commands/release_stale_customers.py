from django.core.management import BaseCommand
from django.db import transaction
from django.utils.translation import ngettext


class Command(BaseCommand):
    help = (
        "Return customers without a follow-up for the configured number of days "
        "(customer settings, 30 by default) to the public pool (CUS-6). Meant to run once "
        "a day, from cron or a systemd timer: `bizdept release_stale_customers`. Running "
        "it twice releases nothing the second time."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="count the customers that would go, change nothing")

    def handle(self, *args, dry_run=False, **options):
        from bizdept.customers import services
        from bizdept.customers.models import CustomerSettings

        days = CustomerSettings.current().pool_release_days
        with transaction.atomic():
            released = services.pool_release_stale()
            if dry_run:
                transaction.set_rollback(True)
        if dry_run:
            message = ngettext(
                "%(count)d customer would return to the public pool (no follow-up for "
                "%(days)d days).",
                "%(count)d customers would return to the public pool (no follow-up for "
                "%(days)d days).", released)
        else:
            message = ngettext(
                "Released %(count)d customer to the public pool (no follow-up for %(days)d "
                "days).",
                "Released %(count)d customers to the public pool (no follow-up for %(days)d "
                "days).", released)
        self.stdout.write(message % {"count": released, "days": days})
