"""Thin Celery tasks of the integrations: ids and JSON in, one function, retries declared.

Slack's rate limit (429) is retried after the ``Retry-After`` Slack gave, a 5xx or an
unreachable Slack after a backoff; a refused token is not retried (the installation is
marked broken instead, integrations.slack.notify).
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

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
