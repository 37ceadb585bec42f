"""The program's referral KPIs for one window.

The window holds referrals created from ``start`` 00:00 UTC (inclusive) to ``end``
00:00 UTC (exclusive); rejected referrals are left out of every figure. Rates are
fractions rounded to 4 decimals, and 0.0 when their denominator is zero.

Everything is aggregated in the database and comes back as a handful of rows (never one
row per advocate and method into Python), and a window's cost follows its days and the
program's advocates, not its referrals, through rollups the referral services keep on
every write (``referrals.services.figures``):

- the counts, won, revenue and reward points per method are sums over the window's
  days (``ReferralDay``);
- the per-advocate figures (distribution and top 1 %/10 %) come, on PostgreSQL, from
  each advocate's sorted referral days (``ReferrerDays``): two binary searches per
  advocate. Elsewhere (SQLite, development) from the referrals of the window;
- the median finds the whole days its middle deals took from ``ReferralWonTime`` and
  sorts only the won deals of those days;
- the enrolled advocates are one count.

The console still keeps a copy per window (``referral_kpis_cached``, see its docstring).
"""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import DurationField, ExpressionWrapper, F, QuerySet, Sum
from django.utils import timezone

from advocates.models import Advocate
from core.cache import cache_version, cache_version_bump
from referrals.models import (
    Method,
    Referral,
    ReferralDay,
    ReferralWonTime,
    ReferrerDays,
    Stage,
    day_number,
)

# Published figures of a referral-program study (Amplifinity), shown beside each of ours
# in the console.
BENCHMARKS: dict[str, Any] = {
    "active_rate": 0.36,
    "conversion_rate": 0.13,
    "referrer_distribution": {"1": 0.61, "2-10": 0.34, "11+": 0.05},
    "top_1_percent": {"share_of_referrals": 0.22, "share_of_won": 0.01},
    "top_10_percent": {"share_of_referrals": 0.54, "share_of_won": 0.06},
    "by_method_conversion": {
        "verbal": 0.32,
        "lead_form": 0.19,
        "email": 0.17,
        "print_card": 0.12,
        "shareable_link": 0.04,
        "social": 0.01,
    },
    "by_method_share": {
        "social": 0.29,
        "email": 0.24,
        "lead_form": 0.23,
        "verbal": 0.13,
        "shareable_link": 0.12,
        "print_card": 0.01,  # "<1%" in the study
    },
}


def _rate(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 4) if denominator else 0.0


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time.min, tzinfo=UTC),
        datetime.combine(end, time.min, tzinfo=UTC),
    )


def _top(
    per_advocate: dict[int, list[int]], percent: int, referrals: int, won: int
) -> dict[str, float | int]:
    """The definition of the top-k% figures, in Python: the SQL below must equal it.

    Advocates ranked by referrals in the window, most first, ties to the lower id; k is
    the exact ceiling of percent % of referring advocates. Kept as the reference the
    tests compare ``_CONCENTRATION_SQL`` with.
    """
    # Integer ceiling: ceil(0.1 * 30) in floats is 4, not 3.
    k = (percent * len(per_advocate) + 99) // 100
    ranked = sorted(per_advocate.items(), key=lambda item: (-item[1][0], item[0]))[:k]
    return {
        "advocates": k,
        "share_of_referrals": _rate(sum(counts[0] for _, counts in ranked), referrals),
        "share_of_won": _rate(sum(counts[1] for _, counts in ranked), won),
    }


