from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from referrals.management.commands.import_advocates import ProgressLine, _print, csv_file
from referrals.services.imports import REFERRAL_COLUMNS, referrals_import


class Command(BaseCommand):
    help = (
        "Import referrals from a CSV (header: " + ",".join(REFERRAL_COLUMNS) + "). "
        "Idempotent by external_id: importing again updates stages."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args: object, path: Path, **options: object) -> None:
        progress = ProgressLine(self.stderr)
        with csv_file(path) as file:
            report = referrals_import(source=file, max_rows=None, progress=progress)
        progress.end()
        _print(self, report, verb="imported")
