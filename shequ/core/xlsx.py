"""Excel reports: titled sheets with bold, frozen headers and per-column number formats."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COUNT = "0"
MINUTES = "0.0"
PERCENT = "0.0%"


def write_sheet(
    sheet: Worksheet,
    title: str,
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    formats: Sequence[str | None] = (),
    first_width: int = 24,
) -> None:
    """A titled sheet: the title in row 1, bold headers in row 2 (frozen), then the rows, each
    column with its number format (None leaves the cell as it is; None values stay empty)."""
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([str(h) for h in headers])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for values in rows:
        sheet.append(["" if v is None else v for v in values])
        for cell, number_format in zip(sheet[sheet.max_row], formats, strict=False):
            if number_format and isinstance(cell.value, int | float):
                cell.number_format = number_format
    sheet.freeze_panes = "B3"
    sheet.column_dimensions["A"].width = first_width


def new_workbook() -> Workbook:
    """A workbook without openpyxl's default sheet: add sheets with `book.create_sheet(name)`."""
    book = Workbook()
    if book.active is not None:
        book.remove(book.active)
    return book


def to_bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download(data: bytes, filename: str) -> HttpResponse:
    """An .xlsx file as an attachment (`filename` is ASCII, e.g. ``queue-stats-310101020.xlsx``)."""
    response = HttpResponse(data, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
