"""Every CSV in and out of Vouch: one reader for imports, one writer for exports.

**Reading.** ``csv_read`` streams the rows of a file whose header names the columns an
import needs; every import (web uploads and management commands) goes through it, so
they share the same checks and the same messages: UTF-8 only (a BOM is dropped), no
NUL bytes, the header's missing columns named, malformed CSV reported with its line,
and, for web uploads, one row cap (``CSV_UPLOAD_MAX_ROWS``) and one size cap
(``CSV_UPLOAD_MAX_BYTES``). The command line passes ``max_rows=None`` and streams a
file of any size. A file-level problem raises ``CsvFileError``; a bad *row* is the
importer's to judge.

**Writing.** Files that are safe to open in a spreadsheet, streamed row by row.

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
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.i18n import number

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


def upload_limits_text() -> str:
    """What every CSV upload form says about its limits ("UTF-8, up to 10 MB and 10,000 rows")."""
    megabytes = settings.CSV_UPLOAD_MAX_BYTES // (1024 * 1024)
    return _("UTF-8, up to %(megabytes)s MB and %(rows)s rows") % {
        "megabytes": megabytes,
        "rows": number(settings.CSV_UPLOAD_MAX_ROWS),
    }


class CsvFileError(ValueError):
    """The file as a whole cannot be imported; ``line`` says where (0: the whole file)."""

    def __init__(self, message: str, *, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class CsvRow:
    """One data row: its line in the file (as an editor shows it) and its cells, stripped,
    keyed by the lower-cased header names."""

    line: int
    cells: dict[str, str]


def csv_upload_text(file: UploadedFile, *, max_bytes: int | None = None) -> str:
    """The text of an uploaded CSV file (UTF-8, BOM dropped); CsvFileError says what is wrong."""
    limit = settings.CSV_UPLOAD_MAX_BYTES if max_bytes is None else max_bytes
    data = file.read(limit + 1)
    if len(data) > limit:
        raise CsvFileError(
            _("The file is larger than %(megabytes)s MB.") % {"megabytes": limit // (1024 * 1024)}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvFileError(_("The file is not UTF-8 text. Export it as “CSV UTF-8”.")) from None
    if "\x00" in text:
        raise CsvFileError(_("The file is not a CSV text file. Export it as “CSV UTF-8”."))
    return text


def csv_read(
    source: UploadedFile | IO[str] | str,
    *,
    columns: Sequence[str],
    max_rows: int | None = -1,
) -> Iterator[CsvRow]:
    """Stream the data rows of ``source`` (an upload, an open text file, or its text).

    The header must name every one of ``columns`` (case and surrounding spaces ignored;
    other columns are kept too). ``max_rows`` defaults to ``CSV_UPLOAD_MAX_ROWS`` for
    uploads and text; ``None`` means no cap (the command line, which streams). Raises
    ``CsvFileError`` before the first row for a header problem, and at the row where
    the file turns out to be unreadable or too long: an importer that must write all
    or nothing collects the rows first.
    """
    if max_rows == -1:
        max_rows = (
            None
            if hasattr(source, "readline") and not isinstance(source, UploadedFile)
            else settings.CSV_UPLOAD_MAX_ROWS
        )
    if isinstance(source, UploadedFile):
        source = csv_upload_text(source)
    stream: IO[str] = io.StringIO(source, newline="") if isinstance(source, str) else source
    reader = csv.DictReader(_checked_lines(stream))
    try:
        header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    except csv.Error as error:
        raise CsvFileError(
            _("The file is not valid CSV: %(error)s.") % {"error": error}, line=1
        ) from None
    missing = [column for column in columns if column not in header]
    if missing:
        raise CsvFileError(
            _("Missing column(s): %(missing)s. Expected: %(expected)s.")
            % {"missing": ", ".join(missing), "expected": ",".join(columns)},
            line=1,
        )
    reader.fieldnames = header
    count = 0
    try:
        for raw in reader:
            count += 1
            if max_rows is not None and count > max_rows:
                raise CsvFileError(
                    _("The file has more than %(rows)s rows: split it.")
                    % {"rows": number(max_rows)}
                )
            # line_num counts physical lines, so a quoted line break does not shift the
            # numbers the user sees in their editor.
            yield CsvRow(
                line=reader.line_num,
                cells={key: (value or "").strip() for key, value in raw.items() if key},
            )
    except csv.Error as error:
        raise CsvFileError(
            _("The file is not valid CSV: %(error)s.") % {"error": error}, line=reader.line_num
        ) from None


def _checked_lines(stream: IO[str]) -> Iterator[str]:
    first = True
    for line in stream:
        if first:
            line = line.removeprefix("\ufeff")
            first = False
        if "\x00" in line:
            # Binary data (a spreadsheet saved as .csv, ...); PostgreSQL refuses NUL in text.
            raise CsvFileError(_("The file is not a CSV text file. Export it as “CSV UTF-8”."))
        yield line
