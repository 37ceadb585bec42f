"""Reads for the console's analytics: what advocates say (NPS) against what they do (AMS),
the promoters who have not acted yet, how concentrated referrals and deals are, and
what references gave. All aggregated by the database, so a large program costs the same
few queries.

"Promoters who have not acted yet" (the best people to ask next), the rule:
an enrolled advocate (active or paused) whose latest NPS answer is 9 or 10 and who, in
the last 12 months, made no referral (rejected ones do not count), gave no reference
call, and had no share, review or testimonial approved. This reads the activity
itself rather than ``ams == 0``, so it holds even before the nightly AMS recompute has
run; the AMS is shown beside each person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, QuerySet
from django.db.models.functions import Least
from django.utils import timezone

from advocates.models import Advocate
from challenges.models import Challenge, Submission
from console.ams import KIND_ACTIVITY
from references.models import Ask
from references.selectors import console_stats
from referrals.models import Referral, Stage

ENROLLED = (Advocate.Status.ACTIVE, Advocate.Status.PAUSED)
YEAR = timedelta(days=365)
# Public advocacy that counts as having acted (surveys, RSVPs and uploads do not).
# The same public kinds the AMS counts (console.ams.KIND_ACTIVITY), plus the challenge
# forms of referring and taking a call.
ADVOCACY_KINDS = (*KIND_ACTIVITY, Challenge.Kind.REFERRAL, Challenge.Kind.REFERENCE)
NPS_COLUMNS = [str(score) for score in range(11)]
AMS_BANDS = [f"{10 * band}–{10 * band + 9}" if band < 9 else "90–100" for band in range(10)]


def nps_group(score: int) -> str:
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


@dataclass(frozen=True)
class SayDo:
    """Advocates per (NPS score, AMS band of 10 points), and those with no NPS answer."""

    cells: dict[tuple[int, int], int]
    no_nps: int
    promoters: int
    passives: int
    detractors: int
    promoters_acting: int  # promoters with AMS ≥ 10: they say it and do it

    @property
    def answered(self) -> int:
        return self.promoters + self.passives + self.detractors


def say_vs_do() -> SayDo:
    """One GROUP BY over enrolled advocates: at most 11 × 10 + 1 rows back."""
    rows = (
        Advocate.objects.filter(status__in=ENROLLED)
        .order_by()
        .values("nps_score", band=Least(F("ams") / 10, 9))
        .annotate(n=Count("id"))
    )
    cells: dict[tuple[int, int], int] = {}
    no_nps = 0
    groups = {"promoter": 0, "passive": 0, "detractor": 0}
    acting = 0
    for row in rows:
        if row["nps_score"] is None:
            no_nps += row["n"]
            continue
        cells[(row["nps_score"], row["band"])] = row["n"]
        groups[nps_group(row["nps_score"])] += row["n"]
        if row["nps_score"] >= 9 and row["band"] >= 1:
            acting += row["n"]
    return SayDo(
        cells=cells,
        no_nps=no_nps,
        promoters=groups["promoter"],
        passives=groups["passive"],
        detractors=groups["detractor"],
        promoters_acting=acting,
    )


def promoters_not_acted(*, now: datetime | None = None) -> QuerySet[Advocate]:
    """The rule in the module docstring, best first: highest NPS, most recently active."""
    since = (now or timezone.now()) - YEAR
    referred = Referral.objects.filter(advocate_id=OuterRef("pk"), created_at__gte=since).exclude(
        stage=Stage.REJECTED
    )
    referenced = Ask.objects.filter(
        advocate_id=OuterRef("pk"), status=Ask.Status.COMPLETED, completed_at__gte=since
    )
    advocated = Submission.objects.filter(
        advocate_id=OuterRef("pk"),
        status=Submission.Status.APPROVED,
        created_at__gte=since,
        challenge__kind__in=ADVOCACY_KINDS,
    )
    return (
        Advocate.objects.filter(status__in=ENROLLED, nps_score__gte=9)
        .filter(~Exists(referred), ~Exists(referenced), ~Exists(advocated))
        .select_related("user", "company")
        .order_by("-nps_score", F("last_active_at").desc(nulls_last=True), "-lifetime_points", "id")
    )


@dataclass(frozen=True)
class Concentration:
    """Share of referrals and won deals made by the top 1% / 10% of referring advocates.

    Same definition as the referral KPIs (referrals/kpis.py): advocates ranked by their
    number of referrals in the window (rejected left out), ties by id; the top k% is
    ceil(k% of referring advocates).
    """

    referring: int
    referrals: int
    won: int
    top1_advocates: int
    top1_referrals: int
    top1_won: int
    top10_advocates: int
    top10_referrals: int
    top10_won: int

    def _share(self, part: int, whole: int) -> int | None:
        return round(100 * part / whole) if whole else None

    @property
    def top1_referral_share(self) -> int | None:
        return self._share(self.top1_referrals, self.referrals)

    @property
    def top1_won_share(self) -> int | None:
        return self._share(self.top1_won, self.won)

    @property
    def top10_referral_share(self) -> int | None:
        return self._share(self.top10_referrals, self.referrals)

    @property
    def top10_won_share(self) -> int | None:
        return self._share(self.top10_won, self.won)


# Window functions rank in the database (SQLite ≥ 3.25 and PostgreSQL both have them):
# referrals/kpis.py sorts every referring advocate in Python, which is fine for its
# JSON but not for a page loaded on every visit of a large program.
# The table name is ours, every value is a parameter (S608 is about user input).
_CONCENTRATION_SQL = f"""
WITH per AS (
    SELECT advocate_id, COUNT(*) AS n,
           SUM(CASE WHEN stage = %s THEN 1 ELSE 0 END) AS won
    FROM {Referral._meta.db_table}
    WHERE created_at >= %s AND created_at < %s AND stage <> %s
    GROUP BY advocate_id
), ranked AS (
    SELECT n, won,
           ROW_NUMBER() OVER (ORDER BY n DESC, advocate_id) AS position,
           COUNT(*) OVER () AS referring
    FROM per
)
SELECT COUNT(*), COALESCE(SUM(n), 0), COALESCE(SUM(won), 0),
       COALESCE(SUM(CASE WHEN position <= (referring + 99) / 100 THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN position <= (referring + 99) / 100 THEN n ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN position <= (referring + 99) / 100 THEN won ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN position <= (10 * referring + 99) / 100 THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN position <= (10 * referring + 99) / 100 THEN n ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN position <= (10 * referring + 99) / 100 THEN won ELSE 0 END), 0)
