from django.core.management import BaseCommand

from bizdept.imports.services import jobs_fail_stale, prune_jobs


class Command(BaseCommand):
    help = ("Mark as failed the running Excel import jobs whose worker died, and delete "
            "finished jobs older than --days (default 90) with their uploaded files under "
            "MEDIA_ROOT/imports/ and their reports. Run it from cron.")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=90)

    def handle(self, *args, days=90, **options):
        stale = jobs_fail_stale()
        count = prune_jobs(older_than_days=max(0, days))
        self.stdout.write(f"{stale} stale import jobs failed, {count} import jobs deleted")
