"""Demo rewards for `manage.py demo_data`. Idempotent: a reward is created once by name."""

from __future__ import annotations

from decimal import Decimal
from typing import TextIO

from django.db import transaction

from rewards.models import Reward

REWARDS = [
    {
        "name": "Vouch hoodie",
        "description": "A soft, heavyweight hoodie with the community logo, in your size.",
        "kind": Reward.Kind.SWAG,
        "points_cost": 100,
        "stock": 3,
        "needs_shipping": True,
    },
    {
        "name": "$25 coffee gift card",
        "description": "A digital gift card for your favourite coffee place; it arrives by email.",
        "kind": Reward.Kind.GIFT_CARD,
        "points_cost": 250,
        "limit_count": 1,
        "limit_period": Reward.LimitPeriod.MONTH,
        # Ordered through Tremendous once TREMENDOUS_API_KEY (and a default campaign,
        # TREMENDOUS_CAMPAIGN_ID) are set; the demo has neither, so it stays manual and
        # the fulfilment page says so.
        "fulfilment_provider": "tremendous",
        "provider_denomination": Decimal("25.00"),
        "provider_currency": "USD",
    },
    {
        "name": "Plant 10 trees",
        "description": "We donate to a reforestation charity in your name.",
        "kind": Reward.Kind.CHARITY,
        "points_cost": 50,
    },
    {
        "name": "Dinner with our product team",
        "description": "Join a small dinner with our product leaders and other advocates "
        "at the next user conference.",
        "kind": Reward.Kind.EXPERIENCE,
        "points_cost": 1500,
        "stock": 8,
        "limit_count": 1,
        "limit_period": Reward.LimitPeriod.YEAR,
    },
    {
        "name": "Premium support for 3 months",
        "description": "Your team gets our premium support plan for a quarter.",
        "kind": Reward.Kind.UPGRADE,
        "points_cost": 900,
    },
]


@transaction.atomic
def load(stdout: TextIO) -> None:
    created = 0
    for fields in REWARDS:
        _, made = Reward.objects.get_or_create(name=fields["name"], defaults=fields)
        created += made
    stdout.write(f"Rewards: {created} created, {len(REWARDS) - created} already there.")
