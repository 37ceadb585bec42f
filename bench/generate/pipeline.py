"""Referrals with their stage changes and rewards, reference requests and asks, and
the relationship graph."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, timedelta
from decimal import Decimal

from advocates.models import (
    Person,
    Relationship,
)
from bench.generate.constants import (
    ADVOCATE_EMAIL,
    INDUSTRIES,
    METHODS,
    REQUEST_MIX,
    SIZE_BANDS,
    STAGE_MIX,
    TITLES,
    Row,
    weighted,
)
from bench.generate.program import Program
from references.models import Ask, ReferenceRequest
from referrals.models import (
    Referral,
    ReferralDay,
    ReferralStageChange,
    ReferralWonTime,
    ReferrerDays,
    Stage,
    day_number,
)


def referrals(g: Program) -> None:
    rng, w = g.rng, g.w
    target = g.count(500_000, 25)
    rows: list[Row] = []
    changes: list[Row] = []
    rewards: list[Row] = []
    cid = 0
    for rid in range(1, target + 1):
        aid = 1 if rid % 50 == 0 else rng.choice(g.active)
        method = METHODS[rid % len(METHODS)]
        final, path, _w = weighted(rng, STAGE_MIX)
        if final != Stage.REJECTED:
            g.referral_count[aid] += 1
        created = g.ago(365)
        at = created
        cid += 1
        changes.append((cid, rid, "", "submitted", created, created, None, "system", None))
        previous = "submitted"
        won_at = None
        amount = None
        for stage in path:
            at = at + timedelta(days=rng.randint(1, 20))
            if at > g.now:
                at = g.now
            cid += 1
            deal = Decimal(rng.randint(5, 200) * 1000) if stage == Stage.WON else None
            changes.append((cid, rid, previous, stage, at, at, g.owner[aid], "rep", deal))
            previous = stage
            if stage == Stage.QUALIFIED:
                entry = g.entry(
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
                entry = g.entry(
                    aid,
                    500,
                    "award",
                    "Referral won",
                    f"referral:{rid}:won-reward",
                    at,
                    ("referrals.referral", rid),
                )
                rewards.append((len(rewards) + 1, rid, "won", 1, 500, "paid", entry, None, at, at))
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
                g.owner[aid],
                g.owner[aid] if method == "verbal" else aid,
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
    g.referral_rewards = rewards
    kpi_rollups(g, rows, rewards)


def kpi_rollups(g: Program, referrals: list[Row], rewards: list[Row]) -> None:
    """The KPIs' rollups of the referrals above, as referrals.services.figures computes
    them from the rows (every reward here is paid)."""
    points: dict[int, int] = defaultdict(int)
    for reward in rewards:
        points[reward[1]] += reward[4]
    days: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, Decimal(0), 0])
    won_times: dict[tuple, int] = defaultdict(int)
    timelines: dict[int, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for row in referrals:
        rid, aid, method, stage, amount, created, won_at = (
            row[0], row[1], row[2], row[9], row[13], row[15], row[17]
        )  # fmt: skip
        if stage == Stage.REJECTED:
            continue
        figures = days[(created.astimezone(UTC).date(), method)]
        figures[0] += 1
        figures[4] += points[rid]
        timeline = timelines[aid]
        timeline[0].append(day_number(created))
        if stage == Stage.WON:
            figures[1] += 1
            figures[3] += amount or Decimal(0)
            timeline[1].append(day_number(created))
            if won_at is not None:
                figures[2] += 1
                won_times[
                    (created.astimezone(UTC).date(), (won_at - created) // timedelta(days=1))
                ] += 1
    g.w.write(
        ReferralDay,
        ["id", "day", "method", "referrals", "won", "timed", "revenue", "reward_points"],
        ((pk, *key, *figures) for pk, (key, figures) in enumerate(sorted(days.items()), 1)),
    )
    g.w.write(
        ReferralWonTime,
        ["id", "day", "whole_days", "deals"],
        ((pk, *key, n) for pk, (key, n) in enumerate(sorted(won_times.items()), 1)),
    )
    g.w.write(
        ReferrerDays,
        ["advocate_id", "days", "won_days"],
        ((aid, sorted(made), sorted(won)) for aid, (made, won) in sorted(timelines.items())),
    )


def references(g: Program) -> None:
    rng, w, now = g.rng, g.w, g.now
    target = g.count(20_000, 10)
    rows: list[Row] = []
    prod_rows: list[Row] = []
    topic_rows: list[Row] = []
    asks: list[Row] = []
    ask_id = 0
    pid = tid = 0
    seniorities = list(TITLES)
    candidates = [aid for aid in g.active if g.opt_in[aid]] or g.active
    for qid in range(1, target + 1):
        rep = g.rep_ids[0] if qid % 5 == 0 or qid <= 3 else rng.choice(g.rep_ids)
        # The bench rep's newest requests are open: the page shows live matches.
        status = ReferenceRequest.Status.OPEN if qid > target - 3 else weighted(rng, REQUEST_MIX)[0]
        if qid > target - 3:
            rep = g.rep_ids[0]
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
        for product in rng.sample(g.products, 2):
            pid += 1
            prod_rows.append((pid, qid, product))
        for tag in rng.sample(g.tags, 2):
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
                g.reference_count[aid] += 1
                g.entry(
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
    w.write(ReferenceRequest.topics.through, ["id", "referencerequest_id", "tag_id"], topic_rows)
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


def graph(g: Program) -> None:
    rng, w, n, now = g.rng, g.w, g.n, g.now
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
                f"Company {g.adv_company[aid]}",
                "",
                "advocate",
                aid,
                aid,
                now,
            )
        )
    staff = [*g.rep_ids, g.manager_id]
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
    target = g.count(1_000_000, 100)
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
