"""Peak memory of a streamed CSV export at 10,000 vs 100,000 rows.

    .venv/bin/python bench/export_memory.py                 # SQLite files in /tmp
    .venv/bin/python bench/export_memory.py 10000 100000 300000

For each size, one process seeds a database with that many campaign messages, then a
fresh process streams the campaign's results CSV (console.exports, the code behind
/console/exports/campaigns/<pk>.csv) and reports its peak RSS before and after. A
third process loads the same rows as model instances, as a naive export would, for
contrast. Streaming should cost the same few MB at every size; the naive load grows
with the rows.

Set BENCH_DATABASE_URL to run against an existing PostgreSQL database instead (it is
migrated, and its "Export bench" campaign is replaced for each size).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _database_url(rows: int) -> str:
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]  # reseeded for each size
    return f"sqlite:////tmp/vouch_export_bench_{rows}.sqlite3"


def _django(rows: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DATABASE_URL"] = _database_url(rows)
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _peak_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(rows: int) -> None:
    _django(rows)
    from django.core.management import call_command

    from campaigns.models import Campaign, CampaignMessage

    call_command("migrate", verbosity=0)
    campaign = Campaign.objects.filter(name="Export bench").first()
    if campaign and campaign.messages.count() == rows:
        return
    Campaign.objects.filter(name="Export bench").delete()
    campaign = Campaign.objects.create(
        name="Export bench", kind=Campaign.Kind.REFERRAL_DRIVE, subject="s", body="b"
    )
    batch = 5000
    for start in range(0, rows, batch):
        CampaignMessage.objects.bulk_create(
            CampaignMessage(
                campaign=campaign,
                email=f"recipient{i:07d}@example.com",
                first_name="=HYPERLINK(1)" if i % 1000 == 0 else f"First{i}",
                last_name=f"Last{i}",
                status=CampaignMessage.Status.SENT,
            )
            for i in range(start, min(start + batch, rows))
        )


def export(rows: int, mode: str) -> None:
    _django(rows)
    from campaigns.models import Campaign
    from console.exports import campaign_results_response

    campaign = Campaign.objects.get(name="Export bench")
    before = _peak_mb()
    started = time.perf_counter()
    if mode == "stream":
        response = campaign_results_response(campaign)
        lines = size = 0
        for chunk in response.streaming_content:  # type: ignore[union-attr]  # a sync stream
            lines += chunk.count(b"\n")
            size += len(chunk)
    else:  # what a naive export does: every row as a model instance, in a list
        messages = list(campaign.messages.all())
        lines, size = len(messages) + 1, 0
    elapsed = time.perf_counter() - started
    print(f"{mode}\t{rows}\t{lines - 1}\t{size}\t{before:.1f}\t{_peak_mb():.1f}\t{elapsed:.2f}")


def main(sizes: list[int]) -> None:
    print("mode     rows      exported  bytes        peak RSS before → after (MB)  seconds")
    for rows in sizes:
        env = os.environ.copy()
        subprocess.run([sys.executable, __file__, "--seed", str(rows)], check=True, env=env)
        for mode in ("stream", "naive"):
            out = subprocess.run(
                [sys.executable, __file__, "--export", str(rows), mode],
                check=True,
                env=env,
                capture_output=True,
                text=True,
            ).stdout.strip()
            m, n, exported, size, before, after, seconds = out.split("\t")
            grew = float(after) - float(before)
            print(
                f"{m:<8} {int(n):>8,}  {int(exported):>8,}  {int(size):>11,}  "
                f"{float(before):>8.1f} → {float(after):>7.1f} (+{grew:.1f})"
                f"  {float(seconds):>6.2f}"
            )


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--seed":
        seed(int(sys.argv[2]))
    elif len(sys.argv) > 3 and sys.argv[1] == "--export":
        export(int(sys.argv[2]), sys.argv[3])
    else:
        main([int(arg) for arg in sys.argv[1:]] or [10_000, 100_000])
