from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from django.core.management.base import BaseCommand, CommandError, CommandParser

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
        with csv_file(path) as file:
            report = advocates_import(source=file, invite=invite, max_rows=None)
        _print(self, report, verb="invited" if invite else "created")


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
