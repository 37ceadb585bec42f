"""Celery tasks of the shared infrastructure, and the retry policy every app's tasks use."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from core import outbox, webhooks

# The one retry policy: a task that fails on I/O (SMTP, HTTP, a broker hiccup) is
# retried with exponential backoff, capped at ten minutes between tries.
RETRY = {
    "autoretry_for": (OSError,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 8,
}


# The name predates the core app; outbox rows and the beat schedule store it.
@shared_task(name="advocates.tasks.outbox_drain")
def outbox_drain() -> str:
    """Beat, every 30 s: publish the outbox rows a broker outage left unsent."""
    result = outbox.outbox_drain()
    return f"sent {result.sent}, failed {result.failed}, waiting {result.waiting}"


# Typed loosely for the decorator's overloads, as in the apps' tasks modules.
RETRY_OPTIONS: dict[str, Any] = RETRY


@shared_task(name="core.tasks.webhook_deliveries_send", **RETRY_OPTIONS)
def webhook_deliveries_send(delivery_ids: list[int]) -> str:
    """After an event commits: send its deliveries (failures wait for the retry sweep)."""
    return str(webhooks.deliveries_send(delivery_ids=delivery_ids))


@shared_task(name="core.tasks.webhook_retries_send", **RETRY_OPTIONS)
def webhook_retries_send() -> str:
    """Beat, every minute: send the webhook deliveries whose next attempt has come due."""
    return str(webhooks.deliveries_send_due())


@shared_task(name="core.tasks.webhook_log_purge", **RETRY_OPTIONS)
def webhook_log_purge() -> str:
    """Beat, hourly: the webhook delivery log keeps WEBHOOK_LOG_DAYS days."""
    return f"removed {webhooks.deliveries_purge()}"
