"""One bench module run on its own (``python -m bench.appraisal``…): the same options
and the same table for each."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable


def main(argv, *, prog: str, description: str, what: str,
         rows: Callable[[str, int, bool], list]) -> int:
    """Parse the options, set the bench database up, then print ``rows(size, runs,
    memory)`` as the table."""
    from .__main__ import DATA_DIR, bench_env, log

    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--size", choices=["S", "M", "L"], default="L")
    parser.add_argument("--runs", type=int, default=1,
                        help="timed runs (0: only the traced one, its timings)")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the run with tracemalloc on (traced peaks)")
    parser.add_argument("--database-url", default="",
                        help="default: bench/data/<size>.sqlite3 (must exist)")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    db = DATA_DIR / f"{args.size}.sqlite3"
    env = bench_env(db)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    elif not db.exists():
        parser.error(f"{db} does not exist: run python -m bench --size {args.size} first")
    (DATA_DIR / "static").mkdir(parents=True, exist_ok=True)
    os.environ.update(env)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    from . import report

    head = report.header(args.size)
    log(f"{what}: {args.runs} timed run(s)"
        + ("" if args.no_memory else ", after one with tracemalloc on"))
    started = time.monotonic()
    table = rows(args.size, args.runs, not args.no_memory)
    print("\n".join(head))
    print()
    print(report.plain(table))
    if args.markdown:
        print()
        print(report.markdown(table))
    print(f"\nwhole run {time.monotonic() - started:.1f} s")
    return 0