# Per-advocate figures of the window in one row, from ``per`` (one row per referring
# advocate: n referrals, won). The ranking only sorts the top 10 % (a top-N heap sort of
# k rows, not a sort of every referring advocate), and the top 1 % is its head.
# ROW_NUMBER over (n DESC, advocate_id) is _top's tie rule. Integer division is the exact
# ceiling _top uses. FILTER and LIMIT (subquery) work on SQLite (>= 3.30) too. The table
# names are ours and every value a parameter (S608 is about user input).
_CONCENTRATION_SQL = """
WITH per AS ({per}), totals AS (
    SELECT COUNT(*) AS referring,
           COUNT(*) FILTER (WHERE n = 1) AS one,
           COUNT(*) FILTER (WHERE n >= 2 AND n <= 10) AS few,
           COUNT(*) FILTER (WHERE n > 10) AS many
    FROM per
), head AS (
    SELECT n, won, ROW_NUMBER() OVER (ORDER BY n DESC, advocate_id) AS position
    FROM (
        SELECT advocate_id, n, won FROM per ORDER BY n DESC, advocate_id
        LIMIT (SELECT (10 * referring + 99) / 100 FROM totals)
    ) AS top10
)
SELECT totals.referring, totals.one, totals.few, totals.many,
       (SELECT COALESCE(SUM(n), 0) FROM head
        WHERE position <= (totals.referring + 99) / 100),
       (SELECT COALESCE(SUM(won), 0) FROM head
        WHERE position <= (totals.referring + 99) / 100),
       (SELECT COALESCE(SUM(n), 0) FROM head),
       (SELECT COALESCE(SUM(won), 0) FROM head)
FROM totals
"""
# From the referrals of the window (parameters: won, since, until, rejected).
_PER_FROM_REFERRALS = f"""
    SELECT advocate_id, COUNT(*) AS n, COUNT(*) FILTER (WHERE stage = %s) AS won
    FROM {Referral._meta.db_table}
    WHERE created_at >= %s AND created_at < %s AND stage <> %s
    GROUP BY advocate_id
"""  # noqa: S608
# On PostgreSQL, from each advocate's sorted referral days (ReferrerDays): width_bucket(x,
# days) is the number of days <= x, a binary search, so an advocate's count in the window
# is two of them, and the query reads one row per advocate who ever referred instead of
# every referral of the window (parameters: the window's last day and the day before it,
# twice).
_PER_FROM_DAYS = f"""
    SELECT advocate_id, n, won FROM (
        SELECT advocate_id,
               width_bucket(%s, days) - width_bucket(%s, days) AS n,
               width_bucket(%s, won_days) - width_bucket(%s, won_days) AS won
        FROM {ReferrerDays._meta.db_table}
    ) AS counts
    WHERE n > 0
"""  # noqa: S608


def _window(since: datetime, until: datetime) -> QuerySet[Referral]:
    return Referral.objects.filter(created_at__gte=since, created_at__lt=until).exclude(
        stage=Stage.REJECTED
    )


def _concentration(start: date, end: date) -> dict[str, int]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            before, last = day_number(start) - 1, day_number(end) - 1
            cursor.execute(
                _CONCENTRATION_SQL.format(per=_PER_FROM_DAYS), [last, before, last, before]
            )
        else:
            since, until = _bounds(start, end)
            adapt = connection.ops.adapt_datetimefield_value  # as the ORM stores them
            cursor.execute(
                _CONCENTRATION_SQL.format(per=_PER_FROM_REFERRALS),
                [Stage.WON.value, adapt(since), adapt(until), Stage.REJECTED.value],
            )
        row = [int(value) for value in cursor.fetchone()]
    names = ("referring", "one", "few", "many", "top1_n", "top1_won", "top10_n", "top10_won")
    return dict(zip(names, row, strict=True))


def _median_days(won: QuerySet[Referral], start: date, end: date, timed: int) -> float | None:
    """The median days from created to won, reading only the one or two middle deals.

    The window's won deals by whole days to win (``ReferralWonTime``) say which whole
    days the middle ones took and how many deals took fewer: only the deals of those
    days are sorted (on PostgreSQL through the index on the time to win)."""
    if not timed:
        return None
    low, high = (timed - 1) // 2, timed // 2  # the middle positions, from 0
    buckets = (
        ReferralWonTime.objects.filter(day__gte=start, day__lt=end)
        .values("whole_days")
        .annotate(deals=Sum("deals"))
        .order_by("whole_days")
        .values_list("whole_days", "deals")
    )
    below, first, skipped, last = 0, 0, 0, 0
    for whole_days, deals in buckets:
        if below <= low < below + deals:
            first, skipped = whole_days, below
        if below <= high < below + deals:
            last = whole_days
            break
        below += deals
    took = ExpressionWrapper(F("won_at") - F("created_at"), DurationField())
    middle = list(
        won.filter(won_at__isnull=False)
        .annotate(days=took)
        .filter(days__gte=timedelta(days=first), days__lt=timedelta(days=last + 1))
        .order_by("days", "id")
        .values_list("created_at", "won_at")[low - skipped : high - skipped + 1]
    )
    # The same float arithmetic as statistics.median over every deal's days.
    return round(
        statistics.median(
            [
                (won_at - created).total_seconds() / 86400
                for created, won_at in middle
                if won_at is not None
            ]
        ),
        2,
    )


def referral_window_figures(*, start: date, end: date) -> dict:
    """What the KPIs read from referrals and their rewards (not the enrolled advocates):
    the sums over the window's days (ReferralDay), the per-advocate figures, and the
    median from the won deals themselves."""
    since, until = _bounds(start, end)
    per_method = {method: {"referrals": 0, "won": 0} for method in Method.values}
    revenue, timed, rewards_points = Decimal(0), 0, 0
    rows = (
        ReferralDay.objects.filter(day__gte=start, day__lt=end)
        .order_by()
        .values("method")
        .annotate(
            n=Sum("referrals"),
            won=Sum("won"),
            revenue=Sum("revenue"),
            timed=Sum("timed"),
            points=Sum("reward_points"),
        )
    )
    for row in rows:
        per_method[row["method"]] = {"referrals": row["n"], "won": row["won"]}
        revenue += row["revenue"] or Decimal(0)
        timed += row["timed"]
        rewards_points += row["points"]
    return {
        "per_method": per_method,
        "concentration": _concentration(start, end),
        "revenue_won": revenue,
        "median_days_to_won": _median_days(
            _window(since, until).filter(stage=Stage.WON), start, end, timed
        ),
        "rewards_points": rewards_points,
    }


