from django.core.management import BaseCommand

from bizdept.imports.services import prune_jobs


class Command(BaseCommand):
    help = ("Delete finished Excel import jobs older than --days (default 90): their "
            "uploaded files under MEDIA_ROOT/imports/ and their reports. Run it from cron.")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=90)

    def handle(self, *args, days=90, **options):
        count = prune_jobs(older_than_days=max(0, days))
        self.stdout.write(f"{count} import jobs deleted")
