"""Domain events for outbound webhooks and in-process listeners: ``emit`` inside the
service's transaction.

``emit("referral.created", {...})`` writes one ``WebhookDelivery`` row per active
endpoint subscribed to the type, in the caller's transaction, and names the send task
through the outbox: a write that rolls back sends nothing, one that commits is sent
(and retried with backoff, core.webhooks) until the receiver answers 2xx.

A higher floor (an integration such as Slack) hears the same events without this app
importing it: at start-up it calls ``listen(event_type, task=..., active=...)`` with the
*name* of a task, and every emit of that type, while ``active()`` says so, enqueues the
task through the outbox with ``(event_type, [data, ...])`` after the caller commits. So
every path that emits (a form, the CRM API, a CSV import) notifies, and a rolled-back
write notifies no one.

Payloads are small: ids and the facts a receiver acts on, the advocate's email at most;
never a secret or a token.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core.models import WebhookDelivery, WebhookEndpoint
from core.outbox import enqueue_after_commit

SEND_TASK = "core.tasks.webhook_deliveries_send"
SEND_BATCH = 100
ENDPOINTS_CACHE_KEY = "core:webhook-endpoints:v1"

# Every event a service emits, with what it means (shown in the console).
# The meanings are shown to managers choosing an endpoint's events (translated).
EVENT_TYPES: dict[str, Any] = {
    "advocate.joined": gettext_lazy("An invited contact accepted and joined the program"),
    "submission.approved": gettext_lazy("A challenge submission was approved"),
    "points.changed": gettext_lazy("An advocate's points changed (award, spend or reversal)"),
    "reward.redeemed": gettext_lazy("An advocate redeemed a reward"),
    "reward.fulfilled": gettext_lazy("A redemption was fulfilled"),
    "referral.created": gettext_lazy("A referral was recorded"),
    "referral.stage_changed": gettext_lazy("A referral moved to another pipeline stage"),
    "reference.ask_accepted": gettext_lazy("An advocate accepted a reference ask"),
    "reference.call_scheduled": gettext_lazy(
        "A reference call was booked (the prospect picked a time)"
    ),
    "reference.call_rescheduled": gettext_lazy("A booked reference call moved to another time"),
    "reference.call_cancelled": gettext_lazy("A booked reference call was cancelled"),
    "reference.call_completed": gettext_lazy("A reference call took place"),
    "campaign.sent": gettext_lazy("A campaign finished sending"),
}
TEST_EVENT = "webhook.test"


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Listener:
    task: str  # the registered name of a task taking (event_type, items)
    active: Callable[[], bool]  # cheap (cached): whether to enqueue at all


_LISTENERS: dict[str, list[Listener]] = {}


def listen(event_type: str, *, task: str, active: Callable[[], bool]) -> None:
    """Enqueue ``task`` after each commit that emitted ``event_type`` (once per task)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type: {event_type}")
    listeners = _LISTENERS.setdefault(event_type, [])
    if all(listener.task != task for listener in listeners):
        listeners.append(Listener(task=task, active=active))


def _listening(event_type: str) -> list[str]:
    return [listener.task for listener in _LISTENERS.get(event_type, ()) if listener.active()]


def _subscribers() -> list[tuple[int, list[str]]]:
    """(id, event types) of the active endpoints, cached: most programs have none, and
    every ledger change asks."""
    rows = cache.get(ENDPOINTS_CACHE_KEY)
    if rows is None:
        rows = list(WebhookEndpoint.objects.filter(active=True).values_list("id", "event_types"))
        cache.set(ENDPOINTS_CACHE_KEY, rows, 300)
    return rows


def _subscribed(event_type: str) -> list[int]:
    """The active endpoints that receive ``event_type``: those that chose it, and those
    that chose nothing (every type)."""
    return [pk for pk, types in _subscribers() if not types or event_type in types]


def wanted(event_type: str) -> bool:
    """Whether an active endpoint or listener receives ``event_type`` (skip building a
    costly payload)."""
    return bool(_subscribed(event_type)) or bool(_listening(event_type))


def endpoints_changed() -> None:
    """Call when an endpoint is created, enabled, disabled or deleted."""
    cache.delete(ENDPOINTS_CACHE_KEY)
    # Again after commit: a reader between the write and the commit would cache the old rows.
    transaction.on_commit(lambda: cache.delete(ENDPOINTS_CACHE_KEY))


def envelope(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """The body every receiver gets (Standard Webhooks' recommended shape)."""
    return {"type": event_type, "timestamp": timezone.now().isoformat(), "data": data}


def emit(event_type: str, data: dict[str, Any]) -> int:
    """One event; returns how many deliveries it made."""
    return emit_many(event_type, [data])


def emit_many(event_type: str, items: Iterable[dict[str, Any]]) -> int:
    """One event of ``event_type`` per item in ``items``, written set-wise; returns how
    many webhook deliveries it made."""
    endpoint_ids = _subscribed(event_type)
    tasks = _listening(event_type)
    if not endpoint_ids and not tasks:
        return 0
    items = list(items)
    for task in tasks:
        for start in range(0, len(items), SEND_BATCH):
            enqueue_after_commit(task, event_type, items[start : start + SEND_BATCH])
    if not endpoint_ids:
        return 0
    events = [(new_event_id(), envelope(event_type, data)) for data in items]
    return deliveries_create(
        [
            WebhookDelivery(
                endpoint_id=endpoint_id,
                event_id=event_id,
                event_type=event_type,
                payload=payload,
            )
            for event_id, payload in events
            for endpoint_id in endpoint_ids
        ]
    )


def deliveries_create(rows: Sequence[WebhookDelivery]) -> int:
    """Write the rows and send them once the caller's transaction commits."""
    if not rows:
        return 0
    now = timezone.now()
    for row in rows:
        row.created_at = row.next_attempt_at = now
    created = WebhookDelivery.objects.bulk_create(rows)
    # PostgreSQL and SQLite both return the new ids from a bulk insert.
    ids = [row.pk for row in created]
    for start in range(0, len(ids), SEND_BATCH):
        enqueue_after_commit(SEND_TASK, ids[start : start + SEND_BATCH])
    return len(ids)
