"""Celery tasks of the shared infrastructure, and the retry policy every app's tasks use."""

from __future__ import annotations

from celery import shared_task

from core import outbox

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
