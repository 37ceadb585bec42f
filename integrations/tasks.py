"""Thin Celery tasks of the integrations (Slack, CRM sync): ids and JSON in, one function,
retries declared.

Slack's rate limit (429) is retried after the ``Retry-After`` Slack gave, a 5xx or an
unreachable Slack after a backoff; a refused token is not retried (the installation is
marked broken instead, integrations.slack.notify).
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.contrib.auth import get_user_model

from core.queues import BulkTask
from integrations.crm import base as crm
from integrations.crm.models import CrmConnection, SyncRun
from integrations.crm.sync import SyncBusy, sync_run
from integrations.slack import api, commands, notify

MAX_RETRIES = 8


def _retry(task: Task, error: api.RetryLater) -> Exception:
    # Slack's own wait when it gave one (429), else exponential from 30 s, at most 10 min.
    if error.seconds is not None:
        countdown = error.seconds
    else:
        countdown = min(600, api.DEFAULT_RETRY_SECONDS * 2**task.request.retries)
    return task.retry(exc=error, countdown=countdown, max_retries=MAX_RETRIES)


@shared_task(name="integrations.tasks.slack_event_notify", bind=True)
def slack_event_notify(self: Task, event_type: str, items: list[dict[str, Any]]) -> int:
    """After an event commits: post it to each connected workspace (core.events.listen)."""
    try:
        return notify.event_notify(event_type=event_type, items=items)
    except api.RetryLater as error:
        raise _retry(self, error) from error


@shared_task(name="integrations.tasks.slack_digest_send", bind=True)
def slack_digest_send(self: Task) -> int:
    """Beat, daily: the pending-reviews digest, once per workspace and day."""
    try:
        return notify.digest_send()
    except api.RetryLater as error:
        raise _retry(self, error) from error


@shared_task(name="integrations.tasks.slack_request_confirm", bind=True)
def slack_request_confirm(
    self: Task, installation_id: int, slack_user_id: str, request_id: int
) -> bool:
    """A reference request made in Slack: the DM that confirms it, with its link."""
    try:
        return commands.request_confirm(
            installation_id=installation_id, slack_user_id=slack_user_id, request_id=request_id
        )
    except api.RetryLater as error:
        raise _retry(self, error) from error


# --- CRM connectors ----------------------------------------------------------------------

CRM_MAX_RETRIES = 6


@shared_task(name="integrations.tasks.crm_sync_all", base=BulkTask)
def crm_sync_all() -> int:
    """Beat, every CRM_SYNC_MINUTES: an incremental sync of each connected CRM."""
    ids = list(
        CrmConnection.objects.filter(status=CrmConnection.Status.ACTIVE).values_list(
            "pk", flat=True
        )
    )
    for connection_id in ids:
        crm_sync.delay(connection_id, SyncRun.Trigger.SCHEDULE)
    return len(ids)


@shared_task(name="integrations.tasks.crm_sync", base=BulkTask, bind=True)
def crm_sync(
    self: Task, connection_id: int, trigger: str, requested_by_id: int | None = None
) -> int | None:
    """One sync run; a 429 or 5xx retries it (the CRM's Retry-After, else backoff)."""
    requested_by = (
        get_user_model().objects.filter(pk=requested_by_id).first() if requested_by_id else None
    )
    try:
        return sync_run(connection_id=connection_id, trigger=trigger, requested_by=requested_by).pk
    except SyncBusy:
        return None
    except crm.RetryLater as error:
        countdown = error.seconds or min(1800, 60 * 2**self.request.retries)
        raise self.retry(exc=error, countdown=countdown, max_retries=CRM_MAX_RETRIES) from error
