from __future__ import annotations

from celery import shared_task

from rewards import emails


@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def redemption_notify(redemption_id: int, step: str) -> str:
    """Email the advocate about one step of a redemption. Safe to run twice."""
    return emails.redemption_deliver(redemption_id=redemption_id, step=step)
