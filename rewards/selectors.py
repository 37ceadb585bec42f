from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from advocates.models import Advocate
from advocates.selectors import member_group_ids
from rewards.fulfilment import PROVIDER_LABELS, configured_providers
from rewards.models import LedgerEntry, ProviderBalance, Redemption, Reward

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def ledger_recent(*, advocate_id: int, limit: int = 10) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(advocate_id=advocate_id).order_by("-created_at", "-id")[
        :limit
    ]


# --- Reward catalog and redemptions ---------------------------------------------------


def limit_period_start(period: str, now: datetime) -> datetime | None:
    """Start (UTC) of the calendar period holding ``now``; None for "ever"."""
    day = now.astimezone(UTC).date()
    if period == Reward.LimitPeriod.WEEK:
        start = date.fromordinal(day.toordinal() - day.weekday())
    elif period == Reward.LimitPeriod.MONTH:
        start = day.replace(day=1)
    elif period == Reward.LimitPeriod.QUARTER:
        start = day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    elif period == Reward.LimitPeriod.YEAR:
        start = day.replace(month=1, day=1)
    else:
        return None
    return datetime(start.year, start.month, start.day, tzinfo=UTC)


def redemptions_counted_for_limit(*, reward: Reward, advocate_id: int, now: datetime) -> int:
    """Redemptions of ``reward`` by the advocate in the current limit period.

    Cancelled ones do not count: their points and unit were given back.
    """
    redemptions = Redemption.objects.filter(reward=reward, advocate_id=advocate_id).exclude(
        status=Redemption.Status.CANCELLED
    )
    start = limit_period_start(reward.limit_period, now)
    if start is not None:
        redemptions = redemptions.filter(created_at__gte=start)
    return redemptions.count()


def redemption_recent_repeat(
    *, reward_id: int, advocate_id: int, since: datetime
) -> Redemption | None:
    """The advocate's latest redemption of the reward made at or after ``since``.

    Cancelled ones are left out: the advocate got the points back, so redeeming again
    is no repeat.
    """
    return (
        Redemption.objects.filter(
            reward_id=reward_id, advocate_id=advocate_id, created_at__gte=since
        )
        .exclude(status=Redemption.Status.CANCELLED)
        .order_by("-created_at", "-id")
        .first()
    )


class CatalogRank:
    """How the catalog sorts a reward for one advocate (lower first)."""

    do_not_call_in_templates = True

    REDEEMABLE = 0
    POINTS_TO_GO = 1
    LIMIT_REACHED = 2
    OUT_OF_STOCK = 3


def rewards_available(*, now: datetime | None = None) -> QuerySet[Reward]:
    """Active rewards inside their window, out of stock included (marked by the page)."""
    now = now or timezone.now()
    return Reward.objects.filter(
        Q(is_active=True),
        Q(starts_at__isnull=True) | Q(starts_at__lte=now),
        Q(ends_at__isnull=True) | Q(ends_at__gt=now),
    )


def for_advocate_q(advocate_id: int) -> Q:
    """Rewards an advocate may see: every reward but those limited to a group they are
    not a member of."""
    return Q(group__isnull=True) | Q(group__in=member_group_ids(advocate_id))


def reward_for_advocate(*, advocate_id: int, pk: int) -> Reward:
    """A reward an advocate may open (any state: the page explains why it cannot be
    redeemed); another group's reward is Reward.DoesNotExist, as if it were not there."""
    return Reward.objects.filter(for_advocate_q(advocate_id)).get(pk=pk)


