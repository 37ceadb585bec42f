"""Thin Celery tasks for reference calls: each takes ids and calls one function."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from core.tasks import RETRY
from references import emails, services

# celery's stubs refuse a dict[str, object] as keyword arguments.
RETRY_OPTIONS: dict[str, Any] = RETRY


@shared_task(**RETRY_OPTIONS)
def prospect_link_send(request_id: int, send_number: int) -> str:
    return emails.prospect_link_deliver(request_id=request_id, send_number=send_number)


@shared_task(**RETRY_OPTIONS)
def ask_send(ask_id: int) -> str:
    return emails.ask_deliver(ask_id=ask_id)


@shared_task(**RETRY_OPTIONS)
def intro_send(ask_id: int) -> str:
    return emails.intro_deliver(ask_id=ask_id)


@shared_task(**RETRY_OPTIONS)
def feedback_request_send(ask_id: int) -> str:
    return emails.feedback_request_deliver(ask_id=ask_id)


@shared_task(**RETRY_OPTIONS)
def rep_notice_send(request_id: int, why: str, number: int) -> str:
    return emails.rep_notice_deliver(request_id=request_id, why=why, number=number)


@shared_task
def asks_expire_overdue() -> int:
    """Beat, every 15 minutes: time out unanswered asks and move their requests on."""
    return services.asks_expire()
