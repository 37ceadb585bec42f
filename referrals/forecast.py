"""Referral revenue per calendar quarter, the manager's goal, and a forecast.

forecast = won revenue of the quarter so far
         + Σ over open referrals: deal amount × the historical conversion rate of their
           current stage to won.

A stage's conversion rate is read from the stage history (``ReferralStageChange``): of
the referrals that ever entered the stage and have since closed (won, lost or
rejected), the share that is won now. Referrals still open are left out of the rate (we
do not know yet how they end). Open referrals without a deal amount add nothing, and
are counted so the page can say so. The open pipeline has no close dates, so it is
taken to close within the current quarter: a past quarter's forecast is its won
revenue.

Every figure is an aggregate: a handful of queries whatever the number of referrals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.db.models import Aggregate, Count, Q, Sum
from django.utils import timezone

from referrals.models import OPEN_STAGES, Referral, ReferralStageChange, RevenueGoal, Stage

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

CLOSED_STAGES = (Stage.WON, Stage.LOST, Stage.REJECTED)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def of(cls, moment: datetime) -> Quarter:
        local = timezone.localtime(moment)
        return cls(local.year, (local.month - 1) // 3 + 1)

    @classmethod
    def parse(cls, text: str) -> Quarter | None:
        """ "2026-Q3" -> Quarter(2026, 3); None if it is not one."""
        year, _, number = text.upper().partition("-Q")
        if not (year.isdigit() and number.isdigit()):
            return None
        if not (2000 <= int(year) <= 2100 and 1 <= int(number) <= 4):
            return None
        return cls(int(year), int(number))

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime(self.year, 3 * self.number - 2, 1))

    @property
    def end(self) -> datetime:
        return self.next().start

    def next(self) -> Quarter:
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    def previous(self) -> Quarter:
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def label(self) -> str:
        return f"Q{self.number} {self.year}"


@dataclass(frozen=True)
class StageLine:
    stage: str
    label: StrOrPromise
    open_count: int
    open_amount: Decimal
    unpriced: int  # open referrals at this stage without a deal amount
    closed: int  # referrals that entered the stage and have closed since
    won: int  # of those, won
    rate: Decimal | None  # won / closed; None without history (counted as 0)
    expected: Decimal  # open_amount × rate


@dataclass(frozen=True)
class Forecast:
    quarter: Quarter
    is_current: bool
    goal: Decimal | None
    won_revenue: Decimal
    won_count: int
    stages: list[StageLine]
    pipeline: Decimal  # open deal amounts (current quarter only)
    expected: Decimal  # Σ open amount × rate (current quarter only)
    forecast: Decimal

    @property
    def goal_percent(self) -> int | None:
        if not self.goal:
            return None
        return int((self.forecast * 100 / self.goal).to_integral_value(ROUND_HALF_UP))

    @property
    def gap(self) -> Decimal | None:
        """How far the forecast falls short of the goal (negative: above it)."""
        return None if self.goal is None else self.goal - self.forecast


def conversion_rates() -> dict[str, tuple[int, int]]:
    """(closed, won) per open stage, from the stage history (one query)."""
    rows = (
        ReferralStageChange.objects.filter(to_stage__in=OPEN_STAGES)
        .values("to_stage")
        .annotate(
            closed=Count("referral", distinct=True, filter=Q(referral__stage__in=CLOSED_STAGES)),
            won=Count("referral", distinct=True, filter=Q(referral__stage=Stage.WON)),
        )
    )
    return {row["to_stage"]: (row["closed"], row["won"]) for row in rows}


def won_by_quarter(quarters: list[Quarter]) -> dict[Quarter, tuple[Decimal, int]]:
    """Won revenue and count of won referrals per quarter: one query, a conditional
    aggregate per quarter (the pages ask for a few quarters)."""
    if not quarters:
        return {}
    aggregates: dict[str, Aggregate] = {}
    for quarter in quarters:
        window = Q(won_at__gte=quarter.start, won_at__lt=quarter.end)
        aggregates[f"amount_{quarter.year}_{quarter.number}"] = Sum("deal_amount", filter=window)
        aggregates[f"count_{quarter.year}_{quarter.number}"] = Count("id", filter=window)
    row = Referral.objects.filter(stage=Stage.WON).aggregate(**aggregates)
    return {
        quarter: (
            row[f"amount_{quarter.year}_{quarter.number}"] or Decimal(0),
            row[f"count_{quarter.year}_{quarter.number}"],
        )
        for quarter in quarters
    }


def referral_forecast(*, quarter: Quarter | None = None, now: datetime | None = None) -> Forecast:
    now = now or timezone.now()
    current = Quarter.of(now)
    quarter = quarter or current
    is_current = quarter == current
    won_revenue, won_count = won_by_quarter([quarter])[quarter]
    goal = RevenueGoal.objects.filter(year=quarter.year, quarter=quarter.number).first()

    rates = conversion_rates()
    open_rows = {
        row["stage"]: row
        for row in Referral.objects.filter(stage__in=OPEN_STAGES)
        .values("stage")
        .annotate(
            count=Count("id"),
            amount=Sum("deal_amount"),
            unpriced=Count("id", filter=Q(deal_amount__isnull=True)),
        )
    }
    stages = []
    for stage in OPEN_STAGES:
        row = open_rows.get(stage, {})
        closed, won = rates.get(stage, (0, 0))
        rate = Decimal(won) / Decimal(closed) if closed else None
        amount = row.get("amount") or Decimal(0)
        stages.append(
            StageLine(
                stage=stage,
                label=Stage(stage).label,
                open_count=row.get("count", 0),
                open_amount=amount,
                unpriced=row.get("unpriced", 0),
                closed=closed,
                won=won,
                rate=rate,
                expected=(amount * (rate or 0)).quantize(CENT, ROUND_HALF_UP),
            )
        )
    pipeline = sum((line.open_amount for line in stages), Decimal(0)) if is_current else Decimal(0)
    expected = sum((line.expected for line in stages), Decimal(0)) if is_current else Decimal(0)
    return Forecast(
        quarter=quarter,
        is_current=is_current,
        goal=goal.amount if goal is not None else None,
        won_revenue=won_revenue,
        won_count=won_count,
        stages=stages,
        pipeline=pipeline,
        expected=expected,
        forecast=won_revenue + expected,
    )


@dataclass(frozen=True)
class GoalLine:
    quarter: Quarter
    goal: Decimal
    won_revenue: Decimal


def goals_recent(*, limit: int = 8) -> list[GoalLine]:
    """The latest goals set, with each quarter's won revenue (two queries)."""
    goals = list(RevenueGoal.objects.order_by("-year", "-quarter")[:limit])
    quarters = [Quarter(goal.year, goal.quarter) for goal in goals]
    won = won_by_quarter(quarters)
    return [
        GoalLine(quarter=quarter, goal=goal.amount, won_revenue=won[quarter][0])
        for quarter, goal in zip(quarters, goals, strict=True)
    ]
