from __future__ import annotations

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from referrals.kpis import referral_kpis


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"“{value}” is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = "Print the referral KPIs for referrals created in [start, end) UTC, as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", required=True, type=_day, help="YYYY-MM-DD, inclusive")
        parser.add_argument("--end", required=True, type=_day, help="YYYY-MM-DD, exclusive")

    def handle(self, *args: object, start: date, end: date, **options: object) -> None:
        if start >= end:
            raise CommandError("--start must be before --end.")
        self.stdout.write(json.dumps(referral_kpis(start=start, end=end), indent=2))
