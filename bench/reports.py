"""Role dashboards (RPT-1) measured in-process on the scale data (size L: 2,000 people,
400,000 contracts, about 1,000,000 payments; the target plans of
``bizdept.targets.demo.build_scale_plans`` when the database has them).

Two rows for the director (the widest dashboard: the department against target by month,
the divisions side by side for every metric, the trend against last year, the approvals
inbox): the figures alone (``reports.selectors.dashboard``) and the whole home page as
the server renders it (the view, the org card, the charts' JSON and the tables). One row
for a division head's team dashboard. Timed like bench/sales.py: each run loads the user
fresh (nothing cached on it); the query count comes from one extra, untimed run.
"""

from __future__ import annotations

from .report import Row, time_as

DIRECTOR = "director"
DIVISION_HEAD = "manager1"  # the head of the first division (bizdept.org.demo.build_scale)


def _home_request(user):
    """GET / as ``user``, through the view (session and messages in memory only: the
    bench database gets no session rows)."""
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.signed_cookies import SessionStore
    from django.test import RequestFactory

    from bizdept.org.views import home

    request = RequestFactory().get("/", HTTP_HOST="127.0.0.1")
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    response = home(request)
    assert response.status_code == 200, response.status_code
    return response


def _plans() -> str:
    from django.utils import timezone

    from bizdept.targets.models import TargetCell, TargetPlan

    year = timezone.localdate().year
    plans = TargetPlan.objects.filter(fiscal_year=year, status="approved").count()
    cells = TargetCell.objects.filter(plan__fiscal_year=year, plan__status="approved").count()
    return f"{plans} approved plans, {cells:,} cells for {year}" if plans else \
        f"no approved plan for {year} (actuals only)"


def director_rows(size: str, iterations: int = 5, warmup: int = 1) -> list[Row]:
    from bizdept.reports import selectors

    figures = time_as(DIRECTOR, lambda user: selectors.dashboard(user=user), iterations,
                       warmup)
    board = figures["result"]
    panels = ", ".join(p.key for p in board.panels)
    plans = _plans()
    # Static URLs unhashed: the bench has no collectstatic manifest (its cost is nil).
    from django.conf import settings
    from django.test import override_settings

    plain = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(STORAGES=plain):
        page = time_as(DIRECTOR, _home_request, iterations, warmup)
    size_kb = len(page["result"].content) / 1024
    return [
        Row(name=f"director dashboard, figures, size {size}", median_ms=figures["median_ms"],
            p95_ms=figures["p95_ms"], queries=figures["queries"],
            notes=(f"period {board.frame.period}, metric {board.frame.metric}: {panels}; "
                   f"{plans}; {iterations} runs, cold user")),
        Row(name=f"director dashboard, home page rendered, size {size}",
            median_ms=page["median_ms"], p95_ms=page["p95_ms"], queries=page["queries"],
            notes=f"GET / through the view, {size_kb:,.0f} KiB of HTML; {iterations} runs"),
    ]


def team_row(size: str, iterations: int = 5, warmup: int = 1) -> Row | None:
    from django.contrib.auth import get_user_model

    from bizdept.reports import selectors

    if not get_user_model().objects.filter(username=DIVISION_HEAD).exists():
        return None
    m = time_as(DIVISION_HEAD, lambda user: selectors.dashboard(user=user), iterations,
                 warmup)
    board = m["result"]
    return Row(name=f"division head dashboard, figures, size {size}", median_ms=m["median_ms"],
               p95_ms=m["p95_ms"], queries=m["queries"],
               notes=(f"{DIVISION_HEAD} on {board.frame.unit.name if board.frame.unit else '-'}: "
                      f"{', '.join(p.key for p in board.panels)}; {iterations} runs, cold user"))


def report_rows(size: str, iterations: int = 5) -> list[Row]:
    rows = director_rows(size, iterations)
    team = team_row(size, iterations)
    if team is not None:
        rows.append(team)
    return rows


def main(argv=None) -> int:
    """``python -m bench.reports [--size L] [--iterations N]``: only these rows, on the
    existing bench database (built by ``python -m bench``; never generated here)."""
    import argparse
    import os
    import sys

    from . import __main__ as bench
    from .report import header, plain

    parser = argparse.ArgumentParser(prog="python -m bench.reports")
    parser.add_argument("--size", choices=["S", "M", "L"], default="L")
    parser.add_argument("--iterations", type=int, default=5)
    args = parser.parse_args(argv)
    db = bench.DATA_DIR / f"{args.size}.sqlite3"
    if not db.exists():
        print(f"no {db}: run `python -m bench --size {args.size}` first", file=sys.stderr)
        return 1
    os.environ.update(bench.bench_env(db))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    head = header(args.size)
    rows = report_rows(args.size, args.iterations)
    print("\n".join(head))
    print()
    print(plain(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
