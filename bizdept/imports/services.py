"""Excel imports (CUS-12), generic: a kind of record describes its sheets and columns and
how to check and write a batch of rows; this module reads the file, runs the batches, keeps
the progress and the row-by-row report. Customers and contacts are the first kind
(``bizdept.customers.imports``); products will be the next.

How a job runs (``run_import``, in the background worker)
-------------------------------------------------------
The file is streamed: openpyxl in read-only mode gives one row at a time, values only, and
rows are handled in batches of ``BATCH_SIZE``. Each batch is parsed and checked in Python,
then checked against the database with one query per kind of key for the whole batch
(never a query per row), then written with bulk inserts. Nothing accumulates per row:

* the shared-string table of the xlsx (every distinct text in the file) is kept in a
  temporary file with an offsets array (8 bytes a string) instead of a Python list;
* the keys that must be unique inside the file (credit codes, names, phones) are kept as
  64-bit hashes in a temporary SQLite file (``SeenKeys``), with the row that used them.

Modes and progress, on SQLite and on PostgreSQL alike
-----------------------------------------------------
* ``keep_valid``: one pass. Each batch is checked and written in its own transaction
  (with its report rows); the progress is committed after every batch. A crash loses at
  most the batch in flight, never half of one; the batches before it stay, as the mode
  promises. Other writers wait at most one batch on SQLite.
* ``all_or_nothing``: two passes. The checking pass reads the whole file and writes only
  the report and the progress (0-50 %), committed batch by batch, so every wrong row is
  reported and the page sees the progress. If any row is wrong, nothing is written. Else
  the writing pass checks each batch again (the database may have changed meanwhile) and
  writes everything in ONE transaction (50-100 %): a crash, or a customer someone else
  created meanwhile, rolls it all back. During that transaction the job's row cannot
  carry the progress (other connections do not see uncommitted rows, and on SQLite a
  second connection could not write while the import holds the write lock), so the
  progress also goes to a small file beside the upload, ``<upload>.progress.json``, which
  the page reads while the job runs. The worker and the web server share MEDIA_ROOT
  anyway: the worker reads the uploaded file from there.

On SQLite the writing pass of a big all-or-nothing import holds the database's write lock
for its duration (other writers queue for up to the 20 s busy timeout); keep_valid is the
mode for very large files there.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import sqlite3
import tempfile
import unicodedata
import zipfile
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from xml.etree.ElementTree import iterparse

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from bizdept.core.errors import DomainError

from .models import ImportIssue, ImportJob, ImportMode, ImportStatus

log = logging.getLogger(__name__)

BATCH_SIZE = 1000

# Every kind of import, by key: the dotted path of its ``ImportKind``.
KINDS: dict[str, str] = {
    "customers": "bizdept.customers.imports.CUSTOMERS",
    "products": "bizdept.sales.imports.PRODUCTS",  # SAL-1
}


def kind_of(key: str) -> ImportKind:
    if key not in KINDS:
        raise DomainError(_("Unknown kind of import."), field="kind")
    return import_string(KINDS[key])


# --- what a kind of import declares ---------------------------------------------------
def header_key(text) -> str:
    """A header cell as compared: NFKC (full-width letters), no spaces, no "*" marking a
    required column, case-insensitive."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    return "".join(ch for ch in text if not ch.isspace() and ch not in "*＊").casefold()


def in_languages(label) -> set[str]:
    """A (lazy) label as every language of the site says it."""
    texts = {str(label)}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            texts.add(str(label))
    return texts


@dataclass
class ImportColumn:
    """One column of a sheet: its key, its title (translated), other titles it is known by
    (Chinese ones, so files work whatever the user's language), whether a row needs it,
    the allowed values if it is a list, and how an export reads it from a record."""

    key: str
    label: Any
    aliases: tuple[str, ...] = ()
    required: bool = False
    help: Any = ""
    choices: list[tuple[str, Any]] | None = None
    read: Callable[[Any], Any] | None = None
    import_: bool = True  # False: an export-only column, ignored on import

    def titles(self) -> set[str]:
        return {header_key(t) for t in (*in_languages(self.label), *self.aliases, self.key)}

    def export_value(self, obj):
        if self.read is not None:
            return self.read(obj)
        value = getattr(obj, self.key, None)
        if self.choices and value:
            return dict(self.choices).get(value, value)
        return value


