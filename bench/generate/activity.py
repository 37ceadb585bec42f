"""Challenge submissions and reward redemptions, with their ledger entries."""

from __future__ import annotations

from datetime import timedelta

from bench.generate.constants import Row, weighted
from bench.generate.program import Program
from challenges.models import NPSResponse, Submission
from referrals.models import (
    ReferralReward,
)
from rewards.models import Redemption


def submissions(g: Program) -> None:
    rng, w = g.rng, g.w
    target = g.count(1_000_000, 50)
    n_challenges = len(g.challenge_points)
    per = max(1, target // max(1, len(g.active)))
    rows: list[Row] = []
    nps: list[Row] = []
    sid = 0
    for aid in g.active:
        k = min(n_challenges, max(1, round(rng.gauss(per, per / 3))))
        for challenge in rng.sample(range(1, n_challenges + 1), k):
            sid += 1
            points, kind = g.challenge_points[challenge - 1]
            at = g.ago(365)
            status = weighted(rng, [("approved", 85), ("pending", 10), ("rejected", 5)])[0]
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
                    g.manager_id if reviewed else None,
                    reviewed,
                    "Not quite." if status == "rejected" else "",
                )
            )
            if status == "approved":
                assert reviewed is not None  # an approved submission was reviewed
                g.entry(
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


def redemptions(g: Program) -> None:
    rng, w = g.rng, g.w
    target = g.count(100_000, 10)
    rows: list[Row] = []
    for red_id in range(1, target + 1):
        aid = 1 if red_id % 40 == 0 else rng.choice(g.active)
        reward = rng.randrange(len(g.rewards))
        cost = g.rewards[reward]
        if g.balance[aid] < cost:
            # Too poor for it: the cheapest one, or nothing.
            reward = min(range(len(g.rewards)), key=g.rewards.__getitem__)
            cost = g.rewards[reward]
            if g.balance[aid] < cost:
                continue
        at = g.ago(60)
        status = weighted(
            rng, [("fulfilled", 60), ("requested", 15), ("approved", 10), ("cancelled", 15)]
        )[0]
        spend = g.entry(
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
            refund = g.entry(
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
                g.manager_id if status != "requested" else None,
                "Changed my mind" if status == "cancelled" else "",
            )
        )
    # The spend/refund entries must exist before redemptions point at them.
    g.flush_ledger()
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
        g.referral_rewards,
    )
