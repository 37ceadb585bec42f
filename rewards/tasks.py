"""Celery tasks of the rewards app: thin, each takes ids and calls one function."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from core.tasks import RETRY
from rewards import emails
from rewards.services import ledger

# celery's stubs refuse a dict[str, object] as keyword arguments.
RETRY_OPTIONS: dict[str, Any] = RETRY


@shared_task(**RETRY_OPTIONS)
def redemption_notify(redemption_id: int, step: str) -> str:
    """Email the advocate about one step of a redemption. Safe to run twice."""
    return emails.redemption_deliver(redemption_id=redemption_id, step=step)


@shared_task(**RETRY_OPTIONS)
def welcome_points_award(advocate_id: int, invitation_id: int) -> None:
    """The welcome points of a member who just joined. Safe to run twice (keyed)."""
    ledger.welcome_points_award(advocate_id=advocate_id, invitation_id=invitation_id)
