"""Celery work that survives a broker outage: a transactional outbox.

``enqueue_after_commit(task, *args, **kwargs)`` replaces
``transaction.on_commit(lambda: task.delay(*args, **kwargs))``. Inside the caller's
transaction it writes an ``OutboxTask`` row, so the intent commits (or rolls back) with
the action itself; right after commit it publishes the task and marks the row sent.
When Redis is unreachable the publish fails fast (one quick reconnect, no long retry
loop holding the request), the row stays unsent, and the ``outbox_drain`` beat task
publishes it once the broker is back.

Delivery is at least once: a process dying between the publish and the mark, or a
worker killed mid-task (acks late), can run a task twice. Every task enqueued here is
safe to repeat (docs/reliability.md lists each one's send-once key).

In eager mode (no Redis: the embedded mode and the test suite) no row is written and
the task simply runs after commit, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import Task, current_app
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.models import OutboxTask
from core.queues import task_named

logger = logging.getLogger(__name__)

# The drain leaves younger rows to their own after-commit publish, so the two paths
# almost never send the same row (only if a web process stalls or dies in between).
DRAIN_AFTER_SECONDS = 10
DRAIN_BATCH = 500
KEEP_SENT_DAYS = 7
# One immediate reconnect (a stale pooled connection after a Redis restart), then give
# up: the request must not wait on a broker that is down; the drain sends it later.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}


# The task every activity (an approval, a call, a won referral, a redemption) asks for:
# levels, badges and the AMS catch up. It lives on the top floor (console.tasks), so the
# apps below name it rather than import it. The name predates that move.
ACTIVITY_TASK = "challenges.tasks.progress_refresh"
# The same for many advocates at once (a bulk import), ACTIVITY_BATCH ids per task: a
# few messages instead of one per advocate, still spread over the workers.
ACTIVITY_MANY_TASK = "console.tasks.activity_refresh_many"
ACTIVITY_BATCH = 200


def enqueue_after_commit(task: Task | str, *args: Any, **kwargs: Any) -> None:
    """Run ``task(*args, **kwargs)`` in a worker once the current transaction commits.

    ``task`` is a task or a task's registered name: an app names the tasks of the floors
    above it instead of importing them. Arguments must be JSON values (ids, short
    strings): they are stored in the row.
    """
    name = task if isinstance(task, str) else task.name
    if current_app.conf.task_always_eager:
        transaction.on_commit(lambda: task_named(name).delay(*args, **kwargs))
        return
    row = OutboxTask.objects.create(task=name, args=list(args), kwargs=kwargs)
    row_id = row.pk
    transaction.on_commit(lambda: _publish_committed(row_id, name, list(args), kwargs), robust=True)


def activity_after_commit(*, advocate_id: int) -> None:
    """Once the caller's transaction commits, let levels, badges and the AMS catch up.

    Every app calls this after an activity, so a badge problem can never roll back the
    activity itself, and the work runs in a worker.
    """
    enqueue_after_commit(ACTIVITY_TASK, advocate_id)


def activities_after_commit(*, advocate_ids: Iterable[int]) -> None:
    """``activity_after_commit`` for each of ``advocate_ids`` (once each), in batches."""
    ids = sorted(set(advocate_ids))
    for start in range(0, len(ids), ACTIVITY_BATCH):
        enqueue_after_commit(ACTIVITY_MANY_TASK, ids[start : start + ACTIVITY_BATCH])


def _publish(name: str, args: list, kwargs: dict) -> None:
    app = current_app
    task = app.tasks.get(name)
    if task is not None:
        task.apply_async(
            args=tuple(args), kwargs=kwargs, retry=True, retry_policy=PUBLISH_RETRY_POLICY
        )
    else:  # not imported in this process: the worker knows it by name
        app.send_task(name, args=args, kwargs=kwargs, retry=True, retry_policy=PUBLISH_RETRY_POLICY)


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def _publish_committed(row_id: int, name: str, args: list, kwargs: dict) -> None:
    """After commit: publish now, or leave the row to the drain (never raise)."""
    try:
        _publish(name, args, kwargs)
    except Exception as error:  # the action committed: its work waits in the outbox
        logger.warning("Outbox: %s not published, left for the drain (%s)", name, error)
        OutboxTask.objects.filter(pk=row_id).update(
            attempts=F("attempts") + 1, last_error=_error_text(error)
        )
        return
    OutboxTask.objects.filter(pk=row_id, sent_at__isnull=True).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1
    )


@dataclass(frozen=True)
class DrainResult:
    sent: int
    failed: int
    waiting: int


def outbox_drain(
    *, older_than: float = DRAIN_AFTER_SECONDS, limit: int = DRAIN_BATCH
) -> DrainResult:
    """Publish unsent rows older than ``older_than`` seconds, oldest first.

    Rows are locked with SKIP LOCKED, so drains running at once share the work instead
    of sending the same row twice. The first failed publish stops the batch: the broker
    is down and the rest would fail the same way.
    """
    now = timezone.now()
    sent: list[int] = []
    failed = 0
    with transaction.atomic():
        rows = list(
            OutboxTask.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True, created_at__lte=now - timedelta(seconds=older_than))
            .order_by("created_at", "pk")[:limit]
        )
        for row in rows:
            try:
                _publish(row.task, row.args, row.kwargs)
            except Exception as error:
                failed = 1
                logger.warning("Outbox drain: %s not published (%s)", row.task, error)
                OutboxTask.objects.filter(pk=row.pk).update(
                    attempts=F("attempts") + 1, last_error=_error_text(error)
                )
                break
            sent.append(row.pk)
        OutboxTask.objects.filter(pk__in=sent).update(
            sent_at=timezone.now(), attempts=F("attempts") + 1
        )
    OutboxTask.objects.filter(
        created_at__lt=now - timedelta(days=KEEP_SENT_DAYS), sent_at__isnull=False
    ).delete()
    waiting = OutboxTask.objects.filter(sent_at__isnull=True).count()
    if sent or failed:
        logger.info("Outbox drain: %s sent, %s failed, %s waiting", len(sent), failed, waiting)
    return DrainResult(sent=len(sent), failed=failed, waiting=waiting)