@dataclass
class ImportSheet:
    """One sheet: its title (and other titles), its columns, and the handler of a batch:
    ``check(rows, run)`` returns the good rows (as whatever ``write`` needs) after
    reporting the bad ones with ``run.reject``; ``write(good, run)`` writes them."""

    key: str
    label: Any
    aliases: tuple[str, ...]
    columns: list[ImportColumn]
    check: Callable[[list[Row], ImportRun], list]
    write: Callable[[list, ImportRun], int]

    def titles(self) -> set[str]:
        return {header_key(t) for t in (*in_languages(self.label), *self.aliases, self.key)}

    def column(self, key: str) -> ImportColumn:
        return next(c for c in self.columns if c.key == key)


@dataclass
class ImportKind:
    key: str
    label: Any
    sheets: list[ImportSheet]
    # Called once at the start of a run; may refuse (DomainError) or prepare run.context.
    start: Callable[[ImportRun], None] | None = None
    # Who may upload a file of this kind (the run checks every row's rules anyway).
    allowed: Callable[[Any], bool] | None = None
    # Lines of the template's Instructions sheet that only this kind needs.
    notes: tuple = ()

    def may_import(self, user) -> bool:
        return self.allowed is None or bool(self.allowed(user))

    def sheet(self, key: str) -> ImportSheet:
        return next(s for s in self.sheets if s.key == key)


@dataclass
class Row:
    """One data row: its number in the sheet (as Excel shows it) and its text by column key
    (every value read as text, stripped; a missing column reads as "")."""

    number: int
    values: dict[str, str]

    def get(self, key: str) -> str:
        return self.values.get(key, "")


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


# --- reading the file ----------------------------------------------------------------
class _SharedStrings:
    """The xlsx shared-string table on disk: a temporary file of UTF-8 texts and an array
    of offsets (8 bytes a string), read back by index. openpyxl keeps it as a list of str,
    which for 100,000 rows of distinct names, codes and phones is tens of megabytes."""

    def __init__(self, source):
        from openpyxl.cell.text import Text
        from openpyxl.xml.constants import SHEET_MAIN_NS

        self._file = tempfile.TemporaryFile()
        self._offsets = array("Q", [0])
        tag = f"{{{SHEET_MAIN_NS}}}si"
        root = None
        for event, node in iterparse(source, events=("start", "end")):
            if root is None:
                root = node
            if event == "end" and node.tag == tag:
                text = (Text.from_tree(node).content or "").replace("x005F_", "")
                self._file.write(text.encode("utf-8"))
                self._offsets.append(self._file.tell())
                root.clear()  # drop the parsed <si> elements: memory stays flat
        self._read = lru_cache(maxsize=2048)(self._read_uncached)

    def __len__(self):
        return len(self._offsets) - 1

    def _read_uncached(self, index: int) -> str:
        start, end = self._offsets[index], self._offsets[index + 1]
        self._file.seek(start)
        return self._file.read(end - start).decode("utf-8")

    def __getitem__(self, index: int) -> str:
        return self._read(index)

    def close(self):
        self._file.close()


def open_workbook(path):
    """The workbook in openpyxl's read-only, values-only mode, its shared strings on disk."""
    from openpyxl.reader.excel import SHARED_STRINGS, ExcelReader

    class LeanReader(ExcelReader):
        def read_strings(self):
            part = self.package.find(SHARED_STRINGS)
            if part is not None:
                with self.archive.open(part.PartName[1:]) as src:
                    self.shared_strings = _SharedStrings(src)

    reader = LeanReader(path, read_only=True, keep_vba=False, data_only=True, keep_links=False)
    reader.read()
    workbook = reader.wb
    strings = reader.shared_strings
    original_close = workbook.close

    def close():
        original_close()
        if isinstance(strings, _SharedStrings):
            strings.close()

    workbook.close = close
    return workbook


