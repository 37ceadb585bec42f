"""A large, realistic program for benchmarks (``manage.py bench_data --advocates N``).

Rows are built in Python from one ``random.Random(seed)`` (same seed, same data) with
explicit primary keys, so foreign keys need no round trip, and written in bulk: COPY on
PostgreSQL (psycopg's ``cursor.copy``), ``bulk_create`` in large batches elsewhere.
The ledger invariants hold by construction: each advocate's balance is the sum of its
entries (never negative), lifetime points the sum of its awards, and PeriodPoints the
awards per ISO week and month of the entry's date. At ``--advocates 100000``: about
5,000 companies, 2,000,000 ledger entries, 300 challenges with 1,000,000 submissions,
50 rewards with 100,000 redemptions, 500,000 referrals, 20,000 reference requests and
1,000,000 relationship edges; everything is proportional for smaller N.

Modules: ``constants`` (the bench logins and vocabulary), ``writer`` (bulk writes),
``program`` (shared state and the ledger), then one module per area in the order they
run: ``people``, ``activity`` and ``pipeline``.
"""

from __future__ import annotations

from datetime import datetime

from bench.generate.activity import redemptions, submissions
from bench.generate.constants import (
    ADVOCATE_EMAIL,
    BENCH_PASSWORD,
    BENCH_TOTP_SECRET,
    MANAGER_EMAIL,
    REP_EMAIL,
)
from bench.generate.people import catalog_and_challenges, people
from bench.generate.pipeline import graph, references, referrals
from bench.generate.program import Program
from bench.generate.writer import Writer

__all__ = [
    "ADVOCATE_EMAIL",
    "BENCH_PASSWORD",
    "BENCH_TOTP_SECRET",
    "MANAGER_EMAIL",
    "REP_EMAIL",
    "Writer",
    "generate",
]


def generate(*, n: int, seed: int, now: datetime, writer: Writer) -> None:
    """Write a program of ``n`` advocates through ``writer`` (call inside a transaction)."""
    program = Program(n=n, seed=seed, now=now, writer=writer)
    # Each section uses what the ones before it recorded on ``program``.
    people(program)
    catalog_and_challenges(program)
    submissions(program)
    referrals(program)
    redemptions(program)
    references(program)
    graph(program)
    program.finish_ledger()
