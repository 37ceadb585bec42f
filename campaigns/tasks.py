"""Every Celery task of the campaigns app. Each keeps the name it was registered under
when it lived beside the code it drives (beat schedules and queued messages use it)."""

from __future__ import annotations

import smtplib
from typing import Any

from celery import shared_task

from campaigns.sending.batch import campaign_send_batches
from campaigns.services.campaigns import campaign_dispatch
from campaigns.services.triggers import triggers_evaluate_all
from core.queues import BulkTask
from core.tasks import RETRY


# Its own backoff: a refused or cut SMTP connection is worth a first retry after 5 s.
@shared_task(
    bind=True,
    name="campaigns.sending.campaign_send_batch",
    base=BulkTask,  # the bulk queue (core.queues): never ahead of an invitation
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=5,
    retry_backoff_max=600,
    max_retries=8,
)
def campaign_send_batch(self: Any, campaign_id: int) -> int:
    """Send batches of one campaign for a while, then hand over to a fresh copy of itself.

    Safe to run twice, or alongside other copies: each copy only sends rows it claimed.
    """
    run = campaign_send_batches(
        campaign_id=campaign_id, eager=bool(self.app.conf.task_always_eager)
    )
    if run.again_in:
        campaign_send_batch.apply_async((campaign_id,), countdown=run.again_in)
    elif run.again:
        campaign_send_batch.apply_async((campaign_id,))
    return run.sent


@shared_task(name="campaigns.sending.campaigns_dispatch_due", base=BulkTask, **RETRY)  # type: ignore[call-overload]  # RETRY is a plain dict in core.tasks
def campaigns_dispatch_due() -> dict[str, int]:
    """Beat, every minute. Idempotent: a campaign starts once (conditional update)."""
    return campaign_dispatch()


@shared_task(name="campaigns.triggers.triggers_evaluate", base=BulkTask, **RETRY)  # type: ignore[call-overload]  # RETRY is a plain dict in core.tasks
def triggers_evaluate() -> int:
    """Beat, every 5 minutes: evaluate every active trigger campaign. Safe to run twice."""
    return triggers_evaluate_all()
