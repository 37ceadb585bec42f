from __future__ import annotations

from celery import shared_task

from rewards import emails, services


@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def redemption_notify(redemption_id: int, step: str) -> str:
    """Email the advocate about one step of a redemption. Safe to run twice."""
    return emails.redemption_deliver(redemption_id=redemption_id, step=step)


@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def welcome_points_award(advocate_id: int, invitation_id: int) -> None:
    """The welcome points of a member who just joined. Safe to run twice (keyed)."""
    services.welcome_points_award(advocate_id=advocate_id, invitation_id=invitation_id)
