"""The program's return on investment per calendar quarter.

- reward cost: redemptions made in the quarter (cancelled ones left out) times their
  reward's cost to the company (``Reward.cost_amount``; a reward without a cost counts
  nothing, and the page says how many such redemptions there were);
- referred revenue: deal amounts of referrals won in the quarter;
- influenced revenue: opportunity amounts of reference requests whose call was held in
  the quarter (a meeting whose attendance counted), each request once;
- ratio: (referred + influenced revenue) / reward cost.

One grouped query per figure, whatever the number of rows or quarters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, DateTimeField, Exists, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, TruncQuarter
from django.utils import timezone

from references.models import Meeting, ReferenceRequest
from referrals.forecast import Quarter
from referrals.models import Referral, Stage
from rewards.models import Redemption


@dataclass(frozen=True)
class RoiQuarter:
    quarter: Quarter
    redemptions: int
    uncosted: int  # redemptions of rewards without a cost
    reward_cost: Decimal
    referred_revenue: Decimal
    referred_deals: int
    influenced_revenue: Decimal
    influenced_deals: int

    @property
    def revenue(self) -> Decimal:
        return self.referred_revenue + self.influenced_revenue

    @property
    def ratio(self) -> Decimal | None:
        """Revenue per unit of reward cost; None when nothing was spent."""
        if not self.reward_cost:
            return None
        return (self.revenue / self.reward_cost).quantize(Decimal("0.1"), ROUND_HALF_UP)


def program_roi(*, quarters: int = 4, now: datetime | None = None) -> list[RoiQuarter]:
    """The last ``quarters`` calendar quarters, the current one first."""
    current = Quarter.of(now or timezone.now())
    shown = [current]
    while len(shown) < quarters:
        shown.append(shown[-1].previous())
    start, end = shown[-1].start, current.end
    tz = timezone.get_current_timezone()

    costs = (
        Redemption.objects.filter(created_at__gte=start, created_at__lt=end)
        .exclude(status=Redemption.Status.CANCELLED)
        .annotate(q=TruncQuarter("created_at", tzinfo=tz))
        .values("q")
        .annotate(
            n=Count("id"),
            uncosted=Count("id", filter=Q(reward__cost_amount__isnull=True)),
            cost=Sum("reward__cost_amount"),
        )
    )
    referred = (
        Referral.objects.filter(stage=Stage.WON, won_at__gte=start, won_at__lt=end)
        .annotate(q=TruncQuarter("won_at", tzinfo=tz))
        .values("q")
        .annotate(n=Count("id"), amount=Sum("deal_amount"))
    )
    held = Meeting.objects.filter(
        ask__request=OuterRef("pk"), attendance=Meeting.Attendance.COUNTED
    )
    influenced = (
        ReferenceRequest.objects.filter(Exists(held))
        .annotate(
            held_at=Subquery(
                held.annotate(at=Coalesce("starts_at", "settled_at"))
                .order_by("at")
                .values("at")[:1],
                output_field=DateTimeField(),
            )
        )
        .filter(held_at__gte=start, held_at__lt=end)
        .annotate(q=TruncQuarter("held_at", tzinfo=tz))
        .values("q")
        .annotate(n=Count("id"), amount=Sum("opportunity_amount"))
    )

    zero = {
        "redemptions": 0,
        "uncosted": 0,
        "reward_cost": Decimal(0),
        "referred_deals": 0,
        "referred_revenue": Decimal(0),
        "influenced_deals": 0,
        "influenced_revenue": Decimal(0),
    }
    figures: dict[Quarter, dict[str, Any]] = {quarter: dict(zero) for quarter in shown}
    for row in costs:
        figures[Quarter.of(row["q"])] |= {
            "redemptions": row["n"],
            "uncosted": row["uncosted"],
            "reward_cost": row["cost"] or Decimal(0),
        }
    for row in referred:
        figures[Quarter.of(row["q"])] |= {
            "referred_deals": row["n"],
            "referred_revenue": row["amount"] or Decimal(0),
        }
    for row in influenced:
        figures[Quarter.of(row["q"])] |= {
            "influenced_deals": row["n"],
            "influenced_revenue": row["amount"] or Decimal(0),
        }
    return [RoiQuarter(quarter=quarter, **figures[quarter]) for quarter in shown]
