"""Celery tasks of the console: thin, taking ids, safe to run twice.

Their names predate the console app (outbox rows, queued messages and the beat schedule
store them), so each is given explicitly.
"""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

from challenges.services import progress
from console import ams, job_changes, prospect_events
from console.selectors import home
from core.outbox import ACTIVITY_MANY_TASK, ACTIVITY_TASK
from core.queues import BulkTask
from core.tasks import RETRY


@shared_task(name=ACTIVITY_TASK, **RETRY)  # type: ignore[call-overload]  # RETRY is a plain dict in core.tasks
def activity_refresh(advocate_id: int) -> None:
    """After an activity: levels and badges catch up (awarded once: safe to repeat), and
    the Advocate Mobilization Score and last_active_at move with it."""
    progress.on_activity(advocate_id=advocate_id)
    ams.ams_refresh(advocate_id=advocate_id)


@shared_task(name=ACTIVITY_MANY_TASK, base=BulkTask, **RETRY)  # type: ignore[call-overload]  # RETRY is a plain dict in core.tasks
def activity_refresh_many(advocate_ids: list[int]) -> None:
    """``activity_refresh`` for each advocate of a batch (a bulk import); safe to repeat."""
    for advocate_id in advocate_ids:
        activity_refresh(advocate_id)


@shared_task(name="campaigns.ams.ams_recompute_one", **RETRY)  # type: ignore[call-overload]  # RETRY is a plain dict in core.tasks
def ams_recompute_one(advocate_id: int) -> None:
    """Recompute one advocate's AMS (safe to repeat: it reads the records each time)."""
    ams.ams_refresh(advocate_id=advocate_id)


@shared_task(name=ams.AMS_RECOMPUTE_ALL_TASK, base=BulkTask, **RETRY)  # type: ignore[call-overload]  # RETRY is a plain dict in core.tasks
def ams_recompute_all() -> int:
    """The nightly full recompute (also after the weights change)."""
    return ams.ams_refresh_all()


@shared_task(
    name=home.CHARTS_TASK, base=BulkTask, ignore_result=True, expires=home.CHARTS_LOCK_SECONDS
)
def console_charts_refresh_task() -> None:
    """Beat, every ``CHARTS_REFRESH_SECONDS``; also asked for by a view that found the
    figures missing or stale. Safe to run twice: the later result simply replaces the
    earlier one."""
    try:
        home.console_charts_refresh()
    finally:
        cache.delete(home.CHARTS_LOCK_KEY)


@shared_task(name=prospect_events.SUGGESTION_TASK, **RETRY)  # type: ignore[call-overload]  # RETRY is a plain dict in core.tasks
def prospect_event_suggestion_send(suggestion_id: int) -> str:
    return prospect_events.suggestion_deliver(suggestion_id=suggestion_id)


@shared_task(name=job_changes.NOTIFY_TASK, **RETRY)  # type: ignore[call-overload]  # RETRY is a plain dict in core.tasks
def job_change_notify(job_change_id: int) -> int:
    """A contact changed company: tell the reps of open deals at either company (once)."""
    return job_changes.job_change_notices_create(job_change_id=job_change_id)


@shared_task(name=job_changes.NOTICE_TASK, **RETRY)  # type: ignore[call-overload]  # RETRY is a plain dict in core.tasks
def job_change_notice_send(notice_id: int) -> str:
    return job_changes.notice_deliver(notice_id=notice_id)
