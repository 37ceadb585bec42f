"""Generate a large, realistic program for benchmarks: ``bench_data --advocates N``.

Rows are built in Python from one ``random.Random(seed)`` (same seed, same data) with
explicit primary keys, so foreign keys need no round trip, and written in bulk: COPY on
PostgreSQL (psycopg's ``cursor.copy``), ``bulk_create`` in large batches elsewhere.
The ledger invariants hold by construction: each advocate's balance is the sum of its
entries (never negative), lifetime points the sum of its awards, and PeriodPoints the
awards per ISO week and month of the entry's date. At ``--advocates 100000``: about
5,000 companies, 2,000,000 ledger entries, 300 challenges with 1,000,000 submissions,
50 rewards with 100,000 redemptions, 500,000 referrals, 20,000 reference requests and
1,000,000 relationship edges; everything is proportional for smaller N.

It refuses to run on a database that already has advocates unless ``--flush`` (which
empties every table first, like ``manage.py flush``).
"""

from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.management.color import no_style
from django.db import connection, models, transaction

from advocates.models import (
    Advocate,
    Company,
    Person,
    Product,
    Relationship,
    Tag,
    User,
)
from challenges.models import Challenge, Level, NPSResponse, Submission
from core.roles import MANAGERS_GROUP, REPS_GROUP
from references.models import Ask, MatchingWeights, ReferenceRequest
from referrals.models import (
    Method,
    Referral,
    ReferralLink,
    ReferralReward,
    ReferralStageChange,
    RewardRule,
    Stage,
)
from rewards.models import LedgerEntry, PeriodPoints, Redemption, Reward
from rewards.services.ledger import period_starts

Row = tuple[Any, ...]
BENCH_PASSWORD = "vouch-bench-2026"  # noqa: S105 - printed for the benchmark on purpose
# Managers must use two-factor authentication (core.mfa): the bench manager's
# authenticator app has this fixed secret, so a load test can compute its codes.
BENCH_TOTP_SECRET = "VOUCHBENCHVOUCHBENCHVOUCHBENCH23"  # noqa: S105 - documented bench secret
MANAGER_EMAIL = "bench-manager@bench.vouch"
REP_EMAIL = "bench-rep@bench.vouch"
ADVOCATE_EMAIL = "bench-advocate@bench.vouch"

INDUSTRIES = [
    "Healthcare",
    "Financial services",
    "Software",
    "Retail",
    "Manufacturing",
    "Education",
    "Logistics",
    "Media",
    "Energy",
    "Public sector",
]
PRODUCTS = ["Analytics", "Automation", "Integrations", "Mobile", "Security", "Billing"]
TAGS = [
    "Fast onboarding",
    "Ease of use",
    "Great support",
    "ROI in 90 days",
    "Migration",
    "Scale",
    "Compliance",
    "Reporting",
    "API",
    "Training",
]
TITLES = {
    "individual": ["Analyst", "Engineer", "Specialist", "Consultant"],
    "manager": ["Engineering manager", "IT manager", "Operations manager"],
    "director": ["Director of IT", "Head of Operations", "Director of Finance"],
    "vp": ["VP Operations", "VP Engineering", "VP Sales"],
    "c_level": ["CIO", "CTO", "COO", "CFO"],
}
FIRST = ["Ada", "Ben", "Chloe", "Dan", "Eva", "Femi", "Gita", "Hugo", "Ines", "Jon", "Kai", "Lea"]
LAST = ["Smith", "Okafor", "Lee", "Garcia", "Novak", "Khan", "Rossi", "Berg", "Silva", "Tanaka"]
SIZE_BANDS = [c.value for c in Company.SizeBand]
CHALLENGE_KINDS = [c.value for c in Challenge.Kind]
REWARD_KINDS = [c.value for c in Reward.Kind]
METHODS = [c.value for c in Method]
# Referral stage mix: (final stage, path of stages reached after "submitted").
STAGE_MIX = [
    (Stage.SUBMITTED, [], 30),
    (Stage.QUALIFIED, [Stage.QUALIFIED], 20),
    (Stage.OPPORTUNITY, [Stage.QUALIFIED, Stage.OPPORTUNITY], 15),
    (Stage.WON, [Stage.QUALIFIED, Stage.OPPORTUNITY, Stage.WON], 12),
    (Stage.LOST, [Stage.QUALIFIED, Stage.LOST], 13),
    (Stage.REJECTED, [Stage.REJECTED], 10),
]
REQUEST_MIX = [
    (ReferenceRequest.Status.OPEN, 15),
    (ReferenceRequest.Status.NEEDS_REP, 5),
    (ReferenceRequest.Status.COMPLETED, 60),
    (ReferenceRequest.Status.NO_SHOW, 5),
    (ReferenceRequest.Status.CANCELLED, 15),
]


