"""Celery tasks of the advocates app: thin, each takes ids and calls one function."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from advocates import emails
from core.tasks import RETRY

# celery's stubs refuse a dict[str, object] as keyword arguments.
RETRY_OPTIONS: dict[str, Any] = RETRY


@shared_task(**RETRY_OPTIONS)
def invitation_send(invitation_id: int, send_number: int) -> str:
    """Email one invitation. Safe to run twice: a send already delivered is skipped."""
    return emails.invitation_deliver(invitation_id=invitation_id, send_number=send_number)