def check_upload(upload) -> None:
    """Refuse what cannot be an xlsx file, naming the field ``file``: nothing, an empty
    file, one over the size limit, anything that is not a zip holding a workbook."""
    limit = settings.BIZDEPT_IMPORT_MAX_BYTES
    if upload is None:
        raise DomainError(_("Choose an Excel file (.xlsx)."), field="file", code="required")
    if not upload.size:
        raise DomainError(_("The file is empty."), field="file", code="empty")
    if upload.size > limit:
        raise DomainError(_("The file is too large (%d MB at most).") % (limit // 1024 // 1024),
                          field="file", code="too_large")
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        names = set()
    upload.seek(0)
    if "xl/workbook.xml" not in names:
        raise DomainError(_("This is not an Excel workbook (.xlsx). Save it as .xlsx and try "
                            "again."), field="file", code="not_xlsx")


# --- keys seen earlier in the file -----------------------------------------------------
class SeenKeys:
    """Keys that must be unique inside one file, each as a 64-bit hash with the row that
    used it and a group (rows of one group may share a key: a customer and its contacts
    may share a phone). Kept in a temporary SQLite file, so memory stays flat."""

    def __init__(self):
        self._dir = tempfile.TemporaryDirectory(prefix="bizdept-import-")
        self._db = sqlite3.connect(os.path.join(self._dir.name, "seen.sqlite3"))
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE seen (h INTEGER PRIMARY KEY, sheet TEXT, row INTEGER, "
                         "grp TEXT)")

    @staticmethod
    def _hash(kind: str, key: str) -> int:
        digest = hashlib.blake2b(f"{kind}\0{key}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)

    def find(self, kind: str, keys) -> dict[str, tuple[str, int, str]]:
        """{key: (sheet, row, group)} for the keys already seen; one query per 500 keys."""
        keys = list(dict.fromkeys(k for k in keys if k))
        by_hash = {self._hash(kind, k): k for k in keys}
        found = {}
        hashes = list(by_hash)
        for start in range(0, len(hashes), 500):
            chunk = hashes[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for h, sheet, row, grp in self._db.execute(
                    f"SELECT h, sheet, row, grp FROM seen WHERE h IN ({marks})", chunk):
                found[by_hash[h]] = (sheet, row, grp)
        return found

    def add(self, kind: str, items) -> None:
        """``items``: (key, sheet, row, group); a key seen before keeps its first row."""
        self._db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?, ?, ?)",
                             [(self._hash(kind, k), sheet, row, grp)
                              for k, sheet, row, grp in items if k])

    def close(self):
        self._db.close()
        self._dir.cleanup()


# --- one run of a job ------------------------------------------------------------------
@dataclass
class ImportRun:
    """What a batch handler sees: the job, who imports, whether this pass writes, the
    columns found in the sheet, and where to report a wrong row."""

    job: ImportJob
    by: Any
    kind: ImportKind
    seen: SeenKeys
    writing: bool = False
    sheet: ImportSheet | None = None
    sheet_title: str = ""
    titles: dict[str, str] = field(default_factory=dict)  # column key -> title in the file
    context: dict = field(default_factory=dict)  # the kind's own (caches, settings)
    issues: list[ImportIssue] = field(default_factory=list)
    rejected_rows: set[int] = field(default_factory=set)
    blocked: bool = False  # a header problem: the sheet (and all_or_nothing) cannot go on

    def column_title(self, key: str) -> str:
        if key in self.titles:
            return self.titles[key]
        try:
            return str(self.sheet.column(key).label)
        except StopIteration:
            return key

    def reject(self, row: Row, column: str | None, message) -> None:
        """Report a wrong row; ``column`` is a column key (or None for the whole row)."""
        self.rejected_rows.add(row.number)
        self.issue(row.number, self.column_title(column) if column else "", message)

    def issue(self, row: int, column: str, message) -> None:
        self.issues.append(ImportIssue(job=self.job, sheet=self.sheet_title[:100], row=row,
                                       column=str(column)[:100], message=str(message)[:500]))

    def flush_issues(self) -> None:
        if self.issues:
            # in the order of the rows (a batch finds some problems in a second look)
            self.issues.sort(key=lambda issue: issue.row)
            ImportIssue.objects.bulk_create(self.issues, batch_size=500)
            self.issues = []


class ImportAborted(Exception):
    """The all-or-nothing writing pass met a row it cannot write: everything rolls back."""


def _match_sheets(workbook, kind: ImportKind, wanted: list[str]):
    """(sheet spec, worksheet) for each wanted sheet, in the kind's order; a missing one is
    reported. One wanted sheet and a workbook whose titles match nothing: its first sheet."""
    found = []
    missing = []
    titles = {header_key(name): name for name in workbook.sheetnames}
    for spec in kind.sheets:
        if spec.key not in wanted:
            continue
        name = next((titles[t] for t in spec.titles() if t in titles), None)
        if name is None and len(wanted) == 1 and not any(
                t in titles for s in kind.sheets for t in s.titles()):
            name = workbook.sheetnames[0]
        if name is None:
            missing.append(spec)
        else:
            found.append((spec, workbook[name]))
    return found, missing


def _read_header(run: ImportRun, header) -> dict[int, str] | None:
    """{cell index: column key} from the header row; unknown, repeated and missing
    required columns are reported. None when the sheet cannot be imported."""
    spec = run.sheet
    by_title = {}
    for column in spec.columns:
        for title in column.titles():
            by_title.setdefault(title, column)
    positions: dict[int, str] = {}
    fatal = False
    for index, cell in enumerate(header or ()):
        text = cell_text(cell)
        if not text:
            continue
        column = by_title.get(header_key(text))
        if column is None:
            run.issue(1, text, _("Unknown column; it was ignored."))
        elif not column.import_:
            continue  # an export-only column (grade, next revisit...): read-only
        elif column.key in positions.values():
            run.issue(1, text, _("This column appears twice."))
            fatal = True
        else:
            positions[index] = column.key
            run.titles[column.key] = text
    for column in spec.columns:
        if column.required and column.key not in positions.values():
            run.issue(1, str(column.label), _("This column is missing."))
            fatal = True
    return None if fatal else positions


def _batches(rows: Iterator, positions: dict[int, str], size: int) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for number, values in enumerate(rows, start=2):
        texts = {key: cell_text(values[i]) if i < len(values) else ""
                 for i, key in positions.items()}
        if not any(texts.values()):
            continue  # an empty row (Excel keeps many at the end)
        batch.append(Row(number, texts))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class _Totals:
    seen: int = 0
    created: int = 0
    rejected: int = 0
    done_rows: int = 0  # rows handled in this pass, for the progress


def progress_path(job: ImportJob) -> str | None:
    if not job.file:
        return None
    try:
        return job.file.path + ".progress.json"
    except NotImplementedError:  # storage without local paths: the row's progress only
        return None


def live_progress(job: ImportJob) -> dict:
    """Progress as the page shows it: the job's row, or while it runs the progress file
    (fresher during a transaction the page cannot see into)."""
    data = {"progress": job.progress, "rows_seen": job.rows_seen,
            "rows_created": job.rows_created, "rows_rejected": job.rows_rejected}
    path = progress_path(job)
    if job.status == ImportStatus.RUNNING and path:
        try:
            with open(path, encoding="utf-8") as fh:
                stored = json.load(fh)
            if stored.get("progress", -1) >= job.progress:
                data.update({k: int(stored[k]) for k in data if k in stored})
        except (OSError, ValueError, TypeError):
            pass
    return data


def _report_progress(job: ImportJob, totals: _Totals, percent: int) -> None:
    job.progress = max(0, min(100, percent))
    job.rows_seen, job.rows_created, job.rows_rejected = (totals.seen, totals.created,
                                                          totals.rejected)
    path = progress_path(job)
    if path:
        try:
            tmp = path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump({"progress": job.progress, "rows_seen": job.rows_seen,
                           "rows_created": job.rows_created,
                           "rows_rejected": job.rows_rejected}, fh)
            os.replace(tmp, path)
        except OSError:
            pass
    if not connection.in_atomic_block:  # committed at once: the page sees it
        ImportJob.objects.filter(pk=job.pk).update(
            progress=job.progress, rows_seen=job.rows_seen, rows_created=job.rows_created,
            rows_rejected=job.rows_rejected)


def _run_pass(run: ImportRun, totals: _Totals, *, writing: bool, per_batch_commit: bool,
              span: tuple[int, int], batch_size: int) -> None:
    """One pass over the chosen sheets: check every batch; write it when ``writing``."""
    job = run.job
    run.writing = writing
    workbook = open_workbook(job.file.path)
    try:
        wanted = [k for k in (job.sheets or "").split(",") if k] or [
            s.key for s in run.kind.sheets]
        sheets, missing = _match_sheets(workbook, run.kind, wanted)
        counting = not writing or job.mode == ImportMode.KEEP_VALID  # the first pass counts
        if counting:
            for spec in missing:  # reported; blocks only when no sheet is there at all
                run.sheet, run.sheet_title = spec, str(spec.label)
                run.issue(0, "", _("The file has no sheet named “%s”.") % spec.label)
                run.blocked = run.blocked or not sheets
            run.flush_issues()
            total = sum(max(0, (ws.max_row or 1) - 1) for _spec, ws in sheets)
            job.rows_total = total or None
        total = job.rows_total or 0
        for spec, worksheet in sheets:
            run.sheet, run.sheet_title, run.titles = spec, worksheet.title, {}
            rows = worksheet.iter_rows(values_only=True)
            header = next(rows, None)
            positions = _read_header(run, header)
            if not counting:
                run.issues = []  # the checking pass has reported the header already
            if positions is None:
                run.blocked = True
                run.flush_issues()
                continue
            for batch in _batches(rows, positions, batch_size):
                if per_batch_commit:
                    with transaction.atomic():
                        _one_batch(run, spec, batch, totals, writing, counting)
                else:
                    _one_batch(run, spec, batch, totals, writing, counting)
                low, high = span
                done = totals.done_rows
                percent = low + (high - low) * done // total if total else low
                _report_progress(job, totals, min(percent, high - 1))
            if counting:
                run.flush_issues()
    finally:
        workbook.close()


def _one_batch(run: ImportRun, spec: ImportSheet, batch: list[Row], totals: _Totals,
               writing: bool, counting: bool) -> None:
    run.rejected_rows = set()
    good = spec.check(batch, run)
    if writing and run.rejected_rows and run.job.mode == ImportMode.ALL_OR_NOTHING:
        # Right in the checking pass, wrong now: someone changed the data meanwhile.
        first = min(run.rejected_rows)
        message = next((i.message for i in run.issues if i.row == first), "")
        raise ImportAborted(_("Row %(row)d of sheet “%(sheet)s” can no longer be imported: "
                              "%(message)s Nothing was imported; import the file again.")
                            % {"row": first, "sheet": run.sheet_title, "message": message})
    if writing and good:
        totals.created += spec.write(good, run)
    if counting:
        totals.seen += len(batch)
        totals.rejected += len(run.rejected_rows)
        run.flush_issues()
    else:
        run.issues = []
    totals.done_rows += len(batch)


def run_import(job_id: int, *, batch_size: int = BATCH_SIZE) -> ImportJob | None:
    """Run a queued job to its end (the background task calls this). Never raises: a
    failure is recorded on the job, with a short message for its page."""
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.status != ImportStatus.QUEUED:
        return job  # gone, or already run by another worker
    job.status, job.started_at = ImportStatus.RUNNING, timezone.now()
    job.save(update_fields=["status", "started_at"])
    user = job.created_by
    language = getattr(user, "language", None) or settings.LANGUAGE_CODE
    totals = _Totals()
    seen = SeenKeys()
    with translation.override(language):
        run = ImportRun(job=job, by=user, kind=kind_of(job.kind), seen=seen)
        try:
            if run.kind.start is not None:
                run.kind.start(run)
            if job.mode == ImportMode.KEEP_VALID:
                _run_pass(run, totals, writing=True, per_batch_commit=True, span=(0, 100),
                          batch_size=batch_size)
            else:
                _run_pass(run, totals, writing=False, per_batch_commit=False, span=(0, 50),
                          batch_size=batch_size)
                if not totals.rejected and not run.blocked:
                    checked = (totals.seen, totals.rejected)
                    totals.done_rows = 0
                    with transaction.atomic():
                        _run_pass(run, totals, writing=True, per_batch_commit=False,
                                  span=(50, 100), batch_size=batch_size)
                    totals.seen, totals.rejected = checked
            _finish(job, totals, ImportStatus.DONE)
        except ImportAborted as exc:
            totals.created = 0
            _finish(job, totals, ImportStatus.FAILED, str(exc))
        except DomainError as exc:
            _failed(job, totals, str(exc.message))
        except Exception as exc:  # a bug or an unreadable file: recorded, not raised
            log.exception("import %s failed", job.pk)
            if isinstance(exc, (zipfile.BadZipFile, KeyError, ValueError, OSError)):
                message = _("The file could not be read as an Excel workbook.")
            else:
                message = _("The import stopped because of an error on our side.")
            _failed(job, totals, message)
        finally:
            seen.close()
    return job


def _failed(job: ImportJob, totals: _Totals, message: str) -> None:
    if job.mode == ImportMode.ALL_OR_NOTHING:
        totals.created = 0  # whatever the writing pass wrote was rolled back
    _finish(job, totals, ImportStatus.FAILED, message)


def _finish(job: ImportJob, totals: _Totals, status: str, failure: str = "") -> None:
    job.status, job.finished_at, job.failure = status, timezone.now(), failure[:500]
    job.progress = 100
    job.rows_seen, job.rows_created, job.rows_rejected = (totals.seen, totals.created,
                                                          totals.rejected)
    job.save(update_fields=["status", "finished_at", "failure", "progress", "rows_seen",
                            "rows_created", "rows_rejected", "rows_total"])
    path = progress_path(job)
    if path:
        try:
            os.remove(path)
        except OSError:
            pass


# --- starting a job ------------------------------------------------------------------
def import_job_create(*, by, kind: str, upload, mode: str, sheets: list[str] | None = None
                      ) -> ImportJob:
    """Keep the uploaded file and queue its import; the worker runs it (``run_import``).

    The file is checked enough here to refuse what is not an xlsx (400 naming ``file``);
    the rows are checked by the job, which reports them row by row.
    """
    from .tasks import import_run

    spec = kind_of(kind)
    if mode not in ImportMode.values:
        raise DomainError(_("Choose how to import."), field="mode")
    keys = [s.key for s in spec.sheets]
    sheets = [s for s in (sheets or keys) if s]
    if not sheets or any(s not in keys for s in sheets):
        raise DomainError(_("Choose the sheets to import."), field="sheets")
    if not spec.may_import(by):
        raise PermissionDenied
    check_upload(upload)
    with transaction.atomic():
        job = ImportJob(kind=kind, mode=mode, sheets=",".join(sheets), created_by=by,
                        filename=os.path.basename(getattr(upload, "name", "") or "")[:200])
        job.file.save("upload.xlsx", upload, save=False)
        job.save()
        transaction.on_commit(lambda: import_run.enqueue(job.pk))
    return job


def job_get(*, user, pk) -> ImportJob:
    """One job of the user's (or any, for an administrator); anything else is a 404."""
    from django.http import Http404

    job = ImportJob.objects.visible_to(user).filter(pk=pk).first()
    if job is None:
        raise Http404
    return job


def job_list(*, user):
    return ImportJob.objects.visible_to(user).filter(created_by=user)


def prune_jobs(*, older_than_days: int) -> int:
    """Delete finished jobs (their uploaded files and reports) older than the given days."""
    cutoff = timezone.now() - datetime.timedelta(days=older_than_days)
    old = ImportJob.objects.filter(finished_at__lt=cutoff,
                                   status__in=[ImportStatus.DONE, ImportStatus.FAILED])
    count = 0
    for job in old.iterator():
        if job.file:
            job.file.delete(save=False)
        job.delete()
        count += 1
    return count


#: A running job that shows no sign of life for this long lost its worker (killed,
#: machine restarted): a batch of 1,000 rows takes well under a minute.
STALE_AFTER = datetime.timedelta(minutes=30)


def jobs_fail_stale(*, now: datetime.datetime | None = None) -> int:
    """Mark as failed the running jobs whose worker died: no progress for STALE_AFTER
    (the progress file is touched every batch, even inside the all-or-nothing writing
    transaction). What a keep-valid job had committed stays; an all-or-nothing job
    wrote nothing. Run from cron with ``prune_imports``."""
    now = now or timezone.now()
    failed = 0
    for job in ImportJob.objects.filter(status=ImportStatus.RUNNING,
                                        started_at__lt=now - STALE_AFTER):
        path = progress_path(job)
        try:
            alive = datetime.datetime.fromtimestamp(os.path.getmtime(path), tz=datetime.UTC)
        except (OSError, TypeError):
            alive = job.started_at
        if alive < now - STALE_AFTER:
            ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING).update(
                status=ImportStatus.FAILED, finished_at=now,
                failure=_("The import stopped: its background worker was interrupted. Rows "
                          "already reported as imported are kept; import the rest again."))
            failed += 1
    return failed


