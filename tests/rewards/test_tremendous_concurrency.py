"""Placing a Tremendous order from many workers at once orders once (PostgreSQL only):
the lease's conditional update lets one talk to Tremendous, the rest leave."""

from __future__ import annotations

import responses

from rewards.models import ProviderOrder, Redemption
from rewards.services import fulfilment
from tests.concurrency import POSTGRES_RACE, run_at_once
from tests.rewards.factories import redeem
from tests.rewards.test_tremendous import (  # the recordings and settings of that module
    BASE,
    RECORDED_RECIPIENT,
    cassette,
    gift_card,  # noqa: F401  (a fixture)
    tremendous,  # noqa: F401  (an autouse fixture)
)

pytestmark = POSTGRES_RACE
THREADS = 8


def test_eight_workers_place_the_same_order_once(advocate, gift_card) -> None:  # noqa: F811
    advocate.user.email = RECORDED_RECIPIENT
    advocate.user.save(update_fields=["email"])
    redemption = redeem(advocate, gift_card)
    Redemption.objects.filter(pk=redemption.pk).update(status=Redemption.Status.APPROVED)
    ProviderOrder.objects.create(
        redemption=redemption,
        provider="tremendous",
        external_id=f"vouch-redemption-{redemption.pk}",
    )
    _, body = cassette("orders_create_200.yml")
    with responses.RequestsMock() as api:
        api.post(f"{BASE}/orders", body=body, status=200, content_type="application/json")
        outcomes = run_at_once(
            lambda i: fulfilment.provider_order_place(redemption_id=redemption.pk),
            threads=THREADS,
        )
        posts = len(api.calls)

    assert posts == 1, outcomes
    assert outcomes.count("ordered") == 1, outcomes
    assert all(
        outcome == "ordered" or str(outcome).startswith("skipped:") for outcome in outcomes
    ), outcomes
    order = ProviderOrder.objects.get(redemption=redemption)
    assert order.state == ProviderOrder.State.ORDERED
    assert order.attempts == 1
