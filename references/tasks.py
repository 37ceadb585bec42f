"""Thin Celery tasks for reference calls: each takes ids and calls one function."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from core.tasks import RETRY
from references import emails, services
from references.zoom import ZoomError

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


@shared_task(**RETRY_OPTIONS)
def meeting_offer_send(meeting_id: int) -> str:
    return emails.meeting_offer_deliver(meeting_id=meeting_id)


@shared_task(**RETRY_OPTIONS)
def meeting_invite_send(meeting_id: int, sequence: int) -> str:
    return emails.meeting_invite_deliver(meeting_id=meeting_id, sequence=sequence)


@shared_task(**RETRY_OPTIONS)
def meeting_reminder_send(meeting_id: int, which: str, sequence: int) -> str:
    return emails.meeting_reminder_deliver(meeting_id=meeting_id, which=which, sequence=sequence)


@shared_task(**RETRY_OPTIONS)
def meeting_attendance_ask_send(meeting_id: int) -> str:
    return emails.meeting_attendance_ask_deliver(meeting_id=meeting_id)


@shared_task(bind=True, **RETRY_OPTIONS)
def meeting_zoom_sync(self: Task, meeting_id: int, sequence: int) -> str:
    try:
        return services.meeting_zoom_sync(meeting_id=meeting_id, sequence=sequence)
    except ZoomError as error:  # only those Zoom may get over come out
        # Capped well below the broker's visibility timeout (references.zoom says why).
        raise self.retry(countdown=min(error.retry_after or 60, 1800)) from error


@shared_task
def meetings_due() -> dict[str, int]:
    """Beat, every 2 minutes: reminders 24 h and 1 h before each call; after it, ask
    both sides whether it happened and count the calls nobody disputed in time."""
    reminders = services.reminders_due()
    return {"reminders": reminders, **services.attendance_sweep()}
