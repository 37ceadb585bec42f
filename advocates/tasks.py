"""Celery tasks of the advocates app: thin, each takes ids and calls one function."""

from __future__ import annotations

from celery import shared_task

from advocates import emails
from core.tasks import RETRY


@shared_task(**RETRY)
def invitation_send(invitation_id: int, send_number: int) -> str:
    """Email one invitation. Safe to run twice: a send already delivered is skipped."""
    return emails.invitation_deliver(invitation_id=invitation_id, send_number=send_number)
