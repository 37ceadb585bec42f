"""Celery tasks for challenges: thin, taking ids, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from challenges import progress


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=300, max_retries=5)
def progress_refresh(advocate_id: int) -> None:
    """Let levels and badges catch up after an activity (awarded once: safe to repeat)."""
    progress.on_activity(advocate_id=advocate_id)
    # The same activity moves the Advocate Mobilization Score and last_active_at.
    from campaigns.ams import ams_refresh

    ams_refresh(advocate_id=advocate_id)
