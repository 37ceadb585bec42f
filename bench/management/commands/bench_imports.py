"""Benchmark the CSV imports: ``bench_imports [--advocates N] [--referrals N] [--flush]``.

Generates the files (bench/imports.py), imports them as ``import_advocates`` and
``import_referrals`` do, then imports both again and checks that nothing changed.
Prints rows/s per file, memory at 10,000 rows and at the end, the row counts before and
after the second pass, and writes it all to bench/results/<date>-imports.md.
"""

from __future__ import annotations

import os
import platform
import random
import tempfile
import tracemalloc as tracing
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from bench import imports
from referrals.models import Referral

RESULTS = Path(__file__).resolve().parents[2] / "results"


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--advocates", type=int, default=20_000)
        parser.add_argument("--referrals", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--dir", type=Path, default=Path(tempfile.gettempdir()) / "vouch-bench-imports"
        )
        parser.add_argument(
            "--flush", action="store_true", help="Empty every table first (manage.py flush)."
        )
        parser.add_argument(
            "--tracemalloc",
            action="store_true",
            help="Trace Python allocations (peak per pass); slows the run, so rows/s are lower.",
        )
        parser.add_argument("--output", type=Path, help="Markdown results file to write.")

    def handle(
        self,
        *args: object,
        advocates: int,
        referrals: int,
        seed: int,
        dir: Path,
        flush: bool,
        tracemalloc: bool,
        output: Path | None,
        **options: object,
    ) -> None:
        if Referral.objects.exists() and not flush:
            raise CommandError("The database has referrals already: pass --flush to empty it.")
        if flush:
            call_command("flush", interactive=False, verbosity=0)
        dir.mkdir(parents=True, exist_ok=True)
        rng = random.Random(seed)
        advocates_csv, referrals_csv = dir / "advocates.csv", dir / "referrals.csv"
        adv_rows = imports.write_advocates(advocates_csv, advocates, rng)
        ref_rows = imports.write_referrals(referrals_csv, referrals, advocates, rng)
        self.stdout.write(
            f"Files: {advocates_csv} ({adv_rows:,} rows), {referrals_csv} ({ref_rows:,} rows)"
        )
        imports.setup_program()
        if tracemalloc:
            tracing.start()
        line = self.stderr
        marks = (10_000,)
        passes = [
            imports.run_import("advocates", advocates_csv, "advocates", line, marks),
            imports.run_import("referrals", referrals_csv, "referrals", line, marks),
        ]
        before = imports.counts()
        passes += [
            imports.run_import("advocates", advocates_csv, "advocates again", line, marks),
            imports.run_import("referrals", referrals_csv, "referrals again", line, marks),
        ]
        after = imports.counts()
        run = {
            "advocates": advocates,
            "referrals": referrals,
            "seed": seed,
            "tracemalloc": tracemalloc,
        }
        text = _markdown(passes, before, after, run)
        self.stdout.write(text)
        output = output or RESULTS / f"{datetime.now(UTC):%Y-%m-%d}-imports.md"
        output.write_text(text, encoding="utf-8")
        self.stdout.write(f"Written to {output}")
        if before != after:
            raise CommandError("The second import changed something: see the counts above.")


def _markdown(
    passes: list[imports.Pass], before: dict[str, int], after: dict[str, int], run: dict
) -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    with connection.cursor() as cursor:
        cursor.execute(
            "SHOW server_version"
            if connection.vendor == "postgresql"
            else "SELECT sqlite_version()"
        )
        version = cursor.fetchone()[0]
    lines = [
        f"# CSV imports, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`manage.py bench_imports --advocates {run['advocates']} --referrals {run['referrals']}"
        f" --seed {run['seed']}{' --tracemalloc' if run['tracemalloc'] else ''}`",
        "",
        f"Machine: {os.cpu_count()} CPUs (`nproc`), load average {load}"
        f" at the end, Python {platform.python_version()}, {connection.vendor} {version},"
        f" Celery eager: {settings.CELERY_TASK_ALWAYS_EAGER}.",
        "",
        "| pass | rows | seconds | rows/s | created | updated | unchanged | flagged | bad |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in passes:
        r = p.report
        lines.append(
            f"| {p.name} | {p.rows:,} | {p.seconds:.1f} | {p.rate:,.0f} | {r.created:,} |"
            f" {r.updated:,} | {r.unchanged:,} | {len(r.flagged):,} | {len(r.errors):,} |"
        )
    lines += [
        "",
        "Memory (tracemalloc current / peak since the pass began, and the process's ru_maxrss):",
        "",
        "| pass | after rows | traced now (MiB) | traced peak (MiB) | ru_maxrss (MiB) |",
        "|---|---:|---:|---:|---:|",
    ]
    for p in passes:
        for rows, (current, peak, rss) in sorted(p.memory.items()):
            traced = (f"{current:.1f}", f"{peak:.1f}") if run["tracemalloc"] else ("-", "-")
            lines.append(f"| {p.name} | {rows:,} | {traced[0]} | {traced[1]} | {rss:.0f} |")
    lines += [
        "",
        "Rows before and after the second pass:",
        "",
        "| table | after the first pass | after the second | same |",
        "|---|---:|---:|---|",
    ]
    for name, count in before.items():
        lines.append(
            f"| {name} | {count:,} | {after[name]:,} | {'yes' if count == after[name] else 'NO'} |"
        )
    return "\n".join(lines) + "\n"
