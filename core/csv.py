"""CSV files that are safe to open in a spreadsheet, streamed row by row.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read
by Excel, LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)``, DDE
payloads): an advocate could put one in their title and run it on a manager's machine
(OWASP "CSV injection"). Such cells get a leading apostrophe, which spreadsheets show
as text and do not evaluate. Every export in the console writes through here.

``stream_csv`` yields one encoded line at a time from any iterator, so an export of
100,000 rows never holds them all in memory (pass ``queryset.iterator(chunk_size=...)``
or a generator).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import StreamingHttpResponse
from django.utils import timezone

CSV_MAX_BYTES = 5 * 1024 * 1024
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """``value`` as CSV cell text, with a leading apostrophe if it could run as a formula.

    None is empty, booleans are ``yes``/``no``, datetimes are ISO 8601 in the current
    time zone. Numbers are written as they are (a negative number is data, not a
    formula); only text is neutralised.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write returns the line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The CSV text, one line per item: the header, then each row, cells made safe."""
    writer = csv.writer(_Echo())
    yield writer.writerow([csv_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([csv_cell(cell) for cell in row])


def stream_csv(
    header: Iterable[Any], rows_iter: Iterable[Iterable[Any]], filename: str
) -> StreamingHttpResponse:
    """A streamed ``text/csv`` download named ``filename``.

    Starts with a UTF-8 byte order mark so Excel reads accents correctly. ``rows_iter``
    is consumed lazily while the response is sent: keep it a generator or an
    ``.iterator()`` over a queryset.
    """
    safe_name = "".join(ch for ch in filename if ch.isalnum() or ch in "-_.") or "export.csv"

    def body() -> Iterator[str]:
        yield "\ufeff"
        yield from csv_lines(header, rows_iter)

    response = StreamingHttpResponse(body(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    response["Cache-Control"] = "no-store"
    return response


def csv_upload_text(file: UploadedFile) -> str:
    """The text of an uploaded CSV file (UTF-8, BOM dropped); ValueError says what is wrong.

    Shared by every CSV upload (invitations here, campaign contacts and prospects).
    """
    data = file.read(CSV_MAX_BYTES + 1)
    if len(data) > CSV_MAX_BYTES:
        raise ValueError("The file is larger than 5 MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("The file is not UTF-8 text. Export it as “CSV UTF-8”.") from None
    if "\x00" in text:
        # Binary data (a spreadsheet saved as .csv, ...); PostgreSQL refuses NUL in text.
        raise ValueError("The file is not a CSV text file. Export it as “CSV UTF-8”.")
    return text
