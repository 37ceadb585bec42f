"""Factories for the reward catalog and redemptions."""

from __future__ import annotations

import uuid

import factory

from rewards.models import Redemption, Reward
from rewards.services.catalog import reward_redeem
from rewards.services.ledger import points_award


class RewardFactory(factory.django.DjangoModelFactory):
    """An active, unlimited reward with no window and no per-advocate limit."""

    class Meta:
        model = Reward

    name = factory.Sequence(lambda n: f"Reward {n}")
    description = "Something nice."
    points_cost = 100
    kind = Reward.Kind.SWAG


def give_points(advocate, amount: int) -> None:
    points_award(
        advocate_id=advocate.pk,
        amount=amount,
        reason="Test points",
        idempotency_key=f"test:{uuid.uuid4().hex}",
    )


def redeem(advocate, reward, **shipping: str) -> Redemption:
    """Redeem through the service, giving the advocate the points it needs first."""
    give_points(advocate, reward.points_cost)
    if reward.needs_shipping:
        shipping = {"shipping_name": "Ada", "shipping_address": "1 Main St"} | shipping
    return reward_redeem(
        reward_id=reward.pk,
        advocate_id=advocate.pk,
        idempotency_key=uuid.uuid4().hex,
        **shipping,
    ).redemption