def _used_in_period(*, advocate_id: int, now: datetime) -> Subquery:
    """Per reward: this advocate's redemptions in the reward's own limit period."""
    in_period = Q(reward__limit_period=Reward.LimitPeriod.EVER)
    for period in (
        Reward.LimitPeriod.WEEK,
        Reward.LimitPeriod.MONTH,
        Reward.LimitPeriod.QUARTER,
        Reward.LimitPeriod.YEAR,
    ):
        in_period |= Q(reward__limit_period=period, created_at__gte=limit_period_start(period, now))
    counted = (
        Redemption.objects.filter(in_period, reward=OuterRef("pk"), advocate_id=advocate_id)
        .exclude(status=Redemption.Status.CANCELLED)
        .order_by()
        .values("reward")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Subquery(counted, output_field=IntegerField())


class CatalogAnnotations(TypedDict):
    rank: int
    used_in_period: int
    points_to_go: int


def catalog_for_advocate(
    *, advocate: Advocate, kind: str = "", now: datetime | None = None
) -> QuerySet[WithAnnotations[Reward, CatalogAnnotations]]:
    """The catalog as one advocate sees it, in one query.

    Each reward carries ``rank`` (CatalogRank), ``used_in_period`` (toward its limit)
    and ``points_to_go``; what they can redeem now comes first, then by cost.
    """
    now = now or timezone.now()
    rewards = rewards_available(now=now).filter(for_advocate_q(advocate.pk))
    if kind:
        rewards = rewards.filter(kind=kind)
    return (
        rewards.annotate(
            used_in_period=Coalesce(_used_in_period(advocate_id=advocate.pk, now=now), 0),
            points_to_go=Greatest(F("points_cost") - Value(advocate.balance), Value(0)),
        )
        .annotate(
            rank=Case(
                When(stock=0, then=Value(CatalogRank.OUT_OF_STOCK)),
                When(
                    limit_count__isnull=False,
                    limit_count__lte=F("used_in_period"),
                    then=Value(CatalogRank.LIMIT_REACHED),
                ),
                When(points_cost__gt=advocate.balance, then=Value(CatalogRank.POINTS_TO_GO)),
                default=Value(CatalogRank.REDEEMABLE),
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "points_cost", "name", "id")
    )


def hub_rewards(*, advocate: Advocate) -> list[WithAnnotations[Reward, CatalogAnnotations]]:
    """Up to 3 rewards I can redeem now (the best first), else the closest one to reach."""
    catalog = catalog_for_advocate(advocate=advocate)
    redeemable = list(
        catalog.filter(rank=CatalogRank.REDEEMABLE).order_by("-points_cost", "name", "id")[:3]
    )
    if redeemable:
        return redeemable
    return list(catalog.filter(rank=CatalogRank.POINTS_TO_GO)[:1])


def redemptions_for_advocate(*, advocate_id: int) -> QuerySet[Redemption]:
    """An advocate's own redemptions (the only place their fulfilment notes show)."""
    return (
        Redemption.objects.filter(advocate_id=advocate_id)
        .select_related("reward", "provider_order")
        .order_by("-created_at", "-id")
    )


def redemptions_open_for_advocate(*, advocate_id: int, limit: int = 5) -> list[Redemption]:
    return list(
        redemptions_for_advocate(advocate_id=advocate_id).filter(
            status__in=Redemption.OPEN_STATUSES
        )[:limit]
    )


def fulfilment_queue(*, status: str = "") -> QuerySet[Redemption]:
    """Redemptions for managers, oldest first; open ones (requested, approved) by default."""
    redemptions = Redemption.objects.select_related(
        "reward", "advocate__user", "advocate__company", "provider_order"
    ).order_by("created_at", "id")
    if status:
        return redemptions.filter(status=status)
    return redemptions.filter(status__in=Redemption.OPEN_STATUSES)


def rewards_for_manager() -> QuerySet[Reward]:
    return (
        Reward.objects.select_related("group")
        .annotate(
            open_count=Count(
                "redemptions", filter=Q(redemptions__status__in=Redemption.OPEN_STATUSES)
            ),
            redeemed_count=Count(
                "redemptions", filter=~Q(redemptions__status=Redemption.Status.CANCELLED)
            ),
        )
        .order_by("-is_active", "points_cost", "name", "id")
    )


def fulfilment_queue_item(*, pk: int) -> Redemption:
    return Redemption.objects.select_related(
        "reward", "advocate__user", "advocate__company", "provider_order"
    ).get(pk=pk)


@dataclass(frozen=True)
class ProviderStatus:
    """A fulfilment provider as the console shows it: configured or not, and its balance."""

    name: str
    label: str
    configured: bool
    balance: ProviderBalance | None
    warning_below: int
    provider_backed_rewards: int

    @property
    def available(self) -> float | None:
        if self.balance is None or self.balance.available_cents is None:
            return None
        return self.balance.available_cents / 100

    @property
    def low(self) -> bool:
        return self.available is not None and self.available < self.warning_below


def provider_statuses() -> list[ProviderStatus]:
    """Every provider some reward names, or that is configured (two queries)."""
    configured = set(configured_providers())
    backed = dict(
        Reward.objects.exclude(fulfilment_provider="")
        .filter(is_active=True)
        .values_list("fulfilment_provider")
        .annotate(n=Count("id"))
        .order_by()
    )
    names = sorted(configured | set(backed))
    balances = {row.provider: row for row in ProviderBalance.objects.filter(provider__in=names)}
    return [
        ProviderStatus(
            name=name,
            label=PROVIDER_LABELS.get(name, name.title()),
            configured=name in configured,
            balance=balances.get(name),
            warning_below=settings.TREMENDOUS_BALANCE_WARNING,
            provider_backed_rewards=backed.get(name, 0),
        )
        for name in names
    ]


# --- The public API (api/): every row, program-wide; the API orders and pages them ---


def rewards_for_api() -> QuerySet[Reward]:
    return Reward.objects.all()


def redemptions_for_api() -> QuerySet[Redemption]:
    return Redemption.objects.all()


def ledger_for_api() -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.all()
