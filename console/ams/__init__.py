"""The Advocate Mobilization Score (AMS): what an advocate actually did, 0–100.

NPS measures what customers *say*; the AMS measures what they *do*. It counts the
advocate's activity of the last 12 months (365 days) in two components:

- **private** (work that moves one deal): reference calls given (asks marked
  completed, by ``completed_at``), referrals made (not rejected, by ``created_at``),
  referrals won (by ``won_at``);
- **public** (advocacy anyone can see): approved challenge submissions by
  ``Challenge.kind``, dated by when the advocate submitted them: social shares,
  reviews, testimonials, case studies, community answers.

The formula (``ams_compute``, a pure function)::

    points(component) = Σ weight[activity] × min(count[activity], cap[activity])
    private = round(private_share       × min(points(private), private_full) / private_full)
    public  = round((100-private_share) × min(points(public),  public_full)  / public_full)
    AMS     = private + public                       (0–100, the parts add up exactly)

Default weights and why (managers change them at /console/ams/):

- Private counts for 60 of 100: a reference call or a referral puts the advocate's own
  name in front of a buyer and converts far better than public content, and it is the
  scarcer behaviour (seeds: measured advocacy beats NPS; referrals convert 3–5× better).
- A referral *won* (40) is worth more than a referral *made* (10): the outcome is what
  the business needs; making one still counts, so trying is rewarded. Made referrals
  count at most 5 a year, so a list of names does not buy a high score.
- A reference call (25, up to 4 a year) is an hour of the advocate's time; four a
  year is about what an advocate's own 90-day cap allows.
- Public: a case study (40, up to 2) is the most effort and the longest-lived asset;
  reviews (20, up to 3) and testimonials (20, up to 2) influence buyers directly;
  social shares and community answers (5 each, up to 10) are cheap, so they add up
  slowly and saturate.
- Each component is full at 100 points, so "excellent" is reachable without doing
  everything: 2 calls + 1 won referral + 1 made = 100 private points = 60 AMS.
  Everything beyond the caps and the full mark saturates: the score separates "does
  nothing", "does something", and "does a lot", and does not reward volume for its own
  sake.

When it is computed:

- **Incrementally** (``ams_refresh(advocate_id=...)``) by ``console.tasks.
  activity_refresh``, the worker task every activity queues after commit
  (``core.outbox.activity_after_commit``): a submission approved or rejected,
  a reference call marked done, a referral made, won, un-won or rejected, a redemption.
- **Nightly** (``ams_recompute_all``): every advocate, set-based and chunked. Activity
  ages out of the 12-month window only here. Full and incremental use the same
  ``ams_compute`` and the same counting rules, and a test checks they agree.
- **After the weights change** (``ams_weights_save`` and ``ams_industry_weights_save``
  queue the full recompute).

An advocate is scored with the weights of their industry (``Advocate.industry``,
compared case-insensitively) when a manager gave it its own, else the program's; an
industry's set keeps only the settings that differ and follows the program's for the
rest (``WeightsTable``; ``weights_for`` reads the same table). An advocate who changes
industry on their profile is rescored at once; an industry changed another way (an
import, the admin) is picked up by the nightly recompute or their next activity.

``last_active_at`` is kept by the same code: the latest of an approved submission,
a referral made (not rejected), a reference call given and a redemption. It only moves
forward (a conditional update), so whichever of two refreshes lands last never moves
it back. ``nps_score`` is set to the latest NPS answer by challenges.services when the
answer is recorded; the refreshes re-read it, so it heals if something wrote around it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, Count, F, Max, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from advocates.models import Advocate
from challenges.models import NPSResponse, Submission

# The weights (console.ams.weights) are this module's names too.
from console.ams.weights import (  # noqa: F401 - re-exported
    ACTIVITIES,
    ACTIVITY_KEYS,
    AMS_RECOMPUTE_ALL_TASK,
    DEFAULT_WEIGHTS,
    LIMITS,
    PRIVATE,
    PUBLIC,
    Activity,
    WeightsTable,
    ams_industry_weights_delete,
    ams_industry_weights_save,
    ams_weights_save,
    weights_clean,
    weights_current,
    weights_for,
    weights_table,
)
from references.models import Ask
from referrals.models import Referral, Stage
from rewards.models import Redemption

WINDOW = timedelta(days=365)
CHUNK = 2000  # advocates per step of the full recompute

# Which approved challenge submissions count as which public activity.
KIND_ACTIVITY = {
    "social_share": "social_shares",
    "review": "reviews",
    "testimonial": "testimonials",
    "case_study": "case_studies",
    "community_answer": "community_answers",
}

# --- The formula ------------------------------------------------------------------------


@dataclass(frozen=True)
class AmsScore:
    total: int
    private: int
    public: int
    private_points: int
    public_points: int
    # activity key -> points it contributed (after its cap)
    contributions: dict[str, int] = field(default_factory=dict)


def _scaled(share: int, points: int, full: int) -> int:
    # Integer round-half-up of share × min(points, full) / full: the same in every run.
    return (2 * share * min(points, full) + full) // (2 * full)


def ams_compute(counts: Mapping[str, int], weights: Mapping[str, int] | None = None) -> AmsScore:
    """The score for activity ``counts`` (activity key -> count in the window)."""
    w = DEFAULT_WEIGHTS if weights is None else {**DEFAULT_WEIGHTS, **weights}
    contributions = {}
    totals = {PRIVATE: 0, PUBLIC: 0}
    for activity in ACTIVITIES:
        count = max(int(counts.get(activity.key, 0) or 0), 0)
        points = w[activity.key] * min(count, w[f"{activity.key}_cap"])
        contributions[activity.key] = points
        totals[activity.component] += points
    share = w["private_share"]
    private = _scaled(share, totals[PRIVATE], w["private_full"])
    public = _scaled(100 - share, totals[PUBLIC], w["public_full"])
    return AmsScore(
        total=private + public,
        private=private,
        public=public,
        private_points=totals[PRIVATE],
        public_points=totals[PUBLIC],
        contributions=contributions,
    )


# --- Counting one advocate's activity (incremental) ------------------------------------


@dataclass
class Activity12m:
    counts: dict[str, int]
    last_active_at: datetime | None
    nps_score: int | None


def _latest(*moments: datetime | None) -> datetime | None:
    present = [moment for moment in moments if moment is not None]
    return max(present) if present else None


def activity_of(advocate_id: int, now: datetime | None = None) -> Activity12m:
    """The counts behind one advocate's score, in a few aggregate queries."""
    since = (now or timezone.now()) - WINDOW
    counts = dict.fromkeys(ACTIVITY_KEYS, 0)
    calls = Ask.objects.filter(advocate_id=advocate_id, status=Ask.Status.COMPLETED).aggregate(
        n=Count("pk", filter=Q(completed_at__gte=since)), last=Max("completed_at")
    )
    counts["reference_calls"] = calls["n"]
    referrals = (
        Referral.objects.filter(advocate_id=advocate_id)
        .exclude(stage=Stage.REJECTED)
        .aggregate(
            made=Count("pk", filter=Q(created_at__gte=since)),
            won=Count("pk", filter=Q(stage=Stage.WON, won_at__gte=since)),
            last=Max("created_at"),
        )
    )
    counts["referrals_made"] = referrals["made"]
    counts["referrals_won"] = referrals["won"]
    approved = Submission.objects.filter(advocate_id=advocate_id, status=Submission.Status.APPROVED)
    for row in (
        approved.filter(created_at__gte=since, challenge__kind__in=list(KIND_ACTIVITY))
        .values("challenge__kind")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[KIND_ACTIVITY[row["challenge__kind"]]] += row["n"]
    last_submission = approved.aggregate(last=Max("created_at"))["last"]
    last_redemption = Redemption.objects.filter(advocate_id=advocate_id).aggregate(
        last=Max("created_at")
    )["last"]
    nps = (
        NPSResponse.objects.filter(advocate_id=advocate_id)
        .order_by("-created_at", "-id")
        .values_list("score", flat=True)
        .first()
    )
    return Activity12m(
        counts=counts,
        last_active_at=_latest(calls["last"], referrals["last"], last_submission, last_redemption),
        nps_score=nps,
    )


def _forward_only(moment: datetime) -> Case:
    """last_active_at = moment, unless it is already later (conditional in SQL)."""
    return Case(
        When(Q(last_active_at__isnull=True) | Q(last_active_at__lt=moment), then=Value(moment)),
        default=F("last_active_at"),
        output_field=_field("last_active_at"),
    )


def ams_refresh(
    *, advocate_id: int, now: datetime | None = None, weights: Mapping[str, int] | None = None
) -> AmsScore | None:
    """Recompute one advocate's AMS, last activity and NPS from their records."""
    activity = activity_of(advocate_id, now)
    if weights is None:
        industry = Advocate.objects.filter(pk=advocate_id).values_list("industry", flat=True)
        weights = weights_for(industry.first())
    score = ams_compute(activity.counts, weights)
    values: dict[str, Any] = {
        "ams": score.total,
        "ams_private": score.private,
        "ams_public": score.public,
        "nps_score": activity.nps_score,
    }
    unchanged = Q(
        ams=score.total,
        ams_private=score.private,
        ams_public=score.public,
        nps_score=activity.nps_score,
    )
    if activity.last_active_at is not None:
        values["last_active_at"] = _forward_only(activity.last_active_at)
        unchanged &= Q(last_active_at__gte=activity.last_active_at)
    # Moved only when a value changed: the API's updated_since would otherwise list
    # every advocate whose activity was refreshed to the same figures.
    values["updated_at"] = Case(
        When(unchanged, then=F("updated_at")),
        default=Value(timezone.now()),
        output_field=_field("updated_at"),
    )
    updated = Advocate.objects.filter(pk=advocate_id).update(**values)
    return score if updated else None


# --- The full recompute (nightly, and after the weights change) ------------------------


def _id_chunks(size: int) -> Iterator[list[int]]:
    last = 0
    while True:
        ids = list(
            Advocate.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size]
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


def _activity_of_range(low: int, high: int, now: datetime) -> dict[int, Activity12m]:
    """The same counts as ``activity_of``, for every advocate with low <= id <= high,
    as one GROUP BY per source table (each reads its advocate-first index)."""
    since = now - WINDOW
    window = {"advocate_id__gte": low, "advocate_id__lte": high}
    rows: dict[int, Activity12m] = {}

    def row(advocate_id: int) -> Activity12m:
        if advocate_id not in rows:
            rows[advocate_id] = Activity12m(dict.fromkeys(ACTIVITY_KEYS, 0), None, None)
        return rows[advocate_id]

    for item in (
        Ask.objects.filter(status=Ask.Status.COMPLETED, **window)
        .values("advocate_id")
        .annotate(n=Count("pk", filter=Q(completed_at__gte=since)), last=Max("completed_at"))
        .order_by()
    ):
        entry = row(item["advocate_id"])
        entry.counts["reference_calls"] = item["n"]
        entry.last_active_at = _latest(entry.last_active_at, item["last"])
    for item in (
        Referral.objects.filter(**window)
        .exclude(stage=Stage.REJECTED)
        .values("advocate_id")
        .annotate(
            made=Count("pk", filter=Q(created_at__gte=since)),
            won=Count("pk", filter=Q(stage=Stage.WON, won_at__gte=since)),
            last=Max("created_at"),
        )
        .order_by()
    ):
        entry = row(item["advocate_id"])
        entry.counts["referrals_made"] = item["made"]
        entry.counts["referrals_won"] = item["won"]
        entry.last_active_at = _latest(entry.last_active_at, item["last"])
    approved = Submission.objects.filter(status=Submission.Status.APPROVED, **window)
    for item in (
        approved.filter(created_at__gte=since, challenge__kind__in=list(KIND_ACTIVITY))
        .values("advocate_id", "challenge__kind")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        row(item["advocate_id"]).counts[KIND_ACTIVITY[item["challenge__kind"]]] += item["n"]
    for item in approved.values("advocate_id").annotate(last=Max("created_at")).order_by():
        entry = row(item["advocate_id"])
        entry.last_active_at = _latest(entry.last_active_at, item["last"])
    for item in (
        Redemption.objects.filter(**window)
        .values("advocate_id")
        .annotate(last=Max("created_at"))
        .order_by()
    ):
        entry = row(item["advocate_id"])
        entry.last_active_at = _latest(entry.last_active_at, item["last"])
    latest_nps = (
        NPSResponse.objects.filter(advocate_id=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values("score")[:1]
    )
    for advocate_id, nps in (
        Advocate.objects.filter(pk__gte=low, pk__lte=high)
        .annotate(latest=Subquery(latest_nps))
        .filter(latest__isnull=False)
        .values_list("pk", "latest")
    ):
        row(advocate_id).nps_score = nps
    return rows


def _field(name: str) -> Any:
    return Advocate._meta.get_field(name)


@dataclass
class _Change:
    pk: int
    old: dict[str, Any]
    scores: dict[str, int] | None = None
    nps: bool = False  # write nps_score
    nps_score: int | None = None
    last_active_at: datetime | None = None


def _write(changes: list[_Change]) -> None:
    """Write a chunk's changes with few, simple statements.

    Rows are grouped by the values they get: one UPDATE per (old scores, new scores)
    pair, per new NPS value, and one per newer last activity, rather than a CASE with a
    WHEN per row: Django is slow to compile those and PostgreSQL evaluates the WHENs one
    by one for every row, so the cost grows with the square of the batch.
    """
    now = timezone.now()  # updated_at: .update() skips auto_now, and the API reads it
    by_scores: dict[tuple, list[int]] = {}
    by_nps: dict[int | None, list[int]] = {}
    for change in changes:
        if change.scores is not None:
            old = change.old
            key = (
                (old["ams"], old["ams_private"], old["ams_public"]),
                (change.scores["ams"], change.scores["ams_private"], change.scores["ams_public"]),
            )
            by_scores.setdefault(key, []).append(change.pk)
        if change.nps:
            by_nps.setdefault(change.nps_score, []).append(change.pk)
    for ((old_total, old_private, old_public), (total, private, public)), pks in by_scores.items():
        # Compare-and-set on the values read: if an incremental refresh wrote newer
        # ones meanwhile, this older reading leaves them alone.
        Advocate.objects.filter(
            pk__in=pks, ams=old_total, ams_private=old_private, ams_public=old_public
        ).update(ams=total, ams_private=private, ams_public=public, updated_at=now)
    for nps, pks in by_nps.items():
        Advocate.objects.filter(pk__in=pks).update(nps_score=nps, updated_at=now)
    for change in changes:
        if change.last_active_at is not None:
            last = change.last_active_at
            # Only forward: a refresh that landed meanwhile with a later time wins.
            Advocate.objects.filter(
                Q(pk=change.pk), Q(last_active_at__isnull=True) | Q(last_active_at__lt=last)
            ).update(last_active_at=last, updated_at=now)


def _apply_chunk(ids: list[int], now: datetime, weights: WeightsTable) -> int:
    """Recompute one chunk; write only the advocates whose values changed. Returns how
    many were written."""
    current: dict[int, dict[str, Any]] = {
        row["pk"]: dict(row)
        for row in Advocate.objects.filter(pk__in=ids).values(
            "pk", "ams", "ams_private", "ams_public", "nps_score", "last_active_at", "industry"
        )
    }
    activity = _activity_of_range(ids[0], ids[-1], now)
    empty = Activity12m(dict.fromkeys(ACTIVITY_KEYS, 0), None, None)
    changes: list[_Change] = []
    for pk, old in current.items():
        mine = activity.get(pk, empty)
        score = ams_compute(mine.counts, weights.for_industry(old["industry"]))
        change = _Change(pk=pk, old=old)
        new = {"ams": score.total, "ams_private": score.private, "ams_public": score.public}
        if any(old[name] != value for name, value in new.items()):
            change.scores = new
        if old["nps_score"] != mine.nps_score:
            change.nps, change.nps_score = True, mine.nps_score
        last = mine.last_active_at
        if last is not None and (old["last_active_at"] is None or old["last_active_at"] < last):
            change.last_active_at = last
        if change.scores is not None or change.nps or change.last_active_at is not None:
            changes.append(change)
    _write(changes)
    return len(changes)


def ams_refresh_all(
    *, now: datetime | None = None, weights: Mapping[str, int] | None = None, chunk: int = CHUNK
) -> int:
    """Recompute every advocate, ``chunk`` at a time (each chunk its own transaction),
    each with their industry's weights (``weights``, if given, for everyone). Returns
    how many advocates changed."""
    now = now or timezone.now()
    table = weights_table() if weights is None else WeightsTable(program=dict(weights))
    changed = 0
    for ids in _id_chunks(chunk):
        with transaction.atomic():
            changed += _apply_chunk(ids, now, table)
    return changed


def explain(score: AmsScore, counts: Mapping[str, int], weights: Mapping[str, int]) -> list[dict]:
    """Rows for a page: each activity's count, cap, weight and contribution."""
    return [
        {
            "activity": activity,
            "count": counts.get(activity.key, 0),
            "cap": weights[f"{activity.key}_cap"],
            "weight": weights[activity.key],
            "points": score.contributions.get(activity.key, 0),
        }
        for activity in ACTIVITIES
    ]
