"""Keeping the referral KPIs' rollups (``ReferralDay``, ``ReferralWonTime``,
``ReferrerDays``) in step with the referrals and rewards they are computed from.

Every write of a referral or of its rewards calls ``referral_figures_refresh`` inside its
transaction, once its writes are done: ``referral_create``, ``referral_advance`` (stage,
amount, the rewards it pays or reverses), the imports and the admin. The days and the
advocates those referrals belong to are recomputed from their rows, never patched, so a
refresh is right whatever the rollups held before.

Locks, always in this order: the advocates' rows (their ``ReferrerDays``), then the
touched days' rows in date order. A second writer of the same advocate or day waits
for the first to commit, and then reads what it wrote instead of overwriting it with
an older snapshot.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from advocates.services.locks import advocates_locked
from referrals.models import (
    Method,
    Referral,
    ReferralDay,
    ReferralReward,
    ReferralWonTime,
    ReferrerDays,
    Stage,
)

# Advocates (or referrals) per statement: bounded parameters (SQLite) and locks.
CHUNK = 500
PAID_OR_OWED = (ReferralReward.Status.PAID, ReferralReward.Status.OWED)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _spans(days: Iterable[date]) -> Q:
    """``created_at`` within these UTC days, consecutive days as one range."""
    spans: list[list[date]] = []
    for day in sorted(set(days)):
        if spans and spans[-1][1] == day:
            spans[-1][1] = day + timedelta(days=1)
        else:
            spans.append([day, day + timedelta(days=1)])
    q = Q(pk__in=[])
    for first, after in spans:
        q |= Q(created_at__gte=_midnight(first), created_at__lt=_midnight(after))
    return q


def _timelines_sql(marks: str) -> str:
    """INSERT ... SELECT of the ``ReferrerDays`` of the advocates ``IN ({marks})``; the
    parameters: the advocate ids, then the won stage and the rejected one."""
    q = connection.ops.quote_name
    if connection.vendor == "postgresql":
        day = "((r.created_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01')"
        days = "array_agg(d ORDER BY d)"
        won = "COALESCE(array_agg(d ORDER BY d) FILTER (WHERE stage = %s), '{}')"
    else:  # stored, never searched: space-separated, in day order
        day = "CAST(julianday(date(r.created_at)) - 2440587.5 AS INTEGER)"
        days = "group_concat(d, ' ')"
        won = "COALESCE(group_concat(CASE WHEN stage = %s THEN d END, ' '), '')"
    return f"""
        INSERT INTO {q(ReferrerDays._meta.db_table)} (advocate_id, days, won_days)
        SELECT advocate_id, {days}, {won}
        FROM (
            SELECT r.advocate_id, r.stage, {day} AS d
            FROM {q(Referral._meta.db_table)} r
            WHERE r.advocate_id IN ({marks}) AND r.stage <> %s
            ORDER BY r.advocate_id, d
        ) t
        GROUP BY advocate_id
    """  # noqa: S608


def _timelines(advocate_ids: list[int]) -> None:
    ids = advocates_locked(advocate_ids)
    if not ids:
        return
    ReferrerDays.objects.filter(advocate_id__in=ids).delete()
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        # The won stage is the aggregate's parameter, before the subquery's.
        cursor.execute(_timelines_sql(marks), [Stage.WON, *ids, Stage.REJECTED])


def _days(days: list[date]) -> None:
    ReferralDay.objects.bulk_create(
        [ReferralDay(day=day, method=method) for day in days for method in Method.values],
        ignore_conflicts=True,
    )
    rows = {
        (row.day, row.method): row
        for row in ReferralDay.objects.select_for_update()
        .filter(day__in=days)
        .order_by("day", "method")
    }
    counted = Referral.objects.filter(_spans(days)).exclude(stage=Stage.REJECTED)
    won = Q(stage=Stage.WON)
    figures = {
        (row["day"], row["method"]): row
        for row in counted.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .order_by()
        .values("day", "method")
        .annotate(
            n=Count("id"),
            won=Count("id", filter=won),
            timed=Count("won_at", filter=won),
            revenue=Sum("deal_amount", filter=won),
        )
    }
    # From the days' referrals to their rewards (the rewards' index on the referral), not
    # from every reward to its referral.
    points = {
        (row["day"], row["method"]): row["points"]
        for row in counted.filter(rewards__status__in=PAID_OR_OWED)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .order_by()
        .values("day", "method")
        .annotate(points=Sum("rewards__points"))
    }
    for key, row in rows.items():
        found = figures.get(key, {})
        row.referrals = found.get("n", 0)
        row.won = found.get("won", 0)
        row.timed = found.get("timed", 0)
        row.revenue = found.get("revenue") or Decimal(0)
        row.reward_points = points.get(key) or 0
    ReferralDay.objects.bulk_update(
        list(rows.values()), ["referrals", "won", "timed", "revenue", "reward_points"]
    )
    # The days' won deals by whole days to win (under the days' locks taken above).
    ReferralWonTime.objects.filter(day__in=days).delete()
    times: Counter[tuple[date, int]] = Counter()
    for created_at, won_at in counted.filter(won, won_at__isnull=False).values_list(
        "created_at", "won_at"
    ):
        assert won_at is not None  # filtered above
        times[(created_at.astimezone(UTC).date(), (won_at - created_at) // timedelta(days=1))] += 1
    ReferralWonTime.objects.bulk_create(
        ReferralWonTime(day=day, whole_days=whole, deals=deals)
        for (day, whole), deals in times.items()
    )


def referral_figures_refresh(
    *,
    referral_ids: Iterable[int] = (),
    days: Iterable[date] = (),
    advocate_ids: Iterable[int] = (),
) -> None:
    """Recompute the KPI rollups of these referrals' days and advocates, and of the days
    and advocates given (where an edited or deleted referral was before)."""
    ids = sorted(set(referral_ids))
    touched_days, advocates = set(days), set(advocate_ids)
    with transaction.atomic():
        for start in range(0, len(ids), CHUNK):
            for advocate_id, created_at in Referral.objects.filter(
                pk__in=ids[start : start + CHUNK]
            ).values_list("advocate_id", "created_at"):
                advocates.add(advocate_id)
                touched_days.add(created_at.astimezone(UTC).date())
        ordered = sorted(advocates)
        for start in range(0, len(ordered), CHUNK):
            _timelines(ordered[start : start + CHUNK])
        if touched_days:
            _days(sorted(touched_days))


def referral_figures_rebuild() -> None:
    """Recompute every day's and every advocate's rollups (a repair after raw edits)."""
    days = {
        moment.astimezone(UTC).date()
        for moment in Referral.objects.values_list("created_at", flat=True).iterator()
    }
    referrers = Referral.objects.order_by().values_list("advocate_id", flat=True).distinct()
    referral_figures_refresh(days=days, advocate_ids=list(referrers))
