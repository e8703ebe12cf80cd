"""``python -m bench [--size S|M|L] [--duration S] [--concurrency N] [--rebuild] [--markdown]``

Builds (once) a department of the chosen size in its own SQLite file,
``bench/data/<size>.sqlite3``, so a benchmark never touches the demo database; then
measures and prints one table. Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "data"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench",
                                     description="Benchmarks; prints one table.")
    parser.add_argument("--size", choices=["S", "M", "L"], default="L")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per row")
    parser.add_argument("--concurrency", type=int, default=8, help="connections under load")
    parser.add_argument("--rebuild", action="store_true", help="generate the database anew")
    parser.add_argument("--markdown", action="store_true", help="also print a markdown table")
    parser.add_argument("--iterations", type=int, default=200, help="scope resolutions timed")
    parser.add_argument("--checks", type=int, default=500, help="duplicate checks timed")
    parser.add_argument("--import-rows", type=int, default=100_000,
                        help="customers in the Excel import file (0: skip the import rows, "
                        "which take about 20 minutes at 100,000)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto",
                        help="wrk when on PATH (auto), else the built-in Python client")
    args = parser.parse_args(argv)
    if args.import_rows < 0:
        parser.error("--import-rows must be 0 or more")
    if min(args.duration, args.concurrency, args.iterations, args.workers, args.checks) < 1:
        parser.error("--duration, --concurrency, --iterations, --workers and --checks must "
                     "be positive")
    return args


def bench_env(db: Path) -> dict:
    """The environment of this process and of every child: the bench database, its own
    data directory (secret key, logs), production settings (no DEBUG query log, no
    test-only middleware)."""
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "bizdept.settings",
        "DATABASE_URL": f"sqlite:///{db}",
        "BIZDEPT_DATA_DIR": str(DATA_DIR),
        "DEBUG": "0",
        "BIZDEPT_TESTING": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    })
    return env


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def generate(size: str, db: Path, env: dict) -> None:
    """``bizdept generate --size`` into a temporary file, renamed only when it succeeded,
    so an interrupted build is never mistaken for a finished one."""
    tmp = db.with_name(db.name + ".building")
    for leftover in _sqlite_files(tmp):
        leftover.unlink(missing_ok=True)
    log(f"building size {size} in {db.relative_to(PROJECT_DIR)} (once; --rebuild redoes it)")
    subprocess.run([sys.executable, "-m", "bizdept.cli", "generate", "--size", size],
                   env={**env, "DATABASE_URL": f"sqlite:///{tmp}"}, cwd=PROJECT_DIR,
                   stdout=sys.stderr, check=True, timeout=1800)
    with closing(sqlite3.connect(tmp)) as conn:  # fold the WAL back in before the rename
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.replace(tmp, db)
    for leftover in _sqlite_files(tmp)[1:]:
        leftover.unlink(missing_ok=True)


def _sqlite_files(db: Path) -> list[Path]:
    return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    (DATA_DIR / "static").mkdir(parents=True, exist_ok=True)  # STATIC_ROOT; WhiteNoise warns
    db = DATA_DIR / f"{args.size}.sqlite3"
    env = bench_env(db)
    os.environ.update(env)
    if args.rebuild:
        for path in _sqlite_files(db):
            path.unlink(missing_ok=True)
    if not db.exists():
        generate(args.size, db, env)
    built = time.monotonic()

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)  # an older bench DB stays usable
    from django.db import connection

    with connection.cursor() as cursor:  # statistics for a DB built before generate ran it
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            log("ANALYZE (planner statistics; once)")
            cursor.execute("ANALYZE")

    from . import duplicates, imports, load, numbers, report, sales, scope

    tool = load.choose_tool(args.loadgen)
    head = report.header(args.size)  # before measuring: its load average is the machine's
    log(f"scope resolution, {args.iterations} runs per persona")
    rows = scope.scope_rows(args.size, args.iterations)
    log(f"duplicate check (CUS-5), {args.checks} checks")
    rows += duplicates.duplicate_rows(args.size, args.checks)
    log("receivables aging (SAL-6) for the director, funnel (SAL-2) for a division")
    rows += sales.sales_rows(args.size)
    from . import targets  # noqa: PLC0415 - target tracking (TGT-5)

    log("target tracking (TGT-5): every person and unit, a quarter, six metrics, vs naive")
    rows += targets.tracking_rows(args.size)
    from . import reports  # noqa: PLC0415 - role dashboards (RPT-1)

    log("role dashboards (RPT-1): the director's, a division head's")
    rows += reports.report_rows(args.size)
    from . import appraisal  # noqa: PLC0415 - appraisal cycle (PER-3..5)

    log("appraisal cycle (PER-3..5): open, stage moves, reviews, calibration and approval "
        "for every person, rolled back after each run")
    rows += appraisal.cycle_rows(args.size)
    from . import incentives  # noqa: PLC0415 - bonus run (INC-2)

    log("bonus run (INC-2): an approved cycle first (untimed), then work out, work out "
        "again, the run page, the payroll export and a what-if, rolled back")
    rows += incentives.run_rows(args.size)
    if args.import_rows:
        log(f"Excel import (CUS-12) of {args.import_rows:,} customers, bizdept and "
            "django-import-export, each on a fresh database")
        rows += imports.import_rows("S", args.import_rows)
    log("contract numbers (SAL-4): 16 clients issuing at once on PostgreSQL")
    rows += numbers.number_rows()
    log(f"list APIs ({', '.join(name for name, _path, _what in load.ENDPOINTS)}), "
        f"{args.duration} s per persona with {tool}")
    rows += load.api_rows(args.size, env=env, duration=args.duration,
                          concurrency=args.concurrency, workers=args.workers,
                          log_path=DATA_DIR / "gunicorn.log", tool=tool)

    print("\n".join(head))
    print()
    print(report.plain(rows))
    if args.markdown:
        print()
        print(report.markdown(rows))
    finished = time.monotonic()
    print(f"\nwhole run {finished - started:.1f} s (database build {built - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
