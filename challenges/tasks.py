"""Celery tasks for challenges: thin, taking ids, safe to run twice."""

from __future__ import annotations

import importlib

from celery import shared_task


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=300, max_retries=5)
def progress_refresh(advocate_id: int) -> None:
    """Let levels and badges catch up after an approval or a reversal.

    The hook lives in ``challenges.progress`` (levels and badges); it awards each badge
    and level once, so running this twice changes nothing. Until that module exists
    there is nothing to update.
    """
    try:
        progress = importlib.import_module("challenges.progress")
    except ModuleNotFoundError as error:
        if error.name != "challenges.progress":
            raise  # a broken import inside the module is a bug, not "no hook yet"
        return
    on_activity = getattr(progress, "on_activity", None)
    if on_activity is not None:
        on_activity(advocate_id=advocate_id)
