"""Trigger campaigns (owned by the kinds/triggers work)."""

from celery import shared_task


@shared_task
def triggers_evaluate() -> None:
    raise NotImplementedError
