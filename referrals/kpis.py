"""The program's referral KPIs for one window (definitions: issue 5, "Referral KPIs").

The window holds referrals created from ``start`` 00:00 UTC (inclusive) to ``end``
00:00 UTC (exclusive); rejected referrals are left out of every figure. Rates are
fractions rounded to 4 decimals, and 0.0 when their denominator is zero. Four queries
whatever the number of referrals: per (advocate, method) counts, the won deals, the
enrolled advocates and the reward points.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, time
from decimal import Decimal

from django.db.models import Count, Q, Sum

from advocates.models import Advocate
from referrals.models import Method, Referral, ReferralReward, Stage

# The seed study's figures (Amplifinity, via /work/shared/seeds/003_*.txt), shown beside
# each of ours in the console.
BENCHMARKS = {
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
    # Integer ceiling: ceil(0.1 * 30) in floats is 4, not 3.
    k = (percent * len(per_advocate) + 99) // 100
    ranked = sorted(per_advocate.items(), key=lambda item: (-item[1][0], item[0]))[:k]
    return {
        "advocates": k,
        "share_of_referrals": _rate(sum(counts[0] for _, counts in ranked), referrals),
        "share_of_won": _rate(sum(counts[1] for _, counts in ranked), won),
    }


def referral_kpis(*, start: date, end: date) -> dict:
    since, until = _bounds(start, end)
    window = Referral.objects.filter(created_at__gte=since, created_at__lt=until).exclude(
        stage=Stage.REJECTED
    )
    rows = (
        window.order_by()
        .values("advocate_id", "method")
        .annotate(n=Count("id"), won=Count("id", filter=Q(stage=Stage.WON)))
    )
    per_advocate: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    per_method: dict[str, list[int]] = {method: [0, 0] for method in Method.values}
    for row in rows:
        per_advocate[row["advocate_id"]][0] += row["n"]
        per_advocate[row["advocate_id"]][1] += row["won"]
        per_method[row["method"]][0] += row["n"]
        per_method[row["method"]][1] += row["won"]
    referrals = sum(counts[0] for counts in per_method.values())
    won = sum(counts[1] for counts in per_method.values())
    referring = len(per_advocate)

    enrolled = Advocate.objects.filter(
        status__in=[Advocate.Status.ACTIVE, Advocate.Status.PAUSED], joined_at__lt=until
    ).count()

    won_rows = list(
        window.filter(stage=Stage.WON).values_list("created_at", "won_at", "deal_amount")
    )
    revenue = sum((amount or Decimal(0) for _, _, amount in won_rows), Decimal(0))
    days = [(won_at - created).total_seconds() / 86400 for created, won_at, _ in won_rows if won_at]
    rewards_points = (
        ReferralReward.objects.filter(
            referral__in=window,
            status__in=[ReferralReward.Status.PAID, ReferralReward.Status.OWED],
        ).aggregate(total=Sum("points"))["total"]
        or 0
    )

    buckets = {"1": 0, "2-10": 0, "11+": 0}
    for count, _ in per_advocate.values():
        buckets["1" if count == 1 else "2-10" if count <= 10 else "11+"] += 1

    return {
        "enrolled_advocates": enrolled,
        "referring_advocates": referring,
        "active_rate": _rate(referring, enrolled),
        "referrals": referrals,
        "referrals_per_advocate": _rate(referrals, enrolled),
        "referrer_distribution": {key: _rate(n, referring) for key, n in buckets.items()},
        "won": won,
        "conversion_rate": _rate(won, referrals),
        "by_method": {
            method: {
                "referrals": n,
                "won": w,
                "conversion_rate": _rate(w, n),
                "share_of_referrals": _rate(n, referrals),
            }
            for method, (n, w) in per_method.items()
        },
        "top_1_percent": _top(per_advocate, 1, referrals, won),
        "top_10_percent": _top(per_advocate, 10, referrals, won),
        "revenue_won": f"{revenue.quantize(Decimal('0.01'))}",
        "median_days_to_won": round(statistics.median(days), 2) if days else None,
        "rewards_points": rewards_points,
    }
