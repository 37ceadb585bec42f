"""Retry sweeps and after-commit sends racing: each delivery is POSTed once (PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.utils import timezone

from core import webhooks
from core.models import WebhookDelivery
from tests.concurrency import POSTGRES_RACE, run_at_once, run_each_at_once
from tests.core.webhook_receiver import receiver

pytestmark = POSTGRES_RACE


def _due(endpoint_id: int, n: int) -> list[int]:
    rows = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint_id=endpoint_id,
            event_id=f"evt_race_{i}",
            event_type="points.changed",
            payload={"type": "points.changed", "data": {"i": i}},
            next_attempt_at=timezone.now() - timedelta(minutes=1),
        )
        for i in range(n)
    )
    return [row.pk for row in rows]


def test_concurrent_retry_sweeps_never_send_a_delivery_twice() -> None:
    with receiver() as hook:
        endpoint = webhooks.endpoint_create(url=hook.url, by=None)
        _due(endpoint.pk, 40)
        outcomes = run_at_once(lambda _i: webhooks.deliveries_send_due(limit=15), threads=4)
        assert not [o for o in outcomes if isinstance(o, Exception)]
        hook.verified(endpoint.secret)
    assert Counter(Counter(hook.ids()).values()) == {1: 40}
    assert WebhookDelivery.objects.filter(status="delivered", attempts=1).count() == 40


def test_the_after_commit_send_and_a_sweep_at_once_send_each_delivery_once() -> None:
    with receiver() as hook:
        endpoint = webhooks.endpoint_create(url=hook.url, by=None)
        ids = _due(endpoint.pk, 20)
        outcomes = run_each_at_once(
            [
                lambda: webhooks.deliveries_send(delivery_ids=ids),
                webhooks.deliveries_send_due,
                webhooks.deliveries_send_due,
            ]
        )
        assert not [o for o in outcomes if isinstance(o, Exception)]
    assert sorted(hook.ids()) == sorted(f"evt_race_{i}" for i in range(20))
