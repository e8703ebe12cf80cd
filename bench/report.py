"""One result row per benchmark and the table they print as (plain text or markdown)."""

from __future__ import annotations

import datetime
import math
import os
import platform
from dataclasses import dataclass

COLUMNS = ["benchmark", "req/s", "median ms", "p95 ms", "queries", "errors", "notes"]


@dataclass
class Row:
    name: str
    median_ms: float
    p95_ms: float
    rate: float | None = None  # requests per second, load rows only
    queries: int | None = None  # SQL queries per operation, in-process rows only
    errors: int | None = None  # failed requests, load rows only
    visible: int | None = None  # records (employees, customers) the user sees
    notes: str = ""

    def cells(self) -> list[str]:
        return [self.name, _num(self.rate, 0), _num(self.median_ms, 2), _num(self.p95_ms, 2),
                _num(self.queries, 0), _num(self.errors, 0), self.notes]


def _num(value, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile: a value that was actually measured, no interpolation."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * pct / 100)) - 1]


def header(size: str) -> list[str]:
    """Where the numbers come from: they only mean something next to the machine."""
    import django
    from django.db import connection

    if connection.vendor == "sqlite":
        database = f"SQLite {connection.Database.sqlite_version} (WAL)"
    else:
        database = f"{connection.vendor} {connection.get_database_version()}"
    cpu = _cpu_model()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return [
        f"bizdept benchmarks, {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"size {size}; machine: {platform.machine()}, {os.cpu_count()} cores"
        + (f" ({cpu})" if cpu else "")
        + (f", load average {load:.2f} before the run" if load is not None else ""),
        f"database: {database}; Python {platform.python_version()}, "
        f"Django {django.get_version()}",
    ]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def plain(rows: list[Row]) -> str:
    table = [COLUMNS, *(row.cells() for row in rows)]
    widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS))]
    right = {1, 2, 3, 4, 5}  # numbers line up on the right

    def line(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return "\n".join([line(COLUMNS), line(["-" * w for w in widths]),
                      *(line(r) for r in table[1:])])


def markdown(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |",
             "|" + "|".join("---" if i in (0, 6) else "---:" for i in range(len(COLUMNS))) + "|"]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def time_as(username: str, call, iterations: int, warmup: int = 1) -> dict:
    """Median and p95 (ms) of ``call(user)`` for the login ``username``, loaded fresh each
    run as a request would (nothing cached on it), after ``warmup`` untimed runs; the
    query count comes from one extra, untimed run (capturing queries turns on the debug
    cursor, which would add its own cost to the timings)."""
    from time import perf_counter

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    User = get_user_model()
    for _ in range(warmup):
        call(User.objects.get(username=username))
    timings, result = [], None
    for _ in range(iterations):
        user = User.objects.get(username=username)
        start = perf_counter()
        result = call(user)
        timings.append((perf_counter() - start) * 1000)
    user = User.objects.get(username=username)
    with CaptureQueriesContext(connection) as captured:
        call(user)
    return {"median_ms": percentile(timings, 50), "p95_ms": percentile(timings, 95),
            "queries": len(captured), "result": result}
