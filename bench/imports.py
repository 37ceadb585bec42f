"""The CSV imports at scale: generated files, imported twice, rows/s and memory.

``manage.py bench_imports`` (bench/management/commands/bench_imports.py) runs it; see
bench/README.md, section 6. The files are what a CRM export of a real program looks
like: advocates at a couple of thousand customer companies, most owned by one of a few
reps; referrals over two years in every stage, a fifth won with an amount, some
referring a person or an open company already referred (duplicates), a few referring
a colleague (self-referrals), and a handful of bad rows in each file.
"""

from __future__ import annotations

import csv
import random
import resource
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.contrib.auth.models import Group
from django.core.management.base import OutputWrapper

from advocates.models import Advocate, User
from core.roles import REPS_GROUP
from referrals.management.commands.import_advocates import ProgressLine, csv_file
from referrals.models import Method, Referral, ReferralReward, ReferralStageChange, RewardRule
from referrals.services.imports import (
    ADVOCATE_COLUMNS,
    REFERRAL_COLUMNS,
    ImportReport,
    advocates_import,
    referrals_import,
)
from rewards.models import LedgerEntry

REPS = 8
COMPANIES = 2000
PROSPECT_COMPANIES = 400_000
START = datetime(2025, 1, 1, 9, tzinfo=UTC)
TITLES = ["CTO", "VP Engineering", "Head of IT", "Director of Operations", "CFO", "Engineer"]
INDUSTRIES = ["Software", "Finance", "Healthcare", "Retail", "Manufacturing", "Education"]
STAGES = [("submitted", 25), ("qualified", 20), ("opportunity", 15), ("won", 20), ("lost", 20)]


def rep_email(n: int) -> str:
    return f"bench-imports-rep{n}@bench.vouch"


def advocate_email(n: int) -> str:
    return f"advocate{n}@cust{n % COMPANIES}.example"


def setup_program() -> None:
    """The reps the advocates file names and the program's reward rule."""
    group, _ = Group.objects.get_or_create(name=REPS_GROUP)
    for n in range(REPS):
        user, created = User.objects.get_or_create(
            email=rep_email(n), defaults={"first_name": "Rep", "last_name": str(n)}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user.groups.add(group)
    if not RewardRule.objects.filter(is_active=True).exists():
        RewardRule.objects.create(
            name="Bench: 1 % of the deal",
            kind=RewardRule.Kind.PERCENT,
            percent=1,
            cap_points=2000,
            qualified_points=25,
        )


def write_advocates(path: Path, count: int, rng: random.Random) -> int:
    """``count`` advocates (and a bad row every 2,500th); the number of rows written."""
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(ADVOCATE_COLUMNS)
        for n in range(count):
            joined = START - timedelta(days=rng.randrange(1000))
            rep = rep_email(rng.randrange(REPS)) if rng.random() < 0.8 else ""
            writer.writerow(
                [
                    advocate_email(n),
                    rng.choice(["Ann", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal"]),
                    f"Person{n}",
                    f"Customer {n % COMPANIES} Inc",
                    rng.choice(TITLES),
                    rng.choice(INDUSTRIES),
                    joined.date().isoformat(),
                    rep,
                ]
            )
            rows += 1
            if n % 2500 == 1234:  # bad: no email, a day-first date, a rep who is not one
                writer.writerow(["not-an-email", "X", "Y", "", "", "", "", ""])
                writer.writerow([f"late{n}@cust.example", "X", "Y", "", "", "", "31/12/2025", ""])
                writer.writerow(
                    [f"lost{n}@cust.example", "X", "Y", "", "", "", "", "no@rep.example"]
                )
                rows += 3
    return rows


def write_referrals(path: Path, count: int, advocates: int, rng: random.Random) -> int:
    """``count`` referrals over two years (and a few bad rows); the rows written."""
    stages = [name for name, weight in STAGES for _ in range(weight)]
    recent: list[str] = []  # referred emails of late, for realistic repeats
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(REFERRAL_COLUMNS)
        for n in range(count):
            advocate = rng.randrange(advocates)
            created = START + timedelta(minutes=n * 10 + rng.randrange(10))
            roll = rng.random()
            if roll < 0.03 and recent:  # the same person again: a duplicate
                referred = rng.choice(recent)
            elif roll < 0.031:  # a colleague: refused as a self-referral
                referred = f"colleague{n}@cust{advocate % COMPANIES}.example"
            elif roll < 0.05:
                referred = f"lead{n}@gmail.com"
            else:
                referred = f"lead{n}@prospect{rng.randrange(PROSPECT_COMPANIES)}.example"
            recent = [*recent[-199:], referred]
            stage = rng.choice(stages)
            changed = (
                created + timedelta(days=rng.randrange(1, 120)) if stage != "submitted" else None
            )
            amount = f"{rng.randrange(5_000, 200_000)}.00" if stage == "won" else ""
            writer.writerow(
                [
                    f"CRM-{n:07d}",
                    advocate_email(advocate),
                    f"Lead {n}",
                    referred,
                    referred.split("@")[1].split(".")[0].title(),
                    rng.choice(Method.values),
                    created.isoformat(),
                    stage,
                    changed.isoformat() if changed else "",
                    amount,
                ]
            )
            rows += 1
            if n % 10_000 == 4321:  # bad: unknown advocate, a made-up stage, "12k"
                base = [f"BAD-{n}-", advocate_email(advocate), "X", f"x{n}@x.example", "", ""]
                writer.writerow([base[0] + "a", "ghost@nowhere.example", *base[2:], "", "", "", ""])
                writer.writerow([base[0] + "b", *base[1:], "", "closed", "", ""])
                writer.writerow([base[0] + "c", *base[1:], "", "won", "", "12k"])
                rows += 3
    return rows


def counts() -> dict[str, int]:
    return {
        "advocates": Advocate.objects.count(),
        "referrals": Referral.objects.count(),
        "stage changes": ReferralStageChange.objects.count(),
        "referral rewards": ReferralReward.objects.count(),
        "ledger entries": LedgerEntry.objects.count(),
    }


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


@dataclass
class Pass:
    """One import of one file: its report, time and the memory seen along the way."""

    name: str
    rows: int = 0
    seconds: float = 0.0
    report: ImportReport = field(default_factory=ImportReport)
    # rows read -> (tracemalloc current MiB, tracemalloc peak MiB, ru_maxrss MiB)
    memory: dict[int, tuple[float, float, float]] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def run_import(
    kind: str, path: Path, name: str, stream: OutputWrapper, marks: tuple[int, ...]
) -> Pass:
    """Import ``path`` as the command does (streamed, no row cap), sampling memory at
    the first chunk past each of ``marks`` rows and at the end."""
    result = Pass(name=name)
    line = ProgressLine(stream)
    pending = sorted(marks)

    def sample(rows: int) -> None:
        current, peak = tracemalloc.get_traced_memory() if tracemalloc.is_tracing() else (0, 0)
        result.memory[rows] = (current / 2**20, peak / 2**20, _rss_mib())

    def progress(report: ImportReport, rows: int) -> None:
        line(report, rows)
        while pending and rows >= pending[0]:
            pending.pop(0)
            sample(rows)
        result.rows = rows

    if tracemalloc.is_tracing():
        tracemalloc.reset_peak()
    started = time.perf_counter()
    with csv_file(path) as file:
        if kind == "advocates":
            result.report = advocates_import(source=file, max_rows=None, progress=progress)
        else:
            result.report = referrals_import(source=file, max_rows=None, progress=progress)
    result.seconds = time.perf_counter() - started
    line.end()
    sample(result.rows)
    return result
