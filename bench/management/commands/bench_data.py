"""Generate a large, realistic program for benchmarks: ``bench_data --advocates N``.

The rows and their invariants are described in ``bench.generate``. It refuses to run on
a database that already has advocates unless ``--flush`` (which empties every table
first, like ``manage.py flush``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from advocates.models import Advocate
from bench.generate import (
    ADVOCATE_EMAIL,
    BENCH_PASSWORD,
    MANAGER_EMAIL,
    REP_EMAIL,
    Writer,
    generate,
)


class Command(BaseCommand):
    help = "Generate a large benchmark program (bulk inserts; deterministic for a seed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--advocates", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--flush", action="store_true", help="Empty every table first (destroys data)."
        )
        parser.add_argument(
            "--now",
            default="",
            help="Reference time (ISO 8601, UTC) so two runs make identical rows.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n = options["advocates"]
        if n < 10:
            raise CommandError("--advocates must be at least 10.")
        if options["flush"]:
            call_command("flush", interactive=False, verbosity=0)
        elif Advocate.objects.exists():
            raise CommandError(
                "This database already has advocates: bench_data needs an empty one "
                "(or --flush to empty it, destroying its data)."
            )
        now = (
            datetime.fromisoformat(options["now"]).replace(tzinfo=UTC)
            if options["now"]
            else datetime.now(UTC).replace(microsecond=0)
        )
        started = time.monotonic()
        writer = Writer(self.stdout)
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # The rows are consistent by construction (explicit keys, parents first
                # or in the same transaction); checking millions of foreign keys one
                # trigger at a time at commit would take longer than writing them.
                # Needs a superuser, like the rest of a benchmark set-up.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL session_replication_role = replica")
            generate(n=n, seed=options["seed"], now=now, writer=writer)
            writer.reset_sequences()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # VACUUM sets the visibility map that a long-running database has from
                # autovacuum; without it every index-only scan of freshly copied rows
                # reads the table too, and the benchmark would measure a state no
                # production database is in. VACUUM refuses to run in a transaction
                # (tests call this command inside one): there ANALYZE alone.
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
        elapsed = time.monotonic() - started
        total = sum(writer.counts.values())
        for label, count in sorted(writer.counts.items()):
            self.stdout.write(f"  {label:32} {count:>10,}")
        self.stdout.write(
            f"bench_data: {total:,} rows in {elapsed:.1f} s ({total / elapsed:,.0f} rows/s), "
            f"{n:,} advocates, seed {options['seed']}"
        )
        self.stdout.write(f"Logins (password {BENCH_PASSWORD}):")
        for role, email in (("manager", MANAGER_EMAIL), ("rep", REP_EMAIL)):
            self.stdout.write(f"  {role:9} {email}")
        self.stdout.write(f"  advocate  {ADVOCATE_EMAIL}")
