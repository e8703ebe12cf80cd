"""The generic Excel import machinery (CUS-12): the lean reader, the in-file key store,
upload checks, live progress, pruning."""

import datetime
import io
import json
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from openpyxl import Workbook

from bizdept.core.errors import DomainError
from bizdept.imports import services as imports
from bizdept.imports.models import ImportJob


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


def workbook_bytes(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_the_reader_reads_shared_strings_from_disk(tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(workbook_bytes([["名称", "电话"], ["甲公司", 13800138000],
                                     ["乙公司", None], ["甲公司", 1.0]]))
    workbook = imports.open_workbook(path)
    try:
        rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()
    assert rows == [("名称", "电话"), ("甲公司", 13800138000), ("乙公司", None), ("甲公司", 1)]
    assert [imports.cell_text(v) for v in rows[3]] == ["甲公司", "1"]


def test_seen_keys_remember_the_first_row_and_its_group():
    seen = imports.SeenKeys()
    try:
        seen.add("phone", [("+8613800138000", "客户", 2, "row2")])
        seen.add("phone", [("+8613800138000", "客户", 9, "row9")])  # first one kept
        assert seen.find("phone", ["+8613800138000", "+8613900139000"]) == {
            "+8613800138000": ("客户", 2, "row2")}
        assert seen.find("name", ["+8613800138000"]) == {}  # kinds do not mix
    finally:
        seen.close()


def test_header_titles_compare_loosely():
    assert imports.header_key(" 名称* ") == imports.header_key("名称")
    assert imports.header_key("ＮＡＭＥ") == imports.header_key("name")


@pytest.mark.parametrize("content, code", [
    (b"", "empty"), (b"PK\x03\x04 broken zip", "not_xlsx"), (b"a,b\n1,2\n", "not_xlsx")])
def test_uploads_that_are_not_xlsx_are_refused_naming_the_file(content, code):
    with pytest.raises(DomainError) as exc:
        imports.check_upload(SimpleUploadedFile("x.xlsx", content))
    assert exc.value.code == code and list(exc.value.errors) == ["file"]


def test_a_workbook_passes_the_upload_check():
    imports.check_upload(SimpleUploadedFile("x.xlsx", workbook_bytes([["a"]])))


def test_live_progress_reads_the_progress_file_while_the_job_runs(dept):
    job = ImportJob.objects.create(kind="customers", created_by=dept.sales.user,
                                   status="running", progress=10)
    job.file.save("upload.xlsx", SimpleUploadedFile("x.xlsx", b"x"))
    with open(imports.progress_path(job), "w") as fh:
        json.dump({"progress": 70, "rows_seen": 700, "rows_created": 0,
                   "rows_rejected": 3}, fh)
    assert imports.live_progress(job)["progress"] == 70
    job.status = "done"
    assert imports.live_progress(job)["progress"] == 10


def test_prune_imports_deletes_old_finished_jobs_and_their_files(dept):
    old = ImportJob.objects.create(kind="customers", created_by=dept.sales.user, status="done",
                                   finished_at=timezone.now() - datetime.timedelta(days=100))
    old.file.save("upload.xlsx", SimpleUploadedFile("x.xlsx", b"x"))
    path = old.file.path
    recent = ImportJob.objects.create(kind="customers", created_by=dept.sales.user,
                                      status="done", finished_at=timezone.now())
    call_command("prune_imports", "--days", "90")
    assert list(ImportJob.objects.all()) == [recent]
    assert not os.path.exists(path)


def test_an_unknown_or_unreadable_job_fails_with_a_message(dept):
    job = ImportJob.objects.create(kind="customers", created_by=dept.sales.user)
    job.file.save("upload.xlsx", SimpleUploadedFile("x.xlsx", b"not a zip"))
    imports.run_import(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and job.failure
    assert imports.run_import(job.pk).status == "failed"  # not run twice


def test_a_job_whose_worker_died_is_marked_failed_but_a_live_one_is_not(dept, tmp_path):
    import datetime as dt

    from django.utils import timezone

    now = timezone.now()
    dead = ImportJob.objects.create(kind="customers", created_by=dept.sales.user,
                                    status="running", started_at=now - dt.timedelta(hours=2))
    alive = ImportJob.objects.create(kind="customers", created_by=dept.sales.user,
                                     status="running", started_at=now - dt.timedelta(minutes=5))
    assert imports.jobs_fail_stale(now=now) == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == "failed" and dead.failure and dead.finished_at == now
    assert alive.status == "running"
