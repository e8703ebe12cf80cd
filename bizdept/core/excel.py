"""Excel I/O shared by every list export (openpyxl write-only: memory stays flat)."""

import datetime
import tempfile
from collections.abc import Iterable, Sequence

from django.http import FileResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font


def _cell_value(value):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, (int, float, datetime.date)):
        return value
    return str(value)


def xlsx_response(*, filename: str, sheet: str, headers: Sequence[str],
                  rows: Iterable[Sequence]) -> FileResponse:
    """One sheet with a bold header row, written row by row to a spooled temp file."""
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(title=str(sheet)[:31])
    header_cells = []
    for title in headers:
        cell = WriteOnlyCell(ws, value=str(title))
        cell.font = Font(bold=True)
        header_cells.append(cell)
    ws.append(header_cells)
    for row in rows:
        ws.append([_cell_value(v) for v in row])
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    workbook.save(buffer)
    buffer.seek(0)
    return FileResponse(
        buffer, as_attachment=True, filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
