"""Sending campaigns (owned by the sending work)."""

from celery import shared_task


@shared_task
def campaign_send_batch(campaign_id: int) -> None:
    raise NotImplementedError


@shared_task
def campaigns_dispatch_due() -> None:
    raise NotImplementedError
