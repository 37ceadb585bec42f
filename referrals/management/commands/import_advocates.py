from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from referrals.imports import ADVOCATE_COLUMNS, ImportReport, advocates_import


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
        text = _read(path)
        report = advocates_import(text=text, invite=invite)
        _print(self, report, verb="invited" if invite else "created")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CommandError(f"No such file: {path}") from None
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
