"""Contract number issue (SAL-4) under concurrency, on PostgreSQL.

``number_rows()`` runs one measurement in a child process of its own, against a
PostgreSQL database of its own (``BENCH_POSTGRES_URL``, default
``postgres://postgres@127.0.0.1:5432/bizdept_bench``; created when missing, migrated, given
a small organization the first time). The register is emptied first, then 16 clients,
each a thread with its own database connection, released together, issue one number at a
time through ``services.contract_number_issue`` (finance issuing to a salesperson, as in
real use): numbers per second over the whole run, median and p95 milliseconds per issue,
and a final check that the year's sequence is exactly 1..N with every number unique.

When PostgreSQL does not answer, the row says so instead of a figure (SQLite has one
writer at a time, so its figure would say nothing about the lock).

``python -m bench.numbers [--clients 16] [--issues 50]`` prints the table alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .report import Row

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "data"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bizdept_bench"
CLIENTS = 16
ISSUES = 50  # per client
NAME = "Contract number issue, {clients} clients, PostgreSQL"


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def database_url() -> str:
    return os.environ.get("BENCH_POSTGRES_URL", DEFAULT_URL)


def _maintenance_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def postgres_answers(url: str) -> str | None:
    """None when the server answers, else why not (one line)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(_maintenance_url(url), connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _ensure_database(url: str) -> None:
    """A new, empty database every run: the bench's own, so an older schema (from an
    earlier version of the code) never stands in the way of the migrations."""
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_maintenance_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# --- the child process ----------------------------------------------------------------
def _organization():
    """Finance and the salespeople to issue to; made once (the database is the bench's)."""
    import datetime

    from bizdept.org import services
    from bizdept.org.choices import RoleCode, UnitKind
    from bizdept.org.models import Employee, Position, Unit

    finance = Employee.objects.filter(user__username="bench-finance").select_related(
        "user").first()
    if finance is None:
        services.ensure_roles()
        dept = Unit.objects.filter(name="基准经营部").first() or services.unit_create(
            name="基准经营部", kind=UnitKind.DEPARTMENT, parent=None)
        team = services.unit_create(name="基准一所", kind=UnitKind.TEAM, parent=dept)
        position, _ = Position.objects.get_or_create(name="业务员",
                                                     defaults={"name_en": "Salesperson"})

        def person(n, role, unit, username):
            return services.employee_create(
                number=f"BN{n:04d}", name=f"基准员工{n}", unit=unit, position=position,
                hire_date=datetime.date(2024, 1, 1), username=username,
                password="bench-pass-123", roles=[role])

        finance = person(0, RoleCode.FINANCE, dept, "bench-finance")
        for n in range(1, CLIENTS + 1):
            person(n, RoleCode.SALES, team, f"bench-sales{n}")
    salespeople = list(Employee.objects.filter(user__username__startswith="bench-sales")
                       .select_related("unit").order_by("number"))
    return finance, salespeople


def _child(clients: int, issues: int) -> None:
    import threading
    from time import perf_counter

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", interactive=False, verbosity=0)
    from bizdept.sales import services
    from bizdept.sales.models import ContractNumber, ContractNumberSetting
    from bizdept.sales.numbering import number_regex

    finance, salespeople = _organization()  # a new database: the register starts empty
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:  # one issue first, its SQL counted
        services.contract_number_issue(by=finance.user, to=salespeople[0])
    connection.close()
    barrier = threading.Barrier(clients)
    timings: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []

    def work(index: int) -> None:
        to = salespeople[index % len(salespeople)]
        try:
            barrier.wait()
            for _ in range(issues):
                start = perf_counter()
                services.contract_number_issue(by=finance.user, to=to)
                timings[index].append((perf_counter() - start) * 1000)
        except Exception as exc:  # noqa: BLE001 - counted and reported
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    started = perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = perf_counter() - started
    year = timezone.localdate().year
    rows = list(ContractNumber.objects.filter(year=year).order_by("seq")
                .values_list("seq", "number"))
    regex = number_regex(ContractNumberSetting.current().pattern)
    total = sum(len(t) for t in timings) + 1
    gapless = [seq for seq, _n in rows] == list(range(1, total + 1))
    unique = len({n for _s, n in rows}) == len(rows)
    matching = all((m := regex.fullmatch(n)) and int(m["seq"]) == s for s, n in rows)
    print(json.dumps({
        "issued": total, "rows": len(rows), "seconds": seconds,
        "ms": [ms for t in timings for ms in t], "errors": errors[:5],
        "error_count": len(errors), "gapless": gapless, "unique": unique,
        "matching": matching, "queries": len(queries),
        "server": ".".join(str(v) for v in connection.get_database_version()),
    }))


def number_rows(clients: int = CLIENTS, issues: int = ISSUES) -> list[Row]:
    """One row of the benchmark table (or a row saying why it was skipped)."""
    from .report import percentile

    url = database_url()
    name = NAME.format(clients=clients)
    why = postgres_answers(url)
    if why is not None:
        log(f"contract numbers: skipped, PostgreSQL does not answer ({why})")
        return [Row(name=name, median_ms=None, p95_ms=None,
                    notes=f"skipped: PostgreSQL at {urlsplit(url).netloc} did not answer")]
    _ensure_database(url)
    log(f"contract numbers: {clients} clients × {issues} issues on {urlsplit(url).path}")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update({"DJANGO_SETTINGS_MODULE": "bizdept.settings", "DATABASE_URL": url,
                "DATABASE_CONN_MAX_AGE": "0", "BIZDEPT_DATA_DIR": str(DATA_DIR), "DEBUG": "0",
                "BIZDEPT_TESTING": "0", "LOG_LEVEL": "WARNING"})
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.numbers", "--child", "--clients", str(clients),
             "--issues", str(issues)], cwd=PROJECT_DIR, env=env, capture_output=True,
            text=True, timeout=600, check=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        log(f"contract numbers failed:\n{(getattr(exc, 'stderr', '') or '')[-3000:]}")
        return [Row(name=name, median_ms=None, p95_ms=None, notes="failed; see the log")]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    ms = result["ms"] or [0.0]
    check = ("gapless and unique" if result["gapless"] and result["unique"]
             and result["matching"] else "CHECK FAILED: gaps or repeats")
    return [Row(
        name=name, median_ms=percentile(ms, 50), p95_ms=percentile(ms, 95),
        rate=(result["issued"] - 1) / result["seconds"], errors=result["error_count"],
        queries=result["queries"],
        notes=(f"numbers/s; {result['issued'] - 1:,} issued in {result['seconds']:.1f} s, one "
               f"per transaction (queries: one issue); sequence 1..{result['rows']:,} {check}; "
               f"PostgreSQL {result['server']}"),
    )]


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.numbers")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--issues", type=int, default=ISSUES, help="per client")
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.issues < 1:
        parser.error("--clients and --issues must be positive")
    if args.child:
        _child(args.clients, args.issues)
        return 0
    from .report import plain

    print(plain(number_rows(args.clients, args.issues)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
