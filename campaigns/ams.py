"""The Advocate Mobilization Score (owned by the segments/AMS work)."""

from celery import shared_task


@shared_task
def ams_recompute_one(advocate_id: int) -> None:
    raise NotImplementedError


@shared_task
def ams_recompute_all() -> None:
    raise NotImplementedError