def _weighted(rng: random.Random, mix: Sequence[tuple]) -> tuple:
    return rng.choices(mix, weights=[row[-1] for row in mix])[0]


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{model.__name__}.{name}"
    assert field.column, f"{model.__name__}.{name}"
    return field.column


class Writer:
    """Writes rows (tuples in ``fields`` order, primary key included) of one model."""

    def __init__(self, stdout: Any) -> None:
        self.stdout = stdout
        self.counts: dict[str, int] = {}
        self.postgres = connection.vendor == "postgresql"
        self.written: list[type[models.Model]] = []

    def write(
        self,
        model: type[models.Model],
        fields: Sequence[str],
        rows: Iterable[Sequence[Any]],
        batch: int = 5000,
    ) -> int:
        count = 0
        started = time.monotonic()
        if self.postgres:
            # COPY leaves out columns to NULL (Django sets no database defaults): add
            # every other non-null column with its model default.
            given = set(fields)
            extra = [
                f
                for f in model._meta.concrete_fields
                if f.attname not in given and f.name not in given and not f.null
            ]
            if extra:
                defaults = tuple(f.get_default() for f in extra)
                fields = [*fields, *(f.attname for f in extra)]
                rows = (tuple(row) + defaults for row in rows)
            table = model._meta.db_table
            columns = [_column(model, name) for name in fields]
            json_at = [
                i
                for i, name in enumerate(fields)
                if isinstance(model._meta.get_field(name), models.JSONField)
            ]
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            with connection.cursor() as cursor:
                raw = cursor.cursor  # psycopg's own cursor: COPY
                with raw.copy(
                    f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN"
                ) as copy:
                    for row in rows:
                        if json_at:
                            row = list(row)
                            for i in json_at:
                                row[i] = json.dumps(row[i])
                        copy.write_row(row)
                        count += 1
        else:
            chunk: list[models.Model] = []
            for row in rows:
                chunk.append(model(**dict(zip(fields, row, strict=True))))
                count += 1
                if len(chunk) >= batch:
                    model._default_manager.bulk_create(chunk)
                    chunk = []
            if chunk:
                model._default_manager.bulk_create(chunk)
        label = model._meta.label
        self.stdout.write(f"  wrote {count:>9,} {label} ({time.monotonic() - started:.1f} s)")
        self.counts[label] = self.counts.get(label, 0) + count
        if model not in self.written:
            self.written.append(model)
        return count

    def reset_sequences(self) -> None:
        statements = connection.ops.sequence_reset_sql(no_style(), self.written)
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


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
            Generator(n=n, seed=options["seed"], now=now, writer=writer).run()
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