def enrolled_advocates(*, until: datetime) -> int:
    return Advocate.objects.filter(
        status__in=[Advocate.Status.ACTIVE, Advocate.Status.PAUSED], joined_at__lt=until
    ).count()


def _kpis(figures: dict, enrolled: int) -> dict:
    per_method = figures["per_method"]
    c = figures["concentration"]
    referrals = sum(m["referrals"] for m in per_method.values())
    won = sum(m["won"] for m in per_method.values())
    referring = c["referring"]
    return {
        "enrolled_advocates": enrolled,
        "referring_advocates": referring,
        "active_rate": _rate(referring, enrolled),
        "referrals": referrals,
        "referrals_per_advocate": _rate(referrals, enrolled),
        "referrer_distribution": {
            "1": _rate(c["one"], referring),
            "2-10": _rate(c["few"], referring),
            "11+": _rate(c["many"], referring),
        },
        "won": won,
        "conversion_rate": _rate(won, referrals),
        "by_method": {
            method: {
                "referrals": m["referrals"],
                "won": m["won"],
                "conversion_rate": _rate(m["won"], m["referrals"]),
                "share_of_referrals": _rate(m["referrals"], referrals),
            }
            for method, m in per_method.items()
        },
        "top_1_percent": {
            "advocates": (referring + 99) // 100,
            "share_of_referrals": _rate(c["top1_n"], referrals),
            "share_of_won": _rate(c["top1_won"], won),
        },
        "top_10_percent": {
            "advocates": (10 * referring + 99) // 100,
            "share_of_referrals": _rate(c["top10_n"], referrals),
            "share_of_won": _rate(c["top10_won"], won),
        },
        "revenue_won": f"{figures['revenue_won'].quantize(Decimal('0.01'))}",
        "median_days_to_won": figures["median_days_to_won"],
        "rewards_points": figures["rewards_points"],
    }


def referral_kpis(*, start: date, end: date) -> dict:
    """The KPIs of the window, computed now (the command and the benchmark read these)."""
    _since, until = _bounds(start, end)
    return _kpis(referral_window_figures(start=start, end=end), enrolled_advocates(until=until))


# --- The console's cached copy ------------------------------------------------------------

KPI_VERSION_KEY = "referrals:kpis:version"
# A backstop only: every service that changes a referral or its rewards bumps the
# version (kpis_changed); this bounds what a write outside them (the shell, SQL, a
# Redis outage that split the cache per process) can leave stale.
KPI_CACHE_SECONDS = 120


def kpis_changed() -> None:
    """Drop the cached KPIs once the current transaction commits.

    Called by every write of referrals and referral rewards (referral_create,
    referral_advance, and through them the CRM API and the imports; the admin).
    After commit, so a reader never caches figures under the new version from a
    snapshot without the write; a rolled-back write drops nothing.
    """
    cache_version_bump(KPI_VERSION_KEY)


def referral_kpis_cached(*, start: date, end: date) -> tuple[dict, datetime]:
    """The KPIs as ``referral_kpis`` and when their referral figures were computed.

    Why a cache and not only SQL: over the default window (a year) the aggregation
    must read every referral of the window and group them by advocate however it is
    written, which a large program cannot afford on every console view. The referral
    figures are
    cached per window under a version that every referral write bumps on commit
    (``kpis_changed``), so a cached copy is never older than the last write; the TTL
    is a backstop. The version is read *before* computing: a write committing meanwhile
    bumps it, and what this call stores under the old version is never read again.

    The enrolled advocates (and the rates over them) are counted on every call (a
    cheap count): advocates change through other apps, which need not know about this
    cache.
    """
    _since, until = _bounds(start, end)
    key = f"referrals:kpis:{cache_version(KPI_VERSION_KEY)}:{start.isoformat()}:{end.isoformat()}"
    cached = cache.get(key)
    if cached is None:
        computed_at = timezone.now()
        cached = (referral_window_figures(start=start, end=end), computed_at)
        cache.set(key, cached, KPI_CACHE_SECONDS)
    figures, computed_at = cached
    return _kpis(figures, enrolled_advocates(until=until)), computed_at
