from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from referrals.imports import REFERRAL_COLUMNS, referrals_import
from referrals.management.commands.import_advocates import _print, _read


class Command(BaseCommand):
    help = (
        "Import referrals from a CSV (header: " + ",".join(REFERRAL_COLUMNS) + "). "
        "Idempotent by external_id: importing again updates stages."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args: object, path: Path, **options: object) -> None:
        _print(self, referrals_import(text=_read(path)), verb="imported")