# --- files for the user: template, export, error report --------------------------------
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def template_response(kind: ImportKind, *, filename: str):
    """The template: one sheet per kind of sheet with its bold headers (in the user's
    language), a dropdown on every column with a list of values, and an instructions sheet
    saying what each column takes."""
    import tempfile as _tempfile

    from django.http import FileResponse
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for spec in kind.sheets:
        ws = workbook.create_sheet(str(spec.label)[:31])
        columns = [c for c in spec.columns if c.import_]
        for index, column in enumerate(columns, start=1):
            cell = ws.cell(row=1, column=index, value=str(column.label))
            cell.font = bold
            letter = get_column_letter(index)
            ws.column_dimensions[letter].width = max(12, len(str(column.label)) + 4)
            if column.choices:
                labels = ",".join(str(label).replace(",", " ") for _v, label in column.choices)
                rule = DataValidation(type="list", formula1=f'"{labels}"', allow_blank=True)
                rule.add(f"{letter}2:{letter}100000")
                ws.add_data_validation(rule)
        ws.freeze_panes = "A2"
    notes = workbook.create_sheet(_("Instructions")[:31])
    for index, title in enumerate((_("Sheet"), _("Column"), _("Required"), _("Allowed values"),
                                   _("Notes")), start=1):
        notes.cell(row=1, column=index, value=title).font = bold
    line = 2
    for spec in kind.sheets:
        for column in spec.columns:
            if not column.import_:
                continue
            allowed = " / ".join(str(label) for _v, label in column.choices or ())
            for index, value in enumerate((str(spec.label), str(column.label),
                                           _("yes") if column.required else "", allowed,
                                           str(column.help)), start=1):
                notes.cell(row=line, column=index, value=value)
            line += 1
    line += 1
    for text in (_("Row 1 of each sheet holds the column titles, in Chinese or English; "
                   "columns may come in any order."),
                 _("Leave out the sheets you do not need, and choose them when you upload."),
                 *kind.notes):
        notes.cell(row=line, column=1, value=str(text))
        line += 1
    for letter, width in zip("ABCDE", (14, 28, 10, 40, 60), strict=True):
        notes.column_dimensions[letter].width = width
    buffer = _tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    workbook.save(buffer)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=f"{filename}.xlsx",
                        content_type=XLSX)


def export_response(sheet: ImportSheet, rows, *, filename: str):
    """Records as the sheet's columns (the template's, then the read-only ones), so an
    export can be imported again. Streamed: openpyxl write-only."""
    from bizdept.core.excel import xlsx_response

    columns = sheet.columns
    return xlsx_response(filename=filename, sheet=str(sheet.label),
                         headers=[str(c.label) for c in columns],
                         rows=([c.export_value(obj) for c in columns] for obj in rows))


def issues_response(job: ImportJob):
    """The error report: sheet, row, column, message; one line per issue."""
    from bizdept.core.excel import xlsx_response

    return xlsx_response(
        filename=f"import-{job.pk}-errors", sheet=_("Errors"),
        headers=[_("Sheet"), _("Row"), _("Column"), _("Message")],
        rows=(job.issues.order_by("pk").values_list("sheet", "row", "column", "message")
              .iterator(chunk_size=2000)))
