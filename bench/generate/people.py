"""Companies, users (advocates, reps, the manager), advocates and their links; the
catalog and challenges."""

from __future__ import annotations

from datetime import timedelta

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Group

from advocates.models import (
    Advocate,
    Company,
    MatchingProfile,
    Product,
    Tag,
    User,
)
from bench.generate.constants import (
    ADVOCATE_EMAIL,
    BENCH_TOTP_SECRET,
    CHALLENGE_KINDS,
    FIRST,
    INDUSTRIES,
    LAST,
    MANAGER_EMAIL,
    PRODUCTS,
    REP_EMAIL,
    REWARD_KINDS,
    SIZE_BANDS,
    TAGS,
    TITLES,
    Row,
    weighted,
)
from bench.generate.program import Program
from challenges.models import Challenge, Level
from core.roles import MANAGERS_GROUP, REPS_GROUP
from references.models import MatchingWeights
from referrals.models import (
    ReferralLink,
    RewardRule,
)
from rewards.models import Reward


def _ids(ids: list[int]) -> str:
    """As MatchingProfile keeps product and tag ids: " 3 5 "."""
    return f" {' '.join(str(pk) for pk in sorted(ids))} "


def people(g: Program) -> None:
    rng, n, w, now = g.rng, g.n, g.w, g.now
    managers = Group.objects.get_or_create(name=MANAGERS_GROUP)[0]
    reps_group = Group.objects.get_or_create(name=REPS_GROUP)[0]
    g.products = [Product.objects.create(name=name).pk for name in PRODUCTS]
    g.tags = [Tag.objects.create(name=name).pk for name in TAGS]
    n_companies = g.count(5000, 3)
    g.companies = []
    rows: list[Row] = []
    for cid in range(1, n_companies + 1):
        industry = rng.choice(INDUSTRIES)
        size = rng.choice(SIZE_BANDS)
        g.companies.append((industry, size))
        rows.append((cid, f"Company {cid}", f"company{cid}.example", industry, size))
    w.write(Company, ["id", "name", "domain", "industry", "size_band"], rows)

    # Users: 1..n advocates, then reps, then the manager.
    n_reps = g.count(50, 2)
    g.rep_ids = list(range(n + 1, n + n_reps + 1))
    g.manager_id = n + n_reps + 1
    joined_base = now - timedelta(days=730)
    user_rows: list[Row] = []
    for uid in range(1, g.manager_id + 1):
        if uid == 1:
            email, first, last, password = ADVOCATE_EMAIL, "Bea", "Bench", g.hashed
        elif uid == g.rep_ids[0]:
            email, first, last, password = REP_EMAIL, "Rob", "Rep", g.hashed
        elif uid == g.manager_id:
            email, first, last, password = MANAGER_EMAIL, "Mia", "Manager", g.hashed
        else:
            email, first, last = f"user{uid}@bench.example", rng.choice(FIRST), rng.choice(LAST)
            password = "!bench"  # noqa: S105 - unusable: only the bench logins sign in
        user_rows.append(
            (uid, email, first, last, password, uid == g.manager_id, True, joined_base)
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
        [User.groups.through(user_id=uid, group_id=reps_group.pk) for uid in g.rep_ids]
        + [User.groups.through(user_id=g.manager_id, group_id=managers.pk)]
    )
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user_id=uid, email=email, verified=True, primary=True)
            for uid, email in (
                (1, ADVOCATE_EMAIL),
                (g.rep_ids[0], REP_EMAIL),
                (g.manager_id, MANAGER_EMAIL),
            )
        ]
    )
    TOTP.activate(User.objects.get(pk=g.manager_id), BENCH_TOTP_SECRET)

    g.status = [""] * (n + 1)
    g.opt_in = [False] * (n + 1)
    g.owner = [0] * (n + 1)
    g.adv_company = [0] * (n + 1)
    rows = []
    prod_rows: list[Row] = []
    tag_rows: list[Row] = []
    profile_rows: list[Row] = []
    pid = tid = 0
    seniorities = list(TITLES)
    for aid in range(1, n + 1):
        status = (
            "active"
            if aid == 1
            else weighted(rng, [("active", 85), ("invited", 8), ("paused", 4), ("left", 3)])[0]
        )
        company = rng.randint(1, n_companies)
        seniority = rng.choice(seniorities)
        owner = g.rep_ids[0] if aid % 4 == 0 or aid == 1 else rng.choice(g.rep_ids)
        opt_in = status == "active" and rng.random() < 0.4
        g.status[aid], g.opt_in[aid], g.owner[aid] = status, opt_in, owner
        g.adv_company[aid] = company
        joined = joined_base + timedelta(seconds=rng.random() * 700 * 86400)
        rows.append(
            (
                aid,
                aid,
                company,
                rng.choice(TITLES[seniority]),
                seniority,
                g.companies[company - 1][0],
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
        products = rng.sample(g.products, rng.randint(1, 3))
        for product in products:
            pid += 1
            prod_rows.append((pid, aid, product))
        tags = rng.sample(g.tags, rng.randint(1, 3))
        for tag in tags:
            tid += 1
            tag_rows.append((tid, aid, tag))
        industry, cap = rows[-1][5], rows[-1][10]  # the advocate's own industry: never blank
        if opt_in and cap > 0:  # opted in only when active
            size = g.companies[company - 1][1]
            profile_rows.append(
                (aid, industry.lower(), seniority, size, cap, _ids(products), _ids(tags))
            )
    g.advocate_fields = [
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
    # write them now with zero and set the totals, and the referral and reference
    # counts, in finish_ledger).
    w.write(Advocate, g.advocate_fields, rows)
    w.write(Advocate.products.through, ["id", "advocate_id", "product_id"], prod_rows)
    w.write(Advocate.tags.through, ["id", "advocate_id", "tag_id"], tag_rows)
    # What advocates.services.matching_profiles would compute from the rows above.
    w.write(
        MatchingProfile,
        ["advocate_id", "industry", "seniority", "size_band", "calls_cap", "products", "tags"],
        profile_rows,
    )
    g.active = [aid for aid in range(1, n + 1) if g.status[aid] == "active"]

    for aid in range(1, n + 1):
        if g.status[aid] != "invited":
            g.entry(
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


def catalog_and_challenges(g: Program) -> None:
    rng, w, now = g.rng, g.w, g.now
    Level.objects.bulk_create(
        [
            Level(name="Insider", threshold=0),
            Level(name="Advocate", threshold=500),
            Level(name="Champion", threshold=2000),
            Level(name="Legend", threshold=5000),
        ]
    )
    n_challenges = g.count(300, 10)
    g.challenge_points = []
    rows: list[Row] = []
    for cid in range(1, n_challenges + 1):
        points = rng.choice((25, 50, 50, 100, 150, 250))
        starts = g.ago(365)
        # Most are open now; some ended, some drafts and archived.
        status = weighted(rng, [("published", 80), ("archived", 12), ("draft", 8)])[0]
        ends = None if rng.random() < 0.6 else starts + timedelta(days=rng.randint(30, 500))
        kind = CHALLENGE_KINDS[cid % len(CHALLENGE_KINDS)]
        g.challenge_points.append((points, kind))
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
                g.manager_id,
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
    n_rewards = g.count(50, 5)
    g.rewards = []
    rows = []
    for rid in range(1, n_rewards + 1):
        cost = rng.choice((100, 200, 250, 500, 750, 1000, 2000))
        stock = None if rng.random() < 0.5 else rng.randint(0, 500)
        g.rewards.append(cost)
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
