from __future__ import annotations

from celery import shared_task

from advocates import emails


@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def invitation_send(invitation_id: int, send_number: int) -> str:
    """Email one invitation. Safe to run twice: a send already delivered is skipped."""
    return emails.invitation_deliver(invitation_id=invitation_id, send_number=send_number)
