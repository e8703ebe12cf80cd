from django.core.management import BaseCommand, CommandError, call_command
from django.utils.translation import gettext as _

from .demo import build, print_logins


class Command(BaseCommand):
    help = "Build a bigger department for benchmarks: S (100 people), M (500), L (2,000)."

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=["S", "M", "L"], default="S")

    def handle(self, *args, size="S", **options):
        from bizdept.org.models import Unit

        call_command("migrate", interactive=False, verbosity=0)
        if Unit.objects.exists():
            raise CommandError(_("The database is not empty; point DATABASE_URL at a new one."))
        ctx = build("scale", size)
        # Planner statistics for the bulk-loaded tables: without them SQLite picks an index
        # by its shape alone (e.g. contracts by status rather than by owner and date).
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(_("Built size %(size)s: %(people)d people in %(teams)d teams.")
                          % {"size": size, "people": _count(), "teams": len(ctx.teams)})
        print_logins(self.stdout, ctx)


def _count():
    from bizdept.org.models import Employee

    return Employee.objects.count()
