from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from campaigns.services.segments import REBUILD_BATCH, advocate_counts_rebuild


class Command(BaseCommand):
    help = (
        "Recount every advocate's referral_count and reference_count (what the segment "
        "filters read) from their referrals and reference calls, e.g. after a manual SQL fix."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch", type=int, default=REBUILD_BATCH, help="advocates per transaction"
        )

    def handle(self, *args: object, batch: int, **options: object) -> None:
        changed = advocate_counts_rebuild(batch=max(batch, 1))
        self.stdout.write(
            f"Recounted: referral_count changed for {changed['referral_count']} advocate(s), "
            f"reference_count for {changed['reference_count']}."
        )
