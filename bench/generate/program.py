"""The generator's state: one seeded random source, the ledger built alongside the rows."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection

from bench.generate.constants import BENCH_PASSWORD, Row
from bench.generate.writer import Writer
from rewards.models import LedgerEntry, PeriodPoints
from rewards.services.ledger import period_starts


class Program:
    """Everything the sections share: sizes, the random source, the ids each section
    hands on to later ones, and the ledger (entries, balances, period totals)."""

    # Set by the sections, in the order ``bench.generate.generate`` runs them.
    products: list[int]
    tags: list[int]
    companies: list[tuple[str, str]]  # (industry, size band), by company id - 1
    rep_ids: list[int]
    manager_id: int
    status: list[str]  # by advocate id
    opt_in: list[bool]
    owner: list[int]
    adv_company: list[int]
    advocate_fields: list[str]
    active: list[int]
    challenge_points: list[tuple[int, str]]
    rewards: list[int]  # cost, by reward id - 1
    referral_rewards: list[Row]

    def __init__(self, *, n: int, seed: int, now: datetime, writer: Writer) -> None:
        self.n = n
        self.rng = random.Random(seed)
        self.now = now
        self.w = writer
        self.scale = n / 100_000
        self.hashed = make_password(BENCH_PASSWORD, salt="benchsalt")
        # Per advocate: the running balance and the awards (for PeriodPoints).
        self.balance = [0] * (n + 1)
        self.lifetime = [0] * (n + 1)
        self.period: dict[tuple[str, date, int], int] = defaultdict(int)
        # Per advocate: what the segment filters read (referrals.services.summary,
        # references.services.summary): referrals not rejected, calls completed.
        self.referral_count = [0] * (n + 1)
        self.reference_count = [0] * (n + 1)
        self.ledger: list[tuple] = []
        self.ledger_id = 0

    def count(self, full: int, minimum: int) -> int:
        return max(minimum, round(full * self.scale))

    def ago(self, days: float) -> datetime:
        return self.now - timedelta(seconds=self.rng.random() * days * 86400)

    # --- ledger ---------------------------------------------------------------------
    def entry(
        self,
        advocate: int,
        amount: int,
        kind: str,
        reason: str,
        key: str,
        at: datetime,
        source: tuple[str, Any] = ("", ""),
    ) -> int:
        self.ledger_id += 1
        self.ledger.append(
            (
                self.ledger_id,
                advocate,
                amount,
                kind,
                reason,
                key,
                None,
                source[0],
                str(source[1]),
                at,
            )
        )
        if len(self.ledger) >= 200_000:
            self.flush_ledger()  # bounded memory at 2,000,000 entries
        self.balance[advocate] += amount
        if kind == LedgerEntry.Kind.AWARD:
            self.lifetime[advocate] += amount
            for period, starts_on in period_starts(at).items():
                self.period[(period, starts_on, advocate)] += amount
        return self.ledger_id

    def flush_ledger(self) -> None:
        self.w.write(
            LedgerEntry,
            [
                "id",
                "advocate_id",
                "amount",
                "kind",
                "reason",
                "idempotency_key",
                "reverses_id",
                "source_type",
                "source_id",
                "created_at",
            ],
            self.ledger,
        )
        self.ledger = []

    def finish_ledger(self) -> None:
        rng, n = self.rng, self.n
        # Everyday activity (events, shares) tops the ledger up to ~20 entries/advocate.
        written = self.w.counts.get(LedgerEntry._meta.label, 0) + len(self.ledger)
        extra = self.count(2_000_000, 200) - written
        for i in range(max(0, extra)):
            aid = 1 if i % 100 == 0 else rng.choice(self.active)
            self.entry(
                aid,
                rng.choice((10, 20, 25, 50)),
                "award",
                "Community activity",
                f"bench-activity:{i}",
                self.ago(365),
            )
        self.flush_ledger()
        self.w.write(
            PeriodPoints,
            ["id", "advocate_id", "period", "starts_on", "points"],
            (
                (i, aid, period, starts_on, points)
                for i, ((period, starts_on, aid), points) in enumerate(
                    sorted(self.period.items()), 1
                )
            ),
        )
        # Totals beside the ledger, and the counts beside the referrals and asks, in one
        # statement (one new version of each advocate row).
        updates = [
            (
                aid,
                self.balance[aid],
                self.lifetime[aid],
                self.referral_count[aid],
                self.reference_count[aid],
            )
            for aid in range(1, n + 1)
            if self.balance[aid]
            or self.lifetime[aid]
            or self.referral_count[aid]
            or self.reference_count[aid]
        ]
        assert all(row[1] >= 0 for row in updates), "generated a negative balance"
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Inside an outer transaction (tests), a previous run's table is still here.
                cursor.execute("DROP TABLE IF EXISTS pg_temp.bench_totals")
                cursor.execute(
                    "CREATE TEMP TABLE bench_totals (id bigint, balance int, lifetime int, "
                    "referrals int, refs int) ON COMMIT DROP"
                )
                with cursor.cursor.copy("COPY bench_totals FROM STDIN") as copy:
                    for row in updates:
                        copy.write_row(row)
                cursor.execute(
                    "UPDATE advocates_advocate a SET balance = t.balance, "
                    "lifetime_points = t.lifetime, referral_count = t.referrals, "
                    "reference_count = t.refs FROM bench_totals t WHERE a.id = t.id"
                )
            else:
                cursor.executemany(
                    "UPDATE advocates_advocate SET balance = %s, lifetime_points = %s, "
                    "referral_count = %s, reference_count = %s WHERE id = %s",
                    [(*row[1:], row[0]) for row in updates],
                )
