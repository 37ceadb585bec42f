"""The fulfilment queue's partial index must cover exactly the open statuses, or
PostgreSQL stops using it for the default view of the queue."""

from __future__ import annotations

from rewards.models import Redemption


def test_the_open_queue_index_covers_the_open_statuses() -> None:
    index = next(i for i in Redemption._meta.indexes if i.name == "redemption_open_queue")
    assert index.fields == ["created_at", "id"]
    (lookup, statuses), *_ = index.condition.children
    assert lookup == "status__in"
    assert set(statuses) == set(Redemption.OPEN_STATUSES)