class Generator:
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

    # --- run ------------------------------------------------------------------------
    def run(self) -> None:
        self.people()
        self.catalog_and_challenges()
        self.submissions()
        self.referrals()
        self.redemptions()
        self.references()
        self.graph()
        self.finish_ledger()

    def people(self) -> None:
        rng, n, w, now = self.rng, self.n, self.w, self.now
        managers = Group.objects.get_or_create(name=MANAGERS_GROUP)[0]
        reps_group = Group.objects.get_or_create(name=REPS_GROUP)[0]
        self.products = [Product.objects.create(name=name).pk for name in PRODUCTS]
        self.tags = [Tag.objects.create(name=name).pk for name in TAGS]
        n_companies = self.count(5000, 3)
        self.companies = []
        rows: list[Row] = []
        for cid in range(1, n_companies + 1):
            industry = rng.choice(INDUSTRIES)
            size = rng.choice(SIZE_BANDS)
            self.companies.append((industry, size))
            rows.append((cid, f"Company {cid}", f"company{cid}.example", industry, size))
        w.write(Company, ["id", "name", "domain", "industry", "size_band"], rows)

        # Users: 1..n advocates, then reps, then the manager.
        n_reps = self.count(50, 2)
        self.rep_ids = list(range(n + 1, n + n_reps + 1))
        self.manager_id = n + n_reps + 1
        joined_base = now - timedelta(days=730)
        user_rows: list[Row] = []
        for uid in range(1, self.manager_id + 1):
            if uid == 1:
                email, first, last, password = ADVOCATE_EMAIL, "Bea", "Bench", self.hashed
            elif uid == self.rep_ids[0]:
                email, first, last, password = REP_EMAIL, "Rob", "Rep", self.hashed
            elif uid == self.manager_id:
                email, first, last, password = MANAGER_EMAIL, "Mia", "Manager", self.hashed
            else:
                email, first, last = f"user{uid}@bench.example", rng.choice(FIRST), rng.choice(LAST)
                password = "!bench"  # noqa: S105 - unusable: only the bench logins sign in
            user_rows.append(
                (uid, email, first, last, password, uid == self.manager_id, True, joined_base)
            )
        w.write(
            User,
            [
                "id",
                "email",
                "first_name",
                "last_name",
                "password",
                "is_staff",
                "is_active",
                "date_joined",
            ],
            user_rows,
        )
        User.groups.through.objects.bulk_create(
            [User.groups.through(user_id=uid, group_id=reps_group.pk) for uid in self.rep_ids]
            + [User.groups.through(user_id=self.manager_id, group_id=managers.pk)]
        )
        EmailAddress.objects.bulk_create(
            [
                EmailAddress(user_id=uid, email=email, verified=True, primary=True)
                for uid, email in (
                    (1, ADVOCATE_EMAIL),
                    (self.rep_ids[0], REP_EMAIL),
                    (self.manager_id, MANAGER_EMAIL),
                )
            ]
        )
        TOTP.activate(User.objects.get(pk=self.manager_id), BENCH_TOTP_SECRET)

        self.status = [""] * (n + 1)
        self.opt_in = [False] * (n + 1)
        self.owner = [0] * (n + 1)
        self.adv_company = [0] * (n + 1)
        rows = []
        prod_rows: list[Row] = []
        tag_rows: list[Row] = []
        pid = tid = 0
        seniorities = list(TITLES)
        for aid in range(1, n + 1):
            status = (
                "active"
                if aid == 1
                else _weighted(rng, [("active", 85), ("invited", 8), ("paused", 4), ("left", 3)])[0]
            )
            company = rng.randint(1, n_companies)
            seniority = rng.choice(seniorities)
            owner = self.rep_ids[0] if aid % 4 == 0 or aid == 1 else rng.choice(self.rep_ids)
            opt_in = status == "active" and rng.random() < 0.4
            self.status[aid], self.opt_in[aid], self.owner[aid] = status, opt_in, owner
            self.adv_company[aid] = company
            joined = joined_base + timedelta(seconds=rng.random() * 700 * 86400)
            rows.append(
                (
                    aid,
                    aid,
                    company,
                    rng.choice(TITLES[seniority]),
                    seniority,
                    self.companies[company - 1][0],
                    owner,
                    status,
                    joined if status != "invited" else None,
                    opt_in,
                    rng.choice((1, 2, 2, 3)),
                    rng.random() < 0.05,
                    0,
                    0,
                    joined,
                )
            )
            for product in rng.sample(self.products, rng.randint(1, 3)):
                pid += 1
                prod_rows.append((pid, aid, product))
            for tag in rng.sample(self.tags, rng.randint(1, 3)):
                tid += 1
                tag_rows.append((tid, aid, tag))
        self.advocate_fields = [
            "id",
            "user_id",
            "company_id",
            "title",
            "seniority",
            "industry",
            "owner_rep_id",
            "status",
            "joined_at",
            "reference_opt_in",
            "reference_max_calls_per_90d",
            "leaderboard_opt_out",
            "balance",
            "lifetime_points",
            "created_at",
        ]
        # Balances are known only once the ledger is built: write advocates last but
        # keep the rows (the FK targets must exist before COPY checks them, so we
        # write them now with zero and set the totals in finish_ledger).
        w.write(Advocate, self.advocate_fields, rows)
        w.write(Advocate.products.through, ["id", "advocate_id", "product_id"], prod_rows)
        w.write(Advocate.tags.through, ["id", "advocate_id", "tag_id"], tag_rows)
        self.active = [aid for aid in range(1, n + 1) if self.status[aid] == "active"]

        for aid in range(1, n + 1):
            if self.status[aid] != "invited":
                self.entry(
                    aid,
                    100,
                    "award",
                    "Welcome to the community",
                    f"welcome:{aid}",
                    rows[aid - 1][8],
                )

        w.write(
            ReferralLink,
            ["id", "advocate_id", "code", "card_code", "visits", "created_at"],
            (
                (
                    aid,
                    aid,
                    f"b{aid:x}r{rng.randrange(16**6):06x}",
                    f"C{aid:07X}"[-8:],
                    rng.randint(0, 50),
                    now,
                )
                for aid in range(1, n + 1)
            ),
        )

    def catalog_and_challenges(self) -> None:
        rng, w, now = self.rng, self.w, self.now
        Level.objects.bulk_create(
            [
                Level(name="Insider", threshold=0),
                Level(name="Advocate", threshold=500),
                Level(name="Champion", threshold=2000),
                Level(name="Legend", threshold=5000),
            ]
        )
        n_challenges = self.count(300, 10)
        self.challenge_points = []
        rows: list[Row] = []
        for cid in range(1, n_challenges + 1):
            points = rng.choice((25, 50, 50, 100, 150, 250))
            starts = self.ago(365)
            # Most are open now; some ended, some drafts and archived.
            status = _weighted(rng, [("published", 80), ("archived", 12), ("draft", 8)])[0]
            ends = None if rng.random() < 0.6 else starts + timedelta(days=rng.randint(30, 500))
            kind = CHALLENGE_KINDS[cid % len(CHALLENGE_KINDS)]
            self.challenge_points.append((points, kind))
            rows.append(
                (
                    cid,
                    f"Challenge {cid}: {kind.replace('_', ' ')}",
                    "Do the thing, earn points.",
                    kind,
                    points,
                    starts,
                    ends,
                    "everyone",
                    1,
                    rng.random() < 0.5,
                    status,
                    "https://example.com/share" if kind in ("social_share", "review") else "",
                    [],
                    self.manager_id,
                    starts,
                )
            )
        w.write(
            Challenge,
            [
                "id",
                "title",
                "description",
                "kind",
                "points",
                "starts_at",
                "ends_at",
                "audience",
                "completion_limit",
                "auto_approve",
                "status",
                "target_url",
                "questions",
                "created_by_id",
                "created_at",
            ],
            rows,
        )
        n_rewards = self.count(50, 5)
        self.rewards = []
        rows = []
        for rid in range(1, n_rewards + 1):
            cost = rng.choice((100, 200, 250, 500, 750, 1000, 2000))
            stock = None if rng.random() < 0.5 else rng.randint(0, 500)
            self.rewards.append(cost)
            rows.append(
                (
                    rid,
                    f"Reward {rid}",
                    "Something nice.",
                    cost,
                    REWARD_KINDS[rid % len(REWARD_KINDS)],
                    stock,
                    None,
                    "",
                    True,
                    rid % 3 == 0,
                    now,
                    now,
                )
            )
        w.write(
            Reward,
            [
                "id",
                "name",
                "description",
                "points_cost",
                "kind",
                "stock",
                "limit_count",
                "limit_period",
                "is_active",
                "needs_shipping",
                "created_at",
                "updated_at",
            ],
            rows,
        )
        RewardRule.objects.create(
            name="Bench rule", kind="fixed", fixed_points=500, qualified_points=50
        )
        MatchingWeights.current()

    def submissions(self) -> None:
        rng, w = self.rng, self.w
        target = self.count(1_000_000, 50)
        n_challenges = len(self.challenge_points)
        per = max(1, target // max(1, len(self.active)))
        rows: list[Row] = []
        nps: list[Row] = []
        sid = 0
        for aid in self.active:
            k = min(n_challenges, max(1, round(rng.gauss(per, per / 3))))
            for challenge in rng.sample(range(1, n_challenges + 1), k):
                sid += 1
                points, kind = self.challenge_points[challenge - 1]
                at = self.ago(365)
                status = _weighted(rng, [("approved", 85), ("pending", 10), ("rejected", 5)])[0]
                reviewed = at + timedelta(hours=2) if status != "pending" else None
                rows.append(
                    (
                        sid,
                        challenge,
                        aid,
                        status,
                        "",
                        "Done.",
                        {},
                        at,
                        self.manager_id if reviewed else None,
                        reviewed,
                        "Not quite." if status == "rejected" else "",
                    )
                )
                if status == "approved":
                    assert reviewed is not None  # an approved submission was reviewed
                    self.entry(
                        aid,
                        points,
                        "award",
                        f"Challenge {challenge}",
                        f"challenge-submission:{sid}:approved",
                        reviewed,
                        ("challenges.submission", sid),
                    )
                if kind == "survey" and len(nps) < target // 20:
                    nps.append((len(nps) + 1, aid, rng.randint(0, 10), "", sid, at))
        w.write(
            Submission,
            [
                "id",
                "challenge_id",
                "advocate_id",
                "status",
                "url",
                "text",
                "answers",
                "created_at",
                "reviewed_by_id",
                "reviewed_at",
                "rejection_reason",
            ],
            rows,
        )
        w.write(
            NPSResponse,
            ["id", "advocate_id", "score", "comment", "submission_id", "created_at"],
            nps,
        )

    def referrals(self) -> None:
        rng, w = self.rng, self.w
        target = self.count(500_000, 25)
        rows: list[Row] = []
        changes: list[Row] = []
        rewards: list[Row] = []
        cid = 0
        for rid in range(1, target + 1):
            aid = 1 if rid % 50 == 0 else rng.choice(self.active)
            method = METHODS[rid % len(METHODS)]
            final, path, _w = _weighted(rng, STAGE_MIX)
            created = self.ago(365)
            at = created
            cid += 1
            changes.append((cid, rid, "", "submitted", created, created, None, "system", None))
            previous = "submitted"
            won_at = None
            amount = None
            for stage in path:
                at = at + timedelta(days=rng.randint(1, 20))
                if at > self.now:
                    at = self.now
                cid += 1
                deal = Decimal(rng.randint(5, 200) * 1000) if stage == Stage.WON else None
                changes.append((cid, rid, previous, stage, at, at, self.owner[aid], "rep", deal))
                previous = stage
                if stage == Stage.QUALIFIED:
                    entry = self.entry(
                        aid,
                        50,
                        "award",
                        "Referral qualified",
                        f"referral:{rid}:qualified-reward",
                        at,
                        ("referrals.referral", rid),
                    )
                    rewards.append(
                        (len(rewards) + 1, rid, "qualified", 1, 50, "paid", entry, None, at, at)
                    )
                if stage == Stage.WON:
                    won_at, amount = at, deal
                    entry = self.entry(
                        aid,
                        500,
                        "award",
                        "Referral won",
                        f"referral:{rid}:won-reward",
                        at,
                        ("referrals.referral", rid),
                    )
                    rewards.append(
                        (len(rewards) + 1, rid, "won", 1, 500, "paid", entry, None, at, at)
                    )
            rows.append(
                (
                    rid,
                    aid,
                    method,
                    f"Lead {rid}",
                    f"lead{rid}@prospect{rid % 9973}.example",
                    f"Prospect {rid % 9973}",
                    "",
                    "",
                    f"prospect{rid % 9973}.example",
                    final,
                    "invalid" if final == Stage.REJECTED else "",
                    self.owner[aid],
                    self.owner[aid] if method == "verbal" else aid,
                    amount,
                    "",
                    created,
                    at,
                    won_at,
                )
            )
        w.write(
            Referral,
            [
                "id",
                "advocate_id",
                "method",
                "referred_name",
                "referred_email",
                "referred_company",
                "referred_title",
                "note",
                "referred_domain",
                "stage",
                "rejection_reason",
                "owner_rep_id",
                "created_by_id",
                "deal_amount",
                "external_id",
                "created_at",
                "stage_changed_at",
                "won_at",
            ],
            rows,
        )
        w.write(
            ReferralStageChange,
            [
                "id",
                "referral_id",
                "from_stage",
                "to_stage",
                "occurred_at",
                "recorded_at",
                "actor_id",
                "source",
                "deal_amount",
            ],
            changes,
        )
        self.referral_rewards = rewards

    def redemptions(self) -> None:
        rng, w = self.rng, self.w
        target = self.count(100_000, 10)
        rows: list[Row] = []
        for red_id in range(1, target + 1):
            aid = 1 if red_id % 40 == 0 else rng.choice(self.active)
            reward = rng.randrange(len(self.rewards))
            cost = self.rewards[reward]
            if self.balance[aid] < cost:
                # Too poor for it: the cheapest one, or nothing.
                reward = min(range(len(self.rewards)), key=self.rewards.__getitem__)
                cost = self.rewards[reward]
                if self.balance[aid] < cost:
                    continue
            at = self.ago(60)
            status = _weighted(
                rng, [("fulfilled", 60), ("requested", 15), ("approved", 10), ("cancelled", 15)]
            )[0]
            spend = self.entry(
                aid,
                -cost,
                "spend",
                f"Redeemed reward {reward + 1}",
                f"redemption:{red_id}:spend",
                at,
                ("rewards.redemption", red_id),
            )
            refund = None
            if status == "cancelled":
                refund = self.entry(
                    aid,
                    cost,
                    "refund",
                    f"Refund: reward {reward + 1}",
                    f"redemption:{red_id}:refund",
                    at + timedelta(hours=5),
                    ("rewards.redemption", red_id),
                )
            rows.append(
                (
                    red_id,
                    reward + 1,
                    aid,
                    cost,
                    status,
                    f"bench-{red_id}",
                    spend,
                    refund,
                    at,
                    at if status in ("approved", "fulfilled") else None,
                    at + timedelta(days=2) if status == "fulfilled" else None,
                    at + timedelta(hours=5) if status == "cancelled" else None,
                    self.manager_id if status != "requested" else None,
                    "Changed my mind" if status == "cancelled" else "",
                )
            )
        # The spend/refund entries must exist before redemptions point at them.
        self.flush_ledger()
        w.write(
            Redemption,
            [
                "id",
                "reward_id",
                "advocate_id",
                "points",
                "status",
                "idempotency_key",
                "spend_entry_id",
                "refund_entry_id",
                "created_at",
                "approved_at",
                "fulfilled_at",
                "cancelled_at",
                "handled_by_id",
                "cancel_reason",
            ],
            rows,
        )
        w.write(
            ReferralReward,
            [
                "id",
                "referral_id",
                "kind",
                "round",
                "points",
                "status",
                "ledger_entry_id",
                "reversal_entry_id",
                "created_at",
                "updated_at",
            ],
            self.referral_rewards,
        )

    def references(self) -> None:
        rng, w, now = self.rng, self.w, self.now
        target = self.count(20_000, 10)
        rows: list[Row] = []
        prod_rows: list[Row] = []
        topic_rows: list[Row] = []
        asks: list[Row] = []
        ask_id = 0
        pid = tid = 0
        seniorities = list(TITLES)
        candidates = [aid for aid in self.active if self.opt_in[aid]] or self.active
        for qid in range(1, target + 1):
            rep = self.rep_ids[0] if qid % 5 == 0 or qid <= 3 else rng.choice(self.rep_ids)
            # The bench rep's newest requests are open: the page shows live matches.
            status = (
                ReferenceRequest.Status.OPEN if qid > target - 3 else _weighted(rng, REQUEST_MIX)[0]
            )
            if qid > target - 3:
                rep = self.rep_ids[0]
            created = now - timedelta(days=(target - qid) * 365 / target + 0.01)
            industry = rng.choice(INDUSTRIES)
            completed = created + timedelta(days=10) if status == "completed" else None
            rows.append(
                (
                    qid,
                    rep,
                    f"Pat Prospect{qid}",
                    f"pat{qid}@buyer{qid % 997}.example",
                    f"Buyer {qid % 997}",
                    "VP Operations",
                    rng.choice(seniorities),
                    industry,
                    rng.choice(SIZE_BANDS),
                    f"Deal {qid}",
                    Decimal(rng.randint(10, 500) * 1000),
                    rng.choice(["discovery", "evaluation", "proposal", "negotiation"]),
                    "video",
                    (created + timedelta(days=30)).date(),
                    "",
                    status,
                    "",
                    created,
                    completed,
                    completed,
                    completed,
                )
            )
            for product in rng.sample(self.products, 2):
                pid += 1
                prod_rows.append((pid, qid, product))
            for tag in rng.sample(self.tags, 2):
                tid += 1
                topic_rows.append((tid, qid, tag))
            if status in ("completed", "no_show"):
                ask_id += 1
                aid = rng.choice(candidates)
                asks.append(
                    (
                        ask_id,
                        qid,
                        aid,
                        status,
                        created + timedelta(days=1),
                        created + timedelta(days=4),
                        created + timedelta(days=2),
                        completed,
                    )
                )
                if status == "completed":
                    assert completed is not None  # a completed call has its date
                    self.entry(
                        aid,
                        200,
                        "award",
                        "Reference call",
                        f"reference-call:{ask_id}:completed",
                        completed,
                        ("references.ask", ask_id),
                    )
        w.write(
            ReferenceRequest,
            [
                "id",
                "rep_id",
                "prospect_name",
                "prospect_email",
                "prospect_company",
                "prospect_title",
                "prospect_seniority",
                "prospect_industry",
                "prospect_company_size",
                "opportunity_name",
                "opportunity_amount",
                "opportunity_stage",
                "call_type",
                "needed_by",
                "notes",
                "status",
                "link_nonce",
                "created_at",
                "matched_at",
                "accepted_at",
                "completed_at",
            ],
            rows,
        )
        w.write(
            ReferenceRequest.products.through,
            ["id", "referencerequest_id", "product_id"],
            prod_rows,
        )
        w.write(
            ReferenceRequest.topics.through, ["id", "referencerequest_id", "tag_id"], topic_rows
        )
        w.write(
            Ask,
            [
                "id",
                "request_id",
                "advocate_id",
                "status",
                "asked_at",
                "deadline",
                "answered_at",
                "completed_at",
            ],
            asks,
        )

    def graph(self) -> None:
        rng, w, n, now = self.rng, self.w, self.n, self.now
        # People: one per advocate (same id), one per rep and the manager (employees),
        # then outside contacts (prospects' colleagues) up to half as many as advocates.
        rows: list[Row] = []
        for aid in range(1, n + 1):
            rows.append(
                (
                    aid,
                    f"Advocate {aid}",
                    f"user{aid}@bench.example" if aid > 1 else ADVOCATE_EMAIL,
                    "",
                    f"Company {self.adv_company[aid]}",
                    "",
                    "advocate",
                    aid,
                    aid,
                    now,
                )
            )
        staff = [*self.rep_ids, self.manager_id]
        for i, uid in enumerate(staff):
            pid = n + 1 + i
            rows.append(
                (
                    pid,
                    f"Colleague {uid}",
                    "",
                    "",
                    "Us",
                    "Account executive",
                    "employee",
                    None,
                    uid,
                    now,
                )
            )
        first_contact = n + len(staff) + 1
        n_contacts = max(10, n // 2)
        for i in range(n_contacts):
            pid = first_contact + i
            rows.append(
                (pid, f"Contact {pid}", "", "", f"Buyer {i % 997}", "", "contact", None, None, now)
            )
        last = first_contact + n_contacts - 1
        w.write(
            Person,
            [
                "id",
                "full_name",
                "email",
                "linkedin_url",
                "company_name",
                "title",
                "kind",
                "advocate_id",
                "user_id",
                "created_at",
            ],
            rows,
        )
        target = self.count(1_000_000, 100)
        seen: set[int] = set()
        edges: list[Row] = []
        stride = last + 1
        while len(edges) < target:
            a = rng.randint(1, last)
            b = rng.randint(1, last)
            if a == b:
                continue
            key = a * stride + b
            if key in seen:
                continue
            seen.add(key)
            edges.append((len(edges) + 1, a, b, "linkedin", "", None, None, now))
        w.write(
            Relationship,
            [
                "id",
                "from_person_id",
                "to_person_id",
                "source",
                "note",
                "connected_on",
                "created_by_id",
                "created_at",
            ],
            edges,
        )

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
        # Totals beside the ledger, in one statement per batch.
        updates = [
            (aid, self.balance[aid], self.lifetime[aid])
            for aid in range(1, n + 1)
            if self.balance[aid] or self.lifetime[aid]
        ]
        assert all(b >= 0 for _a, b, _l in updates), "generated a negative balance"
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Inside an outer transaction (tests), a previous run's table is still here.
                cursor.execute("DROP TABLE IF EXISTS pg_temp.bench_totals")
                cursor.execute(
                    "CREATE TEMP TABLE bench_totals (id bigint, balance int, lifetime int) "
                    "ON COMMIT DROP"
                )
                with cursor.cursor.copy("COPY bench_totals FROM STDIN") as copy:
                    for row in updates:
                        copy.write_row(row)
                cursor.execute(
                    "UPDATE advocates_advocate a SET balance = t.balance, "
                    "lifetime_points = t.lifetime FROM bench_totals t WHERE a.id = t.id"
                )
            else:
                cursor.executemany(
                    "UPDATE advocates_advocate SET balance = %s, lifetime_points = %s "
                    "WHERE id = %s",
                    [(b, lt, a) for a, b, lt in updates],
                )