FROM ranked
"""  # noqa: S608


CONCENTRATION_CACHE_KEY = "campaigns:analytics:concentration:v1"
CONCENTRATION_CACHE_SECONDS = 300


def concentration_last_year(*, now: datetime | None = None) -> Concentration:
    """The last 12 months' concentration, computed at most every few minutes.

    Ranking every referring advocate costs real database time on a large program
    (bench/results/ has the figures), and a year's figure does not move in five minutes.
    """
    cached = cache.get(CONCENTRATION_CACHE_KEY)
    if cached is None:
        now = now or timezone.now()
        cached = concentration(since=now - YEAR, until=now)
        cache.set(CONCENTRATION_CACHE_KEY, cached, CONCENTRATION_CACHE_SECONDS)
    return cached


def concentration(*, since: datetime, until: datetime) -> Concentration:
    with connection.cursor() as cursor:
        adapt = connection.ops.adapt_datetimefield_value  # as the ORM stores them
        cursor.execute(
            _CONCENTRATION_SQL,
            [Stage.WON.value, adapt(since), adapt(until), Stage.REJECTED.value],
        )
        row = cursor.fetchone()
    return Concentration(*(int(value) for value in row))


@dataclass(frozen=True)
class ReferencesGiven:
    calls: int  # reference calls completed in the window
    advocates: int  # advocates who gave them
    influenced_revenue: Decimal  # all time: won deals after a completed call
    influenced_deals: int
    open_requests: int
    fulfilment_rate: int | None


def references_given(*, since: datetime) -> ReferencesGiven:
    given = Ask.objects.filter(status=Ask.Status.COMPLETED, completed_at__gte=since).aggregate(
        calls=Count("id"), advocates=Count("advocate", distinct=True)
    )
    stats = console_stats()  # the references app's own figures (influenced revenue)
    return ReferencesGiven(
        calls=given["calls"],
        advocates=given["advocates"],
        influenced_revenue=stats.influenced_revenue,
        influenced_deals=stats.influenced_deals,
        open_requests=stats.open_requests,
        fulfilment_rate=stats.fulfilment_rate,
    )
