import importlib
import sys

from django.core.management import BaseCommand, call_command
from django.utils.translation import gettext as _

# Each app that has demo records lists its module here, in dependency order.
DEMO_MODULES = ["bizdept.org.demo", "bizdept.customers.demo", "bizdept.approvals.demo",
                "bizdept.sales.demo", "bizdept.targets.demo", "bizdept.appraisal.demo",
                "bizdept.incentives.demo", "bizdept.incentives.demo_awards"]


def build(kind: str, size: str | None = None):
    from bizdept.org.demo import DemoContext

    ctx = DemoContext.new()
    for name in DEMO_MODULES:
        module = importlib.import_module(name)
        if kind == "demo":
            module.build_demo(ctx)
        else:
            module.build_scale(ctx, size)
    return ctx


def print_logins(stdout, ctx) -> None:
    from bizdept.org.choices import RoleCode
    from bizdept.org.demo import DEMO_PASSWORD

    labels = dict(RoleCode.choices)
    stdout.write(_("Demo logins (password: %s)") % DEMO_PASSWORD)
    for role, username, name in ctx.logins:
        stdout.write(f"  {str(labels.get(role, role)):<16} {username:<12} {name}")


class Command(BaseCommand):
    help = "Migrate, load the demo department when the database is empty, optionally serve."

    def add_arguments(self, parser):
        parser.add_argument("--serve", action="store_true", help="serve on --addr afterwards")
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, *args, serve=False, addr="127.0.0.1:8000", **options):
        from bizdept.org.models import Unit

        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if Unit.objects.exists():
            self.stdout.write(_("The database already has an organization; demo not loaded."))
            from bizdept.org.demo import DemoContext
            ctx = DemoContext.new()
            ctx.logins = _existing_logins()
        else:
            self.stdout.write(_("Loading the demo department…"))
            ctx = build("demo")
        print_logins(self.stdout, ctx)
        if serve:
            self.stdout.write(_("Serving on http://%s/ (Ctrl+C stops)") % addr)
            sys.stdout.flush()
            from bizdept.cli import start_task_worker, stop_task_worker

            worker = start_task_worker()  # background tasks (Excel imports) beside the server
            try:
                call_command("runserver", addr, use_reloader=False, use_threading=True)
            finally:
                stop_task_worker(worker)


def _existing_logins():
    from bizdept.org.models import Employee

    wanted = ["director", "manager1", "lead1", "sales", "sales21", "finance", "hr", "admin"]
    found = {e.user.username: e for e in Employee.objects.select_related("user")
             .prefetch_related("roles").filter(user__username__in=wanted)}
    return [(next((r.code for r in found[u].roles.all()), ""), u, found[u].name)
            for u in wanted if u in found]
