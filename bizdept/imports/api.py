"""Excel import API (CUS-12): upload a file for a kind of import (``POST
/customers/import``) and follow its job (``GET /imports/{id}``, ``GET
/imports/{id}/issues``). A job is its creator's (and administrators'); anyone else's
answers 404. A file that is not an xlsx, empty or too large is a 400 naming ``file``.
"""

import datetime
from typing import Literal

from ninja import File, Form, Path, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from bizdept.core.api import ERRORS, Paginated

from . import services as imports
from .models import ImportMode

router = Router(tags=["imports"])

JobId = Path(..., ge=1, le=2**62)


class ImportJobOut(Schema):
    id: int
    kind: str
    status: Literal["queued", "running", "done", "failed"]
    mode: Literal["all_or_nothing", "keep_valid"]
    sheets: list[str]
    filename: str
    progress: int
    rows_total: int | None
    rows_seen: int
    rows_created: int
    rows_rejected: int
    failure: str
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None


class ImportIssueOut(Schema):
    sheet: str
    row: int
    column: str
    message: str


def job_out(job) -> dict:
    live = imports.live_progress(job)
    return {
        "id": job.pk, "kind": job.kind, "status": job.status, "mode": job.mode,
        "sheets": [s for s in job.sheets.split(",") if s], "filename": job.filename,
        "rows_total": job.rows_total, "failure": job.failure, "created_at": job.created_at,
        "started_at": job.started_at, "finished_at": job.finished_at, **live,
    }


ModeIn = Literal[tuple(ImportMode.values)]
CustomerSheetsIn = Literal["both", "customers", "contacts"]


@router.post("/customers/import", response={202: ImportJobOut, **ERRORS}, tags=["customers"],
             summary="Import customers and contacts from an Excel file")
def customer_import(request, file: File[UploadedFile] = None, mode: Form[ModeIn] = "keep_valid",
                    sheets: Form[CustomerSheetsIn] = "both"):
    """Upload an xlsx (the template of the customers page: sheets Customers and Contacts,
    headers in Chinese or English). The import runs in the background; follow it at
    ``GET /imports/{id}``; its wrong rows are at ``GET /imports/{id}/issues``.
    ``keep_valid`` imports the right rows; ``all_or_nothing`` imports nothing unless every
    row is right. No file, an empty one, one over 50 MB or one that is not an xlsx: 400
    naming ``file``."""
    chosen = ["customers", "contacts"] if sheets == "both" else [sheets]
    job = imports.import_job_create(by=request.user, kind="customers", upload=file, mode=mode,
                                    sheets=chosen)
    return Status(202, job_out(job))


@router.get("/imports/{job_id}", response={200: ImportJobOut, **ERRORS},
            summary="One import: status, progress and counts")
def import_detail(request, job_id: int = JobId):
    return job_out(imports.job_get(user=request.user, pk=job_id))


@router.get("/imports/{job_id}/issues", response={200: list[ImportIssueOut], **ERRORS},
            summary="The rows an import did not take, and why")
@paginate(Paginated)
def import_issues(request, job_id: int = JobId):
    job = imports.job_get(user=request.user, pk=job_id)
    return job.issues.order_by("pk").values("sheet", "row", "column", "message")
