from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db import reset_queries

from referrals.services.imports import ADVOCATE_COLUMNS, ImportReport, advocates_import


class Command(BaseCommand):
    help = (
        "Import advocates from a CSV (header: " + ",".join(ADVOCATE_COLUMNS) + "). "
        "Creates active advocates without emailing them, unless --invite."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--invite", action="store_true", help="Email each an invitation to join instead."
        )

    def handle(self, *args: object, path: Path, invite: bool, **options: object) -> None:
        progress = ProgressLine(self.stderr)
        with csv_file(path) as file:
            report = advocates_import(source=file, invite=invite, max_rows=None, progress=progress)
        progress.end()
        _print(self, report, verb="invited" if invite else "created")


class ProgressLine:
    """Rows done, rows/s and bad rows on stderr while a file imports.

    On a terminal one line is rewritten in place (``\\r``) after every chunk; otherwise
    (a log, a pipe) a plain line at most every ``interval`` seconds.
    """

    def __init__(self, stream: OutputWrapper, *, interval: float = 2.0) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.interval = interval
        self.started = time.monotonic()
        self.printed_at: float | None = None
        self.last = ""

    def __call__(self, report: ImportReport, rows: int) -> None:
        # With DEBUG on, Django keeps every query's SQL until the next request, and a
        # command has none: a chunk's bulk inserts would pile up for the whole file.
        reset_queries()
        now = time.monotonic()
        elapsed = max(now - self.started, 1e-6)
        self.last = f"{rows:,} rows, {rows / elapsed:,.0f} rows/s, {len(report.errors):,} bad"
        if self.tty:
            self.stream.write("\r" + self.last, style_func=str, ending="")
        elif self.printed_at is None or now - self.printed_at >= self.interval:
            self.stream.write(self.last, style_func=str)
        else:
            return
        self.printed_at = now

    def end(self) -> None:
        """Finish the line on a terminal (the summary follows on the next)."""
        if self.tty and self.last:
            self.stream.write("", style_func=str)


@contextmanager
def csv_file(path: Path) -> Iterator[IO[str]]:
    """The file opened as UTF-8 text and read while it is imported: no row cap."""
    try:
        file = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise CommandError(f"No such file: {path}") from None
    with file:
        try:
            yield file
        except UnicodeDecodeError:
            raise CommandError(f"{path} is not UTF-8 text. Export it as “CSV UTF-8”.") from None


def _print(command: BaseCommand, report: ImportReport, *, verb: str) -> None:
    for line, reason in report.errors:
        command.stderr.write(f"line {line}: {reason} (not imported)")
    for line, reason in report.flagged:
        command.stdout.write(f"line {line}: flagged: {reason}")
    command.stdout.write(json.dumps(report.as_dict() | {"verb": verb}))
    if report.errors:
        command.stderr.write(f"{len(report.errors)} bad row(s) were not imported.")
