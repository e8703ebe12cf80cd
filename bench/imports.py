"""Excel import (CUS-12) measured: bizdept's streaming importer against django-import-export
on the same 100,000-customer file, into the same ``Customer`` model.

``import_rows(size)`` builds the file once (``bench/data/import-customers-<n>.xlsx``: valid
rows, unique names, credit codes and phones), then runs every measurement in a child
process of its own, on a fresh, migrated SQLite file (``bench/data/import-*.sqlite3``)
holding just the organization of ``size``: the numbers never share a process, a database
or a warm cache, and the parent's own Django setup (the benchmark database) is untouched.

* bizdept: ``imports.services.run_import`` in keep_valid mode, as the worker runs it: rows/s,
  seconds, SQL queries per batch of 1,000, per-batch milliseconds (median, p95). Peak
  Python memory (tracemalloc) is measured in separate runs at 10,000 and 100,000 rows
  (tracemalloc slows everything down, so the timed run goes without it).
* django-import-export: a ModelResource over the same columns, ``import_data(dataset,
  dry_run=False)`` on a tablib Dataset read from the xlsx; same measures. It is installed
  for the bench only (the ``bench`` extra).

``python -m bench.imports [--rows N]`` prints the table alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .report import Row

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "data"
ROWS = 100_000
SMALL = 10_000
TIMEOUT = 15 * 60  # a django-import-export run longer than this is measured on SMALL

HEADER = ["名称", "类型", "统一社会信用代码", "电话", "行业", "地区", "来源", "阶段", "地址",
          "备注"]
REGIONS = ["上海", "杭州", "南京", "苏州", "宁波", "合肥", "北京", "广州", "深圳", "成都"]
INDUSTRIES = ["制造", "零售", "物流", "软件", "医药", "建筑", "能源", "教育"]


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --- the file ----------------------------------------------------------------------------
def credit_code(n: int) -> str:
    from bizdept.core.validators import CREDIT_CODE_ALPHABET, credit_code_check_char

    digits = []
    for _ in range(9):
        n, rest = divmod(n, len(CREDIT_CODE_ALPHABET))
        digits.append(CREDIT_CODE_ALPHABET[rest])
    first17 = "91320000" + "".join(reversed(digits))
    return first17 + credit_code_check_char(first17)


def build_file(rows: int) -> Path:
    """The xlsx, written once (streamed: openpyxl write-only)."""
    from openpyxl import Workbook

    path = DATA_DIR / f"import-customers-{rows}.xlsx"
    if path.exists():
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    log(f"writing {rows:,} customers to {path.relative_to(PROJECT_DIR)}")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("客户")
    sheet.append(HEADER)
    for n in range(rows):
        sheet.append([f"基准导入客户{n:06d}号贸易有限公司", "公司", credit_code(n + 1),
                      f"138{n:08d}", INDUSTRIES[n % len(INDUSTRIES)], REGIONS[n % len(REGIONS)],
                      "展会", "潜在", f"{REGIONS[n % len(REGIONS)]}市人民路{n % 999 + 1}号",
                      "批量导入"])
    tmp = path.with_suffix(".building")
    workbook.save(tmp)
    os.replace(tmp, path)
    return path


# --- the child process: one measurement ------------------------------------------------
def _fresh_database(db: Path, size: str):
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    from bizdept.org.demo import DemoContext, build_scale
    from bizdept.org.models import Employee

    build_scale(DemoContext.new(), size)
    importer = (Employee.objects.select_related("user").filter(user__username="director").first()
                or Employee.objects.select_related("user").filter(user__isnull=False).first())
    return importer


class _Counter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _measure_bizdept(path: Path, importer, traced: bool) -> dict:
    import shutil
    import tracemalloc
    from time import perf_counter

    from django.conf import settings
    from django.db import connection

    from bizdept.customers.models import Customer
    from bizdept.imports import services as imports
    from bizdept.imports.models import ImportJob

    (Path(settings.MEDIA_ROOT) / "imports").mkdir(parents=True, exist_ok=True)
    name = f"imports/bench-{os.getpid()}.xlsx"
    shutil.copyfile(path, Path(settings.MEDIA_ROOT) / name)
    job = ImportJob.objects.create(kind="customers", mode="keep_valid", sheets="customers",
                                   created_by=importer.user, file=name, filename=path.name)
    batch_ms: list[float] = []
    original = imports._one_batch

    def timed(*args, **kwargs):
        start = perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            batch_ms.append((perf_counter() - start) * 1000)

    imports._one_batch = timed
    counter = _Counter()
    if traced:
        tracemalloc.start()
    start = perf_counter()
    with connection.execute_wrapper(counter):
        imports.run_import(job.pk)
    seconds = perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if traced else None
    if traced:
        tracemalloc.stop()
    job.refresh_from_db()
    (Path(settings.MEDIA_ROOT) / name).unlink(missing_ok=True)
    return {"seconds": seconds, "created": Customer.objects.count(), "status": job.status,
            "rejected": job.rows_rejected, "queries": counter.count, "batches": len(batch_ms),
            "batch_ms": batch_ms, "peak": peak}


def _measure_import_export(path: Path, importer, traced: bool, rows: int) -> dict:
    import tracemalloc
    from time import perf_counter

    import tablib
    from django.db import connection
    from import_export import fields, resources

    from bizdept.core.validators import normalize_company_name
    from bizdept.customers.models import Customer

    columns = dict(zip(["name", "kind", "credit_code", "phone", "industry", "region", "source",
                        "stage", "address", "notes"], HEADER, strict=True))

    class CustomerResource(resources.ModelResource):
        name = fields.Field(attribute="name", column_name=columns["name"])
        kind = fields.Field(attribute="kind", column_name=columns["kind"])
        credit_code = fields.Field(attribute="credit_code", column_name=columns["credit_code"])
        phone = fields.Field(attribute="phone", column_name=columns["phone"])
        industry = fields.Field(attribute="industry", column_name=columns["industry"])
        region = fields.Field(attribute="region", column_name=columns["region"])
        source = fields.Field(attribute="source", column_name=columns["source"])
        stage = fields.Field(attribute="stage", column_name=columns["stage"])
        address = fields.Field(attribute="address", column_name=columns["address"])
        notes = fields.Field(attribute="notes", column_name=columns["notes"])

        class Meta:
            model = Customer
            fields = tuple(columns)
            import_id_fields = ("credit_code",)

        def before_save_instance(self, instance, row, **kwargs):
            # The least the model needs: its unique name key and an owner.
            instance.name_key = normalize_company_name(instance.name)[:200]
            instance.owner_id = importer.pk

    counter = _Counter()
    if traced:
        tracemalloc.start()
    start = perf_counter()
    with open(path, "rb") as fh:
        dataset = tablib.Dataset().load(fh, format="xlsx")
    with connection.execute_wrapper(counter):
        result = CustomerResource().import_data(dataset, dry_run=False, raise_errors=False)
    seconds = perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if traced else None
    if traced:
        tracemalloc.stop()
    return {"seconds": seconds, "created": Customer.objects.count(),
            "status": "errors" if result.has_errors() or result.has_validation_errors() else "done",
            "rejected": len(result.invalid_rows) + len(result.row_errors()),
            "queries": counter.count, "batches": 0, "batch_ms": [], "peak": peak}


def _child(tool: str, rows: int, size: str, traced: bool) -> None:
    import resource

    path = build_file(rows)
    db = DATA_DIR / f"import-{tool}-{rows}-{'traced' if traced else 'timed'}.sqlite3"
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "bizdept.settings", "DATABASE_URL": f"sqlite:///{db}",
        "BIZDEPT_DATA_DIR": str(DATA_DIR), "MEDIA_ROOT": str(DATA_DIR / "media"),
        "DEBUG": "0", "BIZDEPT_TESTING": "0", "LOG_LEVEL": "WARNING",
    })
    importer = _fresh_database(db, size)
    if tool == "bizdept":
        result = _measure_bizdept(path, importer, traced)
    else:
        result = _measure_import_export(path, importer, traced, rows)
    result["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["rows"] = rows
    print(json.dumps(result))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def _run(tool: str, rows: int, size: str, traced: bool, timeout: int = TIMEOUT) -> dict | None:
    build_file(rows)  # in the parent: the child's time is the import's alone
    log(f"{tool}: {rows:,} rows{' (tracemalloc)' if traced else ''}")
    command = [sys.executable, "-m", "bench.imports", "--child", tool, "--rows", str(rows),
               "--size", size] + (["--traced"] if traced else [])
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True,
                              timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        log(f"{tool}: {rows:,} rows took over {timeout // 60} minutes; stopped")
        return None
    except subprocess.CalledProcessError as exc:
        log(f"{tool} failed:\n{exc.stderr[-3000:]}")
        return None
    result = json.loads(done.stdout.strip().splitlines()[-1])
    log(f"{tool}: {rows:,} rows in {time.monotonic() - started:.1f} s (with setup)")
    return result


def _mb(value) -> str:
    return "-" if value is None else f"{value / 1024 / 1024:.1f} MB"


def import_rows(size: str, rows: int = ROWS) -> list[Row]:
    """Rows of the benchmark table: bizdept's import and django-import-export's."""
    from .report import percentile

    small = min(SMALL, rows)
    ours = _run("bizdept", rows, size, traced=False)
    ours_small_peak = _run("bizdept", small, size, traced=True)
    ours_peak = _run("bizdept", rows, size, traced=True) if rows != small else ours_small_peak
    table = []
    if ours is not None:
        rate = ours["rows"] / ours["seconds"]
        per_batch = ours["queries"] / max(1, ours["batches"])
        table.append(Row(
            name=f"Excel import, bizdept, {rows:,} customers",
            median_ms=percentile(ours["batch_ms"], 50), p95_ms=percentile(ours["batch_ms"], 95),
            rate=rate, queries=round(per_batch),
            notes=(f"rows/s; {ours['seconds']:.1f} s; {ours['created']:,} created; ms and "
                   f"queries per batch of 1,000 (all queries: {ours['queries']:,}); peak "
                   f"tracemalloc {_mb((ours_small_peak or {}).get('peak'))} at {small:,} rows, "
                   f"{_mb((ours_peak or {}).get('peak'))} at {rows:,}; max RSS "
                   f"{ours['maxrss_kb'] / 1024:.0f} MB; keep_valid, SQLite"),
        ))
    theirs = _run("import-export", rows, size, traced=False)
    measured = rows
    if theirs is None and rows != small:
        theirs = _run("import-export", small, size, traced=False)
        measured = small
    theirs_peak = _run("import-export", small, size, traced=True, timeout=TIMEOUT)
    if theirs is not None:
        rate = theirs["rows"] / theirs["seconds"]
        per_1000 = theirs["seconds"] * 1000 / (theirs["rows"] / 1000)
        table.append(Row(
            name=f"Excel import, django-import-export, {measured:,} customers",
            median_ms=per_1000, p95_ms=per_1000, rate=rate,
            queries=round(theirs["queries"] / (theirs["rows"] / 1000)),
            notes=(f"rows/s; {theirs['seconds']:.1f} s; {theirs['created']:,} created; ms and "
                   f"queries per 1,000 rows (average; all: {theirs['queries']:,}); peak "
                   f"tracemalloc {_mb((theirs_peak or {}).get('peak'))} at {small:,} rows; max RSS "
                   f"{theirs['maxrss_kb'] / 1024:.0f} MB; ModelResource, import_data, "
                   f"no credit-code/phone checks"
                   + ("" if measured == rows else
                      f"; {rows:,} rows took over {TIMEOUT // 60} min, measured on {small:,}")),
        ))
    return table


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.imports")
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--size", choices=["S", "M", "L"], default="S")
    parser.add_argument("--child", choices=["bizdept", "import-export"])
    parser.add_argument("--traced", action="store_true")
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.rows, args.size, args.traced)
        return 0
    from .report import plain

    print(plain(import_rows(args.size, args.rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
