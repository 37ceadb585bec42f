"""What both imports share: the columns, the report, reading a file in chunks, cells."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import IO

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext

from core.csv import CsvFileError, csv_read

ADVOCATE_COLUMNS = (
    "email",
    "first_name",
    "last_name",
    "company",
    "title",
    "industry",
    "joined_at",
    "owner_rep_email",
)
REFERRAL_COLUMNS = (
    "external_id",
    "advocate_email",
    "referred_name",
    "referred_email",
    "referred_company",
    "method",
    "created_at",
    "stage",
    "stage_changed_at",
    "deal_amount",
)
# Rows per chunk: one transaction and a handful of queries each. Large enough that the
# per-chunk queries are noise next to the rows, small enough that a chunk's rows, its
# lookups and its locks stay small.
CHUNK_ROWS = 2000

CsvSource = UploadedFile | IO[str] | str


class RowError(Exception):
    pass


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    flagged: list[tuple[int, str]] = field(default_factory=list)  # imported, but a duplicate
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason): not imported

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "flagged": [{"line": n, "reason": r} for n, r in self.flagged],
            "errors": [{"line": n, "reason": r} for n, r in self.errors],
        }

    def add(self, chunk: ImportReport) -> None:
        """Count a committed chunk in; its messages in line order."""
        self.created += chunk.created
        self.updated += chunk.updated
        self.unchanged += chunk.unchanged
        self.flagged.extend(sorted(chunk.flagged))
        self.errors.extend(sorted(chunk.errors))


# Called after each chunk with the report so far and the number of data rows read so
# far, so the last call has every row (an empty file: one call with 0). The command line
# prints it; the console's import job (referrals.services.import_jobs) shows a bar.
Progress = Callable[[ImportReport, int], None]

Row = tuple[int, dict[str, str]]


def chunks(
    source: CsvSource, columns: tuple[str, ...], max_rows: int | None, size: int
) -> Iterator[list[Row]]:
    """The file's data rows as (line, cells), ``size`` at a time; CsvFileError when the
    file cannot be read.

    A capped source (an upload) is read whole before the first chunk is handed on, so a
    file over the cap or unreadable half-way imports nothing. The command line streams:
    the rows before an unreadable line are handed on, then the error is raised.
    """
    rows: Iterator[Row] = (
        (row.line, row.cells) for row in csv_read(source, columns=columns, max_rows=max_rows)
    )
    if max_rows is not None:
        rows = iter(list(rows))
    chunk: list[Row] = []
    try:
        for row in rows:
            chunk.append(row)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    except CsvFileError:
        if chunk:
            yield chunk
        raise
    if chunk:
        yield chunk


def chunks_import(
    source: CsvSource,
    columns: tuple[str, ...],
    import_chunk: Callable[[list[Row]], ImportReport],
    *,
    max_rows: int | None,
    chunk_rows: int | None,
    progress: Progress | None,
) -> ImportReport:
    """Both imports' loop: ``import_chunk`` (one transaction) on each chunk of the file,
    its report counted in, ``progress`` told after each. A file that cannot be read is
    one error (the chunks before it are kept, see ``chunks``); a file without rows too."""
    report = ImportReport()
    count = 0
    try:
        for chunk in chunks(source, columns, max_rows, chunk_rows or CHUNK_ROWS):
            count += len(chunk)
            report.add(import_chunk(chunk))
            if progress is not None:
                progress(report, count)
    except CsvFileError as error:
        report.errors.append((error.line, str(error)))
        return report
    if not count:
        report.errors.append((0, gettext("The file has no rows.")))
        if progress is not None:
            progress(report, 0)
    return report


def moment(value: str, name: str, *, default: datetime | None = None) -> datetime:
    if not value:
        if default is None:
            raise RowError(gettext("%(column)s is required.") % {"column": name})
        return default
    bad = RowError(
        gettext("%(column)s “%(value)s” is not a date (YYYY-MM-DD or ISO 8601).")
        % {"column": name, "value": value}
    )
    try:
        # Both raise ValueError for a well-formed but impossible date (2026-13-01).
        parsed = parse_datetime(value)
        day = None if parsed else parse_date(value)
    except ValueError:
        raise bad from None
    if parsed is None:
        if day is None:
            raise bad
        parsed = datetime.combine(day, time.min)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def email(value: str, name: str) -> str:
    value = value.lower()
    try:
        validate_email(value)
    except ValidationError:
        raise RowError(
            gettext("%(column)s “%(value)s” is not a valid email address.")
            % {"column": name, "value": value or gettext("(empty)")}
        ) from None
    return value
